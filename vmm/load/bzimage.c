/* Linux bzImage loading (see bzimage.h). Section names below are those of
 * Documentation/arch/x86/boot.rst ("The real-mode kernel header", "Details
 * of header fields", "64-bit Boot Protocol"); zero-page offsets are those
 * of Documentation/arch/x86/zero-page.rst and
 * arch/x86/include/uapi/asm/bootparam.h. Every field of the image is
 * checked against the file and guest RAM before anything is written. */
#include "vmm/load/bzimage.h"
#include "vmm/load/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/load/bytes.h"
#include "vmm/load/memmap.h"

/* Setup header fields: offsets in the file, and in the zero page, where
 * the header is copied to the same place ("The real-mode kernel header"). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_JUMP 0x200 /* 2-byte short jump; its offset byte ends the header */
#define HDR_HEADER 0x202
#define HDR_VERSION 0x206
#define HDR_FIXED_END 0x208 /* through the version, present in every header */
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE_KERNEL 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
/* Protocol 2.12's header runs through handover_offset (2.11). */
#define HDR_END_MIN 0x268
/* The zero page's edd_mbr_sig_buffer follows the header area. */
#define HDR_END_MAX 0x290

#define HDR_MAGIC 0x53726448u /* "HdrS" */
#define PROTOCOL_MIN 0x020c   /* 2.12: xloadflags, 64-bit entry */
#define SECTOR_SIZE 512u
#define SETUP_SECTS_DEFAULT 4u /* "If this field is 0, the real value is 4." */
#define SYSSIZE_UNIT 16u       /* syssize counts 16-byte paragraphs */

#define LOADED_HIGH 0x01     /* loadflags: protected-mode code at 0x100000 */
#define XLF_KERNEL_64 0x0001 /* xloadflags: 64-bit entry at +0x200 */
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002

/* "type_of_loader": 0xFF means undefined, so no ext_loader_type/ver. */
#define LOADER_TYPE_UNDEFINED 0xff
#define ENTRY_64_OFFSET 0x200

/* Zero-page fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define E820_ENTRY_SIZE 20 /* struct boot_e820_entry: addr, size, type */

/* E820 type of the ACPI area. AddressRangeACPI (3) is RAM the OS may take
 * once it has read the tables (ACPI 6.4 Table 15.1), but the area also holds
 * the FACS, which must stay out of the OS's memory pool (section 5.2.10:
 * the global lock and waking vector live there), so the whole area is
 * AddressRangeReserved (2). */
#define E820_ACPI_AREA MEMMAP_RESERVED

/* Page-table entries (SDM Vol. 3A 4.5). */
#define PAGE_SIZE 0x1000ull
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define ENTRIES_PER_TABLE 512
#define LARGE_PAGE_SIZE 0x200000ull
#define GIB 0x40000000ull
#define IDENT_MAP_GIBS (BZIMAGE_IDENT_MAP_END / GIB)

/* GDT descriptors (SDM Vol. 3A 3.4.5): base 0, limit 0xFFFFF pages, present,
 * DPL 0, accessed (so the CPU never writes the GDT). 64-bit code has L=1,
 * data D/B=1; the same values as Linux's own boot GDT. */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull

