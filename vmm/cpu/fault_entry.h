/* The test build's faults at a vCPU's first VM entry (fault=entry:VM and
 * fault=noexit:VM, arch/x86/fault_inject.h); nothing in a normal build. */
#ifndef PGVISOR_FAULT_ENTRY_H
#define PGVISOR_FAULT_ENTRY_H

#include "vmm/vm/vcpu.h"

#ifdef FAULT_INJECT
/* With v's VMCS current, before its first entry. */
void fault_before_first_entry(struct vcpu *v);
#else
static inline void fault_before_first_entry(struct vcpu *v)
{
	(void)v;
}
#endif

#endif
