/* VM entry and exit (SDM Vol. 3 chapters 26 and 27).
 *
 * vmx_enter(regs, launched) saves the host's callee-saved registers on its
 * stack, records that stack in HOST_RSP, loads the guest's GPRs from *regs
 * and executes VMRESUME (or VMLAUNCH the first time). CR2 is not switched
 * here: no exit changes it (the hypervisor takes no page faults), so it
 * stays live across exits and is saved and loaded only when another vCPU
 * takes the CPU (sched.c switch_to, vcpu_set_cr2). A VM exit
 * lands at vmx_exit (HOST_RIP) with RSP = HOST_RSP: the GPRs are stored
 * back into *regs and vmx_enter returns 0 to its caller, as if the guest
 * run had been a function call. The host TSC is stored at the entry and at
 * the exit, for the exit profile (vmm/vm/exit_profile.h). */
#include "vmm/vm/vcpu.h"

#define VMCS_HOST_RSP 0x6c14
#define R(n) (8 * (n))

	.text
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi /* regs, found again at 0(%rsp) after the exit */
	movq $VMCS_HOST_RSP, %rdx
	vmwrite %rsp, %rdx
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, GUEST_REGS_ENTRY_TSC_OFFSET(%rdi)
	movl %esi, %eax

	movq R(1)(%rdi), %rcx
	movq R(2)(%rdi), %rdx
	movq R(3)(%rdi), %rbx
	movq R(5)(%rdi), %rbp
	movq R(6)(%rdi), %rsi
	movq R(8)(%rdi), %r8
	movq R(9)(%rdi), %r9
	movq R(10)(%rdi), %r10
	movq R(11)(%rdi), %r11
	movq R(12)(%rdi), %r12
	movq R(13)(%rdi), %r13
	movq R(14)(%rdi), %r14
	movq R(15)(%rdi), %r15
	testl %eax, %eax
	movq R(0)(%rdi), %rax /* mov leaves the flags of the test alone */
	movq R(7)(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp entry_failed
1:	vmresume
entry_failed:
	/* Only reached when the instruction itself failed (CF or ZF set). */
	popq %rdi
	movl $1, %eax
	jmp restore_host

	.globl vmx_exit
vmx_exit:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, R(0)(%rdi)
	movq %rcx, R(1)(%rdi)
	movq %rdx, R(2)(%rdi)
	movq %rbx, R(3)(%rdi)
	movq %rbp, R(5)(%rdi)
	movq %rsi, R(6)(%rdi)
	movq %r8, R(8)(%rdi)
	movq %r9, R(9)(%rdi)
	movq %r10, R(10)(%rdi)
	movq %r11, R(11)(%rdi)
	movq %r12, R(12)(%rdi)
	movq %r13, R(13)(%rdi)
	movq %r14, R(14)(%rdi)
	movq %r15, R(15)(%rdi)
	popq %rax
	movq %rax, R(7)(%rdi)
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, GUEST_REGS_EXIT_TSC_OFFSET(%rdi)
	popq %rdi
	xorl %eax, %eax
restore_host:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
