#include "arch/x86/fpu.h"

#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"

#define FXSAVE_FCW_OFFSET 0
#define FXSAVE_MXCSR_OFFSET 24
#define FCW_POWER_ON 0x037f
#define MXCSR_POWER_ON 0x1f80

static bool have_xsave;
static uint64_t xcr0_supported;

void fpu_init_cpu(void)
{
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;

	have_xsave = cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE;
	if (have_xsave) {
		struct cpuid_regs r = cpuid(0xd, 0);
		xcr0_supported = ((uint64_t)r.edx << 32 | r.eax);
		/* Areas are one page: leave out components that need more. */
		if (r.ecx > FPU_AREA_SIZE)
			have_xsave = false;
	}
	if (have_xsave)
		cr4 |= CR4_OSXSAVE;
	else
		xcr0_supported = 0;
	write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
	write_cr4(cr4);
	/* Guests' XSAVES runs with this CPU's IA32_XSS: no supervisor state,
	 * whatever the firmware left (vmm/cpu/msr_policy.c). */
	if (have_xsave && (cpuid(0xd, 1).eax & CPUID_0D_1_EAX_XSAVES))
		wrmsr(MSR_IA32_XSS, 0);
}

void fpu_area_init(void *area)
{
	uint8_t *a = area;

	memset(a, 0, FPU_AREA_SIZE);
	/* With XSAVE a zero header means "initial state" for XRSTOR; the
	 * legacy area still needs valid FCW/MXCSR for FXRSTOR. */
	*(uint16_t *)(a + FXSAVE_FCW_OFFSET) = FCW_POWER_ON;
	*(uint32_t *)(a + FXSAVE_MXCSR_OFFSET) = MXCSR_POWER_ON;
}

uint64_t fpu_xcr0_supported(void)
{
	return xcr0_supported;
}

void fpu_set_xcr0(uint64_t xcr0)
{
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
}

void fpu_save(void *area, uint64_t xcr0)
{
	if (have_xsave)
		__asm__ volatile("xsave64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(void *area, uint64_t xcr0)
{
	if (have_xsave) {
		fpu_set_xcr0(xcr0);
		__asm__ volatile("xrstor64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32))
				 : "memory");
	} else {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
	}
}
