/* libFuzzer harness: the GUID partition table (drivers/storage/gpt.c) of a
 * disk pgvisor drives, read at every boot. Input: a flags byte, the disk's
 * size in sectors (u32), then its first bytes; the rest of the disk reads as
 * zeros. With flag SEAL the harness first computes the header's and entry
 * array's CRCs, as anyone writing a hostile table would, so that the checks
 * past the CRCs are fuzzed too. Every partition added must lie on the disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/storage/blockdev.h"
#include "drivers/storage/crc32.h"
#include "drivers/storage/gpt.h"
#include "drivers/storage/partition.h"
#include "tests/fuzz/fuzz_support.h"

#define SEAL 1u
/* Header fields (UEFI 2.10, 5.3.2) the sealing needs. */
#define GPT_HEADER_OFF BLOCK_SECTOR
#define HDR_SIZE 12
#define HDR_CRC 16
#define HDR_ENTRIES_LBA 72
#define HDR_NUM_ENTRIES 80
#define HDR_ENTRY_SIZE 84
#define HDR_ENTRIES_CRC 88
#define ENTRIES_MAX_BYTES (1u << 20) /* what gpt.c reads at most */

static const uint8_t *image;
static size_t image_size;
static struct blockdev disk = { .name = "fuzz0" };

static const uint8_t zeros[BLOCK_SECTOR * 16];

/* The bytes of the image in [off, off + len), or none past it: the disk
 * reads as zeros there. */
static size_t image_part(uint64_t off, uint64_t len)
{
	if (off >= image_size)
		return 0;
	return len < image_size - off ? (size_t)len : image_size - (size_t)off;
}

int blockdev_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		  size_t len)
{
	uint8_t *out = buf;

	if (d != &disk)
		abort();
	if (lba > d->sectors || count > d->sectors - lba) {
		snprintf(why, len, "beyond the disk");
		return -1;
	}
	uint64_t off = lba * BLOCK_SECTOR, n = (uint64_t)count * BLOCK_SECTOR;
	size_t from_image = image_part(off, n);
	memcpy(out, image + (from_image ? off : 0), from_image);
	memset(out + from_image, 0, n - from_image);
	return 0;
}

int partition_add(struct blockdev *d, const char *name, uint64_t first_lba, uint64_t sectors,
		  bool boot)
{
	(void)boot;
	if (d != &disk || !name[0] || strlen(name) > PARTITION_NAME_MAX || !sectors ||
	    first_lba >= d->sectors || sectors > d->sectors - first_lba)
		abort();
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The CRC-32 of [off, off + len) of the disk. */
static uint32_t disk_crc(uint64_t off, uint64_t len)
{
	size_t from_image = image_part(off, len);
	uint32_t crc = crc32(CRC32_INIT, image + (from_image ? off : 0), from_image);

	for (len -= from_image; len;) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		crc = crc32(crc, zeros, n);
		len -= n;
	}
	return crc;
}

static void seal(uint8_t *img, size_t size)
{
	if (size < GPT_HEADER_OFF + BLOCK_SECTOR)
		return;
	uint8_t *h = img + GPT_HEADER_OFF;
	uint64_t entries_lba;
	memcpy(&entries_lba, h + HDR_ENTRIES_LBA, sizeof(entries_lba));
	uint64_t bytes = (uint64_t)get32(h + HDR_NUM_ENTRIES) * get32(h + HDR_ENTRY_SIZE);
	if (bytes <= ENTRIES_MAX_BYTES && entries_lba < disk.sectors) {
		uint32_t crc = disk_crc(entries_lba * BLOCK_SECTOR, bytes);
		memcpy(h + HDR_ENTRIES_CRC, &crc, sizeof(crc));
	}
	uint32_t hdr_size = get32(h + HDR_SIZE);
	if (hdr_size <= BLOCK_SECTOR) {
		memset(h + HDR_CRC, 0, sizeof(uint32_t));
		uint32_t crc = crc32(CRC32_INIT, h, hdr_size);
		memcpy(h + HDR_CRC, &crc, sizeof(crc));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in(data, size);
	char why[160];

	uint8_t flags = fuzz_u8(&in);
	disk.sectors = fuzz_u32(&in);
	uint8_t *img = fuzz_copy(in.p, in.left);
	image = img;
	image_size = in.left;
	if (flags & SEAL)
		seal(img, image_size);
	gpt_scan(&disk, why, sizeof(why));
	free(img);
	return 0;
}
