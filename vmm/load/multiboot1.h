/* Multiboot 1, as in the Multiboot Specification version 0.6.96: finding
 * and checking the kernel's header (section 3.1) and building the boot
 * information structure (section 3.3) handed over in EBX (section 3.2). */
#ifndef PGVISOR_MULTIBOOT1_H
#define PGVISOR_MULTIBOOT1_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/load/multiboot.h"

/* Section 3.1.1: the header is within the first 8192 bytes, 32-bit aligned. */
#define MB1_SEARCH_LIMIT 8192u
#define MB1_HEADER_ALIGN 4u

/* Section 3.1.2: magic fields. magic + flags + checksum == 0 (mod 2^32). */
#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_HDR_MAGIC 0 /* offsets in the header */
#define MB1_HDR_FLAGS 4
#define MB1_HDR_CHECKSUM 8
/* Section 3.1.3: address fields, valid when flag 16 is set. */
#define MB1_HDR_HEADER_ADDR 12
#define MB1_HDR_LOAD_ADDR 16
#define MB1_HDR_LOAD_END_ADDR 20
#define MB1_HDR_BSS_END_ADDR 24
#define MB1_HDR_ENTRY_ADDR 28
#define MB1_HDR_SIZE_ADDR 32 /* header size with the address fields */
/* Section 3.1.4: graphics fields, valid when flag 2 is set. */
#define MB1_HDR_MODE_TYPE 32
#define MB1_HDR_SIZE_VIDEO 48

/* Section 3.1.2: header flags. Bits 0-15 are requirements the loader must
 * refuse if it does not understand them; bits 16-31 are optional. */
#define MB1_HF_PAGE_ALIGN (1u << 0)   /* modules page (4 KiB) aligned */
#define MB1_HF_MEMORY_INFO (1u << 1)  /* mem_* and mmap_* fields wanted */
#define MB1_HF_VIDEO_MODE (1u << 2)   /* video mode table wanted */
#define MB1_HF_AOUT_KLUDGE (1u << 16) /* address fields valid */
#define MB1_HF_REQUIRED_MASK 0x0000FFFFu

/* Section 3.2: EAX on entry. */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u

/* Section 3.3: boot information structure, offsets and flags. */
#define MB1_INFO_FLAGS 0
#define MB1_INFO_MEM_LOWER 4
#define MB1_INFO_MEM_UPPER 8
#define MB1_INFO_BOOT_DEVICE 12
#define MB1_INFO_CMDLINE 16
#define MB1_INFO_MODS_COUNT 20
#define MB1_INFO_MODS_ADDR 24
#define MB1_INFO_SYMS 28 /* 16 bytes: a.out or ELF section symbols */
#define MB1_INFO_MMAP_LENGTH 44
#define MB1_INFO_MMAP_ADDR 48
#define MB1_INFO_DRIVES_LENGTH 52
#define MB1_INFO_DRIVES_ADDR 56
#define MB1_INFO_CONFIG_TABLE 60
#define MB1_INFO_BOOT_LOADER_NAME 64
#define MB1_INFO_APM_TABLE 68
#define MB1_INFO_VBE 72		/* 16 bytes of VBE fields */
#define MB1_INFO_FRAMEBUFFER 88 /* 28 bytes of framebuffer fields */
#define MB1_INFO_SIZE 116

#define MB1_INFO_F_MEMORY (1u << 0)
#define MB1_INFO_F_BOOTDEV (1u << 1)
#define MB1_INFO_F_CMDLINE (1u << 2)
#define MB1_INFO_F_MODS (1u << 3)
#define MB1_INFO_F_AOUT_SYMS (1u << 4)
#define MB1_INFO_F_ELF_SHDR (1u << 5)
#define MB1_INFO_F_MEM_MAP (1u << 6)
#define MB1_INFO_F_DRIVE_INFO (1u << 7)
#define MB1_INFO_F_CONFIG_TABLE (1u << 8)
#define MB1_INFO_F_BOOT_LOADER_NAME (1u << 9)
#define MB1_INFO_F_APM_TABLE (1u << 10)
#define MB1_INFO_F_VBE_INFO (1u << 11)
#define MB1_INFO_F_FRAMEBUFFER_INFO (1u << 12)

/* Section 3.3: one module: mod_start, mod_end, string, reserved (0). */
#define MB1_MOD_START 0
#define MB1_MOD_END 4
#define MB1_MOD_STRING 8
#define MB1_MOD_SIZE 16

/* Section 3.3: one memory map entry. "size" is the size of the rest of the
 * entry; the next entry starts size + 4 bytes later. */
#define MB1_MMAP_SIZE 0
#define MB1_MMAP_BASE_ADDR 4
#define MB1_MMAP_LENGTH 12
#define MB1_MMAP_TYPE 20
#define MB1_MMAP_ENTRY_SIZE 24

/* Looks for a Multiboot 1 header with a valid checksum. Returns 1 and
 * fills req when found; 0 when there is none (with *bad_checksum_at the
 * offset of the first magic whose checksum fails, or -1); -1 with a
 * message in err when the header asks for something pgvisor cannot do or
 * is cut short by the end of the file. */
int mb1_find_header(const uint8_t *img, size_t size, struct mb_request *req,
		    int32_t *bad_checksum_at, char *err, size_t errlen);

/* Size of the information structure with its memory map, module list and
 * strings, all in one block. */
size_t mb1_info_size(const struct mb_boot_info *bi);

/* Writes that block into buf (size bytes, at guest-physical address addr,
 * 8-aligned). Returns -1, writing nothing, if size is too small. */
int mb1_info_write(uint8_t *buf, size_t size, uint32_t addr, const struct mb_boot_info *bi);

#endif
