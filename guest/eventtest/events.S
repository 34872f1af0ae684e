/* The eventtest guest's handlers and instruction sequences: NMI, #DB, #GP
 * and #PF stubs that hand C the interrupted frame, and the sequences
 * single-stepped over an instruction a hypervisor may emulate. */
#include "guest/lib/irq_stub.inc"

#define RFLAGS_TF 0x100
#define CR4_RESERVED_BIT31 0x80000000

	.text
	.code32
	irq_stub nmi_stub, on_nmi

	.text
	.globl db_stub, ipi_stub, gp_stub, pf_stub
/* The frame C sees (struct frame): pushal, then EIP, CS, EFLAGS. */
db_stub:
	pushal
	cld
	pushl %esp
	call on_db
	addl $4, %esp
	popal
	iret
ipi_stub:
	pushal
	cld
	pushl %esp
	call on_ipi
	addl $4, %esp
	popal
	iret
/* Faults with an error code: C gets the frame above it; the code is
 * dropped before IRET. */
gp_stub:
	pushal
	cld
	leal 36(%esp), %eax /* past pushal and the error code: EIP */
	pushl %eax
	call on_gp
	addl $4, %esp
	popal
	addl $4, %esp
	iret
pf_stub:
	pushal
	cld
	movl %cr2, %eax
	pushl %eax
	call on_pf
	addl $4, %esp
	popal
	addl $4, %esp
	iret

/* Each step_X sets TF with POPF, so that the single-step trap follows the
 * one instruction after it (SDM Vol. 3 17.3.1.4), and returns; the label
 * step_X_end is where the trap must point. on_db clears TF. */
	.macro set_tf
	pushfl
	orl $RFLAGS_TF, (%esp)
	popfl
	.endm

	.globl step_cpuid, step_cpuid_end
step_cpuid:
	pushl %ebx
	xorl %eax, %eax
	xorl %ecx, %ecx
	set_tf
	cpuid
step_cpuid_end:
	nop
	popl %ebx
	ret

	.globl step_in, step_in_end
step_in:
	movw $0x3ff, %dx /* COM1's scratch register */
	set_tf
	inb %dx, %al
step_in_end:
	nop
	ret

	.globl step_rdmsr, step_rdmsr_end
step_rdmsr:
	movl $0x1b, %ecx /* IA32_APIC_BASE */
	set_tf
	rdmsr
step_rdmsr_end:
	nop
	ret

	.globl step_mmio, step_mmio_end
step_mmio:
	set_tf
	movl 0xfee00030, %eax /* local APIC version register */
step_mmio_end:
	nop
	ret

/* MOV SS holds back the trap of its own step: one #DB after CPUID. */
	.globl step_movss, step_movss_end
step_movss:
	pushl %ebx
	xorl %eax, %eax
	xorl %ecx, %ecx
	movw %ss, %dx
	set_tf
	movw %dx, %ss
	cpuid
step_movss_end:
	nop
	popl %ebx
	ret

/* STI's own step traps at HLT (STI blocking holds back interrupts, not
 * #DB); HLT's step traps when an interrupt wakes it, before the interrupt
 * (SDM Vol. 3 6.9: traps on the previous instruction come first). */
	.globl step_sti_hlt, step_sti_hlt_at, step_sti_hlt_end
step_sti_hlt:
	cli
	set_tf
	sti
step_sti_hlt_at:
	hlt
step_sti_hlt_end:
	nop
	ret

/* A MOV to CR4 that sets a reserved bit: #GP (SDM Vol. 2 MOV-Control
 * Registers); on_gp resumes at rf_resume. */
	.globl bad_cr4_write, rf_resume
bad_cr4_write:
	movl %cr4, %eax
	orl $CR4_RESERVED_BIT31, %eax
	movl %eax, %cr4
rf_resume:
	ret

/* The instruction breakpoint's target. */
	.globl bp_target
bp_target:
	nop
	ret
