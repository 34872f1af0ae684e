/* Multiboot2 boot information -> struct boot_info (Multiboot2 spec 3.6). */
#include "boot/multiboot2_info.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "boot/efi_memmap.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_ALIGN 8
/* The RSDP an ACPI tag copies: 20 bytes in ACPI 1.0, 36 from 2.0 on
 * (ACPI 6.4 table 5.3). */
#define ACPI_RSDP_V1_SIZE 20
#define ACPI_RSDP_V2_SIZE 36

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
	char name[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch;
	uint32_t width;
	uint32_t height;
	uint8_t bpp;
	uint8_t type;
	uint16_t reserved;
	/* type 1 (RGB): position and size of each colour field */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct mb2_tag_efi64 {
	struct mb2_tag tag;
	uint64_t system_table;
};

struct mb2_tag_efi_mmap {
	struct mb2_tag tag;
	uint32_t desc_size;
	uint32_t desc_version;
	/* EFI_MEMORY_DESCRIPTORs follow */
};

static void copy_string(char *dst, size_t dstlen, const char *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void add_mmap(struct boot_info *bi, const struct mb2_tag_mmap *m)
{
	const uint8_t *p = (const uint8_t *)(m + 1);
	const uint8_t *end = (const uint8_t *)m + m->tag.size;

	for (; p + m->entry_size <= end; p += m->entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)p;
		if (bi->nmem == BOOT_MAX_MEM_RANGES) {
			bi->mem_dropped++;
			continue;
		}
		/* Multiboot2 type 1 = available, 3 = ACPI, 4 = NVS, 5 = bad:
		 * E820 numbering; anything else is reserved. */
		uint32_t type =
			e->type >= MEM_USABLE && e->type <= MEM_BAD ? e->type : MEM_RESERVED;
		bi->mem[bi->nmem++] = (struct mem_range){ e->base, e->length, type };
	}
}

/* The smallest size of a tag of this type: its fixed fields, which are read
 * without further checks. GRUB never writes shorter tags, but firmware and
 * other loaders have bugs. */
static uint32_t tag_min_size(uint32_t type)
{
	switch (type) {
	case MB2_TAG_MODULE:
		return sizeof(struct mb2_tag_module);
	case MB2_TAG_MMAP:
		return sizeof(struct mb2_tag_mmap);
	case MB2_TAG_FRAMEBUFFER:
		return offsetof(struct mb2_tag_framebuffer, red_pos);
	case MB2_TAG_EFI64:
		return sizeof(struct mb2_tag_efi64);
	case MB2_TAG_EFI_MMAP:
		return sizeof(struct mb2_tag_efi_mmap);
	case MB2_TAG_ACPI_OLD:
		return sizeof(struct mb2_tag) + ACPI_RSDP_V1_SIZE;
	case MB2_TAG_ACPI_NEW:
		return sizeof(struct mb2_tag) + ACPI_RSDP_V2_SIZE;
	default:
		return sizeof(struct mb2_tag);
	}
}

int mb2_parse_info(uint64_t info, struct boot_info *bi, char *err, unsigned errlen)
{
	uint32_t total = *(const uint32_t *)info;
	const uint8_t *p = (const uint8_t *)info + 8;
	const uint8_t *end = (const uint8_t *)info + total;
	const struct mb2_tag_efi_mmap *efi_mmap = NULL;

	memset(bi, 0, sizeof(*bi));
	bi->loader = "multiboot2";
	bi->info_start = info;
	bi->info_end = info + total;
	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *t = (const struct mb2_tag *)p;
		if (t->type == MB2_TAG_END)
			break;
		if (t->size < tag_min_size(t->type) || p + t->size > end) {
			snprintf(err, errlen, "malformed Multiboot2 tag %u (size %u)", t->type,
				 t->size);
			return -1;
		}
		size_t payload = t->size - sizeof(*t);
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, sizeof(bi->cmdline), (const char *)(t + 1),
				    payload);
			break;
		case MB2_TAG_LOADER_NAME:
			copy_string(bi->loader_name, sizeof(bi->loader_name), (const char *)(t + 1),
				    payload);
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *m = (const struct mb2_tag_module *)t;
			if (bi->nfiles >= BOOT_MAX_FILES) {
				snprintf(err, errlen, "more than %d boot modules", BOOT_MAX_FILES);
				return -1;
			}
			struct boot_file *f = &bi->files[bi->nfiles++];
			copy_string(f->name, sizeof(f->name), m->name, t->size - sizeof(*m));
			if (m->mod_end < m->mod_start) {
				snprintf(err, errlen, "Multiboot2 module %s ends before it starts",
					 f->name);
				return -1;
			}
			f->data = (const uint8_t *)(uint64_t)m->mod_start;
			f->size = m->mod_end - m->mod_start;
			break;
		}
		case MB2_TAG_MMAP: {
			const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)t;
			/* Entries are 8-byte aligned and hold at least our fields. */
			if (m->entry_size < sizeof(struct mb2_mmap_entry) ||
			    m->entry_size % MB2_TAG_ALIGN) {
				snprintf(err, errlen,
					 "malformed Multiboot2 memory map (entry size %u)",
					 m->entry_size);
				return -1;
			}
			add_mmap(bi, m);
			break;
		}
		case MB2_TAG_FRAMEBUFFER: {
			const struct mb2_tag_framebuffer *fb =
				(const struct mb2_tag_framebuffer *)t;
			bi->fb = (struct boot_framebuffer){ .addr = fb->addr,
							    .pitch = fb->pitch,
							    .width = fb->width,
							    .height = fb->height,
							    .bpp = fb->bpp,
							    .type = fb->type };
			/* The tag ends after the colour fields (38 bytes), before
			 * the struct's alignment padding. */
			if (fb->type == BOOT_FB_TYPE_RGB &&
			    t->size >= offsetof(struct mb2_tag_framebuffer, blue_size) + 1) {
				bi->fb.red_pos = fb->red_pos;
				bi->fb.red_size = fb->red_size;
				bi->fb.green_pos = fb->green_pos;
				bi->fb.green_size = fb->green_size;
				bi->fb.blue_pos = fb->blue_pos;
				bi->fb.blue_size = fb->blue_size;
			}
			break;
		}
		case MB2_TAG_EFI64:
			bi->efi_system_table = ((const struct mb2_tag_efi64 *)t)->system_table;
			break;
		case MB2_TAG_EFI_MMAP:
			efi_mmap = (const struct mb2_tag_efi_mmap *)t;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* The tag holds a copy of the RSDP; prefer the ACPI 2.0 one. */
			if (!bi->acpi_rsdp || t->type == MB2_TAG_ACPI_NEW)
				bi->acpi_rsdp = (uint64_t)(t + 1);
			break;
		default:
			break;
		}
		p += (t->size + MB2_TAG_ALIGN - 1) & ~(uint32_t)(MB2_TAG_ALIGN - 1);
	}
	/* GRUB-EFI passes the firmware's own map too: read it as our UEFI
	 * loader does, so both UEFI paths see the same memory. */
	if (efi_mmap && efi_memmap_convert(efi_mmap + 1, efi_mmap->tag.size - sizeof(*efi_mmap),
					   efi_mmap->desc_size, bi)) {
		snprintf(err, errlen, "malformed EFI memory map (descriptor size %u)",
			 efi_mmap->desc_size);
		return -1;
	}
	if (!bi->nmem) {
		snprintf(err, errlen, "the boot loader gave no memory map");
		return -1;
	}
	return 0;
}
