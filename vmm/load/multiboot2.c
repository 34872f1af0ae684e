/* Multiboot2 header parsing and boot information (see multiboot2.h). */
#include "vmm/load/multiboot2.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/load/bytes.h"
#include "vmm/load/memmap.h"

static const char *info_tag_name(uint32_t type)
{
	static const char *const names[] = {
		[MB2_TAG_END] = "end",
		[MB2_TAG_CMDLINE] = "command line",
		[MB2_TAG_BOOT_LOADER_NAME] = "boot loader name",
		[MB2_TAG_MODULE] = "modules",
		[MB2_TAG_BASIC_MEMINFO] = "basic memory information",
		[MB2_TAG_BOOTDEV] = "BIOS boot device",
		[MB2_TAG_MMAP] = "memory map",
		[MB2_TAG_VBE] = "VBE info",
		[MB2_TAG_FRAMEBUFFER] = "framebuffer info",
		[MB2_TAG_ELF_SECTIONS] = "ELF symbols",
		[MB2_TAG_APM] = "APM table",
		[MB2_TAG_EFI32] = "EFI 32-bit system table",
		[MB2_TAG_EFI64] = "EFI 64-bit system table",
		[MB2_TAG_SMBIOS] = "SMBIOS tables",
		[MB2_TAG_ACPI_OLD] = "ACPI 1.0 RSDP",
		[MB2_TAG_ACPI_NEW] = "ACPI 2.0 RSDP",
		[MB2_TAG_NETWORK] = "networking information",
		[MB2_TAG_EFI_MMAP] = "EFI memory map",
		[MB2_TAG_EFI_BS] = "EFI boot services not terminated",
		[MB2_TAG_EFI32_IH] = "EFI 32-bit image handle",
		[MB2_TAG_EFI64_IH] = "EFI 64-bit image handle",
		[MB2_TAG_LOAD_BASE_ADDR] = "image load base address",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* The information tags pgvisor always provides (and END, which requests
 * nothing). */
static bool info_tag_provided(uint32_t type)
{
	switch (type) {
	case MB2_TAG_END:
	case MB2_TAG_CMDLINE:
	case MB2_TAG_BOOT_LOADER_NAME:
	case MB2_TAG_MODULE:
	case MB2_TAG_BASIC_MEMINFO:
	case MB2_TAG_MMAP:
		return true;
	default:
		return false;
	}
}

/* The smallest valid size of each header tag type pgvisor reads. */
static uint32_t header_tag_min_size(uint16_t type)
{
	switch (type) {
	case MB2_HEADER_TAG_ADDRESS:
		return MB2_ADDR_TAG_SIZE;
	case MB2_HEADER_TAG_ENTRY_ADDRESS:
		return MB2_ENTRY_TAG_SIZE;
	case MB2_HEADER_TAG_CONSOLE_FLAGS:
		return MB2_CONSOLE_TAG_SIZE;
	default:
		return MB2_TAG_HEADER_SIZE;
	}
}

/* Applies one header tag at t (size bytes, at least its minimum). */
static int header_tag(const uint8_t *t, uint16_t type, uint16_t flags, uint32_t size,
		      uint32_t tag_off, struct mb_request *req, char *err, size_t errlen)
{
	bool optional = flags & MB2_HEADER_TAG_OPTIONAL;

	switch (type) {
	case MB2_HEADER_TAG_INFORMATION_REQUEST:
		if (optional)
			return 0;
		for (uint32_t i = MB2_TAG_HEADER_SIZE; i + 4 <= size; i += 4) {
			uint32_t want = get_le32(t + i);
			if (!info_tag_provided(want)) {
				snprintf(err, errlen,
					 "Multiboot2 header requires information tag %u (%s), "
					 "which pgvisor cannot provide",
					 want, info_tag_name(want));
				return -1;
			}
		}
		return 0;
	case MB2_HEADER_TAG_ADDRESS:
		req->has_addr = true;
		req->header_addr = get_le32(t + MB2_ADDR_HEADER_ADDR);
		req->load_addr = get_le32(t + MB2_ADDR_LOAD_ADDR);
		req->load_end_addr = get_le32(t + MB2_ADDR_LOAD_END_ADDR);
		req->bss_end_addr = get_le32(t + MB2_ADDR_BSS_END_ADDR);
		return 0;
	case MB2_HEADER_TAG_ENTRY_ADDRESS:
		req->has_entry = true;
		req->entry_addr = get_le32(t + MB2_ENTRY_ADDR);
		return 0;
	case MB2_HEADER_TAG_CONSOLE_FLAGS:
		if (!optional && (get_le32(t + MB2_CONSOLE_FLAGS) & MB2_CONSOLE_REQUIRED)) {
			snprintf(err, errlen,
				 "Multiboot2 header requires a console, which pgvisor cannot "
				 "provide");
			return -1;
		}
		return 0;
	case MB2_HEADER_TAG_FRAMEBUFFER:
		if (!optional) {
			snprintf(err, errlen,
				 "Multiboot2 header requires a framebuffer, which pgvisor cannot "
				 "provide");
			return -1;
		}
		return 0;
	case MB2_HEADER_TAG_MODULE_ALIGN:
		req->page_align_modules = true;
		return 0;
	case MB2_HEADER_TAG_EFI_BS:
		if (!optional) {
			snprintf(err, errlen,
				 "Multiboot2 header requires EFI boot services, which pgvisor "
				 "cannot provide");
			return -1;
		}
		return 0;
	case MB2_HEADER_TAG_ENTRY_ADDRESS_EFI32:
	case MB2_HEADER_TAG_ENTRY_ADDRESS_EFI64:
		/* Used only when booted from EFI; a BIOS-style boot ignores
		 * them, as GRUB's i386-pc does. */
		return 0;
	case MB2_HEADER_TAG_RELOCATABLE:
		/* Loading at the linked addresses is always allowed. */
		return 0;
	default:
		if (optional)
			return 0;
		snprintf(err, errlen,
			 "Multiboot2 header has unsupported required tag type %u at offset 0x%x",
			 type, tag_off);
		return -1;
	}
}

static int parse_header(const uint8_t *img, uint32_t off, uint32_t len, struct mb_request *req,
			char *err, size_t errlen)
{
	uint32_t pos = off + MB2_HDR_TAGS, end = off + len;

	while (pos + MB2_TAG_HEADER_SIZE <= end) {
		const uint8_t *t = img + pos;
		uint16_t type = get_le16(t + MB2_TAG_TYPE);
		uint16_t flags = get_le16(t + MB2_TAG_FLAGS);
		uint32_t size = get_le32(t + MB2_TAG_SIZE);

		if (size < header_tag_min_size(type) || size > end - pos) {
			snprintf(err, errlen,
				 "Multiboot2 header tag type %u at offset 0x%x has bad size %u",
				 type, pos, size);
			return -1;
		}
		if (type == MB2_HEADER_TAG_END)
			return 0;
		if (header_tag(t, type, flags, size, pos, req, err, errlen) < 0)
			return -1;
		/* size <= end - pos and end < 2^16, so this cannot overflow. */
		pos += (size + MB2_TAG_ALIGN - 1) & ~(MB2_TAG_ALIGN - 1);
	}
	snprintf(err, errlen, "Multiboot2 header at offset 0x%x has no end tag", off);
	return -1;
}

int mb2_find_header(const uint8_t *img, size_t size, struct mb_request *req,
		    int32_t *bad_checksum_at, char *err, size_t errlen)
{
	size_t limit = size < MB2_SEARCH_LIMIT ? size : MB2_SEARCH_LIMIT;

	memset(req, 0, sizeof(*req));
	*bad_checksum_at = -1;
	for (size_t off = 0; off + MB2_HDR_TAGS <= limit; off += MB2_HEADER_ALIGN) {
		const uint8_t *h = img + off;
		if (get_le32(h + MB2_HDR_MAGIC) != MB2_HEADER_MAGIC)
			continue;
		uint32_t arch = get_le32(h + MB2_HDR_ARCHITECTURE);
		uint32_t len = get_le32(h + MB2_HDR_HEADER_LENGTH);
		if (MB2_HEADER_MAGIC + arch + len + get_le32(h + MB2_HDR_CHECKSUM) != 0) {
			if (*bad_checksum_at < 0)
				*bad_checksum_at = (int32_t)off;
			continue;
		}

		if (arch != MB2_ARCH_I386) {
			snprintf(err, errlen,
				 "wrong architecture: Multiboot2 header for architecture %u%s "
				 "(expected 0, i386)",
				 arch, arch == MB2_ARCH_MIPS32 ? " (MIPS)" : "");
			return -1;
		}
		if (len < MB2_HDR_TAGS || len > size - off) {
			snprintf(err, errlen,
				 "truncated: Multiboot2 header at offset 0x%zx (header_length %u) "
				 "runs past the end of the file (0x%zx bytes)",
				 off, len, size);
			return -1;
		}
		if (len > limit - off) {
			snprintf(err, errlen,
				 "Multiboot2 header at offset 0x%zx (header_length %u) runs past "
				 "the "
				 "first %u bytes",
				 off, len, MB2_SEARCH_LIMIT);
			return -1;
		}
		req->header_offset = (uint32_t)off;
		if (parse_header(img, (uint32_t)off, len, req, err, errlen) < 0)
			return -1;
		if (req->has_addr && req->load_addr == MB2_LOAD_ADDR_FILE_START) {
			if (req->header_addr < off) {
				snprintf(err, errlen,
					 "Multiboot2 address tag: header_addr 0x%x is below the "
					 "header's file offset 0x%zx",
					 req->header_addr, off);
				return -1;
			}
			req->load_addr = req->header_addr - (uint32_t)off;
		}
		if (req->has_addr && !req->has_entry) {
			snprintf(err, errlen,
				 "Multiboot2 header has an address tag but no entry address tag");
			return -1;
		}
		return 1;
	}
	return 0;
}

static size_t tag_padded(size_t n)
{
	return (n + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
}

static size_t string_tag_size(const char *s)
{
	return MB2_TAG_HEADER_SIZE + strlen(s) + 1;
}

static size_t module_tag_size(const struct mb_module *m)
{
	return MB2_MODULE_STRING + strlen(m->name) + 1;
}

static size_t mmap_tag_size(uint64_t ram_size)
{
	struct memmap_entry map[GUEST_MEMMAP_MAX];

	return MB2_MMAP_ENTRIES + (size_t)guest_memmap(ram_size, map) * MB2_MMAP_ENTRY_SIZE;
}

size_t mb2_info_size(const struct mb_boot_info *bi)
{
	size_t n = MB2_INFO_TAGS;

	n += tag_padded(string_tag_size(bi->cmdline));
	n += tag_padded(string_tag_size(bi->loader_name));
	for (unsigned i = 0; i < bi->nmodules; i++)
		n += tag_padded(module_tag_size(&bi->modules[i]));
	n += tag_padded(MB2_MEMINFO_TAG_SIZE);
	n += tag_padded(mmap_tag_size(bi->ram_size));
	return n + MB2_END_TAG_SIZE;
}

/* Starts a tag of the given type and unpadded size at buf + *off, and
 * moves *off past its padding. Returns the tag. */
static uint8_t *tag(uint8_t *buf, size_t *off, uint32_t type, size_t size)
{
	uint8_t *t = buf + *off;

	put_le32(t + MB2_INFO_TAG_TYPE, type);
	put_le32(t + MB2_INFO_TAG_SIZE, (uint32_t)size);
	*off += tag_padded(size);
	return t;
}

static void string_tag(uint8_t *buf, size_t *off, uint32_t type, const char *s)
{
	uint8_t *t = tag(buf, off, type, string_tag_size(s));

	memcpy(t + MB2_TAG_HEADER_SIZE, s, strlen(s) + 1);
}

int mb2_info_write(uint8_t *buf, size_t size, const struct mb_boot_info *bi)
{
	size_t total = mb2_info_size(bi), off = MB2_INFO_TAGS;
	struct memmap_entry map[GUEST_MEMMAP_MAX];
	unsigned nmap = guest_memmap(bi->ram_size, map);

	if (size < total || total > UINT32_MAX)
		return -1;
	memset(buf, 0, total); /* the padding between tags */
	put_le32(buf + MB2_INFO_TOTAL_SIZE, (uint32_t)total);
	put_le32(buf + MB2_INFO_RESERVED, 0);

	string_tag(buf, &off, MB2_TAG_CMDLINE, bi->cmdline);
	string_tag(buf, &off, MB2_TAG_BOOT_LOADER_NAME, bi->loader_name);
	for (unsigned i = 0; i < bi->nmodules; i++) {
		const struct mb_module *m = &bi->modules[i];
		uint8_t *t = tag(buf, &off, MB2_TAG_MODULE, module_tag_size(m));
		put_le32(t + MB2_MODULE_START, m->start);
		put_le32(t + MB2_MODULE_END, m->end);
		memcpy(t + MB2_MODULE_STRING, m->name, strlen(m->name) + 1);
	}

	uint8_t *t = tag(buf, &off, MB2_TAG_BASIC_MEMINFO, MB2_MEMINFO_TAG_SIZE);
	put_le32(t + MB2_MEMINFO_LOWER, guest_mem_lower_kib(bi->ram_size));
	put_le32(t + MB2_MEMINFO_UPPER, guest_mem_upper_kib(bi->ram_size));

	t = tag(buf, &off, MB2_TAG_MMAP, mmap_tag_size(bi->ram_size));
	put_le32(t + MB2_MMAP_ENTRY_SIZE_FIELD, MB2_MMAP_ENTRY_SIZE);
	put_le32(t + MB2_MMAP_ENTRY_VERSION_FIELD, MB2_MMAP_ENTRY_VERSION);
	for (unsigned i = 0; i < nmap; i++) {
		uint8_t *e = t + MB2_MMAP_ENTRIES + (size_t)i * MB2_MMAP_ENTRY_SIZE;
		put_le64(e + MB2_MMAP_BASE_ADDR, map[i].base);
		put_le64(e + MB2_MMAP_LENGTH, map[i].length);
		put_le32(e + MB2_MMAP_TYPE, map[i].type);
	}

	tag(buf, &off, MB2_TAG_END, MB2_END_TAG_SIZE);
	return 0;
}
