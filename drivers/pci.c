#include "drivers/pci.h"

#include "arch/x86/cpu.h"
#include "drivers/console.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define CONFIG_ENABLE (1u << 31)
#define NO_DEVICE 0xffff
#define HEADER_TYPE_MASK 0x7f
#define HEADER_MULTI_FUNCTION 0x80
#define HEADER_NORMAL 0
#define BUSES 256
#define DEVICES 32
#define FUNCTIONS 8

#define BAR_IO 1u
#define BAR_TYPE_MASK 6u
#define BAR_TYPE_64 4u
#define BAR_PREFETCH 8u
#define BAR_IO_MASK 0xfffffffcu
#define BAR_MEM_MASK 0xfffffff0u

static struct pci_func funcs[PCI_MAX_FUNCS];
static unsigned nfuncs;
static bool scanned;

static uint32_t address(uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
	return CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 |
	       (off & 0xfc);
}

static uint32_t read_at(uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
	outl(CONFIG_ADDRESS, address(bus, dev, fn, off));
	return inl(CONFIG_DATA);
}

static void write_at(uint8_t bus, uint8_t dev, uint8_t fn, unsigned off, uint32_t v)
{
	outl(CONFIG_ADDRESS, address(bus, dev, fn, off));
	outl(CONFIG_DATA, v);
}

uint32_t pci_read32(const struct pci_func *f, unsigned off)
{
	return read_at(f->bus, f->dev, f->fn, off);
}

uint16_t pci_read16(const struct pci_func *f, unsigned off)
{
	return (uint16_t)(pci_read32(f, off) >> (off & 2) * 8);
}

uint8_t pci_read8(const struct pci_func *f, unsigned off)
{
	return (uint8_t)(pci_read32(f, off) >> (off & 3) * 8);
}

void pci_write32(const struct pci_func *f, unsigned off, uint32_t v)
{
	write_at(f->bus, f->dev, f->fn, off, v);
}

/* A read-modify-write of the dword: mechanism #1 moves whole dwords. The
 * status register beside the command register has write-1-to-clear bits,
 * so writing the command register writes zeros there. */
void pci_write16(const struct pci_func *f, unsigned off, uint16_t v)
{
	unsigned shift = (off & 2) * 8;
	uint32_t d = pci_read32(f, off);

	if ((off & ~3u) == PCI_CFG_COMMAND)
		d &= 0xffff;
	d = (d & ~(0xffffu << shift)) | (uint32_t)v << shift;
	pci_write32(f, off, d);
}

/* Sizes a BAR the usual way (PCI 3.0, 6.2.5.1): write all ones, read back
 * which address bits stick, restore. Decoding is off meanwhile so the
 * transient address claims nothing. Returns how many BAR slots it used. */
