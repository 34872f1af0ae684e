/* libFuzzer harness: a virtio-blk disk (vmm/dev/virtio/virtio_blk.c, with
 * virtio_pci.c, virtqueue.c and pci_device.c) on the PCI host bridge, driven
 * by the guest of fuzz_pci.h. The first byte makes the disk writable or
 * not; the disk is a 64 KiB image in memory.
 *
 * One more step, past fuzz_pci's, saves the device into its state-stream
 * record and loads that into a freshly built device (as a restore does),
 * which then goes on with the next steps: whatever state a guest can bring
 * a device into must be one its load accepts (else abort), and the device
 * must run on from it. With bit 1 of the first byte set the rest of the
 * input after a byte count is first loaded as a record body of its own
 * (the loader's refusals); an accepted one is driven on too. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_pci.h"
#include "vmm/dev/virtio/virtio_blk.h"

#define DISK_SIZE 0x10000u
#define STEP_SAVE_LOAD FUZZ_PCI_STEPS
#define RECORD_MAX 2048
#define FLAG_WRITABLE 1
#define FLAG_RECORD 2

static struct virtio_blk blk;
static struct virtio_blk_store store;
static bool writable;
static uint8_t *ram;

/* A fresh device in the slot of the old one, body loaded into it: 0 or -1
 * (the fresh device is then left as built). */
static int reload(const uint8_t *body, size_t len)
{
	struct pci_device keep = blk.dev.pci;
	struct state_reader r;

	if (virtio_blk_init(&blk, "fuzz", "vda", &store, writable, ram, FUZZ_PCI_RAM_SIZE))
		abort();
	blk.dev.pci.msi_send = keep.msi_send;
	blk.dev.pci.intx_send = keep.intx_send;
	blk.dev.pci.msi_ctx = keep.msi_ctx;
	blk.dev.pci.slot = keep.slot;
	/* The BARs where the host bridge placed them, as pci_reset does. */
	memcpy(blk.dev.pci.cfg + PCI_CFG_BAR0, keep.cfg + PCI_CFG_BAR0, 4 * PCI_NUM_BARS);
	state_reader_init(&r, body, len, 0);
	return virtio_blk_load(&blk, &r);
}

static void save_load(void)
{
	static uint8_t rec[RECORD_MAX];
	struct state_writer w;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_blk_save(&blk, &w);
	if (w.overflow || reload(rec, w.len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t disk[DISK_SIZE];
	static struct fuzz_pci f;
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t flags;

	memset(disk, 0x5a, sizeof(disk));
	store = (struct virtio_blk_store){ .image = disk, .size = DISK_SIZE };
	flags = fuzz_u8(&in);
	writable = flags & FLAG_WRITABLE;
	ram = f.ram = fuzz_guarded(FUZZ_PCI_RAM_SIZE);
	if (virtio_blk_init(&blk, "fuzz", "vda", &store, writable, f.ram, FUZZ_PCI_RAM_SIZE) ||
	    fuzz_pci_init(&f, &blk.dev.pci))
		return 0;
	if (flags & FLAG_RECORD) {
		size_t len = fuzz_u16(&in);
		len = len < in.left ? len : in.left;
		(void)reload(in.p, len);
		in.p += len;
		in.left -= len;
	}
	while (in.left) {
		unsigned step = fuzz_u8(&in) % (FUZZ_PCI_STEPS + 1);
		if (step == STEP_SAVE_LOAD)
			save_load();
		else
			fuzz_pci_step(&f, step, &in);
	}
	return 0;
}
