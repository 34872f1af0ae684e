/* The chaos guest's machine layer: the Multiboot entry (32-bit protected
 * mode) that turns on long mode over an identity map of the low 4 GiB,
 * the GDT/TSS/IDT, and the one way out of every operation: chaos_call runs
 * an operation, and any exception, interrupt, INT n or SYSCALL it causes,
 * at CPL 0 or CPL 3, lands back in chaos_call as a non-zero return, so the
 * guest carries on whatever the operation did (a longjmp, not an IRET into
 * the faulting code: INT n of an error-code vector pushes no error code,
 * so the frame's layout cannot be trusted). */
#include "guest/chaos/layout.h"

#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define PAGE_PRESENT_RW_USER 0x7
#define PAGE_LARGE 0x80
#define PAGE_UNCACHED 0x18 /* PCD | PWT: the 4th GiB holds device windows */
#define RFLAGS_RESERVED 0x2
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %edi		/* Multiboot magic, kept for chaos_main */
	movl %ebx, %esi		/* info */
	lgdt gdt_descriptor32
	ljmp $CODE32_SEL, $1f
1:	movw $KERNEL_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $stack_top, %esp
	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB
	 * pages: 4 GiB identity-mapped, user-accessible, so the same pages
	 * serve CPL 3. */
	movl $pdpt, %eax
	orl $PAGE_PRESENT_RW_USER, %eax
	movl %eax, pml4
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $12, %eax
	addl $page_dirs, %eax
	orl $PAGE_PRESENT_RW_USER, %eax
	movl %eax, pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 2b
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PAGE_PRESENT_RW_USER | PAGE_LARGE), %eax
	cmpl $(3 * 512), %ecx
	jb 4f
	orl $PAGE_UNCACHED, %eax
4:	movl %eax, page_dirs(, %ecx, 8)
	incl %ecx
	cmpl $(4 * 512), %ecx
	jb 3b
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $KERNEL_CODE_SEL, $long_mode

	.code64
long_mode:
	movw $KERNEL_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	pushq $RFLAGS_RESERVED
	popfq
	/* edi = magic, esi = info, zero-extended by the 32-bit moves. */
	call chaos_main
5:	cli
	hlt
	jmp 5b

/* int chaos_call(void (*fn)(void *), void *arg): 0 when fn returned, 1
 * when an event ended it (chaos_trap_vector says which). */
	.text
	.globl chaos_call
chaos_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp		/* 16-byte alignment for the call */
	movq %rsp, chaos_resume_rsp(%rip)
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	xorl %eax, %eax
	jmp 1f
chaos_resume:
	movl $1, %eax
1:	movq $0, chaos_resume_rsp(%rip)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* void chaos_enter_user(void (*fn)(void *), void *arg): runs fn(arg) at
 * CPL 3 with interrupts off. It never returns: fn ends with INT
 * USER_DONE_VECTOR (or a fault), which chaos_call catches. */
	.globl chaos_enter_user
chaos_enter_user:
	pushq $USER_DATA_SEL
	pushq $user_stack_top
	pushq $RFLAGS_RESERVED
	pushq $USER_CODE_SEL
	pushq $user_trampoline
	iretq
user_trampoline:
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movb $1, chaos_user_returned(%rip)
	int $USER_DONE_VECTOR
	ud2

/* SYSCALL lands here (IA32_LSTAR), at CPL 0 on the caller's stack. */
	.globl chaos_syscall_entry
chaos_syscall_entry:
	movl $SYSCALL_VECTOR, %eax
	jmp trap_to_resume

/* One 16-byte stub per vector: push the vector, go to the common path.
 * The error code, if the CPU pushed one, is left with the frame. */
	.align 16
	.globl chaos_vector_stubs
chaos_vector_stubs:
	vector = 0
	.rept 256
	.align 16
	pushq $vector
	jmp trap_common
	vector = vector + 1
	.endr

trap_common:
	popq %rax
trap_to_resume:
	/* A debug-register operation may have left breakpoints armed: drop
	 * them before touching memory that one may cover. */
	cmpb $0, chaos_dr7_armed(%rip)
	je 1f
	xorl %ecx, %ecx
	movq %rcx, %dr7
	movb $0, chaos_dr7_armed(%rip)
1:	cmpq $0, chaos_resume_rsp(%rip)
	je unexpected
	movq %rax, chaos_trap_vector(%rip)
	/* Off the event's stack, flags cleared (NT would make IRETQ fault),
	 * then IRETQ to ourselves: it lifts the NMI blocking an NMI left and
	 * puts SS and CS back, whatever ring the event came from. */
	movq chaos_resume_rsp(%rip), %rsp
	pushq $RFLAGS_RESERVED
	popfq
	movq %rsp, %rcx
	pushq $KERNEL_DATA_SEL
	pushq %rcx
	pushq $RFLAGS_RESERVED
	pushq $KERNEL_CODE_SEL
	leaq chaos_resume(%rip), %rcx
	pushq %rcx
	iretq

unexpected:
	/* Not inside an operation: the guest's own bug. */
	movq %rax, %rdi
	movq %rsp, %rsi
	andq $-16, %rsp
	call chaos_unexpected_trap
2:	cli
	hlt
	jmp 2b

/* INT n for every n: chaos_int_stubs + 8 * n is "int $n; ret". */
	.align 8
	.globl chaos_int_stubs
chaos_int_stubs:
	vector = 0
	.rept 256
	.align 8
	int $vector
	ret
	vector = vector + 1
	.endr

/* The real-mode page a started second vCPU runs: it halts for good. */
	.globl chaos_ap_park_start, chaos_ap_park_end
	.code16
chaos_ap_park_start:
	cli
1:	hlt
	jmp 1b
chaos_ap_park_end:
	.code64

	.section .rodata
	.align 8
gdt_descriptor32:
	.short GDT_BYTES - 1
	.long chaos_gdt

	.section .data
	.align 16
	.globl chaos_gdt
chaos_gdt:
	.quad 0				/* null */
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* 0x10: data, DPL 0 */
	.quad 0x00cff2000000ffff	/* 0x18: data, DPL 3 (SYSRET's SS) */
	.quad 0x00affa000000ffff	/* 0x20: 64-bit code, DPL 3 */
	.quad 0, 0			/* 0x28: the TSS, filled in by chaos_main */
	.quad 0x00cf9a000000ffff	/* 0x38: 32-bit code: the way in, the mode phases */
	/* 0x40, 0x48: 16-bit code and data at MODE_AREA, 64 KiB (modes.S) */
	.quad 0x00009a000000ffff | ((MODE_AREA & 0xffffff) << 16)
	.quad 0x000092000000ffff | ((MODE_AREA & 0xffffff) << 16)

	.section .bss
	.align 4096
pml4:	.skip 4096
pdpt:	.skip 4096
page_dirs:
	.skip 4 * 4096
	.align 16
	.skip STACK_SIZE
stack_top:
	.skip STACK_SIZE
user_stack_top:
	.globl chaos_trap_stack_top
	.skip STACK_SIZE
chaos_trap_stack_top:
