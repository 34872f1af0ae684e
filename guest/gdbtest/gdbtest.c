/* gdbtest: a guest for the gdb stub (tests/system/test_gdb.py). It adds
 * 1, 2 and 3 to a global through a function, then checks the sum: gdb
 * breaks on the function, reads and watches the global, and detaches; the
 * guest must then finish as if nobody had looked. */
#include <stdint.h>

#include "guest/lib/console.h"
#include "guest/lib/runtime.h"

#define TICKS 3
#define EXPECTED_SUM 6 /* 1 + 2 + 3 */

const char program_name[] = "gdbtest";

/* Global and volatile: gdb reads and watches it by name. */
volatile uint32_t gdbtest_counter;

/* Not inlined: gdb breaks on it by name. */
__attribute__((noinline)) void gdbtest_tick(uint32_t step)
{
	gdbtest_counter += step;
}

int main(uint32_t magic, uint32_t info)
{
	(void)magic;
	(void)info;
	for (uint32_t i = 1; i <= TICKS; i++)
		gdbtest_tick(i);
	printf("gdbtest: counter %u\n", (unsigned)gdbtest_counter);
	if (gdbtest_counter != EXPECTED_SUM) {
		printf("gdbtest: FAILED (expected %u)\n", EXPECTED_SUM);
		return 1;
	}
	printf("gdbtest: done\n");
	return 0;
}
