/* Unit tests for vmm/dev/vioapic.c: the 82093AA I/O APIC's indirect registers
 * (IOREGSEL/IOWIN), redirection entries, edge and level delivery with
 * remote IRR, the EOI register of version 0x20 parts, and the messages
 * sent to the local APICs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOEOI 0x40
#define IDX_ID 0x00
#define IDX_VERSION 0x01
#define IDX_ARB 0x02
#define IDX_REDIR(pin) (0x10 + 2 * (pin))

#define RTE_LOGICAL (1u << 11)
#define RTE_DELIVERY_STATUS (1u << 12)
#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

#define MAX_MSGS 16

static struct vioapic io;
static struct vioapic_msg msgs[MAX_MSGS];
static unsigned nmsgs;
static int ctx_token;

static void record(void *ctx, const struct vioapic_msg *msg)
{
	assert_ptr_equal(ctx, &ctx_token);
	assert_true(nmsgs < MAX_MSGS);
	msgs[nmsgs++] = *msg;
}

static int setup(void **state)
{
	(void)state;
	nmsgs = 0;
	memset(msgs, 0, sizeof(msgs));
	vioapic_init(&io, 2, record, &ctx_token);
	return 0;
}

static void mw(unsigned off, uint32_t v)
{
	vioapic_mmio_write(&io, VIOAPIC_MMIO_BASE + off, 4, v);
}

static uint32_t mr(unsigned off)
{
	return (uint32_t)vioapic_mmio_read(&io, VIOAPIC_MMIO_BASE + off, 4);
}

static uint32_t reg_read(uint32_t idx)
{
	mw(IOREGSEL, idx);
	return mr(IOWIN);
}

static void reg_write(uint32_t idx, uint32_t v)
{
	mw(IOREGSEL, idx);
	mw(IOWIN, v);
}

/* Programs pin as Linux's ioapic_write_entry does: high half, then low. */
static void program(unsigned pin, uint8_t dest, uint32_t low)
{
	reg_write(IDX_REDIR(pin) + 1, (uint32_t)dest << 24);
	reg_write(IDX_REDIR(pin), low);
}

static void test_id_version_select(void **state)
{
	(void)state;
	assert_int_equal(reg_read(IDX_ID), 2u << 24);
	/* 24 entries (max redirection entry 23), version 0x20. */
	assert_int_equal(reg_read(IDX_VERSION), 0x00170020);
	assert_int_equal(reg_read(IDX_ARB), 2u << 24);
	/* The ID is 4 bits. */
	reg_write(IDX_ID, 0xff000000);
	assert_int_equal(reg_read(IDX_ID), 0x0f000000);
	reg_write(IDX_ID, 0x05000000);
	assert_int_equal(reg_read(IDX_ID), 0x05000000);
	/* The version is read-only. */
	reg_write(IDX_VERSION, 0);
	assert_int_equal(reg_read(IDX_VERSION), 0x00170020);
	/* IOREGSEL reads back (8 bits). */
	mw(IOREGSEL, 0x1234);
	assert_int_equal(mr(IOREGSEL), 0x34);
	/* Indexes beyond the last entry read 0 and ignore writes. */
	assert_int_equal(reg_read(IDX_REDIR(VIOAPIC_PINS)), 0);
	reg_write(IDX_REDIR(VIOAPIC_PINS), 0x30);
	assert_int_equal(reg_read(IDX_REDIR(VIOAPIC_PINS)), 0);
	/* Other offsets read 0. */
	assert_int_equal(mr(0x20), 0);
	assert_int_equal(mr(IOEOI), 0);
}

static void test_entries_masked_at_reset(void **state)
{
	(void)state;
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		assert_int_equal(reg_read(IDX_REDIR(pin)), RTE_MASKED);
		assert_int_equal(reg_read(IDX_REDIR(pin) + 1), 0);
	}
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		vioapic_set_irq(&io, pin, true);
		vioapic_set_irq(&io, pin, false);
	}
	assert_int_equal(nmsgs, 0);
}

static void test_redirection_entry_read_write(void **state)
{
	(void)state;
	program(5, 0xa7, 0x0001ffff);
	/* Delivery status and remote IRR are read-only. */
	assert_int_equal(reg_read(IDX_REDIR(5)),
			 0x0001ffff & ~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR));
	assert_int_equal(reg_read(IDX_REDIR(5) + 1), 0xa7000000);
	/* The halves are independent; neighbours are untouched. */
	reg_write(IDX_REDIR(5) + 1, 0x01000000);
	assert_int_equal(reg_read(IDX_REDIR(5)),
			 0x0001ffff & ~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR));
	assert_int_equal(reg_read(IDX_REDIR(4)), RTE_MASKED);
	assert_int_equal(reg_read(IDX_REDIR(6)), RTE_MASKED);
	program(23, 0x0f, 0x30);
	assert_int_equal(reg_read(IDX_REDIR(23)), 0x30);
	assert_int_equal(reg_read(IDX_REDIR(23) + 1), 0x0f000000);
}

static void test_edge(void **state)
{
	(void)state;
	program(2, 0x01, 0x30); /* fixed, physical, edge, high, unmasked */
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x30);
	assert_int_equal(msgs[0].mode, APIC_DM_FIXED);
	assert_false(msgs[0].logical);
	assert_false(msgs[0].level);
	assert_int_equal(msgs[0].dest, 0x01);
	/* Holding the line high is not another edge. */
	vioapic_set_irq(&io, 2, true);
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 1);
	/* Edge entries have no remote IRR, so no EOI is needed. */
	assert_int_equal(reg_read(IDX_REDIR(2)) & RTE_REMOTE_IRR, 0);
	vioapic_set_irq(&io, 2, false);
	assert_int_equal(nmsgs, 1);
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 2);
	vioapic_set_irq(&io, 2, false);

	/* An edge while masked is lost; unmasking does not replay it. */
	program(2, 0x01, 0x30 | RTE_MASKED);
	vioapic_set_irq(&io, 2, true);
	program(2, 0x01, 0x30);
	assert_int_equal(nmsgs, 2);
	/* The line is already high: no edge until it drops. */
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 2);
	vioapic_set_irq(&io, 2, false);
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 3);

	/* Other pins are independent. */
	program(3, 0x01, 0x31);
	vioapic_set_irq(&io, 3, true);
	assert_int_equal(nmsgs, 4);
	assert_int_equal(msgs[3].vector, 0x31);
	/* Out-of-range pins are ignored. */
	vioapic_set_irq(&io, VIOAPIC_PINS, true);
	vioapic_set_irq(&io, 1000, true);
	assert_int_equal(nmsgs, 4);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	program(9, 0x00, 0x39 | RTE_LEVEL);
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x39);
	assert_true(msgs[0].level);
	assert_true(reg_read(IDX_REDIR(9)) & RTE_REMOTE_IRR);
	/* The guest cannot clear remote IRR by writing the entry. */
	reg_write(IDX_REDIR(9), 0x39 | RTE_LEVEL);
	assert_true(reg_read(IDX_REDIR(9)) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 1);

	/* Still asserted, but not EOIed yet: nothing more. */
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 1);

	/* EOI of another vector does not touch it. */
	vioapic_eoi(&io, 0x38);
	assert_true(reg_read(IDX_REDIR(9)) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 1);

	/* EOI with the line still high: remote IRR cleared, sent again. */
	vioapic_eoi(&io, 0x39);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].vector, 0x39);
	assert_true(reg_read(IDX_REDIR(9)) & RTE_REMOTE_IRR);

	/* The device drops the line, then the EOI: nothing resent. */
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x39);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(reg_read(IDX_REDIR(9)) & RTE_REMOTE_IRR, 0);

	/* Next assertion delivers again. */
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 3);
}

static void test_eoi_register(void **state)
{
	(void)state;
	program(10, 0x00, 0x3a | RTE_LEVEL);
	program(11, 0x00, 0x3b | RTE_LEVEL);
	vioapic_set_irq(&io, 10, true);
	vioapic_set_irq(&io, 11, true);
	assert_int_equal(nmsgs, 2);
	vioapic_set_irq(&io, 10, false);
	/* Directed EOI through the register at 0x40: only that vector. */
	mw(IOEOI, 0x3a);
	assert_int_equal(reg_read(IDX_REDIR(10)) & RTE_REMOTE_IRR, 0);
	assert_true(reg_read(IDX_REDIR(11)) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 2);
	mw(IOEOI, 0x3b);
	assert_int_equal(nmsgs, 3); /* line 11 still high */
	assert_int_equal(msgs[2].vector, 0x3b);

	/* Two pins sharing a vector are both released by one EOI. */
	program(12, 0x00, 0x3c | RTE_LEVEL);
	program(13, 0x00, 0x3c | RTE_LEVEL);
	vioapic_set_irq(&io, 12, true);
	vioapic_set_irq(&io, 13, true);
	assert_int_equal(nmsgs, 5);
	vioapic_set_irq(&io, 12, false);
	vioapic_set_irq(&io, 13, false);
	vioapic_eoi(&io, 0x3c);
	assert_int_equal(reg_read(IDX_REDIR(12)) & RTE_REMOTE_IRR, 0);
	assert_int_equal(reg_read(IDX_REDIR(13)) & RTE_REMOTE_IRR, 0);
}

