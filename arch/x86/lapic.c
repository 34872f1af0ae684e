#include "arch/x86/lapic.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/msr.h"
#include "arch/x86/tsc.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xffffff000ull
#define REG_ID 0x20
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIVIDE_BY_1 0xb
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CALIBRATE_TICKS 1000000ull

static volatile uint32_t *regs;
static bool tsc_deadline;
static uint64_t apic_ticks_per_1m_tsc; /* LAPIC timer counts per 2^20 TSC ticks */

static uint32_t rd(unsigned reg)
{
	return regs[reg / 4];
}

static void wr(unsigned reg, uint32_t v)
{
	regs[reg / 4] = v;
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

static void timer_interrupt(struct trap_frame *tf)
{
	(void)tf;
	/* Waking the CPU from cpu_idle_until_interrupt is all it is for. */
	lapic_eoi();
}

static void spurious_interrupt(struct trap_frame *tf)
{
	(void)tf; /* no EOI for spurious interrupts (SDM 11.9) */
}

static void calibrate(void)
{
	/* The APIC timer's rate is the bus clock: measure it against the TSC
	 * (whose rate arch/x86/tsc.c measured against the PIT). */
	wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_TIMER_INITIAL, 0xffffffffu);
	uint64_t start = rdtsc();
	while (rdtsc() - start < CALIBRATE_TICKS)
		cpu_relax();
	uint32_t counted = 0xffffffffu - rd(REG_TIMER_CURRENT);
	wr(REG_TIMER_INITIAL, 0);
	apic_ticks_per_1m_tsc = ((uint64_t)counted << 20) / CALIBRATE_TICKS;
	if (!apic_ticks_per_1m_tsc)
		apic_ticks_per_1m_tsc = 1;
}

void lapic_init_cpu(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	regs = (volatile uint32_t *)(base & APIC_BASE_ADDR_MASK);
	idt_set_handler(LAPIC_TIMER_VECTOR, timer_interrupt);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, spurious_interrupt);
	wr(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	tsc_deadline = cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE;
	if (tsc_deadline) {
		wr(REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
	} else {
		calibrate();
		wr(REG_LVT_TIMER, LAPIC_TIMER_VECTOR); /* one-shot */
	}
}

uint32_t lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

void lapic_timer_arm(uint64_t deadline)
{
	if (tsc_deadline) {
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		return;
	}
	uint64_t now = rdtsc();
	if (!deadline) {
		wr(REG_TIMER_INITIAL, 0);
		return;
	}
	uint64_t delta = deadline > now ? deadline - now : 1;
	uint64_t count = (delta * apic_ticks_per_1m_tsc) >> 20;
	wr(REG_TIMER_INITIAL, count ? (count > 0xffffffffu ? 0xffffffffu : (uint32_t)count) : 1);
}

void cpu_idle_until_interrupt(void)
{
	/* STI's one-instruction shadow makes "sti; hlt" race-free. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}
