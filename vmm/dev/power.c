#include "vmm/dev/power.h"

#include <stddef.h>

#include "vmm/abi/hypercall_abi.h"

#define DEBUG_EXIT_PORTS 4 /* QEMU: -device isa-debug-exit,iosize=4 */

static const char shutdown_word[] = "Shutdown";

static void debug_exit_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct power_ports *p = dev;
	(void)port;
	(void)size;

	p->debug_exit(p->ctx, value);
}

static void bochs_shutdown_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct power_ports *p = dev;
	(void)port;
	(void)size;

	/* Bochs matches the word byte by byte and restarts on a mismatch. */
	if ((char)value == shutdown_word[p->shutdown_match])
		p->shutdown_match++;
	else
		p->shutdown_match = (char)value == shutdown_word[0];
	if (!shutdown_word[p->shutdown_match]) {
		p->shutdown_match = 0;
		p->poweroff(p->ctx);
	}
}

void power_ports_init(struct power_ports *p, void (*debug_exit)(void *ctx, uint32_t value),
		      void (*poweroff)(void *ctx), void *ctx)
{
	*p = (struct power_ports){ 0, debug_exit, poweroff, ctx };
}

int power_ports_attach(struct power_ports *p, struct io_bus *bus)
{
	if (io_bus_register(bus, PORT_DEBUG_EXIT, DEBUG_EXIT_PORTS, NULL, debug_exit_write, p,
			    "debug-exit"))
		return -1;
	return io_bus_register(bus, PORT_BOCHS_SHUTDOWN, 1, NULL, bochs_shutdown_write, p,
			       "bochs-shutdown");
}
