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
 * last leaf. Reading the feature leaf with PV unhalt in it tells pgvisor
 * the guest may wait for kicks (vm->pv_unhalt_known). */
bool kvm_pv_cpuid_leaf(uint32_t leaf);
struct cpuid_regs kvm_pv_cpuid(struct vcpu *v, uint32_t leaf);

/* A KVM hypercall (KVM_HC_*, vmm/abi/kvm_para.h) of a feature the VM is
 * offered: true with its result in *ret; false when nr is none of them. */
bool kvm_pv_hypercall(struct vcpu *v, uint64_t nr, int64_t *ret);

/* The MSRs of the features the VM is offered. A write returns false when
 * the guest must get #GP. */
bool kvm_pv_owns_msr(const struct vcpu *v, uint32_t msr);
uint64_t kvm_pv_msr_read(const struct vcpu *v, uint32_t msr);
bool kvm_pv_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* PV EOI. vector was just injected from the local APIC: when the guest
 * may signal its EOI in memory (nothing else in IRR, edge-triggered),
 * sets its flag. */
void kvm_pv_eoi_offer(struct vcpu *v, uint8_t vector);
/* After an exit, when v->pv_eoi_pending: a flag the guest cleared is the
 * EOI it did not write, done now; one still set is taken back, so the
 * guest writes its EOI itself. */
void kvm_pv_eoi_collect(struct vcpu *v);

/* The guest's TSC moved (a TSC write): its clock record follows. */
void kvm_pv_tsc_changed(struct vcpu *v);
/* A VM (re)starts: nothing registered, nothing stolen. */
void kvm_pv_reset(struct vcpu *v);
/* INIT: as KVM, PV EOI is off again (it lives in the local APIC, which
 * INIT resets); kvm-clock and steal time stay registered. */
void kvm_pv_init_signal(struct vcpu *v);
/* The scheduler is about to run v (before its VMCS is loaded): the time
 * it waited counts as stolen, and a TLB flush another vCPU asked for
 * while it was off its CPU is done. */
void kvm_pv_vcpu_in(struct vcpu *v, uint64_t now_tsc);
/* v's slice ended while it could still run: it waits from now on, and
 * its record says it was preempted. */
void kvm_pv_vcpu_out(struct vcpu *v, uint64_t now_tsc);

#endif
