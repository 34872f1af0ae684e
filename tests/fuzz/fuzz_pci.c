/* The guest of fuzz_pci.h. */
#include "tests/fuzz/fuzz_pci.h"

#include <string.h>

#include "tests/fuzz/fuzz_io.h"

#define CONFIG_ENABLE 0x80000000u
#define CONFIG_DEVICE_SHIFT 11
#define CONFIG_REG_MASK 0xfcu
#define CONFIG_PORTS 8
#define MMIO_SPAN 0x10000u /* the first BARs the host bridge hands out */

static void msi_send(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	(void)address;
	(void)data;
}

static void intx_send(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	(void)gsi;
	(void)level;
}

int fuzz_pci_init(struct fuzz_pci *f, struct pci_device *d)
{
	f->ram = fuzz_guarded(FUZZ_PCI_RAM_SIZE);
	fuzz_guarded_clear(f->ram, FUZZ_PCI_RAM_SIZE);
	memset(&f->io, 0, sizeof(f->io));
	memset(&f->mmio, 0, sizeof(f->mmio));
	pci_host_init(&f->host);
	if (pci_host_attach(&f->host, &f->io, &f->mmio))
		return -1;
	d->msi_send = msi_send;
	d->intx_send = intx_send;
	return pci_host_add_device(&f->host, d) < 0 ? -1 : 0;
}

/* Selects slot's register off through CONFIG_ADDRESS; returns the
 * CONFIG_DATA port of its byte. */
static uint16_t config_select(struct fuzz_pci *f, struct fuzz_in *in)
{
	unsigned slot = fuzz_u8(in) % (PCI_MAX_DEVICES + 1);
	unsigned off = fuzz_u8(in);

	io_bus_write(&f->io, PCI_CONFIG_ADDRESS, 4,
		     CONFIG_ENABLE | slot << CONFIG_DEVICE_SHIFT | (off & CONFIG_REG_MASK));
	return (uint16_t)(PCI_CONFIG_DATA + off % 4);
}

/* The MMIO handler an access at offset of the window reaches, as the EPT
 * exit finds it; NULL when none holds all of it. */
static const struct mmio_handler *mmio_target(struct fuzz_pci *f, uint64_t addr, unsigned size)
{
	const struct mmio_handler *h = mmio_bus_find(&f->mmio, addr);

	return h && addr - h->base + size <= h->size ? h : NULL;
}

void fuzz_pci_step(struct fuzz_pci *f, enum fuzz_pci_step step, struct fuzz_in *in)
{
	static const struct fuzz_ports ports[] = { { PCI_IO_BASE, PCI_IO_SIZE },
						   { PCI_CONFIG_ADDRESS, CONFIG_PORTS } };

	switch (step) {
	case FUZZ_PCI_CFG_READ: {
		uint16_t port = config_select(f, in);
		io_bus_read(&f->io, port, fuzz_size(in, 4));
		break;
	}
	case FUZZ_PCI_CFG_WRITE: {
		uint16_t port = config_select(f, in);
		unsigned size = fuzz_size(in, 4);
		io_bus_write(&f->io, port, size, fuzz_u32(in));
		break;
	}
	case FUZZ_PCI_MMIO_READ: {
		uint64_t addr = PCI_MMIO_BASE + fuzz_u32(in) % MMIO_SPAN;
		unsigned size = fuzz_size(in, 8);
		const struct mmio_handler *h = mmio_target(f, addr, size);
		if (h && h->read)
			h->read(h->dev, addr, size);
		break;
	}
	case FUZZ_PCI_MMIO_WRITE: {
		uint64_t addr = PCI_MMIO_BASE + fuzz_u32(in) % MMIO_SPAN;
		unsigned size = fuzz_size(in, 8);
		uint64_t value = fuzz_u64(in);
		const struct mmio_handler *h = mmio_target(f, addr, size);
		if (h && h->write)
			h->write(h->dev, addr, size, value);
		break;
	}
	case FUZZ_PCI_IN:
		fuzz_io_access(in, &f->io, ports, 2, false);
		break;
	case FUZZ_PCI_OUT:
		fuzz_io_access(in, &f->io, ports, 2, true);
		break;
	case FUZZ_PCI_RAM: {
		uint32_t gpa = fuzz_u16(in);
		uint32_t len = fuzz_u8(in);
		for (uint32_t i = 0; i < len && gpa + i < FUZZ_PCI_RAM_SIZE; i++)
			f->ram[gpa + i] = fuzz_u8(in);
		break;
	}
	case FUZZ_PCI_STEPS:
		break;
	}
}
