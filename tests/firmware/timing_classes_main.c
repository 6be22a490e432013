/* Known instruction sequences between markers (`mov r11, r11`), for the timing classes our QEMU plugin counts
 * (deploy/firmware/qemu_icount_plugin.c); tests/integration/firmware_qemu_test.sh checks what each segment must
 * give: instructions, loads, loads right after a load, stores, load/store multiple and their registers,
 * multiplies, divides, branches and taken branches. In one assembly function, so no compiler-made instruction falls
 * between the markers. Cortex-M4. */
#include <stdint.h>

static uint32_t words[4] = {7, 5, 3, 2};

/* `w` arrives in r0, where the assembly reads it. */
__attribute__((naked, noinline)) static void sequences(uint32_t *w) {
  (void)w;
  __asm volatile(
      "mov r11, r11\n"
      "ldr r1, [r0]\n ldr r2, [r0, #4]\n ldr r3, [r0, #8]\n ldr r12, [r0, #12]\n"  /* 4 loads, 3 after a load */
      "mov r11, r11\n"
      "str r1, [r0]\n strb r2, [r0, #4]\n"                                        /* 2 stores */
      "mov r11, r11\n"
      "push {r4-r7}\n pop {r4-r7}\n"                                               /* 2 multiple, 8 registers */
      "mov r11, r11\n"
      "movs r1, #10\n"
      "1: subs r1, r1, #1\n bne 1b\n"                                              /* 21: 10 branches, 9 taken */
      "mov r11, r11\n"
      "smlad r2, r2, r3, r12\n mul r2, r2, r3\n sdiv r2, r2, r3\n"                 /* 2 multiplies, 1 divide */
      "mov r11, r11\n"
      "ldrd r2, r3, [r0]\n"                                                        /* 1 multiple, 2 registers */
      "mov r11, r11\n"
      "bx lr\n");
}

int main(void) {
  sequences(words);
  return 0;
}
