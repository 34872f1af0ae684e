/* Multiboot2 header: link this object to make a program bootable with
 * GRUB's "multiboot2" command. Only the mandatory end tag: the ELF headers
 * give the load addresses and the program needs no framebuffer. */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

	.section .multiboot, "a"
	.align 8
mb2_header_start:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header_start
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))
	/* End tag: type 0, flags 0, size 8. */
	.short 0
	.short 0
	.long 8
mb2_header_end:
