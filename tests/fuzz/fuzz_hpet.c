/* libFuzzer harness: the HPET (vmm/dev/hpet.c) driven by a guest's MMIO
 * accesses of every size and offset and by time passing, each step
 * decoded from the input; the I/O APIC inputs timers may use come first. */
#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/hpet.h"

enum step { STEP_READ, STEP_WRITE, STEP_TIME, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hpet hpet;
	struct fuzz_in in = fuzz_in(data, size);

	fuzz_now_ns = 0;
	hpet_init(&hpet, &fuzz_clock, fuzz_virq, fuzz_virq, fuzz_u32(&in));
	struct vtimer timer = hpet_timer(&hpet);
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_READ: {
			uint64_t addr = HPET_MMIO_BASE + fuzz_u16(&in) % HPET_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			if (addr + s <= HPET_MMIO_BASE + HPET_MMIO_SIZE)
				hpet_mmio_read(&hpet, addr, s);
			break;
		}
		case STEP_WRITE: {
			uint64_t addr = HPET_MMIO_BASE + fuzz_u16(&in) % HPET_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			uint64_t value = fuzz_u64(&in);
			if (addr + s <= HPET_MMIO_BASE + HPET_MMIO_SIZE)
				hpet_mmio_write(&hpet, addr, s, value);
			break;
		}
		case STEP_TIME:
			fuzz_time_passes(&in, &timer);
			break;
		}
	}
	return 0;
}
