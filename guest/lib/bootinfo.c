#include "bootinfo.h"

#include "string.h"

#define ONE_MIB 0x100000ull
#define E820_USABLE 1

/* Multiboot1 info (the fields used here). */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODULES (1u << 3)
#define MB1_INFO_MEMORY_MAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)
/* The whole structure, flags through the framebuffer fields (Multiboot
 * 0.6.96, 3.3); struct mb1_info declares only the fields read here. */
#define MB1_INFO_SIZE 116

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

struct mb1_module {
	uint32_t start, end, string, reserved;
};

/* Each entry is preceded by its size, which does not count itself. */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

/* Multiboot2 tags (the ones used here). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MEMORY_MAP 6

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_module_tag {
	struct mb2_tag tag;
	uint32_t start, end;
	char string[];
};

struct mb2_meminfo_tag {
	struct mb2_tag tag;
	uint32_t mem_lower, mem_upper;
};

struct mb2_mmap_tag {
	struct mb2_tag tag;
	uint32_t entry_size, entry_version;
};

struct mb2_mmap_entry {
	uint64_t base, length;
	uint32_t type, reserved;
};

static void add_usable(struct boot_params *p, uint64_t base, uint64_t length)
{
	uint64_t end = base + length;
	if (p->nusable < BOOT_MAX_RANGES)
		p->usable[p->nusable] = (struct boot_range){ base, end };
	p->nusable++;
	if (base < ONE_MIB) {
		uint64_t low_end = end < ONE_MIB ? end : ONE_MIB;
		p->usable_below_1m += low_end - base;
		base = low_end;
	}
	if (end > base)
		p->usable_above_1m += end - base;
}

static void add_info(struct boot_params *p, uint32_t start, uint32_t size)
{
	if (p->ninfo < BOOT_MAX_INFO_PIECES)
		p->info[p->ninfo] = (struct boot_range){ start, (uint64_t)start + size };
	p->ninfo++;
}

static void add_info_string(struct boot_params *p, const char *s)
{
	add_info(p, (uint32_t)(uintptr_t)s, strlen(s) + 1);
}

static void add_module(struct boot_params *p, uint32_t start, uint32_t end, const char *name)
{
	if (p->nmodules < BOOT_MAX_MODULES) {
		struct boot_module *m = &p->modules[p->nmodules];
		m->name = name;
		m->start = start;
		m->size = end - start;
	}
	p->nmodules++;
}

static void parse_mb1(const struct mb1_info *mbi, struct boot_params *p)
{
	p->protocol = "mb1";
	add_info(p, (uint32_t)(uintptr_t)mbi, MB1_INFO_SIZE);
	if (mbi->flags & MB1_INFO_CMDLINE) {
		p->cmdline = (const char *)(uintptr_t)mbi->cmdline;
		add_info_string(p, p->cmdline);
	}
	if (mbi->flags & MB1_INFO_LOADER_NAME) {
		p->loader_name = (const char *)(uintptr_t)mbi->boot_loader_name;
		add_info_string(p, p->loader_name);
	}
	if (mbi->flags & MB1_INFO_MODULES) {
		const struct mb1_module *m = (const struct mb1_module *)(uintptr_t)mbi->mods_addr;
		add_info(p, mbi->mods_addr, mbi->mods_count * sizeof(*m));
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			const char *name = m[i].string ? (const char *)(uintptr_t)m[i].string : "";
			add_module(p, m[i].start, m[i].end, name);
			if (m[i].string)
				add_info_string(p, name);
		}
	}
	if (mbi->flags & MB1_INFO_MEMORY_MAP) {
		p->have_memory_map = true;
		add_info(p, mbi->mmap_addr, mbi->mmap_length);
		uint32_t at = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
		while (at < end) {
			const struct mb1_mmap_entry *e =
				(const struct mb1_mmap_entry *)(uintptr_t)at;
			if (e->type == E820_USABLE)
				add_usable(p, e->base, e->length);
			at += e->size + sizeof(e->size);
		}
	} else if (mbi->flags & MB1_INFO_MEMORY) {
		p->usable_below_1m = (uint64_t)mbi->mem_lower << 10;
		p->usable_above_1m = (uint64_t)mbi->mem_upper << 10;
	}
}

static void parse_mb2_memory_map(const struct mb2_mmap_tag *t, struct boot_params *p)
{
	p->have_memory_map = true;
	uint32_t at = (uint32_t)(uintptr_t)(t + 1), end = (uint32_t)(uintptr_t)t + t->tag.size;
	for (; at + sizeof(struct mb2_mmap_entry) <= end; at += t->entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)(uintptr_t)at;
		if (e->type == E820_USABLE)
			add_usable(p, e->base, e->length);
	}
}

static void parse_mb2(uint32_t info, struct boot_params *p)
{
	p->protocol = "mb2";
	const struct mb2_meminfo_tag *meminfo = 0;
	/* Tags follow the 8-byte header (total_size, reserved), 8-aligned. */
	uint32_t total_size = *(const uint32_t *)(uintptr_t)info;
	add_info(p, info, total_size);
	uint32_t at = info + 8;
	while (at + sizeof(struct mb2_tag) <= info + total_size) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(uintptr_t)at;
		if (tag->type == MB2_TAG_END)
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			p->cmdline = (const char *)(tag + 1);
			break;
		case MB2_TAG_LOADER_NAME:
			p->loader_name = (const char *)(tag + 1);
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_module_tag *m = (const struct mb2_module_tag *)tag;
			add_module(p, m->start, m->end, m->string);
			break;
		}
		case MB2_TAG_BASIC_MEMINFO:
			meminfo = (const struct mb2_meminfo_tag *)tag;
			break;
		case MB2_TAG_MEMORY_MAP:
			parse_mb2_memory_map((const struct mb2_mmap_tag *)tag, p);
			break;
		}
		at += (tag->size + 7) & ~7u;
	}
	if (!p->have_memory_map && meminfo) {
		p->usable_below_1m = (uint64_t)meminfo->mem_lower << 10;
		p->usable_above_1m = (uint64_t)meminfo->mem_upper << 10;
	}
}

int boot_params_parse(uint32_t magic, uint32_t info, struct boot_params *out)
{
	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader_name = "";
	if (magic == MB1_BOOTLOADER_MAGIC)
		parse_mb1((const struct mb1_info *)(uintptr_t)info, out);
	else if (magic == MB2_BOOTLOADER_MAGIC)
		parse_mb2(info, out);
	else
		return -1;
	return 0;
}

const char *cmdline_option(const char *cmdline, const char *key)
{
	size_t key_len = strlen(key);
	const char *word = cmdline;
	while (*word) {
		while (*word == ' ')
			word++;
		if (strncmp(word, key, key_len) == 0) {
			char after = word[key_len];
			if (after == '=')
				return word + key_len + 1;
			if (after == ' ' || after == '\0')
				return word + key_len;
		}
		while (*word && *word != ' ')
			word++;
	}
	return 0;
}

uint32_t parse_uint(const char *s)
{
	uint32_t value = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2;; s++) {
			unsigned digit;
			if (*s >= '0' && *s <= '9')
				digit = (unsigned)(*s - '0');
			else if (*s >= 'a' && *s <= 'f')
				digit = (unsigned)(*s - 'a' + 10);
			else if (*s >= 'A' && *s <= 'F')
				digit = (unsigned)(*s - 'A' + 10);
			else
				return value;
			value = value * 16 + digit;
		}
	}
	for (; *s >= '0' && *s <= '9'; s++)
		value = value * 10 + (uint32_t)(*s - '0');
	return value;
}
