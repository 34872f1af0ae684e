#include "vmm/nested/entry_check.h"

#include <stdint.h>
#include <stdio.h>

#include "arch/x86/lib/canonical.h"
#include "arch/x86/msr.h"
#include "vmm/vmx/vmcs_fields.h"

#define ALLOWED1_SHIFT 32
#define PAGE_MASK 0xfffull
#define MSR_ENTRY_ALIGN_MASK 0xfull
#define MSR_ENTRY_SIZE 16ull
#define MISC_CR3_TARGETS(misc) (((misc) >> 16) & 0x1ff)
/* Controls the checks name that vmcs_fields.h does not. */
#define PIN_POSTED_INTERRUPTS (1u << 7)
#define PROC_NMI_WINDOW (1u << 22)
#define PROC2_EPT_VE (1u << 18)
#define PROC2_MODE_BASED_EXEC (1u << 22)
#define ENTRY_SMM (1u << 10)
#define ENTRY_DEACTIVATE_DUAL_MONITOR (1u << 11)
#define CR0_PE 1ull
/* The fields of controls that vmcs_fields.h does not name. */
#define VMCS_VMFUNC_CONTROLS 0x2018
#define VMCS_EPTP_LIST_ADDRESS 0x2024
#define VMCS_VE_INFO_ADDRESS 0x202a
/* EPTP (SDM 25.6.11): memory type 2:0, walk length - 1 in 5:3, A/D 6. */
#define EPTP_MEMTYPE_MASK 7ull
#define EPTP_MEMTYPE_UC 0ull
#define EPTP_MEMTYPE_WB 6ull
#define EPTP_WALK_MASK (7ull << 3)
#define EPTP_WALK_4 (3ull << 3)
#define EPTP_AD (1ull << 6)
#define EPTP_RESERVED (0x1full << 7)
#define EPT_CAP_MEMTYPE_UC (1ull << 8)
#define VMFUNC_EPTP_SWITCHING 1ull
/* Event injection (SDM 26.2.1.3). */
#define INTR_TYPE_RESERVED (1u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8)
#define INTR_TYPE_OTHER (7u << 8)
#define INTR_INFO_RESERVED 0x7ffff000u
#define NMI_VECTOR 2u
#define LAST_EXCEPTION 31u
#define MAX_INSN_LEN 15u
#define TPR_THRESHOLD_RESERVED 0xfffffff0ull
/* Host state (SDM 26.2.2, 26.2.3). */
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define SEL_RPL_TI 7ull
#define EFER_RESERVED ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define PAT_ENTRIES 8

struct check {
	const struct nested_vmcs *vmcs;
	const struct nested_entry_env *env;
	char *msg;
	size_t len;
};

static uint64_t field(struct check *c, uint32_t encoding)
{
	return nested_vmcs_get(c->vmcs, encoding);
}

static uint64_t cap(struct check *c, uint32_t msr)
{
	uint64_t value = 0;

	nested_caps_read(c->env->caps, msr, &value);
	return value;
}

static int fail(struct check *c, const char *rule, uint64_t value, const char *section)
{
	snprintf(c->msg, c->len, "%s (value %#llx; SDM %s)", rule, (unsigned long long)value,
		 section);
	return -1;
}

/* A control honours its capability MSR: every allowed-0 bit set, no bit
 * outside allowed-1 (SDM A.3). */
static bool control_ok(uint32_t value, uint64_t cap_msr)
{
	uint32_t must1 = (uint32_t)cap_msr;
	uint32_t may1 = (uint32_t)(cap_msr >> ALLOWED1_SHIFT);

	return (value & must1) == must1 && !(value & ~may1);
}

/* A physical address with no bit at or above the guest's width. */
static bool within_width(struct check *c, uint64_t pa)
{
	return c->env->pa_bits >= 64 || !(pa >> c->env->pa_bits);
}

static bool page_address_ok(struct check *c, uint64_t pa)
{
	return !(pa & PAGE_MASK) && within_width(c, pa);
}

/* An MSR list: 16-byte aligned, its last byte within the width (26.2.1.2). */
static bool msr_list_ok(struct check *c, uint32_t addr_field, uint32_t count_field)
{
	uint64_t count = field(c, count_field);
	uint64_t addr = field(c, addr_field);

	if (!count)
		return true;
	return !(addr & MSR_ENTRY_ALIGN_MASK) && within_width(c, addr + count * MSR_ENTRY_SIZE - 1);
}

static bool eptp_ok(struct check *c, uint64_t eptp)
{
	uint64_t ept_cap = cap(c, MSR_IA32_VMX_EPT_VPID_CAP);
	uint64_t type = eptp & EPTP_MEMTYPE_MASK;

	if (!((type == EPTP_MEMTYPE_UC && (ept_cap & EPT_CAP_MEMTYPE_UC)) ||
	      (type == EPTP_MEMTYPE_WB && (ept_cap & EPT_CAP_MEMTYPE_WB))))
		return false;
	if ((eptp & EPTP_WALK_MASK) != EPTP_WALK_4)
		return false;
	if ((eptp & EPTP_AD) && !(ept_cap & EPT_CAP_ACCESSED_DIRTY))
		return false;
	return !(eptp & EPTP_RESERVED) && within_width(c, eptp);
}

bool nested_eptp_valid(const struct nested_entry_env *env, uint64_t eptp)
{
	struct check c = { NULL, env, NULL, 0 };

	return eptp_ok(&c, eptp);
}

static int check_execution(struct check *c, uint32_t pin, uint32_t proc, uint32_t proc2)
{
	const char *s = "26.2.1.1";

	if (!control_ok(pin, cap(c, MSR_IA32_VMX_TRUE_PINBASED_CTLS)))
		return fail(c, "pin-based controls outside the allowed settings", pin, s);
	if (!control_ok(proc, cap(c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)))
		return fail(c, "primary processor-based controls outside the allowed settings",
			    proc, s);
	if ((proc & PROC_ACTIVATE_SECONDARY) &&
	    !control_ok(proc2, cap(c, MSR_IA32_VMX_PROCBASED_CTLS2)))
		return fail(c, "secondary processor-based controls outside the allowed settings",
			    proc2, s);
	uint64_t targets = field(c, VMCS_CR3_TARGET_COUNT);
	if (targets > MISC_CR3_TARGETS(cap(c, MSR_IA32_VMX_MISC)))
		return fail(c, "CR3-target count above what IA32_VMX_MISC allows", targets, s);
	if ((proc & PROC_USE_IO_BITMAPS) && (!page_address_ok(c, field(c, VMCS_IO_BITMAP_A)) ||
					     !page_address_ok(c, field(c, VMCS_IO_BITMAP_B))))
		return fail(c, "I/O bitmap address not 4 KiB aligned or too wide",
			    field(c, VMCS_IO_BITMAP_A), s);
	if ((proc & PROC_USE_MSR_BITMAPS) && !page_address_ok(c, field(c, VMCS_MSR_BITMAP)))
		return fail(c, "MSR bitmap address not 4 KiB aligned or too wide",
			    field(c, VMCS_MSR_BITMAP), s);
	if (proc & PROC_USE_TPR_SHADOW) {
		if (!page_address_ok(c, field(c, VMCS_VIRTUAL_APIC_ADDR)))
			return fail(c, "virtual-APIC address not 4 KiB aligned or too wide",
				    field(c, VMCS_VIRTUAL_APIC_ADDR), s);
		if (!(proc2 & PROC2_VIRTUAL_INTR_DELIVERY) &&
		    (field(c, VMCS_TPR_THRESHOLD) & TPR_THRESHOLD_RESERVED))
			return fail(c, "TPR threshold bits 31:4 set", field(c, VMCS_TPR_THRESHOLD),
				    s);
	} else if (proc2 & (PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |
			    PROC2_VIRTUAL_INTR_DELIVERY)) {
		return fail(c,
			    "x2APIC or APIC-register virtualization or virtual-interrupt "
			    "delivery without the TPR shadow",
			    proc2, s);
	}
	if (!(pin & PIN_NMI_EXITING) && (pin & PIN_VIRTUAL_NMIS))
		return fail(c, "virtual NMIs without NMI exiting", pin, s);
	if (!(pin & PIN_VIRTUAL_NMIS) && (proc & PROC_NMI_WINDOW))
		return fail(c, "NMI-window exiting without virtual NMIs", proc, s);
	if ((proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) &&
	    !page_address_ok(c, field(c, VMCS_APIC_ACCESS_ADDR)))
		return fail(c, "APIC-access address not 4 KiB aligned or too wide",
			    field(c, VMCS_APIC_ACCESS_ADDR), s);
	if ((proc2 & PROC2_VIRTUALIZE_X2APIC) && (proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES))
		return fail(c, "virtualize x2APIC mode together with virtualize APIC accesses",
			    proc2, s);
	if ((proc2 & PROC2_VIRTUAL_INTR_DELIVERY) && !(pin & PIN_EXTERNAL_INTERRUPT_EXITING))
		return fail(c, "virtual-interrupt delivery without external-interrupt exiting", pin,
			    s);
	if ((proc2 & PROC2_ENABLE_VPID) && !field(c, VMCS_VPID))
		return fail(c, "enable VPID with VPID 0", 0, s);
	if ((proc2 & PROC2_ENABLE_EPT) && !eptp_ok(c, field(c, VMCS_EPT_POINTER)))
		return fail(c,
			    "EPT pointer invalid (memory type, walk length, A/D or reserved "
			    "bits)",
			    field(c, VMCS_EPT_POINTER), s);
	if ((proc2 & PROC2_ENABLE_PML) &&
	    (!(proc2 & PROC2_ENABLE_EPT) || !page_address_ok(c, field(c, VMCS_PML_ADDRESS))))
		return fail(c, "PML without EPT, or its address not 4 KiB aligned or too wide",
			    field(c, VMCS_PML_ADDRESS), s);
	if ((proc2 & (PROC2_UNRESTRICTED_GUEST | PROC2_MODE_BASED_EXEC)) &&
	    !(proc2 & PROC2_ENABLE_EPT))
		return fail(c, "unrestricted guest or mode-based execute control without EPT",
			    proc2, s);
	if (proc2 & PROC2_ENABLE_VMFUNC) {
		uint64_t funcs = field(c, VMCS_VMFUNC_CONTROLS);
		if (funcs & ~cap(c, MSR_IA32_VMX_VMFUNC))
			return fail(c, "VM-function controls outside IA32_VMX_VMFUNC", funcs, s);
		if ((funcs & VMFUNC_EPTP_SWITCHING) &&
		    (!(proc2 & PROC2_ENABLE_EPT) ||
		     !page_address_ok(c, field(c, VMCS_EPTP_LIST_ADDRESS))))
			return fail(c, "EPTP switching without EPT or with a bad EPTP-list address",
				    field(c, VMCS_EPTP_LIST_ADDRESS), s);
	}
	if ((proc2 & PROC2_EPT_VE) && !page_address_ok(c, field(c, VMCS_VE_INFO_ADDRESS)))
		return fail(c, "#VE information address not 4 KiB aligned or too wide",
			    field(c, VMCS_VE_INFO_ADDRESS), s);
	return 0;
}

