/* Guest image loading (see image.h): finds the kernel's Multiboot header,
 * places the kernel (ELF program headers, or the header's address fields
 * for flat binaries), then the modules and the boot information, the way
 * GRUB does. Every address and size from the image is checked against the
 * file and guest RAM before anything is copied. */
#include "vmm/load/image.h"
#include "vmm/load/errmsg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/load/bytes.h"
#include "vmm/load/elf.h"
#include "vmm/load/memmap.h"
#include "vmm/load/multiboot.h"
#include "vmm/load/multiboot1.h"
#include "vmm/load/multiboot2.h"

#define IMAGE_LOADER_NAME "pgvisor"
#define IMAGE_MAX_MODULES 32
/* The kernel may not use the first page: it holds the real-mode interrupt
 * vectors and BIOS data area, and keeping it free makes guest null-pointer
 * accesses miss the kernel. The rest of the available memory map is open,
 * below 640 KiB too, as GRUB allows. */
#define GUEST_LOAD_MIN 0x1000ull
/* Multiboot enters the kernel in 32-bit mode with paging off. */
#define GUEST_32BIT_END 0x100000000ull
#define INFO_ALIGN 8u /* MB2 section 3.6.2; harmless for MB1 */

/* Whether the kernel may occupy [addr, addr + len) of the VM; what is
 * "segment" or "image" for the message. */
static int check_kernel_range(const struct guest_ram *ram, uint64_t addr, uint64_t len,
			      const char *what, char *err, size_t errlen)
{
	char ramstr[32];
	unsigned long long a = addr, l = len;

	if (len == 0)
		return 0;
	if (!range_within(addr, len, ram->size)) {
		guest_ram_size_str(ram->size, ramstr, sizeof(ramstr));
		return errf(err, errlen, "does not fit in %s of RAM: %s at 0x%llx size 0x%llx",
			    ramstr, what, a, l);
	}
	if (!range_within(addr, len, GUEST_32BIT_END))
		return errf(err, errlen,
			    "%s at 0x%llx size 0x%llx lies above 4 GiB, out of reach of the "
			    "32-bit Multiboot entry",
			    what, a, l);
	if (ranges_overlap(addr, len, 0, GUEST_LOAD_MIN))
		return errf(err, errlen,
			    "%s at 0x%llx size 0x%llx overlaps the first page [0, 0x%llx) "
			    "(real-mode interrupt vectors and BIOS data)",
			    what, a, l, GUEST_LOAD_MIN);
	if (!guest_memmap_available(ram->size, addr, len))
		return errf(err, errlen,
			    "%s at 0x%llx size 0x%llx overlaps the reserved legacy area "
			    "[0x%llx, 0x%llx) (EBDA, VGA memory, BIOS ROM)",
			    what, a, l, GUEST_LOW_RAM_END, GUEST_HIGH_RAM_START);
	return 0;
}

struct kernel_placement {
	uint64_t end; /* one past the highest byte the kernel occupies */
	uint32_t entry;
};

static int load_elf(const struct elf_file *ef, const struct mb_request *req, struct guest_ram *ram,
		    struct kernel_placement *kp, char *err, size_t errlen)
{
	struct elf_phdr ph;
	uint64_t entry = ef->entry, end = 0;
	bool entry_mapped = false, entry_loaded = false;
	unsigned nload = 0;

	/* Check everything before writing anything. */
	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_read_phdr(ef, i, &ph);
		if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz)
			return errf(err, errlen,
				    "ELF segment %u: file size 0x%llx is larger than its memory "
				    "size 0x%llx",
				    i, (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
		if (ph.filesz && !range_within(ph.offset, ph.filesz, ef->size))
			return errf(err, errlen,
				    "truncated: ELF segment %u at offset 0x%llx size 0x%llx runs "
				    "past the end of the file (0x%zx bytes)",
				    i, (unsigned long long)ph.offset, (unsigned long long)ph.filesz,
				    ef->size);
		if (check_kernel_range(ram, ph.paddr, ph.memsz, "segment", err, errlen) < 0)
			return -1;
		/* Like GRUB, an entry point given as a virtual address inside
		 * a segment becomes the matching physical address. */
		if (!entry_mapped && ef->entry >= ph.vaddr && ef->entry - ph.vaddr < ph.memsz) {
			entry = ef->entry - ph.vaddr + ph.paddr;
			entry_mapped = true;
		}
		if (ph.paddr + ph.memsz > end)
			end = ph.paddr + ph.memsz;
		nload++;
	}
	if (nload == 0)
		return errf(err, errlen, "ELF file has no loadable segments");
	if (req->has_entry)
		entry = req->entry_addr;
	for (unsigned i = 0; i < ef->phnum && !entry_loaded; i++) {
		elf_read_phdr(ef, i, &ph);
		entry_loaded =
			ph.type == ELF_PT_LOAD && entry >= ph.paddr && entry - ph.paddr < ph.memsz;
	}
	if (!entry_loaded)
		return errf(err, errlen, "entry point 0x%llx is not inside any loaded segment",
			    (unsigned long long)entry);

	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_read_phdr(ef, i, &ph);
		if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
			continue;
		uint8_t *dst = ram->host + ph.paddr;
		if (ph.filesz)
			memcpy(dst, ef->data + ph.offset, (size_t)ph.filesz);
		memset(dst + ph.filesz, 0, (size_t)(ph.memsz - ph.filesz));
	}
	kp->end = end;
	kp->entry = (uint32_t)entry; /* inside a segment, so below 4 GiB */
	return 0;
}

/* Loads the file as a flat binary by the header's address fields (MB1
 * section 3.1.3, MB2 section 3.1.5). */
static int load_flat(const struct image_file *k, const struct mb_request *req,
		     struct guest_ram *ram, struct kernel_placement *kp, char *err, size_t errlen)
{
	uint64_t hoff = req->header_offset, load_size, mem_end;

	if (req->header_addr < req->load_addr)
		return errf(err, errlen, "Multiboot header_addr 0x%x is below load_addr 0x%x",
			    req->header_addr, req->load_addr);
	uint64_t before = req->header_addr - req->load_addr;
	if (before > hoff)
		return errf(err, errlen,
			    "Multiboot load_addr 0x%x is 0x%llx bytes before the header, which "
			    "is only at file offset 0x%llx",
			    req->load_addr, (unsigned long long)before, (unsigned long long)hoff);
	uint64_t file_off = hoff - before;
	if (req->load_end_addr == 0) {
		load_size = k->size - file_off;
	} else {
		if (req->load_end_addr < req->load_addr)
			return errf(err, errlen,
				    "Multiboot load_end_addr 0x%x is below load_addr 0x%x",
				    req->load_end_addr, req->load_addr);
		load_size = req->load_end_addr - req->load_addr;
		if (!range_within(file_off, load_size, k->size))
			return errf(err, errlen,
				    "truncated: Multiboot load_end_addr 0x%x asks for 0x%llx bytes "
				    "from file offset 0x%llx, past the end of the file (0x%zx "
				    "bytes)",
				    req->load_end_addr, (unsigned long long)load_size,
				    (unsigned long long)file_off, k->size);
	}
	mem_end = req->load_addr + load_size;
	if (req->bss_end_addr) {
		if (req->bss_end_addr < mem_end)
			return errf(err, errlen,
				    "Multiboot bss_end_addr 0x%x is below the end of the loaded "
				    "data 0x%llx",
				    req->bss_end_addr, (unsigned long long)mem_end);
		mem_end = req->bss_end_addr;
	}
	if (check_kernel_range(ram, req->load_addr, mem_end - req->load_addr, "image", err,
			       errlen) < 0)
		return -1;
	if (req->entry_addr < req->load_addr || req->entry_addr >= mem_end)
		return errf(err, errlen,
			    "entry point 0x%x is outside the loaded image [0x%x, 0x%llx)",
			    req->entry_addr, req->load_addr, (unsigned long long)mem_end);

	uint8_t *dst = ram->host + req->load_addr;
	if (load_size)
		memcpy(dst, k->data + file_off, (size_t)load_size);
	memset(dst + load_size, 0, (size_t)(mem_end - req->load_addr - load_size));
	kp->end = mem_end;
	kp->entry = req->entry_addr;
	return 0;
}

/* Hands out guest memory upwards from the kernel's end, skipping the
 * legacy area, below min(RAM size, 4 GiB - 1). */
struct placer {
	uint64_t next;
	uint64_t end;
};

static bool place(struct placer *p, uint64_t size, uint64_t align, uint64_t *addr)
{
	uint64_t a;

	if (!align_up_checked(p->next, align, &a))
		return false;
	if (a < GUEST_HIGH_RAM_START && !range_within(a, size, GUEST_LOW_RAM_END))
		a = GUEST_HIGH_RAM_START;
	if (!range_within(a, size, p->end))
		return false;
	p->next = a + size;
	*addr = a;
	return true;
}

