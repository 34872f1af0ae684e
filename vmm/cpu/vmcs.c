#include "vmm/cpu/vmcs.h"

#include <stdio.h>

#include "arch/x86/cpu.h"
#include "arch/x86/debug_regs.h"
#include "arch/x86/msr.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/segments.h"
#include "vmm/cpu/apicv.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_check.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* Access rights of flat segments (SDM 25.4.1): G=1, D/B=1 (or L=1 for
 * 64-bit code), P=1, S=1, type 11 (code) or 3 (data). */
#define AR_CODE32 0xc09b
#define AR_CODE64 0xa09b
#define AR_DATA32 0xc093
#define AR_TSS32_BUSY 0x008b
#define AR_TSS64_BUSY 0x008b
#define AR_REAL_CODE 0x009b
#define AR_REAL_DATA 0x0093
#define REAL_LIMIT 0xffff
#define FLAT_LIMIT 0xffffffffu
#define TSS_MIN_LIMIT 0x67
#define MB_CODE_SEL 0x08
#define MB_DATA_SEL 0x10
#define DR7_INIT 0x400
#define PAT_POWER_ON 0x0007040600070406ull
#define VMCS_LINK_NONE 0xffffffffffffffffull

extern char vmx_exit[];

void vmcs_write_host_state(void)
{
	struct cpu *c = this_cpu();

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, SEL_KERNEL_CS);
	vmwrite(VMCS_HOST_SS_SEL, SEL_KERNEL_DS);
	vmwrite(VMCS_HOST_DS_SEL, SEL_KERNEL_DS);
	vmwrite(VMCS_HOST_ES_SEL, SEL_KERNEL_DS);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, (uint64_t)c);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&c->tables.tss);
	vmwrite(VMCS_HOST_GDTR_BASE, read_gdtr().base);
	vmwrite(VMCS_HOST_IDTR_BASE, read_idtr().base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_controls.pat)
		vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_exit);
	/* HOST_RSP is written by vmx_enter before every entry. */
}

static void write_controls(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const struct vmx_controls *ctl = &vmx_controls;
	uint64_t fixed0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG); /* unrestricted guest */

	vmwrite(VMCS_PIN_BASED_CTLS, ctl->pinbased);
	/* The VM's trap policy adds its exiting controls (trap_policy.h). */
	vmwrite(VMCS_PROC_BASED_CTLS, ctl->procbased | vm->trap_ctl.procbased);
	vmwrite(VMCS_PROC_BASED_CTLS2, ctl->procbased2 | vm->trap_ctl.procbased2);
	vmwrite(VMCS_EXIT_CTLS, ctl->exit);
	vmwrite(VMCS_ENTRY_CTLS, ctl->entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_PF_ERROR_CODE_MASK, 0);
	vmwrite(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)vm->io_bitmaps);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)vm->io_bitmaps + PAGE_SIZE);
	vmwrite(VMCS_EPT_POINTER, vm_eptp(vm));
	/* The guest's TSC survives INIT-SIPI (SDM Vol. 3 Table 9-1): the
	 * offset is the one its WRMSRs set (0 when the VM is loaded). */
	vmwrite(VMCS_TSC_OFFSET, v->lapic.tsc_offset);
	if (ctl->vpid)
		vmwrite(VMCS_VPID, vm_vpid(vm));
	apicv_setup(v);

	/* Bits the guest may not own: those VMX fixes (but for PE/PG) and,
	 * for CR4, VMXE, which the guest must see clear (VMX is hidden). */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, fixed0 | ~vmx_caps.cr0_fixed1 | CR0_CD | CR0_NW);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1);
}

static void write_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit,
			  uint32_t ar)
{
	/* The fields of one segment are laid out at fixed distances from the
	 * selector field (SDM appendix B): limit +0x4000, AR +0x4014,
	 * base +0x6006. */
	uint32_t n = (sel_field - VMCS_GUEST_ES_SEL);
	vmwrite(sel_field, sel);
	vmwrite(VMCS_GUEST_ES_LIMIT + n, limit);
	vmwrite(VMCS_GUEST_ES_AR + n, ar);
	vmwrite(VMCS_GUEST_ES_BASE + n, base);
}

