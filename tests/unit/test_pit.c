/* Unit tests for vmm/dev/pit.c: the 8254's modes read at chosen guest
 * times from a fake clock, the IRQ 0 edges its vtimer delivers, and the
 * channel 2 sequences Linux's TSC calibration runs through port 0x61. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/pit.h"

#define CH0 0x40
#define CH2 0x42
#define MODE 0x43
#define PORT_B 0x61
#define NS_PER_S 1000000000ull

/* Control words: SC | RW | mode | BCD. */
#define CW_CH0_LOHI_MODE0 0x30
#define CW_CH0_LOHI_MODE2 0x34
#define CW_CH0_LOHI_MODE3 0x36
#define CW_CH0_LOHI_MODE4 0x38
#define CW_CH0_LOHI_MODE0_BCD 0x31
#define CW_CH0_LSB_MODE2 0x14
#define CW_CH0_MSB_MODE2 0x24
#define CW_CH2_LOHI_MODE0 0xb0
#define CW_CH2_LOHI_MODE1 0xb2
#define CW_CH2_LOHI_MODE2 0xb4
#define CW_LATCH_CH0 0x00
#define CW_LATCH_CH2 0x80
#define READ_BACK 0xc0
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
#define RB_CH0 0x02
#define RB_CH2 0x08
#define STATUS_OUT 0x80
#define STATUS_NULL 0x40
#define PB_GATE2 0x01
#define PB_SPEAKER 0x02
#define PB_REFRESH 0x10
#define PB_OUT2 0x20

static struct io_bus bus;
static struct pit pit;
static uint64_t fake_now;
static unsigned edges;
static bool irq_level;
static unsigned other_lines;
static bool in_irr;	 /* the last edge waits in the fake PIC's IRR */
static bool irq0_masked; /* no CPU can receive IRQ 0 */

static uint64_t fake_clock_now(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct vclock fake_clock = { fake_clock_now, NULL };

static void irq_set(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	if (line != 0) {
		other_lines++;
		return;
	}
	if (level && !irq_level) {
		edges++;
		in_irr = true;
	}
	irq_level = level;
}

static bool irq_waiting(void *ctx, unsigned line)
{
	(void)ctx;
	return line == 0 && in_irr;
}

static bool irq_masked(void *ctx, unsigned line)
{
	(void)ctx;
	return line == 0 && irq0_masked;
}

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	fake_now = 0;
	edges = 0;
	irq_level = false;
	other_lines = 0;
	in_irr = false;
	irq0_masked = false;
	pit_init(&pit, &fake_clock,
		 (struct virq){ .set = irq_set, .waiting = irq_waiting, .masked = irq_masked });
	return pit_attach(&pit, &bus);
}

static void out8(uint16_t port, uint8_t v)
{
	io_bus_write(&bus, port, 1, v);
}

