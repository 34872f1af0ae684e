#include "vmm/dev/pci_host.h"

#include <string.h>

#define ADDRESS_ENABLE (1u << 31)
#define ADDRESS_BUS_SHIFT 16
#define ADDRESS_DEVFN_SHIFT 8
#define ADDRESS_REG_MASK 0xfcu
#define ADDRESS_WRITABLE 0x80fffffcu
#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CLASS_PROG 0x09
#define CFG_HEADER_TYPE 0x0e
#define CFG_LATENCY 0x0d
#define VENDOR_INTEL 0x8086
#define DEVICE_440FX 0x1237 /* the host bridge QEMU and Bochs also model */
#define CLASS_HOST_BRIDGE 0x060000u
#define COMMAND_MEMORY_IO 0x0006
#define STATUS_FAST_B2B 0x0080
#define ABSENT 0xffffffffu

void pci_host_init(struct pci_host *p)
{
	memset(p, 0, sizeof(*p));
	p->config[CFG_VENDOR] = (uint8_t)VENDOR_INTEL;
	p->config[CFG_VENDOR + 1] = VENDOR_INTEL >> 8;
	p->config[CFG_DEVICE] = (uint8_t)DEVICE_440FX;
	p->config[CFG_DEVICE + 1] = DEVICE_440FX >> 8;
	p->config[CFG_COMMAND] = COMMAND_MEMORY_IO;
	p->config[CFG_STATUS] = STATUS_FAST_B2B;
	p->config[CFG_REVISION] = 2;
	p->config[CFG_CLASS_PROG] = (uint8_t)CLASS_HOST_BRIDGE;
	p->config[CFG_CLASS_PROG + 1] = (uint8_t)(CLASS_HOST_BRIDGE >> 8);
	p->config[CFG_CLASS_PROG + 2] = (uint8_t)(CLASS_HOST_BRIDGE >> 16);
	p->config[CFG_HEADER_TYPE] = 0;
}

/* The host bridge is 00:00.0; everything else is an empty slot. */
static uint8_t *function_space(struct pci_host *p)
{
	uint32_t a = p->address;

	if (!(a & ADDRESS_ENABLE) || (a >> ADDRESS_BUS_SHIFT & 0xff) ||
	    (a >> ADDRESS_DEVFN_SHIFT & 0xff))
		return NULL;
	return p->config;
}

static uint32_t address_read(void *dev, uint16_t port, unsigned size)
{
	struct pci_host *p = dev;

	(void)port;
	return size == 4 ? p->address : ABSENT;
}

static void address_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pci_host *p = dev;

	(void)port;
	/* Only a 32-bit access is the address register; narrower ones at
	 * 0xCF8 address other chipset registers (none here). */
	if (size == 4)
		p->address = value & ADDRESS_WRITABLE;
}

static uint32_t data_read(void *dev, uint16_t port, unsigned size)
{
	struct pci_host *p = dev;
	uint8_t *space = function_space(p);
	unsigned off = (p->address & ADDRESS_REG_MASK) + (port & 3u);
	uint32_t v = 0;

	if (!space)
		return ABSENT;
	for (unsigned i = 0; i < size && off + i < sizeof(p->config); i++)
		v |= (uint32_t)space[off + i] << (8 * i);
	return v;
}

static void data_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pci_host *p = dev;
	uint8_t *space = function_space(p);
	unsigned off = (p->address & ADDRESS_REG_MASK) + (port & 3u);

	if (!space)
		return;
	/* The bridge has no BARs; only the command register's enables and the
	 * latency timer are the guest's to change. */
	for (unsigned i = 0; i < size && off + i < sizeof(p->config); i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (off + i == CFG_COMMAND)
			space[CFG_COMMAND] = b & COMMAND_MEMORY_IO;
		else if (off + i == CFG_LATENCY)
			space[CFG_LATENCY] = b;
	}
}

int pci_host_attach(struct pci_host *p, struct io_bus *bus)
{
	if (io_bus_register(bus, PCI_CONFIG_ADDRESS, 1, address_read, address_write, p,
			    "pci-address"))
		return -1;
	return io_bus_register(bus, PCI_CONFIG_DATA, 4, data_read, data_write, p, "pci-data");
}
