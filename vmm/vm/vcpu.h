/* A virtual CPU: the guest registers VMX does not keep in the VMCS, the
 * VMCS itself, and the state the exit handlers share. */
#ifndef PGVISOR_VCPU_H
#define PGVISOR_VCPU_H

/* Offsets used by vmx_entry.S. */
#define GUEST_REGS_ENTRY_TSC_OFFSET (8 * 17)
#define GUEST_REGS_EXIT_TSC_OFFSET (8 * 18)

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/debug_regs.h"
#include "vmm/dev/vlapic.h"
#include "vmm/nested/nested_vcpu.h"
#include "vmm/vm/exit_profile.h"
#include "vmm/vm/exit_trace.h"
#include "vmm/vm/vcpu_start.h"

/* General-purpose registers in the order of their x86 encoding, so the
 * register numbers in exit qualifications index this array directly.
 * gpr[REG_RSP] is unused: the guest RSP lives in the VMCS. */
enum gpr_index {
	REG_RAX,
	REG_RCX,
	REG_RDX,
	REG_RBX,
	REG_RSP,
	REG_RBP,
	REG_RSI,
	REG_RDI,
	REG_R8,
	REG_R9,
	REG_R10,
	REG_R11,
	REG_R12,
	REG_R13,
	REG_R14,
	REG_R15,
	GPR_COUNT
};

struct guest_regs {
	uint64_t gpr[GPR_COUNT];
	/* Not part of the VMCS guest state (SDM 25.4.1): the CPU's CR2 holds it
	 * while the vCPU owns the CPU's lazy state (cpu.fpu_owner); this copy
	 * is current otherwise. Written through vcpu_set_cr2. */
	uint64_t cr2;
	/* Host TSC at the last VM entry and exit, read by vmx_entry.S as
	 * close to VMRESUME and the exit as it can. */
	uint64_t entry_tsc;
	uint64_t exit_tsc;
};

_Static_assert(offsetof(struct guest_regs, entry_tsc) == GUEST_REGS_ENTRY_TSC_OFFSET &&
		       offsetof(struct guest_regs, exit_tsc) == GUEST_REGS_EXIT_TSC_OFFSET,
	       "vmx_entry.S register layout");

struct vm;

#define LAZY_MSR_COUNT 6

