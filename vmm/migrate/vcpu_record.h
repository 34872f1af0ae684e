/* The vCPU record of the state stream (docs/STATE_STREAM.md, type 0x02):
 * everything a vCPU needs to resume where it stopped, as a plain structure
 * and its field-by-field codec. Filling it from a live vCPU and applying
 * it to one (the VMCS, the FPU area, the lazy MSRs) is vcpu_capture.c's;
 * this file needs no VMX, so the codec unit-tests on the host. */
#ifndef PGVISOR_MIGRATE_VCPU_RECORD_H
#define PGVISOR_MIGRATE_VCPU_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/state_io.h"

#define VCPU_RECORD_GPRS 16	  /* RAX..R15 in encoding order, RSP included */
#define VCPU_RECORD_LAZY_MSRS 6	  /* STAR, LSTAR, CSTAR, FMASK, KERNEL_GS_BASE, TSC_AUX */
#define VCPU_RECORD_DR_ADDRS 4	  /* DR0-DR3 */
#define VCPU_RECORD_PDPTES 4	  /* PAE paging under EPT (SDM 25.4.2) */
#define VCPU_RECORD_FPU_SIZE 4096 /* the XSAVE image (FPU_AREA_SIZE) */

/* ES, CS, SS, DS, FS, GS, LDTR, TR: the order of their VMCS fields. */
enum vcpu_record_segment_index {
	VREC_ES,
	VREC_CS,
	VREC_SS,
	VREC_DS,
	VREC_FS,
	VREC_GS,
	VREC_LDTR,
	VREC_TR,
	VREC_SEGMENTS
};

struct vcpu_record_segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t access; /* VMX access-rights format (SDM 25.4.1) */
};

struct vcpu_record {
	uint32_t id; /* the vCPU's number: the record's instance too */
	uint64_t gpr[VCPU_RECORD_GPRS];
	uint64_t rip, rflags;
	/* CR0 and CR4 as the CPU runs the guest and as the guest reads them
	 * (the read shadows of the bits pgvisor owns, SDM 25.6.6). */
	uint64_t cr0, cr0_shadow, cr2, cr3, cr4, cr4_shadow;
	uint64_t dr7, debugctl;
	struct vcpu_record_segment seg[VREC_SEGMENTS];
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint32_t sysenter_cs;
	uint64_t sysenter_esp, sysenter_eip;
	uint64_t efer, pat;
	bool ia32e_mode; /* the VM-entry control "IA-32e mode guest" */
	uint64_t pdpte[VCPU_RECORD_PDPTES];
	/* Activity state, interruptibility, pending debug exceptions
	 * (SDM 25.4.2) and the event queued for the next entry (SDM 24.8.3). */
	uint32_t activity, interruptibility;
	uint64_t pending_dbg;
	uint32_t entry_intr_info, entry_error_code, entry_insn_len;
	uint16_t intr_status; /* RVI and SVI, with virtual-interrupt delivery */
	uint64_t dr[VCPU_RECORD_DR_ADDRS], dr6;
	uint64_t xcr0, misc_enable;
	uint64_t tsc_adjust; /* IA32_TSC_ADJUST (SDM 18.17.3) */
	uint64_t lazy_msrs[VCPU_RECORD_LAZY_MSRS];
	/* kvm-clock, steal time and PV EOI as the guest set them up. */
	uint64_t kvmclock_msr, steal_msr, pv_eoi_msr, steal_ns;
	uint32_t kvmclock_version, steal_version;
	/* The guest's TSC when its VM clock read 0: the TSC offset minus the
	 * host TSC at that moment, so a restored guest's TSC resumes where it
	 * stopped, on a machine whose TSC reads anything (vcpu_capture.c). */
	uint64_t tsc_at_clock_zero;
	bool halted, halted_until_kick, pv_unhalted;
	/* INIT/SIPI progress (vcpu_start.h). */
	bool wait_sipi, parked, init_pending, sipi_pending;
	uint8_t sipi_vector;
	uint8_t fpu[VCPU_RECORD_FPU_SIZE];
};

void vcpu_record_save(const struct vcpu_record *rec, struct state_writer *w);
/* Reads a record into rec; -1 with r->refused set when the body is short,
 * long, or holds a state no vCPU can be in (see vcpu_record.c). */
int vcpu_record_load(struct vcpu_record *rec, struct state_reader *r);

#endif
