/* apictest: the local APIC and HLT as the bare machine has them (issue 16,
 * equivalence), checked the way outside conformance suites do
 * (kvm-unit-tests' x86/apic.c among them). One line per check:
 * "apictest: ok NAME" or "apictest: FAIL NAME (...)". Two vCPUs: the AP
 * checks its own IDs and then sleeps in HLT until the boot CPU's IPI.
 * The HPET: its counter against the TSC and a comparator's interrupt.
 * At the end both vCPUs halt with interrupts enabled and nothing pending:
 * the VM must stay (halted) until the operator destroys it. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/ap_start.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_VERSION 0x803
#define MSR_X2APIC_TPR 0x808
#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_SVR 0x80f
#define MSR_X2APIC_ISR3 0x813 /* vectors 0x60-0x7f */
#define MSR_X2APIC_IRR3 0x823
#define MSR_X2APIC_SELF_IPI 0x83f
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_TOPOLOGY 0xb
#define VEC_GP 13
#define ALL_ONES 0xffffffffu
#define MOVED_BASE 0xfed40000u /* free: between the I/O APIC and the local APIC */

#define LAPIC_LDR 0xd0
#define LAPIC_ESR 0x280
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_CURRENT 0x390
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LVT_NMI (4u << 8)
#define TIMER_COUNT_CLOCK 0x10000u /* point 6: a one-shot at divide-by-1 */
#define TIMER_COUNT_MODE 0x80000u  /* point 7: long enough to watch */

/* The 8259 and the PIT (IRQ 0) for LINT0 in fixed mode. */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT 0x11
#define PIC_ICW4_8086 0x01
#define PIC_VECTOR_BASE 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_RATE_GENERATOR 0x34 /* channel 0, lobyte/hibyte, mode 2 */
#define PIT_ONE_SHOT 0x30	/* mode 0: stops after one count */
#define PIT_DIVISOR 1193	/* 1 kHz */
#define LINT0_VECTOR 0x50
#define IPI_VECTOR 0x60
#define X2APIC_VECTOR 0x61 /* class 6 */
#define X2APIC_VECTOR_BIT (1u << (X2APIC_VECTOR % 32))
#define X2APIC_READS 64 /* point 11: register reads the exit profile shows */

#define WAIT_TICKS 200000000ull /* 4 s of guest time at 50 MHz */

/* The HPET (IA-PC HPET specification 1.0a, 2.3) and the I/O APIC input
 * its timer 2 is routed to (82093AA data sheet: select, window, RTEs). */
#define HPET_BASE 0xfed00000u
#define HPET_GCAP_ID 0x000
#define HPET_GEN_CONF 0x010
#define HPET_GINTR_STA 0x020
#define HPET_MAIN_CNT 0x0f0
#define HPET_T2_CONF 0x140
#define HPET_T2_CMP 0x148
#define HPET_ENABLE_CNF 0x1u
#define HPET_LEG_RT_CAP (1u << 15)
#define HPET_NUM_TIM(cap) ((((cap) >> 8) & 0x1f) + 1)
#define HPET_MAX_PERIOD_FS 100000000u /* the specification's limit, 100 ns */
#define HPET_TN_LEVEL (1u << 1)
#define HPET_TN_INT_ENB (1u << 2)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_PIN 11
#define HPET_RATE_TICKS 1000000u /* counter ticks the rate is measured over */
/* How far ahead the comparator is set: 1 ms. A comparator the counter has
 * passed before it is written never matches (a 64-bit one never wraps),
 * and reading the counter and writing both halves are three VM exits of
 * over a thousand TSC ticks each under a hypervisor in Bochs: 50 us was
 * too close. */
#define HPET_ONE_SHOT_TICKS 100000u
#define HPET_VECTOR 0x70
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define IOAPIC_RTE_LEVEL (1u << 15)
#define CPUID_TIMING_LEAF 0x40000010u
#define PS_PER_FS_DIV 1000u
#define PS_PER_MS 1000000000ull

void lint0_stub(void);
void pic_stub(void);
void ipi_stub(void);
void hpet_stub(void);
void on_lint0(void);
void on_pic(void);
void on_ipi(void);
void x2apic_stub(void);
void on_x2apic(void);
void on_hpet(void);

const char program_name[] = "apictest";

static volatile uint32_t lint0_hits, pic_hits, ipi_hits, x2apic_hits, ap_ready, ap_halts;
static volatile uint32_t hpet_hits, hpet_counter_at_irq, hpet_status_at_irq;
static volatile uint32_t ap_initial_id, ap_x2apic_cpuid, ap_apic_id;
static int failures;

void on_lint0(void)
{
	lint0_hits++;
	lapic_eoi();
}

void on_pic(void)
{
	pic_hits++;
}

void on_ipi(void)
{
	ipi_hits++;
	lapic_eoi();
}

void on_x2apic(void)
{
	x2apic_hits++;
	wrmsr(MSR_X2APIC_EOI, 0);
}

/* Clears a level-triggered timer's status before the EOI: otherwise the
 * I/O APIC would send it again. */
void on_hpet(void)
{
	hpet_hits++;
	hpet_counter_at_irq = *(volatile uint32_t *)(HPET_BASE + HPET_MAIN_CNT);
	hpet_status_at_irq = *(volatile uint32_t *)(HPET_BASE + HPET_GINTR_STA);
	*(volatile uint32_t *)(HPET_BASE + HPET_GINTR_STA) = hpet_status_at_irq;
	lapic_eoi();
}

/* One line per check; a failure shows what was seen (a and b, in hex). */
static void check(const char *name, bool ok, const char *seen, uint32_t a, uint32_t b)
{
	if (ok)
		printf("apictest: ok %s\n", name);
	else
		printf("apictest: FAIL %s (%s: %x %x)\n", name, seen, a, b);
	failures += !ok;
}

static uint32_t mmio_read(uint32_t addr)
{
	return *(volatile uint32_t *)addr;
}

static void mmio_write(uint32_t addr, uint32_t value)
{
	*(volatile uint32_t *)addr = value;
}

static uint32_t apic_base(void)
{
	return (uint32_t)rdmsr(MSR_APIC_BASE);
}

/* Disabled, then enabled in xAPIC mode at the default base: SDM 11.4.3's
 * reset, as kvm-unit-tests' reset_apic does it. */
static void reset_apic(void)
{
	uint32_t bsp = apic_base() & APIC_BASE_BSP;

	wrmsr(MSR_APIC_BASE, LAPIC_BASE | bsp);
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | bsp | APIC_BASE_EN);
}

static bool tsc_passed(uint64_t start)
{
	return rdtsc() - start > WAIT_TICKS;
}

/* Point 1: IA32_APIC_BASE.EN = 0 takes the APIC off CPUID and the bus. */
static void check_hw_disabled(void)
{
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP);
	uint32_t edx = cpuid(1).edx;
	check("cpuid apic flag clear while disabled", !(edx & CPUID_1_EDX_APIC), "edx", edx, 0);
	uint32_t version = mmio_read(LAPIC_BASE + LAPIC_VERSION);
	uint32_t tpr = mmio_read(LAPIC_BASE + LAPIC_TPR);
	check("disabled apic page reads all ones", version == ALL_ONES && tpr == ALL_ONES,
	      "version tpr", version, tpr);
	mmio_write(LAPIC_BASE + LAPIC_TPR, 0x20); /* vanishes */
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN);
	edx = cpuid(1).edx;
	check("cpuid apic flag set when enabled", edx & CPUID_1_EDX_APIC, "edx", edx, 0);
	tpr = mmio_read(LAPIC_BASE + LAPIC_TPR);
	check("write to disabled apic vanished", tpr == 0, "tpr", tpr, 0);
}

/* Point 2: software-disabled (SVR bit 8 clear), every LVT reads masked and
 * stays so until software enables the APIC (SDM 11.4.7.2). */
