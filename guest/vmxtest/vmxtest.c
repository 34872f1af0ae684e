/* vmxtest: a small guest hypervisor (L1) that checks the VMX a VM's CPU
 * offers (issue 21): one line per check, "vmxtest: ok ..." or
 * "vmxtest: FAIL ...", then "vmxtest: all checks passed" or
 * "vmxtest: N checks failed".
 *
 * Without VMX (nested = 0) it checks that VMX is hidden: CPUID.1:ECX.VMX
 * clear, IA32_FEATURE_CONTROL locked with VMX off, the capability MSRs
 * absent (#GP), CR4.VMXE refused (#GP) and VMXON undefined (#UD).
 *
 * With VMX it checks the capability MSRs (allowed-0 settings within the
 * allowed-1 settings), then the VMX instructions' exceptions, RFLAGS
 * outcomes and VM-instruction errors (SDM Vol. 3 30.2-30.4): VMXON
 * without CR4.VMXE, with a bad region, twice; VMPTRLD of the VMXON
 * region, of a bad revision; VMREAD/VMWRITE of unsupported and read-only
 * fields and their widths; VMPTRST, VMCLEAR; VMLAUNCH with invalid
 * controls, then with invalid host state; VMRESUME of a non-launched
 * VMCS; INVEPT/INVVPID with bad operands; VMXOFF. With "launch" on its
 * command line it instead runs a nested guest (L2) under a VMCS that
 * passes every check: its CPUID and HLT exits come back to this program,
 * the line it writes to COM1 goes to pgvisor's UART; then a second
 * nested guest under this program's own EPT (an identity map with a few
 * pages moved, read-only, absent, malformed or outside the VM): its EPT
 * violations and misconfiguration come back here with the qualification
 * and addresses the CPU would give, and its reads see the pages this
 * program's tables name, after INVEPT as they change; then a third that
 * spins while an interrupt waits for this program, which asked to exit on
 * external interrupts: it comes back at once with the vector
 * acknowledged; nested guests its interrupt meets as an event it injects
 * is delivered, entered in the HLT activity state, or halted by their own
 * HLT: woken to take it, or exit 1 after the delivery, from the halted
 * state; and the same spinning guest under a VMX-preemption timer
 * of this program's, which ends it with exit 52; and, with unrestricted
 * guest, a nested guest in real mode under this program's EPT. It runs in 32-bit
 * protected mode with paging (4 MiB pages), as VMX operation needs
 * CR0.PG and CR0.NE. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/check.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"

const char program_name[] = "vmxtest";

#define CPUID_1_ECX_VMX (1u << 5)
#define MSR_FEATURE_CONTROL 0x3a
#define FEATURE_CONTROL_LOCKED 1ull
#define FEATURE_CONTROL_VMX 4ull
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define MSR_VMX_VMFUNC 0x491
#define BASIC_REVISION_MASK 0x7fffffffu
#define BASIC_REGION_SIZE(b) (((b) >> 32) & 0x1fff)
#define MISC_VMWRITE_ALL (1ull << 29)
#define PROC2_SHADOWING (1u << 14)
#define PROC2_PML (1u << 17)
#define PROC2_VMFUNC (1u << 13)
#define EPT_CAP_INVEPT (1ull << 20)
#define VPID_CAP_INVVPID (1ull << 32)

#define CR0_NE (1u << 5)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_VMXE (1u << 13)
#define CR4_PCE (1u << 8)
#define PDE_4M_RW (0x83u) /* present, writable, 4 MiB page */
#define PAGE_DIR_ENTRIES 1024
#define PAGE_SIZE 4096

#define EFLAGS_CF (1u << 0)
#define EFLAGS_ZF (1u << 6)
#define VEC_UD 6
#define VEC_GP 13

/* VMCS field encodings (SDM appendix B). */
#define F_VPID 0x0000u
#define F_HOST_CS_SEL 0x0c02u
#define F_HOST_SS_SEL 0x0c04u
#define F_HOST_TR_SEL 0x0c0cu
#define F_IO_BITMAP_A 0x2000u
#define F_PIN 0x4000u
#define F_PROC 0x4002u
#define F_PROC2 0x401eu
#define F_EPT_POINTER 0x201au
#define F_GUEST_PHYSICAL_ADDRESS 0x2400u
#define F_GUEST_LINEAR_ADDRESS 0x640au
#define F_EXIT 0x400cu
#define F_ENTRY 0x4012u
#define F_VM_INSTRUCTION_ERROR 0x4400u
#define F_EXIT_REASON 0x4402u
#define F_HOST_ES_SEL 0x0c00u
#define F_HOST_DS_SEL 0x0c06u
#define F_HOST_FS_SEL 0x0c08u
#define F_HOST_GS_SEL 0x0c0au
#define F_LINK_POINTER 0x2800u
#define F_EXIT_QUALIFICATION 0x6400u
#define F_GUEST_ES_SEL 0x0800u
#define F_GUEST_ES_LIMIT 0x4800u
#define F_GUEST_ES_AR 0x4814u
#define F_GUEST_ES_BASE 0x6806u
#define F_GUEST_GDTR_LIMIT 0x4810u
#define F_GUEST_IDTR_LIMIT 0x4812u
#define F_GUEST_GDTR_BASE 0x6816u
#define F_GUEST_IDTR_BASE 0x6818u
#define F_GUEST_CR0 0x6800u
#define F_GUEST_CR3 0x6802u
#define F_GUEST_CR4 0x6804u
#define F_GUEST_DR7 0x681au
#define F_GUEST_RSP 0x681cu
#define F_GUEST_RFLAGS 0x6820u
#define F_GUEST_RIP 0x681eu
#define F_EXIT_INSTRUCTION_LEN 0x440cu
#define F_HOST_CR3 0x6c02u
#define F_HOST_GDTR_BASE 0x6c0cu
#define F_HOST_IDTR_BASE 0x6c0eu
#define F_HOST_CR0 0x6c00u
#define F_HOST_CR4 0x6c04u
#define F_HOST_RIP 0x6c16u
#define F_CR4_MASK 0x6002u
#define F_CR4_SHADOW 0x6006u
#define F_UNSUPPORTED 0x7ffeu

/* VM-instruction errors (SDM 30.4). */
#define ERR_VMCLEAR_VMXON 3
#define ERR_VMLAUNCH_NONCLEAR 4
#define ERR_VMRESUME_NONLAUNCHED 5
#define ERR_INVALID_CONTROLS 7
#define ERR_INVALID_HOST_STATE 8
#define ERR_VMPTRLD_INVALID 9
#define ERR_VMPTRLD_VMXON 10
#define ERR_VMPTRLD_REVISION 11
#define ERR_UNSUPPORTED_FIELD 12
#define ERR_READ_ONLY_FIELD 13
#define ERR_VMXON_IN_ROOT 15
#define ERR_INVEPT_INVVPID 28

#define EXIT_FAILED 1
#define EXIT_REASON_CPUID 10u
#define EXIT_REASON_HLT 12u
#define PROC_HLT_EXITING (1u << 7)
#define PROC_ACTIVATE_SECONDARY (1u << 31)
#define PROC2_ENABLE_EPT (1u << 1)
#define EXIT_REASON_EPT_VIOLATION 48u
#define EXIT_REASON_EPT_MISCONFIG 49u
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define EXIT_ACK_INTERRUPT_ON_EXIT (1u << 15)
#define EXIT_REASON_EXTERNAL_INTERRUPT 1u
#define F_EXIT_INTR_INFO 0x4404u
#define INTR_INFO_VALID (1u << 31)
#define L1_VECTOR 0x40u
#define PIN_PREEMPTION_TIMER (1u << 6)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
#define EXIT_REASON_PREEMPTION_TIMER 52u
#define F_PREEMPTION_TIMER 0x482eu
#define L2_TIMER_TICKS 1000u /* far shorter than spin_code's loop */
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define CR0_PE 1u
#define REAL_CODE_BASE 0x8000u /* below 1 MiB, unused by this program */
#define REAL_CODE_SEL (REAL_CODE_BASE >> 4)
#define REAL_AX 0x1234u
#define REAL_HLT_IP 3u /* after "mov $0x1234, %ax" */
#define AR_REAL_CODE 0x9bu
#define AR_REAL_DATA 0x93u
#define LIMIT_REAL 0xffffu
#define REAL_STACK 0x7000u
#define IVT_LIMIT 0x3ffu
/* A VM entry that failed on the guest state: reason 33 with bit 31, and
 * the qualification for an invalid VMCS link pointer (SDM 26.8). */
#define EXIT_ENTRY_FAIL_GUEST_STATE 0x80000021u
#define QUAL_LINK_POINTER 4u
#define HOST_TR_SEL 0x28u /* any non-null selector: the guest never uses its TR */
#define EFLAGS_AFTER_EXIT 0x2u