struct vcpu {
	struct guest_regs regs; /* first: vmx_entry.S takes its address */
	struct vm *vm;
	unsigned id;
	unsigned cpu;  /* the host CPU whose run queue holds it */
	uint64_t vmcs; /* physical address of this vCPU's VMCS page */
	bool launched; /* VMLAUNCH done; next entry is VMRESUME */
	bool halted;   /* in HLT, waiting for an interrupt */
	/* In HLT with interrupts off, in a guest that knows PV unhalt: only a
	 * kick (KVM_HC_KICK_CPU) or an NMI wakes it. */
	bool halted_until_kick;
	/* It halted inside its NMI handler: NMIs are blocked until its IRET
	 * (SDM Vol. 3 6.7.1), so a pending NMI cannot end this HLT. */
	bool halted_nmi_blocked;
	bool pv_unhalted; /* kicked: its next HLT (or this one) ends at once */
	/* Set by another CPU's watchdog (vmm/core/watchdog.c) when the vCPU
	 * stayed in its guest too long; its own CPU then ends the VM at the
	 * exit the watchdog's NMI forces. */
	bool watchdog_fired;
	bool released; /* its CPU let go of it after the VM stopped */
	/* The VM was (re)loaded since this vCPU last ran: its CPU's TLBs may
	 * hold the old run's EPT and VPID translations. */
	bool flush_tlb;
	/* Its page-modification log while its VM's dirty log uses PML
	 * (vmm/cpu/dirty_vcpu.c); NULL otherwise. */
	uint64_t *pml_page;
	/* The TSC just before its first VM entry (0: none yet): where a
	 * migrated VM's downtime ends. */
	uint64_t first_entry_tsc;
	/* Waiting for INIT or SIPI (vcpu_start.h): off the run list, it costs
	 * nothing. */
	struct vcpu_start start;
	/* It sent an IPI to another vCPU, which shares its host CPU: end the
	 * slice so the target runs now rather than a slice later. */
	bool yield;
	/* Work for intr_before_entry before every entry while any of these
	 * is set: intr_idle tests them as one word. */
	union {
		struct {
			bool window_exiting;	 /* interrupt-window exiting is on */
			bool nmi_window_exiting; /* NMI-window exiting is on */
			/* The TPR threshold in the VMCS (with TPR shadow;
			 * interrupts.c): recomputed before every entry while
			 * set, so that it never exceeds the TPR at an entry. */
			uint8_t tpr_threshold;
			/* While L2 runs: L1's virtual-APIC page holds a
			 * vector (RVI, virtual-interrupt delivery) for L2 to
			 * take or L1 to exit on (exit_nested.c). */
			bool l1_vector_waits;
		};
		uint32_t entry_work;
	};
	struct vlapic lapic;
	/* Its virtual-APIC page (vlapic.h), given to the vLAPIC at reset. */
	uint32_t *vapic_page;
	/* Its MSR bitmap: the VM's, with the x2APIC MSRs its vLAPIC's mode
	 * lets through (vmm/cpu/apicv.c). */
	uint8_t *msr_bitmap;
	/* Counts the changes to it (apicv.c), for the copies made from it. */
	uint32_t msr_bitmap_gen;
	/* Virtual-interrupt delivery is on (x2APIC mode, apicv.c): the CPU
	 * delivers the vLAPIC's vectors; and the EOI-exit bitmap it has. */
	bool vid;
	/* RVI may name a vector (pgvisor last wrote one there): only
	 * pgvisor raises RVI, the guest's self-IPIs exit (apicv.c). */
	bool rvi_set;
	uint64_t eoi_exit[4];
	/* Its xAPIC page accesses are virtualized through the VM's
	 * APIC-access page (apicv.c): xAPIC mode at the default base. */
	bool apic_access;
	/* Guest view of registers VMX shadows or does not hold. */
	uint64_t xcr0;
	uint64_t misc_enable;
	/* IA32_TSC_ADJUST: what the guest's writes (to it or to the TSC)
	 * added to its TSC (SDM Vol. 3 18.17.3); 0 from reset. */
	uint64_t tsc_adjust;
	/* kvm-clock (vmm/cpu/kvm_pv.c): MSR_KVM_SYSTEM_TIME_NEW as written,
	 * and the version its record last got. */
	uint64_t kvmclock_msr;
	uint32_t kvmclock_version;
	/* Steal time: MSR_KVM_STEAL_TIME as written, the version its record
	 * last got, the nanoseconds this vCPU waited for its CPU while it
	 * could run, and since when it waits now (0: it does not). */
	uint64_t steal_msr;
	uint32_t steal_version;
	uint64_t steal_ns;
	uint64_t steal_since_tsc;
	/* timer_mode delay_for_missed_ticks (vmm/cpu/delayed_time.c): on its
	 * CPU now; left it while it could still run; its VMCS lacks the TSC
	 * offset the VM's held time gave it. */
	bool time_on_cpu;
	bool time_waiting;
	bool tsc_offset_stale;
	/* PV EOI: MSR_KVM_PV_EOI_EN as written, and whether the flag it
	 * names was set for the last injected interrupt (looked at after the
	 * next exit). */
	uint64_t pv_eoi_msr;
	bool pv_eoi_pending;
	void *fpu_area; /* FPU_AREA_SIZE bytes: XSAVE (or FXSAVE) image */
	/* MSRs the guest reaches without exits and the VMCS does not switch
	 * (see msr_policy.c): loaded while this vCPU owns the CPU. */
	uint64_t lazy_msrs[LAZY_MSR_COUNT];
	/* DR0-DR3 and DR6, live with the FPU state (debug_regs.h). */
	struct debug_regs dbg;
	struct exit_profile prof;
	/* The reason of the exit being handled, whose time the next entry
	 * ends; PROFILE_NO_REASON after a switch to another vCPU. */
	uint16_t prof_reason;
	/* The operator's "trace": the last exits, when on. */
	struct exit_trace trace;
	/* The operator's "info" asked for its registers, which only its own
	 * CPU can read (its VMCS is active there): printed before it runs. */
	bool info_requested;
	/* Its guest's VMX operation (a VM with nested = 1; vmm/cpu/exit_vmx.c). */
	struct nested_vcpu nested;
};

/* The vCPU leaves HLT (woken, reset, or started by SIPI), whatever it
 * was waiting for. */
static inline void vcpu_end_halt(struct vcpu *v)
{
	v->halted = false;
	v->halted_until_kick = false;
}

/* Sets the guest's CR2 (a page fault being injected, a reset). */
void vcpu_set_cr2(struct vcpu *v, uint64_t value);

/* Enters the guest; returns when it exits (0) or when VMLAUNCH/VMRESUME
 * itself fails (1: VMfailInvalid or VMfailValid, see the VM-instruction
 * error field). Implemented in vmx_entry.S. */
int vmx_enter(struct guest_regs *regs, int launched);

#endif /* __ASSEMBLER__ */
#endif