static void check_sw_disabled(void)
{
	static const unsigned lvts[] = { LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF,
					 LAPIC_LVT_LINT0, LAPIC_LVT_LINT1,   LAPIC_LVT_ERROR };
	bool masked = true;
	uint32_t bad = 0, value = 0;

	lapic_enable();
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		*lapic_reg(lvts[i]) = 0x40 + i;
	*lapic_reg(LAPIC_SVR) = LAPIC_SPURIOUS_VECTOR;
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++) {
		uint32_t v = *lapic_reg(lvts[i]);
		if (!(v & LVT_MASKED) && masked) {
			masked = false;
			bad = lvts[i];
			value = v;
		}
	}
	check("lvts read masked once software-disabled", masked, "register reads", bad, value);
	*lapic_reg(LAPIC_LVT_TIMER) = 0x41;
	value = *lapic_reg(LAPIC_LVT_TIMER);
	check("lvt stays masked while software-disabled", value & LVT_MASKED, "timer lvt", value,
	      0);
	lapic_enable();
	value = *lapic_reg(LAPIC_LVT_LINT0);
	check("lvt still masked after software enable", value & LVT_MASKED, "lint0 lvt", value, 0);
}

/* Point 3: in x2APIC mode the xAPIC page is not decoded (SDM 11.12.2). */
static void check_x2apic_page(void)
{
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN | APIC_BASE_EXTD);
	uint32_t version = mmio_read(LAPIC_BASE + LAPIC_VERSION);
	uint32_t tpr = mmio_read(LAPIC_BASE + LAPIC_TPR);
	check("x2apic mode apic page reads all ones", version == ALL_ONES && tpr == ALL_ONES,
	      "version tpr", version, tpr);
	reset_apic();
}

/* Point 4: kvm-unit-tests' __test_apic_id. */
static void check_apic_id(void)
{
	uint32_t initial_xapic_id = cpuid(1).ebx >> 24;
	uint32_t initial_x2apic_id = cpuid(CPUID_TOPOLOGY).edx;
	uint32_t id = lapic_id();
	uint64_t x2id = 0;

	check("xapic id matches cpuid", id == initial_xapic_id, "id cpuid", id, initial_xapic_id);
	*lapic_reg(LAPIC_ID) = (id + 1) << 24;
	uint32_t now = lapic_id();
	check("writeable xapic id", now == id || now == id + 1, "id after writing", now, id + 1);
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN | APIC_BASE_EXTD);
	int fault = wrmsr_safe(MSR_X2APIC_ID, id + 1);
	check("non-writeable x2apic id", fault == VEC_GP, "write gave vector", (uint32_t)fault, 0);
	rdmsr_safe(MSR_X2APIC_ID, &x2id);
	check("sane x2apic id", ((uint32_t)x2id & 0xff) == initial_xapic_id, "x2apic id cpuid",
	      (uint32_t)x2id, initial_xapic_id);
	check("x2apic id matches cpuid",
	      initial_xapic_id == (initial_x2apic_id & 0xff) && initial_x2apic_id == x2id,
	      "x2apic id cpuid.0bh", (uint32_t)x2id, initial_x2apic_id);
	reset_apic();
	id = lapic_id();
	check("correct xapic id after reset", id == initial_xapic_id, "id cpuid", id,
	      initial_xapic_id);
}

/* Starts a masked timer: no interrupt, only the count to watch. */
static void timer_start(uint32_t lvt, uint32_t count)
{
	*lapic_reg(LAPIC_TIMER_DIVIDE) = LAPIC_DIVIDE_BY_1;
	*lapic_reg(LAPIC_LVT_TIMER) = lvt | LVT_MASKED;
	*lapic_reg(LAPIC_TIMER_INITIAL) = count;
}

static uint32_t tmcct(void)
{
	return *lapic_reg(LAPIC_TIMER_CURRENT);
}

