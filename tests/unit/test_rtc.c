/* Unit tests for vmm/dev/rtc.c: the MC146818A's time registers for a
 * known instant in each encoding, the update-in-progress window, the
 * periodic, update-ended and alarm interrupts over simulated time, and
 * the SET / divider-reset sequence Linux's mc146818_set_time() uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/rtc.h"

#define INDEX 0x70
#define DATA 0x71
#define NS_PER_S 1000000000ull
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_DIV_RESET 0x70
#define A_32KHZ 0x20
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

/* 2026-11-22 03:25:50 UTC, a Sunday. */
#define EPOCH 1795317950ull

static struct io_bus bus;
static struct rtc rtc;
static uint64_t fake_now;
static unsigned edges;
static bool irq_level;

static uint64_t fake_clock_now(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct vclock fake_clock = { fake_clock_now, NULL };

static void irq_set(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	assert_int_equal(line, RTC_IRQ);
	assert_true(level != irq_level); /* only changes are signalled */
	edges += level;
	irq_level = level;
}

static void reset(uint64_t epoch, uint64_t ram)
{
	memset(&bus, 0, sizeof(bus));
	fake_now = 0;
	edges = 0;
	irq_level = false;
	rtc_init(&rtc, &fake_clock, (struct virq){ .set = irq_set }, epoch, ram);
	assert_int_equal(rtc_attach(&rtc, &bus), 0);
}

static int setup(void **state)
{
	(void)state;
	reset(EPOCH, 128 * MIB);
	return 0;
}

static uint8_t cmos_read(uint8_t reg)
{
	io_bus_write(&bus, INDEX, 1, reg);
	return (uint8_t)io_bus_read(&bus, DATA, 1);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	io_bus_write(&bus, INDEX, 1, reg);
	io_bus_write(&bus, DATA, 1, v);
}

static void assert_time(const uint8_t want[8])
{
	static const uint8_t regs[8] = { REG_SEC,  REG_MIN,   REG_HOUR, REG_WDAY,
					 REG_MDAY, REG_MONTH, REG_YEAR, REG_CENTURY };
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(cmos_read(regs[i]), want[i]);
}

/* The first nanosecond of tick k of the 32.768 kHz time base. */
static uint64_t tick_ns(uint64_t k)
{
	return (k * NS_PER_S + 32767) / 32768;
}

/* The vCPU loop up to `until`; a handler reads register C on each
 * interrupt when `handle` is set and checks it, except for the flags in
 * `ignore`. Returns the interrupts taken. */
static unsigned run_ignoring(uint64_t until, bool handle, uint8_t expect_c, uint8_t ignore)
{
	struct vtimer t = rtc_timer(&rtc);
	unsigned before = edges;

	for (;;) {
		uint64_t next = t.next_event(t.dev);
		if (next == VTIME_NEVER || next > until)
			break;
		assert_true(next >= fake_now);
		fake_now = next;
		t.update(t.dev, next);
		assert_true(irq_level);
		if (handle)
			assert_int_equal(cmos_read(REG_C) & ~ignore, expect_c);
	}
	fake_now = until;
	return edges - before;
}

static unsigned run(uint64_t until, bool handle, uint8_t expect_c)
{
	return run_ignoring(until, handle, expect_c, 0);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(cmos_read(REG_A), 0x26);
	assert_int_equal(cmos_read(REG_B), B_24H);
	assert_int_equal(cmos_read(REG_C), 0x00);
	assert_int_equal(cmos_read(REG_D), 0x80);
	assert_int_equal(cmos_read(0x14), 0x02); /* equipment: FPU */
	/* 128 MiB: 640 KiB base, 0xffff KiB extended (capped), 112 MiB above
	 * 16 MiB in 64 KiB blocks, nothing above 4 GiB. */
	assert_int_equal(cmos_read(0x15) | cmos_read(0x16) << 8, 640);
	assert_int_equal(cmos_read(0x17) | cmos_read(0x18) << 8, 0xffff);
	assert_int_equal(cmos_read(0x30) | cmos_read(0x31) << 8, 0xffff);
	assert_int_equal(cmos_read(0x34) | cmos_read(0x35) << 8, 112 * 16);
	assert_int_equal(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, 0);
	/* Nothing enabled: no timer event, no interrupt. */
	struct vtimer t = rtc_timer(&rtc);
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
	assert_int_equal(edges, 0);
}

static void test_memory_sizes(void **state)
{
	(void)state;
	reset(EPOCH, 6 * GIB);
	assert_int_equal(cmos_read(0x34) | cmos_read(0x35) << 8, 0xff00);
	assert_int_equal(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16,
			 (2 * GIB) >> 16);
	reset(EPOCH, 4 * MIB);
	assert_int_equal(cmos_read(0x17) | cmos_read(0x18) << 8, 3072);
	assert_int_equal(cmos_read(0x34) | cmos_read(0x35) << 8, 0);
	reset(EPOCH, 512 * 1024);
	assert_int_equal(cmos_read(0x15) | cmos_read(0x16) << 8, 512);
	assert_int_equal(cmos_read(0x17) | cmos_read(0x18) << 8, 0);
}

static void test_bcd_24h(void **state)
{
	(void)state;
	static const uint8_t want[8] = { 0x50, 0x25, 0x03, 0x01, 0x22, 0x11, 0x26, 0x20 };
	assert_time(want);
	/* Ten seconds on: 03:26:00. */
	fake_now = 10 * NS_PER_S;
	static const uint8_t later[8] = { 0x00, 0x26, 0x03, 0x01, 0x22, 0x11, 0x26, 0x20 };
	assert_time(later);
	/* Just before: still 03:25:59. */
	fake_now = 10 * NS_PER_S - 1;
	assert_int_equal(cmos_read(REG_SEC), 0x59);
}

static void test_binary_24h(void **state)
{
	(void)state;
	cmos_write(REG_B, B_24H | B_BINARY);
	static const uint8_t want[8] = { 50, 25, 3, 1, 22, 11, 26, 20 };
	assert_time(want);
}

static void test_12h(void **state)
{
	(void)state;
	cmos_write(REG_B, 0);			     /* 12-hour BCD */
	assert_int_equal(cmos_read(REG_HOUR), 0x03); /* 3 AM */
	fake_now = 12 * 3600 * NS_PER_S;
	assert_int_equal(cmos_read(REG_HOUR), 0x83);	  /* 3 PM */
	fake_now = (20 * 3600 + 34 * 60 + 10) * NS_PER_S; /* 00:00:00 Monday */
	assert_int_equal(cmos_read(REG_HOUR), 0x12);	  /* 12 AM */
	assert_int_equal(cmos_read(REG_WDAY), 0x02);
	assert_int_equal(cmos_read(REG_MDAY), 0x23);
	fake_now += 12 * 3600 * NS_PER_S;
	assert_int_equal(cmos_read(REG_HOUR), 0x92); /* 12 PM */
	cmos_write(REG_B, B_BINARY);		     /* 12-hour binary */
	assert_int_equal(cmos_read(REG_HOUR), 0x8c);
	fake_now += 11 * 3600 * NS_PER_S;
	assert_int_equal(cmos_read(REG_HOUR), 0x8b); /* 11 PM */
}

static void test_calendar_rollovers(void **state)
{
	(void)state;
	reset(946684799, 16 * MIB); /* 1999-12-31 23:59:59, Friday */
	static const uint8_t y1999[8] = { 0x59, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19 };
	assert_time(y1999);
	fake_now = NS_PER_S;
	static const uint8_t y2000[8] = { 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 };
	assert_time(y2000);
	reset(951825600, 16 * MIB); /* 2000-02-29 12:00:00, Tuesday */
	static const uint8_t leap[8] = { 0x00, 0x00, 0x12, 0x03, 0x29, 0x02, 0x00, 0x20 };
	assert_time(leap);
	reset(4107542400, 16 * MIB); /* 2100-03-01, Monday (2100 is no leap year) */
	static const uint8_t y2100[8] = { 0x00, 0x00, 0x00, 0x02, 0x01, 0x03, 0x00, 0x21 };
	assert_time(y2100);
	reset(4107542400 - 1, 16 * MIB);
	assert_int_equal(cmos_read(REG_MDAY), 0x28);
	assert_int_equal(cmos_read(REG_MONTH), 0x02);
}

static void test_uip_window(void **state)
{
	(void)state;
	/* UIP: the last 8 ticks (244 us) before each update. */
	fake_now = tick_ns(32760) - 1;
	assert_int_equal(cmos_read(REG_A), 0x26);
	fake_now = tick_ns(32760);
	assert_int_equal(cmos_read(REG_A), A_UIP | 0x26);
	assert_int_equal(cmos_read(REG_SEC), 0x50); /* not updated yet */
	fake_now = NS_PER_S - 1;
	assert_int_equal(cmos_read(REG_A), A_UIP | 0x26);
	fake_now = NS_PER_S;
	assert_int_equal(cmos_read(REG_A), 0x26);
	assert_int_equal(cmos_read(REG_SEC), 0x51);
	fake_now = 7 * NS_PER_S - 100000;
	assert_int_equal(cmos_read(REG_A), A_UIP | 0x26);
	/* UIP is read-only; with SET there are no updates and no UIP. */
	cmos_write(REG_A, A_UIP | 0x26);
	cmos_write(REG_B, B_SET | B_24H);
	assert_int_equal(cmos_read(REG_A), 0x26);
}

static void test_periodic_1024hz(void **state)
{
	(void)state;
	fake_now = 0;
	cmos_write(REG_B, B_PIE | B_24H);
	assert_int_equal(run_ignoring(NS_PER_S, true, C_IRQF | C_PF, C_UF), 1024);
	/* Not handled, with no_missed_ticks_pending: IRQ stays asserted, one
	 * interrupt, no further events. */
	rtc_set_timer_mode(&rtc, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	assert_int_equal(run(2 * NS_PER_S, false, 0), 1);
	struct vtimer t = rtc_timer(&rtc);
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
	assert_true(irq_level);
	assert_int_equal(cmos_read(REG_C), C_IRQF | C_PF | C_UF);
	assert_false(irq_level);
	assert_int_equal(cmos_read(REG_C), 0x00);
	assert_int_equal(t.next_event(t.dev), 2 * NS_PER_S + tick_ns(32));
}

/* no_delay_for_missed_ticks, the default: periodic interrupts the guest
 * missed are owed, each raised as a new edge when it reads register C. */
static void test_periodic_catch_up(void **state)
{
	(void)state;
	struct vtimer t = rtc_timer(&rtc);

	cmos_write(REG_A, A_32KHZ | 6); /* 1024 Hz: 32 ticks */
	cmos_write(REG_B, B_PIE | B_24H);
	fake_now = tick_ns(10 * 32 + 5); /* the vCPU was away 10 periods */
	t.update(t.dev, fake_now);
	assert_int_equal(edges, 1);
	for (unsigned i = 1; i < 10; i++) {
		assert_int_equal(cmos_read(REG_C), C_IRQF | C_PF);
		assert_true(irq_level);
		assert_int_equal(edges, 1 + i);
	}
	assert_int_equal(cmos_read(REG_C), C_IRQF | C_PF);
	assert_false(irq_level);
	assert_int_equal(edges, 10);
	assert_int_equal(t.next_event(t.dev), tick_ns(11 * 32));
	/* Capped at a second's worth, and a new rate owes nothing. */
	fake_now = 5 * NS_PER_S;
	t.update(t.dev, fake_now);
	assert_int_equal(rtc.ticks.owed, 1023);
	cmos_write(REG_A, A_32KHZ | 7);
	assert_int_equal(rtc.ticks.owed, 0);
	assert_int_equal(cmos_read(REG_C) & C_PF, C_PF);
	assert_false(irq_level);
}

static void periodic_rate(uint8_t rs, unsigned per_second)
{
	reset(EPOCH, 16 * MIB);
	cmos_write(REG_A, A_32KHZ | rs);
	cmos_write(REG_B, B_PIE | B_24H);
	/* UF comes along at each whole second. */
	assert_int_equal(run_ignoring(NS_PER_S, true, C_IRQF | C_PF, C_UF), per_second);
	assert_int_equal(run_ignoring(3 * NS_PER_S, true, C_IRQF | C_PF, C_UF), 2 * per_second);
}

static void test_periodic_rates(void **state)
{
	(void)state;
	periodic_rate(3, 8192);
	periodic_rate(15, 2);
	periodic_rate(1, 256);
	periodic_rate(2, 128);
	periodic_rate(9, 128);
	/* Rate 0: none. */
	reset(EPOCH, 16 * MIB);
	cmos_write(REG_A, A_32KHZ);
	cmos_write(REG_B, B_PIE | B_24H);
	assert_int_equal(run(NS_PER_S, true, 0), 0);
}

static void test_update_ended_once_a_second(void **state)
{
	(void)state;
	cmos_write(REG_A, A_32KHZ); /* no periodic flag */
	fake_now = 300000000;
	cmos_write(REG_B, B_UIE | B_24H);
	struct vtimer t = rtc_timer(&rtc);
	assert_int_equal(t.next_event(t.dev), NS_PER_S);
	assert_int_equal(run(5 * NS_PER_S + 300000000, true, C_IRQF | C_UF), 5);
	/* The handler sees the new second. */
	assert_int_equal(cmos_read(REG_SEC), 0x55);
}

static void test_flags_without_enables(void **state)
{
	(void)state;
	/* PF and UF are set with their interrupts off; no IRQ. */
	fake_now = 3 * NS_PER_S;
	assert_int_equal(cmos_read(REG_C), C_PF | C_UF);
	assert_int_equal(cmos_read(REG_C), 0x00);
	assert_int_equal(edges, 0);
	/* Enabling an interrupt whose flag is set raises IRQ at once;
	 * clearing the enable drops it (IRQ follows IRQF). */
	fake_now += NS_PER_S;
	cmos_write(REG_B, B_UIE | B_24H);
	assert_true(irq_level);
	assert_int_equal(edges, 1);
	cmos_write(REG_B, B_24H);
	assert_false(irq_level);
	assert_int_equal(cmos_read(REG_C), C_PF | C_UF);
}

static void test_alarm(void **state)
{
	(void)state;
	struct vtimer t = rtc_timer(&rtc);

	cmos_write(REG_A, A_32KHZ);
	/* 03:26:00: ten seconds on. */
	cmos_write(REG_HOUR_ALARM, 0x03);
	cmos_write(REG_MIN_ALARM, 0x26);
	cmos_write(REG_SEC_ALARM, 0x00);
	cmos_write(REG_B, B_AIE | B_24H);
	assert_int_equal(t.next_event(t.dev), 10 * NS_PER_S);
	assert_int_equal(run(10 * NS_PER_S, true, C_IRQF | C_AF | C_UF), 1);
	/* Next match: a day later. */
	assert_int_equal(t.next_event(t.dev), (10 + 86400) * NS_PER_S);
	/* Hours and minutes "don't care": every minute at :30. */
	cmos_write(REG_HOUR_ALARM, 0xff);
	cmos_write(REG_MIN_ALARM, 0xc0);
	cmos_write(REG_SEC_ALARM, 0x30);
	assert_int_equal(t.next_event(t.dev), 40 * NS_PER_S);
	assert_int_equal(run(40 * NS_PER_S + 3 * 60 * NS_PER_S, true, C_IRQF | C_AF | C_UF), 4);
	/* An alarm hour that can never match (25): none. */
	cmos_write(REG_HOUR_ALARM, 0x25);
	assert_int_equal(t.next_event(t.dev), VTIME_NEVER);
	/* 12-hour alarm, 4 AM, in the next hour. */
	cmos_write(REG_B, B_AIE);
	cmos_write(REG_HOUR_ALARM, 0x04);
	cmos_write(REG_MIN_ALARM, 0xc0);
	cmos_write(REG_SEC_ALARM, 0xc0);
	assert_int_equal(t.next_event(t.dev), (34 * 60 + 10) * NS_PER_S);
	/* An alarm passed while nobody looked still sets AF. */
	cmos_write(REG_B, B_24H);
	fake_now = 3 * 3600 * NS_PER_S;
	assert_int_equal(cmos_read(REG_C), C_AF | C_UF);
}

/* Linux's mc146818_set_time(): SET, divider reset, the time registers,
 * then B and A restored. The first update comes half a second after the
 * divider is released. */
static void test_linux_set_time(void **state)
{
	(void)state;
	fake_now = 5 * NS_PER_S + 123456;
	uint8_t b = cmos_read(REG_B);
	cmos_write(REG_B, b | B_SET);
	uint8_t a = cmos_read(REG_A);
	cmos_write(REG_A, a | A_DIV_RESET);
	cmos_write(REG_SEC, 0x00);
	cmos_write(REG_MIN, 0x00);
	cmos_write(REG_HOUR, 0x12);
	cmos_write(REG_MDAY, 0x01);
	cmos_write(REG_MONTH, 0x01);
	cmos_write(REG_YEAR, 0x30);
	cmos_write(REG_CENTURY, 0x20);
	/* Frozen while set: the registers read back as written. */
	fake_now += 3 * NS_PER_S;
	assert_int_equal(cmos_read(REG_SEC), 0x00);
	assert_int_equal(cmos_read(REG_A) & A_UIP, 0);
	cmos_write(REG_B, b);
	fake_now += NS_PER_S;
	assert_int_equal(cmos_read(REG_SEC), 0x00); /* divider still in reset */
	const uint64_t released = fake_now;
	cmos_write(REG_A, a);
	fake_now = released + NS_PER_S / 2 - 1;
	static const uint8_t set[8] = { 0x00, 0x00, 0x12, 0x03, 0x01, 0x01, 0x30, 0x20 };
	assert_time(set); /* 2030-01-01 was a Tuesday */
	fake_now = released + NS_PER_S / 2;
	assert_int_equal(cmos_read(REG_SEC), 0x01);
	fake_now = released + NS_PER_S / 2 + 3600 * NS_PER_S;
	assert_int_equal(cmos_read(REG_HOUR), 0x13);
	assert_int_equal(cmos_read(REG_SEC), 0x01);
}

static void test_set_keeps_phase(void **state)
{
	(void)state;
	/* SET alone: the divider keeps its phase, the next update is at the
	 * next whole second of guest time. Binary this time. */
	cmos_write(REG_B, B_24H | B_BINARY);
	fake_now = 300000000;
	cmos_write(REG_B, B_SET | B_UIE | B_24H | B_BINARY);
	assert_int_equal(cmos_read(REG_B), B_SET | B_24H | B_BINARY); /* SET clears UIE */
	cmos_write(REG_HOUR, 10);
	cmos_write(REG_MIN, 0);
	cmos_write(REG_SEC, 0);
	fake_now = 400000000;
	cmos_write(REG_B, B_24H | B_BINARY);
	fake_now = NS_PER_S - 1;
	assert_int_equal(cmos_read(REG_SEC), 0);
	fake_now = NS_PER_S;
	assert_int_equal(cmos_read(REG_SEC), 1);
	assert_int_equal(cmos_read(REG_HOUR), 10);
	/* A write to a time register while running sets that field only. */
	cmos_write(REG_MIN, 42);
	fake_now = 2 * NS_PER_S;
	assert_int_equal(cmos_read(REG_MIN), 42);
	assert_int_equal(cmos_read(REG_SEC), 2);
	assert_int_equal(cmos_read(REG_HOUR), 10);
	assert_int_equal(cmos_read(REG_MDAY), 22);
}

static void test_c_read_clears(void **state)
{
	(void)state;
	cmos_write(REG_B, B_PIE | B_24H);
	fake_now = tick_ns(32);
	struct vtimer t = rtc_timer(&rtc);
	t.update(t.dev, fake_now);
	assert_true(irq_level);
	assert_int_equal(cmos_read(REG_C), C_IRQF | C_PF);
	assert_false(irq_level);
	assert_int_equal(cmos_read(REG_C), 0);
	/* C and D are read-only. */
	cmos_write(REG_C, 0xff);
	cmos_write(REG_D, 0x00);
	assert_int_equal(cmos_read(REG_C), 0);
	assert_int_equal(cmos_read(REG_D), 0x80);
	assert_int_equal(edges, 1);
}

static void test_nvram_and_index(void **state)
{
	(void)state;
	cmos_write(0x40, 0xa5);
	cmos_write(0x7f, 0x5a);
	assert_int_equal(cmos_read(0x40), 0xa5);
	assert_int_equal(cmos_read(0x7f), 0x5a);
	/* Bit 7 of the index masks NMI and is not part of the address. */
	io_bus_write(&bus, INDEX, 1, 0x80 | 0x40);
	assert_true(rtc.nmi_masked);
	assert_int_equal(io_bus_read(&bus, DATA, 1), 0xa5);
	io_bus_write(&bus, INDEX, 1, 0x40);
	assert_false(rtc.nmi_masked);
	assert_int_equal(io_bus_read(&bus, INDEX, 1), 0xff); /* write-only */
	/* Alarm bytes are plain storage. */
	cmos_write(REG_SEC_ALARM, 0x12);
	assert_int_equal(cmos_read(REG_SEC_ALARM), 0x12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_memory_sizes, setup),
		cmocka_unit_test_setup(test_bcd_24h, setup),
		cmocka_unit_test_setup(test_binary_24h, setup),
		cmocka_unit_test_setup(test_12h, setup),
		cmocka_unit_test_setup(test_calendar_rollovers, setup),
		cmocka_unit_test_setup(test_uip_window, setup),
		cmocka_unit_test_setup(test_periodic_1024hz, setup),
		cmocka_unit_test_setup(test_periodic_rates, setup),
		cmocka_unit_test_setup(test_periodic_catch_up, setup),
		cmocka_unit_test_setup(test_update_ended_once_a_second, setup),
		cmocka_unit_test_setup(test_flags_without_enables, setup),
		cmocka_unit_test_setup(test_alarm, setup),
		cmocka_unit_test_setup(test_linux_set_time, setup),
		cmocka_unit_test_setup(test_set_keeps_phase, setup),
		cmocka_unit_test_setup(test_c_read_clears, setup),
		cmocka_unit_test_setup(test_nvram_and_index, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
