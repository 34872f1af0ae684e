#include "vmm/vmx/exit_reason.h"

static const char *const names[EXIT_REASON_COUNT] = {
	[EXIT_EXCEPTION_NMI] = "exception",
	[EXIT_EXTERNAL_INTERRUPT] = "extint",
	[EXIT_TRIPLE_FAULT] = "triple-fault",
	[EXIT_INIT] = "init",
	[EXIT_SIPI] = "sipi",
	[EXIT_IO_SMI] = "io-smi",
	[EXIT_OTHER_SMI] = "smi",
	[EXIT_INTERRUPT_WINDOW] = "intr-window",
	[EXIT_NMI_WINDOW] = "nmi-window",
	[EXIT_TASK_SWITCH] = "task-switch",
	[EXIT_CPUID] = "cpuid",
	[EXIT_GETSEC] = "getsec",
	[EXIT_HLT] = "hlt",
	[EXIT_INVD] = "invd",
	[EXIT_INVLPG] = "invlpg",
	[EXIT_RDPMC] = "rdpmc",
	[EXIT_RDTSC] = "rdtsc",
	[EXIT_RSM] = "rsm",
	[EXIT_VMCALL] = "vmcall",
	[EXIT_VMCLEAR] = "vmclear",
	[EXIT_VMLAUNCH] = "vmlaunch",
	[EXIT_VMPTRLD] = "vmptrld",
	[EXIT_VMPTRST] = "vmptrst",
	[EXIT_VMREAD] = "vmread",
	[EXIT_VMRESUME] = "vmresume",
	[EXIT_VMWRITE] = "vmwrite",
	[EXIT_VMXOFF] = "vmxoff",
	[EXIT_VMXON] = "vmxon",
	[EXIT_CR_ACCESS] = "cr",
	[EXIT_DR_ACCESS] = "dr",
	[EXIT_IO_INSTRUCTION] = "io",
	[EXIT_RDMSR] = "rdmsr",
	[EXIT_WRMSR] = "wrmsr",
	[EXIT_ENTRY_FAIL_GUEST_STATE] = "entry-fail-guest",
	[EXIT_ENTRY_FAIL_MSR_LOADING] = "entry-fail-msr",
	[EXIT_MWAIT] = "mwait",
	[EXIT_MONITOR_TRAP_FLAG] = "mtf",
	[EXIT_MONITOR] = "monitor",
	[EXIT_PAUSE] = "pause",
	[EXIT_ENTRY_FAIL_MACHINE_CHECK] = "entry-fail-mce",
	[EXIT_TPR_BELOW_THRESHOLD] = "tpr-threshold",
	[EXIT_APIC_ACCESS] = "apic-access",
	[EXIT_VIRTUALIZED_EOI] = "virt-eoi",
	[EXIT_GDTR_IDTR_ACCESS] = "gdtr-idtr",
	[EXIT_LDTR_TR_ACCESS] = "ldtr-tr",
	[EXIT_EPT_VIOLATION] = "ept-violation",
	[EXIT_EPT_MISCONFIG] = "ept-misconfig",
	[EXIT_INVEPT] = "invept",
	[EXIT_RDTSCP] = "rdtscp",
	[EXIT_PREEMPTION_TIMER] = "preempt-timer",
	[EXIT_INVVPID] = "invvpid",
	[EXIT_WBINVD] = "wbinvd",
	[EXIT_XSETBV] = "xsetbv",
	[EXIT_APIC_WRITE] = "apic-write",
	[EXIT_RDRAND] = "rdrand",
	[EXIT_INVPCID] = "invpcid",
	[EXIT_VMFUNC] = "vmfunc",
	[EXIT_ENCLS] = "encls",
	[EXIT_RDSEED] = "rdseed",
	[EXIT_PML_FULL] = "pml-full",
	[EXIT_XSAVES] = "xsaves",
	[EXIT_XRSTORS] = "xrstors",
};

static const char *const numbered[EXIT_REASON_COUNT] = {
#define N(n) [n] = "reason-" #n
	N(35), N(38), N(42), N(65), N(66), N(67), N(68), N(69),
#undef N
};

const char *exit_reason_name(unsigned reason)
{
	if (reason >= EXIT_REASON_COUNT)
		return "reason-out-of-range";
	return names[reason] ? names[reason] : numbered[reason];
}
