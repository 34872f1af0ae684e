/* Unit tests for vmm/dev/hpet.c: the registers as the IA-PC HPET
 * specification 1.0a has them, read and written at chosen guest times from
 * a fake clock, and the interrupt lines its timers drive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/hpet.h"

#define BASE HPET_MMIO_BASE
#define GCAP_ID 0x000
#define GEN_CONF 0x010
#define GINTR_STA 0x020
#define MAIN_CNT 0x0f0
#define TN_CONF(n) (0x100 + 0x20 * (n))
#define TN_CMP(n) (0x108 + 0x20 * (n))
#define TN_FSB(n) (0x110 + 0x20 * (n))

#define ENABLE_CNF 0x1u
#define LEG_RT_CNF 0x2u
#define INT_LEVEL 0x2u
#define INT_ENB 0x4u
#define PERIODIC 0x8u
#define PER_INT_CAP 0x10u
#define SIZE_CAP 0x20u
#define VAL_SET 0x40u
#define MODE_32 0x100u
#define ROUTE(pin) ((uint32_t)(pin) << 9)

#define PIN 11	    /* an input the tests allow */
#define OTHER_PIN 5 /* another */
#define BAD_PIN 2   /* one they do not */
#define ROUTE_CAP ((1u << PIN) | (1u << OTHER_PIN))
#define LINES 24

static struct hpet hpet;
static uint64_t fake_now;
/* Per line of each kind: its level and the rising edges seen. */
struct lines {
	bool level[LINES];
	unsigned edges[LINES];
};
static struct lines legacy, ioapic;