static int check_exit(struct check *c, uint32_t pin)
{
	uint32_t exit = (uint32_t)field(c, VMCS_EXIT_CTLS);
	const char *s = "26.2.1.2";

	if (!control_ok(exit, cap(c, MSR_IA32_VMX_TRUE_EXIT_CTLS)))
		return fail(c, "VM-exit controls outside the allowed settings", exit, s);
	if (!(pin & PIN_PREEMPTION_TIMER) && (exit & EXIT_SAVE_PREEMPTION_TIMER))
		return fail(c, "save VMX-preemption timer without the timer", exit, s);
	if (!msr_list_ok(c, VMCS_EXIT_MSR_STORE_ADDR, VMCS_EXIT_MSR_STORE_COUNT))
		return fail(c, "VM-exit MSR-store address not 16-byte aligned or too wide",
			    field(c, VMCS_EXIT_MSR_STORE_ADDR), s);
	if (!msr_list_ok(c, VMCS_EXIT_MSR_LOAD_ADDR, VMCS_EXIT_MSR_LOAD_COUNT))
		return fail(c, "VM-exit MSR-load address not 16-byte aligned or too wide",
			    field(c, VMCS_EXIT_MSR_LOAD_ADDR), s);
	return 0;
}

/* The VM-entry interruption-information field (26.2.1.3). */
static int check_injection(struct check *c, uint32_t proc, uint32_t proc2)
{
	uint32_t info = (uint32_t)field(c, VMCS_ENTRY_INTR_INFO);
	uint32_t type = info & INTR_INFO_TYPE_MASK;
	uint32_t vector = info & INTR_INFO_VECTOR_MASK;
	const char *s = "26.2.1.3";

	if (!(info & INTR_INFO_VALID))
		return 0;
	if (type == INTR_TYPE_RESERVED ||
	    (type == INTR_TYPE_OTHER && !(proc & PROC_MONITOR_TRAP_FLAG)))
		return fail(c, "event injection of a reserved type", info, s);
	if ((type == INTR_TYPE_NMI && vector != NMI_VECTOR) ||
	    (type == INTR_TYPE_HW_EXCEPTION && vector > LAST_EXCEPTION) ||
	    (type == INTR_TYPE_OTHER && vector != 0))
		return fail(c, "event injection vector does not fit its type", info, s);
	if ((info & INTR_INFO_DELIVER_ERROR_CODE) && type != INTR_TYPE_HW_EXCEPTION)
		return fail(c,
			    "error code delivered for an event that is not a hardware "
			    "exception",
			    info, s);
	/* Real mode (unrestricted guest, CR0.PE = 0) pushes no error code:
	 * vmcs_exception_info's rule, for L1's injections. */
	if ((info & INTR_INFO_DELIVER_ERROR_CODE) && (proc2 & PROC2_UNRESTRICTED_GUEST) &&
	    !(field(c, VMCS_GUEST_CR0) & CR0_PE))
		return fail(c, "error code delivered to a real-mode guest", info, s);
	if (info & INTR_INFO_RESERVED)
		return fail(c, "event injection reserved bits 30:12 set", info, s);
	if (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION) {
		uint64_t len = field(c, VMCS_ENTRY_INSTRUCTION_LEN);
		if (len == 0 || len > MAX_INSN_LEN)
			return fail(c, "software event with an instruction length outside 1-15",
				    len, s);
	}
	return 0;
}

