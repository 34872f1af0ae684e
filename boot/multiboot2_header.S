/* The Multiboot2 header (Multiboot2 spec 3.1). GRUB loads our ELF segments
 * and jumps to mb2_entry in 32-bit protected mode with paging off. */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag */
	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:
