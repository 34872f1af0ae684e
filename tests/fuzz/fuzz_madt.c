/* libFuzzer harness: the firmware's ACPI MADT (arch/x86/madt.c), from which
 * pgvisor learns its processors. The input is the table. */
#include <stdlib.h>

#include "arch/x86/madt.h"
#include "tests/fuzz/fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct madt_cpus cpus;
	uint8_t *table = fuzz_copy(data, size);

	madt_parse(table, size, &cpus);
	free(table);
	return 0;
}
