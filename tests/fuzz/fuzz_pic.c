/* libFuzzer harness: the two cascaded 8259A PICs (vmm/dev/pic.c) driven by
 * a guest's port accesses (ICWs, OCWs, ELCR), device interrupt lines and
 * the CPU's acknowledge cycles, each step decoded from the input. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/pic.h"

#define PIC_PORTS 2
#define ELCR_PORTS 2

enum step { STEP_IN, STEP_OUT, STEP_LINE, STEP_ACK, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_ports ports[] = {
		{ PIC_MASTER_BASE, PIC_PORTS },
		{ PIC_SLAVE_BASE, PIC_PORTS },
		{ PIC_ELCR_BASE, ELCR_PORTS },
	};
	static struct io_bus bus;
	static struct pic pic;
	struct fuzz_in in = fuzz_in(data, size);

	memset(&bus, 0, sizeof(bus));
	pic_init(&pic);
	if (pic_attach(&pic, &bus))
		return 0;
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_IN:
			fuzz_io_access(&in, &bus, ports, 3, false);
			break;
		case STEP_OUT:
			fuzz_io_access(&in, &bus, ports, 3, true);
			break;
		case STEP_LINE: {
			uint8_t b = fuzz_u8(&in);
			pic_set_irq(&pic, b % PIC_IRQS, b & 0x80);
			break;
		}
		case STEP_ACK:
			/* The CPU acknowledges only what the PIC presents. */
			if (pic_has_interrupt(&pic) && pic_acknowledge(&pic) < 0)
				abort();
			break;
		}
	}
	return 0;
}
