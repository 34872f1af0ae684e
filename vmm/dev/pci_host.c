#include "vmm/dev/pci_host.h"

#include <stdbool.h>
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
#define FUNCTION_MASK 0x7u
#define DEVICE_SHIFT 3

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
	p->next_mmio = PCI_MMIO_BASE;
	p->next_io = PCI_IO_BASE;
}

/* The host bridge is 00:00.0, the VM's functions 00:NN.0; everything else
 * is an empty slot. */
static bool addressed(const struct pci_host *p, unsigned *dev)
{
	uint32_t a = p->address;
	unsigned devfn = a >> ADDRESS_DEVFN_SHIFT & 0xff;

	if (!(a & ADDRESS_ENABLE) || (a >> ADDRESS_BUS_SHIFT & 0xff) || (devfn & FUNCTION_MASK))
		return false;
	*dev = devfn >> DEVICE_SHIFT;
	return *dev == 0 || (*dev <= PCI_MAX_DEVICES && p->devices[*dev]);
}

static uint8_t *function_space(struct pci_host *p)
{
	unsigned dev;

	return addressed(p, &dev) && dev == 0 ? p->config : NULL;
}

/* The VM's function addressed by 0xCF8, or NULL. */
static struct pci_device *addressed_device(struct pci_host *p)
{
	unsigned dev;

	return addressed(p, &dev) && dev ? p->devices[dev] : NULL;
}

static unsigned config_offset(const struct pci_host *p, uint16_t port)
{
	return (p->address & ADDRESS_REG_MASK) + (port & 3u);
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
	struct pci_device *d = addressed_device(p);
	unsigned off = config_offset(p, port);
	uint32_t v = 0;

	if (d)
		return pci_device_config_read(d, off, size);
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
	struct pci_device *d = addressed_device(p);
	unsigned off = config_offset(p, port);

	if (d) {
		pci_device_config_write(d, off, size, value);
		return;
	}
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

/* The function and BAR whose enabled window holds [addr, addr + size). */
static struct pci_device *bar_at(struct pci_host *p, enum pci_bar_kind kind, uint64_t addr,
				 unsigned size, unsigned *bar, uint32_t *offset)
{
	for (unsigned dev = 1; dev <= PCI_MAX_DEVICES; dev++) {
		struct pci_device *d = p->devices[dev];
		for (unsigned b = 0; d && b < PCI_NUM_BARS; b++) {
			uint32_t base = pci_device_bar_base(d, b), len = d->bars[b].size;
			if (d->bars[b].kind != kind || !base || addr < base || addr - base >= len ||
			    size > len - (addr - base))
				continue;
			*bar = b;
			*offset = (uint32_t)(addr - base);
			return d;
		}
	}
	return NULL;
}

static uint64_t window_mmio_read(void *dev, uint64_t addr, unsigned size)
{
	unsigned bar;
	uint32_t offset;
	struct pci_device *d = bar_at(dev, PCI_BAR_MEM32, addr, size, &bar, &offset);

	/* Nothing decodes there: a master abort reads all ones. */
	return d ? pci_device_bar_read(d, bar, offset, size) : ~0ull >> (64 - 8 * size);
}

static void window_mmio_write(void *dev, uint64_t addr, unsigned size, uint64_t value)
{
	unsigned bar;
	uint32_t offset;
	struct pci_device *d = bar_at(dev, PCI_BAR_MEM32, addr, size, &bar, &offset);

	if (d)
		pci_device_bar_write(d, bar, offset, size, value);
}

static uint32_t window_io_read(void *dev, uint16_t port, unsigned size)
{
	unsigned bar;
	uint32_t offset;
	struct pci_device *d = bar_at(dev, PCI_BAR_IO, port, size, &bar, &offset);

	return d ? (uint32_t)pci_device_bar_read(d, bar, offset, size) : ABSENT;
}

static void window_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	unsigned bar;
	uint32_t offset;
	struct pci_device *d = bar_at(dev, PCI_BAR_IO, port, size, &bar, &offset);

	if (d)
		pci_device_bar_write(d, bar, offset, size, value);
}

int pci_host_add_device(struct pci_host *p, struct pci_device *d)
{
	unsigned dev = 1;
	uint32_t mmio = p->next_mmio, io = p->next_io;

	while (dev <= PCI_MAX_DEVICES && p->devices[dev])
		dev++;
	if (dev > PCI_MAX_DEVICES)
		return -1;
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		struct pci_bar *bar = &d->bars[b];
		uint32_t *next = bar->kind == PCI_BAR_IO ? &io : &mmio;
		uint32_t end = bar->kind == PCI_BAR_IO ? PCI_IO_BASE + PCI_IO_SIZE
						       : PCI_MMIO_BASE + PCI_MMIO_SIZE;
		if (bar->kind == PCI_BAR_NONE)
			continue;
		/* Naturally aligned, as BAR sizing requires. */
		uint32_t base = (*next + bar->size - 1) & ~(bar->size - 1);
		if (base < *next || bar->size > end - base ||
		    pci_device_set_bar(d, b, bar->kind, bar->size, base))
			return -1;
		*next = base + bar->size;
	}
	p->next_mmio = mmio;
	p->next_io = io;
	p->devices[dev] = d;
	d->slot = (uint8_t)dev;
	return (int)dev;
}

int pci_host_attach(struct pci_host *p, struct io_bus *io, struct mmio_bus *mmio)
{
	if (io_bus_register(io, PCI_CONFIG_ADDRESS, 1, address_read, address_write, p,
			    "pci-address") ||
	    io_bus_register(io, PCI_CONFIG_DATA, 4, data_read, data_write, p, "pci-data") ||
	    io_bus_register(io, PCI_IO_BASE, PCI_IO_SIZE, window_io_read, window_io_write, p,
			    "pci-io"))
		return -1;
	return mmio_bus_register(mmio, PCI_MMIO_BASE, PCI_MMIO_SIZE, window_mmio_read,
				 window_mmio_write, p, "pci-mmio");
}

void pci_host_save(const struct pci_host *p, struct state_writer *w)
{
	state_put_u32(w, p->address);
	state_put_u8(w, p->config[CFG_COMMAND]);
	state_put_u8(w, p->config[CFG_LATENCY]);
}

int pci_host_load(struct pci_host *p, struct state_reader *r)
{
	uint32_t address = state_get_u32(r);
	uint8_t command = state_get_u8(r), latency = state_get_u8(r);

	if (address & ~ADDRESS_WRITABLE)
		state_refuse(r, "PCI host: CONFIG_ADDRESS bits it does not keep");
	if (command & ~COMMAND_MEMORY_IO)
		state_refuse(r, "PCI host: command register bits it does not keep");
	if (state_reader_done(r))
		return -1;
	p->address = address;
	p->config[CFG_COMMAND] = command;
	p->config[CFG_LATENCY] = latency;
	return 0;
}
