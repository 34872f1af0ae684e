/* The debug registers VMX leaves to software: a VM exit and entry switch
 * DR7 and IA32_DEBUGCTL through the VMCS ("save/load debug controls", SDM
 * Vol. 3 27.3.1, 26.3.2.1), never DR0-DR3 or DR6. Whoever runs guests on a
 * CPU keeps these per vCPU (SDM Vol. 3 17.2). */
#ifndef PGVISOR_DEBUG_REGS_H
#define PGVISOR_DEBUG_REGS_H

#include <stdint.h>

/* DR6 after reset: the reserved bits that read as 1 (SDM Vol. 3 17.2.3). */
#define DR6_INIT 0xffff0ff0ull
#define DR6_BREAKPOINTS 0xfull /* B0-B3 */
#define DR6_BS (1ull << 14)    /* single step */
#define DR_ADDRESS_COUNT 4
#define DEBUGCTL_BTF (1ull << 1) /* IA32_DEBUGCTL: single-step on branches */

struct debug_regs {
	uint64_t dr[DR_ADDRESS_COUNT]; /* DR0-DR3: breakpoint addresses */
	uint64_t dr6;
};

static inline uint64_t read_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

/* What a CPU holds after reset. */
static inline void debug_regs_reset(struct debug_regs *d)
{
	*d = (struct debug_regs){ .dr6 = DR6_INIT };
}

static inline void debug_regs_save(struct debug_regs *d)
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(d->dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(d->dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(d->dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(d->dr[3]));
	d->dr6 = read_dr6();
}

static inline void debug_regs_load(const struct debug_regs *d)
{
	__asm__ volatile("mov %0, %%dr0" : : "r"(d->dr[0]));
	__asm__ volatile("mov %0, %%dr1" : : "r"(d->dr[1]));
	__asm__ volatile("mov %0, %%dr2" : : "r"(d->dr[2]));
	__asm__ volatile("mov %0, %%dr3" : : "r"(d->dr[3]));
	write_dr6(d->dr6);
}

#endif
