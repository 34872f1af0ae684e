#include "forms.h"

#include <stddef.h>

#include "lab.h"

/* The functions in forms.S. */
void form_sgdt(void);
void form_sidt(void);
void form_sldt(void);
void form_str(void);
void form_smsw(void);
void form_pushf(void);
void form_popf_iopl(void);
void form_popf_if(void);
void form_lar(void);
void form_lsl(void);
void form_verr(void);
void form_verw(void);
void form_push_cs(void);
void form_pop_ds(void);
void form_mov_from_cs(void);
void form_mov_from_ss(void);
void form_mov_to_ds(void);
void form_far_call(void);
void form_far_jmp(void);
void form_far_ret(void);
void form_int_user_gate(void);
void form_int_kernel_gate(void);
void form_iret(void);
void form_sgdt_umip(void);
void form_str_umip(void);
void form_smsw_umip(void);
void form_mov_from_cr0(void);
void form_mov_to_cr0(void);
void form_mov_from_cr3(void);
void form_mov_to_cr3(void);
void form_mov_from_cr4(void);
void form_mov_to_cr4(void);
void form_mov_from_cr8(void);
void form_lmsw(void);
void form_clts(void);
void form_lgdt(void);
void form_lidt(void);
void form_lldt(void);
void form_ltr(void);
void form_rdmsr(void);
void form_wrmsr(void);
void form_in_port(void);
void form_out_port(void);
void form_ins(void);
void form_outs(void);
void form_hlt(void);
void form_cli(void);
void form_sti(void);
void form_invlpg(void);
void form_wbinvd(void);
void form_invd(void);
void form_mov_from_dr7(void);
void form_mov_to_dr0(void);
void form_rdpmc(void);
void form_xsetbv(void);
void form_monitor(void);
void form_mwait(void);
void form_cpuid0(void);
void form_cpuid1(void);
void form_rdtsc(void);
void form_rdtscp(void);
void form_pause(void);
void form_vmcall(void);
void form_read_unbacked(void);

