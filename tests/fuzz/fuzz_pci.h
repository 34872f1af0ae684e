/* The PCI device harnesses' guest: a VM's port and MMIO buses with the PCI
 * host bridge (vmm/dev/pci_host.c) and one device plugged in, and guest RAM
 * between guard pages, driven by steps decoded from the input: PCI
 * configuration cycles through 0xcf8/0xcfc, MMIO and port accesses in the
 * BAR windows, and RAM writes (the driver's rings and buffers).
 * tests/fuzz/seeds.py writes the same steps to bring a virtio device up. */
#ifndef PGVISOR_FUZZ_PCI_H
#define PGVISOR_FUZZ_PCI_H

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/iobus.h"
#include "vmm/dev/mmio.h"
#include "vmm/dev/pci_host.h"

#define FUZZ_PCI_RAM_SIZE 0x10000u

enum fuzz_pci_step {
	FUZZ_PCI_CFG_READ,   /* slot, offset, size */
	FUZZ_PCI_CFG_WRITE,  /* slot, offset, size, u32 value */
	FUZZ_PCI_MMIO_READ,  /* u32 offset in the MMIO window, size */
	FUZZ_PCI_MMIO_WRITE, /* u32 offset, size, u64 value */
	FUZZ_PCI_IN,	     /* fuzz_port over the I/O window and 0xcf8-0xcff, size */
	FUZZ_PCI_OUT,	     /* the same, u32 value */
	FUZZ_PCI_RAM,	     /* u16 address, u8 length, the bytes */
	FUZZ_PCI_STEPS
};

struct fuzz_pci {
	struct io_bus io;
	struct mmio_bus mmio;
	struct pci_host host;
	uint8_t *ram;
};

/* Sets up the buses and the host bridge over cleared guest RAM and plugs d
 * in (slot 1), its MSIs and INTx going nowhere. 0, or -1. */
int fuzz_pci_init(struct fuzz_pci *f, struct pci_device *d);
void fuzz_pci_step(struct fuzz_pci *f, enum fuzz_pci_step step, struct fuzz_in *in);

#endif
