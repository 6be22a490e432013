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

#ifndef MCUNAS_BOARD
#include "stack_use.h"

/* The stack's high-water mark (stack_use.h): the reset handler fills the top MCUNAS_STACK_WATCH_BYTES of RAM below
 * its own frame with a pattern; the deepest word no longer holding it is how far the stack reached. */
enum { MCUNAS_STACK_WATCH_BYTES = 65536 };
static const uint32_t kStackPattern = 0x5AA5C33Cu;

static uint32_t *stack_watch_begin(void) {
  uint32_t *begin = (uint32_t *)((uintptr_t)&_estack - MCUNAS_STACK_WATCH_BYTES);
  return begin < &_ebss ? &_ebss : begin;
}

static void paint_stack(void) {
  uint32_t *sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = stack_watch_begin(); p < sp - 16; ++p) *p = kStackPattern;
}

uint32_t mcunas_stack_used(void) {
  const uint32_t *p = stack_watch_begin();
  while (p < &_estack && *p == kStackPattern) ++p;
  return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}
#endif

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
  paint_stack();
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
