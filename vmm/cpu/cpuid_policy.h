/* CPUID as guests see it (handle_cpuid in vmm/cpu/exit.h answers the exits). */
#ifndef PGVISOR_CPUID_POLICY_H
#define PGVISOR_CPUID_POLICY_H

/* Reads the host's highest basic and extended leaves once: a CPUID in VMX
 * root operation is slow on hardware, and the exit path needs them. */
void cpuid_policy_init(void);

#endif