static int check_entry(struct check *c, uint32_t proc, uint32_t proc2)
{
	uint32_t entry = (uint32_t)field(c, VMCS_ENTRY_CTLS);
	const char *s = "26.2.1.3";

	if (!control_ok(entry, cap(c, MSR_IA32_VMX_TRUE_ENTRY_CTLS)))
		return fail(c, "VM-entry controls outside the allowed settings", entry, s);
	if (entry & (ENTRY_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR))
		return fail(c, "entry to SMM or deactivate dual-monitor outside SMM", entry, s);
	if (check_injection(c, proc, proc2))
		return -1;
	if (!msr_list_ok(c, VMCS_ENTRY_MSR_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_COUNT))
		return fail(c, "VM-entry MSR-load address not 16-byte aligned or too wide",
			    field(c, VMCS_ENTRY_MSR_LOAD_ADDR), s);
	return 0;
}

int nested_check_controls(const struct nested_vmcs *vmcs, const struct nested_entry_env *env,
			  char *msg, size_t msglen)
{
	struct check c = { vmcs, env, msg, msglen };
	uint32_t pin = (uint32_t)field(&c, VMCS_PIN_BASED_CTLS);
	uint32_t proc = (uint32_t)field(&c, VMCS_PROC_BASED_CTLS);
	/* Without "activate secondary controls" they are all 0 (25.6.2). */
	uint32_t proc2 =
		proc & PROC_ACTIVATE_SECONDARY ? (uint32_t)field(&c, VMCS_PROC_BASED_CTLS2) : 0;

	if (check_execution(&c, pin, proc, proc2) || check_exit(&c, pin) ||
	    check_entry(&c, proc, proc2))
		return -1;
	return 0;
}