static uint8_t in8(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

/* The first nanosecond at which `clocks` clocks have passed since t0. */
static uint64_t at_clock(uint64_t t0, uint64_t clocks)
{
	return t0 + (clocks * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static void program(uint8_t cw, uint16_t port, uint16_t count)
{
	out8(MODE, cw);
	out8(port, (uint8_t)count);
	out8(port, (uint8_t)(count >> 8));
}

/* Linux's way of reading a count: latch, then LSB and MSB. */
static uint16_t latched(uint8_t latch_cw, uint16_t port)
{
	out8(MODE, latch_cw);
	uint8_t lo = in8(port);
	return (uint16_t)(lo | in8(port) << 8);
}

static uint8_t status_of(unsigned rb_channel, uint16_t port)
{
	out8(MODE, READ_BACK | RB_NO_COUNT | rb_channel);
	return in8(port);
}

/* Runs the vCPU loop's timer polling up to `until`: every event at its
 * time, taken by the guest at once. Returns the number of IRQ 0 edges. */
static unsigned run_timer(uint64_t until)
{
	struct vtimer t = pit_timer(&pit);
	unsigned before = edges;

	for (;;) {
		uint64_t next = t.next_event(t.dev);
		if (next == VTIME_NEVER || next > until)
			break;
		assert_true(next >= fake_now);
		fake_now = next;
		t.update(t.dev, next);
		in_irr = false; /* the guest takes each interrupt at once */
	}
	fake_now = until;
	return edges - before;
}

static void periodic_second(uint8_t cw, uint16_t divisor, unsigned expect)
{
	setup(NULL);
	fake_now = 5000; /* not at a tick boundary */
	program(cw, CH0, divisor);
	assert_int_equal(run_timer(fake_now + NS_PER_S), expect);
	assert_int_equal(other_lines, 0);
}

static void test_periodic_irq0_count(void **state)
{
	(void)state;
	/* Edges end each period: floor(1193182 / divisor) in a second. */
	periodic_second(CW_CH0_LOHI_MODE2, 11932, 99); /* Linux HZ=100 LATCH */
	periodic_second(CW_CH0_LOHI_MODE2, 1193, 1000);
	periodic_second(CW_CH0_LOHI_MODE2, 0, 18); /* 65536: the BIOS's 18.2 Hz */
	periodic_second(CW_CH0_LOHI_MODE3, 11932, 99);
	periodic_second(CW_CH0_LOHI_MODE3, 4773, 249);
	periodic_second(CW_CH0_LOHI_MODE2, 2, 596591);
}

static void test_periodic_event_times(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	fake_now = 1000;
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	assert_int_equal(t.next_event(t.dev), at_clock(1000, 1193));
	/* Early update: nothing. */
	t.update(t.dev, at_clock(1000, 1193) - 1);
	assert_int_equal(edges, 0);
	t.update(t.dev, at_clock(1000, 1193));
	assert_int_equal(edges, 1);
	assert_int_equal(t.next_event(t.dev), at_clock(1000, 2 * 1193));
	in_irr = false; /* taken */
	/* A late poll with no_missed_ticks_pending: the missed edges
	 * coalesce into one pulse. */
	pit_set_timer_mode(&pit, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	t.update(t.dev, at_clock(1000, 10 * 1193 + 5));
	assert_int_equal(edges, 2);
	assert_int_equal(t.next_event(t.dev), at_clock(1000, 11 * 1193));
	/* A new control word stops the counter: no events. */
	out8(MODE, CW_CH0_LOHI_MODE2);
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
}

static void test_mode2_counts_and_out(void **state)
{
	(void)state;
	const uint64_t t0 = 777777;

	fake_now = t0;
	program(CW_CH0_LOHI_MODE2, CH0, 1000);
	static const struct {
		uint64_t clock;
		uint16_t count;
		bool out;
	} want[] = {
		{ 0, 1000, true },  { 1, 999, true },	   { 998, 2, true },
		{ 999, 1, false },  { 1000, 1000, true },  { 1500, 500, true },
		{ 1999, 1, false }, { 123456, 544, true },
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		fake_now = at_clock(t0, want[i].clock);
		assert_int_equal(latched(CW_LATCH_CH0, CH0), want[i].count);
		assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, want[i].out ? STATUS_OUT : 0);
	}
}

static void test_mode3_square_wave(void **state)
{
	(void)state;
	/* Even count 10: down by two, OUT high 5 clocks then low 5. */
	static const uint16_t even[] = { 10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10 };
	program(CW_CH0_LOHI_MODE3, CH0, 10);
	for (unsigned k = 0; k < 11; k++) {
		fake_now = at_clock(0, k);
		assert_int_equal(latched(CW_LATCH_CH0, CH0), even[k]);
		assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT,
				 (k % 10) < 5 ? STATUS_OUT : 0);
	}
	/* Odd count 5: high (5, 4, 2) for 3 clocks, low (5, 2) for 2. */
	static const uint16_t odd[] = { 5, 4, 2, 5, 2, 5 };
	fake_now = 1000000;
	program(CW_CH0_LOHI_MODE3, CH0, 5);
	for (unsigned k = 0; k < 6; k++) {
		fake_now = at_clock(1000000, k);
		assert_int_equal(latched(CW_LATCH_CH0, CH0), odd[k]);
		assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, (k % 5) < 3 ? STATUS_OUT : 0);
	}
}

static void test_mode0_oneshot(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	fake_now = 100;
	program(CW_CH0_LOHI_MODE0, CH0, 100);
	assert_int_equal(status_of(RB_CH0, CH0), 0x30); /* OUT low, loaded */
	assert_int_equal(t.next_event(t.dev), at_clock(100, 100));
	assert_int_equal(run_timer(at_clock(100, 99)), 0);
	assert_int_equal(run_timer(at_clock(100, 100)), 1);
	assert_int_equal(status_of(RB_CH0, CH0), STATUS_OUT | 0x30);
	/* Once only; the counter wraps on and OUT stays high. */
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
	assert_int_equal(run_timer(fake_now + NS_PER_S), 0);
	fake_now = at_clock(100, 150);
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 65486);
	assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, STATUS_OUT);
	/* Linux's set_next_event: a new count alone restarts the one-shot. */
	fake_now = 5 * NS_PER_S;
	out8(CH0, 50);
	assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, 0); /* first byte: OUT low */
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
	out8(CH0, 0);
	assert_int_equal(t.next_event(t.dev), at_clock(5 * NS_PER_S, 50));
	assert_int_equal(run_timer(5 * NS_PER_S + NS_PER_S), 1);
}