static uint64_t fake_clock_now(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct vclock fake_clock = { fake_clock_now, NULL };

static void line_set(void *ctx, unsigned line, bool level)
{
	struct lines *l = ctx;

	assert_true(line < LINES);
	if (level && !l->level[line])
		l->edges[line]++;
	l->level[line] = level;
}

static int setup(void **state)
{
	(void)state;
	fake_now = 1000; /* not 0: times are relative to when it starts */
	memset(&legacy, 0, sizeof(legacy));
	memset(&ioapic, 0, sizeof(ioapic));
	hpet_init(&hpet, &fake_clock, (struct virq){ .set = line_set, .ctx = &legacy },
		  (struct virq){ .set = line_set, .ctx = &ioapic }, ROUTE_CAP);
	return 0;
}

static uint32_t rd32(unsigned off)
{
	return (uint32_t)hpet_mmio_read(&hpet, BASE + off, 4);
}

static uint64_t rd64(unsigned off)
{
	return hpet_mmio_read(&hpet, BASE + off, 8);
}

static void wr32(unsigned off, uint32_t v)
{
	hpet_mmio_write(&hpet, BASE + off, 4, v);
}

static void wr64(unsigned off, uint64_t v)
{
	hpet_mmio_write(&hpet, BASE + off, 8, v);
}

/* Runs the vCPU loop's timer polling up to `until`: every event at its
 * time. */
static void run_until(uint64_t until)
{
	struct vtimer t = hpet_timer(&hpet);

	for (;;) {
		uint64_t next = t.next_event(t.dev);
		if (next == VTIME_NEVER || next > until)
			break;
		assert_true(next >= fake_now);
		fake_now = next;
		t.update(t.dev, next);
	}
	fake_now = until;
}

static uint64_t next_event(void)
{
	struct vtimer t = hpet_timer(&hpet);

	return t.next_event(t.dev);
}

static void test_capabilities(void **state)
{
	(void)state;
	/* 10 ns a tick, Intel, legacy-capable, 64-bit, 3 timers, rev 1. */
	assert_int_equal(rd64(GCAP_ID), 0x009896808086a201ull);
	assert_int_equal(rd32(GCAP_ID), 0x8086a201u);
	assert_int_equal(rd32(GCAP_ID + 4), 10000000u);
	assert_int_equal(HPET_BLOCK_ID, 0x8086a201u);
	/* Timer 0 periodic-capable, all 64-bit, the route capability on top. */
	assert_int_equal(rd64(TN_CONF(0)), (uint64_t)ROUTE_CAP << 32 | PER_INT_CAP | SIZE_CAP);
	assert_int_equal(rd64(TN_CONF(1)), (uint64_t)ROUTE_CAP << 32 | SIZE_CAP);
	assert_int_equal(rd32(TN_CONF(2) + 4), ROUTE_CAP);
	assert_int_equal(rd64(TN_CMP(2)), ~0ull);
	/* Reset: halted, no legacy replacement. */
	assert_int_equal(rd64(GEN_CONF), 0);
	assert_false(hpet_legacy_replacement(&hpet));
	assert_int_equal(next_event(), VTIME_NEVER);
}

static void test_counter_rate_and_halves(void **state)
{
	(void)state;
	fake_now += 5000;
	assert_int_equal(rd64(MAIN_CNT), 0); /* halted */
	wr32(GEN_CONF, ENABLE_CNF);
	fake_now += 1000000; /* 1 ms: 100,000 ticks of 10 ns */
	assert_int_equal(rd64(MAIN_CNT), 100000);
	fake_now += 9;
	assert_int_equal(rd32(MAIN_CNT), 100000);
	fake_now += 1;
	assert_int_equal(rd32(MAIN_CNT), 100001);
	/* Halted, it holds; started again, it goes on from there. */
	wr32(GEN_CONF, 0);
	fake_now += 1000000;
	assert_int_equal(rd64(MAIN_CNT), 100001);
	/* Written in halves while halted: each half lands alone. */
	wr32(MAIN_CNT, 0xfffffff0u);
	wr32(MAIN_CNT + 4, 1);
	assert_int_equal(rd64(MAIN_CNT), 0x1fffffff0ull);
	wr32(GEN_CONF, ENABLE_CNF);
	fake_now += 200; /* 20 ticks: the low half carries into the high */
	assert_int_equal(rd32(MAIN_CNT), 4);
	assert_int_equal(rd32(MAIN_CNT + 4), 2);
	wr64(MAIN_CNT, 7);
	assert_int_equal(rd64(MAIN_CNT), 7);
	/* Toggling legacy replacement leaves the running counter alone. */
	fake_now += 15;
	wr32(GEN_CONF, ENABLE_CNF | LEG_RT_CNF);
	fake_now += 5;
	assert_int_equal(rd64(MAIN_CNT), 9);
}

static void test_one_shot_edge(void **state)
{
	(void)state;
	wr32(TN_CONF(2), INT_ENB | ROUTE(PIN));
	assert_int_equal(rd32(TN_CONF(2)) & ~(PER_INT_CAP | SIZE_CAP), INT_ENB | ROUTE(PIN));
	/* A 64-bit comparator takes its halves one at a time. */
	wr32(TN_CMP(2) + 4, 1);
	wr32(TN_CMP(2), 5);
	assert_int_equal(rd64(TN_CMP(2)), 0x100000005ull);
	assert_int_equal(rd32(TN_CMP(2) + 4), 1);
	wr64(TN_CMP(2), 1000);
	assert_int_equal(next_event(), VTIME_NEVER); /* halted */
	uint64_t start = fake_now;
	wr32(GEN_CONF, ENABLE_CNF);
	assert_int_equal(next_event(), start + 1000 * HPET_PERIOD_NS);
	run_until(start + 9999);
	assert_int_equal(ioapic.edges[PIN], 0);
	run_until(start + 10000);
	assert_int_equal(ioapic.edges[PIN], 1);
	assert_false(ioapic.level[PIN]);
	/* Once: a 64-bit comparator matches again only after the counter wraps. */
	assert_int_equal(next_event(), VTIME_NEVER);
	run_until(start + 1000000000);
	assert_int_equal(ioapic.edges[PIN], 1);
	assert_int_equal(rd64(TN_CMP(2)), 1000);
	/* Edge-triggered timers leave GINTR_STA alone. */
	assert_int_equal(rd64(GINTR_STA), 0);
	/* A comparator set behind the counter does not fire. */
	wr64(TN_CMP(2), 5);
	run_until(fake_now + 1000000);
	assert_int_equal(ioapic.edges[PIN], 1);
	for (unsigned i = 0; i < LINES; i++)
		assert_int_equal(legacy.edges[i] + (i == PIN ? 0 : ioapic.edges[i]), 0);
}

static void test_one_shot_32bit_wraps(void **state)
{
	(void)state;
	wr64(MAIN_CNT, 0xfffffff0ull);
	wr32(TN_CONF(1), INT_ENB | MODE_32 | ROUTE(PIN));
	wr64(TN_CMP(1), 0xabcd000000000005ull); /* the upper half is dropped */
	assert_int_equal(rd64(TN_CMP(1)), 5);
	uint64_t start = fake_now;
	wr32(GEN_CONF, ENABLE_CNF);
	/* 0xfffffff0 -> 0x1_00000005: 0x15 ticks. */
	assert_int_equal(next_event(), start + 0x15 * HPET_PERIOD_NS);
	run_until(start + 0x15 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[PIN], 1);
	/* Again when the low half comes round. */
	assert_int_equal(next_event(), start + (0x15 + (1ull << 32)) * HPET_PERIOD_NS);
}

static void test_periodic_set_accumulator(void **state)
{
	(void)state;
	uint64_t start = fake_now;
	/* Linux's sequence (a 32-bit timer, 32-bit writes): VAL_SET, the
	 * first match, then the period. */
	wr32(TN_CONF(0), INT_ENB | PERIODIC | VAL_SET | MODE_32 | ROUTE(PIN));
	assert_true(rd32(TN_CONF(0)) & VAL_SET);
	wr32(TN_CMP(0), 1000);
	assert_false(rd32(TN_CONF(0)) & VAL_SET); /* cleared by the write */
	wr32(TN_CMP(0), 500);
	assert_int_equal(rd64(TN_CMP(0)), 1000); /* the period did not move it */
	wr32(GEN_CONF, ENABLE_CNF);
	run_until(start + 1000 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[PIN], 1);
	assert_int_equal(rd64(TN_CMP(0)), 1500); /* the comparator moved on */
	run_until(start + 2000 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[PIN], 3);
	assert_int_equal(rd64(TN_CMP(0)), 2500);
	/* Matches missed while nobody looked coalesce into one interrupt; the
	 * comparator moves past the counter by whole periods. */
	fake_now = start + 3750 * HPET_PERIOD_NS;
	struct vtimer t = hpet_timer(&hpet);
	t.update(t.dev, fake_now);
	assert_int_equal(ioapic.edges[PIN], 4);
	assert_int_equal(rd64(TN_CMP(0)), 4000);
	assert_int_equal(next_event(), start + 4000 * HPET_PERIOD_NS);
	/* Without VAL_SET a write changes only the period. */
	wr32(TN_CMP(0), 100);
	assert_int_equal(rd64(TN_CMP(0)), 4000);
	run_until(start + 4100 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[PIN], 6);
	assert_int_equal(rd64(TN_CMP(0)), 4200);
}

static void test_only_timer0_periodic(void **state)
{
	(void)state;
	wr32(TN_CONF(1), INT_ENB | PERIODIC | ROUTE(PIN));
	assert_false(rd32(TN_CONF(1)) & PERIODIC);
	wr64(TN_CMP(1), 100);
	wr64(TN_CMP(1), 50); /* a one-shot's comparator, not a period */
	assert_int_equal(rd64(TN_CMP(1)), 50);
	uint64_t start = fake_now;
	wr32(GEN_CONF, ENABLE_CNF);
	run_until(start + 1000 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[PIN], 1);
}

static void test_level_and_status(void **state)
{
	(void)state;
	uint64_t start = fake_now;
	wr32(TN_CONF(2), INT_ENB | INT_LEVEL | ROUTE(PIN));
	wr64(TN_CMP(2), 100);
	wr32(GEN_CONF, ENABLE_CNF);
	run_until(start + 100 * HPET_PERIOD_NS);
	assert_true(ioapic.level[PIN]);
	assert_int_equal(rd64(GINTR_STA), 1u << 2);
	/* Writing 0 changes nothing; writing 1 clears and releases the line. */
	wr32(GINTR_STA, 0);
	assert_true(ioapic.level[PIN]);
	wr32(GINTR_STA + 4, 0xffffffffu); /* the upper half: no status there */
	assert_true(ioapic.level[PIN]);
	wr32(GINTR_STA, 1u << 2);
	assert_false(ioapic.level[PIN]);
	assert_int_equal(rd64(GINTR_STA), 0);
	/* With its interrupt disabled a level timer still sets its status
	 * bit; enabling the interrupt then asserts the line. */
	wr32(TN_CONF(2), INT_LEVEL | ROUTE(PIN));
	wr64(TN_CMP(2), 300);
	fake_now = start + 400 * HPET_PERIOD_NS;
	assert_int_equal(rd32(GINTR_STA), 1u << 2);
	assert_false(ioapic.level[PIN]);
	wr32(TN_CONF(2), INT_ENB | INT_LEVEL | ROUTE(PIN));
	assert_true(ioapic.level[PIN]);
	/* Halting the HPET releases it too (and keeps the status). */
	wr32(GEN_CONF, 0);
	assert_false(ioapic.level[PIN]);
	assert_int_equal(rd32(GINTR_STA), 1u << 2);
	/* Re-routed while asserted: the old line drops, the new one rises. */
	wr32(GEN_CONF, ENABLE_CNF);
	assert_true(ioapic.level[PIN]);
	wr32(TN_CONF(2), INT_ENB | INT_LEVEL | ROUTE(OTHER_PIN));
	assert_false(ioapic.level[PIN]);
	assert_true(ioapic.level[OTHER_PIN]);
}

static void test_legacy_replacement(void **state)
{
	(void)state;
	uint64_t start = fake_now;
	wr32(TN_CONF(0), INT_ENB | PERIODIC | VAL_SET | MODE_32 | ROUTE(PIN));
	wr32(TN_CMP(0), 100);
	wr32(TN_CMP(0), 100);
	wr32(TN_CONF(1), INT_ENB | MODE_32 | ROUTE(PIN));
	wr32(TN_CMP(1), 150);
	wr32(GEN_CONF, ENABLE_CNF | LEG_RT_CNF);
	assert_true(hpet_legacy_replacement(&hpet));
	run_until(start + 250 * HPET_PERIOD_NS);
	/* Timer 0 on IRQ 0 (twice), timer 1 on IRQ 8; nothing on the route. */
	assert_int_equal(legacy.edges[HPET_LEGACY_IRQ_TIMER0], 2);
	assert_int_equal(legacy.edges[HPET_LEGACY_IRQ_TIMER1], 1);
	assert_int_equal(ioapic.edges[PIN], 0);
	/* Legacy replacement off: timer 0 goes back to its route. */
	wr32(GEN_CONF, ENABLE_CNF);
	assert_false(hpet_legacy_replacement(&hpet));
	run_until(start + 300 * HPET_PERIOD_NS);
	assert_int_equal(legacy.edges[HPET_LEGACY_IRQ_TIMER0], 2);
	assert_int_equal(ioapic.edges[PIN], 1);
	/* Timer 2 keeps its route either way. */
	wr32(TN_CONF(2), INT_ENB | ROUTE(OTHER_PIN));
	wr64(TN_CMP(2), 350);
	wr32(GEN_CONF, ENABLE_CNF | LEG_RT_CNF);
	run_until(start + 350 * HPET_PERIOD_NS);
	assert_int_equal(ioapic.edges[OTHER_PIN], 1);
}

static void test_masked_and_disabled(void **state)
{
	(void)state;
	uint64_t start = fake_now;
	/* Interrupt disabled (edge): the timer runs, nothing is raised and
	 * no event is asked for. */
	wr32(TN_CONF(0), PERIODIC | VAL_SET | ROUTE(PIN));
	wr64(TN_CMP(0), 100);
	wr64(TN_CMP(0), 100);
	wr32(GEN_CONF, ENABLE_CNF);
	assert_int_equal(next_event(), VTIME_NEVER);
	fake_now = start + 350 * HPET_PERIOD_NS;
	assert_int_equal(rd64(TN_CMP(0)), 400); /* it kept counting periods */
	assert_int_equal(ioapic.edges[PIN], 0);
	/* ENABLE_CNF clear: no interrupts even with the timer's enabled. */
	wr32(GEN_CONF, 0);
	wr32(TN_CONF(2), INT_ENB | ROUTE(PIN));
	wr64(TN_CMP(2), 0);
	fake_now += 1000000;
	assert_int_equal(next_event(), VTIME_NEVER);
	assert_int_equal(ioapic.edges[PIN], 0);
	/* A route the timer cannot take is refused: the old one reads back,
	 * and the reset route (input 0, not allowed) raises nothing. */
	wr32(TN_CONF(1), INT_ENB | ROUTE(BAD_PIN));
	assert_int_equal(rd32(TN_CONF(1)) & ROUTE(0x1f), ROUTE(0));
	wr64(MAIN_CNT, 0);
	wr64(TN_CMP(1), 10);
	wr32(GEN_CONF, ENABLE_CNF);
	run_until(fake_now + 1000 * HPET_PERIOD_NS);
	for (unsigned i = 0; i < LINES; i++)
		assert_int_equal(legacy.edges[i], 0);
	assert_int_equal(ioapic.edges[BAD_PIN] + ioapic.edges[0], 0);
	assert_int_equal(ioapic.edges[PIN], 1); /* timer 2, enabled at last */
}

static void test_bad_offsets_and_widths(void **state)
{
	(void)state;
	/* Only aligned 32- and 64-bit accesses reach a register. */
	assert_int_equal(hpet_mmio_read(&hpet, BASE + GCAP_ID, 1), 0);
	assert_int_equal(hpet_mmio_read(&hpet, BASE + GCAP_ID, 2), 0);
	assert_int_equal(hpet_mmio_read(&hpet, BASE + GCAP_ID + 2, 4), 0);
	assert_int_equal(hpet_mmio_read(&hpet, BASE + GCAP_ID + 4, 8), 0);
	hpet_mmio_write(&hpet, BASE + GEN_CONF, 1, ENABLE_CNF);
	hpet_mmio_write(&hpet, BASE + GEN_CONF, 2, ENABLE_CNF);
	hpet_mmio_write(&hpet, BASE + GEN_CONF + 4, 8, ENABLE_CNF);
	assert_int_equal(rd64(GEN_CONF), 0);
	/* Reserved offsets, timers past the last, FSB routes: 0, writes go
	 * nowhere. */
	static const unsigned holes[] = { 0x008, 0x018,	     0x028,	0x0e8, 0x0f8,
					  0x118, TN_CONF(3), TN_CMP(3), 0x3f8, TN_FSB(0) };
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		wr64(holes[i], ~0ull);
		assert_int_equal(rd64(holes[i]), 0);
	}
	/* Read-only registers and bits ignore writes. */
	wr64(GCAP_ID, 0);
	assert_int_equal(rd64(GCAP_ID), 0x009896808086a201ull);
	wr64(GEN_CONF, ~0ull & ~(uint64_t)ENABLE_CNF);
	assert_int_equal(rd64(GEN_CONF), LEG_RT_CNF);
	wr64(TN_CONF(0), 0);
	assert_int_equal(rd64(TN_CONF(0)), (uint64_t)ROUTE_CAP << 32 | PER_INT_CAP | SIZE_CAP);
	wr64(TN_CONF(2), ~0ull);
	assert_int_equal(rd64(TN_CONF(2)), (uint64_t)ROUTE_CAP << 32 | SIZE_CAP | INT_LEVEL |
						   INT_ENB | VAL_SET | MODE_32);
	/* Nothing ran away: no interrupt was raised. */
	for (unsigned i = 0; i < LINES; i++)
		assert_int_equal(legacy.edges[i] + ioapic.edges[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_capabilities, setup),
		cmocka_unit_test_setup(test_counter_rate_and_halves, setup),
		cmocka_unit_test_setup(test_one_shot_edge, setup),
		cmocka_unit_test_setup(test_one_shot_32bit_wraps, setup),
		cmocka_unit_test_setup(test_periodic_set_accumulator, setup),
		cmocka_unit_test_setup(test_only_timer0_periodic, setup),
		cmocka_unit_test_setup(test_level_and_status, setup),
		cmocka_unit_test_setup(test_legacy_replacement, setup),
		cmocka_unit_test_setup(test_masked_and_disabled, setup),
		cmocka_unit_test_setup(test_bad_offsets_and_widths, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
