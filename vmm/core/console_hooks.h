/* The operator console (vmm/console/) is a layer above the core: kmain
 * hands in what the scheduler calls between vCPUs, and what a new VM's
 * UART calls when its guest looks for input, before the first VM is
 * created. */
#ifndef PGVISOR_CONSOLE_HOOKS_H
#define PGVISOR_CONSOLE_HOOKS_H

struct core_console {
	void (*poll)(void);	    /* reads waiting keys into their VM or line */
	void (*run_commands)(void); /* runs a typed command meant for this CPU */
	void (*idle)(void);	    /* this CPU has nothing to run */
};
void core_set_console(const struct core_console *console);
const struct core_console *core_console(void);

#endif
