/* CPU-bound workloads for the slowdown benchmark: the same binary runs
 * bare and under pgvisor, and each reports its own TSC ticks. Each
 * returns a checksum of its result, so both runs can be compared. */
#ifndef GUEST_BENCH_WORKLOADS_H
#define GUEST_BENCH_WORKLOADS_H

#include <stdint.h>

/* Sieve of Eratosthenes below SIEVE_LIMIT: the number of primes. */
uint32_t workload_sieve(void);
/* An LZ77-style match finder (hash of 4 bytes, longest match) over a
 * pseudo-random text with repeats: the compressed size in bytes. */
uint32_t workload_compress(void);
/* A pointer chase through WALK_BYTES, one hop a page in a pseudo-random
 * cycle (more pages than a TLB covers): the sum of the hops' offsets. */
uint32_t workload_walk(uint32_t hops);

#endif
