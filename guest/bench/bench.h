/* What guest/bench's parts share: the exit profile (HC_PROFILE_READ) and
 * how its differences are printed. */
#ifndef GUEST_BENCH_BENCH_H
#define GUEST_BENCH_BENCH_H

#include "vmm/abi/hypercall_abi.h"

/* bench.c's LAPIC timer interrupt (timer_stub: counts, EOI). */
#define BENCH_TIMER_VECTOR 0x30

/* The calling vCPU's exit profile; exits the guest when the call fails. */
void profile_read(struct hc_exit_profile *p);
/* ,"exits":N,"hv_ticks":N,"guest_ticks":N,"reasons":{"R":[count,timed,ticks],...}
 * for the difference a - b (the reasons that changed). */
void print_profile_delta(const struct hc_exit_profile *b, const struct hc_exit_profile *a);
/* The "profile-read" line: two reads in a row, what one read adds to every
 * difference. */
void print_profile_read_cost(void);

#endif
