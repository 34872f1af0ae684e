/* CPUID as guests see it (handle_cpuid in vmm/cpu/exit.h answers the exits). */
#ifndef PGVISOR_CPUID_POLICY_H
#define PGVISOR_CPUID_POLICY_H

#include <stdint.h>

/* Reads the host's highest basic and extended leaves once: a CPUID in VMX
 * root operation is slow on hardware, and the exit path needs them. */
void cpuid_policy_init(void);
/* The XCR0 bits guests are offered (CPUID 0xD.0): XSETBV refuses others. */
uint64_t cpuid_xcr0_offered(void);

#endif