/* Point 6: the APIC timer's clock is never faster than the TSC. */
static void check_timer_clock(void)
{
	uint64_t start = rdtsc();

	timer_start(0, TIMER_COUNT_CLOCK);
	while (tmcct() && !tsc_passed(start))
		;
	uint32_t ticks = (uint32_t)(rdtsc() - start);
	check("one-shot of 0x10000 takes at least 0x10000 tsc ticks", ticks >= TIMER_COUNT_CLOCK,
	      "tsc ticks, tsc-to-bus ratio", ticks, ticks / TIMER_COUNT_CLOCK);
}

/* Waits until the count falls below half its initial value; returns it. */
static uint32_t wait_below_half(void)
{
	uint64_t start = rdtsc();
	uint32_t c;

	while (((c = tmcct()) == 0 || c >= TIMER_COUNT_MODE / 2) && !tsc_passed(start))
		;
	return c;
}

static void set_mode(uint32_t lvt)
{
	*lapic_reg(LAPIC_LVT_TIMER) = lvt | LVT_MASKED;
}

/* Point 7: one-shot <-> periodic touches neither TMICT nor the count
 * (SDM 11.5.4.1); kvm-unit-tests' test_apic_change_mode. */
static void check_timer_mode_change(void)
{
	timer_start(0, TIMER_COUNT_MODE);
	set_mode(LVT_PERIODIC);
	uint32_t tmict = *lapic_reg(LAPIC_TIMER_INITIAL);
	check("tmict kept by a timer mode change", tmict == TIMER_COUNT_MODE, "tmict", tmict, 0);

	/* One-shot -> periodic: the count goes on, then reloads. */
	set_mode(0);
	*lapic_reg(LAPIC_TIMER_INITIAL) = TIMER_COUNT_MODE;
	uint32_t before = wait_below_half();
	set_mode(LVT_PERIODIC);
	uint32_t after = tmcct();
	check("count goes on after one-shot to periodic", after && after <= before,
	      "count before, after", before, after);
	uint64_t start = rdtsc();
	uint32_t prev = after, c = after;
	while ((c = tmcct()) <= prev && !tsc_passed(start))
		prev = c;
	check("periodic count reloads from tmict at zero", c > TIMER_COUNT_MODE / 2, "count after",
	      c, prev);

	/* Periodic -> one-shot: counts down to 0 and stays there. */
	before = wait_below_half();
	set_mode(0);
	after = tmcct();
	check("count goes on after periodic to one-shot", after && after <= before,
	      "count before, after", before, after);
	start = rdtsc();
	while (tmcct() && !tsc_passed(start))
		;
	for (unsigned i = 0; i < 1000; i++)
		__asm__ volatile("pause");
	c = tmcct();
	check("one-shot count stays at zero", c == 0, "count", c, 0);
	set_mode(LVT_PERIODIC);
	c = tmcct();
	check("expired one-shot stays at zero when made periodic", c == 0, "count", c, 0);
	*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
}

static void pit_start(uint8_t mode, uint16_t divisor)
{
	outb(PIT_CMD, mode);
	outb(PIT_CH0, (uint8_t)divisor);
	outb(PIT_CH0, (uint8_t)(divisor >> 8));
}

/* Point 9: the 8259's INTR through LINT0 as a fixed interrupt. */
static void check_lint0_fixed(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC1_DATA, 4); /* slave on IRQ 2 */
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, 0xff);
	outb(PIC1_DATA, 0xfe); /* IRQ 0 only */
	*lapic_reg(LAPIC_LVT_LINT0) = LINT0_VECTOR;
	pit_start(PIT_RATE_GENERATOR, PIT_DIVISOR);
	uint64_t start = rdtsc();
	__asm__ volatile("sti");
	while (!lint0_hits && !pic_hits && !tsc_passed(start))
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	check("lint0 fixed delivers a pit tick with its vector", lint0_hits && !pic_hits,
	      "lvt vector hits, pic vector hits", lint0_hits, pic_hits);
	pit_start(PIT_ONE_SHOT, 1); /* stops after one count */
	outb(PIC1_DATA, 0xff);
	*lapic_reg(LAPIC_LVT_LINT0) = LVT_MASKED;
}

