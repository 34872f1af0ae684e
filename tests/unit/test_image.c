/* Unit tests for guest image loading (vmm/load/image.c and the ELF, Multiboot
 * and memory map files under it). Images are assembled here byte by byte:
 * ELF32/ELF64 executables with chosen segments and a Multiboot 1 or 2
 * header, and flat binaries using the header's address fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/load/bytes.h"
#include "vmm/load/elf.h"
#include "vmm/load/image.h"
#include "vmm/load/memmap.h"
#include "vmm/load/multiboot1.h"
#include "vmm/load/multiboot2.h"

#define MiB (1024ull * 1024)
#define IMG_MAX 0x4000

/* ---- image builders ---- */

struct seg {
	uint32_t type; /* 0 means PT_LOAD */
	uint64_t vaddr, paddr;
	const void *data;
	uint64_t filesz, memsz;
};

struct elf_spec {
	int is64;
	uint16_t machine; /* 0: the class's own */
	uint16_t type;	  /* 0: ET_EXEC */
	uint64_t entry;
	const struct seg *segs;
	unsigned nsegs;
	const uint8_t *mbh; /* Multiboot header to embed */
	size_t mbh_len;
	size_t mbh_at; /* 0: right after the program headers */
};

struct image {
	uint8_t data[IMG_MAX];
	size_t size;
	size_t phoff; /* where the program headers are */
	size_t phentsize;
	size_t mbh_at;
	size_t seg_off[8];
};

