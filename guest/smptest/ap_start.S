/* The smptest guest's AP start code: smptest.c copies ap_tramp_start ..
 * ap_tramp_end to AP_TRAMP (0x8000) before its INIT-SIPI broadcast with
 * vector 0x08. An AP leaves real mode through the copy's GDT, takes a
 * number and a stack, and calls ap_main(number). Also the interrupt
 * stubs for the IPIs and NMIs the test sends. */
#define AP_TRAMP 0x8000
#define CODE_SEL 0x08
#define DATA_SEL 0x10
#define AP_STACK_SIZE 4096
#define TRAMP(label) (AP_TRAMP + (label) - ap_tramp_start)

	.text
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMP(ap_gdt_desc)
	movl %cr0, %eax
	orl $1, %eax /* CR0.PE */
	movl %eax, %cr0
	ljmpl $CODE_SEL, $ap_pm32
	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* flat 32-bit code */
	.quad 0x00cf92000000ffff /* flat 32-bit data */
ap_gdt_desc:
	.short 23
	.long TRAMP(ap_gdt)
ap_tramp_end:

	.code32
ap_pm32:
	movw $DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next /* AP numbers 1, 2, ... */
	incl %eax
	movl %eax, %esp
	shll $12, %esp
	addl $ap_stacks, %esp /* the top of stack number - 1 */
	decl %eax
	pushl %eax
	call ap_main
1:	cli
	hlt
	jmp 1b

	.globl ipi_stub, nmi_stub
ipi_stub:
	pushal
	cld
	call on_ipi
	popal
	iret
nmi_stub:
	pushal
	cld
	call on_nmi
	popal
	iret

	.data
	.balign 4
ap_next:
	.long 1
	.bss
	.balign 4096
	.globl ap_stacks
ap_stacks:
	.skip AP_STACK_SIZE * 8
