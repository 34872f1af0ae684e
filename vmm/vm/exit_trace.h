/* The last exits of a vCPU, for the operator's "trace VM on|off|show":
 * a ring of reason, guest RIP, exit qualification and host TSC. Off by
 * default: the exit path then pays one predicted branch. */
#ifndef PGVISOR_EXIT_TRACE_H
#define PGVISOR_EXIT_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_TRACE_LEN 64

struct exit_trace_entry {
	uint64_t tsc;
	uint64_t rip;
	uint64_t qualification;
	uint32_t reason; /* the full field: basic reason and flags */
};

struct exit_trace {
	bool on;
	uint64_t total; /* exits recorded since it was turned on */
	struct exit_trace_entry ring[EXIT_TRACE_LEN];
};

static inline void exit_trace_record(struct exit_trace *t, uint32_t reason, uint64_t rip,
				     uint64_t qualification, uint64_t tsc)
{
	struct exit_trace_entry *e = &t->ring[t->total++ % EXIT_TRACE_LEN];

	*e = (struct exit_trace_entry){ tsc, rip, qualification, reason };
}

/* Turns recording on (from an empty ring) or off (the ring is kept). */
void exit_trace_set(struct exit_trace *t, bool on);
/* How many of the last n exits the ring holds (at most EXIT_TRACE_LEN). */
unsigned exit_trace_available(const struct exit_trace *t, unsigned n);
/* The i-th of the last n exits, oldest first (i < exit_trace_available). */
const struct exit_trace_entry *exit_trace_at(const struct exit_trace *t, unsigned n, unsigned i);

#endif
