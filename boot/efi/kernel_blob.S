/* build/pgvisor.elf (debug information stripped), inside the UEFI loader.
 * KERNEL_ELF is its path, given by the Makefile. */
	.section .rodata
	.balign 16
	.globl kernel_elf
kernel_elf:
	.incbin KERNEL_ELF
	.globl kernel_elf_end
kernel_elf_end:
	.section .note.GNU-stack, "", @progbits