static void test_unmask_level_with_line_high(void **state)
{
	(void)state;
	program(4, 0x00, 0x34 | RTE_LEVEL | RTE_MASKED);
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(reg_read(IDX_REDIR(4)) & RTE_REMOTE_IRR, 0);
	/* Rewriting it still masked sends nothing. */
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL | RTE_MASKED);
	assert_int_equal(nmsgs, 0);
	/* Unmasking with the line asserted delivers (with the new vector). */
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x35);
	assert_true(reg_read(IDX_REDIR(4)) & RTE_REMOTE_IRR);
	/* Mask and unmask while remote IRR is set: no second message. */
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL | RTE_MASKED);
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL);
	assert_int_equal(nmsgs, 1);
	/* EOI while masked clears remote IRR but sends nothing; unmasking
	 * then delivers the still-asserted line. */
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL | RTE_MASKED);
	vioapic_eoi(&io, 0x35);
	assert_int_equal(reg_read(IDX_REDIR(4)) & RTE_REMOTE_IRR, 0);
	assert_int_equal(nmsgs, 1);
	reg_write(IDX_REDIR(4), 0x35 | RTE_LEVEL);
	assert_int_equal(nmsgs, 2);

	/* A line that dropped while masked is not delivered on unmask. */
	program(6, 0x00, 0x36 | RTE_LEVEL | RTE_MASKED);
	vioapic_set_irq(&io, 6, true);
	vioapic_set_irq(&io, 6, false);
	reg_write(IDX_REDIR(6), 0x36 | RTE_LEVEL);
	assert_int_equal(nmsgs, 2);
	/* An edge entry is not delivered on unmask. */
	program(7, 0x00, 0x37 | RTE_MASKED);
	vioapic_set_irq(&io, 7, true);
	reg_write(IDX_REDIR(7), 0x37);
	assert_int_equal(nmsgs, 2);
}

static void test_delivery_fields(void **state)
{
	(void)state;
	/* Lowest priority, logical, destination 0xff (what Linux's flat
	 * logical mode programs), level, active low. */
	program(16, 0xff, 0x41 | (APIC_DM_LOWEST << 8) | RTE_LOGICAL | RTE_LEVEL | RTE_ACTIVE_LOW);
	vioapic_set_irq(&io, 16, true);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x41);
	assert_int_equal(msgs[0].mode, APIC_DM_LOWEST);
	assert_true(msgs[0].logical);
	assert_true(msgs[0].level);
	assert_int_equal(msgs[0].dest, 0xff);

	/* NMI, physical, to APIC 3. */
	program(17, 0x03, (APIC_DM_NMI << 8));
	vioapic_set_irq(&io, 17, true);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].mode, APIC_DM_NMI);
	assert_false(msgs[1].logical);
	assert_false(msgs[1].level);
	assert_int_equal(msgs[1].dest, 3);

	/* ExtINT. */
	program(0, 0x00, (APIC_DM_EXTINT << 8));
	vioapic_set_irq(&io, 0, true);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(msgs[2].mode, APIC_DM_EXTINT);

	/* The destination comes from bits 56-63 only. */
	reg_write(IDX_REDIR(18) + 1, 0x12345678);
	reg_write(IDX_REDIR(18), 0x42);
	vioapic_set_irq(&io, 18, true);
	assert_int_equal(nmsgs, 4);
	assert_int_equal(msgs[3].dest, 0x12);
	assert_int_equal(msgs[3].vector, 0x42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_id_version_select, setup),
		cmocka_unit_test_setup(test_entries_masked_at_reset, setup),
		cmocka_unit_test_setup(test_redirection_entry_read_write, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level_remote_irr, setup),
		cmocka_unit_test_setup(test_eoi_register, setup),
		cmocka_unit_test_setup(test_unmask_level_with_line_high, setup),
		cmocka_unit_test_setup(test_delivery_fields, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
