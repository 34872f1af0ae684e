/* Unit tests for arch/x86/madt.c: the CPUs, I/O APICs and ISA interrupt
 * overrides a firmware MADT lists. */
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

static void ioapic_at(uint8_t id, uint32_t address, uint32_t gsi_base)
{
	uint8_t e[12] = { 1, 12, id };

	memcpy(e + 4, &address, 4);
	memcpy(e + 8, &gsi_base, 4);
	memcpy(table + used, e, sizeof(e));
	used += sizeof(e);
}

static void ioapic(void)
{
	ioapic_at(0, 0, 0);
}

static void override(uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t e[10] = { 2, 10, bus, irq };

	memcpy(e + 4, &gsi, 4);
	memcpy(e + 8, &flags, 2);
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

static void test_ioapics_and_isa_overrides(void **state)
{
	struct madt_irqs m;

	(void)state;
	begin();
	lapic(0, 0, 1);
	ioapic_at(2, 0xfec00000, 0);
	ioapic_at(3, 0xfec01000, 24);
	override(0, 0, 2, 0);	  /* the PIT on input 2, as the bus says */
	override(0, 9, 9, 0xf);	  /* SCI: active low, level */
	override(0, 4, 20, 0x5);  /* active high, edge, spelled out */
	override(1, 3, 7, 0xf);	  /* not ISA: ignored */
	override(0, 200, 7, 0xf); /* no such ISA IRQ: ignored */
	assert_int_equal(madt_parse_irqs(table, used, &m), 0);
	assert_int_equal(m.ioapic_count, 2);
	assert_int_equal(m.ioapic[0].id, 2);
	assert_int_equal(m.ioapic[0].address, 0xfec00000);
	assert_int_equal(m.ioapic[1].gsi_base, 24);
	assert_int_equal(m.isa[0].gsi, 2);
	assert_false(m.isa[0].active_low || m.isa[0].level);
	assert_int_equal(m.isa[9].gsi, 9);
	assert_true(m.isa[9].active_low && m.isa[9].level);
	assert_int_equal(m.isa[4].gsi, 20);
	assert_false(m.isa[4].active_low || m.isa[4].level);
	/* Without an override an ISA IRQ is the GSI of its number. */
	assert_int_equal(m.isa[3].gsi, 3);
	assert_false(m.isa[3].active_low || m.isa[3].level);
	assert_int_equal(m.isa[1].gsi, 1);
}

static void test_irqs_of_truncated_tables(void **state)
{
	struct madt_irqs m;

	(void)state;
	begin();
	assert_int_equal(madt_parse_irqs(table, 20, &m), -1);
	ioapic_at(0, 0xfec00000, 0);
	assert_int_equal(madt_parse_irqs(table, used - 1, &m), -1);
	table[44 + 1] = 0;
	assert_int_equal(madt_parse_irqs(table, used, &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lapic_entries),
		cmocka_unit_test(test_x2apic_entries_and_duplicates),
		cmocka_unit_test(test_truncated_tables),
		cmocka_unit_test(test_ioapics_and_isa_overrides),
		cmocka_unit_test(test_irqs_of_truncated_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