static void test_mode4_strobe(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	program(CW_CH0_LOHI_MODE4, CH0, 50);
	fake_now = at_clock(0, 49);
	assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, STATUS_OUT);
	fake_now = at_clock(0, 50);
	assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, 0); /* the strobe */
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 0);
	fake_now = at_clock(0, 51);
	assert_int_equal(status_of(RB_CH0, CH0) & STATUS_OUT, STATUS_OUT);
	/* OUT rises at the end of the strobe: one IRQ 0 edge. */
	fake_now = 0;
	assert_int_equal(t.next_event(t.dev), at_clock(0, 51));
	assert_int_equal(run_timer(NS_PER_S), 1);
}

static void test_lsb_msb_access(void **state)
{
	(void)state;
	/* LSB only: the MSB is zero. */
	out8(MODE, CW_CH0_LSB_MODE2);
	out8(CH0, 200);
	fake_now = at_clock(0, 50);
	out8(MODE, CW_LATCH_CH0);
	assert_int_equal(in8(CH0), 150);
	fake_now = at_clock(0, 60);
	assert_int_equal(in8(CH0), 140); /* unlatched: the LSB every time */
	/* MSB only: the LSB is zero; 0x0200 = 512 clocks. */
	fake_now = 0;
	out8(MODE, CW_CH0_MSB_MODE2);
	out8(CH0, 0x02);
	fake_now = at_clock(0, 256);
	out8(MODE, CW_LATCH_CH0);
	assert_int_equal(in8(CH0), 0x01);
	assert_int_equal(in8(CH0), 0x01);
	struct vtimer t = pit_timer(&pit);
	fake_now = 0;
	assert_int_equal(t.next_event(t.dev), at_clock(0, 512));
}

static void test_latch_holds_and_second_latch_ignored(void **state)
{
	(void)state;
	program(CW_CH0_LOHI_MODE2, CH0, 0); /* 65536 */
	fake_now = at_clock(0, 1000);
	out8(MODE, CW_LATCH_CH0);
	fake_now = at_clock(0, 2000);
	out8(MODE, CW_LATCH_CH0); /* ignored: the first is not read yet */
	assert_int_equal(in8(CH0), (65536 - 1000) & 0xff);
	fake_now = at_clock(0, 3000);
	assert_int_equal(in8(CH0), (65536 - 1000) >> 8);
	/* Read out, the next latch takes the count of now. */
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 65536 - 3000);
	/* Unlatched LSB/MSB reads follow the count as it runs. */
	fake_now = at_clock(0, 4096);
	assert_int_equal(in8(CH0), 0x00);
	assert_int_equal(in8(CH0), 0xf0);
}

static void test_read_back(void **state)
{
	(void)state;
	/* After the control word: null count, OUT high in mode 2. */
	out8(MODE, CW_CH0_LOHI_MODE2);
	assert_int_equal(status_of(RB_CH0, CH0), STATUS_OUT | STATUS_NULL | 0x34);
	out8(CH0, 0x00);
	assert_int_equal(status_of(RB_CH0, CH0), STATUS_OUT | STATUS_NULL | 0x34);
	out8(CH0, 0x10);
	assert_int_equal(status_of(RB_CH0, CH0), STATUS_OUT | 0x34);
	program(CW_CH2_LOHI_MODE0, CH2, 0x1234);
	fake_now = at_clock(0, 0x34);
	/* Status and count of two counters at once: status first. */
	out8(MODE, READ_BACK | RB_CH0 | RB_CH2);
	fake_now = at_clock(0, 0x1000); /* the latches hold */
	assert_int_equal(in8(CH0), STATUS_OUT | 0x34);
	assert_int_equal(in8(CH0), (0x1000 - 0x34) & 0xff);
	assert_int_equal(in8(CH0), (0x1000 - 0x34) >> 8);
	assert_int_equal(in8(CH2), 0x30); /* GATE 2 is low: OUT low, loaded */
	assert_int_equal(in8(CH2), 0x34); /* not counting: still 0x1234 */
	assert_int_equal(in8(CH2), 0x12);
	/* A count-only read-back: a full period, the count is reloaded. */
	out8(MODE, READ_BACK | RB_NO_STATUS | RB_CH0);
	assert_int_equal(in8(CH0), 0x00);
	assert_int_equal(in8(CH0), 0x10);
	/* Port 0x43 is write-only. */
	assert_int_equal(in8(MODE), 0xff);
}

