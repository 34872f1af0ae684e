/* libFuzzer harness: a virtio console (vmm/dev/virtio/virtio_console.c,
 * with virtio_pci.c, virtqueue.c and pci_device.c) on the PCI host bridge,
 * driven by the guest of fuzz_pci.h, with host keyboard input and output
 * flushes between its steps. */
#include "tests/fuzz/fuzz_pci.h"
#include "vmm/dev/virtio/virtio_console.h"

#define INPUT_MAX 64u

enum step { STEP_HOST_INPUT = FUZZ_PCI_STEPS, STEP_FLUSH, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_console con;
	static struct fuzz_pci f;
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t bytes[INPUT_MAX];

	f.ram = fuzz_guarded(FUZZ_PCI_RAM_SIZE);
	if (virtio_console_init(&con, "fuzz", f.ram, FUZZ_PCI_RAM_SIZE) ||
	    fuzz_pci_init(&f, &con.dev.pci))
		return 0;
	while (in.left) {
		unsigned step = fuzz_u8(&in) % STEPS;
		if (step < FUZZ_PCI_STEPS) {
			fuzz_pci_step(&f, step, &in);
		} else if (step == STEP_HOST_INPUT) {
			unsigned n = fuzz_u8(&in) % INPUT_MAX;
			for (unsigned i = 0; i < n; i++)
				bytes[i] = fuzz_u8(&in);
			if (virtio_console_reading(&con))
				virtio_console_input(&con, bytes, n);
		} else {
			virtio_console_flush(&con);
		}
	}
	return 0;
}
