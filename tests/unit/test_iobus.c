/* Unit tests for vmm/dev/iobus.c: port ranges, dispatch, and the empty-bus
 * behaviour of unclaimed ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"

/* A device that records its last access. */
struct probe {
	unsigned reads, writes;
	uint16_t port;
	unsigned size;
	uint32_t value;	   /* last written */
	uint32_t read_val; /* what reads return */
};

static uint32_t probe_read(void *dev, uint16_t port, unsigned size)
{
	struct probe *p = dev;

	p->reads++;
	p->port = port;
	p->size = size;
	return p->read_val;
}

static void probe_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct probe *p = dev;

	p->writes++;
	p->port = port;
	p->size = size;
	p->value = value;
}

/* A bus starts zeroed (it lives in a zeroed struct vm). */
static void init_bus(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

static void test_register_and_dispatch(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe a = { .read_val = 0x11223344 }, b = { .read_val = 0xa5a5a5a5 };

	init_bus(&bus);
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, probe_read, probe_write, &a, "a"), 0);
	assert_int_equal(io_bus_register(&bus, 0x60, 1, probe_read, probe_write, &b, "b"), 0);
	assert_int_equal(bus.nhandlers, 2);

	/* Reads go to the owner with the port and size, masked to the size. */
	assert_int_equal(io_bus_read(&bus, 0x3fd, 1), 0x44);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.port, 0x3fd);
	assert_int_equal(a.size, 1);
	assert_int_equal(io_bus_read(&bus, 0x3f8, 2), 0x3344);
	assert_int_equal(a.size, 2);
	assert_int_equal(a.port, 0x3f8);
	assert_int_equal(io_bus_read(&bus, 0x3ff, 4), 0x11223344);
	assert_int_equal(a.port, 0x3ff);
	assert_int_equal(a.size, 4);
	assert_int_equal(io_bus_read(&bus, 0x60, 1), 0xa5);
	assert_int_equal(b.reads, 1);
	assert_int_equal(b.port, 0x60);
	assert_int_equal(a.reads, 3);

	io_bus_write(&bus, 0x3f9, 2, 0xbeef);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.port, 0x3f9);
	assert_int_equal(a.size, 2);
	assert_int_equal(a.value, 0xbeef);
	io_bus_write(&bus, 0x60, 4, 0xdeadbeef);
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.value, 0xdeadbeef);
	assert_int_equal(b.size, 4);
	assert_int_equal(a.writes, 1);

	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(bus.unclaimed_writes, 0);
}

static void test_range_edges(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe a = { .read_val = 7 };

	init_bus(&bus);
	assert_int_equal(io_bus_register(&bus, 0x100, 4, probe_read, probe_write, &a, "a"), 0);
	assert_int_equal(io_bus_read(&bus, 0xff, 1), 0xff);
	assert_int_equal(io_bus_read(&bus, 0x100, 1), 7);
	assert_int_equal(io_bus_read(&bus, 0x103, 1), 7);
	assert_int_equal(io_bus_read(&bus, 0x104, 1), 0xff);
	assert_int_equal(a.reads, 2);
	assert_int_equal(bus.unclaimed_reads, 2);

	/* The last port of the space can be claimed; nothing beyond. */
	struct probe top = { .read_val = 9 };
	assert_int_equal(io_bus_register(&bus, 0xfffe, 2, probe_read, probe_write, &top, "t"), 0);
	assert_int_equal(io_bus_read(&bus, 0xffff, 1), 9);
	assert_int_equal(top.port, 0xffff);
	assert_int_equal(io_bus_register(&bus, 0xfff0, 0x11, probe_read, NULL, &a, "x"), -1);
	assert_int_equal(io_bus_register(&bus, 0xffff, 0xffff, probe_read, NULL, &a, "x"), -1);
	/* Port 0 too. */
	struct probe zero = { .read_val = 3 };
	assert_int_equal(io_bus_register(&bus, 0, 1, probe_read, NULL, &zero, "z"), 0);
	assert_int_equal(io_bus_read(&bus, 0, 1), 3);
	assert_int_equal(io_bus_read(&bus, 1, 1), 0xff);
}

static void test_overlap_rejected(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe a = { 0 }, b = { 0 };

	init_bus(&bus);
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, probe_read, probe_write, &a, "a"), 0);
	/* Identical, inside, straddling either end, enclosing. */
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, probe_read, probe_write, &b, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x3fa, 1, probe_read, probe_write, &b, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x3f0, 9, probe_read, probe_write, &b, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x3ff, 2, probe_read, probe_write, &b, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x300, 0x200, probe_read, probe_write, &b, "b"), -1);
	assert_int_equal(bus.nhandlers, 1);
	/* Adjacent on both sides is fine. */
	assert_int_equal(io_bus_register(&bus, 0x3f0, 8, probe_read, probe_write, &b, "b"), 0);
	assert_int_equal(io_bus_register(&bus, 0x400, 8, probe_read, probe_write, &b, "b"), 0);
	assert_int_equal(bus.nhandlers, 3);
	/* Each port still reaches its own device. */
	io_bus_write(&bus, 0x3f8, 1, 1);
	io_bus_write(&bus, 0x3f7, 1, 2);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.value, 1);
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.value, 2);
	/* Zero ports is not a range. */
	assert_int_equal(io_bus_register(&bus, 0x500, 0, probe_read, probe_write, &b, "b"), -1);
}

