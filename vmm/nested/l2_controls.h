/* The VMCS the CPU runs a nested guest (L2) in: its controls, from the
 * hypervisor's own for the VM (L0's) and the guest hypervisor's (L1's)
 * VMCS, and which L2 exits go to L1. Pure computation, so the host unit
 * tests check it. L2 runs on L1's guest-physical memory under the VM's
 * own EPT, or under shadow tables composing L1's EPT with it
 * (shadow_ept.h): VMCS02 keeps L0's "enable EPT" either way. */
#ifndef PGVISOR_NESTED_L2_CONTROLS_H
#define PGVISOR_NESTED_L2_CONTROLS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/nested/nested_vmcs.h"

/* What L0 runs the VM's own vCPU with (its VMCS, VMCS01). */
struct nested_l0_controls {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t exception_bitmap;
	uint64_t cr0_mask, cr4_mask;
	uint64_t tsc_offset;
};

struct nested_l2_controls {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t exception_bitmap;
	uint64_t cr0_mask, cr4_mask, cr0_shadow, cr4_shadow;
	uint64_t tsc_offset;
};

/* The feature of L1's VMCS that running L2 does not support yet, or NULL. */
const char *nested_l2_unsupported(const struct nested_vmcs *vmcs12);

/* VMCS02's controls: L0's, minus APIC virtualization, VPID, MSR bitmaps
 * (but where both L0 and L1 use them: the caller merges the two) and
 * unrestricted guest (but L1's), plus every exit L1 asks for, CR8 exits
 * (L2's TPR is L1's local APIC's), L1's CR masks over L0's. The caller
 * still adjusts them to the CPU's allowed settings. */
void nested_l2_controls(const struct nested_l0_controls *l0, const struct nested_vmcs *vmcs12,
			struct nested_l2_controls *out);

/* What an L2 exit is, as far as deciding who takes it. */
struct nested_l2_exit {
	uint32_t reason;
	uint64_t qualification;
	uint32_t intr_info;  /* for exceptions and NMIs */
	uint32_t error_code; /* the exception's, for #PF */
	bool bitmap_exit;    /* for I/O and MSR exits: L1's bitmap bit is set */
	uint64_t cr_value;   /* for MOV to CR0/CR4: the value written */
};

/* Whether an exit of this reason goes to L1 whatever its controls (SDM
 * Vol. 3 26.1.2: CPUID, GETSEC, INVD, XSETBV and the VMX instructions
 * but VMREAD and VMWRITE), so that nothing else of the exit is read. */
bool nested_exit_unconditional(uint32_t reason);

/* Whether L1 asked for this exit (SDM Vol. 3 26.1 and 26.2 on the
 * controls that cause each); otherwise L0 handles it on L2's state. */
bool nested_l1_wants_exit(const struct nested_vmcs *vmcs12, const struct nested_l2_exit *e);

/* What becomes of an NMI pending for L1 before an entry to L2, from
 * L1's pin-based controls, VMCS02's guest interruptibility and whether
 * an event is on its way into L2 (l1_nmi_route). */
enum nested_nmi_route {
	NESTED_NMI_EXIT,	     /* exit 0 to L1 now */
	NESTED_NMI_EXIT_AFTER,	     /* exit 0 once the event is delivered */
	NESTED_NMI_HELD,	     /* L1's, held by L2's blocking: at L2's next exit */
	NESTED_NMI_INJECT,	     /* L2's: injected through its IDT now */
	NESTED_NMI_WINDOW,	     /* L2's: after an NMI window */
	NESTED_NMI_INTERRUPT_WINDOW, /* L2's: after an interrupt window (STI) */
};
enum nested_nmi_route nested_l1_nmi_route(uint32_t pin12, uint32_t interruptibility, bool event);

#endif