static size_t align_to(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static void build_elf(struct image *im, const struct elf_spec *s)
{
	size_t eh = s->is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
	size_t phe = s->is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
	uint8_t *d = im->data;

	memset(im, 0, sizeof(*im));
	im->phoff = eh;
	im->phentsize = phe;
	size_t off = align_to(eh + phe * s->nsegs, 8);
	if (s->mbh) {
		im->mbh_at = s->mbh_at ? s->mbh_at : off;
		memcpy(d + im->mbh_at, s->mbh, s->mbh_len);
		off = align_to(im->mbh_at + s->mbh_len, 16);
	}
	for (unsigned i = 0; i < s->nsegs; i++) {
		off = align_to(off, 16);
		im->seg_off[i] = off;
		if (s->segs[i].data)
			memcpy(d + off, s->segs[i].data, s->segs[i].filesz);
		off += s->segs[i].filesz;
	}
	im->size = off;
	assert_true(im->size <= IMG_MAX);

	d[0] = ELF_MAG0, d[1] = ELF_MAG1, d[2] = ELF_MAG2, d[3] = ELF_MAG3;
	d[ELF_EI_CLASS] = s->is64 ? ELF_CLASS64 : ELF_CLASS32;
	d[ELF_EI_DATA] = ELF_DATA2LSB;
	d[ELF_EI_VERSION] = ELF_EV_CURRENT;
	put_le16(d + 16, s->type ? s->type : ELF_ET_EXEC);
	put_le16(d + 18, s->machine ? s->machine : s->is64 ? ELF_EM_X86_64 : ELF_EM_386);
	put_le32(d + 20, ELF_EV_CURRENT);
	if (s->is64) {
		put_le64(d + 24, s->entry);
		put_le64(d + 32, eh);
		put_le16(d + 52, (uint16_t)eh);
		put_le16(d + 54, (uint16_t)phe);
		put_le16(d + 56, (uint16_t)s->nsegs);
	} else {
		put_le32(d + 24, (uint32_t)s->entry);
		put_le32(d + 28, (uint32_t)eh);
		put_le16(d + 40, (uint16_t)eh);
		put_le16(d + 42, (uint16_t)phe);
		put_le16(d + 44, (uint16_t)s->nsegs);
	}
	for (unsigned i = 0; i < s->nsegs; i++) {
		const struct seg *g = &s->segs[i];
		uint8_t *p = d + eh + i * phe;
		uint32_t type = g->type ? g->type : ELF_PT_LOAD;
		if (s->is64) {
			put_le32(p, type);
			put_le32(p + 4, 7);
			put_le64(p + 8, im->seg_off[i]);
			put_le64(p + 16, g->vaddr ? g->vaddr : g->paddr);
			put_le64(p + 24, g->paddr);
			put_le64(p + 32, g->filesz);
			put_le64(p + 40, g->memsz);
			put_le64(p + 48, 0x1000);
		} else {
			put_le32(p, type);
			put_le32(p + 4, (uint32_t)im->seg_off[i]);
			put_le32(p + 8, (uint32_t)(g->vaddr ? g->vaddr : g->paddr));
			put_le32(p + 12, (uint32_t)g->paddr);
			put_le32(p + 16, (uint32_t)g->filesz);
			put_le32(p + 20, (uint32_t)g->memsz);
			put_le32(p + 24, 7);
			put_le32(p + 28, 0x1000);
		}
	}
}

/* Program header field offsets by class. */
static size_t ph_field(const struct image *im, unsigned i, int is64, const char *field)
{
	size_t base = im->phoff + i * im->phentsize;
	if (!strcmp(field, "offset"))
		return base + (is64 ? 8 : 4);
	if (!strcmp(field, "paddr"))
		return base + (is64 ? 24 : 12);
	if (!strcmp(field, "filesz"))
		return base + (is64 ? 32 : 16);
	if (!strcmp(field, "memsz"))
		return base + (is64 ? 40 : 20);
	fail();
	return 0;
}

static size_t mb1_header(uint8_t *h, uint32_t flags, const uint32_t *addr)
{
	memset(h, 0, MB1_HDR_SIZE_VIDEO);
	put_le32(h + MB1_HDR_MAGIC, MB1_HEADER_MAGIC);
	put_le32(h + MB1_HDR_FLAGS, flags);
	put_le32(h + MB1_HDR_CHECKSUM, 0u - MB1_HEADER_MAGIC - flags);
	if (!addr)
		return flags & MB1_HF_VIDEO_MODE ? MB1_HDR_SIZE_VIDEO : 12;
	for (int i = 0; i < 5; i++)
		put_le32(h + MB1_HDR_HEADER_ADDR + 4 * i, addr[i]);
	return flags & MB1_HF_VIDEO_MODE ? MB1_HDR_SIZE_VIDEO : MB1_HDR_SIZE_ADDR;
}

struct mb2b {
	uint8_t buf[256];
	size_t len;
};

static void mb2_begin(struct mb2b *b)
{
	memset(b, 0, sizeof(*b));
	b->len = MB2_HDR_TAGS;
}

static void mb2_tag(struct mb2b *b, uint16_t type, uint16_t flags, const uint32_t *words,
		    unsigned n)
{
	uint8_t *t = b->buf + b->len;
	uint32_t size = MB2_TAG_HEADER_SIZE + 4 * n;

	put_le16(t + MB2_TAG_TYPE, type);
	put_le16(t + MB2_TAG_FLAGS, flags);
	put_le32(t + MB2_TAG_SIZE, size);
	for (unsigned i = 0; i < n; i++)
		put_le32(t + 8 + 4 * i, words[i]);
	b->len += align_to(size, MB2_TAG_ALIGN);
}

static size_t mb2_end(struct mb2b *b)
{
	mb2_tag(b, MB2_HEADER_TAG_END, 0, NULL, 0);
	put_le32(b->buf + MB2_HDR_MAGIC, MB2_HEADER_MAGIC);
	put_le32(b->buf + MB2_HDR_ARCHITECTURE, MB2_ARCH_I386);
	put_le32(b->buf + MB2_HDR_HEADER_LENGTH, (uint32_t)b->len);
	put_le32(b->buf + MB2_HDR_CHECKSUM,
		 0u - MB2_HEADER_MAGIC - MB2_ARCH_I386 - (uint32_t)b->len);
	return b->len;
}

/* A plain Multiboot2 header: just the end tag. */
static size_t mb2_plain(struct mb2b *b)
{
	mb2_begin(b);
	return mb2_end(b);
}

/* ---- loading ---- */

struct vm {
	struct guest_ram ram;
	struct image_entry entry;
	char err[256];
};

static void vm_init(struct vm *vm, uint64_t size)
{
	memset(vm, 0, sizeof(*vm));
	vm->ram.size = size;
	vm->ram.host = calloc(1, size);
	assert_non_null(vm->ram.host);
}

static void vm_free(struct vm *vm)
{
	free(vm->ram.host);
	vm->ram.host = NULL;
}

/* Loads data (copied into an exact-size heap buffer, so that ASan sees any
 * read past its end) with the given modules. */
static int load_mods(struct vm *vm, const uint8_t *data, size_t size, const char *cmdline,
		     const struct image_file *mods, unsigned nmods)
{
	uint8_t *copy = malloc(size ? size : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, data, size);
	struct image_file k = { "kernel.elf", copy, size };
	vm->err[0] = '\0';
	rc = image_load(&k, cmdline, mods, nmods, &vm->ram, &vm->entry, vm->err, sizeof(vm->err));
	free(copy);
	if (rc < 0)
		assert_true(vm->err[0] != '\0');
	return rc;
}

static int load(struct vm *vm, const uint8_t *data, size_t size)
{
	return load_mods(vm, data, size, "", NULL, 0);
}

static void expect_error(const uint8_t *data, size_t size, uint64_t ram_size, const char *msg)
{
	struct vm vm;

	vm_init(&vm, ram_size);
	int rc = load(&vm, data, size);
	if (rc != -1 || strcmp(vm.err, msg) != 0)
		print_error("got rc %d: %s\n", rc, vm.err);
	assert_int_equal(rc, -1);
	assert_string_equal(vm.err, msg);
	vm_free(&vm);
}

/* ---- parsing the boot information back ---- */

struct parsed_module {
	uint32_t start, end;
	const char *name;
};

struct parsed_info {
	const char *cmdline;
	const char *loader;
	unsigned nmods;
	struct parsed_module mods[8];
	uint32_t mem_lower, mem_upper;
	unsigned nmmap;
	struct memmap_entry mmap[8];
};

/* A NUL-terminated string at guest address a, within [a, limit). */
static const char *guest_string(const struct vm *vm, uint64_t a, uint64_t limit)
{
	assert_true(a < limit && limit <= vm->ram.size);
	assert_non_null(memchr(vm->ram.host + a, 0, limit - a));
	return (const char *)vm->ram.host + a;
}

static void parse_mb2(const struct vm *vm, struct parsed_info *pi)
{
	uint32_t a = vm->entry.ebx;
	const uint8_t *ram = vm->ram.host;

	memset(pi, 0, sizeof(*pi));
	assert_int_equal(vm->entry.format, IMAGE_MULTIBOOT2);
	assert_int_equal(vm->entry.eax, MB2_BOOTLOADER_MAGIC);
	assert_int_equal(a % 8, 0);
	assert_true(range_within(a, 8, vm->ram.size));
	uint32_t total = get_le32(ram + a + MB2_INFO_TOTAL_SIZE);
	assert_true(range_within(a, total, vm->ram.size));
	assert_int_equal(get_le32(ram + a + MB2_INFO_RESERVED), 0);

	uint32_t pos = MB2_INFO_TAGS;
	bool end = false;
	while (!end) {
		assert_true(pos % 8 == 0 && pos + 8 <= total);
		const uint8_t *t = ram + a + pos;
		uint32_t type = get_le32(t + MB2_INFO_TAG_TYPE);
		uint32_t size = get_le32(t + MB2_INFO_TAG_SIZE);
		assert_true(size >= 8 && pos + size <= total);
		uint64_t tag_end = (uint64_t)a + pos + size;
		switch (type) {
		case MB2_TAG_END:
			assert_int_equal(size, MB2_END_TAG_SIZE);
			assert_int_equal(pos + size, total);
			end = true;
			break;
		case MB2_TAG_CMDLINE:
			assert_null(pi->cmdline);
			pi->cmdline = guest_string(vm, a + pos + 8, tag_end);
			assert_int_equal(strlen(pi->cmdline) + 9, size);
			break;
		case MB2_TAG_BOOT_LOADER_NAME:
			assert_null(pi->loader);
			pi->loader = guest_string(vm, a + pos + 8, tag_end);
			assert_int_equal(strlen(pi->loader) + 9, size);
			break;
		case MB2_TAG_MODULE: {
			struct parsed_module *m = &pi->mods[pi->nmods++];
			m->start = get_le32(t + MB2_MODULE_START);
			m->end = get_le32(t + MB2_MODULE_END);
			m->name = guest_string(vm, a + pos + MB2_MODULE_STRING, tag_end);
			assert_int_equal(strlen(m->name) + 17, size);
			break;
		}
		case MB2_TAG_BASIC_MEMINFO:
			assert_int_equal(size, MB2_MEMINFO_TAG_SIZE);
			pi->mem_lower = get_le32(t + MB2_MEMINFO_LOWER);
			pi->mem_upper = get_le32(t + MB2_MEMINFO_UPPER);
			break;
		case MB2_TAG_MMAP: {
			assert_int_equal(get_le32(t + MB2_MMAP_ENTRY_SIZE_FIELD), 24);
			assert_int_equal(get_le32(t + MB2_MMAP_ENTRY_VERSION_FIELD), 0);
			assert_int_equal((size - 16) % 24, 0);
			for (uint32_t e = 16; e < size; e += 24) {
				struct memmap_entry *m = &pi->mmap[pi->nmmap++];
				m->base = get_le64(t + e + MB2_MMAP_BASE_ADDR);
				m->length = get_le64(t + e + MB2_MMAP_LENGTH);
				m->type = get_le32(t + e + MB2_MMAP_TYPE);
				assert_int_equal(get_le32(t + e + 20), 0);
			}
			break;
		}
		default:
			fail_msg("unexpected tag %u", type);
		}
		pos += (size + 7) & ~7u;
	}
}

static void parse_mb1(const struct vm *vm, struct parsed_info *pi)
{
	uint32_t a = vm->entry.ebx;
	const uint8_t *ram = vm->ram.host;
	uint64_t ramsz = vm->ram.size;

	memset(pi, 0, sizeof(*pi));
	assert_int_equal(vm->entry.format, IMAGE_MULTIBOOT1);
	assert_int_equal(vm->entry.eax, MB1_BOOTLOADER_MAGIC);
	assert_int_equal(a % 4, 0);
	assert_true(range_within(a, MB1_INFO_SIZE, ramsz));
	const uint8_t *info = ram + a;
	uint32_t flags = get_le32(info + MB1_INFO_FLAGS);
	assert_int_equal(flags, MB1_INFO_F_MEMORY | MB1_INFO_F_CMDLINE | MB1_INFO_F_MODS |
					MB1_INFO_F_MEM_MAP | MB1_INFO_F_BOOT_LOADER_NAME);
	pi->mem_lower = get_le32(info + MB1_INFO_MEM_LOWER);
	pi->mem_upper = get_le32(info + MB1_INFO_MEM_UPPER);
	pi->cmdline = guest_string(vm, get_le32(info + MB1_INFO_CMDLINE), ramsz);
	pi->loader = guest_string(vm, get_le32(info + MB1_INFO_BOOT_LOADER_NAME), ramsz);

	pi->nmods = get_le32(info + MB1_INFO_MODS_COUNT);
	assert_true(pi->nmods <= 8);
	uint32_t mods = get_le32(info + MB1_INFO_MODS_ADDR);
	assert_true(range_within(mods, pi->nmods * MB1_MOD_SIZE, ramsz));
	for (unsigned i = 0; i < pi->nmods; i++) {
		const uint8_t *m = ram + mods + i * MB1_MOD_SIZE;
		pi->mods[i].start = get_le32(m + MB1_MOD_START);
		pi->mods[i].end = get_le32(m + MB1_MOD_END);
		pi->mods[i].name = guest_string(vm, get_le32(m + MB1_MOD_STRING), ramsz);
		assert_int_equal(get_le32(m + 12), 0);
	}

	uint32_t mmap = get_le32(info + MB1_INFO_MMAP_ADDR);
	uint32_t mlen = get_le32(info + MB1_INFO_MMAP_LENGTH);
	assert_true(range_within(mmap, mlen, ramsz));
	for (uint32_t off = 0; off < mlen;) {
		const uint8_t *e = ram + mmap + off;
		uint32_t size = get_le32(e + MB1_MMAP_SIZE);
		assert_int_equal(size, 20);
		struct memmap_entry *m = &pi->mmap[pi->nmmap++];
		m->base = get_le64(e + MB1_MMAP_BASE_ADDR);
		m->length = get_le64(e + MB1_MMAP_LENGTH);
		m->type = get_le32(e + MB1_MMAP_TYPE);
		off += size + 4;
		assert_true(off <= mlen);
	}
}

/* The memory map and meminfo of a VM of the given size. */
static void check_memory_info(const struct parsed_info *pi, uint64_t ram_size)
{
	assert_int_equal(pi->mem_lower, 639);
	assert_int_equal(pi->mem_upper, (ram_size - MiB) / 1024);
	assert_int_equal(pi->nmmap, 4);
	assert_int_equal(pi->mmap[0].base, 0);
	assert_int_equal(pi->mmap[0].length, 0x9FC00);
	assert_int_equal(pi->mmap[0].type, MEMMAP_AVAILABLE);
	assert_int_equal(pi->mmap[1].base, 0x9FC00);
	assert_int_equal(pi->mmap[1].length, 0x400);
	assert_int_equal(pi->mmap[1].type, MEMMAP_RESERVED);
	assert_int_equal(pi->mmap[2].base, 0xF0000);
	assert_int_equal(pi->mmap[2].length, 0x10000);
	assert_int_equal(pi->mmap[2].type, MEMMAP_RESERVED);
	assert_int_equal(pi->mmap[3].base, 0x100000);
	assert_int_equal(pi->mmap[3].length, ram_size - MiB);
	assert_int_equal(pi->mmap[3].type, MEMMAP_AVAILABLE);
}

/* ---- test kernels ---- */

static uint8_t text_bytes[0x40];
static uint8_t data_bytes[0x20];
static uint8_t mod_a[5000];
static const uint8_t mod_b[3] = { 'b', 'b', 'b' };

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_bytes); i++)
		text_bytes[i] = (uint8_t)(0x90 + i);
	for (size_t i = 0; i < sizeof(data_bytes); i++)
		data_bytes[i] = (uint8_t)(0xd0 + i);
	for (size_t i = 0; i < sizeof(mod_a); i++)
		mod_a[i] = (uint8_t)(i * 7);
	return 0;
}

