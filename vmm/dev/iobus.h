/* The port-I/O bus of one VM: virtual devices register port ranges, the
 * I/O exit handler routes each guest IN/OUT to the device owning the port.
 * A port no device claims reads as all ones and drops writes, as an empty
 * ISA bus does; such accesses are counted. The owner of a port is found in
 * two table lookups, whatever the number of devices. A zeroed bus is an
 * empty one. */
#ifndef PGVISOR_IOBUS_H
#define PGVISOR_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

#define IOBUS_MAX_HANDLERS 32
/* 256-port blocks with at least one device port (the PC platform uses 6). */
#define IOBUS_MAX_BLOCKS 16
#define IOBUS_BLOCK_PORTS 256

/* size is 1, 2 or 4 bytes. */
typedef uint32_t (*io_read_fn)(void *dev, uint16_t port, unsigned size);
typedef void (*io_write_fn)(void *dev, uint16_t port, unsigned size, uint32_t value);

struct io_handler {
	uint16_t base;
	uint16_t count;
	io_read_fn read;   /* NULL: reads as all ones */
	io_write_fn write; /* NULL: writes are dropped */
	void *dev;
	const char *name;
	uint8_t timed; /* IO_TIMED_*: accesses that may move a timer of the device */
};

#define IO_TIMED_READS 1u
#define IO_TIMED_WRITES 2u

struct io_bus {
	struct io_handler handlers[IOBUS_MAX_HANDLERS];
	unsigned nhandlers;
	/* Port p's device: map[block[p / 256]][p % 256] is its index in
	 * handlers[] plus one, 0 for none. map[0] stays all 0: the block of
	 * every 256 ports without a device. */
	uint8_t block[0x10000 / IOBUS_BLOCK_PORTS];
	uint8_t map[IOBUS_MAX_BLOCKS][IOBUS_BLOCK_PORTS];
	unsigned nblocks; /* map[1..nblocks] are in use */
	uint64_t unclaimed_reads, unclaimed_writes;
	uint16_t last_unclaimed_port;
	bool touched_timed; /* the last access reached a timed device */
};

/* Returns 0, or -1 when the range overlaps another device or the bus is
 * full (handlers or blocks). */
int io_bus_register(struct io_bus *bus, uint16_t base, uint16_t count, io_read_fn read,
		    io_write_fn write, void *dev, const char *name);
/* Marks the device owning port as one with timers that its reads and/or
 * writes (IO_TIMED_*) may move (see touched_timed). */
void io_bus_set_timed(struct io_bus *bus, uint16_t port, uint8_t accesses);
uint32_t io_bus_read(struct io_bus *bus, uint16_t port, unsigned size);
void io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t value);

#endif
