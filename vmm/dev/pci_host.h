/* PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2): the
 * address port 0xCF8 and data ports 0xCFC-0xCFF, with bus 0 holding the
 * host bridge at 00:00.0 and the VM's PCI functions (struct pci_device) at
 * 00:NN.0. Every other function reads as absent (all ones), which is how
 * an empty slot answers.
 *
 * The bus also decodes the VM's PCI windows: memory BARs live in the PCI
 * hole [PCI_MMIO_BASE, PCI_MMIO_BASE + PCI_MMIO_SIZE) below the APIC
 * windows and I/O BARs in [PCI_IO_BASE, PCI_IO_BASE + PCI_IO_SIZE); an
 * access there goes to the function whose enabled BAR holds it, wherever
 * the guest moved that BAR within the window. */
#ifndef PGVISOR_DEV_PCI_HOST_H
#define PGVISOR_DEV_PCI_HOST_H

#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/mmio.h"
#include "vmm/dev/pci_device.h"
#include "vmm/dev/state_io.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
/* Device numbers 1..8 of bus 0: each has INTx routing in the _PRT. */
#define PCI_MAX_DEVICES PCI_INTX_SLOTS
#define PCI_MMIO_BASE 0xe0000000u
#define PCI_MMIO_SIZE 0x10000000u
#define PCI_IO_BASE 0xc000u
#define PCI_IO_SIZE 0x100u

struct pci_host {
	uint32_t address;
	uint8_t config[256];				 /* the host bridge's configuration space */
	struct pci_device *devices[PCI_MAX_DEVICES + 1]; /* by device number */
	uint32_t next_mmio, next_io;			 /* where the next BAR is placed */
};

void pci_host_init(struct pci_host *p);
int pci_host_attach(struct pci_host *p, struct io_bus *io, struct mmio_bus *mmio);
/* Puts d in the first free slot and places its BARs (already declared
 * with their sizes, base 0) in the windows, as firmware would. Returns its
 * device number, or -1 when the bus or a window is full. */
int pci_host_add_device(struct pci_host *p, struct pci_device *d);

/* The state stream's record of the host bridge (docs/STATE_STREAM.md): the
 * CONFIG_ADDRESS latch and the bridge's own writable registers (command
 * enables, latency timer). The functions behind it have records of their
 * own. A load refuses bits the registers do not keep and leaves p as it
 * was then. */
void pci_host_save(const struct pci_host *p, struct state_writer *w);
int pci_host_load(struct pci_host *p, struct state_reader *r);

#endif
