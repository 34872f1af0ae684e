#include "drivers/storage/disk_bench.h"

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "drivers/console.h"
#include "drivers/storage/partition.h"

/* As a VM's virtio-blk moves a partition (VIRTIO_BLK_BOUNCE_BYTES). */
#define REQUEST_BYTES (64u * 1024)
#define REQUEST_SECTORS (REQUEST_BYTES / BLOCK_SECTOR)
#define PAGES (REQUEST_BYTES / PAGE_SIZE)

/* One pass over p; its ticks, or 0 after a line saying what failed. */
static uint64_t pass(struct partition *p, uint8_t *buf, bool write)
{
	char why[120];
	uint64_t t0 = rdtsc();

	for (uint64_t s = 0; s < p->sectors; s += REQUEST_SECTORS) {
		uint32_t n = (uint32_t)(p->sectors - s < REQUEST_SECTORS ? p->sectors - s
									 : REQUEST_SECTORS);
		/* A write pass rereads each piece first: what it writes back is
		 * what was there. The read is outside the write's timing. */
		if (write) {
			uint64_t r0 = rdtsc();
			if (partition_read(p, s, n, buf, why, sizeof(why)))
				goto failed;
			t0 += rdtsc() - r0;
			if (partition_write(p, s, n, buf, why, sizeof(why)))
				goto failed;
		} else if (partition_read(p, s, n, buf, why, sizeof(why))) {
			goto failed;
		}
	}
	if (write && partition_flush(p, why, sizeof(why)))
		goto failed;
	return rdtsc() - t0;
failed:
	kprintf("pgvisor: diskbench: part:%s: %s failed: %s\n", p->name, write ? "write" : "read",
		why);
	return 0;
}

int disk_bench(const char *name)
{
	struct partition *p = partition_find(name);
	uint64_t read_ticks, write_ticks;
	uint8_t *buf;

	if (!p) {
		kprintf("pgvisor: diskbench: no partition named '%s'\n", name);
		return -1;
	}
	buf = page_alloc(PAGES);
	if (!buf) {
		kprintf("pgvisor: diskbench: out of memory\n");
		return -1;
	}
	read_ticks = pass(p, buf, false);
	write_ticks = read_ticks ? pass(p, buf, true) : 0;
	page_free(buf, PAGES);
	if (!write_ticks)
		return -1;
	kprintf("pgvisor: diskbench: part:%s on %s: %llu bytes in %u-byte requests, read %llu "
		"ticks, write and flush %llu ticks\n",
		p->name, p->disk->name, (unsigned long long)(p->sectors * BLOCK_SECTOR),
		REQUEST_BYTES, (unsigned long long)read_ticks, (unsigned long long)write_ticks);
	return 0;
}