static uint32_t page_dir[PAGE_DIR_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vmxon_region[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vmcs_a[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vmcs_bad[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));

/* The faulting instruction is at label 1, execution resumes at label 2
 * with the vector in ESI (guest/lib/runtime.c's fixup table). */
#define FIXUP ".pushsection .fixup_table, \"a\"\n .long 1b, 2b\n .popsection\n"

/* What a VMX instruction came to. */
struct outcome {
	int vector;	/* exception raised, 0 if none */
	uint32_t flags; /* EFLAGS after it */
};

static uint32_t read_cr0(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static int write_cr4_safe(uint32_t value)
{
	int vector = 0;
	__asm__ volatile("1: mov %1, %%cr4\n2:\n" FIXUP : "+S"(vector) : "r"(value) : "memory");
	return vector;
}

/* VMXON, VMPTRLD, VMCLEAR with a 64-bit memory operand. */
#define MEM_INSN(name, insn)                                                                       \
	static struct outcome name(uint64_t pa)                                                    \
	{                                                                                          \
		struct outcome o = { 0, 0 };                                                       \
		__asm__ volatile("1: " insn " %2\n2:\npushfl\npopl %1\n" FIXUP                     \
				 : "+S"(o.vector), "=r"(o.flags)                                   \
				 : "m"(pa)                                                         \
				 : "cc", "memory");                                                \
		return o;                                                                          \
	}
MEM_INSN(vmxon, "vmxon")
MEM_INSN(vmptrld, "vmptrld")
MEM_INSN(vmclear, "vmclear")

static struct outcome vmptrst(uint64_t *pa)
{
	struct outcome o = { 0, 0 };
	__asm__ volatile("1: vmptrst %2\n2:\npushfl\npopl %1\n" FIXUP
			 : "+S"(o.vector), "=r"(o.flags), "=m"(*pa)
			 :
			 : "cc", "memory");
	return o;
}

static struct outcome vmread(uint32_t field, uint32_t *value)
{
	struct outcome o = { 0, 0 };
	uint32_t v = 0;
	__asm__ volatile("1: vmread %3, %2\n2:\npushfl\npopl %1\n" FIXUP
			 : "+S"(o.vector), "=r"(o.flags), "+r"(v)
			 : "r"(field)
			 : "cc", "memory");
	*value = v;
	return o;
}

static struct outcome vmwrite(uint32_t field, uint32_t value)
{
	struct outcome o = { 0, 0 };
	__asm__ volatile("1: vmwrite %2, %3\n2:\npushfl\npopl %1\n" FIXUP
			 : "+S"(o.vector), "=r"(o.flags)
			 : "r"(value), "r"(field)
			 : "cc", "memory");
	return o;
}

static struct outcome no_operand(int which)
{
	struct outcome o = { 0, 0 };
	switch (which) {
	case 0:
		__asm__ volatile("1: vmlaunch\n2:\npushfl\npopl %1\n" FIXUP
				 : "+S"(o.vector), "=r"(o.flags)
				 :
				 : "cc", "memory");
		break;
	case 1:
		__asm__ volatile("1: vmresume\n2:\npushfl\npopl %1\n" FIXUP
				 : "+S"(o.vector), "=r"(o.flags)
				 :
				 : "cc", "memory");
		break;
	default:
		__asm__ volatile("1: vmxoff\n2:\npushfl\npopl %1\n" FIXUP
				 : "+S"(o.vector), "=r"(o.flags)
				 :
				 : "cc", "memory");
		break;
	}
	return o;
}
#define vmlaunch() no_operand(0)
#define vmresume() no_operand(1)
#define vmxoff() no_operand(2)

/* VMLAUNCH or VMRESUME with HOST_RSP and HOST_RIP set to come back right
 * here at the VM exit (a failed guest-state check, or the guest's exit):
 * landed is then 1. The stack pointer and EFLAGS after it are recorded.
 * The nested guest may change any general register but ESI and ESP. */
struct landing {
	int vector;
	uint32_t landed, flags, esp_before, esp_after;
	uint32_t eax; /* the nested guest's EAX at its exit */
};

#define ENTER_EXPECTING_EXIT(name, insn)                                                           \
	static struct landing name(void)                                                           \
	{                                                                                          \
		struct landing l = { 0, 0, 0, 0, 0, 0 };                                           \
		__asm__ volatile("movl %%esp, %[before]\n"                                         \
				 "movl $0x6c14, %%edx\n"                                           \
				 "vmwrite %%esp, %%edx\n"                                          \
				 "movl $0x6c16, %%edx\n"                                           \
				 "movl $3f, %%eax\n"                                               \
				 "vmwrite %%eax, %%edx\n"                                          \
				 "1: " insn "\n"                                                   \
				 "2: pushfl\n"                                                     \
				 "popl %[flags]\n"                                                 \
				 "jmp 4f\n"                                                        \
				 "3: movl %%eax, %[eax]\n"                                         \
				 "pushfl\n"                                                        \
				 "popl %[flags]\n"                                                 \
				 "movl $1, %[landed]\n"                                            \
				 "4: movl %%esp, %[after]\n" FIXUP                                 \
				 : "+S"(l.vector), [flags] "=m"(l.flags), [landed] "+m"(l.landed), \
				   [before] "=m"(l.esp_before), [after] "=m"(l.esp_after),         \
				   [eax] "=m"(l.eax)                                               \
				 :                                                                 \
				 : "eax", "ebx", "ecx", "edx", "edi", "cc", "memory");             \
		return l;                                                                          \
	}
ENTER_EXPECTING_EXIT(launch_expecting_exit, "vmlaunch")
ENTER_EXPECTING_EXIT(resume_expecting_exit, "vmresume")

struct inv_descriptor {
	uint64_t lo, hi;
};

static struct outcome invept(uint32_t type, const struct inv_descriptor *d)
{
	struct outcome o = { 0, 0 };
	__asm__ volatile("1: invept %2, %3\n2:\npushfl\npopl %1\n" FIXUP
			 : "+S"(o.vector), "=r"(o.flags)
			 : "m"(*d), "r"(type)
			 : "cc", "memory");
	return o;
}

static struct outcome invvpid(uint32_t type, const struct inv_descriptor *d)
{
	struct outcome o = { 0, 0 };
	__asm__ volatile("1: invvpid %2, %3\n2:\npushfl\npopl %1\n" FIXUP
			 : "+S"(o.vector), "=r"(o.flags)
			 : "m"(*d), "r"(type)
			 : "cc", "memory");
	return o;
}

/* "VMsucceed", "VMfailInvalid", "VMfailValid(N)" (N read from the
 * current VMCS) or "#UD"/"#GP"/"#N". */
static const char *describe(struct outcome o, char *buf)
{
	uint32_t err = 0;

	if (o.vector == VEC_UD)
		return "#UD";
	if (o.vector == VEC_GP)
		return "#GP";
	if (o.vector) {
		buf[0] = '#';
		buf[1] = (char)('0' + o.vector / 10);
		buf[2] = (char)('0' + o.vector % 10);
		buf[3] = '\0';
		return buf;
	}
	if (o.flags & EFLAGS_CF)
		return "VMfailInvalid";
	if (!(o.flags & EFLAGS_ZF))
		return "VMsucceed";
	vmread(F_VM_INSTRUCTION_ERROR, &err);
	const char *p = "VMfailValid(";
	unsigned i = 0;
	while (*p)
		buf[i++] = *p++;
	if (err >= 10)
		buf[i++] = (char)('0' + err / 10 % 10);
	buf[i++] = (char)('0' + err % 10);
	buf[i++] = ')';
	buf[i] = '\0';
	return buf;
}

static bool is_valid_fail(struct outcome o, uint32_t error)
{
	uint32_t err = 0;

	if (o.vector || (o.flags & EFLAGS_CF) || !(o.flags & EFLAGS_ZF))
		return false;
	vmread(F_VM_INSTRUCTION_ERROR, &err);
	return err == error;
}

static bool succeeded(struct outcome o)
{
	return !o.vector && !(o.flags & (EFLAGS_CF | EFLAGS_ZF));
}

static bool failed_invalid(struct outcome o)
{
	return !o.vector && (o.flags & EFLAGS_CF) && !(o.flags & EFLAGS_ZF);
}

/* Each expectation printed with what the instruction did. */
static void expect(struct outcome o, bool ok, const char *what, const char *want)
{
	char buf[24];

	check(ok, "%s: %s (want %s)", what, describe(o, buf), want);
}

static void check_hidden(void)
{
	uint64_t v = 0;

	check(!(cpuid(1).ecx & CPUID_1_ECX_VMX), "vmx absent: cpuid.1:ecx.vmx clear");
	int vec = rdmsr_safe(MSR_FEATURE_CONTROL, &v);
	check(vec == 0 && v == FEATURE_CONTROL_LOCKED,
	      "vmx absent: feature_control 0x%llx (locked, vmx off)", v);
	vec = rdmsr_safe(MSR_VMX_BASIC, &v);
	check(vec == VEC_GP, "vmx absent: rdmsr vmx_basic: vector %d", vec);
	vec = write_cr4_safe(read_cr4() | CR4_VMXE);
	check(vec == VEC_GP, "vmx absent: cr4.vmxe refused: vector %d", vec);
	struct outcome o = vmxon((uint32_t)vmxon_region);
	expect(o, o.vector == VEC_UD, "vmx absent: vmxon", "#UD");
}

static uint64_t caps_msr(uint32_t index)
{
	uint64_t v = 0;

	if (rdmsr_safe(index, &v))
		check(false, "rdmsr 0x%x faults", index);
	return v;
}

static void check_caps(void)
{
	uint64_t fc = caps_msr(MSR_FEATURE_CONTROL);
	check(fc == (FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX),
	      "feature_control 0x%llx: locked, vmx outside smx", fc);
	uint64_t basic = caps_msr(MSR_VMX_BASIC);
	check(BASIC_REGION_SIZE(basic) == PAGE_SIZE, "vmx_basic 0x%llx: revision 0x%x, region %u",
	      basic, (unsigned)(basic & BASIC_REVISION_MASK), (unsigned)BASIC_REGION_SIZE(basic));
	static const uint32_t ctls[] = { MSR_VMX_PINBASED,	MSR_VMX_PINBASED + 1,
					 MSR_VMX_PINBASED + 2,	MSR_VMX_PINBASED + 3,
					 MSR_VMX_TRUE_PINBASED, MSR_VMX_TRUE_PROCBASED,
					 MSR_VMX_TRUE_EXIT,	MSR_VMX_TRUE_ENTRY,
					 MSR_VMX_PROCBASED2 };
	unsigned consistent = 0;
	for (unsigned i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		uint64_t v = caps_msr(ctls[i]);
		if (!((uint32_t)v & ~(uint32_t)(v >> 32)))
			consistent++;
		else
			check(false, "msr 0x%x = 0x%llx: allowed-0 outside allowed-1", ctls[i], v);
	}
	check(consistent == sizeof(ctls) / sizeof(ctls[0]),
	      "control msrs: allowed-0 within allowed-1 in all %u", consistent);
	uint64_t misc = caps_msr(MSR_VMX_MISC);
	check(!(misc & MISC_VMWRITE_ALL), "vmx_misc 0x%llx: exit-information fields read-only",
	      misc);
	uint32_t may2 = (uint32_t)(caps_msr(MSR_VMX_PROCBASED2) >> 32);
	uint64_t vmfunc = 0;
	int vec = rdmsr_safe(MSR_VMX_VMFUNC, &vmfunc);
	check((vec == 0) == !!(may2 & PROC2_VMFUNC), "vmx_vmfunc present iff vm functions: %s",
	      vec ? "#GP" : "present");
	/* The features the profile shows (the test compares them). */
	printf("vmxtest: profile features: shadowing %u pml %u vmfunc %u\n",
	       !!(may2 & PROC2_SHADOWING), !!(may2 & PROC2_PML), !!(may2 & PROC2_VMFUNC));
}

/* CR0.PG and CR0.NE (IA32_VMX_CR0_FIXED0) on a 4 MiB identity map. */
static void enable_paging(void)
{
	for (uint32_t i = 0; i < PAGE_DIR_ENTRIES; i++)
		page_dir[i] = (i << 22) | PDE_4M_RW;
	__asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
	__asm__ volatile("mov %0, %%cr4" : : "r"(read_cr4() | CR4_PSE) : "memory");
	__asm__ volatile("mov %0, %%cr0" : : "r"(read_cr0() | CR0_PG | CR0_NE) : "memory");
}

static uint32_t read_cr3(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

struct table_reg {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* The host-state area: this program's own registers, so that a VM exit
 * comes back to it. */
static void write_host_state(void)
{
	struct table_reg gdtr, idtr;
	uint16_t cs, ss, ds, es, fs, gs;

	__asm__ volatile("sgdt %0\n sidt %1" : "=m"(gdtr), "=m"(idtr));
	__asm__ volatile("mov %%cs, %0\n mov %%ss, %1\n mov %%ds, %2"
			 : "=r"(cs), "=r"(ss), "=r"(ds));
	__asm__ volatile("mov %%es, %0\n mov %%fs, %1\n mov %%gs, %2"
			 : "=r"(es), "=r"(fs), "=r"(gs));
	vmwrite(F_HOST_CR0, read_cr0());
	vmwrite(F_HOST_CR3, read_cr3());
	vmwrite(F_HOST_CR4, read_cr4());
	vmwrite(F_HOST_CS_SEL, cs);
	vmwrite(F_HOST_SS_SEL, ss);
	vmwrite(F_HOST_DS_SEL, ds);
	vmwrite(F_HOST_ES_SEL, es);
	vmwrite(F_HOST_FS_SEL, fs);
	vmwrite(F_HOST_GS_SEL, gs);
	vmwrite(F_HOST_TR_SEL, HOST_TR_SEL);
	vmwrite(F_HOST_GDTR_BASE, gdtr.base);
	vmwrite(F_HOST_IDTR_BASE, idtr.base);
}

/* The VM-entry failure on the guest state, as the exit it is: this
 * program resumes at HOST_RIP with HOST_RSP, EFLAGS 0x2, and the exit
 * reason and qualification in the VMCS. */
static void check_entry_failure(const char *what, uint32_t qualification)
{
	uint32_t reason = 0, qual = ~0u;
	struct landing l = launch_expecting_exit();

	vmread(F_EXIT_REASON, &reason);
	vmread(F_EXIT_QUALIFICATION, &qual);
	check(l.vector == 0 && l.landed && reason == EXIT_ENTRY_FAIL_GUEST_STATE &&
		      qual == qualification,
	      "vmlaunch %s: vm exit to host rip, reason 0x%x, qualification %u", what, reason,
	      qual);
	check(l.landed && l.esp_after == l.esp_before && l.flags == EFLAGS_AFTER_EXIT,
	      "vmlaunch %s: esp as host rsp %s, eflags 0x%x", what,
	      l.esp_after == l.esp_before ? "yes" : "no", l.flags);
}

#define SEGMENTS 8 /* ES CS SS DS FS GS LDTR TR, in encoding order */
#define SEG_LDTR 6
#define SEG_TR 7
#define AR_CODE 0xc09bu
#define AR_DATA 0xc093u
#define AR_TSS_BUSY 0x8bu
#define AR_UNUSABLE 0x10000u
#define LIMIT_FLAT 0xffffffffu
#define LIMIT_TSS 0x67u
#define DR7_INIT 0x400u
#define L2_STACK_BYTES 1024

static uint8_t l2_stack[L2_STACK_BYTES] __attribute__((aligned(16)));

/* The nested guest: CPUID (its guest hypervisor takes the exit), a line
 * on COM1 (it does not: pgvisor's UART gets it), a read past its VM's
 * RAM (pgvisor's EPT answers it: all-ones), HLT (taken again). */
extern const char l2_code[], l2_hlt[];
#define L2_OUTSIDE_RAM "0x800000" /* the VM has 4 MiB */
#define UNBACKED_READ 0xffffffffu
__asm__(".text\n"
	"l2_code:\n"
	"cpuid\n"
	"movl $l2_message, %edi\n"
	"movw $0x3f8, %dx\n"
	"5: movb (%edi), %al\n"
	"testb %al, %al\n"
	"jz 6f\n"
	"outb %al, %dx\n"
	"incl %edi\n"
	"jmp 5b\n"
	"6: movl $" L2_OUTSIDE_RAM ", %edi\n"
	"movl (%edi), %eax\n"
	"l2_hlt:\n"
	"hlt\n"
	"jmp l2_hlt\n"
	".section .rodata\n"
	"l2_message: .asciz \"l2: hello from the nested guest\\n\"\n"
	".text\n");

/* A nested guest that reads CR4 into EAX and halts. */
extern const char l2_read_cr4[];
__asm__(".text\n"
	"l2_read_cr4:\n"
	"movl %cr4, %eax\n"
	"hlt\n");

/* The nested guest under this program's EPT (ept_code): each access
 * goes to one of the pages below, which ept_build maps specially; what
 * it reads lands in ept_seen. */
#define EPT_MARKER_1 0x11111111u
#define EPT_MARKER_2 0x22222222u
#define EPT_MARKER_ABSENT 0x33333333u
#define EPT_WRITTEN 0x1234u
#define EPT_OUTSIDE_L1 0x800000u /* the L1-physical page "outside": past the VM's 4 MiB */
#define EPT_RWX 7ull
#define EPT_R 1ull
#define EPT_W_ONLY 2ull /* write without read: a misconfiguration */
#define EPT_WB (6ull << 3)
#define EPT_LARGE (1ull << 7)
#define EPTP_WB_4LEVEL (6u | (3u << 3))
/* Violation qualification (SDM table 28-7): access 2:0, L1's permissions
 * 5:3, linear address valid (7) and of the translated access (8). */
#define QUAL_LOW_BITS 0x1ffu
#define QUAL_WRITE_TO_READ_ONLY (2u | (1u << 3) | (3u << 7))
#define QUAL_READ_NOT_PRESENT (1u | (3u << 7))
static uint64_t ept_pml4[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pd[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pt[512] __attribute__((aligned(PAGE_SIZE)));
static uint32_t ept_target1[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
static uint32_t ept_target2[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_alias[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_readonly[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_absent[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_misconf[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_outside[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
uint32_t ept_seen[4];
extern const char ept_code[], ept_hlt[];
__asm__(".text\n"
	"ept_code:\n"
	"movl ept_alias, %eax\n"
	"movl %eax, ept_seen\n"
	"cpuid\n" /* this program moves ept_alias, with INVEPT */
	"movl ept_alias, %eax\n"
	"movl %eax, ept_seen+4\n"
	"movl $0x1234, ept_readonly\n" /* violation: read-only */
	"movl ept_absent, %eax\n"      /* violation: not present */
	"movl %eax, ept_seen+8\n"
	"movl ept_misconf, %eax\n" /* misconfiguration */
	"movl ept_outside, %eax\n"
	"movl %eax, ept_seen+12\n"
	"ept_hlt:\n"
	"hlt\n"
	"jmp ept_hlt\n");

static uint64_t *ept_pte(const void *page)
{
	return &ept_pt[((uint32_t)page >> 12) & 511];
}

/* L2-physical = L1-physical for the first 4 MiB (4 KiB pages below 2 MiB,
 * one 2 MiB page above), but for the pages the nested guest probes. */
static void ept_build(void)
{
	ept_pml4[0] = (uint32_t)ept_pdpt | EPT_RWX;
	ept_pdpt[0] = (uint32_t)ept_pd | EPT_RWX;
	ept_pd[0] = (uint32_t)ept_pt | EPT_RWX;
	ept_pd[1] = 0x200000u | EPT_LARGE | EPT_WB | EPT_RWX;
	for (uint32_t i = 0; i < 512; i++)
		ept_pt[i] = (i << 12) | EPT_WB | EPT_RWX;
	ept_target1[0] = EPT_MARKER_1;
	ept_target2[0] = EPT_MARKER_2;
	ept_absent[0] = EPT_MARKER_ABSENT;
	*ept_pte(ept_alias) = (uint32_t)ept_target1 | EPT_WB | EPT_RWX;
	*ept_pte(ept_readonly) = (uint32_t)ept_readonly | EPT_WB | EPT_R;
	*ept_pte(ept_absent) = 0;
	*ept_pte(ept_misconf) = (uint32_t)ept_misconf | EPT_WB | EPT_W_ONLY;
	*ept_pte(ept_outside) = EPT_OUTSIDE_L1 | EPT_WB | EPT_R;
}

/* The guest state: a copy of this program's own (flat segments, its CR0,
 * CR3, CR4, GDT and IDT), starting at l2_code. */
static void write_guest_state(void)
{
	struct table_reg gdtr, idtr;
	uint16_t sel[SEGMENTS];

	__asm__ volatile("sgdt %0\n sidt %1" : "=m"(gdtr), "=m"(idtr));
	__asm__ volatile("mov %%es, %0\n mov %%cs, %1\n mov %%ss, %2"
			 : "=r"(sel[0]), "=r"(sel[1]), "=r"(sel[2]));
	__asm__ volatile("mov %%ds, %0\n mov %%fs, %1\n mov %%gs, %2"
			 : "=r"(sel[3]), "=r"(sel[4]), "=r"(sel[5]));
	sel[SEG_LDTR] = 0;
	sel[SEG_TR] = HOST_TR_SEL;
	for (unsigned i = 0; i < SEGMENTS; i++) {
		uint32_t ar = i == 1 ? AR_CODE : AR_DATA;
		if (i == SEG_TR)
			ar = AR_TSS_BUSY;
		else if (!sel[i])
			ar = AR_UNUSABLE;
		vmwrite(F_GUEST_ES_SEL + 2 * i, sel[i]);
		vmwrite(F_GUEST_ES_LIMIT + 2 * i, i == SEG_TR ? LIMIT_TSS : LIMIT_FLAT);
		vmwrite(F_GUEST_ES_AR + 2 * i, ar);
		vmwrite(F_GUEST_ES_BASE + 2 * i, 0);
	}
	vmwrite(F_GUEST_GDTR_BASE, gdtr.base);
	vmwrite(F_GUEST_GDTR_LIMIT, gdtr.limit);
	vmwrite(F_GUEST_IDTR_BASE, idtr.base);
	vmwrite(F_GUEST_IDTR_LIMIT, idtr.limit);
	vmwrite(F_GUEST_CR0, read_cr0());
	vmwrite(F_GUEST_CR3, read_cr3());
	vmwrite(F_GUEST_CR4, read_cr4());
	vmwrite(F_GUEST_DR7, DR7_INIT);
	vmwrite(F_GUEST_RSP, (uint32_t)(l2_stack + L2_STACK_BYTES));
	vmwrite(F_GUEST_RIP, (uint32_t)l2_code);
	vmwrite(F_GUEST_RFLAGS, EFLAGS_AFTER_EXIT);
	vmwrite(F_LINK_POINTER, ~0u);
	vmwrite(F_LINK_POINTER + 1, ~0u);
}

static uint32_t control(uint32_t msr)
{
	return (uint32_t)caps_msr(msr); /* the allowed-0 settings: every must-be-1 bit */
}

static void check_instructions(void)
{
	uint32_t rev = (uint32_t)caps_msr(MSR_VMX_BASIC) & BASIC_REVISION_MASK;
	uint64_t pa_vmxon = (uint32_t)vmxon_region, pa_a = (uint32_t)vmcs_a;
	uint64_t pa_bad = (uint32_t)vmcs_bad, stored = 0;
	uint32_t value = 0;
	struct outcome o;

	vmxon_region[0] = rev;
	vmcs_a[0] = rev;
	vmcs_bad[0] = rev ^ 1;

	o = vmxon(pa_vmxon);
	expect(o, o.vector == VEC_UD, "vmxon without cr4.vmxe", "#UD");
	check(write_cr4_safe(read_cr4() | CR4_VMXE) == 0, "cr4.vmxe set");
	o = vmxon(pa_bad);
	expect(o, failed_invalid(o), "vmxon with a bad revision", "VMfailInvalid");
	o = vmxon(pa_vmxon + 8);
	expect(o, failed_invalid(o), "vmxon of an unaligned region", "VMfailInvalid");
	o = vmxon(pa_vmxon);
	expect(o, succeeded(o), "vmxon", "VMsucceed");
	o = vmxon(pa_vmxon);
	expect(o, failed_invalid(o), "vmxon twice, no current vmcs", "VMfailInvalid");
	o = vmread(F_GUEST_RIP, &value);
	expect(o, failed_invalid(o), "vmread without a current vmcs", "VMfailInvalid");
	check(write_cr4_safe(read_cr4() & ~CR4_VMXE) == VEC_GP,
	      "cr4.vmxe clear in vmx operation: #GP");

	o = vmptrld(pa_a);
	expect(o, succeeded(o), "vmptrld", "VMsucceed");
	o = vmxon(pa_vmxon);
	expect(o, is_valid_fail(o, ERR_VMXON_IN_ROOT), "vmxon twice", "VMfailValid(15)");
	o = vmptrld(pa_vmxon);
	expect(o, is_valid_fail(o, ERR_VMPTRLD_VMXON), "vmptrld of the vmxon region",
	       "VMfailValid(10)");
	o = vmptrld(pa_bad);
	expect(o, is_valid_fail(o, ERR_VMPTRLD_REVISION), "vmptrld with a bad revision",
	       "VMfailValid(11)");
	o = vmptrld(pa_a + 0x10);
	expect(o, is_valid_fail(o, ERR_VMPTRLD_INVALID), "vmptrld of an unaligned address",
	       "VMfailValid(9)");
	o = vmread(F_UNSUPPORTED, &value);
	expect(o, is_valid_fail(o, ERR_UNSUPPORTED_FIELD), "vmread of an unsupported field",
	       "VMfailValid(12)");
	o = vmwrite(F_EXIT_REASON, 1);
	expect(o, is_valid_fail(o, ERR_READ_ONLY_FIELD), "vmwrite of a read-only field",
	       "VMfailValid(13)");
	o = vmwrite(F_GUEST_RIP, 0x12345678);
	expect(o, succeeded(o), "vmwrite guest rip", "VMsucceed");
	o = vmwrite(F_VPID, 0x12345);
	o = vmread(F_VPID, &value);
	check(succeeded(o) && value == 0x2345, "vmwrite of 0x12345 to a 16-bit field reads 0x%x",
	      value);
	o = vmwrite(F_IO_BITMAP_A + 1, 0xabc);
	o = vmread(F_IO_BITMAP_A + 1, &value);
	check(succeeded(o) && value == 0xabc, "high half of a 64-bit field: 0x%x", value);
	o = vmptrst(&stored);
	check(succeeded(o) && stored == pa_a, "vmptrst: 0x%llx", stored);
	o = vmresume();
	expect(o, is_valid_fail(o, ERR_VMRESUME_NONLAUNCHED), "vmresume of a non-launched vmcs",
	       "VMfailValid(5)");
	o = vmclear(pa_vmxon);
	expect(o, is_valid_fail(o, ERR_VMCLEAR_VMXON), "vmclear of the vmxon region",
	       "VMfailValid(3)");

	o = vmclear(pa_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
	o = vmptrst(&stored);
	check(succeeded(o) && stored == ~0ull, "vmptrst after vmclear: 0x%llx", stored);
	o = vmread(F_GUEST_RIP, &value);
	expect(o, failed_invalid(o), "vmread after vmclear", "VMfailInvalid");
	o = vmptrld(pa_a);
	o = vmread(F_GUEST_RIP, &value);
	check(succeeded(o) && value == 0x12345678, "vmcs kept across vmclear: guest rip 0x%x",
	      value);

	/* A VMCS with no controls set: the must-be-1 controls are missing. */
	o = vmlaunch();
	expect(o, is_valid_fail(o, ERR_INVALID_CONTROLS), "vmlaunch with invalid controls",
	       "VMfailValid(7)");
	/* Valid controls, host state all 0 (CR0 lacks PE, PG, NE). */
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
	vmwrite(F_PROC, control(MSR_VMX_TRUE_PROCBASED));
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT));
	vmwrite(F_ENTRY, control(MSR_VMX_TRUE_ENTRY));
	o = vmlaunch();
	expect(o, is_valid_fail(o, ERR_INVALID_HOST_STATE), "vmlaunch with invalid host state",
	       "VMfailValid(8)");
	vmwrite(F_HOST_CR0, read_cr0());
	vmwrite(F_HOST_CR4, read_cr4());
	vmwrite(F_HOST_CS_SEL, 0x08);
	vmwrite(F_HOST_SS_SEL, 0x10);
	o = vmlaunch();
	expect(o, is_valid_fail(o, ERR_INVALID_HOST_STATE), "vmlaunch with host tr 0",
	       "VMfailValid(8)");

	/* A valid host state; the guest state all 0 but the link pointer
	 * (CR0 lacks PE, NE, PG): the entry fails as a VM exit. */
	write_host_state();
	vmwrite(F_LINK_POINTER, ~0u);
	vmwrite(F_LINK_POINTER + 1, ~0u);
	check_entry_failure("with invalid guest state", 0);
	vmwrite(F_LINK_POINTER, 0);
	vmwrite(F_LINK_POINTER + 1, 0);
	check_entry_failure("with a bad link pointer", QUAL_LINK_POINTER);
	o = vmresume();
	expect(o, is_valid_fail(o, ERR_VMRESUME_NONLAUNCHED), "vmresume after a failed vmlaunch",
	       "VMfailValid(5)");

	uint64_t ept = caps_msr(MSR_VMX_EPT_VPID_CAP);
	struct inv_descriptor d = { 0, 0 };
	if (ept & EPT_CAP_INVEPT) {
		o = invept(3, &d);
		expect(o, is_valid_fail(o, ERR_INVEPT_INVVPID), "invept type 3", "VMfailValid(28)");
		o = invept(2, &d);
		expect(o, succeeded(o), "invept all contexts", "VMsucceed");
	}
	if (ept & VPID_CAP_INVVPID) {
		o = invvpid(1, &d);
		expect(o, is_valid_fail(o, ERR_INVEPT_INVVPID), "invvpid single context of vpid 0",
		       "VMfailValid(28)");
		d.lo = 1;
		o = invvpid(1, &d);
		expect(o, succeeded(o), "invvpid single context of vpid 1", "VMsucceed");
	}

	o = vmxoff();
	expect(o, succeeded(o), "vmxoff", "VMsucceed");
	o = vmread(F_GUEST_RIP, &value);
	expect(o, o.vector == VEC_UD, "vmread after vmxoff", "#UD");
	check(write_cr4_safe(read_cr4() & ~CR4_VMXE) == 0, "cr4.vmxe clear after vmxoff");
}

/* The exit the nested guest under EPT came back with. */
struct ept_exit {
	uint32_t reason, qual, gpa, linear, rip;
};

static struct ept_exit ept_exit_read(void)
{
	struct ept_exit e = { 0, 0, 0, 0, 0 };

	vmread(F_EXIT_REASON, &e.reason);
	vmread(F_EXIT_QUALIFICATION, &e.qual);
	vmread(F_GUEST_PHYSICAL_ADDRESS, &e.gpa);
	vmread(F_GUEST_LINEAR_ADDRESS, &e.linear);
	vmread(F_GUEST_RIP, &e.rip);
	return e;
}

static void ept_invalidate(uint32_t type)
{
	struct inv_descriptor d = { (uint32_t)ept_pml4 | EPTP_WB_4LEVEL, 0 };
	struct outcome o = invept(type, &d);

	expect(o, succeeded(o), type == 1 ? "invept single context" : "invept all contexts",
	       "VMsucceed");
}

/* ept_code under this program's EPT: each of its exits checked, the
 * tables changed, the guest resumed. */
static void run_ept_guest(void)
{
	bool single = caps_msr(MSR_VMX_EPT_VPID_CAP) & EPT_CAP_INVEPT_SINGLE;
	uint32_t len = 0;
	struct outcome o = vmptrld((uint32_t)vmcs_a);

	expect(o, succeeded(o), "vmptrld for a nested guest under ept", "VMsucceed");
	ept_build();
	vmwrite(F_PROC,
		control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING | PROC_ACTIVATE_SECONDARY);
	vmwrite(F_PROC2, control(MSR_VMX_PROCBASED2) | PROC2_ENABLE_EPT);
	vmwrite(F_EPT_POINTER, (uint32_t)ept_pml4 | EPTP_WB_4LEVEL);
	vmwrite(F_EPT_POINTER + 1, 0);
	vmwrite(F_GUEST_RIP, (uint32_t)ept_code);
	printf("vmxtest: launching a nested guest under ept\n");
	console_flush();

	struct landing l = launch_expecting_exit();
	struct ept_exit e = ept_exit_read();
	check(l.landed && e.reason == EXIT_REASON_CPUID && ept_seen[0] == EPT_MARKER_1,
	      "ept: nested guest's read through a moved page: 0x%x, then cpuid exit %u",
	      ept_seen[0], e.reason);
	*ept_pte(ept_alias) = (uint32_t)ept_target2 | EPT_WB | EPT_RWX;
	ept_invalidate(single ? 1 : 2);
	vmread(F_EXIT_INSTRUCTION_LEN, &len);
	vmwrite(F_GUEST_RIP, e.rip + len);

	l = resume_expecting_exit();
	e = ept_exit_read();
	check(l.landed && ept_seen[1] == EPT_MARKER_2,
	      "ept: the page moved again after invept: 0x%x", ept_seen[1]);
	check(l.landed && e.reason == EXIT_REASON_EPT_VIOLATION &&
		      (e.qual & QUAL_LOW_BITS) == QUAL_WRITE_TO_READ_ONLY &&
		      e.gpa == (uint32_t)ept_readonly && e.linear == (uint32_t)ept_readonly,
	      "ept: write to a read-only page: exit %u, qualification 0x%x, "
	      "guest-physical %s, linear %s",
	      e.reason, e.qual & QUAL_LOW_BITS, e.gpa == (uint32_t)ept_readonly ? "right" : "wrong",
	      e.linear == (uint32_t)ept_readonly ? "right" : "wrong");
	*ept_pte(ept_readonly) |= EPT_RWX;
	ept_invalidate(2);

	l = resume_expecting_exit(); /* the write again, then the absent page */
	e = ept_exit_read();
	check(l.landed && e.reason == EXIT_REASON_EPT_VIOLATION &&
		      (e.qual & QUAL_LOW_BITS) == QUAL_READ_NOT_PRESENT &&
		      e.gpa == (uint32_t)ept_absent && ept_readonly[0] == EPT_WRITTEN,
	      "ept: read of a page not present: exit %u, qualification 0x%x, guest-physical %s; "
	      "the write went through once allowed: 0x%x",
	      e.reason, e.qual & QUAL_LOW_BITS, e.gpa == (uint32_t)ept_absent ? "right" : "wrong",
	      ept_readonly[0]);
	*ept_pte(ept_absent) = (uint32_t)ept_absent | EPT_WB | EPT_RWX; /* no INVEPT needed */

	l = resume_expecting_exit();
	e = ept_exit_read();
	check(l.landed && e.reason == EXIT_REASON_EPT_MISCONFIG && e.gpa == (uint32_t)ept_misconf &&
		      ept_seen[2] == EPT_MARKER_ABSENT,
	      "ept: write-only entry: exit %u, guest-physical %s; the page once present: 0x%x",
	      e.reason, e.gpa == (uint32_t)ept_misconf ? "right" : "wrong", ept_seen[2]);
	*ept_pte(ept_misconf) = (uint32_t)ept_misconf | EPT_WB | EPT_RWX;
	ept_invalidate(2);

	l = resume_expecting_exit();
	e = ept_exit_read();
	check(l.landed && e.reason == EXIT_REASON_HLT && e.rip == (uint32_t)ept_hlt,
	      "ept: nested guest's hlt: exit %u, at its hlt %s", e.reason,
	      e.rip == (uint32_t)ept_hlt ? "yes" : "no");
	check(ept_seen[3] == UNBACKED_READ, "ept: read of a page mapped outside the vm: 0x%x",
	      ept_seen[3]);
	o = vmclear((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
}

/* VPID (SDM 29.1): nested guests under two of this program's VPIDs, each
 * with its own page tables (CR3) for one linear address, VPID_PROBE, which
 * nothing else touches: each must see its own page, alternating, as
 * translations tagged with one VPID are never used under another; after
 * this program points one VPID's tables at another page and invalidates
 * with INVVPID of each type, the nested guest under that VPID must see
 * the new page. In pgvisor each of this program's VPIDs has a host VPID
 * of its own: were two to share one without flushes, or an INVVPID not
 * reach the right one, the CPU's cached translation would show the wrong
 * page (the run before each change leaves that VPID's translation of
 * VPID_PROBE the last one made). Eviction: with VPID_EVICT_RUNS more
 * VPIDs run, pgvisor's map gives a new VPID the host VPID of one that
 * cached the probe's old page (VPID 2's), flushed first. */
#define PROC2_ENABLE_VPID (1u << 5)
#define VPID_CAP_INVVPID_TYPE0 40 /* bits 40-43: the four types */
#define INVVPID_ADDRESS 0u
#define INVVPID_SINGLE 1u
#define INVVPID_ALL 2u
#define INVVPID_SINGLE_GLOBALS 3u
#define VPID_PROBE 0x40abc000u /* an unusual TLB index: bits 21:12 = 0xbc */
#define VPID_PROBE_PDE (VPID_PROBE >> 22)
#define VPID_PROBE_PTE ((VPID_PROBE >> 12) & 1023u)
#define PTE_RW 3u /* present, writable */
#define VPID_PAGES 4
#define VPID_MARKER(i) (0x7e000000u + (i))
#define VPID_NO_PAGE 9u /* what vpid_page_seen says for anything else */
#define VPID_A 1u
#define VPID_B 2u
#define VPID_EVICT_FIRST 0x10u
#define VPID_EVICT_RUNS 7u /* VPIDs run without the probe: the map fills up */
static uint32_t vpid_dir[2][PAGE_DIR_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vpid_pt[2][PAGE_DIR_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vpid_page[VPID_PAGES][PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
extern const char vpid_probe_code[], vpid_idle_code[];
__asm__(".text\n"
	"vpid_probe_code:\n"
	"movl 0x40abc000, %eax\n"
	"hlt\n"
	"vpid_idle_code:\n"
	"hlt\n");

/* Table t (0 or 1) maps VPID_PROBE to vpid_page[page]. */
static void vpid_point(unsigned t, unsigned page)
{
	vpid_pt[t][VPID_PROBE_PTE] = (uint32_t)vpid_page[page] | PTE_RW;
}

/* The page a marker names, VPID_NO_PAGE for anything else. */
static unsigned vpid_page_seen(uint32_t v)
{
	return v >= VPID_MARKER(0) && v < VPID_MARKER(VPID_PAGES) ? v - VPID_MARKER(0)
								  : VPID_NO_PAGE;
}

static bool vpid_launched;

/* The nested guest under VPID vpid with table t's directory, probing
 * VPID_PROBE (else only halting): the page it saw, VPID_NO_PAGE if it
 * did not come back at its HLT. */
static unsigned vpid_run(uint32_t vpid, unsigned t, bool probe)
{
	uint32_t reason = 0;

	vmwrite(F_VPID, vpid);
	vmwrite(F_GUEST_CR3, (uint32_t)vpid_dir[t]);
	vmwrite(F_GUEST_RIP, (uint32_t)(probe ? vpid_probe_code : vpid_idle_code));
	struct landing l = vpid_launched ? resume_expecting_exit() : launch_expecting_exit();
	vpid_launched = true;
	vmread(F_EXIT_REASON, &reason);
	if (!l.landed || reason != EXIT_REASON_HLT)
		return VPID_NO_PAGE;
	return probe ? vpid_page_seen(l.eax) : 0;
}

/* INVVPID of type for vpid (VPID_PROBE the address of type 0); the
 * wider single-context where the virtual CPU lacks the type. */
static void vpid_invalidate(uint32_t type, uint32_t vpid)
{
	struct inv_descriptor d = { vpid, VPID_PROBE };

	if (!(caps_msr(MSR_VMX_EPT_VPID_CAP) >> (VPID_CAP_INVVPID_TYPE0 + type) & 1))
		type = INVVPID_SINGLE;
	struct outcome o = invvpid(type, &d);
	expect(o, succeeded(o), "invvpid of a nested guest's vpid", "VMsucceed");
}

static void run_vpid_guests(void)
{
	struct outcome o = vmptrld((uint32_t)vmcs_a);
	unsigned seen[6];

	expect(o, succeeded(o), "vmptrld for nested guests with vpids", "VMsucceed");
	for (unsigned t = 0; t < 2; t++) {
		for (uint32_t i = 0; i < PAGE_DIR_ENTRIES; i++)
			vpid_dir[t][i] = page_dir[i];
		vpid_dir[t][VPID_PROBE_PDE] = (uint32_t)vpid_pt[t] | PTE_RW;
	}
	for (unsigned i = 0; i < VPID_PAGES; i++)
		vpid_page[i][0] = VPID_MARKER(i);
	vpid_point(0, 0);
	vpid_point(1, 1);
	vmwrite(F_PROC,
		control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING | PROC_ACTIVATE_SECONDARY);
	vmwrite(F_PROC2, control(MSR_VMX_PROCBASED2) | PROC2_ENABLE_VPID);
	vpid_launched = false;

	/* Alternating, ending with A: A's translation the last made. */
	for (unsigned k = 0; k < 5; k++)
		seen[k] = vpid_run(k % 2 ? VPID_B : VPID_A, k % 2, true);
	check(seen[0] == 0 && seen[1] == 1 && seen[2] == 0 && seen[3] == 1 && seen[4] == 0,
	      "vpid: vpids 1 and 2, their own tables for one address, alternating: pages %u %u "
	      "%u %u %u",
	      seen[0], seen[1], seen[2], seen[3], seen[4]);
	/* A's page moved: individual-address INVVPID of A. */
	vpid_point(0, 2);
	vpid_invalidate(INVVPID_ADDRESS, VPID_A);
	seen[0] = vpid_run(VPID_A, 0, true);
	seen[1] = vpid_run(VPID_B, 1, true);
	check(seen[0] == 2 && seen[1] == 1,
	      "vpid: vpid 1's page moved, individual-address invvpid: vpid 1 sees page %u, vpid 2 "
	      "page %u",
	      seen[0], seen[1]);
	/* B's page moved: single-context INVVPID of B. */
	vpid_point(1, 3);
	vpid_invalidate(INVVPID_SINGLE, VPID_B);
	seen[0] = vpid_run(VPID_B, 1, true);
	seen[1] = vpid_run(VPID_A, 0, true);
	check(seen[0] == 3 && seen[1] == 2,
	      "vpid: vpid 2's page moved, single-context invvpid: vpid 2 sees page %u, vpid 1 "
	      "page %u",
	      seen[0], seen[1]);
	/* Both moved: all-context INVVPID. */
	vpid_point(0, 0);
	vpid_point(1, 2);
	vpid_invalidate(INVVPID_ALL, 0);
	seen[0] = vpid_run(VPID_A, 0, true);
	seen[1] = vpid_run(VPID_B, 1, true);
	check(seen[0] == 0 && seen[1] == 2,
	      "vpid: both pages moved, all-context invvpid: vpid 1 sees page %u, vpid 2 page %u",
	      seen[0], seen[1]);
	/* B's moved: single-context INVVPID keeping globals (none here). */
	vpid_point(1, 1);
	vpid_invalidate(INVVPID_SINGLE_GLOBALS, VPID_B);
	seen[0] = vpid_run(VPID_B, 1, true);
	check(seen[0] == 1,
	      "vpid: vpid 2's page moved, single-context invvpid keeping globals: page %u",
	      seen[0]);
	/* More VPIDs than pgvisor keeps at once: a new one under table 0
	 * (page 0) after B cached page 1, then B again. */
	unsigned idle = 0;
	for (uint32_t i = 0; i < VPID_EVICT_RUNS; i++)
		idle += vpid_run(VPID_EVICT_FIRST + i, 0, false) == 0;
	seen[0] = vpid_run(VPID_EVICT_FIRST + VPID_EVICT_RUNS, 0, true);
	seen[1] = vpid_run(VPID_B, 1, true);
	check(idle == VPID_EVICT_RUNS && seen[0] == 0 && seen[1] == 1,
	      "vpid: %u more vpids, then a new one sees page %u, vpid 2 page %u", idle + 1, seen[0],
	      seen[1]);
	vmwrite(F_GUEST_CR3, read_cr3()); /* as the nested guests after this one expect */
	o = vmclear((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
}

/* The nested guest that would spin for a while, then halt. */
extern const char spin_code[];
__asm__(".text\n"
	"spin_code:\n"
	"movl $1000000, %ecx\n"
	"7: loop 7b\n"
	"hlt\n");

/* The real-mode nested guest, copied to REAL_CODE_BASE. */
extern const char real_code[], real_code_end[];
__asm__(".text\n"
	".code16\n"
	"real_code:\n"
	"movw $0x1234, %ax\n"
	"hlt\n"
	"real_code_end:\n"
	".code32\n");

/* Unrestricted guest (with this program's EPT, which it needs): a nested
 * guest with CR0.PE and PG clear, real-mode segments, runs to its HLT. */
static void run_real_mode_guest(void)
{
	uint32_t reason = 0, rip = ~0u;
	struct outcome o = vmptrld((uint32_t)vmcs_a);

	expect(o, succeeded(o), "vmptrld for a real-mode nested guest", "VMsucceed");
	memcpy((void *)REAL_CODE_BASE, real_code, (uint32_t)(real_code_end - real_code));
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
	vmwrite(F_PROC,
		control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING | PROC_ACTIVATE_SECONDARY);
	vmwrite(F_PROC2, control(MSR_VMX_PROCBASED2) | PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT));
	vmwrite(F_GUEST_CR0, read_cr0() & ~(CR0_PE | CR0_PG));
	for (unsigned i = 0; i < 6; i++) { /* ES CS SS DS FS GS */
		vmwrite(F_GUEST_ES_SEL + 2 * i, i == 1 ? REAL_CODE_SEL : 0);
		vmwrite(F_GUEST_ES_LIMIT + 2 * i, LIMIT_REAL);
		vmwrite(F_GUEST_ES_AR + 2 * i, i == 1 ? AR_REAL_CODE : AR_REAL_DATA);
		vmwrite(F_GUEST_ES_BASE + 2 * i, i == 1 ? REAL_CODE_BASE : 0);
	}
	vmwrite(F_GUEST_IDTR_BASE, 0);
	vmwrite(F_GUEST_IDTR_LIMIT, IVT_LIMIT);
	vmwrite(F_GUEST_RIP, 0);
	vmwrite(F_GUEST_RSP, REAL_STACK);
	vmwrite(F_GUEST_RFLAGS, EFLAGS_AFTER_EXIT);

	struct landing l = launch_expecting_exit();
	vmread(F_EXIT_REASON, &reason);
	vmread(F_GUEST_RIP, &rip);
	check(l.landed && reason == EXIT_REASON_HLT && rip == REAL_HLT_IP &&
		      (l.eax & 0xffff) == REAL_AX,
	      "real-mode nested guest (unrestricted guest): exit %u at ip %u, ax 0x%x", reason, rip,
	      l.eax & 0xffff);
	o = vmclear((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
}

/* A nested guest for this program's interrupts: it sets IF, waits a
 * while for l2_irq_count, which its handler for L1_VECTOR (a gate in
 * this program's IDT, which it shares) counts, then halts. */
#define CPUID_1_ECX_X2APIC (1u << 21)
#define MSR_APIC_BASE 0x1bu
#define APIC_BASE_X2APIC (1u << 10)
#define X2APIC_EOI 0x80bu
#define X2APIC_ISR 0x810u /* 8 MSRs, one per 32 vectors */
#define X2APIC_SELF_IPI 0x83fu
extern volatile uint32_t l2_irq_count;
volatile uint32_t l2_irq_count;
extern const char l2_irq_code[];
extern void l2_irq_handler(void);
__asm__(".text\n"
	"l2_irq_handler:\n"
	"incl l2_irq_count\n"
	"iret\n"
	"l2_irq_code:\n"
	"sti\n"
	"movl $100000, %ecx\n"
	"8: cmpl $0, l2_irq_count\n"
	"jne 9f\n"
	"loop 8b\n"
	"9: hlt\n"
	"jmp 9b\n");

static bool x2apic_on;

static void self_ipi(uint32_t vector)
{
	if (x2apic_on) {
		wrmsr(X2APIC_SELF_IPI, vector);
		return;
	}
	*lapic_reg(LAPIC_ICR_HIGH) = 0;
	*lapic_reg(LAPIC_ICR_LOW) = ICR_SELF | ICR_FIXED | ICR_ASSERT | vector;
}

static bool in_service(uint32_t vector)
{
	uint32_t isr = x2apic_on ? (uint32_t)rdmsr(X2APIC_ISR + vector / 32)
				 : *lapic_reg(LAPIC_ISR + 0x10 * (vector / 32));
	return (isr >> (vector % 32)) & 1;
}

static void eoi(void)
{
	if (x2apic_on)
		wrmsr(X2APIC_EOI, 0);
	else
		lapic_eoi();
}

/* An interrupt for this program while its nested guest runs, in xAPIC
 * mode (pgvisor's vLAPIC model delivers), then in x2APIC mode where the CPU
 * has it (with virtual-interrupt delivery in pgvisor where the host CPU
 * has that: the vector waits in this program's virtual-APIC page): without external-interrupt
 * exiting the nested guest takes it through its IDT once it sets IF (the vector then in service
 * here), with it and "acknowledge interrupt on exit" it is exit 1 with the vector, the nested
 * guest's handler never run. */
static void guest_takes_interrupts(void)
{
	uint32_t reason = 0, info = 0;

	for (unsigned exiting = 0; exiting < 2; exiting++) {
		l2_irq_count = 0;
		vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) |
				       (exiting ? PIN_EXTERNAL_INTERRUPT_EXITING : 0));
		vmwrite(F_EXIT,
			control(MSR_VMX_TRUE_EXIT) | (exiting ? EXIT_ACK_INTERRUPT_ON_EXIT : 0));
		vmwrite(F_GUEST_RIP, (uint32_t)l2_irq_code);
		vmwrite(F_GUEST_RSP, (uint32_t)(l2_stack + L2_STACK_BYTES));
		vmwrite(F_GUEST_RFLAGS, EFLAGS_AFTER_EXIT);
		self_ipi(L1_VECTOR);
		struct landing l = resume_expecting_exit();
		vmread(F_EXIT_REASON, &reason);
		vmread(F_EXIT_INTR_INFO, &info);
		bool isr = in_service(L1_VECTOR);
		if (exiting)
			check(l.landed && reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
				      info == (INTR_INFO_VALID | L1_VECTOR) && isr && !l2_irq_count,
			      "interrupt for the guest hypervisor (x2apic %u), exiting on: exit "
			      "%u, "
			      "interruption info 0x%x, in service %s, nested guest's handler ran "
			      "%u",
			      (unsigned)x2apic_on, reason, info, isr ? "yes" : "no", l2_irq_count);
		else
			check(l.landed && reason == EXIT_REASON_HLT && isr && l2_irq_count == 1,
			      "interrupt for the guest hypervisor (x2apic %u), exiting off: exit "
			      "%u, "
			      "nested guest's handler ran %u, in service %s",
			      (unsigned)x2apic_on, reason, l2_irq_count, isr ? "yes" : "no");
		eoi();
	}
}

static void run_guest_taking_interrupts(void)
{
	idt_set_gate(L1_VECTOR, l2_irq_handler);
	guest_takes_interrupts();
	if (!(cpuid(1).ecx & CPUID_1_ECX_X2APIC))
		return;
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC);
	x2apic_on = true;
	guest_takes_interrupts();
}

/* Events that meet an interrupt for this program (vector L1_VECTOR,
 * held by its IF = 0): an event it injects into the nested guest, and a
 * nested guest that halts. A software interrupt (INT 0x41, of
 * length 2) it injects is delivered first; with external-interrupt
 * exiting the interrupt then exits before the handler's first
 * instruction (l2_inj_handler: RIP there, the return frame on the
 * stack, no IDT-vectoring information), without it the nested guest
 * takes the interrupt once the handler's IRET sets IF again
 * (l2_irq_seen: what l2_irq_count was as the handler began). A nested
 * guest entered in the HLT activity state, or halting by its own HLT
 * (l2_hlt_wait, no HLT exiting) until this program's local APIC timer
 * fires, wakes to take the interrupt, or exits with it (its activity
 * state saved as HLT, RIP past the HLT). */
#define INJ_VECTOR 0x41u
#define INJ_LENGTH 2u	    /* int $imm8 */
#define INT_FRAME_BYTES 12u /* EIP, CS, EFLAGS: no privilege change */
#define INTR_TYPE_SW_INTERRUPT (4u << 8)
#define F_ENTRY_INTR_INFO 0x4016u
#define F_ENTRY_INSTRUCTION_LEN 0x401au
#define F_IDT_VECTORING_INFO 0x4408u
#define F_GUEST_ACTIVITY_STATE 0x4826u
#define ACTIVITY_ACTIVE 0u
#define ACTIVITY_HLT 1u
#define EFLAGS_IF 0x200u
#define WAKE_TIMER_COUNT 1000000u /* ~10 ms: long after the guest halts */
extern volatile uint32_t l2_irq_seen, l2_inj_count;
volatile uint32_t l2_irq_seen, l2_inj_count;
extern const char l2_inj_code[], l2_inj_after[], l2_halted_code[], l2_hlt_wait[], l2_hlt_woken[];
extern void l2_inj_handler(void);
__asm__(".text\n"
	"l2_inj_handler:\n"
	"movl l2_irq_count, %eax\n"
	"movl %eax, l2_irq_seen\n"
	"incl l2_inj_count\n"
	"iret\n"
	"l2_inj_code:\n"
	"int $0x41\n"
	"l2_inj_after:\n"
	"hlt\n"
	"jmp l2_inj_after\n"
	"l2_halted_code:\n" /* entered halted: the instruction after the HLT */
	"hlt\n"
	"jmp l2_halted_code\n"
	"l2_hlt_wait:\n"
	"sti\n"
	"hlt\n"
	"l2_hlt_woken:\n"
	"cpuid\n"
	"jmp l2_hlt_woken\n");

struct l2_exit {
	uint32_t reason, info, rip, rsp, vectoring, activity;
};

static struct l2_exit resume_and_read(void)
{
	struct l2_exit e = { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u };

	if (!resume_expecting_exit().landed)
		return e;
	vmread(F_EXIT_REASON, &e.reason);
	vmread(F_EXIT_INTR_INFO, &e.info);
	vmread(F_GUEST_RIP, &e.rip);
	vmread(F_GUEST_RSP, &e.rsp);
	vmread(F_IDT_VECTORING_INFO, &e.vectoring);
	vmread(F_GUEST_ACTIVITY_STATE, &e.activity);
	return e;
}

/* External-interrupt exiting with "acknowledge interrupt on exit", or
 * neither; the nested guest from rip on an empty stack. */
static void wake_setup(unsigned exiting, uint32_t proc, uint32_t rip, uint32_t flags)
{
	l2_irq_count = 0;
	l2_irq_seen = ~0u;
	l2_inj_count = 0;
	vmwrite(F_PIN,
		control(MSR_VMX_TRUE_PINBASED) | (exiting ? PIN_EXTERNAL_INTERRUPT_EXITING : 0));
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT) | (exiting ? EXIT_ACK_INTERRUPT_ON_EXIT : 0));
	vmwrite(F_PROC, control(MSR_VMX_TRUE_PROCBASED) | proc);
	vmwrite(F_GUEST_RIP, rip);
	vmwrite(F_GUEST_RSP, (uint32_t)(l2_stack + L2_STACK_BYTES));
	vmwrite(F_GUEST_RFLAGS, flags);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void injected_event_meets_interrupt(void)
{
	uint32_t top = (uint32_t)(l2_stack + L2_STACK_BYTES);

	for (unsigned exiting = 0; exiting < 2; exiting++) {
		wake_setup(exiting, PROC_HLT_EXITING, (uint32_t)l2_inj_code,
			   EFLAGS_AFTER_EXIT | EFLAGS_IF);
		vmwrite(F_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_SW_INTERRUPT | INJ_VECTOR);
		vmwrite(F_ENTRY_INSTRUCTION_LEN, INJ_LENGTH);
		self_ipi(L1_VECTOR);
		struct l2_exit e = resume_and_read();
		bool isr = in_service(L1_VECTOR);
		if (exiting) {
			const uint32_t *frame = (const uint32_t *)e.rsp;
			bool delivered = e.rip == (uint32_t)l2_inj_handler &&
					 e.rsp == top - INT_FRAME_BYTES &&
					 frame[0] == (uint32_t)l2_inj_after;
			check(e.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
				      e.info == (INTR_INFO_VALID | L1_VECTOR) && delivered &&
				      !(e.vectoring & INTR_INFO_VALID) && !l2_inj_count && isr,
			      "injected int meets an interrupt, exiting on: exit %u, info 0x%x, at "
			      "the handler with its frame %s, idt-vectoring 0x%x, handler ran %u, "
			      "in service %s",
			      e.reason, e.info, yes(delivered), e.vectoring, l2_inj_count,
			      yes(isr));
		} else {
			check(e.reason == EXIT_REASON_HLT && e.rip == (uint32_t)l2_inj_after &&
				      l2_inj_count == 1 && l2_irq_seen == 0 && l2_irq_count == 1 &&
				      isr,
			      "injected int meets an interrupt, exiting off: exit %u after the int "
			      "%s, handler ran %u (seeing %u interrupts), then the interrupt's %u, "
			      "in service %s",
			      e.reason, yes(e.rip == (uint32_t)l2_inj_after), l2_inj_count,
			      l2_irq_seen, l2_irq_count, yes(isr));
		}
		vmwrite(F_ENTRY_INTR_INFO, 0);
		eoi();
	}
}

static void halted_guest_meets_interrupt(void)
{
	for (unsigned exiting = 0; exiting < 2; exiting++) {
		wake_setup(exiting, PROC_HLT_EXITING, (uint32_t)l2_halted_code,
			   EFLAGS_AFTER_EXIT | EFLAGS_IF);
		vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
		self_ipi(L1_VECTOR);
		struct l2_exit e = resume_and_read();
		bool isr = in_service(L1_VECTOR);
		bool at = e.rip == (uint32_t)l2_halted_code;
		if (exiting)
			check(e.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
				      e.info == (INTR_INFO_VALID | L1_VECTOR) && at &&
				      e.activity == ACTIVITY_HLT && !l2_irq_count && isr,
			      "nested guest entered halted, exiting on: exit %u, interruption "
			      "info 0x%x, still halted %s (activity %u), handler ran %u, in "
			      "service %s",
			      e.reason, e.info, yes(at), e.activity, l2_irq_count, yes(isr));
		else
			check(e.reason == EXIT_REASON_HLT && at && l2_irq_count == 1 && isr,
			      "nested guest entered halted, exiting off: woken, handler ran %u, "
			      "then exit %u at its next hlt %s, in service %s",
			      l2_irq_count, e.reason, yes(at), yes(isr));
		vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
		eoi();
	}
}

/* The nested guest's own HLT, which this program does not exit on,
 * until its local APIC timer's interrupt (xAPIC mode). */
static void guest_halts_until_interrupt(void)
{
	for (unsigned exiting = 0; exiting < 2; exiting++) {
		wake_setup(exiting, 0, (uint32_t)l2_hlt_wait, EFLAGS_AFTER_EXIT);
		*lapic_reg(LAPIC_TIMER_DIVIDE) = LAPIC_DIVIDE_BY_1;
		*lapic_reg(LAPIC_LVT_TIMER) = L1_VECTOR; /* one-shot */
		*lapic_reg(LAPIC_TIMER_INITIAL) = WAKE_TIMER_COUNT;
		struct l2_exit e = resume_and_read();
		*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
		bool isr = in_service(L1_VECTOR);
		bool at = e.rip == (uint32_t)l2_hlt_woken;
		if (exiting)
			check(e.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
				      e.info == (INTR_INFO_VALID | L1_VECTOR) && at &&
				      e.activity == ACTIVITY_HLT && !l2_irq_count && isr,
			      "nested guest's own hlt, exiting on: exit %u, interruption info "
			      "0x%x, past its hlt %s, activity %u, handler ran %u, in service %s",
			      e.reason, e.info, yes(at), e.activity, l2_irq_count, yes(isr));
		else
			check(e.reason == EXIT_REASON_CPUID && at && l2_irq_count == 1 && isr,
			      "nested guest's own hlt, exiting off: woken by the timer, handler "
			      "ran %u, then exit %u past its hlt %s, in service %s",
			      l2_irq_count, e.reason, yes(at), yes(isr));
		vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
		eoi();
	}
}

/* NMIs for this program while its nested guest runs (xAPIC mode). It
 * sends itself an NMI (physical destination, its own APIC ID) and runs
 * checks in its handler (l1_nmi_handler, NMIs blocked until its IRET),
 * where an NMI it sends waits, pending, for the VMRESUME that follows;
 * one part of the checks per NMI (nmi_parts). With NMI exiting and
 * virtual NMIs: exit 0 with the NMI (interruption info 0x80000202)
 * before the nested guest's first instruction, which blocks NMIs here
 * again (SDM 27.5); the same after an event injected into the nested
 * guest, which is delivered first (the guest at its handler, its frame
 * pushed). Without NMI exiting the nested guest takes it through its
 * IDT's vector 2 (l2_nmi_handler, its frame on the nested guest's
 * stack): at once; after its IRET when entered blocking NMIs; woken
 * when entered halted. And the NMI-window exiting this program asks
 * for is exit 8. */
#define VEC_NMI 2u
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define INTR_TYPE_NMI (2u << 8)
#define EXIT_REASON_EXCEPTION_NMI 0u
#define EXIT_REASON_NMI_WINDOW 8u
#define F_GUEST_INTERRUPTIBILITY 0x4824u
#define BLOCKING_BY_NMI (1u << 3)
extern volatile uint32_t l1_nmi_count, l1_nmi_expected, l2_nmi_count, l2_nmi_esp;
volatile uint32_t l1_nmi_count, l1_nmi_expected, l2_nmi_count, l2_nmi_esp;
extern const char l2_nmi_code[], l2_nmi_iret_code[], l2_nmi_after_iret[];
extern void l1_nmi_handler(void), l2_nmi_handler(void);
void nmi_part(void);
__asm__(".text\n"
	"l1_nmi_handler:\n" /* a part of the checks for each NMI sent for one */
	"incl l1_nmi_count\n"
	"cmpl $0, l1_nmi_expected\n"
	"je 1f\n"
	"movl $0, l1_nmi_expected\n"
	"pushal\n"
	"cld\n"
	"call nmi_part\n"
	"popal\n"
	"1: iret\n"
	"l2_nmi_handler:\n"
	"incl l2_nmi_count\n"
	"movl %esp, l2_nmi_esp\n"
	"iret\n"
	"l2_nmi_code:\n"
	"hlt\n"
	"jmp l2_nmi_code\n"
	"l2_nmi_iret_code:\n" /* an IRET to the next instruction */
	"pushfl\n"
	"pushl %cs\n"
	"pushl $l2_nmi_after_iret\n"
	"iret\n"
	"l2_nmi_after_iret:\n"
	"hlt\n"
	"jmp l2_nmi_after_iret\n");

static void self_nmi(void)
{
	*lapic_reg(LAPIC_ICR_HIGH) = *lapic_reg(LAPIC_ID) & 0xff000000u;
	*lapic_reg(LAPIC_ICR_LOW) = ICR_NMI | ICR_ASSERT;
}

static const uint32_t nmi_info = INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI;

static uint32_t l2_top(void)
{
	return (uint32_t)(l2_stack + L2_STACK_BYTES);
}

/* The nested guest's NMI handler ran once, on its stack, returning to
 * ret. */
static bool l2_took_nmi(uint32_t ret)
{
	const uint32_t *frame = (const uint32_t *)l2_nmi_esp;

	return l2_nmi_count == 1 && l2_nmi_esp == l2_top() - INT_FRAME_BYTES && frame[0] == ret;
}

/* NMI exiting: exit 0 (each leaves NMIs blocked here for the next
 * check), also with the nested guest entered halted (its activity state
 * saved as HLT) and after an injected event's delivery; then the nested
 * guest's own, at once. */
static void nmi_exits_then_l2_takes_it(void)
{
	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_nmi_code, EFLAGS_AFTER_EXIT);
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	self_nmi();
	struct l2_exit e = resume_and_read();
	check(e.reason == EXIT_REASON_EXCEPTION_NMI && e.info == nmi_info &&
		      e.rip == (uint32_t)l2_nmi_code && !l2_nmi_count && l1_nmi_count == 1,
	      "nmi for the guest hypervisor, nmi exiting on: exit %u, interruption info 0x%x, "
	      "before the nested guest's first instruction %s, its handler ran %u, ours %u",
	      e.reason, e.info, yes(e.rip == (uint32_t)l2_nmi_code), l2_nmi_count, l1_nmi_count);

	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_nmi_code, EFLAGS_AFTER_EXIT);
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	self_nmi();
	e = resume_and_read();
	vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	check(e.reason == EXIT_REASON_EXCEPTION_NMI && e.info == nmi_info &&
		      e.rip == (uint32_t)l2_nmi_code && e.activity == ACTIVITY_HLT && !l2_nmi_count,
	      "nmi for the guest hypervisor, nested guest entered halted, nmi exiting on: exit "
	      "%u, info 0x%x, still halted %s (activity %u), its handler ran %u",
	      e.reason, e.info, yes(e.rip == (uint32_t)l2_nmi_code), e.activity, l2_nmi_count);

	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_inj_code, EFLAGS_AFTER_EXIT);
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vmwrite(F_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_SW_INTERRUPT | INJ_VECTOR);
	vmwrite(F_ENTRY_INSTRUCTION_LEN, INJ_LENGTH);
	self_nmi();
	e = resume_and_read();
	vmwrite(F_ENTRY_INTR_INFO, 0);
	const uint32_t *frame = (const uint32_t *)e.rsp;
	bool delivered = e.rip == (uint32_t)l2_inj_handler && e.rsp == l2_top() - INT_FRAME_BYTES &&
			 frame[0] == (uint32_t)l2_inj_after;
	check(e.reason == EXIT_REASON_EXCEPTION_NMI && e.info == nmi_info && delivered &&
		      !(e.vectoring & INTR_INFO_VALID) && !l2_inj_count,
	      "injected int meets an nmi, nmi exiting on: exit %u, info 0x%x, at the handler "
	      "with its frame %s, idt-vectoring 0x%x, handler ran %u",
	      e.reason, e.info, yes(delivered), e.vectoring, l2_inj_count);

	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_nmi_code, EFLAGS_AFTER_EXIT);
	/* A fresh guest state, not blocking NMIs: Bochs saved the previous
	 * guest's as blocked, its virtual-NMI blocking left over from this
	 * program's (entered with NMIs blocked here), not cleared by an entry
	 * whose field says unblocked. */
	vmwrite(F_GUEST_INTERRUPTIBILITY, 0);
	self_nmi();
	e = resume_and_read();
	bool took = l2_took_nmi((uint32_t)l2_nmi_code);
	check(e.reason == EXIT_REASON_HLT && e.rip == (uint32_t)l2_nmi_code && took &&
		      l1_nmi_count == 1,
	      "nmi for the guest hypervisor, nmi exiting off: exit %u at the hlt %s, nested "
	      "guest's handler ran %u (on its stack, before its hlt %s), ours %u",
	      e.reason, yes(e.rip == (uint32_t)l2_nmi_code), l2_nmi_count, yes(took), l1_nmi_count);
}

/* A nested guest entered blocking NMIs takes the NMI after its IRET. */
static void l2_takes_nmi_after_iret(void)
{
	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_nmi_iret_code, EFLAGS_AFTER_EXIT);
	vmwrite(F_GUEST_INTERRUPTIBILITY, BLOCKING_BY_NMI);
	self_nmi();
	struct l2_exit e = resume_and_read();
	vmwrite(F_GUEST_INTERRUPTIBILITY, 0);
	bool took = l2_took_nmi((uint32_t)l2_nmi_after_iret);
	check(e.reason == EXIT_REASON_HLT && e.rip == (uint32_t)l2_nmi_after_iret && took,
	      "nmi for a nested guest blocking nmis, nmi exiting off: exit %u, handler ran %u "
	      "(after its iret %s)",
	      e.reason, l2_nmi_count, yes(took));
}

/* A nested guest entered halted is woken to take the NMI. */
static void l2_woken_by_nmi(void)
{
	wake_setup(0, PROC_HLT_EXITING, (uint32_t)l2_nmi_code, EFLAGS_AFTER_EXIT);
	vmwrite(F_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	self_nmi();
	struct l2_exit e = resume_and_read();
	vmwrite(F_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	bool took = l2_took_nmi((uint32_t)l2_nmi_code);
	check(e.reason == EXIT_REASON_HLT && e.rip == (uint32_t)l2_nmi_code && took,
	      "nmi for a halted nested guest, nmi exiting off: woken, handler ran %u (%s), "
	      "then exit %u",
	      l2_nmi_count, yes(took), e.reason);
}

static void (*const nmi_parts[])(void) = {
	nmi_exits_then_l2_takes_it,
	l2_takes_nmi_after_iret,
	l2_woken_by_nmi,
};
#define NMI_PARTS (sizeof(nmi_parts) / sizeof(nmi_parts[0]))
static unsigned nmi_parts_run;

void nmi_part(void)
{
	l2_nmi_count = 0;
	l2_nmi_esp = 0;
	/* The nested guest's vector 2 while it runs (one IDT for both). */
	idt_set_gate(VEC_NMI, l2_nmi_handler);
	nmi_parts[nmi_parts_run++]();
	idt_set_gate(VEC_NMI, l1_nmi_handler);
}

static void run_guests_meeting_nmis(void)
{
	idt_set_gate(VEC_NMI, l1_nmi_handler);
	for (unsigned i = 0; i < NMI_PARTS; i++) {
		l1_nmi_expected = 1;
		self_nmi();
	}
	check(l1_nmi_count == NMI_PARTS && nmi_parts_run == NMI_PARTS,
	      "nmis while the nested guest runs: our handler ran %u, parts %u", l1_nmi_count,
	      nmi_parts_run);

	/* NMI-window exiting asked for here (with virtual NMIs, SDM 26.2.1.1):
	 * exit 8 before the nested guest's first instruction. */
	wake_setup(0, PROC_HLT_EXITING | PROC_NMI_WINDOW_EXITING, (uint32_t)l2_nmi_code,
		   EFLAGS_AFTER_EXIT);
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	struct l2_exit e = resume_and_read();
	check(e.reason == EXIT_REASON_NMI_WINDOW && e.rip == (uint32_t)l2_nmi_code,
	      "nmi-window exiting of the guest hypervisor's: exit %u at the first instruction %s",
	      e.reason, yes(e.rip == (uint32_t)l2_nmi_code));
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
}

static void run_guests_meeting_interrupts(void)
{
	idt_set_gate(L1_VECTOR, l2_irq_handler);
	idt_set_gate(INJ_VECTOR, l2_inj_handler);
	injected_event_meets_interrupt();
	halted_guest_meets_interrupt();
	guest_halts_until_interrupt();
	run_guests_meeting_nmis();
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT));
	vmwrite(F_PROC, control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING);
}

/* An interrupt for this program (a self-IPI, held by its IF = 0) while
 * it enters a nested guest, with external-interrupt exiting and
 * "acknowledge interrupt on exit": the guest exits at once with exit 1
 * and the vector, which is then in service here. */
static void run_interrupted_guest(void)
{
	uint32_t reason = 0, info = 0;
	struct outcome o = vmptrld((uint32_t)vmcs_a);

	expect(o, succeeded(o), "vmptrld for an interrupted nested guest", "VMsucceed");
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_EXTERNAL_INTERRUPT_EXITING);
	vmwrite(F_PROC, control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING);
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT) | EXIT_ACK_INTERRUPT_ON_EXIT);
	vmwrite(F_GUEST_RIP, (uint32_t)spin_code);
	lapic_enable();
	*lapic_reg(LAPIC_ICR_HIGH) = 0;
	*lapic_reg(LAPIC_ICR_LOW) = ICR_SELF | ICR_FIXED | ICR_ASSERT | L1_VECTOR;

	struct landing l = launch_expecting_exit();
	vmread(F_EXIT_REASON, &reason);
	vmread(F_EXIT_INTR_INFO, &info);
	uint32_t isr = *lapic_reg(LAPIC_ISR + 0x10 * (L1_VECTOR / 32));
	check(l.landed && reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
		      info == (INTR_INFO_VALID | L1_VECTOR) && (isr >> (L1_VECTOR % 32)) & 1,
	      "interrupt for the guest hypervisor: exit %u, interruption info 0x%x, in service "
	      "%s",
	      reason, info, (isr >> (L1_VECTOR % 32)) & 1 ? "yes" : "no");
	lapic_eoi();

	/* The preemption timer, and what is left of it saved at the exit
	 * where the virtual CPU offers that. */
	uint32_t timer = ~0u;
	bool save = caps_msr(MSR_VMX_TRUE_EXIT) >> 32 & EXIT_SAVE_PREEMPTION_TIMER;
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED) | PIN_PREEMPTION_TIMER);
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT) | (save ? EXIT_SAVE_PREEMPTION_TIMER : 0));
	vmwrite(F_PREEMPTION_TIMER, L2_TIMER_TICKS);
	vmwrite(F_GUEST_RIP, (uint32_t)spin_code);
	l = resume_expecting_exit();
	vmread(F_EXIT_REASON, &reason);
	vmread(F_PREEMPTION_TIMER, &timer);
	check(l.landed && reason == EXIT_REASON_PREEMPTION_TIMER && (!save || timer == 0),
	      "guest hypervisor's preemption timer: exit %u, left %u", reason, save ? timer : 0);
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
	run_guests_meeting_interrupts();
	run_guest_taking_interrupts();
	o = vmclear((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
}

/* A nested guest (l2_code) under a VMCS that passes every VM-entry
 * check, HLT exiting on: its CPUID and HLT come back here as VM exits,
 * its COM1 line goes to pgvisor's UART, which this program did not ask
 * to intercept. */
static void run_nested_guest(void)
{
	uint32_t rev = (uint32_t)caps_msr(MSR_VMX_BASIC) & BASIC_REVISION_MASK;
	uint32_t reason = 0, len = 0, rip = 0;
	struct outcome o;

	vmxon_region[0] = rev;
	vmcs_a[0] = rev;
	write_cr4_safe(read_cr4() | CR4_VMXE);
	o = vmxon((uint32_t)vmxon_region);
	expect(o, succeeded(o), "vmxon", "VMsucceed");
	o = vmptrld((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmptrld", "VMsucceed");
	vmwrite(F_PIN, control(MSR_VMX_TRUE_PINBASED));
	vmwrite(F_PROC, control(MSR_VMX_TRUE_PROCBASED) | PROC_HLT_EXITING);
	vmwrite(F_EXIT, control(MSR_VMX_TRUE_EXIT));
	vmwrite(F_ENTRY, control(MSR_VMX_TRUE_ENTRY));
	write_host_state();
	write_guest_state();
	printf("vmxtest: launching a nested guest\n");
	console_flush();

	struct landing l = launch_expecting_exit();
	vmread(F_EXIT_REASON, &reason);
	vmread(F_EXIT_INSTRUCTION_LEN, &len);
	vmread(F_GUEST_RIP, &rip);
	check(l.landed && reason == EXIT_REASON_CPUID && len == 2 && rip == (uint32_t)l2_code,
	      "nested guest's cpuid: exit reason %u, length %u, at its cpuid %s", reason, len,
	      rip == (uint32_t)l2_code ? "yes" : "no");
	check(l.landed && l.esp_after == l.esp_before && l.flags == EFLAGS_AFTER_EXIT,
	      "back at host rip: esp as host rsp %s, eflags 0x%x",
	      l.esp_after == l.esp_before ? "yes" : "no", l.flags);
	vmwrite(F_GUEST_RIP, rip + len);
	l = resume_expecting_exit();
	vmread(F_EXIT_REASON, &reason);
	vmread(F_GUEST_RIP, &rip);
	check(l.landed && reason == EXIT_REASON_HLT && rip == (uint32_t)l2_hlt,
	      "nested guest's hlt after its line: exit reason %u, at its hlt %s", reason,
	      rip == (uint32_t)l2_hlt ? "yes" : "no");
	check(l.eax == UNBACKED_READ, "nested guest's read at %s, outside its vm: 0x%x",
	      L2_OUTSIDE_RAM, l.eax);
	/* What changes between two VMRESUMEs reaches the nested guest: CR4's
	 * read shadow (a control field) for a bit this program owns, set
	 * then clear (the real CR4 has it clear), and RIP (guest state). */
	uint32_t seen[2] = { ~0u, ~0u }, halted = 0;
	vmwrite(F_CR4_MASK, CR4_PCE);
	for (unsigned i = 0; i < 2; i++) {
		vmwrite(F_CR4_SHADOW, i ? 0 : CR4_PCE);
		vmwrite(F_GUEST_RIP, (uint32_t)l2_read_cr4);
		l = resume_expecting_exit();
		vmread(F_EXIT_REASON, &reason);
		halted += l.landed && reason == EXIT_REASON_HLT;
		seen[i] = l.eax & CR4_PCE;
	}
	check(halted == 2 && seen[0] == CR4_PCE && !seen[1],
	      "nested guest's cr4 read shadow changed between vmresumes: pce 0x%x then 0x%x",
	      seen[0], seen[1]);
	o = vmlaunch();
	expect(o, is_valid_fail(o, ERR_VMLAUNCH_NONCLEAR), "vmlaunch of the launched vmcs",
	       "VMfailValid(4)");
	o = vmclear((uint32_t)vmcs_a);
	expect(o, succeeded(o), "vmclear", "VMsucceed");
	if ((caps_msr(MSR_VMX_PROCBASED2) >> 32 & PROC2_ENABLE_VPID) &&
	    (caps_msr(MSR_VMX_EPT_VPID_CAP) & VPID_CAP_INVVPID))
		run_vpid_guests();
	if (caps_msr(MSR_VMX_PROCBASED2) >> 32 & PROC2_ENABLE_EPT)
		run_ept_guest();
	run_interrupted_guest();
	if ((caps_msr(MSR_VMX_PROCBASED2) >> 32 & (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)) ==
	    (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST))
		run_real_mode_guest();
	o = vmxoff();
	expect(o, succeeded(o), "vmxoff", "VMsucceed");
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp)) {
		printf("vmxtest: FAIL no multiboot information\n");
		return EXIT_FAILED;
	}
	if (cmdline_option(bp.cmdline, "launch") && (cpuid(1).ecx & CPUID_1_ECX_VMX)) {
		enable_paging();
		run_nested_guest();
	} else if (!(cpuid(1).ecx & CPUID_1_ECX_VMX)) {
		check_hidden();
	} else {
		check_caps();
		enable_paging();
		check_instructions();
	}
	return checks_verdict();
}
