/* gdbtest: a guest for the gdb stub (tests/system/test_gdb.py). It adds
 * 1, 2 and 3 to a global through a function, then checks the sum: gdb
 * breaks on the function, reads and watches the global, and detaches; the
 * guest must then finish as if nobody had looked. Last it pushes its
 * flags at gdbtest_pushf and prints their TF: gdb single-steps that PUSHF,
 * which a monitor-trap-flag step leaves unseen (TF 0). With "halt" on its
 * command line it then waits in HLT with interrupts enabled, for nothing
 * (gdb's Ctrl-C must stop it there). */
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/runtime.h"

#define TICKS 3
#define RFLAGS_TF (1u << 8)
#define EXPECTED_SUM 6 /* 1 + 2 + 3 */

const char program_name[] = "gdbtest";

/* Global and volatile: gdb reads and watches it by name. */
volatile uint32_t gdbtest_counter;

/* Not inlined: gdb breaks on it by name. */
__attribute__((noinline)) void gdbtest_tick(uint32_t step)
{
	gdbtest_counter += step;
}

/* The flags as PUSHF at the global label gdbtest_pushf stores them. */
__attribute__((noinline)) static unsigned long pushed_flags(void)
{
	unsigned long flags;

	__asm__ volatile(".globl gdbtest_pushf\n"
			 "gdbtest_pushf:\n\t"
			 "pushf\n\t"
			 "pop %0"
			 : "=r"(flags)
			 :
			 : "memory");
	return flags;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp))
		bp.cmdline = "";
	for (uint32_t i = 1; i <= TICKS; i++)
		gdbtest_tick(i);
	printf("gdbtest: counter %u\n", (unsigned)gdbtest_counter);
	if (gdbtest_counter != EXPECTED_SUM) {
		printf("gdbtest: FAILED (expected %u)\n", EXPECTED_SUM);
		return 1;
	}
	printf("gdbtest: pushf tf %u\n", (pushed_flags() & RFLAGS_TF) ? 1u : 0u);
	printf("gdbtest: done\n");
	if (cmdline_option(bp.cmdline, "halt")) {
		printf("gdbtest: halting\n");
		console_flush();
		for (;;)
			__asm__ volatile("sti; hlt");
	}
	return 0;
}
