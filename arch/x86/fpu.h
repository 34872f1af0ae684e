/* Saving and restoring a guest's x87/SSE/AVX state when its CPU is given
 * to another guest. The hypervisor itself is built without FPU or SIMD
 * code, so guest state stays in the registers across VM exits and only a
 * switch between vCPUs has to move it. */
#ifndef PGVISOR_FPU_H
#define PGVISOR_FPU_H

#include <stdbool.h>
#include <stdint.h>

#define FPU_AREA_SIZE 4096 /* one page: x87+SSE+AVX(+AVX-512) XSAVE layout */
#define XCR0_X87 (1ull << 0)

/* Enables FXSR and, when present, XSAVE on this CPU (CR4.OSFXSR, OSXSAVE). */
void fpu_init_cpu(void);
/* Prepares a zeroed area to hold the power-on state. */
void fpu_area_init(void *area);
/* xcr0: the guest's XCR0, current in the CPU while the guest state is. */
void fpu_save(void *area, uint64_t xcr0);
void fpu_restore(void *area, uint64_t xcr0);
/* The XCR0 bits this CPU supports (CPUID.(EAX=0DH,ECX=0)), 0 without XSAVE. */
uint64_t fpu_xcr0_supported(void);
void fpu_set_xcr0(uint64_t xcr0);

#endif
