/* The chaos guest's mode phases: chaos_mode_phase leaves long mode for
 * 32-bit protected mode with paging off, and from there, when asked, goes
 * on to real mode; runs the script of operations modes.c wrote at
 * MODE_AREA + MODE_SCRIPT_OFF there; and comes back the way it went.
 *
 * In each mode every exception and interrupt lands in one handler (a
 * 32-bit IDT, a real-mode IVT) that abandons the operation and goes on
 * with the next one, as chaos_call does in long mode. Interrupts stay off
 * but for the HLT operation. An NMI may still come during a switch, with
 * the IDT register holding a table of the mode just left: the switches
 * run on a table that is valid in all three modes for vector 2 (the IVT
 * entry at byte 8, the 32-bit gate at byte 16, the 64-bit one at byte 32),
 * whose handlers return at once. */
#include "guest/chaos/layout.h"

#define CR0_PE_BIT 0
#define CR0_PG_BIT 31
#define MSR_EFER 0xc0000080
#define EFER_LME_BIT 8
#define FLAGS_RESERVED 0x2
#define LAPIC_BASE 0xfee00000
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_SVR_ENABLED_SPURIOUS_FF 0x1ff
#define ICR_SELF (1 << 18)
#define IDT32_BYTES (256 * 8)
#define IVT_BYTES (256 * 4)
#define RM_INT_STUB_BYTES 4
#define WIDTH_WORD 1 /* operand B of the port and memory operations: 0, 1, 2 = 8, 16, 32 bits */

/* The shared words, by physical address (protected mode) and by offset in
 * MODE_SEG (real mode), and a real-mode label's offset in MODE_SEG. */
#define STATE(field) (MODE_AREA + MODE_STATE_OFF + (field))
#define RM_STATE(field) (MODE_STATE_OFF + (field))
#define RM(label) ((label) - chaos_rm_start + MODE_CODE_OFF)

	.section .bss
	.align 8
saved_rsp:	.quad 0
saved_cr0:	.quad 0
saved_cr3:	.quad 0
saved_cr4:	.quad 0
saved_esp:	.long 0
phase_mode:	.long 0
saved_idt64:	.skip 10
	.align 16
	.globl chaos_idt32
chaos_idt32:	.skip IDT32_BYTES

	.section .rodata
	.align 8
idt32_descriptor:
	.short IDT32_BYTES - 1
	.long chaos_idt32
	.align 8
switch_idt_descriptor:	/* lidt reads 6 bytes of it outside 64-bit mode */
	.short SWITCH_IDT_BYTES - 1
	.quad MODE_AREA + MODE_SWITCH_IDT_OFF
real_stack:		/* lss: offset, selector */
	.long MODE_STACK_TOP_OFF
	.short DATA16_SEL

	.text
/* The operations both modes share, for prefix p (pm_ or rm_ labels, each
 * ending at p_op_done), the operands at (idx), memory through segment
 * prefix seg (real mode's FS keeps a 4 GiB limit: a #GP ends the
 * operation if it did not). */
.macro mode_ops p, idx, seg=
\p\()_port_in:
	movl MODE_OP_A(\idx), %edx
	cmpl $WIDTH_WORD, MODE_OP_B(\idx)
	jb 1f
	je 2f
	inl %dx, %eax
	jmp \p\()_op_done
1:	inb %dx, %al
	jmp \p\()_op_done
2:	inw %dx, %ax
	jmp \p\()_op_done

\p\()_port_out:
	movl MODE_OP_A(\idx), %edx
	movl MODE_OP_C(\idx), %eax
	cmpl $WIDTH_WORD, MODE_OP_B(\idx)
	jb 1f
	je 2f
	outl %eax, %dx
	jmp \p\()_op_done
1:	outb %al, %dx
	jmp \p\()_op_done
2:	outw %ax, %dx
	jmp \p\()_op_done

\p\()_cpuid:
	movl MODE_OP_A(\idx), %eax
	movl MODE_OP_B(\idx), %ecx
	cpuid
	jmp \p\()_op_done