/* text at 0x100000, data + bss at 0x101000..0x103000 */
static const struct seg std_segs[] = {
	{ 0, 0, 0x100000, text_bytes, sizeof(text_bytes), sizeof(text_bytes) },
	{ 0, 0, 0x101000, data_bytes, sizeof(data_bytes), 0x2000 },
};

static void build_std(struct image *im, int is64, const uint8_t *mbh, size_t mbh_len)
{
	struct elf_spec s = { .is64 = is64,
			      .entry = 0x100010,
			      .segs = std_segs,
			      .nsegs = 2,
			      .mbh = mbh,
			      .mbh_len = mbh_len };
	build_elf(im, &s);
}

static void build_std_mb2(struct image *im, int is64)
{
	struct mb2b b;
	mb2_plain(&b);
	build_std(im, is64, b.buf, b.len);
}

static void build_std_mb1(struct image *im, int is64)
{
	uint8_t h[48];
	size_t n = mb1_header(h, MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO, NULL);
	build_std(im, is64, h, n);
}

static const struct image_file two_mods[] = {
	{ "mods/a.bin", mod_a, sizeof(mod_a) },
	{ "b", mod_b, sizeof(mod_b) },
};

static void check_std_kernel(const struct vm *vm)
{
	const uint8_t *ram = vm->ram.host;

	assert_memory_equal(ram + 0x100000, text_bytes, sizeof(text_bytes));
	assert_memory_equal(ram + 0x101000, data_bytes, sizeof(data_bytes));
	for (size_t i = 0x101000 + sizeof(data_bytes); i < 0x103000; i++)
		assert_int_equal(ram[i], 0);
	assert_int_equal(vm->entry.eip, 0x100010);
}

static void check_two_mods(const struct vm *vm, const struct parsed_info *pi)
{
	assert_int_equal(pi->nmods, 2);
	assert_string_equal(pi->mods[0].name, "mods/a.bin");
	assert_string_equal(pi->mods[1].name, "b");
	/* Page-aligned, after the kernel's end (0x103000), in order. */
	assert_int_equal(pi->mods[0].start, 0x103000);
	assert_int_equal(pi->mods[0].end, 0x103000 + sizeof(mod_a));
	assert_int_equal(pi->mods[1].start, 0x105000);
	assert_int_equal(pi->mods[1].end, 0x105003);
	assert_memory_equal(vm->ram.host + pi->mods[0].start, mod_a, sizeof(mod_a));
	assert_memory_equal(vm->ram.host + pi->mods[1].start, mod_b, sizeof(mod_b));
	/* The information comes after the modules. */
	assert_true(vm->entry.ebx >= 0x105003);
}

static void test_elf32_mb2(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct parsed_info pi;

	build_std_mb2(&im, 0);
	vm_init(&vm, 4 * MiB);
	/* Garbage where the bss goes: the loader must zero it. */
	memset(vm.ram.host + 0x101000, 0xAA, 0x2000);
	assert_int_equal(load_mods(&vm, im.data, im.size, "console=ttyS0 x", two_mods, 2), 0);
	check_std_kernel(&vm);
	parse_mb2(&vm, &pi);
	assert_string_equal(pi.cmdline, "console=ttyS0 x");
	assert_string_equal(pi.loader, "pgvisor");
	check_two_mods(&vm, &pi);
	check_memory_info(&pi, 4 * MiB);
	vm_free(&vm);
}

static void test_elf64_mb2(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct parsed_info pi;

	build_std_mb2(&im, 1);
	vm_init(&vm, 16 * MiB);
	assert_int_equal(load_mods(&vm, im.data, im.size, NULL, two_mods, 1), 0);
	check_std_kernel(&vm);
	parse_mb2(&vm, &pi);
	assert_string_equal(pi.cmdline, "");
	assert_int_equal(pi.nmods, 1);
	assert_string_equal(pi.mods[0].name, "mods/a.bin");
	check_memory_info(&pi, 16 * MiB);
	vm_free(&vm);
}

/* A higher-half ELF64: virtual addresses at -2 GiB, physical at 2 MiB; the
 * entry point is given as a virtual address and becomes physical. */
static void test_elf64_higher_half(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct mb2b b;
	const struct seg segs[] = {
		{ 0, 0xFFFFFFFF80200000ull, 0x200000, text_bytes, sizeof(text_bytes), 0x1000 },
	};
	mb2_plain(&b);
	struct elf_spec s = { .is64 = 1,
			      .entry = 0xFFFFFFFF80200020ull,
			      .segs = segs,
			      .nsegs = 1,
			      .mbh = b.buf,
			      .mbh_len = b.len };

	build_elf(&im, &s);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.eip, 0x200020);
	assert_memory_equal(vm.ram.host + 0x200000, text_bytes, sizeof(text_bytes));
	assert_true(vm.entry.ebx >= 0x201000);
	vm_free(&vm);
}

static void test_elf32_mb1(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct parsed_info pi;

	build_std_mb1(&im, 0);
	vm_init(&vm, 4 * MiB);
	memset(vm.ram.host + 0x101000, 0xAA, 0x2000);
	assert_int_equal(load_mods(&vm, im.data, im.size, "root=/dev/ram0", two_mods, 2), 0);
	check_std_kernel(&vm);
	parse_mb1(&vm, &pi);
	assert_string_equal(pi.cmdline, "root=/dev/ram0");
	assert_string_equal(pi.loader, "pgvisor");
	check_two_mods(&vm, &pi);
	check_memory_info(&pi, 4 * MiB);
	vm_free(&vm);
}

static void test_elf64_mb1(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct parsed_info pi;

	build_std_mb1(&im, 1);
	vm_init(&vm, 2 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	check_std_kernel(&vm);
	parse_mb1(&vm, &pi);
	assert_int_equal(pi.nmods, 0);
	check_memory_info(&pi, 2 * MiB);
	vm_free(&vm);
}

static void test_both_headers_is_mb2(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct mb2b b;
	uint8_t h[256];
	size_t n = mb1_header(h, 0, NULL);

	mb2_plain(&b);
	memcpy(h + align_to(n, 8), b.buf, b.len);
	build_std(&im, 0, h, align_to(n, 8) + b.len);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.format, IMAGE_MULTIBOOT2);
	assert_int_equal(vm.entry.eax, MB2_BOOTLOADER_MAGIC);
	vm_free(&vm);
}

/* A flat (non-ELF) Multiboot 1 kernel using the a.out kludge: the file is
 * loaded at load_addr from the start (header at file offset 0x20), with
 * bss after it. */
static size_t build_flat_mb1(uint8_t *f, uint32_t load_end, uint32_t bss_end)
{
	uint8_t h[48];
	const uint32_t load_addr = 0x200000;
	const uint32_t addr[5] = { load_addr + 0x20, load_addr, load_end, bss_end,
				   load_addr + 0x60 };
	size_t n = mb1_header(h, MB1_HF_AOUT_KLUDGE, addr);

	for (size_t i = 0; i < 0x100; i++)
		f[i] = (uint8_t)(i ^ 0x5a);
	memcpy(f + 0x20, h, n);
	return 0x100;
}

static void test_mb1_aout_kludge(void **state)
{
	(void)state;
	uint8_t f[0x100];
	struct vm vm;
	struct parsed_info pi;
	size_t size = build_flat_mb1(f, 0, 0x200000 + 0x3000);

	vm_init(&vm, 4 * MiB);
	memset(vm.ram.host + 0x200100, 0xAA, 0x1000);
	assert_int_equal(load_mods(&vm, f, size, "c", two_mods, 2), 0);
	assert_memory_equal(vm.ram.host + 0x200000, f, size);
	for (size_t i = 0x200100; i < 0x203000; i++)
		assert_int_equal(vm.ram.host[i], 0);
	assert_int_equal(vm.entry.eip, 0x200060);
	parse_mb1(&vm, &pi);
	assert_int_equal(pi.nmods, 2);
	assert_int_equal(pi.mods[0].start, 0x203000); /* after the bss */
	vm_free(&vm);

	/* load_end_addr: only part of the file; no bss. */
	size = build_flat_mb1(f, 0x200080, 0);
	vm_init(&vm, 4 * MiB);
	memset(vm.ram.host + 0x200000, 0xAA, 0x200);
	assert_int_equal(load(&vm, f, size), 0);
	assert_memory_equal(vm.ram.host + 0x200000, f, 0x80);
	/* The rest of the file is not loaded: the information comes right
	 * after the loaded part. */
	assert_int_equal(vm.entry.ebx, 0x200080);
	assert_int_equal(get_le32(vm.ram.host + 0x200080 + MB1_INFO_MEM_LOWER), 639);
	vm_free(&vm);
}

/* The a.out kludge also applies to an ELF file, whose headers it overrides
 * (as in GRUB). */
static void test_mb1_kludge_overrides_elf(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	uint8_t h[48];
	/* The header is at file offset 0x48 (after the ELF32 header and two
	 * program headers... computed below); load the whole file at 3 MiB. */
	uint32_t addr[5] = { 0, 0x300000, 0, 0, 0x300000 };
	size_t n = mb1_header(h, MB1_HF_AOUT_KLUDGE, addr);

	build_std(&im, 0, h, n);
	put_le32(im.data + im.mbh_at + MB1_HDR_HEADER_ADDR, 0x300000 + (uint32_t)im.mbh_at);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_memory_equal(vm.ram.host + 0x300000, im.data, im.size);
	assert_int_equal(vm.ram.host[0x100000], 0); /* the ELF segments were not used */
	assert_int_equal(vm.entry.eip, 0x300000);
	vm_free(&vm);
}

/* A flat Multiboot2 kernel with address and entry tags; load_addr -1 means
 * "from the start of the file". */
static size_t build_flat_mb2(uint8_t *f, uint32_t load_addr, uint32_t bss_end)
{
	struct mb2b b;
	const uint32_t at = 0x40; /* header offset */
	const uint32_t addr[4] = { 0x400000 + at, load_addr, 0, bss_end };
	const uint32_t entry[1] = { 0x400080 };

	mb2_begin(&b);
	mb2_tag(&b, MB2_HEADER_TAG_ADDRESS, 0, addr, 4);
	mb2_tag(&b, MB2_HEADER_TAG_ENTRY_ADDRESS, 0, entry, 1);
	mb2_tag(&b, MB2_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	mb2_end(&b);
	for (size_t i = 0; i < 0x200; i++)
		f[i] = (uint8_t)(i * 3);
	memcpy(f + at, b.buf, b.len);
	return 0x200;
}

static void test_mb2_address_tag(void **state)
{
	(void)state;
	uint8_t f[0x200];
	struct vm vm;
	struct parsed_info pi;
	size_t size = build_flat_mb2(f, 0x400000, 0x402000);

	vm_init(&vm, 8 * MiB);
	assert_int_equal(load_mods(&vm, f, size, "", two_mods, 2), 0);
	assert_memory_equal(vm.ram.host + 0x400000, f, size);
	assert_int_equal(vm.entry.eip, 0x400080);
	parse_mb2(&vm, &pi);
	assert_int_equal(pi.mods[0].start, 0x402000);
	vm_free(&vm);

	size = build_flat_mb2(f, MB2_LOAD_ADDR_FILE_START, 0);
	vm_init(&vm, 8 * MiB);
	assert_int_equal(load(&vm, f, size), 0);
	assert_memory_equal(vm.ram.host + 0x400000, f, size);
	assert_int_equal(vm.entry.eip, 0x400080);
	assert_int_equal(vm.entry.ebx, 0x400200);
	vm_free(&vm);
}

/* The header tags pgvisor accepts, required or not. */
static void test_mb2_accepted_tags(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct mb2b b;
	const uint32_t provided[] = { MB2_TAG_CMDLINE, MB2_TAG_BOOT_LOADER_NAME,
				      MB2_TAG_MODULE,  MB2_TAG_BASIC_MEMINFO,
				      MB2_TAG_MMAP,    MB2_TAG_END };
	const uint32_t unprovided[] = { MB2_TAG_FRAMEBUFFER, MB2_TAG_ACPI_NEW, 77 };
	const uint32_t fb[3] = { 1024, 768, 32 };
	const uint32_t console_ok[1] = { MB2_CONSOLE_EGA_TEXT_SUPPORTED };
	const uint32_t console_req[1] = { MB2_CONSOLE_REQUIRED };
	const uint32_t efi_entry[1] = { 0x100000 };
	const uint32_t reloc[4] = { 0x100000, 0x1000000, 0x1000, 0 };
	const uint32_t entry[1] = { 0x100020 };

	mb2_begin(&b);
	mb2_tag(&b, MB2_HEADER_TAG_INFORMATION_REQUEST, 0, provided, 6);
	mb2_tag(&b, MB2_HEADER_TAG_INFORMATION_REQUEST, MB2_HEADER_TAG_OPTIONAL, unprovided, 3);
	mb2_tag(&b, MB2_HEADER_TAG_FRAMEBUFFER, MB2_HEADER_TAG_OPTIONAL, fb, 3);
	mb2_tag(&b, MB2_HEADER_TAG_CONSOLE_FLAGS, 0, console_ok, 1);
	mb2_tag(&b, MB2_HEADER_TAG_CONSOLE_FLAGS, MB2_HEADER_TAG_OPTIONAL, console_req, 1);
	mb2_tag(&b, MB2_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	mb2_tag(&b, MB2_HEADER_TAG_EFI_BS, MB2_HEADER_TAG_OPTIONAL, NULL, 0);
	mb2_tag(&b, MB2_HEADER_TAG_ENTRY_ADDRESS_EFI32, 0, efi_entry, 1);
	mb2_tag(&b, MB2_HEADER_TAG_ENTRY_ADDRESS_EFI64, 0, efi_entry, 1);
	mb2_tag(&b, MB2_HEADER_TAG_RELOCATABLE, 0, reloc, 4);
	mb2_tag(&b, 99, MB2_HEADER_TAG_OPTIONAL, NULL, 0);
	mb2_tag(&b, MB2_HEADER_TAG_ENTRY_ADDRESS, 0, entry, 1);
	mb2_end(&b);
	build_std(&im, 0, b.buf, b.len);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.eip, 0x100020); /* the entry tag wins over e_entry */
	vm_free(&vm);
}

static void expect_mb2_tag_error(uint16_t type, uint16_t flags, const uint32_t *words, unsigned n,
				 const char *msg)
{
	struct image im;
	struct mb2b b;

	mb2_begin(&b);
	mb2_tag(&b, MB2_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	mb2_tag(&b, type, flags, words, n);
	mb2_end(&b);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB, msg);
}

static void test_mb2_refused_tags(void **state)
{
	(void)state;
	const uint32_t want_fb[] = { MB2_TAG_CMDLINE, MB2_TAG_FRAMEBUFFER };
	const uint32_t want_acpi[] = { MB2_TAG_ACPI_OLD };
	const uint32_t want_odd[] = { 1000 };
	const uint32_t fb[3] = { 1024, 768, 32 };
	const uint32_t console_req[1] = { MB2_CONSOLE_REQUIRED | MB2_CONSOLE_EGA_TEXT_SUPPORTED };

	/* The second tag is at 0x78 + 16 + 8 = 0x90 in these images. */
	expect_mb2_tag_error(MB2_HEADER_TAG_INFORMATION_REQUEST, 0, want_fb, 2,
			     "Multiboot2 header requires information tag 8 (framebuffer info), "
			     "which pgvisor cannot provide");
	expect_mb2_tag_error(MB2_HEADER_TAG_INFORMATION_REQUEST, 0, want_acpi, 1,
			     "Multiboot2 header requires information tag 14 (ACPI 1.0 RSDP), "
			     "which pgvisor cannot provide");
	expect_mb2_tag_error(MB2_HEADER_TAG_INFORMATION_REQUEST, 0, want_odd, 1,
			     "Multiboot2 header requires information tag 1000 (unknown), which "
			     "pgvisor cannot provide");
	expect_mb2_tag_error(42, 0, NULL, 0,
			     "Multiboot2 header has unsupported required tag type 42 at offset "
			     "0x90");
	expect_mb2_tag_error(MB2_HEADER_TAG_FRAMEBUFFER, 0, fb, 3,
			     "Multiboot2 header requires a framebuffer, which pgvisor cannot "
			     "provide");
	expect_mb2_tag_error(MB2_HEADER_TAG_CONSOLE_FLAGS, 0, console_req, 1,
			     "Multiboot2 header requires a console, which pgvisor cannot provide");
	expect_mb2_tag_error(MB2_HEADER_TAG_EFI_BS, 0, NULL, 0,
			     "Multiboot2 header requires EFI boot services, which pgvisor cannot "
			     "provide");
	/* An address tag too short to hold its fields. */
	expect_mb2_tag_error(MB2_HEADER_TAG_ADDRESS, 0, fb, 3,
			     "Multiboot2 header tag type 2 at offset 0x90 has bad size 20");
	expect_mb2_tag_error(MB2_HEADER_TAG_ENTRY_ADDRESS, 0, NULL, 0,
			     "Multiboot2 header tag type 3 at offset 0x90 has bad size 8");
}

static void test_mb2_bad_headers(void **state)
{
	(void)state;
	struct image im;
	struct mb2b b;
	const uint32_t addr[4] = { 0x100000, 0x100000, 0, 0 };

	/* Checksum */
	mb2_plain(&b);
	put_le32(b.buf + MB2_HDR_CHECKSUM, get_le32(b.buf + MB2_HDR_CHECKSUM) + 1);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB,
		     "Multiboot2 header at offset 0x78 has a bad checksum");

	/* Architecture MIPS */
	mb2_plain(&b);
	put_le32(b.buf + MB2_HDR_ARCHITECTURE, MB2_ARCH_MIPS32);
	put_le32(b.buf + MB2_HDR_CHECKSUM, 0u - MB2_HEADER_MAGIC - MB2_ARCH_MIPS32 - 24);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: Multiboot2 header for architecture 4 (MIPS) "
		     "(expected 0, i386)");

	/* No end tag: header_length cut to the fixed part only. */
	mb2_plain(&b);
	put_le32(b.buf + MB2_HDR_HEADER_LENGTH, 16);
	put_le32(b.buf + MB2_HDR_CHECKSUM, 0u - MB2_HEADER_MAGIC - 16);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB, "Multiboot2 header at offset 0x78 has no end tag");

	/* header_length past the end of the file */
	mb2_plain(&b);
	put_le32(b.buf + MB2_HDR_HEADER_LENGTH, 0x10000);
	put_le32(b.buf + MB2_HDR_CHECKSUM, 0u - MB2_HEADER_MAGIC - 0x10000);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB,
		     "truncated: Multiboot2 header at offset 0x78 (header_length 65536) runs "
		     "past the end of the file (0xf0 bytes)");

	/* A tag that claims more bytes than the header has, with the header
	 * at the very end of the file (ASan would see a read past it). */
	{
		uint8_t *f = malloc(0x40 + 24);
		assert_non_null(f);
		memset(f, 0, 0x40);
		uint8_t *h = f + 0x40;
		put_le32(h + MB2_HDR_MAGIC, MB2_HEADER_MAGIC);
		put_le32(h + MB2_HDR_ARCHITECTURE, MB2_ARCH_I386);
		put_le32(h + MB2_HDR_HEADER_LENGTH, 24);
		put_le32(h + MB2_HDR_CHECKSUM, 0u - MB2_HEADER_MAGIC - 24);
		put_le16(h + 16 + MB2_TAG_TYPE, MB2_HEADER_TAG_ADDRESS);
		put_le16(h + 16 + MB2_TAG_FLAGS, 0);
		put_le32(h + 16 + MB2_TAG_SIZE, MB2_ADDR_TAG_SIZE);
		expect_error(f, 0x40 + 24, 4 * MiB,
			     "Multiboot2 header tag type 2 at offset 0x50 has bad size 24");
		free(f);
	}

	/* An address tag needs an entry address tag. */
	mb2_begin(&b);
	mb2_tag(&b, MB2_HEADER_TAG_ADDRESS, 0, addr, 4);
	mb2_end(&b);
	build_std(&im, 0, b.buf, b.len);
	expect_error(im.data, im.size, 4 * MiB,
		     "Multiboot2 header has an address tag but no entry address tag");
}

static void test_mb1_bad_headers(void **state)
{
	(void)state;
	struct image im;
	uint8_t h[48];
	size_t n;

	n = mb1_header(h, 0, NULL);
	put_le32(h + MB1_HDR_CHECKSUM, 0x12345678);
	build_std(&im, 0, h, n);
	expect_error(im.data, im.size, 4 * MiB,
		     "Multiboot header at offset 0x78 has a bad checksum");

	n = mb1_header(h, MB1_HF_VIDEO_MODE, NULL);
	build_std(&im, 0, h, n);
	expect_error(im.data, im.size, 4 * MiB,
		     "Multiboot header asks for a video mode (flag 2), which pgvisor cannot "
		     "provide");

	n = mb1_header(h, MB1_HF_MEMORY_INFO | (1u << 5) | (1u << 15), NULL);
	build_std(&im, 0, h, n);
	expect_error(im.data, im.size, 4 * MiB,
		     "Multiboot header has unsupported required flags 0x8020");

	/* Unknown optional flags (16-31) are fine. */
	struct vm vm;
	n = mb1_header(h, (1u << 20) | (1u << 31), NULL);
	build_std(&im, 0, h, n);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.format, IMAGE_MULTIBOOT1);
	vm_free(&vm);

	/* Not 4-aligned: not a header. */
	n = mb1_header(h, 0, NULL);
	struct elf_spec s = { .entry = 0x100010,
			      .segs = std_segs,
			      .nsegs = 2,
			      .mbh = h,
			      .mbh_len = n,
			      .mbh_at = 0x4a };
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "no Multiboot header (Multiboot2 in the first 32768 bytes or Multiboot 1 "
		     "in the first 8192)");
}

static void test_mb1_kludge_errors(void **state)
{
	(void)state;
	uint8_t f[0x100];
	size_t size;

	size = build_flat_mb1(f, 0, 0x200000 + 0x80); /* bss_end inside the file */
	expect_error(f, size, 4 * MiB,
		     "Multiboot bss_end_addr 0x200080 is below the end of the loaded data "
		     "0x200100");
	size = build_flat_mb1(f, 0x200000 + 0x1000, 0); /* load_end past the file */
	expect_error(f, size, 4 * MiB,
		     "truncated: Multiboot load_end_addr 0x201000 asks for 0x1000 bytes from "
		     "file offset 0x0, past the end of the file (0x100 bytes)");
	size = build_flat_mb1(f, 0x1FFFFF, 0);
	expect_error(f, size, 4 * MiB,
		     "Multiboot load_end_addr 0x1fffff is below load_addr 0x200000");
	size = build_flat_mb1(f, 0, 0);
	put_le32(f + 0x20 + MB1_HDR_LOAD_ADDR, 0x1FFF00); /* 0x120 before the header */
	expect_error(f, size, 4 * MiB,
		     "Multiboot load_addr 0x1fff00 is 0x120 bytes before the header, which is "
		     "only at file offset 0x20");
	put_le32(f + 0x20 + MB1_HDR_LOAD_ADDR, 0x200040);
	expect_error(f, size, 4 * MiB,
		     "Multiboot header_addr 0x200020 is below load_addr 0x200040");
	size = build_flat_mb1(f, 0, 0);
	put_le32(f + 0x20 + MB1_HDR_ENTRY_ADDR, 0x200100);
	expect_error(f, size, 4 * MiB,
		     "entry point 0x200100 is outside the loaded image [0x200000, 0x200100)");
	size = build_flat_mb1(f, 0, 0);
	expect_error(f, size, 2 * MiB,
		     "does not fit in 2 MiB of RAM: image at 0x200000 size 0x100");
	expect_error(f, size, 2 * MiB + 0x80,
		     "does not fit in 2097280 bytes of RAM: image at 0x200000 size 0x100");
	/* Address fields cut off by the end of the file. */
	size = build_flat_mb1(f, 0, 0);
	expect_error(f, 0x20 + 28, 4 * MiB,
		     "truncated: Multiboot header at 0x20 with address fields runs past the "
		     "end of the file or the first 8192 bytes");
}

static void test_not_elf(void **state)
{
	(void)state;
	struct image im;
	uint8_t junk[100];

	memset(junk, 'x', sizeof(junk));
	expect_error(junk, sizeof(junk), 4 * MiB, "not an ELF file");
	expect_error(junk, 0, 4 * MiB, "truncated: 0 bytes is too short for an ELF header");
	build_std_mb2(&im, 0);
	expect_error(im.data, 20, 4 * MiB, "truncated: 20 bytes is too short for an ELF header");
	expect_error(im.data, 3, 4 * MiB, "truncated: 3 bytes is too short for an ELF header");
	expect_error(im.data, 40, 4 * MiB, "truncated: 40 bytes is too short for an ELF header");
	build_std_mb2(&im, 1);
	expect_error(im.data, 60, 4 * MiB, "truncated: 60 bytes is too short for an ELF64 header");

	/* Bad magic, with a Multiboot2 header present. */
	build_std_mb2(&im, 0);
	im.data[1] = 'e';
	expect_error(im.data, im.size, 4 * MiB, "not an ELF file");
	build_std_mb2(&im, 0);
	im.data[ELF_EI_CLASS] = 3;
	expect_error(im.data, im.size, 4 * MiB, "not an ELF file: bad class 3");
	build_std_mb2(&im, 0);
	im.data[ELF_EI_VERSION] = 2;
	expect_error(im.data, im.size, 4 * MiB, "unsupported ELF version");

	/* No header at all in a valid ELF. */
	build_std(&im, 0, NULL, 0);
	expect_error(im.data, im.size, 4 * MiB,
		     "no Multiboot header (Multiboot2 in the first 32768 bytes or Multiboot 1 "
		     "in the first 8192)");
}

static void test_wrong_architecture(void **state)
{
	(void)state;
	struct image im;
	struct mb2b b;

	mb2_plain(&b);
	struct elf_spec s = { .machine = ELF_EM_ARM,
			      .entry = 0x100010,
			      .segs = std_segs,
			      .nsegs = 2,
			      .mbh = b.buf,
			      .mbh_len = b.len };
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: ARM ELF32 (expected x86 or x86-64)");
	s.is64 = 1;
	s.machine = ELF_EM_AARCH64;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: AArch64 ELF64 (expected x86 or x86-64)");
	/* Without a Multiboot header the ELF problem is reported first. */
	s.mbh = NULL;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: AArch64 ELF64 (expected x86 or x86-64)");
	s.mbh = b.buf;
	s.is64 = 0;
	s.machine = ELF_EM_X86_64; /* x86-64 code in an ELF32 file (x32) */
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: x86-64 ELF32 (expected x86 or x86-64)");
	s.machine = 8; /* MIPS */
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: ELF32 machine 8 (expected x86 or x86-64)");
	s.machine = 0;
	build_elf(&im, &s);
	im.data[ELF_EI_DATA] = 2;
	expect_error(im.data, im.size, 4 * MiB,
		     "wrong architecture: big-endian ELF (expected x86 or x86-64)");
}

static void test_not_executable(void **state)
{
	(void)state;
	struct image im;
	struct mb2b b;

	mb2_plain(&b);
	struct elf_spec s = { .type = ELF_ET_DYN,
			      .entry = 0x100010,
			      .segs = std_segs,
			      .nsegs = 2,
			      .mbh = b.buf,
			      .mbh_len = b.len };
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "not an executable: ELF shared object or position-independent executable "
		     "(ET_DYN); link with -no-pie at a fixed address");
	s.type = ELF_ET_REL;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "not an executable: relocatable ELF object (ET_REL)");
	s.type = ELF_ET_CORE;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB, "not an executable: ELF type 4");
}

static void test_program_header_table(void **state)
{
	(void)state;
	struct image im;

	/* phnum * phentsize past the end */
	build_std_mb2(&im, 0);
	put_le16(im.data + 44, 300);
	expect_error(im.data, im.size, 4 * MiB,
		     "truncated: program headers at 0x34 (300 x 32 bytes) run past the end of "
		     "the file (0xf0 bytes)");
	build_std_mb2(&im, 1);
	put_le64(im.data + 32, 0xFFFFFFFFFFFFFFF0ull); /* e_phoff, wraps when added */
	expect_error(im.data, im.size, 4 * MiB,
		     "truncated: program headers at 0xfffffffffffffff0 (2 x 56 bytes) run past "
		     "the end of the file (0x130 bytes)");
	build_std_mb2(&im, 0);
	put_le16(im.data + 42, 16);
	expect_error(im.data, im.size, 4 * MiB, "bad ELF program header size 16 (expected 32)");
	build_std_mb2(&im, 0);
	put_le16(im.data + 44, 0);
	expect_error(im.data, im.size, 4 * MiB, "ELF file has no program headers");
	build_std_mb2(&im, 0);
	put_le16(im.data + 44, ELF_PN_XNUM);
	expect_error(im.data, im.size, 4 * MiB, "ELF file has too many program headers (PN_XNUM)");
}

static void test_bad_segments(void **state)
{
	(void)state;
	struct image im;

	for (int is64 = 0; is64 <= 1; is64++) {
		build_std_mb2(&im, is64);
		size_t f = ph_field(&im, 1, is64, "offset");
		if (is64)
			put_le64(im.data + f, 0xFFFFFFFFFFFFFFF0ull);
		else
			put_le32(im.data + f, 0xFFFFFFF0u);
		expect_error(im.data, im.size, 4 * MiB,
			     is64 ? "truncated: ELF segment 1 at offset 0xfffffffffffffff0 size "
				    "0x20 runs past the end of the file (0x130 bytes)"
				  : "truncated: ELF segment 1 at offset 0xfffffff0 size 0x20 runs "
				    "past the end of the file (0xf0 bytes)");

		build_std_mb2(&im, is64);
		f = ph_field(&im, 0, is64, "filesz");
		if (is64) {
			put_le64(im.data + f, 0xFFFFFFFFFFFFFF00ull);
			put_le64(im.data + ph_field(&im, 0, 1, "memsz"), 0xFFFFFFFFFFFFFF00ull);
		} else {
			put_le32(im.data + f, 0xFFFFFF00u);
			put_le32(im.data + ph_field(&im, 0, 0, "memsz"), 0xFFFFFF00u);
		}
		expect_error(im.data, im.size, 4 * MiB,
			     is64 ? "truncated: ELF segment 0 at offset 0xd0 size "
				    "0xffffffffffffff00 runs past the end of the file (0x130 bytes)"
				  : "truncated: ELF segment 0 at offset 0x90 size 0xffffff00 runs "
				    "past the end of the file (0xf0 bytes)");

		build_std_mb2(&im, is64);
		f = ph_field(&im, 1, is64, "paddr");
		if (is64)
			put_le64(im.data + f, 0xFFFFFFFFFFFFF000ull);
		else
			put_le32(im.data + f, 0xFFFFF000u);
		expect_error(
			im.data, im.size, 4 * MiB,
			is64 ? "does not fit in 4 MiB of RAM: segment at 0xfffffffffffff000 "
			       "size 0x2000"
			     : "does not fit in 4 MiB of RAM: segment at 0xfffff000 size 0x2000");

		build_std_mb2(&im, is64);
		f = ph_field(&im, 1, is64, "memsz");
		if (is64)
			put_le64(im.data + f, 0x10);
		else
			put_le32(im.data + f, 0x10);
		expect_error(im.data, im.size, 4 * MiB,
			     "ELF segment 1: file size 0x20 is larger than its memory size 0x10");
	}
}

static void test_segment_placement(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct mb2b b;
	struct seg segs[1] = { { 0, 0, 0x100000, text_bytes, sizeof(text_bytes), 0x400000 } };
	struct elf_spec s = { .entry = 0, .segs = segs, .nsegs = 1 };

	mb2_plain(&b);
	s.mbh = b.buf;
	s.mbh_len = b.len;

	/* Too large for RAM */
	s.entry = 0x100000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "does not fit in 4 MiB of RAM: segment at 0x100000 size 0x400000");
	segs[0].memsz = 0x1000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 640 * 1024,
		     "does not fit in 640 KiB of RAM: segment at 0x100000 size 0x1000");
	expect_error(im.data, im.size, 1000,
		     "does not fit in 1000 bytes of RAM: segment at 0x100000 size 0x1000");

	/* In the legacy hole */
	segs[0].paddr = s.entry = 0xA0000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "segment at 0xa0000 size 0x1000 overlaps the reserved legacy area "
		     "[0x9fc00, 0x100000) (EBDA, VGA memory, BIOS ROM)");
	segs[0].paddr = s.entry = 0x9F000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "segment at 0x9f000 size 0x1000 overlaps the reserved legacy area "
		     "[0x9fc00, 0x100000) (EBDA, VGA memory, BIOS ROM)");
	segs[0].paddr = s.entry = 0xFF000;
	segs[0].memsz = 0x2000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "segment at 0xff000 size 0x2000 overlaps the reserved legacy area "
		     "[0x9fc00, 0x100000) (EBDA, VGA memory, BIOS ROM)");

	/* The first page */
	segs[0].paddr = s.entry = 0;
	segs[0].memsz = 0x1000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "segment at 0x0 size 0x1000 overlaps the first page [0, 0x1000) (real-mode "
		     "interrupt vectors and BIOS data)");

	/* Entry point outside the segments */
	segs[0].paddr = 0x100000;
	s.entry = 0x101000;
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB,
		     "entry point 0x101000 is not inside any loaded segment");

	/* Only non-PT_LOAD or empty segments */
	segs[0].type = 4; /* PT_NOTE */
	build_elf(&im, &s);
	expect_error(im.data, im.size, 4 * MiB, "ELF file has no loadable segments");
	segs[0].type = 0;

	/* Above 4 GiB in a (pretend) 8 GiB VM: refused before any write,
	 * so no host memory is needed. */
	s.is64 = 1;
	segs[0].paddr = s.entry = 0x100000000ull;
	build_elf(&im, &s);
	memset(&vm, 0, sizeof(vm));
	vm.ram.size = 8ull << 30;
	assert_int_equal(load(&vm, im.data, im.size), -1);
	assert_string_equal(vm.err, "segment at 0x100000000 size 0x1000 lies above 4 GiB, out of "
				    "reach of the 32-bit Multiboot entry");
	s.is64 = 0;

	/* Low memory is allowed; the boot information goes after the
	 * kernel, and skips the legacy area when it does not fit below. */
	segs[0].paddr = s.entry = 0x10000;
	segs[0].memsz = 0x8FBC0; /* up to 0x9FBC0: no room for the information */
	build_elf(&im, &s);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.eip, 0x10000);
	assert_int_equal(vm.entry.ebx, 0x100000);
	assert_memory_equal(vm.ram.host + 0x10000, text_bytes, sizeof(text_bytes));
	vm_free(&vm);
	segs[0].memsz = 0x1000; /* room below 640 KiB */
	build_elf(&im, &s);
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.ebx, 0x11000);
	vm_free(&vm);
}

