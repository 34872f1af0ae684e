/* The device harnesses' common steps: a guest's port access decoded from
 * the input and performed on a port bus, and time moving on for a
 * device's timer. */
#ifndef PGVISOR_FUZZ_IO_H
#define PGVISOR_FUZZ_IO_H

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/iobus.h"

/* One IN (write false) or OUT of 1, 2 or 4 bytes at a port fuzz_port picks
 * from ranges; an OUT's value follows in the input. */
void fuzz_io_access(struct fuzz_in *in, struct io_bus *bus, const struct fuzz_ports *ranges,
		    unsigned n, bool write);

/* Moves fuzz_now_ns on by up to 2^32 ns read from the input and runs the
 * timer when it is due, as vmm/dev/vtime.c does. */
void fuzz_time_passes(struct fuzz_in *in, const struct vtimer *timer);

#endif