\p\()_rdmsr:
	movl MODE_OP_A(\idx), %ecx
	rdmsr
	jmp \p\()_op_done

/* The MSR with operands B (low) and C (high) XORed in, then as it was. */
\p\()_wrmsr:
	movl MODE_OP_A(\idx), %ecx
	rdmsr
	movl %eax, %ebx
	movl %edx, %ebp
	xorl MODE_OP_B(\idx), %eax
	xorl MODE_OP_C(\idx), %edx
	wrmsr
	movl %ebx, %eax
	movl %ebp, %edx
	wrmsr
	jmp \p\()_op_done

\p\()_mem_read:
	movl MODE_OP_A(\idx), %ebx
	cmpl $WIDTH_WORD, MODE_OP_B(\idx)
	jb 1f
	je 2f
	movl \seg(%ebx), %eax
	jmp \p\()_op_done
1:	movb \seg(%ebx), %al
	jmp \p\()_op_done
2:	movw \seg(%ebx), %ax
	jmp \p\()_op_done

\p\()_mem_write:
	movl MODE_OP_A(\idx), %ebx
	movl MODE_OP_C(\idx), %eax
	cmpl $WIDTH_WORD, MODE_OP_B(\idx)
	jb 1f
	je 2f
	movl %eax, \seg(%ebx)
	jmp \p\()_op_done
1:	movb %al, \seg(%ebx)
	jmp \p\()_op_done
2:	movw %ax, \seg(%ebx)
	jmp \p\()_op_done

/* CR0 and CR4 with the bits of A flipped, then as they were. */
\p\()_cr0:
	movl %cr0, %eax
	movl %eax, %ebx
	xorl MODE_OP_A(\idx), %eax
	movl %eax, %cr0
	movl %ebx, %cr0
	jmp \p\()_op_done

\p\()_cr4:
	movl %cr4, %eax
	movl %eax, %ebx
	xorl MODE_OP_A(\idx), %eax
	movl %eax, %cr4
	movl %ebx, %cr4
	jmp \p\()_op_done

/* HLT with a self-IPI of vector A pending: nothing in service, the APIC
 * enabled, TPR 0, so the interrupt surely comes and ends the operation. */
\p\()_hlt_ipi:
	movl $LAPIC_BASE, %ebx
	movl $0, \seg\()LAPIC_EOI(%ebx)
	movl $LAPIC_SVR_ENABLED_SPURIOUS_FF, \seg\()LAPIC_SVR(%ebx)
	movl $0, \seg\()LAPIC_TPR(%ebx)
	movl MODE_OP_A(\idx), %eax
	orl $ICR_SELF, %eax
	movl %eax, \seg\()LAPIC_ICR_LOW(%ebx)
	sti
	hlt
	cli
	jmp \p\()_op_done
.endm

/* void chaos_mode_phase(unsigned mode): runs the script in MODE_PROTECTED
 * or MODE_REAL. Interrupts are off, and stay off. */
	.code64
	.globl chaos_mode_phase
chaos_mode_phase:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, saved_rsp(%rip)
	movl %edi, phase_mode(%rip)
	movq %cr0, %rax
	movq %rax, saved_cr0(%rip)
	movq %cr3, %rax
	movq %rax, saved_cr3(%rip)
	movq %cr4, %rax
	movq %rax, saved_cr4(%rip)
	sidt saved_idt64(%rip)
	lidt switch_idt_descriptor(%rip)
	/* Out of IA-32e mode (SDM Vol. 3 9.8.5.4): to compatibility mode,
	 * then paging off there, from an identity-mapped page. */
	pushq $CODE32_SEL
	pushq $compatibility_mode
	lretq

	.code32
