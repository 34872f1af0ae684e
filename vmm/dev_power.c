#include "vmm/dev_power.h"

#include "vmm/hypercall_abi.h"
#include "vmm/vm.h"

#define DEBUG_EXIT_PORTS 4 /* QEMU: -device isa-debug-exit,iosize=4 */

static const char shutdown_word[] = "Shutdown";

static void debug_exit_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct vm *vm = dev;
	(void)port;
	(void)size;

	vm->exit_value = value;
	vm_stop(vm, VM_END_DEBUG_EXIT, "exited through port 0xf4: value %u (status %u)", value,
		(value << 1) | 1);
}

static void bochs_shutdown_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct vm *vm = dev;
	(void)port;
	(void)size;

	/* Bochs matches the word byte by byte and restarts on a mismatch. */
	if ((char)value == shutdown_word[vm->shutdown_match])
		vm->shutdown_match++;
	else
		vm->shutdown_match = (char)value == shutdown_word[0];
	if (!shutdown_word[vm->shutdown_match]) {
		vm->shutdown_match = 0;
		vm_stop(vm, VM_END_POWEROFF, "powered off (port 0x8900)");
	}
}

int power_ports_attach(struct vm *vm)
{
	if (io_bus_register(&vm->iobus, PORT_DEBUG_EXIT, DEBUG_EXIT_PORTS, NULL, debug_exit_write,
			    vm, "debug-exit"))
		return -1;
	return io_bus_register(&vm->iobus, PORT_BOCHS_SHUTDOWN, 1, NULL, bochs_shutdown_write, vm,
			       "bochs-shutdown");
}