static bool is_pow2(uint64_t v)
{
	return v && (v & (v - 1)) == 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void bzimage_default_layout(struct bzimage_layout *layout)
{
	layout->gdt = BZIMAGE_GDT_GPA;
	layout->zero_page = BZIMAGE_ZERO_PAGE_GPA;
	layout->page_tables = BZIMAGE_PAGE_TABLES_GPA;
	layout->cmdline = BZIMAGE_CMDLINE_GPA;
	layout->acpi_base = 0;
	layout->acpi_size = 0;
	layout->rsdp = 0;
}

bool bzimage_probe(const uint8_t *data, size_t size)
{
	return size >= HDR_HEADER + 4 && get_le32(data + HDR_HEADER) == HDR_MAGIC;
}

/* What the setup header says, checked against the file. */
struct bz_header {
	size_t hdr_end;	   /* one past the header's last byte */
	size_t setup_size; /* real-mode code: (setup_sects + 1) sectors */
	uint16_t version;
	uint16_t xloadflags;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	bool relocatable;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint64_t need; /* bytes the kernel occupies: init_size, or more */
};

static int parse_header(const struct image_file *k, struct bz_header *h, char *err, size_t errlen)
{
	if (k->size < HDR_FIXED_END)
		return errf(err, errlen,
			    "truncated: 0x%zx bytes, too short for a Linux setup header "
			    "(\"HdrS\" and the protocol version end at 0x%x)",
			    k->size, HDR_FIXED_END);
	if (get_le32(k->data + HDR_HEADER) != HDR_MAGIC)
		return errf(err, errlen, "not a Linux kernel image (no HdrS signature)");
	h->version = get_le16(k->data + HDR_VERSION);
	if (h->version < PROTOCOL_MIN)
		return errf(err, errlen, "Linux boot protocol %u.%02u is too old (need %u.%02u)",
			    h->version >> 8, h->version & 0xff, PROTOCOL_MIN >> 8,
			    PROTOCOL_MIN & 0xff);
	h->hdr_end = HDR_HEADER + (size_t)k->data[HDR_JUMP + 1];
	if (h->hdr_end < HDR_END_MIN)
		return errf(err, errlen,
			    "the setup header ends at 0x%zx, too short for boot protocol %u.%02u "
			    "(it needs fields up to 0x%x)",
			    h->hdr_end, h->version >> 8, h->version & 0xff, HDR_END_MIN);
	if (h->hdr_end > k->size)
		return errf(err, errlen,
			    "truncated: the setup header ends at 0x%zx, past the end of the file "
			    "(0x%zx bytes)",
			    h->hdr_end, k->size);
	if (h->hdr_end > HDR_END_MAX)
		h->hdr_end = HDR_END_MAX;
	if (!(k->data[HDR_LOADFLAGS] & LOADED_HIGH))
		return errf(err, errlen,
			    "not a bzImage (loadflags has no LOADED_HIGH: a zImage loaded at "
			    "0x10000)");
	h->xloadflags = get_le16(k->data + HDR_XLOADFLAGS);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return errf(err, errlen,
			    "the kernel has no 64-bit entry point (xloadflags "
			    "lacks XLF_KERNEL_64)");

	unsigned sects = k->data[HDR_SETUP_SECTS];
	if (sects == 0)
		sects = SETUP_SECTS_DEFAULT;
	h->setup_size = (size_t)(sects + 1) * SECTOR_SIZE;
	if (h->setup_size >= k->size)
		return errf(err, errlen,
			    "truncated: setup_sects %u puts the kernel at 0x%zx, past the end of "
			    "the file (0x%zx bytes)",
			    sects, h->setup_size, k->size);
	uint64_t pm_size = k->size - h->setup_size;
	uint64_t sys_size = (uint64_t)get_le32(k->data + HDR_SYSSIZE) * SYSSIZE_UNIT;
	if (sys_size > pm_size)
		return errf(
			err, errlen,
			"truncated: syssize says the protected-mode kernel is 0x%llx bytes, the "
			"file has 0x%llx after the setup code",
			(unsigned long long)sys_size, (unsigned long long)pm_size);

	h->initrd_addr_max = get_le32(k->data + HDR_INITRD_ADDR_MAX);
	h->kernel_alignment = get_le32(k->data + HDR_KERNEL_ALIGNMENT);
	h->relocatable = k->data[HDR_RELOCATABLE_KERNEL] != 0;
	h->cmdline_size = get_le32(k->data + HDR_CMDLINE_SIZE);
	h->pref_address = get_le64(k->data + HDR_PREF_ADDRESS);
	uint32_t init_size = get_le32(k->data + HDR_INIT_SIZE);
	h->need = init_size > pm_size ? init_size : pm_size;
	if (h->relocatable && !is_pow2(h->kernel_alignment))
		return errf(err, errlen, "kernel_alignment 0x%x is not a power of two",
			    h->kernel_alignment);
	return 0;
}

struct region {
	const char *what;
	uint64_t addr, size;
};

/* Whether the kernel may occupy [addr, addr + need): available RAM (not the
 * legacy hole), identity-mapped, clear of the ACPI area. */
static bool kernel_fits(const struct guest_ram *ram, const struct bzimage_layout *l, uint64_t addr,
			uint64_t need)
{
	return addr >= GUEST_HIGH_RAM_START && range_within(addr, need, BZIMAGE_IDENT_MAP_END) &&
	       guest_memmap_available(ram->size, addr, need) &&
	       !ranges_overlap(addr, need, l->acpi_base, l->acpi_size);
}

/* The load address: pref_address when it fits (and, for a relocatable
 * kernel, is aligned), else the lowest kernel_alignment-aligned address at
 * or above 1 MiB ("Details of header fields": relocatable_kernel,
 * kernel_alignment, pref_address). */
static int place_kernel(const struct bz_header *h, const struct guest_ram *ram,
			const struct bzimage_layout *l, uint64_t *addr, char *err, size_t errlen)
{
	char ramstr[32];
	uint64_t a;

	guest_ram_size_str(ram->size, ramstr, sizeof(ramstr));
	if ((!h->relocatable || h->pref_address % h->kernel_alignment == 0) &&
	    kernel_fits(ram, l, h->pref_address, h->need)) {
		*addr = h->pref_address;
		return 0;
	}
	if (!h->relocatable)
		return errf(err, errlen,
			    "does not fit in %s of RAM: the kernel is not relocatable and needs "
			    "[0x%llx, 0x%llx) (pref_address + init_size)",
			    ramstr, (unsigned long long)h->pref_address,
			    (unsigned long long)(h->pref_address + h->need));
	if (align_up_checked(GUEST_HIGH_RAM_START, h->kernel_alignment, &a) &&
	    kernel_fits(ram, l, a, h->need)) {
		*addr = a;
		return 0;
	}
	return errf(err, errlen,
		    "does not fit in %s of RAM: the kernel needs 0x%llx bytes (init_size) at a "
		    "0x%x-aligned address",
		    ramstr, (unsigned long long)h->need, h->kernel_alignment);
}

/* The initrd: page-aligned, as high as possible below the kernel's limit
 * (initrd_addr_max is the highest byte it may occupy, unless
 * XLF_CAN_BE_LOADED_ABOVE_4G), RAM and the identity map, and below the ACPI
 * area if that is in the way; above the kernel. */
static int place_initrd(const struct bz_header *h, const struct image_file *initrd,
			const struct guest_ram *ram, const struct bzimage_layout *l,
			uint64_t kernel_end, uint64_t *addr, char *err, size_t errlen)
{
	char ramstr[32];
	uint64_t top = min_u64(ram->size, BZIMAGE_IDENT_MAP_END), a = 0;
	bool ok;

	if (!(h->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G))
		top = min_u64(top, (uint64_t)h->initrd_addr_max + 1);
	ok = initrd->size <= top;
	if (ok) {
		a = (top - initrd->size) & ~(PAGE_SIZE - 1);
		if (ranges_overlap(a, initrd->size, l->acpi_base, l->acpi_size)) {
			ok = initrd->size <= l->acpi_base;
			a = (l->acpi_base - initrd->size) & ~(PAGE_SIZE - 1);
		}
	}
	if (!ok || a < kernel_end) {
		guest_ram_size_str(ram->size, ramstr, sizeof(ramstr));
		return errf(err, errlen,
			    "does not fit in %s of RAM: initrd '%s' (0x%zx bytes) between the "
			    "kernel's end 0x%llx and 0x%llx",
			    ramstr, initrd->name ? initrd->name : "", initrd->size,
			    (unsigned long long)kernel_end, (unsigned long long)top);
	}
	*addr = a;
	return 0;
}

/* Every region in available RAM below the identity map's end, and no two
 * overlapping. */
static int check_regions(const struct region *r, unsigned n, const struct guest_ram *ram, char *err,
			 size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		if (r[i].size == 0)
			continue;
		if (!range_within(r[i].addr, r[i].size, BZIMAGE_IDENT_MAP_END) ||
		    !guest_memmap_available(ram->size, r[i].addr, r[i].size)) {
			char ramstr[32];
			guest_ram_size_str(ram->size, ramstr, sizeof(ramstr));
			return errf(err, errlen,
				    "does not fit in %s of RAM: %s at 0x%llx size 0x%llx is not in "
				    "available RAM",
				    ramstr, r[i].what, (unsigned long long)r[i].addr,
				    (unsigned long long)r[i].size);
		}
		for (unsigned j = 0; j < i; j++)
			if (ranges_overlap(r[i].addr, r[i].size, r[j].addr, r[j].size))
				return errf(err, errlen,
					    "%s at 0x%llx size 0x%llx overlaps %s at 0x%llx size "
					    "0x%llx",
					    r[i].what, (unsigned long long)r[i].addr,
					    (unsigned long long)r[i].size, r[j].what,
					    (unsigned long long)r[j].addr,
					    (unsigned long long)r[j].size);
	}
	return 0;
}

