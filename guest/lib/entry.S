/* Program entry, reached the Multiboot way: 32-bit protected mode, paging
 * off, EAX = boot loader magic, EBX = info pointer, no usable stack or
 * GDT. Sets up both, then calls guest_start(magic, info) in C. */
#define CODE_SEL 0x08
#define DATA_SEL 0x10
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	/* The loader's GDT may be gone (GRUB says so): use our own. */
	lgdt gdt_descriptor
	ljmp $CODE_SEL, $1f
1:	movw $DATA_SEL, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	pushl $0		/* EFLAGS: IF, DF and AC clear */
	popfl
	pushl %ebx
	pushl %eax
	call guest_start
	/* guest_start never returns; stop hard if it ever did. */
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.align 8
gdt:
	.quad 0				/* null */
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat 32-bit data */
gdt_end:
gdt_descriptor:
	.short gdt_end - gdt - 1
	.long gdt

	.section .bss
	.align 16
	.skip STACK_SIZE
stack_top:
