/* What pgvisor checks when a VM ends: its own stack canaries
 * (arch/x86/stack_canary.h), and, with "memhash" on its command line, a
 * hash of the VM's whole RAM when it was loaded and when it ended, so a
 * test can tell whether anything but the VM itself wrote to it (run it
 * alone, then beside another VM: the hashes must be the same). */
#ifndef VMM_CORE_END_CHECKS_H
#define VMM_CORE_END_CHECKS_H

#include <stdbool.h>

#include "vmm/vm/vm.h"

void end_checks_enable_memhash(void);
/* After vm_load: "pgvisor: vm NAME: memory hash H at load (N KiB)". */
void end_checks_vm_loaded(const struct vm *vm);
/* When the VM has stopped, before its policy is applied: its hash "at
 * end", and one line for each broken canary. */
void end_checks_vm_ended(const struct vm *vm);
/* "pgvisor: stack canaries: N of M intact"; false when one is broken. */
bool end_checks_canaries_report(void);

#endif