compatibility_mode:
	movl %cr0, %eax
	btrl $CR0_PG_BIT, %eax
	movl %eax, %cr0		/* IA32_EFER.LMA clears with CR0.PG */
	movl $MSR_EFER, %ecx
	rdmsr
	btrl $EFER_LME_BIT, %eax
	wrmsr			/* LME may change only while CR0.PG = 0 */
	movw $KERNEL_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	cmpl $MODE_REAL, phase_mode
	je to_real_mode
	lidt idt32_descriptor
	call pm_run
	jmp to_long_mode

/* Back to IA-32e mode (SDM Vol. 3 9.8.5): CR4.PAE and CR3 as they were,
 * EFER.LME with paging still off, then CR0.PG (LMA sets; compatibility
 * mode), then a far jump to the 64-bit code segment. */
to_long_mode:
	lidt switch_idt_descriptor
	movl saved_cr4, %eax
	movl %eax, %cr4
	movl saved_cr3, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	btsl $EFER_LME_BIT, %eax
	wrmsr
	movl saved_cr0, %eax
	movl %eax, %cr0
	ljmp $KERNEL_CODE_SEL, $long_mode_again

	.code64
long_mode_again:
	movw $KERNEL_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq saved_rsp(%rip), %rsp
	lidt saved_idt64(%rip)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* The NMI handlers of the switches: the NMI is dropped. */
	.globl chaos_lm_nmi_return, chaos_pm_nmi_return
chaos_lm_nmi_return:
	iretq
	.code32
chaos_pm_nmi_return:
	/* Right after real mode set PE, CS is still real mode's: the far
	 * jump that was to follow, done by the IRET. */
	cmpl $MODE_SEG, 4(%esp)
	jne 1f
	movl $CODE32_SEL, 4(%esp)
	movl $protected_again, (%esp)
1:	iret

/* Into real mode (SDM Vol. 3 9.9.2): a 16-bit code segment and 64 KiB
 * data segments based at MODE_AREA, PE off, a far jump. FS keeps the flat
 * 4 GiB segment of protected mode ("big real mode"): through it real-mode
 * operations reach the device windows, where the hardware keeps the limit. */
to_real_mode:
	movl %esp, saved_esp
	lidt switch_idt_descriptor
	lss real_stack, %esp
	movw $DATA16_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %gs
	ljmp $CODE16_SEL, $RM(rm_protected16)

/* Out of real mode: PE on, a far jump to the 32-bit code segment, 4 GiB
 * data segments again. */
protected_again:
	movw $KERNEL_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl saved_esp, %esp
	jmp to_long_mode

/* Runs the script in protected mode: each operation with its operands at
 * (%esi); an event resumes at pm_op_done with the stack as it was. */
pm_run:
	movl $0, STATE(MODE_STATE_INDEX)
pm_next_op:
	movl STATE(MODE_STATE_INDEX), %eax
	cmpl STATE(MODE_STATE_COUNT), %eax
	jae 1f
	movl %esp, STATE(MODE_STATE_RESUME)
	shll $MODE_OP_SHIFT, %eax
	leal MODE_AREA + MODE_SCRIPT_OFF(%eax), %esi
	movl (%esi), %eax
	cmpl $MOP_KINDS, %eax
	jae pm_op_done
	jmp *pm_ops(, %eax, 4)
pm_op_done:
	incl STATE(MODE_STATE_INDEX)
	jmp pm_next_op
1:	ret

/* Every vector of the 32-bit IDT: the operation ends, IRET to ourselves
 * (it lifts the blocking an NMI leaves). */
	.globl chaos_pm_trap
chaos_pm_trap:
	movl STATE(MODE_STATE_RESUME), %esp
	incl STATE(MODE_STATE_EVENTS)
	pushl $FLAGS_RESERVED
	pushl $CODE32_SEL
	pushl $pm_op_done
	iret

	mode_ops pm, %esi

/* chaos_int_stubs' "int $n; ret" is the same code in 32-bit mode. */
pm_int_n:
	movl MODE_OP_A(%esi), %eax
	leal chaos_int_stubs(, %eax, INT_STUB_BYTES), %eax
	call *%eax
	jmp pm_op_done

	.section .rodata
	.align 4
