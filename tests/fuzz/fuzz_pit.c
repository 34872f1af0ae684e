/* libFuzzer harness: the 8254 PIT (vmm/dev/pit.c) driven by a guest's port
 * accesses (control words, counts, latches, read-back, port 0x61) and time
 * passing, each step decoded from the input. */
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/pit.h"

enum step { STEP_IN, STEP_OUT, STEP_TIME, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_ports ports[] = { { PIT_BASE, PIT_PORTS }, { PIT_PORT_B, 1 } };
	static struct io_bus bus;
	static struct pit pit;
	struct fuzz_in in = fuzz_in(data, size);

	memset(&bus, 0, sizeof(bus));
	fuzz_now_ns = 0;
	pit_init(&pit, &fuzz_clock, fuzz_virq);
	if (pit_attach(&pit, &bus))
		return 0;
	struct vtimer timer = pit_timer(&pit);
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_IN:
			fuzz_io_access(&in, &bus, ports, 2, false);
			break;
		case STEP_OUT:
			fuzz_io_access(&in, &bus, ports, 2, true);
			break;
		case STEP_TIME:
			fuzz_time_passes(&in, &timer);
			break;
		}
	}
	return 0;
}
