/* Application processors start here: a SIPI with vector V starts a CPU in
 * real mode at V * 0x1000 (SDM Vol. 3 9.4.4.1, "MP Initialization
 * Protocol"). arch/x86/smp.c copies this code to AP_TRAMPOLINE_BASE
 * (below 1 MiB, page aligned) and fills ap_params; the code goes through
 * 32-bit protected mode to long mode (SDM 9.8.5) on the boot stub's 4 GiB
 * identity map, then switches to the hypervisor's page tables and stack
 * and calls params.entry(params.arg). It is position-dependent: every
 * address is computed from AP_TRAMPOLINE_BASE. */
#include "arch/x86/smp_trampoline.h"

#define CR0_PE (1 << 0)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define T_CODE32 0x08
#define T_DATA 0x10
#define T_CODE64 0x18
#define ADDR(label) (AP_TRAMPOLINE_BASE + (label) - ap_trampoline_start)

	.section .rodata
	.balign 16
	.globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
	.code16
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tgdt_desc - ap_trampoline_start
	/* INIT leaves caching off (CR0.CD, NW: SDM Vol. 3 Table 9-1). */
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $T_CODE32, $ADDR(pm32)

	.code32
pm32:
	movw $T_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
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
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $T_CODE64, $ADDR(lm64)

	.code64
lm64:
	movq ADDR(ap_trampoline_params) + AP_PARAM_CR3, %rax
	movq %rax, %cr3
	movq ADDR(ap_trampoline_params) + AP_PARAM_STACK, %rsp
	movq ADDR(ap_trampoline_params) + AP_PARAM_ARG, %rdi
	movq ADDR(ap_trampoline_params) + AP_PARAM_ENTRY, %rax
	xorl %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
tgdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 32-bit code */
	.quad 0x00cf92000000ffff /* data */
	.quad 0x00af9a000000ffff /* 64-bit code */
tgdt_end:
tgdt_desc:
	.short tgdt_end - tgdt - 1
	.long ADDR(tgdt)

	.balign 8
ap_trampoline_params:
	.skip AP_PARAMS_SIZE
ap_trampoline_end:
