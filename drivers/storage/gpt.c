#include "drivers/storage/gpt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "drivers/storage/crc32.h"
#include "drivers/storage/partition.h"

/* The header (UEFI 2.10, 5.3.2, table 5.5): at LBA 1, byte offsets. */
#define GPT_HEADER_LBA 1
#define GPT_SIGNATURE "EFI PART"
#define GPT_SIGNATURE_LEN 8
#define HDR_SIZE 12
#define HDR_CRC 16
#define HDR_MY_LBA 24
#define HDR_FIRST_USABLE 40
#define HDR_LAST_USABLE 48
#define HDR_ENTRIES_LBA 72
#define HDR_NUM_ENTRIES 80
#define HDR_ENTRY_SIZE 84
#define HDR_ENTRIES_CRC 88
#define HDR_MIN_SIZE 92 /* the fields above; the rest of the sector is reserved */

/* A partition entry (5.3.3, table 5.6): at least 128 bytes, 128 * 2^n. */
#define ENTRY_MIN_SIZE 128
#define ENT_TYPE 0
#define ENT_FIRST_LBA 32
#define ENT_LAST_LBA 40
#define ENT_ATTRIBUTES 48
#define ENT_NAME 56
#define GUID_LEN 16
/* Attribute bit 2: legacy BIOS bootable (table 5.7). */
#define ATTR_LEGACY_BIOS_BOOTABLE (1ull << 2)
#define ASCII_FIRST 0x20
#define ASCII_LAST 0x7e

/* Tables larger than this are not ones any partitioning tool writes. */
#define MAX_ENTRIES_BYTES (1u << 20)
#define MAX_USED 128
/* Sectors read at a time while walking the entry array. */
#define CHUNK_SECTORS 8

/* Type GUIDs as stored (the first three fields little-endian). */
static const uint8_t efi_system_type[GUID_LEN] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
						   0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t bios_boot_type[GUID_LEN] = { 'H', 'a', 'h', '!', 'I', 'd', 'o', 'n',
						  't', 'N', 'e', 'e', 'd', 'E', 'F', 'I' };
static const uint8_t unused_type[GUID_LEN];

struct gpt_entry {
	char name[PARTITION_NAME_MAX + 1];
	uint64_t first, last;
	bool boot;
};

/* Boot runs this once on one CPU: the buffers need not be on the stack. */
static uint8_t chunk[CHUNK_SECTORS * BLOCK_SECTOR];
static struct gpt_entry used[MAX_USED];

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* UTF-16LE, up to 36 units or a zero unit; what is not printable ASCII
 * becomes '?'. */
static void entry_name(const uint8_t *p, char *name)
{
	unsigned i;

	for (i = 0; i < PARTITION_NAME_MAX; i++) {
		uint16_t unit = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
		if (!unit)
			break;
		name[i] = unit >= ASCII_FIRST && unit <= ASCII_LAST ? (char)unit : '?';
	}
	name[i] = '\0';
}

/* The sectors and fields of a header that passed its own checks. */
struct gpt_header {
	uint64_t first_usable, last_usable, entries_lba;
	uint32_t num_entries, entry_size, entries_crc;
};

static int read_header(struct blockdev *d, struct gpt_header *h, char *why, size_t len)
{
	uint8_t *s = chunk;
	uint32_t size, crc;

	if (blockdev_read(d, GPT_HEADER_LBA, 1, s, why, len))
		return -1;
	if (memcmp(s, GPT_SIGNATURE, GPT_SIGNATURE_LEN)) {
		snprintf(why, len, "no GPT (no \"EFI PART\" signature in sector 1)");
		return -1;
	}
	size = get32(s + HDR_SIZE);
	if (size < HDR_MIN_SIZE || size > BLOCK_SECTOR) {
		snprintf(why, len, "GPT header size %u is not within %u..%u", size, HDR_MIN_SIZE,
			 BLOCK_SECTOR);
		return -1;
	}
	/* The CRC covers the header with its own CRC field zero (5.3.2). */
	crc = get32(s + HDR_CRC);
	memset(s + HDR_CRC, 0, sizeof(uint32_t));
	if (crc32(CRC32_INIT, s, size) != crc) {
		snprintf(why, len, "GPT header CRC mismatch");
		return -1;
	}
	h->first_usable = get64(s + HDR_FIRST_USABLE);
	h->last_usable = get64(s + HDR_LAST_USABLE);
	h->entries_lba = get64(s + HDR_ENTRIES_LBA);
	h->num_entries = get32(s + HDR_NUM_ENTRIES);
	h->entry_size = get32(s + HDR_ENTRY_SIZE);
	h->entries_crc = get32(s + HDR_ENTRIES_CRC);
	if (get64(s + HDR_MY_LBA) != GPT_HEADER_LBA) {
		snprintf(why, len, "GPT header in sector 1 says it is at sector %llu",
			 (unsigned long long)get64(s + HDR_MY_LBA));
		return -1;
	}
	if (h->entry_size < ENTRY_MIN_SIZE || h->entry_size % ENTRY_MIN_SIZE ||
	    (h->entry_size & (h->entry_size - 1))) {
		snprintf(why, len, "GPT entry size %u is not 128 * 2^n", h->entry_size);
		return -1;
	}
	if ((uint64_t)h->num_entries * h->entry_size > MAX_ENTRIES_BYTES) {
		snprintf(why, len, "GPT entry array of %u entries of %u bytes is too large",
			 h->num_entries, h->entry_size);
		return -1;
	}
	if (h->first_usable > h->last_usable || h->last_usable >= d->sectors) {
		snprintf(why, len, "GPT usable sectors %llu..%llu are not on the disk of %llu",
			 (unsigned long long)h->first_usable, (unsigned long long)h->last_usable,
			 (unsigned long long)d->sectors);
		return -1;
	}
	return 0;
}

