/* The machine's own PCI bus, as pgvisor sees it: configuration mechanism #1
 * (ports 0xCF8/0xCFC), one scan at boot, BARs decoded and sized. A driver
 * claims the functions it drives; the boot log lists every function and its
 * owner. VMs never see these: their PCI bus is the emulated one of
 * vmm/dev/pci_host.c, and neither the machine's config ports nor its BARs
 * are mapped into any VM. */
#ifndef PGVISOR_PCI_H
#define PGVISOR_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_FUNCS 64
#define PCI_BARS 6

/* Configuration space offsets (PCI Local Bus 3.0, 6.1). */
#define PCI_CFG_VENDOR 0x00
#define PCI_CFG_DEVICE 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_CLASS_REV 0x08
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_SECONDARY_BUS 0x19
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_IRQ_LINE 0x3c

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_BUS_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)

struct pci_bar {
	uint64_t base; /* port or physical address; 0: not implemented */
	uint64_t size;
	bool io;
	bool prefetchable;
};

struct pci_func {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t irq_line;
	struct pci_bar bar[PCI_BARS];
	const char *owner; /* the driver that claimed it, or NULL */
};

/* Enumerates every bus once (idempotent) and prints one line a function. */
void pci_scan(void);
/* The next unclaimed function after *cursor (start at 0) whose class code
 * matches class_code under mask, or NULL. */
struct pci_func *pci_find_class(unsigned *cursor, uint32_t class_code, uint32_t mask);
/* The next unclaimed function with that vendor and one of devices[n]. */
struct pci_func *pci_find_device(unsigned *cursor, uint16_t vendor, const uint16_t *devices,
				 unsigned n);
/* Marks f as driven by owner (a driver's name) and prints that. */
void pci_claim(struct pci_func *f, const char *owner);
/* Sets the decode and bus-master bits a driver needs. */
void pci_enable(struct pci_func *f, bool io, bool memory, bool bus_master);

uint32_t pci_read32(const struct pci_func *f, unsigned off);
uint16_t pci_read16(const struct pci_func *f, unsigned off);
uint8_t pci_read8(const struct pci_func *f, unsigned off);
void pci_write32(const struct pci_func *f, unsigned off, uint32_t v);
void pci_write16(const struct pci_func *f, unsigned off, uint16_t v);

#endif
