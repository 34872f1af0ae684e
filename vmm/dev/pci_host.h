/* PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2): the
 * address port 0xCF8 and data ports 0xCFC-0xCFF, with a bus holding one
 * device, the host bridge at 00:00.0. Every other function reads as
 * absent (all ones), which is how an empty slot answers. */
#ifndef PGVISOR_DEV_PCI_HOST_H
#define PGVISOR_DEV_PCI_HOST_H

#include <stdint.h>

#include "vmm/dev/iobus.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

struct pci_host {
	uint32_t address;
	uint8_t config[256]; /* the host bridge's configuration space */
};

void pci_host_init(struct pci_host *p);
int pci_host_attach(struct pci_host *p, struct io_bus *bus);

#endif
