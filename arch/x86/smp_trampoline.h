/* Shared by boot/ap_trampoline.S and arch/x86/smp.c: where the AP start
 * code runs and the layout of the parameters the boot CPU leaves there. */
#ifndef PGVISOR_SMP_TRAMPOLINE_H
#define PGVISOR_SMP_TRAMPOLINE_H

/* Page aligned and below 1 MiB: the SIPI vector is its page number. */
#define AP_TRAMPOLINE_BASE 0x8000
#define AP_PARAM_CR3 0
#define AP_PARAM_STACK 8
#define AP_PARAM_ENTRY 16
#define AP_PARAM_ARG 24
#define AP_PARAMS_SIZE 32

#ifndef __ASSEMBLER__
#include <stdint.h>

struct ap_params {
	uint64_t cr3;
	uint64_t stack;
	uint64_t entry; /* void entry(struct cpu *) */
	uint64_t arg;
};

_Static_assert(sizeof(struct ap_params) == AP_PARAMS_SIZE, "ap_trampoline.S layout");

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
#endif

#endif
