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

#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)   /* port 0x80 delays are not needed */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)   /* kvm-clock at the MSRs below */
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24) /* PVCLOCK_TSC_STABLE_BIT is meaningful */

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u  /* GPA of a pvclock_wall_clock */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u /* GPA of a pvclock_vcpu_time_info | enable */
#define KVM_SYSTEM_TIME_ENABLE 1ull

#endif
