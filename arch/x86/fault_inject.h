/* Fault injection for the test build (make FAULT_INJECT=1 builds
 * build/pgvisor-fi.elf with -DFAULT_INJECT). pgvisor's command line
 * fault=KIND:ARG,... names the faults:
 *   alloc:N[:VM]   the Nth page allocation while VM (or the first VM
 *                  created) is being created fails
 *   alloc:sweep:P  the kth page allocation of VM Pk's creation fails, for
 *                  every VM so named (one boot tries every k)
 *   entry:VM       VM's first VM entry fails (a guest-state field corrupted)
 *   noexit:VM      VM's boot vCPU spins without exits (no preemption timer,
 *                  no external-interrupt exiting): the watchdog must end it
 *   apdead:N       CPU N stops answering once started, before its scheduler
 *   devtimeout:DEV[:N]  the Nth command (1 by default) of the machine's
 *                  disk DEV and every later one time out
 * In a normal build none of this exists: the hooks below are constant
 * false and fault_inject_start refuses the switch. */
#ifndef PGVISOR_FAULT_INJECT_H
#define PGVISOR_FAULT_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fault_kind {
	FAULT_ALLOC,
	FAULT_ENTRY,
	FAULT_NOEXIT,
	FAULT_APDEAD,
	FAULT_DEVTIMEOUT,
};

#define FAULT_MAX 48
#define FAULT_NAME_MAX 31
#define FAULT_SPEC_MAX 1024

#ifdef FAULT_INJECT

/* Takes the faults of spec (the value of fault=); -1 with why when it is
 * malformed (nothing is taken then). */
int fault_inject_start(const char *spec, char *why, size_t len);
/* Page allocations are counted from here, for the creation of VM name,
 * until fault_alloc_end, which prints how many there were and whether one
 * was made to fail. */
void fault_alloc_begin(const char *name);
void fault_alloc_end(void);
/* Called by the page allocator: whether this allocation must fail. */
bool fault_alloc_fails(void);
/* A one-shot fault of kind (FAULT_ENTRY, FAULT_NOEXIT) for VM name: true
 * the first time it is asked for. */
bool fault_take(enum fault_kind kind, const char *name);
/* Whether CPU index is to stop answering. */
bool fault_ap_dead(unsigned index);
/* Called once for each command of the machine's disk dev: whether it is
 * to time out. */
bool fault_device_times_out(const char *dev);

#else

static inline int fault_inject_start(const char *spec, char *why, size_t len)
{
	(void)spec;
	snprintf(why, len,
		 "this build has no fault injection (make FAULT_INJECT=1 builds "
		 "build/pgvisor-fi.elf)");
	return -1;
}
static inline void fault_alloc_begin(const char *name)
{
	(void)name;
}
static inline void fault_alloc_end(void)
{
}
static inline bool fault_alloc_fails(void)
{
	return false;
}
static inline bool fault_take(enum fault_kind kind, const char *name)
{
	(void)kind;
	(void)name;
	return false;
}
static inline bool fault_ap_dead(unsigned index)
{
	(void)index;
	return false;
}
static inline bool fault_device_times_out(const char *dev)
{
	(void)dev;
	return false;
}

#endif
#endif