static void test_no_room_for_modules(void **state)
{
	(void)state;
	struct image im;
	struct vm vm;
	struct parsed_info pi;

	build_std_mb2(&im, 0);
	/* The kernel ends at 0x103000; mod_a needs 0x1388 bytes. */
	vm_init(&vm, 0x104000);
	assert_int_equal(load_mods(&vm, im.data, im.size, "", two_mods, 1), -1);
	assert_string_equal(vm.err, "does not fit in 1040 KiB of RAM: module 'mods/a.bin' "
				    "(0x1388 bytes) after the kernel's end at 0x103000");
	vm_free(&vm);

	vm_init(&vm, 0x103010);
	assert_int_equal(load(&vm, im.data, im.size), -1);
	assert_string_equal(vm.err, "does not fit in 1060880 bytes of RAM: boot information "
				    "(0xb0 bytes) after the kernel and modules");
	vm_free(&vm);

	/* Exactly enough room for the kernel and the information. */
	vm_init(&vm, 0x103000 + 0xb0);
	assert_int_equal(load(&vm, im.data, im.size), 0);
	assert_int_equal(vm.entry.ebx, 0x103000);
	parse_mb2(&vm, &pi);
	vm_free(&vm);

	/* Empty modules get an empty range; a NULL name becomes "". */
	const struct image_file empty[2] = { { NULL, NULL, 0 }, { "e", NULL, 0 } };
	vm_init(&vm, 4 * MiB);
	assert_int_equal(load_mods(&vm, im.data, im.size, "", empty, 2), 0);
	parse_mb2(&vm, &pi);
	assert_int_equal(pi.nmods, 2);
	assert_string_equal(pi.mods[0].name, "");
	assert_int_equal(pi.mods[0].start, pi.mods[0].end);
	vm_free(&vm);
}

/* The information builders on their own, for memory sizes a test cannot
 * allocate. */
static void test_info_big_memory(void **state)
{
	(void)state;
	const struct mb_module mods[1] = { { "m", 0x200000, 0x200010 } };
	struct mb_boot_info bi = { "cmd", "pgvisor", mods, 1, 64ull << 30 };
	size_t n = mb2_info_size(&bi);
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal(mb2_info_write(buf, n - 1, &bi), -1);
	assert_int_equal(mb2_info_write(buf, n, &bi), 0);
	assert_int_equal(get_le32(buf), n);
	free(buf);

	n = mb1_info_size(&bi);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(mb1_info_write(buf, n - 1, 0x1000, &bi), -1);
	assert_int_equal(mb1_info_write(buf, n, 0x1000, &bi), 0);
	assert_int_equal(get_le32(buf + MB1_INFO_MEM_UPPER), (64ull << 20) - 1024);
	uint32_t mmap = get_le32(buf + MB1_INFO_MMAP_ADDR) - 0x1000;
	assert_int_equal(get_le32(buf + MB1_INFO_MMAP_LENGTH), 4 * 24);
	assert_int_equal(get_le64(buf + mmap + 3 * 24 + MB1_MMAP_LENGTH), (64ull << 30) - MiB);
	free(buf);

	struct memmap_entry map[GUEST_MEMMAP_MAX];
	assert_int_equal(guest_memmap(0x80000, map), 3); /* 512 KiB: no extended memory */
	assert_int_equal(map[0].length, 0x80000);
	assert_int_equal(guest_mem_upper_kib(0x80000), 0);
	assert_int_equal(guest_mem_lower_kib(0x80000), 512);
	assert_true(guest_memmap_available(4 * MiB, 0x100000, 3 * MiB));
	assert_false(guest_memmap_available(4 * MiB, 0x100000, 3 * MiB + 1));
	assert_false(guest_memmap_available(4 * MiB, 0x1000, 0));
	assert_false(guest_memmap_available(4 * MiB, 0xFFFFFFFFFFFFF000ull, 0x2000));
}

/* Every prefix of a valid image loads or fails cleanly; ASan checks that
 * nothing is read past the file or written past guest RAM. */
static void sweep_truncations(const uint8_t *data, size_t size, const struct image_file *mods,
			      unsigned nmods)
{
	unsigned loaded = 0;
	struct vm vm;

	/* One RAM for all: only crashes and stray accesses matter here. */
	vm_init(&vm, 8 * MiB);
	for (size_t n = 0; n <= size; n++)
		if (load_mods(&vm, data, n, "cmd", mods, nmods) == 0)
			loaded++;
	if (loaded < 1)
		print_error("the whole image fails: %s\n", vm.err);
	assert_true(loaded >= 1); /* at least the whole image */
	vm_free(&vm);
}

static void test_every_truncation(void **state)
{
	(void)state;
	struct image im;
	uint8_t f[0x200];

	build_std_mb2(&im, 0);
	sweep_truncations(im.data, im.size, two_mods, 2);
	build_std_mb2(&im, 1);
	sweep_truncations(im.data, im.size, two_mods, 2);
	build_std_mb1(&im, 0);
	sweep_truncations(im.data, im.size, two_mods, 2);
	build_std_mb1(&im, 1);
	sweep_truncations(im.data, im.size, NULL, 0);
	sweep_truncations(f, build_flat_mb1(f, 0, 0x203000), two_mods, 2);
	sweep_truncations(f, build_flat_mb2(f, 0x400000, 0), two_mods, 1);
}

/* Random corruption of valid images: must never crash or touch memory it
 * should not (ASan), whatever the result. */
static void test_random_corruption(void **state)
{
	(void)state;
	struct image im;
	uint32_t seed = 12345;
	unsigned loaded = 0;
	struct vm vm;

	vm_init(&vm, 8 * MiB);

	for (unsigned iter = 0; iter < 3000; iter++) {
		switch (iter % 4) {
		case 0:
			build_std_mb2(&im, 0);
			break;
		case 1:
			build_std_mb2(&im, 1);
			break;
		case 2:
			build_std_mb1(&im, 0);
			break;
		default:
			im.size = build_flat_mb2(im.data, 0x400000, 0);
			break;
		}
		unsigned flips = 1 + iter % 3;
		for (unsigned i = 0; i < flips; i++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % im.size;
			seed = seed * 1103515245u + 12345u;
			static const uint8_t vals[] = { 0x00, 0xFF, 0x80, 0x7F, 0x01 };
			im.data[at] =
				(seed >> 16) & 1 ? vals[(seed >> 20) % 5] : (uint8_t)(seed >> 8);
		}
		if (load_mods(&vm, im.data, im.size, "c", two_mods, 2) == 0)
			loaded++;
	}
	vm_free(&vm);
	assert_true(loaded > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf32_mb2),
		cmocka_unit_test(test_elf64_mb2),
		cmocka_unit_test(test_elf64_higher_half),
		cmocka_unit_test(test_elf32_mb1),
		cmocka_unit_test(test_elf64_mb1),
		cmocka_unit_test(test_both_headers_is_mb2),
		cmocka_unit_test(test_mb1_aout_kludge),
		cmocka_unit_test(test_mb1_kludge_overrides_elf),
		cmocka_unit_test(test_mb2_address_tag),
		cmocka_unit_test(test_mb2_accepted_tags),
		cmocka_unit_test(test_mb2_refused_tags),
		cmocka_unit_test(test_mb2_bad_headers),
		cmocka_unit_test(test_mb1_bad_headers),
		cmocka_unit_test(test_mb1_kludge_errors),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_wrong_architecture),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_program_header_table),
		cmocka_unit_test(test_bad_segments),
		cmocka_unit_test(test_segment_placement),
		cmocka_unit_test(test_no_room_for_modules),
		cmocka_unit_test(test_info_big_memory),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_corruption),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
