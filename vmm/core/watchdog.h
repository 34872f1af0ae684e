/* The vCPU watchdog: a vCPU that has stayed in its guest for WATCHDOG_MS
 * of TSC time without an exit is ended, with its VM. */
#ifndef PGVISOR_WATCHDOG_H
#define PGVISOR_WATCHDOG_H

#define WATCHDOG_MS 2000ull
#define WATCHDOG_CHECK_MS 100ull

/* On the boot CPU before the VMs run: an NMI that reaches the hypervisor
 * itself (the watchdog's, just after its vCPU exited) is harmless. */
void watchdog_init(void);
/* Called often by every CPU outside its guests: at most every
 * WATCHDOG_CHECK_MS it looks at the other CPUs' vCPUs. */
void watchdog_check(void);

#endif
