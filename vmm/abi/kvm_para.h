/* KVM's paravirtual interface as pgvisor offers it (Linux:
 * Documentation/virt/kvm/x86/cpuid.rst and msr.rst): unmodified Linux
 * finds the signature by scanning the hypervisor CPUID range in 0x100
 * steps, so it sits at the second base and pgvisor's own leaves stay at
 * 0x40000000. Shared with guest programs that test it. */
#ifndef PGVISOR_KVM_PARA_H
#define PGVISOR_KVM_PARA_H

#define KVM_CPUID_SIGNATURE 0x40000100u /* EAX: highest KVM leaf; EBX-EDX the name */
#define KVM_CPUID_FEATURES 0x40000101u	/* EAX: KVM_FEATURE_*, EDX: hints */
#define KVM_CPUID_SIGNATURE_TEXT "KVMKVMKVM\0\0\0"
#define KVM_CPUID_RANGE 0x100u /* leaves of one hypervisor base */

#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)	      /* port 0x80 delays are not needed */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)	      /* kvm-clock at the MSRs below */
#define KVM_FEATURE_STEAL_TIME (1u << 5)	      /* MSR_KVM_STEAL_TIME */
#define KVM_FEATURE_PV_EOI (1u << 6)		      /* MSR_KVM_PV_EOI_EN */
#define KVM_FEATURE_PV_UNHALT (1u << 7)		      /* KVM_HC_KICK_CPU */
#define KVM_FEATURE_PV_TLB_FLUSH (1u << 9)	      /* KVM_VCPU_FLUSH_TLB in kvm_steal_time */
#define KVM_FEATURE_PV_SEND_IPI (1u << 11)	      /* KVM_HC_SEND_IPI */
#define KVM_FEATURE_PV_SCHED_YIELD (1u << 13)	      /* KVM_HC_SCHED_YIELD */
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24) /* PVCLOCK_TSC_STABLE_BIT is meaningful */

/* Hypercalls: VMCALL with the number in RAX and arguments in RBX, RCX,
 * RDX, RSI (32 bits of each outside 64-bit mode); the result in RAX,
 * negative on error. pgvisor's own numbers (hypercall_abi.h) are below
 * these. */
#define KVM_HC_KICK_CPU 5     /* flags, APIC ID of a vCPU waiting in HLT -> 0 */
#define KVM_HC_SEND_IPI 10    /* bitmap low, high, lowest APIC ID, ICR -> IPIs sent */
#define KVM_HC_SCHED_YIELD 11 /* APIC ID of a preempted vCPU to run first -> 0 */

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u  /* GPA of a pvclock_wall_clock */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u /* GPA of a pvclock_vcpu_time_info | enable */
#define MSR_KVM_STEAL_TIME 0x4b564d03u	    /* GPA of a kvm_steal_time | enable */
#define KVM_MSR_ENABLED 1ull		    /* bit 0 of the GPA MSRs */
#define KVM_STEAL_RESERVED_MASK 0x3eull	    /* the record is 64-byte aligned */

/* GPA of a 4-byte flag | enable. pgvisor sets bit 0 (KVM_PV_EOI_ENABLED)
 * when it injects an interrupt whose EOI may be signalled by clearing it
 * (one atomic test-and-clear) instead of writing the APIC's EOI register. */
#define MSR_KVM_PV_EOI_EN 0x4b564d04u
#define KVM_PV_EOI_RESERVED 0x2ull /* bit 1 */
#define KVM_PV_EOI_ENABLED 1u

/* What MSR_KVM_STEAL_TIME points at: the time the vCPU was ready to run
 * but did not (ns), under a version that is odd while it is written, and
 * whether it is off its CPU now. */
struct kvm_steal_time {
	unsigned long long steal;
	unsigned int version;
	unsigned int flags;
	unsigned char preempted; /* KVM_VCPU_* */
	unsigned char pad0[3];
	unsigned int pad[11];
};
#define KVM_VCPU_PREEMPTED (1u << 0) /* set by the host while the vCPU waits */
/* Set by another vCPU instead of a TLB-shootdown IPI to a preempted one:
 * the host flushes the vCPU's TLB before it runs again. */
#define KVM_VCPU_FLUSH_TLB (1u << 1)

#endif
