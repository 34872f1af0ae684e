/* The ports through which a guest ends itself: QEMU's isa-debug-exit at
 * 0xf4 (the VM ends with status (value << 1) | 1) and Bochs' shutdown port
 * 0x8900 (the bytes of "Shutdown" power the VM off). Test guests use them
 * so that the same binary ends itself bare and virtualized. What ending
 * means is the VM's business: the device calls back. */
#ifndef PGVISOR_DEV_POWER_H
#define PGVISOR_DEV_POWER_H

#include <stdint.h>

#include "vmm/dev/iobus.h"

struct power_ports {
	unsigned shutdown_match; /* progress through "Shutdown" on 0x8900 */
	void (*debug_exit)(void *ctx, uint32_t value);
	void (*poweroff)(void *ctx);
	void *ctx;
};

void power_ports_init(struct power_ports *p, void (*debug_exit)(void *ctx, uint32_t value),
		      void (*poweroff)(void *ctx), void *ctx);
int power_ports_attach(struct power_ports *p, struct io_bus *bus);

#endif