pm_ops:	/* by MOP_* */
	.long pm_port_in, pm_port_out, pm_cpuid, pm_rdmsr, pm_wrmsr, pm_mem_read
	.long pm_mem_write, pm_int_n, pm_cr0, pm_cr4, pm_hlt_ipi

/* The real-mode code: chaos_mode_init copies it to MODE_AREA +
 * MODE_CODE_OFF, where it runs as segment MODE_SEG. */
	.text
	.code16
	.globl chaos_rm_start, chaos_rm_end, chaos_rm_trap, chaos_rm_nmi_return
chaos_rm_start:
rm_protected16:
	movl %cr0, %eax
	btrl $CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmp $MODE_SEG, $RM(rm_real)
rm_real:
	movw $MODE_SEG, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %gs
	movw %ax, %ss
	lidt %cs:RM(rm_ivt_descriptor)
	call rm_run
	/* Back (SDM Vol. 3 9.9.1): PE on, a far jump to 32-bit code. */
	lidtl %cs:RM(rm_switch_idt_descriptor)
	movl %cr0, %eax
	btsl $CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmpl $CODE32_SEL, $protected_again

/* The script in real mode, as pm_run; operands at (%si), segment DS. */
rm_run:
	movl $0, RM_STATE(MODE_STATE_INDEX)
rm_next_op:
	movl RM_STATE(MODE_STATE_INDEX), %eax
	cmpl RM_STATE(MODE_STATE_COUNT), %eax
	jae 1f
	movl %esp, RM_STATE(MODE_STATE_RESUME)
	shlw $MODE_OP_SHIFT, %ax
	movw %ax, %si
	addw $MODE_SCRIPT_OFF, %si
	movl (%si), %eax
	cmpl $MOP_KINDS, %eax
	jae rm_op_done
	movw %ax, %bx
	shlw $1, %bx
	jmp *%cs:RM(rm_ops)(%bx)
rm_op_done:
	incl RM_STATE(MODE_STATE_INDEX)
	jmp rm_next_op
1:	ret

/* Every vector of the IVT, as chaos_pm_trap. */
chaos_rm_trap:
	movl RM_STATE(MODE_STATE_RESUME), %esp
	incl RM_STATE(MODE_STATE_EVENTS)
	pushw $FLAGS_RESERVED
	pushw $MODE_SEG
	pushw $RM(rm_op_done)
	iret

/* Right after PE went off, CS is still CODE16_SEL: its IRET would make
 * it a real-mode segment of that number, so MODE_SEG, the same base. */
chaos_rm_nmi_return:
	pushw %bp
	movw %sp, %bp
	cmpw $CODE16_SEL, 4(%bp)
	jne 1f
	movw $MODE_SEG, 4(%bp)
1:	popw %bp
	iret

	mode_ops rm, %si, %fs:

rm_int_n:
	movw MODE_OP_A(%si), %bx
	shlw $2, %bx
	addw $RM(rm_int_stubs), %bx
	call *%bx
	jmp rm_op_done

	.align 2
rm_ops:	/* by MOP_* */
	.word RM(rm_port_in), RM(rm_port_out), RM(rm_cpuid), RM(rm_rdmsr), RM(rm_wrmsr)
	.word RM(rm_mem_read), RM(rm_mem_write), RM(rm_int_n), RM(rm_cr0), RM(rm_cr4)
	.word RM(rm_hlt_ipi)
rm_ivt_descriptor:
	.short IVT_BYTES - 1
	.long MODE_AREA + MODE_IVT_OFF
rm_switch_idt_descriptor:
	.short SWITCH_IDT_BYTES - 1
	.long MODE_AREA + MODE_SWITCH_IDT_OFF

/* INT n for every n: "int $n; ret" every RM_INT_STUB_BYTES. */
	.balign RM_INT_STUB_BYTES
rm_int_stubs:
	vector = 0
	.rept 256
	.balign RM_INT_STUB_BYTES
	int $vector
	ret
	vector = vector + 1
	.endr
chaos_rm_end:
	.code64