/* Finds the header. Returns 1 with req and *format set, or -1. */
static int find_header(const struct image_file *k, struct mb_request *req,
		       enum image_format *format, char *err, size_t errlen)
{
	int32_t bad2, bad1;
	int found;

	found = mb2_find_header(k->data, k->size, req, &bad2, err, errlen);
	if (found != 0) {
		*format = IMAGE_MULTIBOOT2;
		return found;
	}
	found = mb1_find_header(k->data, k->size, req, &bad1, err, errlen);
	if (found != 0) {
		*format = IMAGE_MULTIBOOT1;
		return found;
	}
	if (bad2 >= 0)
		return errf(err, errlen, "Multiboot2 header at offset 0x%x has a bad checksum",
			    bad2);
	if (bad1 >= 0)
		return errf(err, errlen, "Multiboot header at offset 0x%x has a bad checksum",
			    bad1);
	/* An ELF file's own problems say more than the missing header. */
	struct elf_file ef;
	if (elf_open(k->data, k->size, &ef, err, errlen) < 0)
		return -1;
	return errf(err, errlen,
		    "no Multiboot header (Multiboot2 in the first %u bytes or Multiboot 1 in "
		    "the first %u)",
		    MB2_SEARCH_LIMIT, MB1_SEARCH_LIMIT);
}

int image_load(const struct image_file *kernel, const char *cmdline,
	       const struct image_file *modules, unsigned nmodules, struct guest_ram *ram,
	       struct image_entry *entry, char *err, size_t errlen)
{
	struct mb_request req;
	enum image_format format = IMAGE_MULTIBOOT2;
	struct kernel_placement kp = { 0, 0 };
	struct mb_module mods[IMAGE_MAX_MODULES];
	char ramstr[32];

	if (find_header(kernel, &req, &format, err, errlen) < 0)
		return -1;
	if (req.has_addr) {
		if (load_flat(kernel, &req, ram, &kp, err, errlen) < 0)
			return -1;
	} else {
		struct elf_file ef;
		if (elf_open(kernel->data, kernel->size, &ef, err, errlen) < 0 ||
		    load_elf(&ef, &req, ram, &kp, err, errlen) < 0)
			return -1;
	}

	if (nmodules > IMAGE_MAX_MODULES)
		return errf(err, errlen, "too many modules (%u, max %u)", nmodules,
			    IMAGE_MAX_MODULES);
	guest_ram_size_str(ram->size, ramstr, sizeof(ramstr));
	/* Module ends (exclusive) are 32-bit fields too: stay below 4 GiB - 1. */
	struct placer pl = { kp.end, ram->size < UINT32_MAX ? ram->size : UINT32_MAX };
	for (unsigned i = 0; i < nmodules; i++) {
		const struct image_file *m = &modules[i];
		uint64_t at;
		mods[i].name = m->name ? m->name : "";
		if (!place(&pl, m->size, MB_MODULE_ALIGN, &at))
			return errf(
				err, errlen,
				"does not fit in %s of RAM: module '%s' (0x%zx bytes) after the "
				"kernel's end at 0x%llx",
				ramstr, mods[i].name, m->size, (unsigned long long)kp.end);
		if (m->size)
			memcpy(ram->host + at, m->data, m->size);
		mods[i].start = (uint32_t)at;
		mods[i].end = (uint32_t)(at + m->size);
	}

	struct mb_boot_info bi = {
		.cmdline = cmdline ? cmdline : "",
		.loader_name = IMAGE_LOADER_NAME,
		.modules = mods,
		.nmodules = nmodules,
		.ram_size = ram->size,
	};
	size_t info_size = format == IMAGE_MULTIBOOT2 ? mb2_info_size(&bi) : mb1_info_size(&bi);
	uint64_t info;
	if (!place(&pl, info_size, INFO_ALIGN, &info))
		return errf(err, errlen,
			    "does not fit in %s of RAM: boot information (0x%zx bytes) after the "
			    "kernel and modules",
			    ramstr, info_size);
	int rc = format == IMAGE_MULTIBOOT2
			 ? mb2_info_write(ram->host + info, info_size, &bi)
			 : mb1_info_write(ram->host + info, info_size, (uint32_t)info, &bi);
	if (rc < 0)
		return errf(err, errlen, "internal error: boot information size mismatch");

	entry->format = format;
	entry->eip = kp.entry;
	entry->eax = format == IMAGE_MULTIBOOT2 ? MB2_BOOTLOADER_MAGIC : MB1_BOOTLOADER_MAGIC;
	entry->ebx = (uint32_t)info;
	return 0;
}
