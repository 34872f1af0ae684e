/* libFuzzer harness: the MC146818 RTC and CMOS (vmm/dev/rtc.c) driven by a
 * guest's port accesses and time passing, each step decoded from the
 * input; the host's time of day and the RAM size come first. */
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/rtc.h"

/* 10000-01-01: the host's time of day comes from its CMOS clock, whose
 * four-digit year ends there. */
#define EPOCH_END 253402300800ull

enum step { STEP_IN, STEP_OUT, STEP_TIME, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_ports ports[] = { { RTC_BASE, RTC_PORTS } };
	static struct io_bus bus;
	static struct rtc rtc;
	struct fuzz_in in = fuzz_in(data, size);

	memset(&bus, 0, sizeof(bus));
	fuzz_now_ns = 0;
	uint64_t epoch = fuzz_u64(&in) % EPOCH_END;
	uint64_t ram = fuzz_u64(&in);
	rtc_init(&rtc, &fuzz_clock, fuzz_virq, epoch, ram);
	if (rtc_attach(&rtc, &bus))
		return 0;
	struct vtimer timer = rtc_timer(&rtc);
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_IN:
			fuzz_io_access(&in, &bus, ports, 1, false);
			break;
		case STEP_OUT:
			fuzz_io_access(&in, &bus, ports, 1, true);
			break;
		case STEP_TIME:
			fuzz_time_passes(&in, &timer);
			break;
		}
	}
	return 0;
}
