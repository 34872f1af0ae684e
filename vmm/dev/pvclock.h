/* The pvclock ABI that KVM defines and unmodified Linux reads (kvm-clock):
 * per vCPU a 32-byte record in guest memory, registered with
 * MSR_KVM_SYSTEM_TIME_NEW, from which the guest computes nanoseconds out of
 * its own TSC without an exit:
 *
 *   time = system_time + scale(rdtsc() - tsc_timestamp)
 *   scale(d) = ((shift >= 0 ? d << shift : d >> -shift) * mul) >> 32
 *
 * and a wall-clock record (MSR_KVM_WALL_CLOCK_NEW): the time of day at
 * guest time 0. Both carry a version that is odd while the record is being
 * written. Linux: Documentation/virt/kvm/x86/msr.rst, and
 * arch/x86/include/asm/pvclock-abi.h for the layouts. Pure data: no
 * guest memory access here. */
#ifndef PGVISOR_PVCLOCK_H
#define PGVISOR_PVCLOCK_H

#include <stdint.h>

/* The guest may read every vCPU's record as one clock: the TSCs are in
 * step and the records agree (Linux then uses it from user space too). */
#define PVCLOCK_TSC_STABLE_BIT 0x01

/* The guest's layouts, little-endian with natural alignment as on x86. */
struct pvclock_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};
_Static_assert(sizeof(struct pvclock_time_info) == 32, "the ABI's 32 bytes");

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
};
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "the ABI's 12 bytes");

struct pvclock_scale {
	uint32_t mul;
	int8_t shift;
};

/* The multiplier and shift that turn TSC ticks at tsc_hz into
 * nanoseconds, with the most precision a 32-bit multiplier allows (a
 * relative error below 2^-31). tsc_hz must not be 0. */
struct pvclock_scale pvclock_scale_for_hz(uint64_t tsc_hz);
/* What the guest computes: scale(delta) as above. */
uint64_t pvclock_scale_delta(uint64_t delta, struct pvclock_scale s);

#endif
