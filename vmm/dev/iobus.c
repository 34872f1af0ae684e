#include "vmm/dev/iobus.h"

#include <stddef.h>

static const struct io_handler *find(const struct io_bus *bus, uint16_t port)
{
	unsigned n = bus->map[bus->block[port / IOBUS_BLOCK_PORTS]][port % IOBUS_BLOCK_PORTS];

	return n ? &bus->handlers[n - 1] : NULL;
}

/* Blocks of [base, end) that have no map yet. */
static unsigned new_blocks(const struct io_bus *bus, uint32_t base, uint32_t end)
{
	unsigned n = 0;

	for (uint32_t b = base / IOBUS_BLOCK_PORTS; b <= (end - 1) / IOBUS_BLOCK_PORTS; b++)
		n += !bus->block[b];
	return n;
}

int io_bus_register(struct io_bus *bus, uint16_t base, uint16_t count, io_read_fn read,
		    io_write_fn write, void *dev, const char *name)
{
	uint32_t end = (uint32_t)base + count;

	if (!count || end > 0x10000 || bus->nhandlers == IOBUS_MAX_HANDLERS ||
	    bus->nblocks + new_blocks(bus, base, end) > IOBUS_MAX_BLOCKS - 1)
		return -1;
	for (uint32_t p = base; p < end; p++)
		if (find(bus, (uint16_t)p))
			return -1;
	bus->handlers[bus->nhandlers++] =
		(struct io_handler){ base, count, read, write, dev, name, 0 };
	for (uint32_t p = base; p < end; p++) {
		uint8_t *b = &bus->block[p / IOBUS_BLOCK_PORTS];
		if (!*b)
			*b = (uint8_t)++bus->nblocks;
		bus->map[*b][p % IOBUS_BLOCK_PORTS] = (uint8_t)bus->nhandlers;
	}
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
