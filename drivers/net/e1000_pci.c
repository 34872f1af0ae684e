/* Finds the machine's 8254x controllers on its PCI bus and drives each one
 * that works as nic0, nic1, ... (drivers/net/e1000.c does the rest). */
#include "drivers/net/e1000_pci.h"

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/paging.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/net/e1000.h"
#include "drivers/pci.h"

#define INTEL_VENDOR 0x8086
#define US_PER_S 1000000ull
#define PAGES(bytes) (((bytes) + PAGE_SIZE - 1) / PAGE_SIZE)

/* Parts whose registers used here match the 82540EM's: 82540EM (Bochs,
 * QEMU -device e1000), 82545EM copper (QEMU e1000-82545em), 82544GC copper
 * (QEMU e1000-82544gc), 82574L (QEMU e1000e: its legacy descriptors and
 * these registers are the same, and its MAC comes from RAL0/RAH0). */
static const uint16_t e1000_ids[] = { 0x100e, 0x100f, 0x100c, 0x10d3 };

static void delay_us(void *ctx, unsigned us)
{
	uint64_t end = rdtsc() + tsc_hz() / US_PER_S * us;

	(void)ctx;
	while (rdtsc() < end)
		cpu_relax();
}

static void probe(struct pci_func *f)
{
	const struct pci_bar *bar = &f->bar[0];
	struct e1000 *e = page_alloc(PAGES(sizeof(*e)));
	struct e1000_dma *dma = page_alloc(PAGES(sizeof(*dma)));
	const char *why = NULL;

	if (!bar->base || bar->io || bar->size < E1000_MMIO_SIZE)
		why = "BAR0 is not a 128 KiB memory BAR";
	else if (paging_map_mmio(bar->base, E1000_MMIO_SIZE))
		why = "BAR0 lies where the hypervisor cannot map it";
	else if (!e || !dma)
		why = "out of memory for its rings";
	if (!why) {
		uint16_t command = pci_read16(f, PCI_CFG_COMMAND);
		pci_enable(f, false, true, true);
		if (!e1000_init(e, (volatile void *)(uintptr_t)bar->base, dma, delay_us, NULL,
				&why) &&
		    !netdev_register(&e->dev)) {
			pci_claim(f, e->dev.name);
			return;
		}
		/* No bus master: no DMA into the memory given back below. */
		pci_write16(f, PCI_CFG_COMMAND, command & (uint16_t)~PCI_COMMAND_BUS_MASTER);
		if (!why)
			why = "too many NICs";
	}
	kprintf("pgvisor: pci %02x:%02x.%u %04x:%04x: e1000 not used: %s\n", f->bus, f->dev, f->fn,
		f->vendor, f->device, why);
	if (e)
		page_free(e, PAGES(sizeof(*e)));
	if (dma)
		page_free(dma, PAGES(sizeof(*dma)));
}

void e1000_probe_all(void)
{
	unsigned cursor = 0;
	struct pci_func *f;

	pci_scan();
	while ((f = pci_find_device(&cursor, INTEL_VENDOR, e1000_ids,
				    sizeof(e1000_ids) / sizeof(e1000_ids[0]))))
		probe(f);
}