/* One entry's check against the header and the disk. */
static int check_entry(const struct blockdev *d, const struct gpt_header *h, unsigned index,
		       const struct gpt_entry *e, char *why, size_t len)
{
	if (e->first > e->last || e->first < h->first_usable || e->last > h->last_usable ||
	    e->last >= d->sectors) {
		snprintf(why, len,
			 "GPT entry %u ('%s', sectors %llu..%llu) is not within the usable "
			 "sectors %llu..%llu",
			 index, e->name, (unsigned long long)e->first, (unsigned long long)e->last,
			 (unsigned long long)h->first_usable, (unsigned long long)h->last_usable);
		return -1;
	}
	return 0;
}

/* Reads the entry array: its CRC checked, its used entries checked one by
 * one and kept in used[]. Returns how many, or -1. */
static int read_entries(struct blockdev *d, const struct gpt_header *h, char *why, size_t len)
{
	uint64_t bytes = (uint64_t)h->num_entries * h->entry_size;
	uint64_t sectors = (bytes + BLOCK_SECTOR - 1) / BLOCK_SECTOR;
	uint32_t crc = CRC32_INIT;
	unsigned n = 0;

	if (h->entries_lba > d->sectors || sectors > d->sectors - h->entries_lba) {
		snprintf(why, len, "GPT entry array at sector %llu lies beyond the disk",
			 (unsigned long long)h->entries_lba);
		return -1;
	}
	for (uint64_t done = 0; done < sectors; done += CHUNK_SECTORS) {
		uint32_t count =
			sectors - done < CHUNK_SECTORS ? (uint32_t)(sectors - done) : CHUNK_SECTORS;
		uint64_t base = done * BLOCK_SECTOR;
		uint64_t end = base + (uint64_t)count * BLOCK_SECTOR;
		if (end > bytes)
			end = bytes;
		if (blockdev_read(d, h->entries_lba + done, count, chunk, why, len))
			return -1;
		crc = crc32(crc, chunk, (size_t)(end - base));
		/* Entries are 128 * 2^n bytes: the first 128 of each lie in
		 * one chunk. */
		for (uint64_t off = (base + h->entry_size - 1) / h->entry_size * h->entry_size;
		     off < end; off += h->entry_size) {
			const uint8_t *p = chunk + (off - base);
			struct gpt_entry *e;
			if (!memcmp(p + ENT_TYPE, unused_type, GUID_LEN))
				continue;
			if (n == MAX_USED) {
				snprintf(why, len, "GPT has more than %u partitions", MAX_USED);
				return -1;
			}
			e = &used[n];
			entry_name(p + ENT_NAME, e->name);
			e->first = get64(p + ENT_FIRST_LBA);
			e->last = get64(p + ENT_LAST_LBA);
			e->boot = !memcmp(p + ENT_TYPE, efi_system_type, GUID_LEN) ||
				  !memcmp(p + ENT_TYPE, bios_boot_type, GUID_LEN) ||
				  (get64(p + ENT_ATTRIBUTES) & ATTR_LEGACY_BIOS_BOOTABLE);
			if (check_entry(d, h, (unsigned)(off / h->entry_size), e, why, len))
				return -1;
			n++;
		}
	}
	if (crc != h->entries_crc) {
		snprintf(why, len, "GPT entry array CRC mismatch");
		return -1;
	}
	return (int)n;
}

static int check_overlaps(unsigned n, char *why, size_t len)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (used[i].first <= used[j].last && used[j].first <= used[i].last) {
				snprintf(why, len, "GPT partitions '%s' and '%s' overlap",
					 used[i].name, used[j].name);
				return -1;
			}
	return 0;
}

int gpt_scan(struct blockdev *d, char *why, size_t len)
{
	struct gpt_header h;
	int n;

	if (read_header(d, &h, why, len))
		return -1;
	n = read_entries(d, &h, why, len);
	if (n < 0 || check_overlaps((unsigned)n, why, len))
		return -1;
	/* An unnamed partition cannot be named by "part:NAME": not added. A
	 * name partition_add refuses (taken on another disk) it says so
	 * itself, and the disk's other partitions stay usable. */
	for (int i = 0; i < n; i++)
		if (used[i].name[0])
			partition_add(d, used[i].name, used[i].first,
				      used[i].last - used[i].first + 1, used[i].boot);
	return 0;
}
