/* libFuzzer harness: a virtio-blk disk (vmm/dev/virtio/virtio_blk.c, with
 * virtio_pci.c, virtqueue.c and pci_device.c) on the PCI host bridge, driven
 * by the guest of fuzz_pci.h. The first byte makes the disk writable or
 * not; the disk is a 64 KiB image in memory. */
#include <string.h>

#include "tests/fuzz/fuzz_pci.h"
#include "vmm/dev/virtio/virtio_blk.h"

#define DISK_SIZE 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t disk[DISK_SIZE];
	static struct virtio_blk blk;
	static struct fuzz_pci f;
	struct fuzz_in in = fuzz_in(data, size);
	const struct virtio_blk_store store = { .image = disk, .size = DISK_SIZE };

	memset(disk, 0x5a, sizeof(disk));
	bool writable = fuzz_u8(&in) & 1;
	f.ram = fuzz_guarded(FUZZ_PCI_RAM_SIZE);
	if (virtio_blk_init(&blk, "fuzz", "vda", &store, writable, f.ram, FUZZ_PCI_RAM_SIZE) ||
	    fuzz_pci_init(&f, &blk.dev.pci))
		return 0;
	while (in.left)
		fuzz_pci_step(&f, fuzz_u8(&in) % FUZZ_PCI_STEPS, &in);
	return 0;
}