/* Point 11: in x2APIC mode, registers read back through their MSRs, and
 * the TPR (MSR 0x808) holds back a self-IPI of its class until it is
 * lowered below that class (SDM 11.8.3). Where pgvisor virtualizes x2APIC
 * mode these reads and TPR writes take no exit, and the lowering exits as
 * TPR below threshold or, with virtual-interrupt delivery, not at all
 * (tests/system/test_apic.py counts them). */
static void check_x2apic_tpr(void)
{
	uint32_t xapic_version = mmio_read(LAPIC_BASE + LAPIC_VERSION), version = 0;

	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN | APIC_BASE_EXTD);
	wrmsr(MSR_X2APIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	wrmsr(MSR_X2APIC_TPR, 0x70);
	for (int i = 0; i < X2APIC_READS; i++)
		version |= (uint32_t)rdmsr(MSR_X2APIC_VERSION) ^ (uint32_t)rdmsr(MSR_X2APIC_TPR);
	uint32_t svr = (uint32_t)rdmsr(MSR_X2APIC_SVR);
	check("x2apic registers read back",
	      version == (xapic_version ^ 0x70) &&
		      svr == (LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR),
	      "version^tpr svr", version, svr);
	__asm__ volatile("sti");
	wrmsr(MSR_X2APIC_SELF_IPI, X2APIC_VECTOR);
	__asm__ volatile("nop; nop; nop");
	uint32_t held = x2apic_hits, irr = (uint32_t)rdmsr(MSR_X2APIC_IRR3);
	check("x2apic tpr holds a self ipi of its class", !held && (irr & X2APIC_VECTOR_BIT),
	      "delivered irr", held, irr);
	wrmsr(MSR_X2APIC_TPR, 0x60); /* still class 6: held */
	__asm__ volatile("nop; nop; nop");
	held = x2apic_hits;
	wrmsr(MSR_X2APIC_TPR, 0x50);
	uint64_t start = rdtsc();
	while (!x2apic_hits && !tsc_passed(start))
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	irr = (uint32_t)rdmsr(MSR_X2APIC_IRR3);
	uint32_t isr = (uint32_t)rdmsr(MSR_X2APIC_ISR3);
	uint32_t tpr = (uint32_t)rdmsr(MSR_X2APIC_TPR);
	check("lowering the x2apic tpr delivers it",
	      !held && x2apic_hits == 1 && !(irr & X2APIC_VECTOR_BIT) &&
		      !(isr & X2APIC_VECTOR_BIT) && tpr == 0x50,
	      "delivered irr|isr", x2apic_hits, irr | isr);
	wrmsr(MSR_X2APIC_TPR, 0);
	reset_apic();
	lapic_enable();
}

static uint32_t hpet_read(uint32_t reg)
{
	return mmio_read(HPET_BASE + reg);
}

static void hpet_write(uint32_t reg, uint32_t value)
{
	mmio_write(HPET_BASE + reg, value);
}

/* The counter and the TSC read together: the TSC half-way through the
 * counter's read (an exit under pgvisor). */
static uint32_t hpet_counter_with_tsc(uint64_t *tsc)
{
	uint64_t before = rdtsc();
	uint32_t c = hpet_read(HPET_MAIN_CNT);
	*tsc = before + (rdtsc() - before) / 2;
	return c;
}

/* Timer 2 as a one-shot through I/O APIC input HPET_PIN: one interrupt,
 * at or after its comparator, edge- or level-triggered. */
