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
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
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
/* ICR fields (SDM Vol. 3 11.6.1). */
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_DEST_SHIFT 24
#define XAPIC_MAX_ID 0xff

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
	static bool calibrated;

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
		/* Every CPU's APIC timer runs at the one bus clock. */
		if (!calibrated)
			calibrate();
		calibrated = true;
		wr(REG_LVT_TIMER, LAPIC_TIMER_VECTOR); /* one-shot */
	}
}

uint32_t lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

/* Writing the low half sends the IPI; the high half must be written first
 * (SDM Vol. 3 11.6.1). Waits until the APIC has accepted the previous one. */
static int send_icr(uint32_t apic_id, uint32_t low)
{
	if (apic_id > XAPIC_MAX_ID)
		return -1;
	while (rd(REG_ICR_LOW) & ICR_DELIVERY_PENDING)
		cpu_relax();
	wr(REG_ICR_HIGH, apic_id << ICR_DEST_SHIFT);
	wr(REG_ICR_LOW, low);
	return 0;
}

int lapic_send_init(uint32_t apic_id)
{
	return send_icr(apic_id, ICR_INIT | ICR_ASSERT);
}

int lapic_send_startup(uint32_t apic_id, uint8_t page)
{
	return send_icr(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

int lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	return send_icr(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

int lapic_send_nmi(uint32_t apic_id)
{
	return send_icr(apic_id, ICR_NMI | ICR_ASSERT);
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
