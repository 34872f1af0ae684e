/* Multiboot 1 header parsing and boot information (see multiboot1.h). */
#include "vmm/load/multiboot1.h"

#include <stdio.h>
#include <string.h>

#include "vmm/load/bytes.h"
#include "vmm/load/memmap.h"

/* Required flags pgvisor understands and honours. */
#define MB1_HF_SUPPORTED (MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO)

int mb1_find_header(const uint8_t *img, size_t size, struct mb_request *req,
		    int32_t *bad_checksum_at, char *err, size_t errlen)
{
	size_t limit = size < MB1_SEARCH_LIMIT ? size : MB1_SEARCH_LIMIT;

	memset(req, 0, sizeof(*req));
	*bad_checksum_at = -1;
	for (size_t off = 0; off + 12 <= limit; off += MB1_HEADER_ALIGN) {
		const uint8_t *h = img + off;
		if (get_le32(h + MB1_HDR_MAGIC) != MB1_HEADER_MAGIC)
			continue;
		uint32_t flags = get_le32(h + MB1_HDR_FLAGS);
		if (MB1_HEADER_MAGIC + flags + get_le32(h + MB1_HDR_CHECKSUM) != 0) {
			if (*bad_checksum_at < 0)
				*bad_checksum_at = (int32_t)off;
			continue;
		}

		uint32_t required = flags & MB1_HF_REQUIRED_MASK;
		if (required & MB1_HF_VIDEO_MODE) {
			snprintf(err, errlen,
				 "Multiboot header asks for a video mode (flag 2), which pgvisor "
				 "cannot provide");
			return -1;
		}
		if (required & ~MB1_HF_SUPPORTED) {
			snprintf(err, errlen,
				 "Multiboot header has unsupported required flags 0x%x",
				 required & ~MB1_HF_SUPPORTED);
			return -1;
		}
		req->header_offset = (uint32_t)off;
		req->page_align_modules = flags & MB1_HF_PAGE_ALIGN;
		if (flags & MB1_HF_AOUT_KLUDGE) {
			if (off + MB1_HDR_SIZE_ADDR > limit) {
				snprintf(err, errlen,
					 "truncated: Multiboot header at 0x%zx with address fields "
					 "runs past the end of the file or the first %u bytes",
					 off, MB1_SEARCH_LIMIT);
				return -1;
			}
			req->has_addr = true;
			req->header_addr = get_le32(h + MB1_HDR_HEADER_ADDR);
			req->load_addr = get_le32(h + MB1_HDR_LOAD_ADDR);
			req->load_end_addr = get_le32(h + MB1_HDR_LOAD_END_ADDR);
			req->bss_end_addr = get_le32(h + MB1_HDR_BSS_END_ADDR);
			req->has_entry = true;
			req->entry_addr = get_le32(h + MB1_HDR_ENTRY_ADDR);
		}
		return 1;
	}
	return 0;
}

static size_t mmap_entries(const struct mb_boot_info *bi)
{
	struct memmap_entry map[GUEST_MEMMAP_MAX];

	return guest_memmap(bi->ram_size, map);
}

/* Layout of the block: info | mmap | modules | strings. */
#define MB1_INFO_PADDED 120 /* MB1_INFO_SIZE rounded up to 8 */

size_t mb1_info_size(const struct mb_boot_info *bi)
{
	size_t n = MB1_INFO_PADDED + mmap_entries(bi) * MB1_MMAP_ENTRY_SIZE +
		   (size_t)bi->nmodules * MB1_MOD_SIZE;

	n += strlen(bi->cmdline) + 1 + strlen(bi->loader_name) + 1;
	for (unsigned i = 0; i < bi->nmodules; i++)
		n += strlen(bi->modules[i].name) + 1;
	return n;
}

/* Copies s with its NUL to buf + *off and returns its guest address. */
static uint32_t put_string(uint8_t *buf, size_t *off, uint32_t addr, const char *s)
{
	size_t len = strlen(s) + 1;
	uint32_t at = addr + (uint32_t)*off;

	memcpy(buf + *off, s, len);
	*off += len;
	return at;
}

int mb1_info_write(uint8_t *buf, size_t size, uint32_t addr, const struct mb_boot_info *bi)
{
	struct memmap_entry map[GUEST_MEMMAP_MAX];
	unsigned nmap = guest_memmap(bi->ram_size, map);

	if (size < mb1_info_size(bi))
		return -1;
	memset(buf, 0, MB1_INFO_PADDED);

	size_t off = MB1_INFO_PADDED;
	uint32_t mmap_addr = addr + (uint32_t)off;
	for (unsigned i = 0; i < nmap; i++, off += MB1_MMAP_ENTRY_SIZE) {
		put_le32(buf + off + MB1_MMAP_SIZE, MB1_MMAP_ENTRY_SIZE - 4);
		put_le64(buf + off + MB1_MMAP_BASE_ADDR, map[i].base);
		put_le64(buf + off + MB1_MMAP_LENGTH, map[i].length);
		put_le32(buf + off + MB1_MMAP_TYPE, map[i].type);
	}

	size_t mods_off = off;
	off += (size_t)bi->nmodules * MB1_MOD_SIZE;
	uint32_t cmdline = put_string(buf, &off, addr, bi->cmdline);
	uint32_t loader = put_string(buf, &off, addr, bi->loader_name);
	for (unsigned i = 0; i < bi->nmodules; i++) {
		uint8_t *m = buf + mods_off + (size_t)i * MB1_MOD_SIZE;
		put_le32(m + MB1_MOD_START, bi->modules[i].start);
		put_le32(m + MB1_MOD_END, bi->modules[i].end);
		put_le32(m + MB1_MOD_STRING, put_string(buf, &off, addr, bi->modules[i].name));
		put_le32(m + 12, 0); /* reserved */
	}

	put_le32(buf + MB1_INFO_FLAGS, MB1_INFO_F_MEMORY | MB1_INFO_F_CMDLINE | MB1_INFO_F_MODS |
					       MB1_INFO_F_MEM_MAP | MB1_INFO_F_BOOT_LOADER_NAME);
	put_le32(buf + MB1_INFO_MEM_LOWER, guest_mem_lower_kib(bi->ram_size));
	put_le32(buf + MB1_INFO_MEM_UPPER, guest_mem_upper_kib(bi->ram_size));
	put_le32(buf + MB1_INFO_CMDLINE, cmdline);
	put_le32(buf + MB1_INFO_MODS_COUNT, bi->nmodules);
	put_le32(buf + MB1_INFO_MODS_ADDR, addr + (uint32_t)mods_off);
	put_le32(buf + MB1_INFO_MMAP_LENGTH, nmap * MB1_MMAP_ENTRY_SIZE);
	put_le32(buf + MB1_INFO_MMAP_ADDR, mmap_addr);
	put_le32(buf + MB1_INFO_BOOT_LOADER_NAME, loader);
	return 0;
}
