/* The MMIO bus of one VM: devices register guest-physical ranges that are
 * left unmapped in the EPT; an access there exits with an EPT violation,
 * the faulting instruction is decoded (vmm/cpu/insn_decode.h) and the access
 * is routed here. */
#ifndef PGVISOR_MMIO_H
#define PGVISOR_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#define MMIO_MAX_HANDLERS 8

/* size is 1, 2, 4 or 8 bytes; addr is the guest-physical address. */
typedef uint64_t (*mmio_read_fn)(void *dev, uint64_t addr, unsigned size);
typedef void (*mmio_write_fn)(void *dev, uint64_t addr, unsigned size, uint64_t value);

struct mmio_handler {
	uint64_t base, size;
	mmio_read_fn read;
	mmio_write_fn write;
	void *dev;
	const char *name;
};

struct mmio_bus {
	struct mmio_handler handlers[MMIO_MAX_HANDLERS];
	unsigned nhandlers;
};

/* 0, or -1 when the range overlaps another or the bus is full. */
int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size, mmio_read_fn read,
		      mmio_write_fn write, void *dev, const char *name);
/* Moves the handler whose range starts at base to new_base: 0, or -1 when
 * there is none or the new range overlaps another. */
int mmio_bus_move(struct mmio_bus *bus, uint64_t base, uint64_t new_base);
/* The handler owning addr, or NULL. */
const struct mmio_handler *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr);

#endif
