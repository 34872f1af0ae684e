/* The yardstick of make bench's VM disk figures: how fast pgvisor's own
 * driver moves a partition, measured before any VM runs ("diskbench=NAME"
 * on pgvisor's command line). A VM disk on that partition cannot beat it. */
#ifndef PGVISOR_DISK_BENCH_H
#define PGVISOR_DISK_BENCH_H

/* Reads partition name whole in 64 KiB requests, then writes the same bytes
 * back (its contents stay), timing each pass with the TSC; prints one line
 * with both. 0, or -1 after one line saying why. */
int disk_bench(const char *name);

#endif