static void test_bcd(void **state)
{
	(void)state;
	program(CW_CH0_LOHI_MODE0_BCD, CH0, 0x1000); /* 1000 decimal */
	fake_now = at_clock(0, 1);
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 0x0999);
	fake_now = at_clock(0, 999);
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 0x0001);
	fake_now = at_clock(0, 1000);
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 0x0000);
	fake_now = at_clock(0, 1001);
	assert_int_equal(latched(CW_LATCH_CH0, CH0), 0x9999); /* wraps at 10000 */
	assert_int_equal(status_of(RB_CH0, CH0), STATUS_OUT | 0x31);
	/* Count 0 is 10000 in BCD. */
	fake_now = 0;
	program(CW_CH0_LOHI_MODE0_BCD, CH0, 0);
	struct vtimer t = pit_timer(&pit);
	assert_int_equal(t.next_event(t.dev), at_clock(0, 10000));
}

/* Linux's pit_calibrate_tsc(): GATE 2 high, speaker off, counter 2 in
 * mode 0 with a 50 ms count, then poll port 0x61 bit 5 for terminal count,
 * reading the count with latch commands meanwhile. */
static void test_linux_pit_calibrate_tsc(void **state)
{
	(void)state;
	const uint16_t latch = (uint16_t)(PIT_HZ / (1000 / 50));
	const uint64_t t0 = 3 * NS_PER_S + 12345;

	fake_now = t0;
	out8(PORT_B, (uint8_t)((in8(PORT_B) & ~PB_SPEAKER) | PB_GATE2));
	assert_int_equal(in8(PORT_B) & (PB_GATE2 | PB_SPEAKER), PB_GATE2);
	program(CW_CH2_LOHI_MODE0, CH2, latch);
	uint16_t last = 0xffff;
	unsigned polls = 0;
	while (!(in8(PORT_B) & PB_OUT2)) {
		uint16_t c = latched(CW_LATCH_CH2, CH2);
		assert_true(c <= last);
		assert_true(c >= 1);
		last = c;
		polls++;
		fake_now += 1500; /* each poll costs the guest some exits */
	}
	/* OUT went high at terminal count, 50 ms after the start. */
	assert_true(fake_now >= at_clock(t0, latch));
	assert_true(fake_now < at_clock(t0, latch) + 1500);
	assert_int_equal(polls, (at_clock(t0, latch) - t0 + 1499) / 1500);
	assert_true(last <= 2); /* a poll every 1.8 clocks */
}

/* Linux's quick_pit_calibrate(): counter 2 from 0xffff, the MSB read
 * unlatched (LSB, then MSB) until it changes; it must step down by one at
 * the expected times and never go back. */
static void test_linux_quick_pit_calibrate(void **state)
{
	(void)state;
	fake_now = 42;
	out8(PORT_B, (uint8_t)((in8(PORT_B) & ~PB_SPEAKER) | PB_GATE2));
	out8(MODE, CW_CH2_LOHI_MODE0);
	out8(CH2, 0xff);
	out8(CH2, 0xff);
	unsigned expect_msb = 0xff;
	for (unsigned i = 0; i < 20000; i++) {
		fake_now += 2000;
		in8(CH2);
		unsigned msb = in8(CH2);
		uint64_t clocks = (fake_now - 42) * PIT_HZ / NS_PER_S;
		assert_int_equal(msb, ((0xffff - clocks) >> 8) & 0xff);
		assert_true(msb == expect_msb || msb == expect_msb - 1);
		expect_msb = msb;
		if (msb == 0xf0)
			break;
	}
	assert_int_equal(expect_msb, 0xf0);
}