static void test_bus_full(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe p = { 0 };

	init_bus(&bus);
	for (unsigned i = 0; i < IOBUS_MAX_HANDLERS; i++)
		assert_int_equal(io_bus_register(&bus, (uint16_t)(0x1000 + 4 * i), 4, probe_read,
						 NULL, &p, "p"),
				 0);
	assert_int_equal(io_bus_register(&bus, 0x8000, 4, probe_read, NULL, &p, "p"), -1);
	assert_int_equal(bus.nhandlers, IOBUS_MAX_HANDLERS);
	io_bus_read(&bus, 0x1000 + 4 * (IOBUS_MAX_HANDLERS - 1) + 3, 1);
	assert_int_equal(p.reads, 1);
	io_bus_read(&bus, 0x8000, 1);
	assert_int_equal(p.reads, 1);
}

/* Ports are found through 256-port blocks: a range may span blocks, and a
 * device that would need more blocks than the bus has is refused whole. */
static void test_blocks(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe a = { 0 }, b = { 0 };

	init_bus(&bus);
	/* 0x1f0..0x30f: three blocks. */
	assert_int_equal(io_bus_register(&bus, 0x1f0, 0x120, probe_read, probe_write, &a, "a"), 0);
	assert_int_equal(bus.nblocks, 3);
	io_bus_write(&bus, 0x1f0, 1, 1);
	io_bus_write(&bus, 0x200, 1, 2);
	io_bus_write(&bus, 0x30f, 1, 3);
	io_bus_write(&bus, 0x310, 1, 4); /* past its end, same block */
	io_bus_write(&bus, 0x1ef, 1, 5); /* before its start, same block */
	assert_int_equal(a.writes, 3);
	assert_int_equal(a.value, 3);
	assert_int_equal(bus.unclaimed_writes, 2);
	/* The last port of the space. */
	assert_int_equal(io_bus_register(&bus, 0xffff, 1, probe_read, probe_write, &b, "b"), 0);
	io_bus_write(&bus, 0xffff, 1, 6);
	assert_int_equal(b.value, 6);
	/* Fill the blocks: one device per block from 0x1000 on. */
	unsigned used = bus.nblocks;
	for (unsigned i = used; i < IOBUS_MAX_BLOCKS - 1; i++)
		assert_int_equal(io_bus_register(&bus, (uint16_t)(0x1000 + 0x100 * i), 1,
						 probe_read, NULL, &b, "b"),
				 0);
	assert_int_equal(bus.nblocks, IOBUS_MAX_BLOCKS - 1);
	unsigned handlers = bus.nhandlers;
	/* A new block is refused; a port in a block already mapped is not. */
	assert_int_equal(io_bus_register(&bus, 0x8000, 1, probe_read, NULL, &b, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x311, 1, probe_read, NULL, &b, "b"), 0);
	assert_int_equal(bus.nhandlers, handlers + 1);
	io_bus_read(&bus, 0x8000, 1);
	assert_int_equal(bus.unclaimed_reads, 1);
}

static void test_unclaimed(void **state)
{
	(void)state;
	struct io_bus bus;

	init_bus(&bus);
	/* An empty ISA bus: all ones, sized. */
	assert_int_equal(io_bus_read(&bus, 0x80, 1), 0xff);
	assert_int_equal(bus.last_unclaimed_port, 0x80);
	assert_int_equal(io_bus_read(&bus, 0x1234, 2), 0xffff);
	assert_int_equal(bus.last_unclaimed_port, 0x1234);
	assert_int_equal(io_bus_read(&bus, 0xcfc, 4), 0xffffffffu);
	assert_int_equal(bus.last_unclaimed_port, 0xcfc);
	assert_int_equal(bus.unclaimed_reads, 3);
	assert_int_equal(bus.unclaimed_writes, 0);

	io_bus_write(&bus, 0x80, 1, 0x55);
	io_bus_write(&bus, 0xcf8, 4, 0x80000000);
	assert_int_equal(bus.unclaimed_writes, 2);
	assert_int_equal(bus.last_unclaimed_port, 0xcf8);
	assert_int_equal(bus.unclaimed_reads, 3);
}

static void test_null_callbacks(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe w = { .read_val = 0x12 }, r = { .read_val = 0x34 };

	init_bus(&bus);
	/* Write-only device: reads as all ones; read-only: writes dropped. */
	assert_int_equal(io_bus_register(&bus, 0x70, 1, NULL, probe_write, &w, "w"), 0);
	assert_int_equal(io_bus_register(&bus, 0x71, 1, probe_read, NULL, &r, "r"), 0);
	assert_int_equal(io_bus_read(&bus, 0x70, 1), 0xff);
	assert_int_equal(io_bus_read(&bus, 0x70, 2), 0xffff);
	assert_int_equal(io_bus_read(&bus, 0x70, 4), 0xffffffffu);
	assert_int_equal(w.reads, 0);
	io_bus_write(&bus, 0x71, 1, 9);
	assert_int_equal(r.writes, 0);
	assert_int_equal(io_bus_read(&bus, 0x71, 1), 0x34);
	io_bus_write(&bus, 0x70, 1, 0x42);
	assert_int_equal(w.writes, 1);
	assert_int_equal(w.value, 0x42);
	/* Claimed ports are not counted as unclaimed, callbacks or not. */
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(bus.unclaimed_writes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_dispatch),
		cmocka_unit_test(test_range_edges),
		cmocka_unit_test(test_overlap_rejected),
		cmocka_unit_test(test_bus_full),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_unclaimed),
		cmocka_unit_test(test_null_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
