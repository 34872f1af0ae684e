#include "cpu.h"

#include "string.h"
#include "vmm/abi/hypercall_abi.h"
#include "vmm/abi/kvm_para.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/* The faulting instruction is at label 1, execution resumes at label 2 and
 * the trap handler leaves the vector in ESI (see trap_dispatch). */
#define FIXUP_ENTRY ".pushsection .fixup_table, \"a\"\n .long 1b, 2b\n .popsection\n"

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	int vector = 0;

	__asm__ volatile("1: rdmsr\n"
			 "2:\n" FIXUP_ENTRY
			 : "+a"(lo), "+d"(hi), "+S"(vector)
			 : "c"(msr));
	*value = ((uint64_t)hi << 32) | lo;
	return vector;
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
	int vector = 0;

	__asm__ volatile("1: wrmsr\n"
			 "2:\n" FIXUP_ENTRY
			 : "+S"(vector)
			 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
	return vector;
}

bool hypervisor_present(void)
{
	if (!(cpuid(1).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	struct cpuid_regs r = cpuid(PGVISOR_CPUID_SIGNATURE_LEAF);
	uint32_t signature[3] = { r.ebx, r.ecx, r.edx };
	return memcmp(signature, PGVISOR_CPUID_SIGNATURE, sizeof(signature)) == 0;
}

int32_t kvm_hypercall4(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
	uint32_t result;

	__asm__ volatile("vmcall"
			 : "=a"(result)
			 : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			 : "memory");
	return (int32_t)result;
}

uint32_t kvm_features(void)
{
	struct cpuid_regs r = cpuid(KVM_CPUID_SIGNATURE);
	uint32_t signature[3] = { r.ebx, r.ecx, r.edx };

	if (r.eax < KVM_CPUID_FEATURES ||
	    memcmp(signature, KVM_CPUID_SIGNATURE_TEXT, sizeof(signature)))
		return 0;
	return cpuid(KVM_CPUID_FEATURES).eax;
}

int32_t hypercall(uint32_t nr, uint32_t arg1, uint32_t arg2, uint32_t arg3)
{
	uint32_t result;

	__asm__ volatile("vmcall"
			 : "=a"(result)
			 : "a"(nr), "b"(arg1), "c"(arg2), "d"(arg3)
			 : "memory");
	return (int32_t)result;
}
