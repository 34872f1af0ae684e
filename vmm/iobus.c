#include "vmm/iobus.h"

#include <stddef.h>

static const struct io_handler *find(const struct io_bus *bus, uint16_t port)
{
	for (unsigned i = 0; i < bus->nhandlers; i++) {
		const struct io_handler *h = &bus->handlers[i];
		if (port >= h->base && port - h->base < h->count)
			return h;
	}
	return NULL;
}

int io_bus_register(struct io_bus *bus, uint16_t base, uint16_t count, io_read_fn read,
		    io_write_fn write, void *dev, const char *name)
{
	uint32_t end = (uint32_t)base + count;

	if (!count || end > 0x10000 || bus->nhandlers == IOBUS_MAX_HANDLERS)
		return -1;
	for (unsigned i = 0; i < bus->nhandlers; i++) {
		const struct io_handler *h = &bus->handlers[i];
		if (base < h->base + h->count && h->base < end)
			return -1;
	}
	bus->handlers[bus->nhandlers++] =
		(struct io_handler){ base, count, read, write, dev, name, 0 };
	return 0;
}

void io_bus_set_timed(struct io_bus *bus, uint16_t port, uint8_t accesses)
{
	struct io_handler *h = (struct io_handler *)find(bus, port);

	if (h)
		h->timed = accesses;
}

uint32_t io_bus_read(struct io_bus *bus, uint16_t port, unsigned size)
{
	const struct io_handler *h = find(bus, port);
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	bus->touched_timed = h && (h->timed & IO_TIMED_READS);
	if (!h) {
		bus->unclaimed_reads++;
		bus->last_unclaimed_port = port;
		return ones;
	}
	return h->read ? h->read(h->dev, port, size) & ones : ones;
}

void io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t value)
{
	const struct io_handler *h = find(bus, port);

	bus->touched_timed = h && (h->timed & IO_TIMED_WRITES);
	if (!h) {
		bus->unclaimed_writes++;
		bus->last_unclaimed_port = port;
		return;
	}
	if (h->write)
		h->write(h->dev, port, size, value);
}
