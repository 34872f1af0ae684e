#include "vmm/cpu/kvm_pv.h"

#include <string.h>

#include "arch/x86/muldiv.h"
#include "vmm/abi/hypercall_abi.h"
#include "vmm/abi/kvm_para.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/dev/pvclock.h"
#include "vmm/vm/platform.h"
#include "vmm/vm/vm.h"

#define NSEC_PER_SEC 1000000000ull
/* The ICR image of KVM_HC_SEND_IPI (SDM 11.6.1). */
#define APIC_ICR_VECTOR 0xffu
#define APIC_ICR_MODE_SHIFT 8
#define APIC_ICR_MODE_MASK 7u

static const char signature[12] = KVM_CPUID_SIGNATURE_TEXT;

bool kvm_pv_cpuid_leaf(uint32_t leaf)
{
	return leaf >= KVM_CPUID_SIGNATURE && leaf < KVM_CPUID_SIGNATURE + KVM_CPUID_RANGE;
}

struct cpuid_regs kvm_pv_cpuid(struct vcpu *v, uint32_t leaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };
	uint32_t pv = v->vm->cfg.pv;

	if (!pv)
		return r;
	if (leaf == KVM_CPUID_SIGNATURE) {
		r.eax = KVM_CPUID_FEATURES;
		memcpy(&r.ebx, signature, 4);
		memcpy(&r.ecx, signature + 4, 4);
		memcpy(&r.edx, signature + 8, 4);
	} else if (leaf == KVM_CPUID_FEATURES) {
		/* Port 0x80 is a plain trapped port here: delaying on it only
		 * costs exits. */
		r.eax = KVM_FEATURE_NOP_IO_DELAY;
		if (pv & PV_KVM_CLOCK)
			r.eax |= KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
		if (pv & PV_STEAL_TIME)
			r.eax |= KVM_FEATURE_STEAL_TIME;
		/* The flush request lives in the steal-time record. */
		if ((pv & PV_TLB_FLUSH) && (pv & PV_STEAL_TIME))
			r.eax |= KVM_FEATURE_PV_TLB_FLUSH;
		if (pv & PV_SEND_IPI)
			r.eax |= KVM_FEATURE_PV_SEND_IPI;
		if (pv & PV_SCHED_YIELD)
			r.eax |= KVM_FEATURE_PV_SCHED_YIELD;
		if (pv & PV_EOI)
			r.eax |= KVM_FEATURE_PV_EOI;
		if (pv & PV_UNHALT) {
			r.eax |= KVM_FEATURE_PV_UNHALT;
			v->vm->pv_unhalt_known = true;
		}
	}
	return r;
}

static struct vcpu *vcpu_with_apic_id(struct vm *vm, uint64_t id)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vlapic_id(&vm->vcpus[i].lapic) == id)
			return &vm->vcpus[i];
	return NULL;
}

/* KVM_HC_SEND_IPI: one fixed or NMI IPI to each vCPU whose APIC ID is
 * min plus a set bit of the bitmap (2 * width bits: RBX then RCX);
 * returns how many got it. An ID no vCPU has is skipped, as KVM does. */
static int64_t send_ipi(struct vcpu *v, uint64_t low, uint64_t high, uint64_t min, uint64_t icr,
			unsigned width)
{
	struct vlapic_ipi ipi = {
		.vector = (uint8_t)(icr & APIC_ICR_VECTOR),
		.mode = (uint8_t)((icr >> APIC_ICR_MODE_SHIFT) & APIC_ICR_MODE_MASK),
	};
	int64_t sent = 0;

	if (ipi.mode != APIC_DM_FIXED && ipi.mode != APIC_DM_NMI)
		return HC_ERR_INVAL;
	for (unsigned bit = 0; bit < 2 * width; bit++) {
		uint64_t word = bit < width ? low : high;
		if (!((word >> (bit % width)) & 1))
			continue;
		struct vcpu *to = vcpu_with_apic_id(v->vm, min + bit);
		if (!to)
			continue;
		ipi.dest = vlapic_id(&to->lapic);
		platform_send_ipi(v->vm, v, &ipi);
		sent++;
	}
	return sent;
}

bool kvm_pv_hypercall(struct vcpu *v, uint64_t nr, int64_t *ret)
{
	uint32_t pv = v->vm->cfg.pv;
	/* Outside 64-bit mode only the low halves count. */
	bool wide = operand_long_mode();
	uint64_t mask = wide ? UINT64_MAX : UINT32_MAX;
	uint64_t a0 = v->regs.gpr[REG_RBX] & mask, a1 = v->regs.gpr[REG_RCX] & mask;
	uint64_t a2 = v->regs.gpr[REG_RDX] & mask, a3 = v->regs.gpr[REG_RSI] & mask;
	struct vcpu *to;

	switch (nr & mask) {
	case KVM_HC_KICK_CPU:
		if (!(pv & PV_UNHALT))
			return false;
		/* The lock holder wakes a waiter (a1: its APIC ID). A kick that
		 * comes before the waiter's HLT ends that HLT at once. */
		to = vcpu_with_apic_id(v->vm, a1);
		if (to) {
			to->pv_unhalted = true;
			platform_wake_vcpu(to);
			if (to != v && to->cpu == v->cpu)
				v->yield = true;
		}
		*ret = 0;
		return true;
	case KVM_HC_SEND_IPI:
		if (!(pv & PV_SEND_IPI))
			return false;
		*ret = send_ipi(v, a0, a1, a2, a3, wide ? 64 : 32);
		return true;
	case KVM_HC_SCHED_YIELD:
		if (!(pv & PV_SCHED_YIELD))
			return false;
		/* The target waits for this CPU: end the slice so it runs. */
		to = vcpu_with_apic_id(v->vm, a0);
		if (to && to != v && to->cpu == v->cpu)
			v->yield = true;
		*ret = 0;
		return true;
	default:
		return false;
	}
}

bool kvm_pv_owns_msr(const struct vcpu *v, uint32_t msr)
{
	uint32_t pv = v->vm->cfg.pv;

	if (msr == MSR_KVM_SYSTEM_TIME_NEW || msr == MSR_KVM_WALL_CLOCK_NEW)
		return pv & PV_KVM_CLOCK;
	if (msr == MSR_KVM_PV_EOI_EN)
		return pv & PV_EOI;
	return msr == MSR_KVM_STEAL_TIME && (pv & PV_STEAL_TIME);
}

uint64_t kvm_pv_msr_read(const struct vcpu *v, uint32_t msr)
{
	switch (msr) {
	case MSR_KVM_SYSTEM_TIME_NEW:
		return v->kvmclock_msr;
	case MSR_KVM_STEAL_TIME:
		return v->steal_msr;
	case MSR_KVM_PV_EOI_EN:
		return v->pv_eoi_msr;
	default:
		return v->vm->wall_clock_msr;
	}
}

/* Writes a record whose first 4 bytes are its version the way the guest
 * reads it (version, body, version again; retry while odd or changed):
 * an odd version first, then the body, then the next even one. A record
 * not wholly in the VM's RAM is not written, as KVM ignores it. */
static void write_versioned(struct vm *vm, uint64_t gpa, uint32_t *version, const void *record,
			    size_t size)
{
	uint32_t odd = *version + 1, even = *version + 2;

	if (guest_phys_write(vm, gpa, &odd, sizeof(odd)))
		return;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order: the compiler must too */
	if (guest_phys_write(vm, gpa + sizeof(odd), (const uint8_t *)record + sizeof(odd),
			     size - sizeof(odd)))
		return;
	__asm__ volatile("" ::: "memory");
	guest_phys_write(vm, gpa, &even, sizeof(even));
	*version = even;
}

/* Guest time 0 (the VM's vtime origin) is where the guest's TSC read
 * the origin plus its offset: the record never needs refreshing while
 * the offset stays, or moves with the origin (held time, vmm/cpu/
 * delayed_time.c), so it costs no exit after registration. */
static void write_time_info(struct vcpu *v)
{
	struct vtime *t = &v->vm->vtime;
	struct pvclock_scale s = pvclock_scale_for_hz(t->tsc_hz);
	struct pvclock_time_info ti = {
		.tsc_timestamp = vtime_origin_tsc(t) + v->lapic.tsc_offset,
		.system_time = 0,
		.tsc_to_system_mul = s.mul,
		.tsc_shift = s.shift,
		/* Every vCPU's TSC runs in step with the host's, from the
		 * same origin. */
		.flags = PVCLOCK_TSC_STABLE_BIT,
	};

	if (v->kvmclock_msr & KVM_MSR_ENABLED)
		write_versioned(v->vm, v->kvmclock_msr & ~KVM_MSR_ENABLED, &v->kvmclock_version,
				&ti, sizeof(ti));
}

static void write_wall_clock(struct vm *vm)
{
	struct pvclock_wall_clock wc = {
		.sec = (uint32_t)(vm->start_epoch_ns / NSEC_PER_SEC),
		.nsec = (uint32_t)(vm->start_epoch_ns % NSEC_PER_SEC),
	};

	write_versioned(vm, vm->wall_clock_msr, &vm->wall_clock_version, &wc, sizeof(wc));
}

/* The guest's steal-time record, or NULL when it registered none (or
 * one outside its RAM, which is then never written). */
static struct kvm_steal_time *steal_record(struct vcpu *v)
{
	if (!(v->steal_msr & KVM_MSR_ENABLED))
		return NULL;
	return guest_phys_ptr_for_write(v->vm, v->steal_msr & ~KVM_MSR_ENABLED,
					sizeof(struct kvm_steal_time));
}

/* The version protocol as for kvm-clock, with the version at offset 8.
 * The guest may scribble on the record: the version written is pgvisor's
 * own count, never what the guest left. */
static void write_steal(struct vcpu *v, struct kvm_steal_time *st)
{
	volatile struct kvm_steal_time *vst = st;

	vst->version = v->steal_version + 1;
	__asm__ volatile("" ::: "memory");
	vst->steal = v->steal_ns;
	__asm__ volatile("" ::: "memory");
	v->steal_version += 2;
	vst->version = v->steal_version;
}

bool kvm_pv_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct kvm_steal_time *st;

	switch (msr) {
	case MSR_KVM_WALL_CLOCK_NEW:
		v->vm->wall_clock_msr = value;
		write_wall_clock(v->vm);
		return true;
	case MSR_KVM_SYSTEM_TIME_NEW:
		v->kvmclock_msr = value;
		write_time_info(v);
		return true;
	case MSR_KVM_PV_EOI_EN:
		/* The flag is 4 bytes, 4-byte aligned; bit 1 is reserved. */
		if ((value & KVM_PV_EOI_RESERVED) ||
		    ((value & KVM_MSR_ENABLED) && (value & ~KVM_MSR_ENABLED) % 4))
			return false;
		if (v->pv_eoi_pending)
			kvm_pv_eoi_collect(v); /* an EOI signalled at the old place */
		v->pv_eoi_msr = value;
		return true;
	default: /* MSR_KVM_STEAL_TIME */
		if (value & KVM_STEAL_RESERVED_MASK)
			return false;
		v->steal_msr = value;
		st = steal_record(v);
		if (st) {
			st->preempted = 0;
			write_steal(v, st);
		}
		return true;
	}
}

void kvm_pv_vcpu_in(struct vcpu *v, uint64_t now_tsc)
{
	struct kvm_steal_time *st;

	if (v->steal_since_tsc) {
		v->steal_ns += mul_div_u64(now_tsc - v->steal_since_tsc, NSEC_PER_SEC,
					   v->vm->vtime.tsc_hz);
		v->steal_since_tsc = 0;
	}
	st = steal_record(v);
	if (!st)
		return;
	/* Atomic: another vCPU may be setting KVM_VCPU_FLUSH_TLB right now
	 * (a compare-and-exchange on this byte while it reads PREEMPTED). */
	uint8_t was = __atomic_exchange_n(&st->preempted, 0, __ATOMIC_SEQ_CST);
	if ((was & KVM_VCPU_FLUSH_TLB) && (v->vm->cfg.pv & PV_TLB_FLUSH))
		v->flush_tlb = true; /* done as the vCPU is switched to */
	write_steal(v, st);
}

void kvm_pv_vcpu_out(struct vcpu *v, uint64_t now_tsc)
{
	struct kvm_steal_time *st;

	if (!(v->vm->cfg.pv & PV_STEAL_TIME))
		return;
	v->steal_since_tsc = now_tsc;
	st = steal_record(v);
	if (st)
		__atomic_or_fetch(&st->preempted, KVM_VCPU_PREEMPTED, __ATOMIC_SEQ_CST);
}

static uint32_t *pv_eoi_flag(struct vcpu *v)
{
	if (!(v->pv_eoi_msr & KVM_MSR_ENABLED))
		return NULL;
	return guest_phys_ptr_for_write(v->vm, v->pv_eoi_msr & ~KVM_MSR_ENABLED, sizeof(uint32_t));
}

void kvm_pv_eoi_offer(struct vcpu *v, uint8_t vector)
{
	/* As KVM: not while another interrupt waits (the guest could take it
	 * before this EOI, which would then end the wrong one), and not for
	 * a level-triggered one, whose EOI the I/O APIC needs at once. */
	if (v->lapic.irr_words || vlapic_level_triggered(&v->lapic, vector))
		return;
	uint32_t *flag = pv_eoi_flag(v);
	if (!flag)
		return;
	/* Only this vCPU's guest code touches the flag, and it is not
	 * running: a plain store would do, the atomic one costs nothing. */
	__atomic_or_fetch(flag, KVM_PV_EOI_ENABLED, __ATOMIC_SEQ_CST);
	v->pv_eoi_pending = true;
}

void kvm_pv_eoi_collect(struct vcpu *v)
{
	uint32_t *flag = pv_eoi_flag(v);

	v->pv_eoi_pending = false;
	if (!flag)
		return;
	if (!(__atomic_fetch_and(flag, ~KVM_PV_EOI_ENABLED, __ATOMIC_SEQ_CST) & KVM_PV_EOI_ENABLED))
		vlapic_eoi(&v->lapic); /* the guest cleared it: its EOI */
}

void kvm_pv_tsc_changed(struct vcpu *v)
{
	write_time_info(v);
}

void kvm_pv_init_signal(struct vcpu *v)
{
	v->pv_eoi_msr = 0;
	v->pv_eoi_pending = false;
}

void kvm_pv_reset(struct vcpu *v)
{
	v->kvmclock_msr = 0;
	v->kvmclock_version = 0;
	v->steal_msr = 0;
	v->steal_version = 0;
	v->steal_ns = 0;
	v->steal_since_tsc = 0;
	v->pv_unhalted = false;
	kvm_pv_init_signal(v);
	if (v->id == 0) {
		v->vm->pv_unhalt_known = false;
		v->vm->wall_clock_msr = 0;
		v->vm->wall_clock_version = 0;
	}
}