static unsigned size_bar(struct pci_func *f, unsigned i)
{
	unsigned off = PCI_CFG_BAR0 + 4 * i;
	uint32_t orig = pci_read32(f, off), probe, hi_orig = 0, hi_probe = 0xffffffffu;
	struct pci_bar *b = &f->bar[i];
	bool wide = !(orig & BAR_IO) && (orig & BAR_TYPE_MASK) == BAR_TYPE_64 && i + 1 < PCI_BARS;

	pci_write32(f, off, 0xffffffffu);
	probe = pci_read32(f, off);
	pci_write32(f, off, orig);
	if (wide) {
		hi_orig = pci_read32(f, off + 4);
		pci_write32(f, off + 4, 0xffffffffu);
		hi_probe = pci_read32(f, off + 4);
		pci_write32(f, off + 4, hi_orig);
	}
	if (!probe || probe == 0xffffffffu)
		return wide ? 2 : 1;
	if (orig & BAR_IO) {
		b->io = true;
		b->base = orig & BAR_IO_MASK;
		b->size = (uint16_t)(~(probe & BAR_IO_MASK) + 1);
		return 1;
	}
	uint64_t mask = (uint64_t)hi_probe << 32 | (probe & BAR_MEM_MASK);
	if (!wide)
		mask |= 0xffffffff00000000ull;
	b->base = (uint64_t)hi_orig << 32 | (orig & BAR_MEM_MASK);
	b->size = ~mask + 1;
	b->prefetchable = orig & BAR_PREFETCH;
	return wide ? 2 : 1;
}

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint32_t id = read_at(bus, dev, fn, PCI_CFG_VENDOR);
	struct pci_func *f;

	if (nfuncs == PCI_MAX_FUNCS) {
		kprintf("pgvisor: pci: more than %u functions; %02x:%02x.%u ignored\n",
			PCI_MAX_FUNCS, bus, dev, fn);
		return;
	}
	f = &funcs[nfuncs++];
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	uint32_t cr = pci_read32(f, PCI_CFG_CLASS_REV);
	f->class_code = cr >> 8;
	f->revision = (uint8_t)cr;
	f->irq_line = pci_read8(f, PCI_CFG_IRQ_LINE);
	if ((pci_read8(f, PCI_CFG_HEADER_TYPE) & HEADER_TYPE_MASK) == HEADER_NORMAL) {
		uint16_t cmd = pci_read16(f, PCI_CFG_COMMAND);
		pci_write16(f, PCI_CFG_COMMAND,
			    cmd & (uint16_t) ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
		for (unsigned i = 0; i < PCI_BARS;)
			i += size_bar(f, i);
		pci_write16(f, PCI_CFG_COMMAND, cmd);
	}
	kprintf("pgvisor: pci %02x:%02x.%u %04x:%04x class %06x\n", bus, dev, fn, f->vendor,
		f->device, f->class_code);
}

/* Every bus number is tried: cheaper to write than a walk of the bridges,
 * and a few thousand port reads at boot. */
void pci_scan(void)
{
	if (scanned)
		return;
	scanned = true;
	for (unsigned bus = 0; bus < BUSES; bus++)
		for (uint8_t dev = 0; dev < DEVICES; dev++) {
			if ((uint16_t)read_at((uint8_t)bus, dev, 0, PCI_CFG_VENDOR) == NO_DEVICE)
				continue;
			bool multi =
				read_at((uint8_t)bus, dev, 0, PCI_CFG_HEADER_TYPE & ~3u) >> 16 &
				HEADER_MULTI_FUNCTION;
			for (uint8_t fn = 0; fn < (multi ? FUNCTIONS : 1); fn++)
				if ((uint16_t)read_at((uint8_t)bus, dev, fn, PCI_CFG_VENDOR) !=
				    NO_DEVICE)
					add_function((uint8_t)bus, dev, fn);
		}
}

struct pci_func *pci_find_class(unsigned *cursor, uint32_t class_code, uint32_t mask)
{
	while (*cursor < nfuncs) {
		struct pci_func *f = &funcs[(*cursor)++];
		if (!f->owner && (f->class_code & mask) == (class_code & mask))
			return f;
	}
	return 0;
}

struct pci_func *pci_find_device(unsigned *cursor, uint16_t vendor, const uint16_t *devices,
				 unsigned n)
{
	while (*cursor < nfuncs) {
		struct pci_func *f = &funcs[(*cursor)++];
		for (unsigned i = 0; i < n && !f->owner && f->vendor == vendor; i++)
			if (f->device == devices[i])
				return f;
	}
	return 0;
}

void pci_claim(struct pci_func *f, const char *owner)
{
	f->owner = owner;
	kprintf("pgvisor: pci %02x:%02x.%u %04x:%04x: driven by %s\n", f->bus, f->dev, f->fn,
		f->vendor, f->device, owner);
}

void pci_enable(struct pci_func *f, bool io, bool memory, bool bus_master)
{
	uint16_t cmd = pci_read16(f, PCI_CFG_COMMAND);

	if (io)
		cmd |= PCI_COMMAND_IO;
	if (memory)
		cmd |= PCI_COMMAND_MEMORY;
	if (bus_master)
		cmd |= PCI_COMMAND_BUS_MASTER;
	pci_write16(f, PCI_CFG_COMMAND, cmd);
}
