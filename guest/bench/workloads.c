#include "guest/bench/workloads.h"

#include "guest/lib/string.h"

#define SIEVE_LIMIT (4u << 20)
#define TEXT_BYTES (1u << 20)
#define HASH_BITS 16
#define MIN_MATCH 4
#define MAX_MATCH 255
#define LITERAL_COST 1 /* output bytes of a literal */
#define MATCH_COST 3   /* output bytes of a (distance, length) pair */
#define WORDS 64       /* distinct words the text is made of */
#define WALK_BYTES (16u << 20)
#define PAGE 4096u
#define WALK_PAGES (WALK_BYTES / PAGE)
/* Hops land at a different offset in each page, so they also spread over
 * cache sets. */
#define LINE 64u

static uint8_t sieve[SIEVE_LIMIT];
static uint8_t text[TEXT_BYTES];
static uint32_t head[1u << HASH_BITS];
static uint8_t walk[WALK_BYTES] __attribute__((aligned(4096)));

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

uint32_t workload_sieve(void)
{
	uint32_t primes = 0;

	memset(sieve, 1, sizeof(sieve));
	for (uint32_t i = 2; i < SIEVE_LIMIT; i++) {
		if (!sieve[i])
			continue;
		primes++;
		for (uint32_t j = i * 2; j < SIEVE_LIMIT; j += i)
			sieve[j] = 0;
	}
	return primes;
}

static uint32_t hash4(const uint8_t *p)
{
	uint32_t v =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Words of 3 to 10 letters drawn at random: repeats a compressor finds. */
static void make_text(void)
{
	uint32_t x = 0x2545f491;
	uint32_t at = 0;

	while (at < TEXT_BYTES) {
		uint32_t word = xorshift(&x) % WORDS;
		uint32_t len = 3 + word % 8;
		for (uint32_t i = 0; i < len && at < TEXT_BYTES; i++)
			text[at++] = (uint8_t)('a' + (word * 7 + i * 13) % 26);
		if (at < TEXT_BYTES)
			text[at++] = ' ';
	}
}

uint32_t workload_compress(void)
{
	uint32_t out = 0;

	make_text();
	memset(head, 0xff, sizeof(head));
	for (uint32_t pos = 0; pos + MIN_MATCH <= TEXT_BYTES;) {
		uint32_t h = hash4(&text[pos]);
		uint32_t cand = head[h];
		uint32_t len = 0;
		head[h] = pos;
		if (cand != 0xffffffffu)
			while (pos + len < TEXT_BYTES && len < MAX_MATCH &&
			       text[cand + len] == text[pos + len])
				len++;
		if (len >= MIN_MATCH) {
			out += MATCH_COST;
			pos += len;
		} else {
			out += LITERAL_COST;
			pos++;
		}
	}
	return out;
}

/* Where the hop in page p is stored. */
static uint32_t slot_of(uint32_t page)
{
	return page * PAGE + (page % (PAGE / LINE)) * LINE;
}

uint32_t workload_walk(uint32_t hops)
{
	static uint32_t order[WALK_PAGES];
	uint32_t x = 0x9e3779b9;

	/* A random cyclic order of the pages (Sattolo's shuffle): one cycle
	 * through all of them. */
	for (uint32_t i = 0; i < WALK_PAGES; i++)
		order[i] = i;
	for (uint32_t i = WALK_PAGES - 1; i > 0; i--) {
		uint32_t j = xorshift(&x) % i;
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < WALK_PAGES; i++) {
		uint32_t next = order[(i + 1) % WALK_PAGES];
		*(uint32_t *)&walk[slot_of(order[i])] = slot_of(next);
	}
	uint32_t at = slot_of(order[0]), sum = 0;
	for (uint32_t i = 0; i < hops; i++) {
		at = *(volatile uint32_t *)&walk[at];
		sum += at;
	}
	return sum;
}
