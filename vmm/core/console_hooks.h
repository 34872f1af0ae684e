/* The operator console (vmm/console/) is a layer above the core: kmain
 * hands in what the scheduler calls between vCPUs, and what a new VM's
 * UART calls when its guest looks for input, before the first VM is
 * created. */
#ifndef PGVISOR_CONSOLE_HOOKS_H
#define PGVISOR_CONSOLE_HOOKS_H

#include <stdbool.h>

struct vcpu;

struct core_console {
	void (*poll)(void);	    /* reads waiting keys into their VM or line */
	void (*run_commands)(void); /* runs a typed command meant for this CPU */
	void (*idle)(void);	    /* this CPU has nothing to run */
	/* Prints v's registers (asked for by another CPU), on v's CPU. */
	void (*vcpu_info)(struct vcpu *v);
	/* The boot CPU polls at least this often, guest running or not, so
	 * that no input is lost (drivers/serial.h); 0: between slices. */
	unsigned poll_interval_us;
	/* Set by the host interrupt that brings input, cleared by the
	 * scheduler as it has the console poll at once (NULL: input never
	 * interrupts). A flag, not a call: tested after every exit. */
	bool *input_arrived;
	/* Whether some input is read only by polling between slices (the
	 * control channel on COM2): no vCPU gets a lone slice then. */
	bool (*input_polled)(void);
};
void core_set_console(const struct core_console *console);
const struct core_console *core_console(void);

#endif
