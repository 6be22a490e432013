/* Start-up for the Cortex-M firmware, written for mcunas: the vector table, and a reset handler that copies .data
 * from flash, clears .bss, turns the FPU on where the core has one, runs main and reports its result to the host
 * through semihosting (exit status 0 when main returns 0). Faults end the run with a failure status, so a test in
 * QEMU can never pass by hanging or crashing. Symbols come from the linker script (mps2.ld). */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void mcunas_reset_handler(void);
void mcunas_fault_handler(void);

void mcunas_reset_handler(void) {
  const uint32_t *from = &_sidata;
  for (uint32_t *to = &_sdata; to < &_edata;) *to++ = *from++;
  for (uint32_t *to = &_sbss; to < &_ebss;) *to++ = 0;
#if defined(__ARM_FP)
  /* CPACR: full access to coprocessors 10 and 11 (the FPU), before any floating-point instruction runs. */
  *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
  __asm volatile("dsb\n isb");
#endif
  mcunas_semihosting_exit(main() == 0);
}

void mcunas_fault_handler(void) {
  mcunas_semihosting_write("mcunas firmware: fault\n");
  mcunas_semihosting_exit(0);
}

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault and UsageFault: every fault stops the run.
 * Addresses as words: the table mixes a data address with handlers. */
__attribute__((section(".isr_vector"), used)) static const uintptr_t vector_table[] = {
    (uintptr_t)&_estack,          (uintptr_t)mcunas_reset_handler, (uintptr_t)mcunas_fault_handler,
    (uintptr_t)mcunas_fault_handler, (uintptr_t)mcunas_fault_handler, (uintptr_t)mcunas_fault_handler,
    (uintptr_t)mcunas_fault_handler,
};
