/* How much stack the firmware has used so far, measured (startup.c paints the top 64 KB of RAM below the reset
 * handler's frame at start-up and this finds the deepest word overwritten since). QEMU builds only: a board image
 * (MCUNAS_BOARD) does not paint. A result of 65536 means at least that much. */
#ifndef MCUNAS_STACK_USE_H
#define MCUNAS_STACK_USE_H

#include <stdint.h>

uint32_t mcunas_stack_used(void);

#endif /* MCUNAS_STACK_USE_H */
