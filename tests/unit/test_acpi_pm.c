/* Unit tests for the ACPI PM register block (vmm/dev/acpi_pm.c) driven
 * through the I/O bus as guest IN/OUT instructions reach it, with a fake
 * clock and a recording interrupt line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/iobus.h"

#define BASE ACPI_PM_BASE_DEFAULT
#define STS (BASE + 0)
#define EN (BASE + 2)
#define CNT (BASE + 4)
#define TMR (BASE + 8)
#define NS_PER_S 1000000000ull
#define SLP(typ) ((unsigned)(typ) << ACPI_PM1_SLP_TYP_SHIFT)

static uint64_t now_ns;
static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return now_ns;
}
static const struct vclock clock = { fake_now, NULL };

static bool line_level[16];
static unsigned line_changes;
static void set_line(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	assert_true(line < 16);
	line_level[line] = level;
	line_changes++;
}
static const struct virq irq = { .set = set_line };

static unsigned poweroffs, ignored;
static unsigned ignored_typ;
static void *cb_ctx_seen;
static void on_poweroff(void *ctx)
{
	cb_ctx_seen = ctx;
	poweroffs++;
}
static void on_ignored(void *ctx, unsigned typ)
{
	cb_ctx_seen = ctx;
	ignored++;
	ignored_typ = typ;
}

static struct io_bus bus;
static struct acpi_pm pm;
static int ctx_token;

static int setup(void **state)
{
	(void)state;
	struct acpi_pm_callbacks cb = { on_poweroff, on_ignored, &ctx_token };
	memset(&bus, 0, sizeof(bus));
	memset(line_level, 0, sizeof(line_level));
	line_changes = poweroffs = ignored = ignored_typ = 0;
	cb_ctx_seen = NULL;
	now_ns = 0;
	acpi_pm_init(&pm, &clock, &irq, ACPI_PM_SCI_IRQ, &cb);
	assert_int_equal(acpi_pm_attach(&pm, &bus, BASE), 0);
	return 0;
}

/* The expected count, computed in 128 bits. */
static uint32_t expected_ticks(uint64_t ns)
{
	unsigned __int128 t = (unsigned __int128)ns * ACPI_PM_TIMER_HZ / NS_PER_S;
	return (uint32_t)(t & 0xffffff);
}

static void test_layout_constants(void **state)
{
	(void)state;
	assert_int_equal(ACPI_PM1_CNT_OFFSET, ACPI_PM1_EVT_OFFSET + ACPI_PM1_EVT_LEN);
	assert_int_equal(ACPI_PM_TMR_OFFSET + ACPI_PM_TMR_LEN, ACPI_PM_PORTS);
	assert_int_equal(pm.base, BASE);
}

static void test_timer_counts_at_3579545_hz(void **state)
{
	(void)state;
	assert_int_equal(io_bus_read(&bus, TMR, 4), 0);
	now_ns = 279; /* one tick is 279.37 ns */
	assert_int_equal(io_bus_read(&bus, TMR, 4), 0);
	now_ns = 280;
	assert_int_equal(io_bus_read(&bus, TMR, 4), 1);
	now_ns = NS_PER_S;
	assert_int_equal(io_bus_read(&bus, TMR, 4), 3579545);
	now_ns = NS_PER_S / 2;
	assert_int_equal(acpi_pm_timer(&pm), 1789772);
	now_ns = 1234567891;
	assert_int_equal(acpi_pm_timer(&pm), expected_ticks(now_ns));
}

static void test_timer_wraps_at_24_bits(void **state)
{
	(void)state;
	/* 2^24 ticks are 4.686968875 s. */
	now_ns = 4686968874ull;
	assert_int_equal(acpi_pm_timer(&pm), 0xffffff);
	now_ns = 4686968875ull;
	assert_int_equal(acpi_pm_timer(&pm), 0);
	now_ns = 5 * NS_PER_S;
	assert_int_equal(acpi_pm_timer(&pm), 17897725 - 16777216);
	assert_int_equal(io_bus_read(&bus, TMR + 3, 1), 0); /* bits 24-31 */
}

static void test_timer_long_runs_do_not_overflow(void **state)
{
	(void)state;
	/* ns * 3579545 passes 2^64 after 86 minutes. */
	const uint64_t times[] = { 5153 * NS_PER_S + 999999999ull, 36000 * NS_PER_S,
				   365ull * 86400 * NS_PER_S + 123456789, UINT64_MAX };
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		now_ns = times[i];
		assert_int_equal(io_bus_read(&bus, TMR, 4), expected_ticks(now_ns));
	}
}

