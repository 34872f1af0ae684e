/* AP start code (guest/lib/ap_start.h): the part between ap_tramp_start
 * and ap_tramp_end runs in real mode from its copy at AP_TRAMP and leaves
 * through the copy's GDT; the rest runs in place. */
#define AP_TRAMP 0x8000
#define AP_MAX 8
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
	cmpl $AP_MAX, %eax
	ja 1f /* no stack left for it */
	movl %eax, %esp
	shll $12, %esp
	addl $ap_stacks, %esp /* the top of stack number - 1 */
	pushl %eax
	call *ap_entry
1:	cli
	hlt
	jmp 1b

	.data
	.balign 4
ap_next:
	.long 1
	.globl ap_entry
ap_entry:
	.long ap_no_entry
	.text
ap_no_entry:
	ret
	.bss
	.balign 4096
ap_stacks:
	.skip AP_STACK_SIZE * AP_MAX
