/* From the Multiboot2 machine state (32-bit protected mode, paging off,
 * EAX = magic, EBX = info) to 64-bit long mode, then kmain(magic, info).
 *
 * Long mode needs paging (SDM Vol. 3 9.8.5): we identity-map the first
 * 4 GiB with 2 MiB pages — enough for the image, the boot loader's data
 * and the LAPIC/IOAPIC MMIO; arch/x86/paging.c later maps all RAM. */
#include "arch/x86/segments.h"

#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_LARGE 0x80
#define BOOT_STACK_SIZE 16384

	.section .text.boot, "ax"
	.code32
	.globl mb2_entry
mb2_entry:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, %edi /* kmain's first argument: the magic */
	movl %ebx, %esi /* second: the info structure */

	/* No long mode: say so on the serial port and stop. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> PDPT; PDPT[0..3] -> boot_pd[0..3]; 2048 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $(PTE_PRESENT | PTE_WRITE), %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $(PTE_PRESENT | PTE_WRITE), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_PRESENT | PTE_WRITE | PTE_LARGE), %eax
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0

	lgdt boot_gdt_desc
	ljmp $SEL_KERNEL_CS, $entry64

no_long_mode:
	movl $no_lm_msg, %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
entry64:
	movw $SEL_KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_lm_msg:
	.asciz "pgvisor: error: this CPU has no 64-bit long mode\r\n"

	/* A minimal GDT for the switch; arch/x86/gdt.c installs the real one.
	 * The descriptor's base is a quad so that boot/entry64_efi.S can load
	 * it in 64-bit mode too (LGDT reads a 4-byte base in 32-bit mode). */
	.balign 16
boot_gdt:
	.quad 0
	.quad GDT_CODE64_DESC
	.quad GDT_DATA_DESC
boot_gdt_end:
	.globl boot_gdt_desc
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
	.globl boot_pdpt
boot_pdpt:
	.skip 4096
	.globl boot_pd
boot_pd:
	.skip 4096 * 4
	.globl boot_stack, boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
