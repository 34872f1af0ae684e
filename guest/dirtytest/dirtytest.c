/* dirtytest: the save/restore and migration test guest (issue 19), after
 * QEMU's migration test guest. It increments the first byte of every 4 KiB
 * page of a region of RAM, pass after pass, and prints a mark after each:
 *
 *   dirtytest: pass P sum 0xXXXXXXXX
 *
 * where sum is an FNV-1a hash of the region's first bytes. Before every
 * pass it checks that all of them hold the last pass's count (mod 256):
 * a page a restore lost or mixed up prints one FAIL line and the guest
 * stops with status 1. A VM restored from an image saved mid-run goes on
 * from the pass it was in, so its marks continue the source's sequence.
 * The TSC is read after every pass: one that went back is a FAIL, and the
 * longest time between two marks is printed at the end (a restored VM's
 * TSC must not jump over the time it spent as an image).
 *
 * Options: mib=N (the region, default 4, from 4 MiB up), spin=S (a busy
 * loop of S iterations after each pass, default 0, to pace the marks),
 * passes=N (power off with status 0 after pass N; default: run forever). */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/freemem.h"
#include "guest/lib/runtime.h"

#define REGION_START (4u << 20)
#define MIB (1u << 20)
#define PAGE 4096u
#define DEFAULT_MIB 4u
#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 16777619u
#define EXIT_FAILED 1

const char program_name[] = "dirtytest";

/* In RAM, like the region: a restore carries them with it. */
static volatile uint32_t pass;
static volatile uint32_t spin_sink;
static volatile uint64_t last_tsc, longest_pass;

static volatile uint8_t *page_byte(uint32_t page)
{
	return (volatile uint8_t *)(REGION_START + page * PAGE);
}

/* Whether [REGION_START, + bytes) is RAM the program may overwrite. */
static bool region_free(const struct boot_params *bp, uint32_t bytes)
{
	struct free_ranges free_ram;

	if (free_ranges_find(bp, &free_ram))
		return false;
	for (unsigned i = 0; i < free_ram.n; i++)
		if (free_ram.range[i].start <= REGION_START &&
		    free_ram.range[i].end >= (uint64_t)REGION_START + bytes)
			return true;
	return false;
}

/* Every page's byte holds the count of the passes done so far. */
static void check_region(uint32_t pages)
{
	uint8_t want = (uint8_t)pass;

	for (uint32_t p = 0; p < pages; p++)
		if (*page_byte(p) != want) {
			printf("dirtytest: FAIL pass %u: page %u holds %u, expected %u\n", pass, p,
			       *page_byte(p), want);
			guest_exit(EXIT_FAILED);
		}
}

/* The TSC since the last mark: never back, and the longest gap kept. */
static void check_tsc(void)
{
	uint64_t now = rdtsc();

	if (last_tsc && now < last_tsc) {
		printf("dirtytest: FAIL pass %u: the TSC went back from %llu to %llu\n", pass,
		       (unsigned long long)last_tsc, (unsigned long long)now);
		guest_exit(EXIT_FAILED);
	}
	if (last_tsc && now - last_tsc > longest_pass)
		longest_pass = now - last_tsc;
	last_tsc = now;
}

static uint32_t region_sum(uint32_t pages)
{
	uint32_t h = FNV_OFFSET;

	for (uint32_t p = 0; p < pages; p++)
		h = (h ^ *page_byte(p)) * FNV_PRIME;
	return (h ^ pass) * FNV_PRIME;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp)) {
		printf("dirtytest: FAIL not booted by a Multiboot loader\n");
		return EXIT_FAILED;
	}
	const char *opt = cmdline_option(bp.cmdline, "mib");
	uint32_t mib = opt ? parse_uint(opt) : DEFAULT_MIB;
	opt = cmdline_option(bp.cmdline, "spin");
	uint32_t spin = opt ? parse_uint(opt) : 0;
	opt = cmdline_option(bp.cmdline, "passes");
	uint32_t passes = opt ? parse_uint(opt) : 0;
	uint32_t pages = mib * (MIB / PAGE);

	if (!mib || !region_free(&bp, mib * MIB)) {
		printf("dirtytest: FAIL %u MiB at %#x is not free RAM\n", mib, REGION_START);
		return EXIT_FAILED;
	}
	printf("dirtytest: %u pages at %#x, spin %u, passes %u\n", pages, REGION_START, spin,
	       passes);
	for (;;) {
		check_region(pages);
		for (uint32_t p = 0; p < pages; p++)
			(*page_byte(p))++;
		pass++;
		printf("dirtytest: pass %u sum 0x%08x\n", pass, region_sum(pages));
		check_tsc();
		for (uint32_t i = 0; i < spin; i++)
			spin_sink = i;
		if (passes && pass == passes) {
			printf("dirtytest: done, longest pass %llu TSC ticks\n",
			       (unsigned long long)longest_pass);
			return 0;
		}
	}
}
