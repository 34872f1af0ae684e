/* Which MSRs a guest reaches and how (SDM Vol. 3 25.6.9 MSR bitmaps). */
#ifndef PGVISOR_MSR_POLICY_H
#define PGVISOR_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Fills a VM's MSR bitmap page: everything exits except the MSRs whose
 * guest value lives in the VMCS or is switched with the vCPU. */
void msr_bitmap_init(uint8_t *bitmap);
/* The guest MSRs that pass through without being in the VMCS: the CPU
 * holds one vCPU's values at a time, switched with the vCPU. */
void msr_lazy_save(uint64_t *values);
void msr_lazy_load(const uint64_t *values);
/* IA32_MISC_ENABLE as a vCPU starts with it. */
uint64_t msr_misc_enable_default(void);
/* Whether vCPUs have IA32_TSC_ADJUST (CPUID.7.0:EBX[1]): it moves their
 * TSC offset, so only with TSC offsetting. */
bool msr_tsc_adjust_offered(void);

#endif