static void hpet_one_shot(const char *name, bool level)
{
	uint32_t rte_low = HPET_VECTOR | (level ? IOAPIC_RTE_LEVEL : 0);

	mmio_write(IOAPIC_BASE, IOAPIC_REDIR(HPET_PIN) + 1);
	mmio_write(IOAPIC_BASE + IOAPIC_WINDOW, 0); /* APIC ID 0, physical */
	mmio_write(IOAPIC_BASE, IOAPIC_REDIR(HPET_PIN));
	mmio_write(IOAPIC_BASE + IOAPIC_WINDOW, rte_low);
	hpet_hits = 0;
	hpet_write(HPET_T2_CONF,
		   HPET_TN_INT_ENB | (level ? HPET_TN_LEVEL : 0) | HPET_PIN << HPET_TN_ROUTE_SHIFT);
	uint32_t due = hpet_read(HPET_MAIN_CNT) + HPET_ONE_SHOT_TICKS;
	hpet_write(HPET_T2_CMP + 4, 0);
	hpet_write(HPET_T2_CMP, due);
	uint64_t start = rdtsc();
	__asm__ volatile("sti");
	while (!hpet_hits && !tsc_passed(start))
		__asm__ volatile("pause");
	/* Long enough for a second interrupt, were there one. */
	for (uint64_t t = rdtsc(); rdtsc() - t < WAIT_TICKS / 40;)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	check(name,
	      hpet_hits == 1 && (int32_t)(hpet_counter_at_irq - due) >= 0 &&
		      hpet_status_at_irq == (level ? 1u << 2 : 0),
	      "interrupts, counter past the comparator", hpet_hits, hpet_counter_at_irq - due);
	hpet_write(HPET_T2_CONF, 0);
	mmio_write(IOAPIC_BASE, IOAPIC_REDIR(HPET_PIN));
	mmio_write(IOAPIC_BASE + IOAPIC_WINDOW, 1u << 16); /* masked */
}

/* The HPET at 0xfed00000: its capabilities, its counter's rate against
 * the TSC (whose kHz the timing leaf gives), and a comparator's interrupt
 * through the I/O APIC. */
static void check_hpet(void)
{
	uint32_t cap = hpet_read(HPET_GCAP_ID), period_fs = hpet_read(HPET_GCAP_ID + 4);
	check("hpet capabilities",
	      period_fs && period_fs <= HPET_MAX_PERIOD_FS && HPET_NUM_TIM(cap) >= 3 &&
		      (cap & HPET_LEG_RT_CAP),
	      "gcap_id", cap, period_fs);
	hpet_write(HPET_GEN_CONF, HPET_ENABLE_CNF);
	uint64_t t0, t1;
	uint32_t c0 = hpet_counter_with_tsc(&t0), c1;
	uint64_t start = rdtsc();
	while ((c1 = hpet_counter_with_tsc(&t1)) - c0 < HPET_RATE_TICKS && !tsc_passed(start))
		;
	/* Counter picoseconds against TSC picoseconds, within 1%. */
	uint64_t tsc_khz = cpuid(CPUID_TIMING_LEAF).eax;
	uint64_t hpet_ps_khz = (uint64_t)(c1 - c0) * (period_fs / PS_PER_FS_DIV) * tsc_khz;
	uint64_t tsc_ps_khz = (t1 - t0) * PS_PER_MS;
	uint64_t off =
		hpet_ps_khz > tsc_ps_khz ? hpet_ps_khz - tsc_ps_khz : tsc_ps_khz - hpet_ps_khz;
	printf("apictest: hpet counted %u ticks of %u fs in %u tsc ticks at %u kHz\n", c1 - c0,
	       period_fs, (uint32_t)(t1 - t0), (uint32_t)tsc_khz);
	check("hpet counter advances at its period", tsc_khz && off * 100 <= tsc_ps_khz,
	      "counter ticks, tsc ticks", c1 - c0, (uint32_t)(t1 - t0));
	hpet_one_shot("hpet one-shot edge interrupt through the ioapic", false);
	hpet_one_shot("hpet one-shot level interrupt through the ioapic", true);
	hpet_write(HPET_GEN_CONF, 0);
}

