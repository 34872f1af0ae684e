/* Multiboot2, as in the Multiboot2 Specification version 2.0: finding and
 * checking the kernel's header and its tags (section 3.1) and building the
 * boot information structure (section 3.6) handed over in EBX (section
 * 3.3, i386 machine state). */
#ifndef PGVISOR_MULTIBOOT2_H
#define PGVISOR_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/load/multiboot.h"

/* Section 3.1.1: the header is within the first 32768 bytes, 64-bit
 * aligned. */
#define MB2_SEARCH_LIMIT 32768u
#define MB2_HEADER_ALIGN 8u

/* Section 3.1.2: magic fields. The four add up to 0 (mod 2^32). */
#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_HDR_MAGIC 0 /* offsets in the header */
#define MB2_HDR_ARCHITECTURE 4
#define MB2_HDR_HEADER_LENGTH 8
#define MB2_HDR_CHECKSUM 12
#define MB2_HDR_TAGS 16
#define MB2_ARCH_I386 0u   /* 32-bit protected mode of i386 */
#define MB2_ARCH_MIPS32 4u /* 32-bit MIPS */

/* Section 3.1.3: every header tag is u16 type, u16 flags, u32 size (with
 * these 8 bytes), padded so the next one starts 8-aligned. */
#define MB2_TAG_TYPE 0
#define MB2_TAG_FLAGS 2
#define MB2_TAG_SIZE 4
#define MB2_TAG_HEADER_SIZE 8
#define MB2_TAG_ALIGN 8u
#define MB2_HEADER_TAG_OPTIONAL 1u /* flags bit 0: loader may ignore the tag */

#define MB2_HEADER_TAG_END 0		     /* section 3.1.3 */
#define MB2_HEADER_TAG_INFORMATION_REQUEST 1 /* section 3.1.4: u32 types[] */
#define MB2_HEADER_TAG_ADDRESS 2	     /* section 3.1.5 */
#define MB2_HEADER_TAG_ENTRY_ADDRESS 3	     /* section 3.1.6 */
#define MB2_HEADER_TAG_CONSOLE_FLAGS 4	     /* section 3.1.9 */
#define MB2_HEADER_TAG_FRAMEBUFFER 5	     /* section 3.1.10 */
#define MB2_HEADER_TAG_MODULE_ALIGN 6	     /* section 3.1.11 */
#define MB2_HEADER_TAG_EFI_BS 7		     /* section 3.1.12 */
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI32 8 /* section 3.1.7 */
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI64 9 /* section 3.1.8 */
#define MB2_HEADER_TAG_RELOCATABLE 10	     /* section 3.1.13 */

/* Section 3.1.5: address tag fields (after the tag header). */
#define MB2_ADDR_HEADER_ADDR 8
#define MB2_ADDR_LOAD_ADDR 12
#define MB2_ADDR_LOAD_END_ADDR 16
#define MB2_ADDR_BSS_END_ADDR 20
#define MB2_ADDR_TAG_SIZE 24
#define MB2_LOAD_ADDR_FILE_START 0xFFFFFFFFu /* load_addr -1: from offset 0 */
/* Section 3.1.6: entry address tag. */
#define MB2_ENTRY_ADDR 8
#define MB2_ENTRY_TAG_SIZE 12
/* Section 3.1.9: console flags tag. */
#define MB2_CONSOLE_FLAGS 8
#define MB2_CONSOLE_TAG_SIZE 12
#define MB2_CONSOLE_REQUIRED (1u << 0)
#define MB2_CONSOLE_EGA_TEXT_SUPPORTED (1u << 1)

/* Section 3.3: EAX on entry. */
#define MB2_BOOTLOADER_MAGIC 0x36D76289u

/* Section 3.6.2: the information starts 8-aligned with u32 total_size
 * (including the end tag) and u32 reserved; then tags of u32 type, u32
 * size (without padding), each starting 8-aligned. */
#define MB2_INFO_TOTAL_SIZE 0
#define MB2_INFO_RESERVED 4
#define MB2_INFO_TAGS 8
#define MB2_INFO_TAG_TYPE 0
#define MB2_INFO_TAG_SIZE 4

