/* Arm semihosting, the two calls the firmware needs to report to a debugger or to QEMU run with -semihosting:
 * SYS_WRITE0 (a string to the host's console) and SYS_EXIT (end the run, success or failure). Semihosting for
 * Armv6-M / Armv7-M: the operation in r0, its argument in r1, then BKPT 0xAB ("Semihosting for AArch32 and
 * AArch64", Arm, version 3.0). */
#ifndef MCUNAS_SEMIHOSTING_H
#define MCUNAS_SEMIHOSTING_H

void mcunas_semihosting_write(const char *text);
/* Never returns. QEMU exits with status 0 when `success` is non-zero, 1 otherwise. */
void mcunas_semihosting_exit(int success) __attribute__((noreturn));

#endif /* MCUNAS_SEMIHOSTING_H */
