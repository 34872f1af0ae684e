#include "vmm/dev/mmio.h"

#include <stddef.h>

/* The last address of a range; size is at least 1, so a range may end at
 * the top of the 64-bit space without overflowing. */
static uint64_t last_addr(uint64_t base, uint64_t size)
{
	return base + (size - 1);
}

static bool overlaps_other(const struct mmio_bus *bus, const struct mmio_handler *self,
			   uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < bus->nhandlers; i++) {
		const struct mmio_handler *h = &bus->handlers[i];
		if (h != self && base <= last_addr(h->base, h->size) &&
		    h->base <= last_addr(base, size))
			return true;
	}
	return false;
}

int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size, mmio_read_fn read,
		      mmio_write_fn write, void *dev, const char *name)
{
	if (!size || last_addr(base, size) < base || bus->nhandlers == MMIO_MAX_HANDLERS ||
	    overlaps_other(bus, NULL, base, size))
		return -1;
	bus->handlers[bus->nhandlers++] =
		(struct mmio_handler){ base, size, read, write, dev, name };
	return 0;
}

int mmio_bus_move(struct mmio_bus *bus, uint64_t base, uint64_t new_base)
{
	for (unsigned i = 0; i < bus->nhandlers; i++) {
		struct mmio_handler *h = &bus->handlers[i];
		if (h->base != base)
			continue;
		if (last_addr(new_base, h->size) < new_base ||
		    overlaps_other(bus, h, new_base, h->size))
			return -1;
		h->base = new_base;
		return 0;
	}
	return -1;
}

const struct mmio_handler *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr)
{
	for (unsigned i = 0; i < bus->nhandlers; i++) {
		const struct mmio_handler *h = &bus->handlers[i];
		if (addr >= h->base && addr - h->base < h->size)
			return h;
	}
	return NULL;
}
