/* Entry from our UEFI loader (boot/efi/loader.c) after ExitBootServices: 64-bit
 * long mode on the firmware's identity map (UEFI spec 2.10, 2.3.4), RDI =
 * BOOT_INFO_MAGIC, RSI = the struct boot_info the loader filled in.
 *
 * From here on nothing of the firmware's is used: the stub switches to the
 * hypervisor's boot GDT, the same 4 GiB identity map with 2 MiB pages that
 * boot/entry32.S builds, and the boot stack, then calls kmain(magic, info)
 * exactly as the Multiboot2 path does. */
#include "arch/x86/segments.h"

#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_LARGE 0x80
#define BOOT_PD_ENTRIES 2048 /* 4 GiB of 2 MiB pages */
#define BOOT_PDPT_ENTRIES 4

	.section .text.boot, "ax"
	.code64
	.globl efi_entry64
efi_entry64:
	cli
	cld
	movq %rdi, %r12 /* callee-saved across the switch */
	movq %rsi, %r13

	lgdt boot_gdt_desc(%rip)
	pushq $SEL_KERNEL_CS
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movw $SEL_KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs

	/* PML4[0] -> PDPT; PDPT[0..3] -> boot_pd[0..3]; 2048 2 MiB pages. */
	leaq boot_pdpt(%rip), %rax
	orq $(PTE_PRESENT | PTE_WRITE), %rax
	movq %rax, boot_pml4(%rip)
	xorl %ecx, %ecx
	leaq boot_pdpt(%rip), %rdx
2:	movq %rcx, %rax
	shlq $12, %rax
	leaq boot_pd(%rip), %rsi
	addq %rsi, %rax
	orq $(PTE_PRESENT | PTE_WRITE), %rax
	movq %rax, (%rdx, %rcx, 8)
	incl %ecx
	cmpl $BOOT_PDPT_ENTRIES, %ecx
	jb 2b
	xorl %ecx, %ecx
	leaq boot_pd(%rip), %rdx
3:	movq %rcx, %rax
	shlq $21, %rax
	orq $(PTE_PRESENT | PTE_WRITE | PTE_LARGE), %rax
	movq %rax, (%rdx, %rcx, 8)
	incl %ecx
	cmpl $BOOT_PD_ENTRIES, %ecx
	jb 3b
	leaq boot_pml4(%rip), %rax
	movq %rax, %cr3

	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movl %r12d, %edi
	movq %r13, %rsi
	call kmain
4:	cli
	hlt
	jmp 4b