static unsigned e820_add(uint8_t *zp, unsigned n, uint64_t base, uint64_t end, uint32_t type)
{
	uint8_t *e = zp + BP_E820_TABLE + n * E820_ENTRY_SIZE;

	if (end <= base)
		return n;
	put_le64(e, base);
	put_le64(e + 8, end - base);
	put_le32(e + 16, type);
	return n + 1;
}

/* The VM's memory map (memmap.h) with the ACPI area cut out of the
 * available range that holds it. */
static void write_e820(uint8_t *zp, uint64_t ram_size, const struct bzimage_layout *l)
{
	struct memmap_entry map[GUEST_MEMMAP_MAX];
	unsigned nmap = guest_memmap(ram_size, map), n = 0;
	uint64_t acpi_end = l->acpi_base + l->acpi_size;

	for (unsigned i = 0; i < nmap; i++) {
		uint64_t base = map[i].base, end = map[i].base + map[i].length;
		if (map[i].type == MEMMAP_AVAILABLE &&
		    ranges_overlap(base, map[i].length, l->acpi_base, l->acpi_size)) {
			n = e820_add(zp, n, base, l->acpi_base, MEMMAP_AVAILABLE);
			n = e820_add(zp, n, l->acpi_base, acpi_end, E820_ACPI_AREA);
			n = e820_add(zp, n, acpi_end, end, MEMMAP_AVAILABLE);
		} else {
			n = e820_add(zp, n, base, end, map[i].type);
		}
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
}

/* PML4 -> PDPT -> one page directory per GiB, 2 MiB pages mapping
 * [0, BZIMAGE_IDENT_MAP_END) to itself (SDM Vol. 3A 4.5, Figure 4-9). */
static void write_page_tables(uint8_t *ram, uint64_t pt)
{
	uint64_t pdpt = pt + PAGE_SIZE, pd = pdpt + PAGE_SIZE;

	memset(ram + pt, 0, BZIMAGE_PAGE_TABLES_SIZE);
	put_le64(ram + pt, pdpt | PTE_P | PTE_RW);
	for (uint64_t g = 0; g < IDENT_MAP_GIBS; g++) {
		uint64_t dir = pd + g * PAGE_SIZE;
		put_le64(ram + pdpt + g * 8, dir | PTE_P | PTE_RW);
		for (uint64_t i = 0; i < ENTRIES_PER_TABLE; i++)
			put_le64(ram + dir + i * 8,
				 (g * GIB + i * LARGE_PAGE_SIZE) | PTE_P | PTE_RW | PTE_PS);
	}
}

static void write_gdt(uint8_t *ram, uint64_t gdt)
{
	memset(ram + gdt, 0, BZIMAGE_GDT_SIZE);
	put_le64(ram + gdt + BZIMAGE_BOOT_CS, GDT_CODE64);
	put_le64(ram + gdt + BZIMAGE_BOOT_DS, GDT_DATA);
}

int bzimage_load(const struct image_file *kernel, const struct image_file *initrd,
		 const char *cmdline, struct guest_ram *ram, const struct bzimage_layout *layout,
		 struct bzimage_entry *entry, char *err, size_t errlen)
{
	struct bz_header h = { 0 };
	uint64_t kaddr = 0, iaddr = 0, isize = 0;
	size_t cmdlen;

	if (parse_header(kernel, &h, err, errlen) < 0)
		return -1;
	if (!cmdline)
		cmdline = "";
	cmdlen = strlen(cmdline);
	if (cmdlen > h.cmdline_size)
		return errf(err, errlen,
			    "the command line is %zu bytes, longer than the kernel's cmdline_size "
			    "%u",
			    cmdlen, h.cmdline_size);
	if (layout->acpi_size && (layout->acpi_base < GUEST_HIGH_RAM_START ||
				  !range_within(layout->acpi_base, layout->acpi_size, ram->size)))
		return errf(err, errlen,
			    "the ACPI area at 0x%llx size 0x%llx is not in RAM above 1 MiB",
			    (unsigned long long)layout->acpi_base,
			    (unsigned long long)layout->acpi_size);
	if (layout->page_tables % PAGE_SIZE)
		return errf(err, errlen, "the page tables at 0x%llx are not page-aligned",
			    (unsigned long long)layout->page_tables);
	if (place_kernel(&h, ram, layout, &kaddr, err, errlen) < 0)
		return -1;
	if (initrd && initrd->size) {
		if (place_initrd(&h, initrd, ram, layout, kaddr + h.need, &iaddr, err, errlen) < 0)
			return -1;
		isize = initrd->size;
	}
	const struct region regions[] = {
		{ "the GDT", layout->gdt, BZIMAGE_GDT_SIZE },
		{ "the zero page", layout->zero_page, BZIMAGE_ZERO_PAGE_SIZE },
		{ "the page tables", layout->page_tables, BZIMAGE_PAGE_TABLES_SIZE },
		{ "the command line", layout->cmdline, cmdlen + 1 },
		{ "the ACPI area", layout->acpi_base, layout->acpi_size },
		{ "the kernel", kaddr, h.need },
		{ "the initrd", iaddr, isize },
	};
	if (check_regions(regions, sizeof(regions) / sizeof(regions[0]), ram, err, errlen) < 0)
		return -1;

	/* Everything checked: write. */
	uint8_t *mem = ram->host;
	memcpy(mem + kaddr, kernel->data + h.setup_size, kernel->size - h.setup_size);
	if (isize)
		memcpy(mem + iaddr, initrd->data, isize);
	memcpy(mem + layout->cmdline, cmdline, cmdlen + 1);
	write_gdt(mem, layout->gdt);
	write_page_tables(mem, layout->page_tables);

	/* The zero page: a clean page with the image's setup header
	 * ("sentinel" stays 0), and what a boot loader fills in. */
	uint8_t *zp = mem + layout->zero_page;
	memset(zp, 0, BZIMAGE_ZERO_PAGE_SIZE);
	memcpy(zp + HDR_SETUP_SECTS, kernel->data + HDR_SETUP_SECTS, h.hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	put_le32(zp + HDR_CMD_LINE_PTR, (uint32_t)layout->cmdline);
	put_le32(zp + BP_EXT_CMD_LINE_PTR, (uint32_t)(layout->cmdline >> 32));
	put_le32(zp + HDR_RAMDISK_IMAGE, (uint32_t)iaddr);
	put_le32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(iaddr >> 32));
	put_le32(zp + HDR_RAMDISK_SIZE, (uint32_t)isize);
	put_le32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(isize >> 32));
	/* Read by every kernel since 5.0 whatever the protocol version
	 * (boot.rst: 2.14 "burnt", the field lives in boot_params). */
	put_le64(zp + BP_ACPI_RSDP_ADDR, layout->rsdp);
	write_e820(zp, ram->size, layout);

	memset(entry, 0, sizeof(*entry));
	entry->rip = kaddr + ENTRY_64_OFFSET;
	entry->rsi = layout->zero_page;
	entry->cr0 = BZIMAGE_CR0;
	entry->cr3 = layout->page_tables;
	entry->cr4 = BZIMAGE_CR4;
	entry->efer = BZIMAGE_EFER;
	entry->gdt_base = layout->gdt;
	entry->gdt_limit = BZIMAGE_GDT_SIZE - 1;
	entry->cs_sel = BZIMAGE_BOOT_CS;
	entry->ds_sel = BZIMAGE_BOOT_DS;
	entry->kernel_addr = kaddr;
	entry->kernel_size = h.need;
	entry->initrd_addr = iaddr;
	entry->initrd_size = isize;
	return 0;
}
