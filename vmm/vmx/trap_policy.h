/* Trap policies: which instructions a VM's VMCS makes exit beyond those
 * VMX always intercepts (CPUID, INVD, XSETBV, GETSEC, VMX instructions)
 * and those pgvisor's resource control needs (I/O, MSRs, CR0/CR4 bits it
 * owns, HLT, interrupts). A VM config selects them by name or by preset:
 *
 *   trap = "default"                          # a preset
 *   trap = [ "minimal", "rdtsc", "cr3" ]      # the union of presets and traps
 *
 * Pure computation over names and capability MSRs, unit-tested on the
 * host. The handlers that emulate each trapped instruction live in
 * exit_desc.c and exit_trap.c. */
#ifndef PGVISOR_TRAP_POLICY_H
#define PGVISOR_TRAP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vmx/vmx_caps.h"

enum trap {
	TRAP_DESCRIPTOR_TABLES, /* SGDT SIDT SLDT STR LGDT LIDT LLDT LTR: exits 46, 47 */
	TRAP_RDTSC,		/* RDTSC, RDTSCP: 16, 51 */
	TRAP_CR3,		/* MOV to/from CR3: 28 */
	TRAP_INVLPG,		/* 14 */
	TRAP_DR,		/* MOV to/from DR0-7: 29 */
	TRAP_RDPMC,		/* 15 */
	TRAP_WBINVD,		/* 54 */
	TRAP_PAUSE,		/* 40 */
	TRAP_MWAIT,		/* MONITOR, MWAIT: 39, 36 */
	TRAP_UMIP,		/* CR4.UMIP emulated with descriptor-table exiting */
	TRAP_COUNT,
};

#define TRAP_BIT(t) (1u << (t))
#define TRAP_ALL ((1u << TRAP_COUNT) - 1)
/* minimal: only what VMX and resource control force. */
#define TRAP_PRESET_MINIMAL 0u
/* default: what pgvisor needs: MWAIT could park the physical CPU outside
 * the scheduler's control (CPUID hides it, but nothing stops a guest). */
#define TRAP_PRESET_DEFAULT TRAP_BIT(TRAP_MWAIT)
/* all: everything VMX can intercept. */
#define TRAP_PRESET_ALL TRAP_ALL

/* The VMCS control bits a set of traps adds. */
struct trap_controls {
	uint32_t procbased, procbased2;
};

const char *trap_name(enum trap t);

/* A trap or preset name ("rdtsc", "all") -> its bits. -1 if unknown. */
int trap_lookup(const char *name, uint32_t *bits);

/* Long enough for every message and list below. */
#define TRAP_MSG_MAX 160

/* The controls for traps, checked against the capability MSRs (the
 * allowed-1 halves, TRUE_* when offered). Returns 0, or -1 with one line
 * in err naming the first trap this CPU cannot intercept. */
int trap_compute_controls(uint32_t traps, const struct vmx_caps *caps, struct trap_controls *out,
			  char *err, size_t errlen);

/* "rdtsc cr3" or "none", into buf. */
void trap_format(uint32_t traps, char *buf, size_t len);

#endif
