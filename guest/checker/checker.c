/* checker: the quiet neighbour of guest/chaos (tests/system/test_chaos.py).
 * rounds=N times it writes a round-numbered pattern over all its free RAM
 * and reads it back into a checksum it prints, "checker: round R checksum
 * C over W words", then powers off. It reads no clock and asks the
 * hypervisor nothing, so its output and its RAM at the end are the same
 * in every run, alone or beside any other VM: pgvisor's memhash switch
 * prints a hash of that RAM, for the test to compare. */
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/freemem.h"
#include "guest/lib/runtime.h"

#define DEFAULT_ROUNDS 4
#define EXIT_NO_MEMORY_MAP 2
#define PATTERN_INDEX_MIX 0x9e3779b1u /* 2^32 / golden ratio */
#define PATTERN_ROUND_MIX 0x85ebca6bu

const char program_name[] = "checker";

/* Word k of free RAM in round r: distinct per word and per round. */
static uint32_t pattern(uint32_t k, uint32_t r)
{
	return (k * PATTERN_INDEX_MIX) ^ (r * PATTERN_ROUND_MIX);
}

static uint32_t words_in(const struct boot_range *range)
{
	return (uint32_t)((range->end - range->start) / 4);
}

static void write_round(const struct free_ranges *fr, uint32_t r)
{
	uint32_t k = 0;
	for (unsigned i = 0; i < fr->n; i++) {
		volatile uint32_t *word = (volatile uint32_t *)(uint32_t)fr->range[i].start;
		for (uint32_t n = words_in(&fr->range[i]); n; n--)
			*word++ = pattern(k++, r);
	}
}

/* Rotate-and-xor over every word: a changed word changes the sum. */
static uint32_t read_round(const struct free_ranges *fr, uint32_t *words)
{
	uint32_t sum = 0;
	*words = 0;
	for (unsigned i = 0; i < fr->n; i++) {
		volatile uint32_t *word = (volatile uint32_t *)(uint32_t)fr->range[i].start;
		for (uint32_t n = words_in(&fr->range[i]); n; n--, (*words)++)
			sum = (sum << 5 | sum >> 27) ^ *word++;
	}
	return sum;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	struct free_ranges fr;

	if (boot_params_parse(magic, info, &bp) || free_ranges_find(&bp, &fr)) {
		printf("checker: no memory map: cannot tell which RAM is free\n");
		return EXIT_NO_MEMORY_MAP;
	}
	const char *rounds_option = cmdline_option(bp.cmdline, "rounds");
	uint32_t rounds = rounds_option ? parse_uint(rounds_option) : DEFAULT_ROUNDS;
	printf("checker: %u rounds over %u KiB of free RAM\n", rounds, (uint32_t)(fr.bytes >> 10));
	for (uint32_t r = 1; r <= rounds; r++) {
		uint32_t words;
		write_round(&fr, r);
		uint32_t sum = read_round(&fr, &words);
		printf("checker: round %u checksum 0x%08x over %u words\n", r, sum, words);
	}
	printf("checker: done\n");
	return 0;
}
