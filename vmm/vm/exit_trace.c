#include "vmm/vm/exit_trace.h"

#include <string.h>

void exit_trace_set(struct exit_trace *t, bool on)
{
	if (on && !t->on) {
		t->total = 0;
		memset(t->ring, 0, sizeof(t->ring));
	}
	t->on = on;
}

unsigned exit_trace_available(const struct exit_trace *t, unsigned n)
{
	uint64_t held = t->total < EXIT_TRACE_LEN ? t->total : EXIT_TRACE_LEN;

	return n < held ? n : (unsigned)held;
}

const struct exit_trace_entry *exit_trace_at(const struct exit_trace *t, unsigned n, unsigned i)
{
	unsigned k = exit_trace_available(t, n);

	return &t->ring[(t->total - k + i) % EXIT_TRACE_LEN];
}
