/* What every libFuzzer harness of tests/fuzz/ shares: a reader that turns
 * the input into values (0 once it runs out), exact-size copies so that
 * ASan sees a read one byte past the input, guest RAM between guard pages,
 * and the host fakes the device models call (a clock the input moves, an
 * interrupt line, the console). */
#ifndef PGVISOR_FUZZ_SUPPORT_H
#define PGVISOR_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dev/vclock.h"
#include "vmm/dev/virq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline struct fuzz_in fuzz_in(const uint8_t *data, size_t size)
{
	return (struct fuzz_in){ data, size };
}

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* An access size: 1, 2 or 4, and 8 too when max is 8. */
unsigned fuzz_size(struct fuzz_in *in, unsigned max);

/* A port of a device: one of the count ports from base most of the time,
 * now and then any port, so that neighbours and sizes across the edge of
 * the range are tried too. */
struct fuzz_ports {
	uint16_t base, count;
};
uint16_t fuzz_port(struct fuzz_in *in, const struct fuzz_ports *ranges, unsigned n);

/* A heap copy of exactly size bytes (the caller frees it). */
uint8_t *fuzz_copy(const void *data, size_t size);
/* Like fuzz_copy, NUL-terminated: text parsers that take a length may
 * still be handed a C string by their callers. */
char *fuzz_text(const void *data, size_t size);

/* size bytes (a multiple of 4 KiB) of zeroed memory with an inaccessible
 * page on each side, mapped once per size and zeroed again by
 * fuzz_guarded_clear (cheap: only touched pages are dropped). */
uint8_t *fuzz_guarded(size_t size);
void fuzz_guarded_clear(uint8_t *mem, size_t size);

/* The device models' clock: fuzz_now_ns, which harnesses move. */
extern uint64_t fuzz_now_ns;
extern const struct vclock fuzz_clock;
/* An interrupt line to nowhere that remembers the levels it was given. */
extern const struct virq fuzz_virq;
extern uint32_t fuzz_irq_levels;

#endif
