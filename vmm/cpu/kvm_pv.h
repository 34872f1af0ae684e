/* The KVM paravirtual interface for guests that speak it (unmodified
 * Linux does): KVM's CPUID signature and feature leaf at 0x40000100 and
 * kvm-clock, each offered as the VM's config says (key pv,
 * vmm/load/config.h). The ABI numbers are in vmm/abi/kvm_para.h. */
#ifndef PGVISOR_KVM_PV_H
#define PGVISOR_KVM_PV_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"

struct vcpu;

/* A leaf of KVM's CPUID range (KVM_CPUID_SIGNATURE onwards): all zero
 * when the VM is offered no paravirtual feature, as past any hypervisor's
 * last leaf. */
bool kvm_pv_cpuid_leaf(uint32_t leaf);
struct cpuid_regs kvm_pv_cpuid(const struct vcpu *v, uint32_t leaf);

/* The kvm-clock MSRs, when the VM is offered kvm-clock. */
bool kvm_pv_owns_msr(const struct vcpu *v, uint32_t msr);
uint64_t kvm_pv_msr_read(const struct vcpu *v, uint32_t msr);
void kvm_pv_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* The guest's TSC moved (a TSC write): its clock record follows. */
void kvm_pv_tsc_changed(struct vcpu *v);
/* A VM (re)starts: no clock registered. */
void kvm_pv_reset(struct vcpu *v);

#endif