static void test_timer_byte_reads_and_read_only(void **state)
{
	(void)state;
	now_ns = 3 * NS_PER_S + 7777;
	uint32_t t = expected_ticks(now_ns);
	assert_int_equal(io_bus_read(&bus, TMR, 1), t & 0xff);
	assert_int_equal(io_bus_read(&bus, TMR + 1, 1), (t >> 8) & 0xff);
	assert_int_equal(io_bus_read(&bus, TMR + 2, 2), t >> 16);
	io_bus_write(&bus, TMR, 4, 0);
	assert_int_equal(io_bus_read(&bus, TMR, 4), t);
	/* A read straddling the block's end: the rest reads as all ones. */
	assert_int_equal(io_bus_read(&bus, TMR + 2, 4), 0xffff0000u | (t >> 16));
}

static void test_s5_powers_off(void **state)
{
	(void)state;
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	io_bus_write(&bus, CNT, 2, SLP(ACPI_PM_SLP_TYP_S5));
	assert_int_equal(poweroffs, 0);
	assert_int_equal(io_bus_read(&bus, CNT, 2), SLP(ACPI_PM_SLP_TYP_S5) | ACPI_PM1_SCI_EN);
	io_bus_write(&bus, CNT, 2, SLP(ACPI_PM_SLP_TYP_S5) | ACPI_PM1_SLP_EN | ACPI_PM1_SCI_EN);
	assert_int_equal(poweroffs, 1);
	assert_int_equal(ignored, 0);
	assert_ptr_equal(cb_ctx_seen, &ctx_token);
	/* SLP_EN is write-only. */
	assert_int_equal(io_bus_read(&bus, CNT, 2) & ACPI_PM1_SLP_EN, 0);
}

static void test_s5_by_byte_and_dword_writes(void **state)
{
	(void)state;
	io_bus_write(&bus, CNT + 1, 1, (SLP(5) | ACPI_PM1_SLP_EN) >> 8);
	assert_int_equal(poweroffs, 1);
	/* The low byte alone never sleeps. */
	io_bus_write(&bus, CNT, 1, 0xff);
	assert_int_equal(poweroffs, 1);
	/* A 32-bit write at PM1a_CNT: the upper half hits the unused ports. */
	io_bus_write(&bus, CNT, 4, 0xffff0000u | SLP(5) | ACPI_PM1_SLP_EN);
	assert_int_equal(poweroffs, 2);
	assert_int_equal(io_bus_read(&bus, CNT + 2, 2), 0);
}

static void test_other_sleep_types_are_reported_not_obeyed(void **state)
{
	(void)state;
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_PM_SLP_TYP_S5)
			continue;
		io_bus_write(&bus, CNT, 2, SLP(typ) | ACPI_PM1_SLP_EN);
		assert_int_equal(ignored_typ, typ);
	}
	assert_int_equal(ignored, 7);
	assert_int_equal(poweroffs, 0);
	/* Without an ignored_sleep callback they are just dropped. */
	struct acpi_pm_callbacks cb = { on_poweroff, NULL, NULL };
	struct io_bus bus2;
	struct acpi_pm pm2;
	memset(&bus2, 0, sizeof(bus2));
	acpi_pm_init(&pm2, &clock, &irq, ACPI_PM_SCI_IRQ, &cb);
	assert_int_equal(acpi_pm_attach(&pm2, &bus2, 0xb000), 0);
	io_bus_write(&bus2, 0xb004, 2, SLP(3) | ACPI_PM1_SLP_EN);
	assert_int_equal(poweroffs, 0);
	io_bus_write(&bus2, 0xb004, 2, SLP(5) | ACPI_PM1_SLP_EN);
	assert_int_equal(poweroffs, 1);
}

static void test_sci_en_reads_one(void **state)
{
	(void)state;
	assert_int_equal(io_bus_read(&bus, CNT, 2), ACPI_PM1_SCI_EN);
	io_bus_write(&bus, CNT, 2, 0);
	assert_int_equal(io_bus_read(&bus, CNT, 2), ACPI_PM1_SCI_EN);
	/* Every bit: BM_RLD and SLP_TYP stick, GBL_RLS and SLP_EN do not. */
	io_bus_write(&bus, CNT, 2, 0xffff);
	assert_int_equal(io_bus_read(&bus, CNT, 2),
			 ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK);
	assert_int_equal(io_bus_read(&bus, CNT, 2) & (ACPI_PM1_GBL_RLS | ACPI_PM1_SLP_EN), 0);
	assert_int_equal(ignored_typ, 7);
}

static void test_status_is_write_one_to_clear(void **state)
{
	(void)state;
	acpi_pm_power_button(&pm);
	assert_int_equal(io_bus_read(&bus, STS, 2), ACPI_PM1_PWRBTN);
	io_bus_write(&bus, STS, 2, 0); /* writing 0 changes nothing */
	assert_int_equal(io_bus_read(&bus, STS, 2), ACPI_PM1_PWRBTN);
	io_bus_write(&bus, STS, 2, ACPI_PM1_RTC | ACPI_PM1_WAK_STS); /* other bits */
	assert_int_equal(io_bus_read(&bus, STS, 2), ACPI_PM1_PWRBTN);
	io_bus_write(&bus, STS + 1, 1, ACPI_PM1_PWRBTN >> 8);
	assert_int_equal(io_bus_read(&bus, STS, 2), 0);
	/* A 32-bit write: status (W1C) and enable at once. */
	acpi_pm_power_button(&pm);
	io_bus_write(&bus, STS, 4, (uint32_t)ACPI_PM1_PWRBTN << 16 | ACPI_PM1_PWRBTN);
	assert_int_equal(io_bus_read(&bus, STS, 4), (uint32_t)ACPI_PM1_PWRBTN << 16);
}

