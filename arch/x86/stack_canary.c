#include "arch/x86/stack_canary.h"

#include <stddef.h>

/* Unlikely as stack contents: neither a kernel address nor a small
 * number; mixed with the slot so that two stacks never share a value. */
#define CANARY_BASE 0x5eedcafef00dd00dull

struct canary {
	volatile uint64_t *word;
	unsigned cpu;
	const char *what;
};

static struct canary canaries[STACK_CANARY_MAX];
static unsigned ncanaries;

static uint64_t canary_value(unsigned i)
{
	return CANARY_BASE ^ ((uint64_t)i << 32);
}

int stack_canary_plant(void *bottom, unsigned cpu, const char *what)
{
	if (ncanaries == STACK_CANARY_MAX)
		return -1;
	struct canary *c = &canaries[ncanaries];
	*c = (struct canary){ bottom, cpu, what };
	*c->word = canary_value(ncanaries);
	ncanaries++;
	return 0;
}

unsigned stack_canary_count(void)
{
	return ncanaries;
}

bool stack_canary_intact(unsigned i)
{
	return i < ncanaries && *canaries[i].word == canary_value(i);
}

unsigned stack_canary_cpu(unsigned i)
{
	return i < ncanaries ? canaries[i].cpu : 0;
}

const char *stack_canary_what(unsigned i)
{
	return i < ncanaries ? canaries[i].what : "";
}