static void test_gate2(void **state)
{
	(void)state;
	/* Mode 0 with GATE low: loaded, not counting. */
	program(CW_CH2_LOHI_MODE0, CH2, 1000);
	fake_now = at_clock(0, 500);
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 1000);
	out8(PORT_B, PB_GATE2);
	fake_now = at_clock(at_clock(0, 500), 300);
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 700);
	/* GATE low suspends; high again resumes where it was. */
	out8(PORT_B, 0);
	fake_now += NS_PER_S;
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 700);
	assert_int_equal(in8(PORT_B) & (PB_GATE2 | PB_OUT2), 0);
	uint64_t resumed = fake_now;
	out8(PORT_B, PB_GATE2);
	fake_now = at_clock(resumed, 699);
	assert_int_equal(in8(PORT_B) & PB_OUT2, 0);
	fake_now = at_clock(resumed, 700);
	assert_int_equal(in8(PORT_B) & (PB_GATE2 | PB_OUT2), PB_GATE2 | PB_OUT2);
	/* Counter 2 never raises IRQ 0. */
	assert_int_equal(run_timer(fake_now + NS_PER_S), 0);
}

static void test_gate2_mode2_and_mode1(void **state)
{
	(void)state;
	out8(PORT_B, PB_GATE2);
	program(CW_CH2_LOHI_MODE2, CH2, 100);
	fake_now = at_clock(0, 99);
	assert_int_equal(in8(PORT_B) & PB_OUT2, 0); /* the low clock */
	/* GATE low forces OUT high and stops; the rising edge reloads. */
	out8(PORT_B, 0);
	assert_int_equal(in8(PORT_B) & PB_OUT2, PB_OUT2);
	fake_now = at_clock(0, 150);
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 1);
	out8(PORT_B, PB_GATE2);
	fake_now = at_clock(at_clock(0, 150), 10);
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 90);

	/* Mode 1: OUT high, nothing until a GATE trigger; then low until
	 * terminal count. */
	fake_now = 0;
	out8(PORT_B, 0);
	program(CW_CH2_LOHI_MODE1, CH2, 100);
	assert_int_equal(status_of(RB_CH2, CH2), STATUS_OUT | STATUS_NULL | 0x32);
	fake_now = 1000000;
	out8(PORT_B, PB_GATE2);
	assert_int_equal(status_of(RB_CH2, CH2), 0x32);
	fake_now = at_clock(1000000, 40);
	assert_int_equal(latched(CW_LATCH_CH2, CH2), 60);
	/* Retriggered: starts over. */
	out8(PORT_B, 0);
	out8(PORT_B, PB_GATE2);
	uint64_t t1 = fake_now;
	fake_now = at_clock(t1, 99);
	assert_int_equal(in8(PORT_B) & PB_OUT2, 0);
	fake_now = at_clock(t1, 100);
	assert_int_equal(in8(PORT_B) & PB_OUT2, PB_OUT2);
}

static void test_port_b_bits(void **state)
{
	(void)state;
	/* Refresh toggles every 18 clocks; undefined bits read 0. */
	fake_now = at_clock(0, 18 * 7);
	assert_int_equal(in8(PORT_B), PB_REFRESH);
	fake_now = at_clock(0, 18 * 8);
	assert_int_equal(in8(PORT_B), 0x00);
	fake_now = at_clock(0, 18 * 8 + 17);
	assert_int_equal(in8(PORT_B), 0x00);
	out8(PORT_B, 0xff);
	assert_int_equal(in8(PORT_B), PB_GATE2 | PB_SPEAKER);
	unsigned toggles = 0;
	uint8_t prev = in8(PORT_B) & PB_REFRESH;
	for (unsigned i = 0; i < 1000; i++) {
		fake_now += 1000;
		uint8_t now = in8(PORT_B) & PB_REFRESH;
		toggles += now != prev;
		prev = now;
	}
	/* 1 ms: 1193 clocks, 66 refresh periods. */
	assert_true(toggles >= 65 && toggles <= 67);
}

static void test_attach(void **state)
{
	(void)state;
	struct pit other;

	pit_init(&other, &fake_clock,
		 (struct virq){ .set = irq_set, .waiting = irq_waiting, .masked = irq_masked });
	assert_int_equal(pit_attach(&other, &bus), -1);
	assert_int_equal(io_bus_read(&bus, 0x44, 1), 0xff);
	assert_int_equal(bus.unclaimed_reads, 1);
	/* Nothing was programmed: no timer event. */
	struct vtimer t = pit_timer(&pit);
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
}

/* The vCPU loop after a descheduled stretch: polls the timer, and the
 * guest takes each interrupt (INTA) before the loop looks again. Returns
 * the edges raised up to now. */
static unsigned take_due_edges(const struct vtimer *t)
{
	unsigned before = edges;

	while (t->next_event(t->dev) <= fake_now) {
		unsigned was = edges;
		t->update(t->dev, fake_now);
		assert_int_equal(edges, was + 1); /* one per look, never a burst */
		in_irr = false;
	}
	return edges - before;
}

