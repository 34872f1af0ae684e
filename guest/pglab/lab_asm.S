/* pglab's ring transitions and exception entry (see lab.h). */
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define EFLAGS_FIXED 0x2
#define USER_STACK_SIZE 8192

#include "guest/lib/exception_stubs.inc"

	.text
	.code32
/* The frame struct lab_frame (pglab.c) describes: pushal, ES, DS,
 * vector, error code, then what the CPU pushed. */
lab_trap_common:
	pushl %ds
	pushl %es
	pushal
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	pushl %esp
	call lab_trap
	addl $4, %esp
	popal
	popl %es
	popl %ds
	addl $8, %esp
	iret

	exception_stubs lab_trap_stub, lab_trap_common

/* void form_invoke(void): calls form_fn with EAX..EDI zeroed and stores
 * the registers it leaves in form_out. A faulting form resumes at
 * form_fault_resume (lab_trap stored the registers). */
	.globl form_invoke
form_invoke:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, form_saved_esp
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	call *form_fn
	pushfl
	popl form_out+24
	movl %eax, form_out+0
	movl %ebx, form_out+4
	movl %ecx, form_out+8
	movl %edx, form_out+12
	movl %esi, form_out+16
	movl %edi, form_out+20
	jmp 1f
	.globl form_fault_resume
form_fault_resume:
	movw %ss, %ax
	movw %ax, %ds
	movl form_saved_esp, %esp
1:	movw %ss, %ax		/* SS is this CPL's data segment */
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* void lab_run_user(void (*fn)(void)): IRET to CPL 3, call fn there, come
 * back through the DPL-3 gate VEC_RETURN_TO_KERNEL. */
	.globl lab_run_user
lab_run_user:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %eax
	movl %eax, user_target
	movl %esp, kernel_saved_esp
	pushl $SEL_UDATA
	pushl $user_stack_top
	pushl $EFLAGS_FIXED		/* IOPL 0, IF 0 */
	pushl $SEL_UCODE
	pushl $user_entry
	iret
user_entry:
	movw $SEL_UDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	call *user_target
	int $0x80

	.globl lab_gate_return
lab_gate_return:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movl kernel_saved_esp, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.globl lab_gate_iret
lab_gate_iret:
	iret

	.data
	.align 4
form_saved_esp:	.long 0
kernel_saved_esp: .long 0
user_target:	.long 0

	.bss
	.align 16
	.skip USER_STACK_SIZE
user_stack_top:
