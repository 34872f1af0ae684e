/* The ports through which a guest ends itself: QEMU's isa-debug-exit at
 * 0xf4 (the VM ends with status (value << 1) | 1) and Bochs' shutdown port
 * 0x8900 (the bytes of "Shutdown" power the VM off). Test guests use them
 * so that the same binary ends itself bare and virtualized. */
#ifndef PGVISOR_DEV_POWER_H
#define PGVISOR_DEV_POWER_H

struct vm;

int power_ports_attach(struct vm *vm);

#endif
