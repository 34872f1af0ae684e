/* libFuzzer harness: a virtio console (vmm/dev/virtio/virtio_console.c,
 * with virtio_pci.c, virtqueue.c and pci_device.c) on the PCI host bridge,
 * driven by the guest of fuzz_pci.h, with host keyboard input and output
 * flushes between its steps, and a step that saves the console into its
 * state-stream record and loads it into a freshly built one (as a restore
 * does), which goes on with the next steps: every state the guest and the
 * keyboard can bring it into must load (else abort). */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_pci.h"
#include "vmm/dev/virtio/virtio_console.h"

#define INPUT_MAX 64u
#define RECORD_MAX 8192

enum step { STEP_HOST_INPUT = FUZZ_PCI_STEPS, STEP_FLUSH, STEP_SAVE_LOAD, STEPS };

static void save_load(struct virtio_console *con, uint8_t *ram)
{
	static uint8_t rec[RECORD_MAX];
	struct pci_device keep = con->dev.pci;
	struct state_writer w;
	struct state_reader r;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_console_save(con, &w);
	if (w.overflow || virtio_console_init(con, "fuzz", ram, FUZZ_PCI_RAM_SIZE))
		abort();
	con->dev.pci.msi_send = keep.msi_send;
	con->dev.pci.intx_send = keep.intx_send;
	con->dev.pci.msi_ctx = keep.msi_ctx;
	con->dev.pci.slot = keep.slot;
	memcpy(con->dev.pci.cfg + PCI_CFG_BAR0, keep.cfg + PCI_CFG_BAR0, 4 * PCI_NUM_BARS);
	state_reader_init(&r, rec, w.len, 0);
	if (virtio_console_load(con, &r))
		abort();
}

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
		} else if (step == STEP_FLUSH) {
			virtio_console_flush(&con);
		} else {
			save_load(&con, f.ram);
		}
	}
	return 0;
}