/* The AP: its IDs, then HLT with interrupts on and nothing pending. */
static void ap_main(uint32_t number)
{
	(void)number;
	idt_load();
	lapic_enable();
	ap_initial_id = cpuid(1).ebx >> 24;
	ap_x2apic_cpuid = cpuid(CPUID_TOPOLOGY).edx;
	ap_apic_id = lapic_id();
	__atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		__asm__ volatile("sti; hlt; cli");
		ap_halts++;
	}
}

/* Point 10 inside the VM: a vCPU in HLT with nothing pending stays there
 * until an IPI comes. */
static void check_ap_halt(void)
{
	ap_entry = ap_main;
	memcpy((void *)AP_TRAMP, ap_tramp_start, (uint32_t)(ap_tramp_end - ap_tramp_start));
	lapic_send_ipi(0, ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF);
	lapic_send_ipi(0, ICR_STARTUP | ICR_ASSERT | ICR_ALL_BUT_SELF | (AP_TRAMP >> 12));
	uint64_t start = rdtsc();
	while (!ap_ready && !tsc_passed(start))
		__asm__ volatile("pause");
	check("ap started", ap_ready, "ready", ap_ready, 0);
	check("ap ids match cpuid", ap_apic_id == 1 && ap_initial_id == 1 && ap_x2apic_cpuid == 1,
	      "apic id cpuid.1", ap_apic_id, ap_initial_id);
	start = rdtsc();
	while (rdtsc() - start < WAIT_TICKS / 20)
		__asm__ volatile("pause");
	lapic_send_ipi(1, ICR_FIXED | ICR_ASSERT | IPI_VECTOR);
	start = rdtsc();
	while (!ipi_hits && !tsc_passed(start))
		__asm__ volatile("pause");
	check("halted ap woken by an ipi", ipi_hits == 1 && ap_halts == 1, "ipis, wake-ups",
	      ipi_hits, ap_halts);
}

/* Point 5: the xAPIC page follows IA32_APIC_BASE (SDM 11.4.5). */
static void check_relocation(void)
{
	wrmsr(MSR_APIC_BASE, MOVED_BASE | APIC_BASE_BSP | APIC_BASE_EN);
	uint32_t version = mmio_read(MOVED_BASE + LAPIC_VERSION);
	check("relocated apic answers at its new base", version != ALL_ONES && (version & 0xff),
	      "version", version, 0);
	mmio_write(MOVED_BASE + LAPIC_TPR, 0x20);
	uint32_t tpr = mmio_read(MOVED_BASE + LAPIC_TPR);
	uint32_t old = mmio_read(LAPIC_BASE + LAPIC_TPR);
	check("relocated apic registers, old page gone", tpr == 0x20 && old == ALL_ONES,
	      "tpr, old page", tpr, old);
	mmio_write(MOVED_BASE + LAPIC_TPR, 0);
	wrmsr(MSR_APIC_BASE, LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN);
	tpr = mmio_read(LAPIC_BASE + LAPIC_TPR);
	check("apic back at its default base", tpr == 0, "tpr", tpr, 0);
}

int main(uint32_t magic, uint32_t info)
{
	(void)magic;
	(void)info;
	idt_set_gate(LINT0_VECTOR, lint0_stub);
	idt_set_gate(PIC_VECTOR_BASE, pic_stub);
	idt_set_gate(IPI_VECTOR, ipi_stub);
	idt_set_gate(X2APIC_VECTOR, x2apic_stub);
	idt_set_gate(HPET_VECTOR, hpet_stub);
	check_hw_disabled();
	check_sw_disabled();
	check_x2apic_page();
	check_apic_id();
	lapic_enable();
	check_timer_clock();
	check_timer_mode_change();
	check_lint0_fixed();
	check_x2apic_tpr();
	check_hpet();
	check_ap_halt();
	check_relocation();
	printf("apictest: %d checks failed\n", failures);
	/* Point 10: every vCPU halted with interrupts enabled and nothing
	 * pending. The VM stays until the operator ends it. */
	printf("apictest: halting with interrupts enabled\n");
	console_flush();
	for (;;)
		__asm__ volatile("sti; hlt");
}
