/* Unit tests for arch/x86/madt.c: the CPUs a firmware MADT lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/madt.h"

static uint8_t table[512];
static size_t used;

static void begin(void)
{
	memset(table, 0, sizeof(table));
	used = 44;
}

static void lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, id };

	memcpy(e + 4, &flags, 4);
	memcpy(table + used, e, sizeof(e));
	used += sizeof(e);
}

static void x2apic(uint32_t id, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };

	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(table + used, e, sizeof(e));
	used += sizeof(e);
}

static void ioapic(void)
{
	uint8_t e[12] = { 1, 12 };

	memcpy(table + used, e, sizeof(e));
	used += sizeof(e);
}

static void test_lapic_entries(void **state)
{
	struct madt_cpus c;

	(void)state;
	begin();
	lapic(0, 0, 1);
	ioapic();
	lapic(1, 1, 1);
	lapic(2, 2, 0); /* disabled */
	lapic(3, 3, 2); /* online-capable: a hot-plug slot */
	assert_int_equal(madt_parse(table, used, &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.apic_id[0], 0);
	assert_int_equal(c.apic_id[1], 1);
	assert_int_equal(c.disabled, 2);
}

static void test_x2apic_entries_and_duplicates(void **state)
{
	struct madt_cpus c;

	(void)state;
	begin();
	lapic(0, 0, 1);
	x2apic(0, 1); /* the same CPU listed twice */
	x2apic(300, 1);
	lapic(9, 0xff, 1); /* placeholder */
	assert_int_equal(madt_parse(table, used, &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.apic_id[1], 300);
}

static void test_truncated_tables(void **state)
{
	struct madt_cpus c;

	(void)state;
	begin();
	lapic(0, 0, 1);
	assert_int_equal(madt_parse(table, 20, &c), -1);
	assert_int_equal(madt_parse(table, used - 1, &c), -1);
	table[44 + 1] = 0; /* a zero-length entry would loop forever */
	assert_int_equal(madt_parse(table, used, &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lapic_entries),
		cmocka_unit_test(test_x2apic_entries_and_duplicates),
		cmocka_unit_test(test_truncated_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
