/* A PCI function's configuration space as the guest sees it (PCI Local Bus
 * 3.0, chapter 6): the type-0 header, BARs the guest sizes and moves, a
 * capability list, and MSI-X (PCI 3.0, 6.8.2) with its table and pending
 * bits in a memory BAR. The device model behind it (virtio-pci) supplies
 * the BAR contents through ops; messages leave through msi_send.
 *
 * Writes follow a per-byte writable mask, as in the spec: read-only bits
 * keep their value whatever the guest writes. */
#ifndef PGVISOR_PCI_DEVICE_H
#define PGVISOR_PCI_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/state_io.h"

#define PCI_CFG_SIZE 256
#define PCI_NUM_BARS 6
#define PCI_MSIX_MAX_VECTORS 16
#define PCI_MSIX_ENTRY_SIZE 16

/* Type-0 header offsets. */
#define PCI_CFG_VENDOR 0x00
#define PCI_CFG_DEVICE 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS_PROG 0x09
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_SUBSYS_VENDOR 0x2c
#define PCI_CFG_SUBSYS_ID 0x2e
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INTERRUPT_LINE 0x3c
#define PCI_CFG_INTERRUPT_PIN 0x3d
#define PCI_CFG_FIRST_CAP 0x40

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_INTX_PIN_A 1

/* INTx routing, as the guest's ACPI _PRT describes it (vmm/load/
 * acpi_build.c): pin P (0 = INTA) of device D (1..PCI_INTX_SLOTS) goes to
 * I/O APIC input 16 + (D - 1 + P) % 8, level-triggered, active low. */
#define PCI_INTX_SLOTS 8
#define PCI_INTX_PINS 4
#define PCI_INTX_FIRST_GSI 16
#define PCI_INTX_GSIS 8
static inline unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_FIRST_GSI + (slot - 1 + pin) % PCI_INTX_GSIS;
}

#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* MSI-X capability: message control bits. */
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_MSIX_CTRL_MASKALL 0x4000
#define PCI_MSIX_ENTRY_CTRL_MASKED 1u

enum pci_bar_kind {
	PCI_BAR_NONE,
	PCI_BAR_MEM32,
	PCI_BAR_IO,
};

struct pci_bar {
	enum pci_bar_kind kind;
	uint32_t size; /* a power of two: 16 bytes at least for memory, 4 for I/O */
};

struct pci_device;

struct pci_device_ops {
	/* An access inside BAR bar, offset bytes from its base (MSI-X table
	 * and PBA accesses never reach these). */
	uint64_t (*bar_read)(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size);
	void (*bar_write)(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size,
			  uint64_t value);
	/* A configuration access at off that the device models itself (a
	 * window such as virtio's PCI-config-access capability): return true
	 * when handled. Either may be NULL. */
	bool (*config_read)(struct pci_device *d, unsigned off, unsigned size, uint32_t *value);
	bool (*config_write)(struct pci_device *d, unsigned off, unsigned size, uint32_t value);
};

struct pci_msix {
	uint8_t cap; /* its offset in config space; 0: none */
	uint8_t bar; /* holds the table and the PBA */
	uint16_t nvec;
	uint32_t table_off, pba_off;
	uint32_t table[PCI_MSIX_MAX_VECTORS][PCI_MSIX_ENTRY_SIZE / 4];
	uint32_t pending; /* a bit per vector: the PBA */
};

struct pci_device {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* the guest-writable bits of each byte */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t next_cap; /* where pci_add_capability puts the next one */
	struct pci_msix msix;
	const struct pci_device_ops *ops;
	void *ctx; /* the device model's */
	/* Delivers an MSI message (address, data) as the platform routes it. */
	void (*msi_send)(void *msi_ctx, uint64_t address, uint32_t data);
	/* Drives I/O APIC input gsi (the function's INTx line). */
	void (*intx_send)(void *msi_ctx, unsigned gsi, bool level);
	void *msi_ctx;
	uint8_t slot;	    /* its device number on bus 0, set by the bus */
	bool intx_asserted; /* the device's wish, before INTX_DISABLE */
};

/* A function with this vendor/device ID and class (class << 8 | prog-if);
 * no BARs, no capabilities yet. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, const struct pci_device_ops *ops,
		     void *ctx);
/* Declares BAR bar (the firmware's placement: base); 0 or -1 when the size
 * is not a power of two or too small. */
int pci_device_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint32_t size,
		       uint32_t base);
/* The BAR's current base, or 0 when its decoding is off (command
 * register) or it is unassigned. */
uint32_t pci_device_bar_base(const struct pci_device *d, unsigned bar);
/* Appends a capability of len bytes (its first two bytes, ID and next,
 * are filled in) and returns its offset, or 0 when space ran out. */
uint8_t pci_add_capability(struct pci_device *d, uint8_t id, uint8_t len);
/* Adds the MSI-X capability with nvec vectors, its table at table_off and
 * PBA at pba_off in BAR bar. 0 or -1. */
int pci_device_add_msix(struct pci_device *d, unsigned nvec, unsigned bar, uint32_t table_off,
			uint32_t pba_off);
/* Whether MSI-X is enabled (the guest's choice). */
bool pci_msix_enabled(const struct pci_device *d);
/* Signals vector: sent now, or left pending while it or the function is
 * masked (sent when unmasked). An out-of-range vector is dropped. */
void pci_msix_notify(struct pci_device *d, unsigned vector);

/* The device raises (level) or lowers its INTx line. It reaches the
 * interrupt controller only while MSI-X is off and the command register's
 * INTx-disable bit is clear; the status register shows it either way. */
void pci_device_set_intx(struct pci_device *d, bool level);

uint32_t pci_device_config_read(struct pci_device *d, unsigned off, unsigned size);
void pci_device_config_write(struct pci_device *d, unsigned off, unsigned size, uint32_t value);
/* An access at offset into BAR bar: the MSI-X table and PBA are handled
 * here, the rest goes to the device's ops. */
uint64_t pci_device_bar_read(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size);
void pci_device_bar_write(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size,
			  uint64_t value);

/* The function's part of a device's state-stream record
 * (docs/STATE_STREAM.md): its configuration space (command register, BARs,
 * interrupt line, MSI-X control and every other guest-writable byte), the
 * MSI-X table and pending bits, and the INTx level the device asks for. A
 * load refuses a space whose read-only bits differ from d's own (another
 * kind of function, other capabilities), another MSI-X table size or
 * pending bits past it, and then leaves d as it was (-1, r->refused says
 * why); the device's record goes on after these fields, so the caller
 * checks the record's end. The I/O APIC's record
 * holds the INTx line's level; nothing is sent on load. */
void pci_device_save(const struct pci_device *d, struct state_writer *w);
int pci_device_load(struct pci_device *d, struct state_reader *r);

/* Little-endian field access into a byte array (config space, device
 * config structures). */
static inline uint32_t pci_get_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline void pci_put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
