/* The steps of fuzz_io.h. */
#include "tests/fuzz/fuzz_io.h"

void fuzz_io_access(struct fuzz_in *in, struct io_bus *bus, const struct fuzz_ports *ranges,
		    unsigned n, bool write)
{
	uint16_t port = fuzz_port(in, ranges, n);
	unsigned size = fuzz_size(in, 4);

	if (write) {
		io_bus_write(bus, port, size, fuzz_u32(in));
		return;
	}
	io_bus_read(bus, port, size);
}

void fuzz_time_passes(struct fuzz_in *in, const struct vtimer *timer)
{
	fuzz_now_ns += fuzz_u32(in);
	if (timer->next_event(timer->dev) <= fuzz_now_ns)
		timer->update(timer->dev, fuzz_now_ns);
}