/* What INIT and a SIPI leave (SDM Vol. 3 Table 9-1): real mode, CS =
 * vector << 8, IP = 0, 64 KiB segments; the unrestricted-guest control
 * lets the guest run with CR0.PE and PG clear. */
static void write_real_mode(uint8_t vector)
{
	/* CD and NW are host-owned: the guest sees them in the shadow only. */
	uint64_t cr0_view = CR0_ET | CR0_CD | CR0_NW;
	uint64_t cr0 = (CR0_ET | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;

	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0_view);
	write_segment(VMCS_GUEST_CS_SEL, (uint16_t)(vector << 8), (uint64_t)vector << 12,
		      REAL_LIMIT, AR_REAL_CODE);
	write_segment(VMCS_GUEST_SS_SEL, 0, 0, REAL_LIMIT, AR_REAL_DATA);
	write_segment(VMCS_GUEST_DS_SEL, 0, 0, REAL_LIMIT, AR_REAL_DATA);
	write_segment(VMCS_GUEST_ES_SEL, 0, 0, REAL_LIMIT, AR_REAL_DATA);
	write_segment(VMCS_GUEST_FS_SEL, 0, 0, REAL_LIMIT, AR_REAL_DATA);
	write_segment(VMCS_GUEST_GS_SEL, 0, 0, REAL_LIMIT, AR_REAL_DATA);
	write_segment(VMCS_GUEST_TR_SEL, 0, 0, REAL_LIMIT, AR_TSS32_BUSY);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, REAL_LIMIT);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, REAL_LIMIT);
	vmwrite(VMCS_GUEST_RIP, 0);
}

static void write_guest_state(struct vcpu *v, const struct vcpu_boot_state *s)
{
	uint64_t cr0_view = CR0_PE | CR0_ET | (s->long_mode ? CR0_PG | CR0_NE : 0);
	uint64_t cr0 =
		(cr0_view | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
	uint64_t cr4_view = s->long_mode ? CR4_PAE : 0;
	uint16_t cs = s->long_mode ? s->cs_sel : MB_CODE_SEL;
	uint16_t ds = s->long_mode ? s->ds_sel : MB_DATA_SEL;

	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0_view);
	vmwrite(VMCS_GUEST_CR3, s->long_mode ? s->cr3 : 0);
	vmwrite(VMCS_GUEST_CR4, cr4_view | vmx_caps.cr4_fixed0);
	vmwrite(VMCS_CR4_READ_SHADOW, cr4_view);

	write_segment(VMCS_GUEST_CS_SEL, cs, 0, FLAT_LIMIT, s->long_mode ? AR_CODE64 : AR_CODE32);
	write_segment(VMCS_GUEST_SS_SEL, ds, 0, FLAT_LIMIT, AR_DATA32);
	write_segment(VMCS_GUEST_DS_SEL, ds, 0, FLAT_LIMIT, AR_DATA32);
	write_segment(VMCS_GUEST_ES_SEL, ds, 0, FLAT_LIMIT, AR_DATA32);
	write_segment(VMCS_GUEST_FS_SEL, ds, 0, FLAT_LIMIT, AR_DATA32);
	write_segment(VMCS_GUEST_GS_SEL, ds, 0, FLAT_LIMIT, AR_DATA32);
	write_segment(VMCS_GUEST_LDTR_SEL, 0, 0, 0, AR_UNUSABLE);
	write_segment(VMCS_GUEST_TR_SEL, 0, 0, TSS_MIN_LIMIT,
		      s->long_mode ? AR_TSS64_BUSY : AR_TSS32_BUSY);
	/* Multiboot leaves GDTR and IDTR undefined: the guest loads its own.
	 * Linux's 64-bit entry needs the loader's GDT (boot.rst). */
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdt_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdt_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);

	vmwrite(VMCS_GUEST_RIP, s->rip);
	vmwrite(VMCS_GUEST_RSP, s->rsp);
	vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmwrite(VMCS_GUEST_DR7, DR7_INIT);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_IA32_EFER, s->long_mode ? EFER_LME | EFER_LMA : 0);
	vmwrite(VMCS_ENTRY_CTLS,
		s->long_mode ? vmx_controls.entry | ENTRY_IA32E_MODE_GUEST : vmx_controls.entry);
	if (vmx_controls.pat)
		vmwrite(VMCS_GUEST_IA32_PAT, PAT_POWER_ON);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(VMCS_LINK_POINTER, VMCS_LINK_NONE);
	vmwrite(VMCS_GUEST_PDPTE0, 0);
	vmwrite(VMCS_GUEST_PDPTE1, 0);
	vmwrite(VMCS_GUEST_PDPTE2, 0);
	vmwrite(VMCS_GUEST_PDPTE3, 0);
	if (s->real_mode)
		write_real_mode(s->sipi_vector);

	for (int i = 0; i < GPR_COUNT; i++)
		v->regs.gpr[i] = 0;
	vcpu_set_cr2(v, 0);
	debug_regs_reset(&v->dbg);
	if (this_cpu()->fpu_owner == v)
		debug_regs_load(&v->dbg);
	v->regs.gpr[REG_RAX] = s->rax;
	v->regs.gpr[REG_RBX] = s->rbx;
	v->regs.gpr[REG_RSI] = s->rsi;
	v->xcr0 = 1; /* x87 only, the reset value */
}

