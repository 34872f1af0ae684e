/* The Multiboot2 header (Multiboot2 spec 3.1). GRUB loads our ELF segments
 * and jumps to mb2_entry in 32-bit protected mode with paging off. */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_CONSOLE_FLAGS 4
#define MB2_CONSOLE_TAG_SIZE 12
#define MB2_CONSOLE_EGA_TEXT_SUPPORTED 2
#define MB2_TAG_FRAMEBUFFER 5
#define MB2_TAG_OPTIONAL 1
#define MB2_FRAMEBUFFER_TAG_SIZE 20
#define MB2_ANY 0 /* width, height, depth: no preference */

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* VGA text mode is fine too (the BIOS path keeps it). */
	.balign 8
	.short MB2_TAG_CONSOLE_FLAGS
	.short MB2_TAG_OPTIONAL
	.long MB2_CONSOLE_TAG_SIZE
	.long MB2_CONSOLE_EGA_TEXT_SUPPORTED
	/* A framebuffer if there is one (optional, any mode; spec 3.1.10):
	 * GRUB-EFI has no text mode, so without this tag there is no screen
	 * for drivers/fbcon.c. The mode is GRUB's gfxpayload (scripts/mkiso:
	 * "keep" on UEFI, "text" on BIOS). */
	.balign 8
	.short MB2_TAG_FRAMEBUFFER
	.short MB2_TAG_OPTIONAL
	.long MB2_FRAMEBUFFER_TAG_SIZE
	.long MB2_ANY
	.long MB2_ANY
	.long MB2_ANY
	/* end tag */
	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:
