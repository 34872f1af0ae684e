/* CPU access for guest programs: port I/O, CPUID, MSRs, the TSC, and the
 * pgvisor detection and hypercall interface (vmm/abi/hypercall_abi.h). */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline void outw(uint16_t port, uint16_t value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t value;
	__asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline void outl(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t value;
	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_subleaf(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_subleaf(leaf, 0);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Return 0 on success, or the vector of the exception the access raised
 * (13 for #GP), recovered through the trap fixup table. */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);

/* CPUID.1:ECX bit 31 is set and leaf 0x40000000 carries pgvisor's
 * signature. */
bool hypervisor_present(void);

/* VMCALL per vmm/abi/hypercall_abi.h; faults (#UD) without pgvisor, so only
 * call it when hypervisor_present(). */
int32_t hypercall(uint32_t nr, uint32_t arg1, uint32_t arg2, uint32_t arg3);
/* A KVM hypercall (vmm/abi/kvm_para.h): four arguments, RSI the fourth. */
int32_t kvm_hypercall4(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3);
/* The KVM features (KVM_FEATURE_*) the hypervisor offers: 0 without
 * KVM's signature at 0x40000100. */
uint32_t kvm_features(void);

#endif