const struct form forms[] = {
	{ "sgdt", CLASS_SENSITIVE_UNPRIVILEGED, form_sgdt, 0, 6, NULL, false },
	{ "sidt", CLASS_SENSITIVE_UNPRIVILEGED, form_sidt, 0, 6, NULL, false },
	{ "sldt", CLASS_SENSITIVE_UNPRIVILEGED, form_sldt, OUT_EAX, 0, NULL, false },
	{ "str", CLASS_SENSITIVE_UNPRIVILEGED, form_str, OUT_EAX, 0, NULL, false },
	{ "smsw", CLASS_SENSITIVE_UNPRIVILEGED, form_smsw, OUT_EAX, 0, NULL, false },
	{ "pushf", CLASS_SENSITIVE_UNPRIVILEGED, form_pushf, OUT_EAX, 0, NULL, false },
	{ "popf_iopl", CLASS_SENSITIVE_UNPRIVILEGED, form_popf_iopl, OUT_EAX, 0, NULL, false },
	{ "popf_if", CLASS_SENSITIVE_UNPRIVILEGED, form_popf_if, OUT_EAX, 0, NULL, false },
	{ "lar", CLASS_SENSITIVE_UNPRIVILEGED, form_lar, OUT_EAX | OUT_EBX, 0, NULL, false },
	{ "lsl", CLASS_SENSITIVE_UNPRIVILEGED, form_lsl, OUT_EAX | OUT_EBX, 0, NULL, false },
	{ "verr", CLASS_SENSITIVE_UNPRIVILEGED, form_verr, OUT_EBX, 0, NULL, false },
	{ "verw", CLASS_SENSITIVE_UNPRIVILEGED, form_verw, OUT_EBX, 0, NULL, false },
	{ "push_cs", CLASS_SENSITIVE_UNPRIVILEGED, form_push_cs, OUT_EAX, 0, NULL, false },
	{ "pop_ds", CLASS_SENSITIVE_UNPRIVILEGED, form_pop_ds, OUT_EAX, 0, NULL, false },
	{ "mov_from_cs", CLASS_SENSITIVE_UNPRIVILEGED, form_mov_from_cs, OUT_EAX, 0, NULL, false },
	{ "mov_from_ss", CLASS_SENSITIVE_UNPRIVILEGED, form_mov_from_ss, OUT_EAX, 0, NULL, false },
	{ "mov_to_ds", CLASS_SENSITIVE_UNPRIVILEGED, form_mov_to_ds, OUT_EAX, 0, NULL, false },
	{ "far_call", CLASS_SENSITIVE_UNPRIVILEGED, form_far_call, OUT_EAX, 0, NULL, false },
	{ "far_jmp", CLASS_SENSITIVE_UNPRIVILEGED, form_far_jmp, OUT_EAX, 0, NULL, false },
	{ "far_ret", CLASS_SENSITIVE_UNPRIVILEGED, form_far_ret, OUT_EAX, 0, NULL, false },
	{ "int_user_gate", CLASS_SENSITIVE_UNPRIVILEGED, form_int_user_gate, OUT_EAX, 0, NULL,
	  false },
	{ "int_kernel_gate", CLASS_SENSITIVE_UNPRIVILEGED, form_int_kernel_gate, OUT_EAX, 0, NULL,
	  false },
	{ "iret", CLASS_SENSITIVE_UNPRIVILEGED, form_iret, OUT_EAX, 0, NULL, false },
	{ "sgdt_umip", CLASS_SENSITIVE_UNPRIVILEGED, form_sgdt_umip, 0, 6, NULL, true },
	{ "str_umip", CLASS_SENSITIVE_UNPRIVILEGED, form_str_umip, OUT_EAX, 0, NULL, true },
	{ "smsw_umip", CLASS_SENSITIVE_UNPRIVILEGED, form_smsw_umip, OUT_EAX, 0, NULL, true },
	{ "mov_from_cr0", CLASS_PRIVILEGED, form_mov_from_cr0, OUT_EAX, 0, NULL, false },
	{ "mov_to_cr0", CLASS_PRIVILEGED, form_mov_to_cr0, 0, 0, NULL, false },
	{ "mov_from_cr3", CLASS_PRIVILEGED, form_mov_from_cr3, OUT_EAX, 0, NULL, false },
	{ "mov_to_cr3", CLASS_PRIVILEGED, form_mov_to_cr3, 0, 0, NULL, false },
	{ "mov_from_cr4", CLASS_PRIVILEGED, form_mov_from_cr4, OUT_EAX, 0, NULL, false },
	{ "mov_to_cr4", CLASS_PRIVILEGED, form_mov_to_cr4, 0, 0, NULL, false },
	{ "mov_from_cr8", CLASS_PRIVILEGED, form_mov_from_cr8, 0, 0, NULL, false },
	{ "lmsw", CLASS_PRIVILEGED, form_lmsw, 0, 0, NULL, false },
	{ "clts", CLASS_PRIVILEGED, form_clts, 0, 0, NULL, false },
	{ "lgdt", CLASS_PRIVILEGED, form_lgdt, 0, 6, NULL, false },
	{ "lidt", CLASS_PRIVILEGED, form_lidt, 0, 6, NULL, false },
	{ "lldt", CLASS_PRIVILEGED, form_lldt, OUT_EAX, 0, NULL, false },
	{ "ltr", CLASS_PRIVILEGED, form_ltr, OUT_EAX, 0, NULL, false },
	{ "rdmsr", CLASS_PRIVILEGED, form_rdmsr, OUT_EAX | OUT_EDX, 0, NULL, false },
	{ "wrmsr", CLASS_PRIVILEGED, form_wrmsr, 0, 0, NULL, false },
	{ "in", CLASS_PRIVILEGED, form_in_port, 0, 0, NULL, false },
	{ "out", CLASS_PRIVILEGED, form_out_port, 0, 0, NULL, false },
	{ "ins", CLASS_PRIVILEGED, form_ins, OUT_EDI, 0, NULL, false },
	{ "outs", CLASS_PRIVILEGED, form_outs, OUT_ESI, 0, NULL, false },
	{ "hlt", CLASS_PRIVILEGED, form_hlt, 0, 0,
	  "HLT with interrupts off stops the machine for good", false },
	{ "cli", CLASS_PRIVILEGED, form_cli, OUT_EAX, 0, NULL, false },
	{ "sti", CLASS_PRIVILEGED, form_sti, OUT_EAX, 0, NULL, false },
	{ "invlpg", CLASS_PRIVILEGED, form_invlpg, 0, 0, NULL, false },
	{ "wbinvd", CLASS_PRIVILEGED, form_wbinvd, 0, 0, NULL, false },
	{ "invd", CLASS_PRIVILEGED, form_invd, 0, 0, NULL, false },
	{ "mov_from_dr7", CLASS_PRIVILEGED, form_mov_from_dr7, OUT_EAX, 0, NULL, false },
	{ "mov_to_dr0", CLASS_PRIVILEGED, form_mov_to_dr0, 0, 0, NULL, false },
	{ "rdpmc", CLASS_PRIVILEGED, form_rdpmc, 0, 0, NULL, false },
	{ "xsetbv", CLASS_PRIVILEGED, form_xsetbv, 0, 0, NULL, false },
	{ "monitor", CLASS_PRIVILEGED, form_monitor, 0, 0, NULL, false },
	{ "mwait", CLASS_PRIVILEGED, form_mwait, 0, 0,
	  "MWAIT with nothing to wake it may wait for good", false },
	{ "cpuid0", CLASS_UNPRIVILEGED, form_cpuid0, OUT_EAX | OUT_EBX | OUT_ECX | OUT_EDX, 0, NULL,
	  false },
	{ "cpuid1", CLASS_UNPRIVILEGED, form_cpuid1, OUT_EAX | OUT_EBX | OUT_ECX | OUT_EDX, 0, NULL,
	  false },
	{ "rdtsc", CLASS_UNPRIVILEGED, form_rdtsc, 0, 0, NULL, false },
	{ "rdtscp", CLASS_UNPRIVILEGED, form_rdtscp, OUT_ECX, 0, NULL, false },
	{ "pause", CLASS_UNPRIVILEGED, form_pause, 0, 0, NULL, false },
	{ "vmcall", CLASS_UNPRIVILEGED, form_vmcall, OUT_EAX, 0, NULL, false },
	/* Last: with on_unbacked = "crash" the VM ends here. */
	{ "read_unbacked", CLASS_UNPRIVILEGED, form_read_unbacked, OUT_EAX, 0, NULL, false },
};

const unsigned nforms = sizeof(forms) / sizeof(forms[0]);
