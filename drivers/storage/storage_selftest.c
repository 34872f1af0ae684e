#include "drivers/storage/storage_selftest.h"

#include <stdio.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/storage/blockdev.h"
#include "drivers/storage/partition.h"

#define SELFTEST_PAGES (SELFTEST_BYTES / PAGE_SIZE)
#define SELFTEST_HOLDER "selftest"
#define KIB 1024u
#define BYTES_PER_MB 1000000ull
#define TENTHS 10

static uint64_t pattern_word(uint64_t k)
{
	return (SELFTEST_SEED + k) * SELFTEST_MULTIPLIER;
}

/* Tenths of MB/s for bytes moved in ticks of the TSC. */
static uint64_t rate_tenths(uint64_t bytes, uint64_t ticks)
{
	return ticks ? bytes * tsc_hz() / ticks * TENTHS / BYTES_PER_MB : 0;
}

/* The first difference between what was written and what came back. */
static int compare(const uint64_t *want, const uint64_t *got, size_t words, char *why, size_t len)
{
	for (size_t k = 0; k < words; k++)
		if (want[k] != got[k]) {
			snprintf(why, len,
				 "sector %llu differs at byte %llu (read %#llx, wrote %#llx)",
				 (unsigned long long)(k * sizeof(uint64_t) / BLOCK_SECTOR),
				 (unsigned long long)(k * sizeof(uint64_t) % BLOCK_SECTOR),
				 (unsigned long long)got[k], (unsigned long long)want[k]);
			return -1;
		}
	return 0;
}

/* Writes, flushes, reads back and compares: 0, or -1 with why. */
static int test_partition(struct partition *p, uint64_t *out, uint64_t *in, uint32_t sectors,
			  char *why, size_t len)
{
	size_t bytes = (size_t)sectors * BLOCK_SECTOR;
	uint64_t t0, t1, t2;

	for (size_t k = 0; k < bytes / sizeof(uint64_t); k++)
		out[k] = pattern_word(k);
	t0 = rdtsc();
	if (partition_write(p, 0, sectors, out, why, len))
		return -1;
	if (partition_flush(p, why, len))
		return -1;
	t1 = rdtsc();
	if (partition_read(p, 0, sectors, in, why, len))
		return -1;
	t2 = rdtsc();
	if (compare(out, in, bytes / sizeof(uint64_t), why, len))
		return -1;
	uint64_t w = rate_tenths(bytes, t1 - t0), r = rate_tenths(bytes, t2 - t1);
	snprintf(why, len, "write %llu.%llu MB/s, read %llu.%llu MB/s",
		 (unsigned long long)(w / 10), (unsigned long long)(w % 10),
		 (unsigned long long)(r / 10), (unsigned long long)(r % 10));
	return 0;
}

static bool test_disk(struct blockdev *d, uint64_t *out, uint64_t *in)
{
	struct partition *p = partition_find(SELFTEST_PARTITION);
	char why[160];
	uint32_t sectors;

	if (!p || p->disk != d) {
		kprintf("pgvisor: selftest: storage %s: no partition '%s', not tested\n", d->name,
			SELFTEST_PARTITION);
		return true;
	}
	sectors = p->sectors < SELFTEST_BYTES / BLOCK_SECTOR ? (uint32_t)p->sectors
							     : SELFTEST_BYTES / BLOCK_SECTOR;
	if (partition_open(p, SELFTEST_HOLDER, true, why, sizeof(why))) {
		kprintf("pgvisor: selftest: storage %s/%s: failed: %s\n", d->name, p->name, why);
		return false;
	}
	int r = test_partition(p, out, in, sectors, why, sizeof(why));
	partition_close(p, true);
	if (r) {
		kprintf("pgvisor: selftest: storage %s/%s: failed: %s\n", d->name, p->name, why);
		return false;
	}
	kprintf("pgvisor: selftest: storage %s/%s: wrote %u KiB, flushed, read back: passed "
		"(%s)\n",
		d->name, p->name, sectors * BLOCK_SECTOR / KIB, why);
	return true;
}

bool storage_selftest(void)
{
	uint64_t *out = page_alloc(SELFTEST_PAGES), *in = page_alloc(SELFTEST_PAGES);
	bool passed = true;

	if (!out || !in) {
		kprintf("pgvisor: selftest: storage: failed: no memory for its buffers\n");
		passed = false;
	} else {
		for (unsigned i = 0; i < blockdev_count(); i++)
			if (!test_disk(blockdev_get(i), out, in))
				passed = false;
		if (!partition_find(SELFTEST_PARTITION)) {
			kprintf("pgvisor: selftest: storage: failed: no disk has a partition "
				"'%s'\n",
				SELFTEST_PARTITION);
			passed = false;
		}
	}
	if (out)
		page_free(out, SELFTEST_PAGES);
	if (in)
		page_free(in, SELFTEST_PAGES);
	return passed;
}
