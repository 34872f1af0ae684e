/* libFuzzer harness: the I/O APIC (vmm/dev/vioapic.c) driven by a guest's
 * MMIO accesses (IOREGSEL/IOWIN, EOI), device interrupt lines and EOIs
 * from the local APICs, each step decoded from the input. */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"

enum step { STEP_MMIO_READ, STEP_MMIO_WRITE, STEP_LINE, STEP_EOI, STEPS };

static void deliver(void *ctx, const struct vioapic_msg *msg)
{
	(void)ctx;
	if (msg->mode > APIC_DM_EXTINT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vioapic io;
	struct fuzz_in in = fuzz_in(data, size);

	vioapic_init(&io, 2, deliver, NULL);
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_MMIO_READ: {
			uint64_t addr = VIOAPIC_MMIO_BASE + fuzz_u16(&in) % VIOAPIC_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			if (addr + s <= VIOAPIC_MMIO_BASE + VIOAPIC_MMIO_SIZE)
				vioapic_mmio_read(&io, addr, s);
			break;
		}
		case STEP_MMIO_WRITE: {
			uint64_t addr = VIOAPIC_MMIO_BASE + fuzz_u16(&in) % VIOAPIC_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			uint64_t value = fuzz_u64(&in);
			if (addr + s <= VIOAPIC_MMIO_BASE + VIOAPIC_MMIO_SIZE)
				vioapic_mmio_write(&io, addr, s, value);
			break;
		}
		case STEP_LINE: {
			uint8_t b = fuzz_u8(&in);
			vioapic_set_irq(&io, b % VIOAPIC_PINS, b & 0x80);
			break;
		}
		case STEP_EOI:
			vioapic_eoi(&io, fuzz_u8(&in));
			break;
		}
	}
	return 0;
}