int vmcs_setup(struct vcpu *v, const struct vcpu_boot_state *s, char *err, unsigned errlen)
{
	uint32_t *page = (uint32_t *)v->vmcs;

	if (!page) {
		page = page_alloc(1);
		if (!page) {
			snprintf(err, errlen, "out of memory for the VMCS");
			return -1;
		}
		v->vmcs = (uint64_t)page;
	}
	page[0] = vmx_revision_id();
	/* VMCLEAR puts it in the clear launch state, VMPTRLD makes it current
	 * (SDM 25.11.3). */
	if (vmcs_clear(v->vmcs) || vmcs_load(v->vmcs)) {
		snprintf(err, errlen, "VMCLEAR/VMPTRLD of the VMCS failed");
		return -1;
	}
	this_cpu()->loaded_vcpu = v;
	v->launched = false;
	write_controls(v);
	vmcs_write_host_state();
	write_guest_state(v, s);
	return 0;
}

void vmcs_release(struct vcpu *v)
{
	/* VMCS02 is active on this CPU in L2, and kept after L2's exits. */
	bool vmcs02_active = v->nested.vmcs02 && (v->nested.in_l2 || v->nested.c02.built);

	/* A vCPU stopped in its nested guest: both VMCSs go, and its own is
	 * the one it keeps. */
	if (v->nested.in_l2) {
		v->vmcs = v->nested.vmcs01;
		v->launched = v->nested.l1_launched;
		v->nested.in_l2 = false;
	}
	if (vmcs02_active)
		vmcs_clear(v->nested.vmcs02);
	vmcs02_cache_drop(&v->nested.c02);
	/* VMCLEAR also writes the CPU's cached copy back to memory. */
	if (v->vmcs)
		vmcs_clear(v->vmcs);
	if (this_cpu()->loaded_vcpu == v)
		this_cpu()->loaded_vcpu = NULL;
}

/* Faults, as opposed to traps (#DB as pgvisor injects it, #BP, #OF) and
 * aborts (#DF, #MC) (SDM Vol. 3 6.5, table 6-1). */
static bool is_fault(unsigned vector)
{
	return vector != VEC_DB && vector != VEC_BP && vector != VEC_OF && vector != VEC_DF &&
	       vector != VEC_MC;
}

void vmcs_inject_exception(unsigned vector, bool has_error, uint32_t error)
{
	uint32_t info = vmcs_exception_info(vector, has_error, vmread(VMCS_GUEST_CR0));

	if (is_fault(vector))
		vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
	if (info & INTR_INFO_DELIVER_ERROR_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

void vmcs_single_step_trap(void)
{
	/* BTF turns single-steps into steps over branches only (SDM Vol. 3
	 * 17.4.3); no instruction pgvisor emulates branches. */
	if (vmread(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF)
		return;
	/* A debug exception the instruction itself left pending (a data
	 * breakpoint, or a trap a MOV SS held back, SDM 27.3.4) is one #DB
	 * with the step: its B0-B3 join BS in DR6, and the field is emptied
	 * so that it is not delivered a second time. DR6 is the guest's while
	 * it owns this CPU (debug_regs.h). */
	uint64_t pending = vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	if (pending)
		vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	write_dr6(read_dr6() | (pending & DR6_BREAKPOINTS) | DR6_BS);
	vmcs_inject_exception(VEC_DB, false, 0);
}
