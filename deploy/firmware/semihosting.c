#include "semihosting.h"

#include <stdint.h>

enum {
  kSysWrite0 = 0x04,
  kSysExit = 0x18,
  kApplicationExit = 0x20026,     /* ADP_Stopped_ApplicationExit */
  kRunTimeErrorUnknown = 0x20023, /* ADP_Stopped_RunTimeErrorUnknown */
};

static uint32_t semihosting_call(uint32_t operation, const void *argument) {
  register uint32_t r0 __asm("r0") = operation;
  register const void *r1 __asm("r1") = argument;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void mcunas_semihosting_write(const char *text) { semihosting_call(kSysWrite0, text); }

void mcunas_semihosting_exit(int success) {
  /* On AArch32 SYS_EXIT takes the reason itself in r1, not a pointer to it. */
  semihosting_call(kSysExit, (const void *)(uintptr_t)(success ? kApplicationExit : kRunTimeErrorUnknown));
  for (;;) {
  }
}