static void test_enable_register(void **state)
{
	(void)state;
	io_bus_write(&bus, EN, 2, 0xffff);
	assert_int_equal(io_bus_read(&bus, EN, 2), ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN |
							   ACPI_PM1_SLPBTN | ACPI_PM1_RTC);
	io_bus_write(&bus, EN, 1, 0);
	assert_int_equal(io_bus_read(&bus, EN, 2),
			 ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC);
	/* The unused ports between PM1a_CNT and the timer read 0. */
	assert_int_equal(io_bus_read(&bus, BASE + 6, 2), 0);
}

static void test_power_button_raises_sci(void **state)
{
	(void)state;
	/* Disabled: status only. */
	acpi_pm_power_button(&pm);
	assert_false(line_level[ACPI_PM_SCI_IRQ]);
	assert_int_equal(line_changes, 0);
	/* Enabling with the status pending raises it. */
	io_bus_write(&bus, EN, 2, ACPI_PM1_PWRBTN);
	assert_true(line_level[ACPI_PM_SCI_IRQ]);
	/* Level-triggered: stays up until the status is cleared. */
	acpi_pm_power_button(&pm);
	assert_int_equal(line_changes, 1);
	io_bus_write(&bus, STS, 2, ACPI_PM1_PWRBTN);
	assert_false(line_level[ACPI_PM_SCI_IRQ]);
	assert_int_equal(line_changes, 2);
	acpi_pm_power_button(&pm);
	assert_true(line_level[ACPI_PM_SCI_IRQ]);
	/* Disabling drops it. */
	io_bus_write(&bus, EN, 2, 0);
	assert_false(line_level[ACPI_PM_SCI_IRQ]);
}

static void test_timer_carry_status(void **state)
{
	(void)state;
	/* TMR_STS: bit 23 changes every 2^23 ticks (2.3435 s). */
	now_ns = 2343 * 1000000ull;
	assert_int_equal(io_bus_read(&bus, STS, 2) & ACPI_PM1_TMR, 0);
	now_ns = 2344 * 1000000ull;
	assert_int_equal(io_bus_read(&bus, STS, 2) & ACPI_PM1_TMR, ACPI_PM1_TMR);
	io_bus_write(&bus, STS, 2, ACPI_PM1_TMR);
	assert_int_equal(io_bus_read(&bus, STS, 2) & ACPI_PM1_TMR, 0);
	now_ns = 4686 * 1000000ull;
	assert_int_equal(io_bus_read(&bus, STS, 2) & ACPI_PM1_TMR, 0);
	now_ns = 4687 * 1000000ull; /* bit 23 back to 0 at the wrap */
	assert_int_equal(io_bus_read(&bus, STS, 2) & ACPI_PM1_TMR, ACPI_PM1_TMR);
	/* No SCI for it. */
	io_bus_write(&bus, EN, 2, ACPI_PM1_TMR);
	assert_false(line_level[ACPI_PM_SCI_IRQ]);
}

static void test_attach_refuses_taken_ports(void **state)
{
	(void)state;
	struct acpi_pm other;
	struct acpi_pm_callbacks cb = { on_poweroff, NULL, NULL };
	acpi_pm_init(&other, &clock, &irq, ACPI_PM_SCI_IRQ, &cb);
	assert_int_equal(acpi_pm_attach(&other, &bus, BASE + ACPI_PM_PORTS - 1), -1);
	assert_int_equal(acpi_pm_attach(&other, &bus, BASE + ACPI_PM_PORTS), 0);
	assert_int_equal(io_bus_read(&bus, BASE + ACPI_PM_PORTS + 4, 2), ACPI_PM1_SCI_EN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup(fn, setup)
		T(test_layout_constants),
		T(test_timer_counts_at_3579545_hz),
		T(test_timer_wraps_at_24_bits),
		T(test_timer_long_runs_do_not_overflow),
		T(test_timer_byte_reads_and_read_only),
		T(test_s5_powers_off),
		T(test_s5_by_byte_and_dword_writes),
		T(test_other_sleep_types_are_reported_not_obeyed),
		T(test_sci_en_reads_one),
		T(test_status_is_write_one_to_clear),
		T(test_enable_register),
		T(test_power_button_raises_sci),
		T(test_timer_carry_status),
		T(test_attach_refuses_taken_ports),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
