/* Start-up for the Cortex-M firmware, written for mcunas: the vector table, and a reset handler that points VTOR at
 * the table (a bootloader may have left it at its own), copies .data from flash, clears .bss, turns the FPU on where
 * the core has one and runs main. Symbols come from the linker script (sections.ld).
 *
 * Under QEMU (the default) main's result goes to the host through semihosting (exit status 0 when main returns 0),
 * and faults end the run with a failure status, so a test can never pass by hanging or crashing. A board image
 * (MCUNAS_BOARD) has no debugger to answer semihosting calls: it sleeps after main, and stops on a fault. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void mcunas_reset_handler(void);
void mcunas_fault_handler(void);

extern const uintptr_t mcunas_vector_table[];

void mcunas_reset_handler(void) {
  *(volatile uint32_t *)0xE000ED08u = (uint32_t)(uintptr_t)mcunas_vector_table; /* SCB->VTOR */
  const uint32_t *from = &_sidata;
  for (uint32_t *to = &_sdata; to < &_edata;) *to++ = *from++;
  for (uint32_t *to = &_sbss; to < &_ebss;) *to++ = 0;
#if defined(__ARM_FP)
  /* CPACR: full access to coprocessors 10 and 11 (the FPU), before any floating-point instruction runs. */
  *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
  __asm volatile("dsb\n isb");
#endif
#ifdef MCUNAS_BOARD
  (void)main();
  for (;;) __asm volatile("wfi");
#else
  mcunas_semihosting_exit(main() == 0);
#endif
}

void mcunas_fault_handler(void) {
#ifdef MCUNAS_BOARD
  for (;;) {
  }
#else
  mcunas_semihosting_write("mcunas firmware: fault\n");
  mcunas_semihosting_exit(0);
#endif
}

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault and UsageFault: every fault stops the run.
 * Addresses as words: the table mixes a data address with handlers. */
__attribute__((section(".isr_vector"), used)) const uintptr_t mcunas_vector_table[] = {
    (uintptr_t)&_estack,          (uintptr_t)mcunas_reset_handler, (uintptr_t)mcunas_fault_handler,
    (uintptr_t)mcunas_fault_handler, (uintptr_t)mcunas_fault_handler, (uintptr_t)mcunas_fault_handler,
    (uintptr_t)mcunas_fault_handler,
};