static void test_missed_edges_caught_up(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	/* no_delay_for_missed_ticks, the default. 1 kHz, and the vCPU comes
	 * back 10 periods late: one edge at once, the others held. */
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	fake_now = at_clock(0, 10 * 1193 + 5);
	t.update(t.dev, fake_now);
	assert_int_equal(edges, 1);
	assert_true(t.held(t.dev));
	/* Still in the IRR: the next one waits for the next period's edge. */
	assert_int_equal(t.next_event(t.dev), at_clock(0, 11 * 1193));
	t.update(t.dev, fake_now);
	assert_int_equal(edges, 1);
	/* Each acknowledgement lets the next owed edge go. */
	in_irr = false;
	assert_false(t.held(t.dev));
	assert_int_equal(take_due_edges(&t), 9);
	assert_false(t.held(t.dev));
	assert_int_equal(t.next_event(t.dev), at_clock(0, 11 * 1193));
	/* Over the whole span the guest counted every period. */
	fake_now = at_clock(0, 100 * 1193);
	assert_int_equal(take_due_edges(&t), 90);
	assert_int_equal(edges, 100);
}

static void test_missed_edges_dropped(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	pit_set_timer_mode(&pit, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	fake_now = at_clock(0, 10 * 1193 + 5);
	assert_int_equal(take_due_edges(&t), 1);
	assert_false(t.held(t.dev));
	assert_int_equal(t.next_event(t.dev), at_clock(0, 11 * 1193));
	/* Nothing is held for the guest: each edge is raised when it comes,
	 * taken or not (the PIC's IRR bit merges them, as today). */
	fake_now = at_clock(0, 11 * 1193);
	t.update(t.dev, fake_now);
	fake_now = at_clock(0, 12 * 1193);
	t.update(t.dev, fake_now);
	assert_int_equal(edges, 3);
	assert_false(t.held(t.dev));
}

static void test_missed_edges_capped_and_reset(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	/* A VM paused for 5 s gets at most one second of ticks back. */
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	fake_now = 5 * NS_PER_S;
	assert_int_equal(take_due_edges(&t), 1000);
	/* A new count owes nothing of the old program. */
	fake_now += NS_PER_S / 100;
	t.update(t.dev, fake_now);
	assert_true(t.held(t.dev));
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	in_irr = false;
	assert_false(t.held(t.dev));
	assert_true(t.next_event(t.dev) > fake_now);
}

static void test_missed_edges_lost_while_masked(void **state)
{
	(void)state;
	struct vtimer t = pit_timer(&pit);

	/* IRQ 0 masked everywhere: nothing is owed, one edge still reaches
	 * the line (a PIC's IRR latches it). */
	irq0_masked = true;
	program(CW_CH0_LOHI_MODE2, CH0, 1193);
	fake_now = at_clock(0, 10 * 1193 + 5);
	t.update(t.dev, fake_now);
	assert_int_equal(edges, 1);
	assert_false(t.held(t.dev));
	assert_int_equal(t.next_event(t.dev), at_clock(0, 11 * 1193));
	irq0_masked = false;
	in_irr = false;
	assert_int_equal(take_due_edges(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_periodic_irq0_count, setup),
		cmocka_unit_test_setup(test_periodic_event_times, setup),
		cmocka_unit_test_setup(test_mode2_counts_and_out, setup),
		cmocka_unit_test_setup(test_mode3_square_wave, setup),
		cmocka_unit_test_setup(test_mode0_oneshot, setup),
		cmocka_unit_test_setup(test_mode4_strobe, setup),
		cmocka_unit_test_setup(test_lsb_msb_access, setup),
		cmocka_unit_test_setup(test_latch_holds_and_second_latch_ignored, setup),
		cmocka_unit_test_setup(test_read_back, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_linux_pit_calibrate_tsc, setup),
		cmocka_unit_test_setup(test_linux_quick_pit_calibrate, setup),
		cmocka_unit_test_setup(test_gate2, setup),
		cmocka_unit_test_setup(test_gate2_mode2_and_mode1, setup),
		cmocka_unit_test_setup(test_port_b_bits, setup),
		cmocka_unit_test_setup(test_attach, setup),
		cmocka_unit_test_setup(test_missed_edges_caught_up, setup),
		cmocka_unit_test_setup(test_missed_edges_dropped, setup),
		cmocka_unit_test_setup(test_missed_edges_capped_and_reset, setup),
		cmocka_unit_test_setup(test_missed_edges_lost_while_masked, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
