/* A vCPU's architectural state as the operator's "info" shows it, read
 * from its VMCS (and the registers VMX leaves to pgvisor). */
#ifndef PGVISOR_VCPU_STATE_H
#define PGVISOR_VCPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vm/vcpu.h"

enum vcpu_state_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_TR, SEG_COUNT };

struct vcpu_state {
	uint64_t gpr[GPR_COUNT]; /* RSP from the VMCS */
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint16_t sel[SEG_COUNT];
	uint64_t base[SEG_COUNT];
	uint64_t gdtr_base, idtr_base;
	uint32_t activity;	   /* VMCS activity state (SDM 25.4.2) */
	uint32_t interruptibility; /* STI/MOV SS/SMI/NMI blocking */
	uint32_t entry_intr_info;  /* an event waiting to be injected */
	uint64_t pending_dbg;	   /* pending debug exceptions */
};

/* Whether this CPU may read v's VMCS: v is on this CPU's run queue, or
 * its CPU let go of it (its VM stopped). Otherwise v's own CPU must. */
bool vcpu_state_readable_here(const struct vcpu *v);
/* Reads v's state (vcpu_state_readable_here must hold). Returns -1 when
 * its VMCS is gone (the VM was destroyed) or cannot be loaded. */
int vcpu_state_read(struct vcpu *v, struct vcpu_state *s);
/* "active", "HLT", "shutdown", "wait-for-SIPI". */
const char *vcpu_activity_name(uint32_t activity);

#endif