#define MB2_TAG_END 0		   /* section 3.6.2 */
#define MB2_TAG_CMDLINE 1	   /* section 3.6.5: string */
#define MB2_TAG_BOOT_LOADER_NAME 2 /* section 3.6.9: string */
#define MB2_TAG_MODULE 3	   /* section 3.6.6: mod_start, mod_end, string */
#define MB2_TAG_BASIC_MEMINFO 4	   /* section 3.6.3: mem_lower, mem_upper */
#define MB2_TAG_BOOTDEV 5	   /* section 3.6.4 */
#define MB2_TAG_MMAP 6		   /* section 3.6.8 */
#define MB2_TAG_VBE 7		   /* section 3.6.11 */
#define MB2_TAG_FRAMEBUFFER 8	   /* section 3.6.12 */
#define MB2_TAG_ELF_SECTIONS 9	   /* section 3.6.7 */
#define MB2_TAG_APM 10		   /* section 3.6.10 */
#define MB2_TAG_EFI32 11	   /* section 3.6.13 */
#define MB2_TAG_EFI64 12	   /* section 3.6.14 */
#define MB2_TAG_SMBIOS 13	   /* section 3.6.15 */
#define MB2_TAG_ACPI_OLD 14	   /* section 3.6.16 */
#define MB2_TAG_ACPI_NEW 15	   /* section 3.6.17 */
#define MB2_TAG_NETWORK 16	   /* section 3.6.18 */
#define MB2_TAG_EFI_MMAP 17	   /* section 3.6.19 */
#define MB2_TAG_EFI_BS 18	   /* section 3.6.20 */
#define MB2_TAG_EFI32_IH 19	   /* section 3.6.21 */
#define MB2_TAG_EFI64_IH 20	   /* section 3.6.22 */
#define MB2_TAG_LOAD_BASE_ADDR 21  /* section 3.6.23 */

/* Section 3.6.6: module tag. */
#define MB2_MODULE_START 8
#define MB2_MODULE_END 12
#define MB2_MODULE_STRING 16
/* Section 3.6.3: basic memory information tag. */
#define MB2_MEMINFO_LOWER 8
#define MB2_MEMINFO_UPPER 12
#define MB2_MEMINFO_TAG_SIZE 16
/* Section 3.6.8: memory map tag: entry_size, entry_version, entries of
 * u64 base_addr, u64 length, u32 type, u32 reserved. */
#define MB2_MMAP_ENTRY_SIZE_FIELD 8
#define MB2_MMAP_ENTRY_VERSION_FIELD 12
#define MB2_MMAP_ENTRIES 16
#define MB2_MMAP_ENTRY_SIZE 24
#define MB2_MMAP_ENTRY_VERSION 0
#define MB2_MMAP_BASE_ADDR 0
#define MB2_MMAP_LENGTH 8
#define MB2_MMAP_TYPE 16
/* Section 3.6.2: the end tag. */
#define MB2_END_TAG_SIZE 8

/* Looks for a Multiboot2 header with a valid checksum and reads its tags.
 * Returns 1 and fills req when found; 0 when there is none (with
 * *bad_checksum_at the offset of the first magic whose checksum fails, or
 * -1); -1 with a message in err when the header is malformed, not for
 * i386, or has a tag pgvisor cannot honour (a non-optional unknown tag, an
 * information request for a tag it cannot provide, a framebuffer, a
 * required console, EFI boot services). */
int mb2_find_header(const uint8_t *img, size_t size, struct mb_request *req,
		    int32_t *bad_checksum_at, char *err, size_t errlen);

/* Size of the information structure (cmdline, boot loader name, modules,
 * basic meminfo, memory map and end tags). */
size_t mb2_info_size(const struct mb_boot_info *bi);

/* Writes it into buf (size bytes, to go at an 8-aligned guest-physical
 * address; the structure holds no pointers). Returns -1, writing nothing,
 * if size is too small. */
int mb2_info_write(uint8_t *buf, size_t size, const struct mb_boot_info *bi);

#endif
