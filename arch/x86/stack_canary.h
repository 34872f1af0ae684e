/* Canary words at the bottom of the hypervisor's own stacks (each CPU's
 * stack and its double-fault and NMI stacks): a stack that overflows
 * overwrites its canary before anything below it, so a broken canary
 * says a stack ran over, where a guard page would need a fault. Checked
 * when a VM ends and in the summary. */
#ifndef ARCH_X86_STACK_CANARY_H
#define ARCH_X86_STACK_CANARY_H

#include <stdbool.h>
#include <stdint.h>

#define STACK_CANARY_MAX 48 /* 3 stacks for each of 16 CPUs */

/* Writes the canary at bottom (the stack's lowest address, 8-aligned)
 * and remembers it as CPU cpu's stack what ("stack", "#DF stack", ...).
 * Returns -1 when the table is full (the stack goes unwatched). */
int stack_canary_plant(void *bottom, unsigned cpu, const char *what);

unsigned stack_canary_count(void);
/* Whether canary i (below stack_canary_count()) still holds its value. */
bool stack_canary_intact(unsigned i);
/* Names canary i: its CPU and which stack. */
unsigned stack_canary_cpu(unsigned i);
const char *stack_canary_what(unsigned i);

#endif