static bool pat_ok(uint64_t pat)
{
	for (unsigned i = 0; i < PAT_ENTRIES; i++) {
		unsigned type = (pat >> (8 * i)) & 0xff;
		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static int check_host_registers(struct check *c, uint32_t exit)
{
	const char *s = "26.2.2";
	uint64_t cr0 = field(c, VMCS_HOST_CR0);
	uint64_t cr4 = field(c, VMCS_HOST_CR4);
	uint64_t fixed0 = cap(c, MSR_IA32_VMX_CR0_FIXED0);
	uint64_t fixed1 = cap(c, MSR_IA32_VMX_CR0_FIXED1);

	if ((cr0 & fixed0) != fixed0 || (cr0 & ~fixed1))
		return fail(c, "host CR0 does not honour IA32_VMX_CR0_FIXED0/1", cr0, s);
	fixed0 = cap(c, MSR_IA32_VMX_CR4_FIXED0);
	fixed1 = cap(c, MSR_IA32_VMX_CR4_FIXED1);
	if ((cr4 & fixed0) != fixed0 || (cr4 & ~fixed1))
		return fail(c, "host CR4 does not honour IA32_VMX_CR4_FIXED0/1", cr4, s);
	if (!within_width(c, field(c, VMCS_HOST_CR3)))
		return fail(c, "host CR3 wider than the physical-address width",
			    field(c, VMCS_HOST_CR3), s);
	if (!canonical_address(field(c, VMCS_HOST_SYSENTER_ESP)) ||
	    !canonical_address(field(c, VMCS_HOST_SYSENTER_EIP)))
		return fail(c, "host SYSENTER_ESP or SYSENTER_EIP not canonical",
			    field(c, VMCS_HOST_SYSENTER_EIP), s);
	if ((exit & EXIT_LOAD_IA32_PAT) && !pat_ok(field(c, VMCS_HOST_IA32_PAT)))
		return fail(c, "host IA32_PAT with a reserved memory type",
			    field(c, VMCS_HOST_IA32_PAT), s);
	if (exit & EXIT_LOAD_IA32_EFER) {
		uint64_t efer = field(c, VMCS_HOST_IA32_EFER);
		bool wide = exit & EXIT_HOST_ADDRESS_SPACE_SIZE;
		if ((efer & EFER_RESERVED) || !(efer & EFER_LMA) != !wide ||
		    !(efer & EFER_LME) != !wide)
			return fail(c,
				    "host IA32_EFER reserved bits, or LMA/LME unlike the host "
				    "address-space size",
				    efer, s);
	}
	return 0;
}

static int check_host_segments(struct check *c, uint32_t exit)
{
	const char *s = "26.2.3";
	static const uint32_t selectors[] = { VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL,
					      VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL,
					      VMCS_HOST_TR_SEL };
	static const uint32_t bases[] = { VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE,
					  VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE };

	for (unsigned i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++)
		if (field(c, selectors[i]) & SEL_RPL_TI)
			return fail(c, "host selector with RPL or TI set", field(c, selectors[i]),
				    s);
	if (!field(c, VMCS_HOST_CS_SEL) || !field(c, VMCS_HOST_TR_SEL))
		return fail(c, "host CS or TR selector 0", field(c, VMCS_HOST_CS_SEL), s);
	if (!(exit & EXIT_HOST_ADDRESS_SPACE_SIZE) && !field(c, VMCS_HOST_SS_SEL))
		return fail(c, "host SS selector 0 with a 32-bit host", 0, s);
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (!canonical_address(field(c, bases[i])))
			return fail(c, "host FS, GS, TR, GDTR or IDTR base not canonical",
				    field(c, bases[i]), s);
	return 0;
}

/* Address-space size (26.2.4): the host's mode follows the guest
 * hypervisor's own. */
static int check_address_space(struct check *c, uint32_t exit)
{
	const char *s = "26.2.4";
	uint32_t entry = (uint32_t)field(c, VMCS_ENTRY_CTLS);
	bool wide = exit & EXIT_HOST_ADDRESS_SPACE_SIZE;
	uint64_t rip = field(c, VMCS_HOST_RIP);

	if (!c->env->long_mode && (wide || (entry & ENTRY_IA32E_MODE_GUEST)))
		return fail(c, "host address-space size or IA-32e mode guest outside IA-32e mode",
			    exit, s);
	if (c->env->long_mode && !wide)
		return fail(c, "host address-space size 0 in IA-32e mode", exit, s);
	if (!wide && ((entry & ENTRY_IA32E_MODE_GUEST) || (field(c, VMCS_HOST_CR4) & CR4_PCIDE) ||
		      (rip >> 32)))
		return fail(c,
			    "32-bit host with an IA-32e mode guest, CR4.PCIDE or RIP above 4 GiB",
			    rip, s);
	if (wide && (!(field(c, VMCS_HOST_CR4) & CR4_PAE) || !canonical_address(rip)))
		return fail(c, "64-bit host without CR4.PAE or with a non-canonical RIP", rip, s);
	return 0;
}

int nested_check_host_state(const struct nested_vmcs *vmcs, const struct nested_entry_env *env,
			    char *msg, size_t msglen)
{
	struct check c = { vmcs, env, msg, msglen };
	uint32_t exit = (uint32_t)field(&c, VMCS_EXIT_CTLS);

	if (check_host_registers(&c, exit) || check_host_segments(&c, exit) ||
	    check_address_space(&c, exit))
		return -1;
	return 0;
}
