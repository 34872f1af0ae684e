/* Multiboot1 header: link this object to make a program bootable with
 * GRUB's "multiboot" command. Flags: page-align modules, provide memory
 * information (the ELF headers give the load addresses). */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000003

	.section .multiboot, "a"
	.align 4
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
