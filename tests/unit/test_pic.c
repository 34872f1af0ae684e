/* Unit tests for vmm/dev/pic.c: the command sequences of the 8259A data
 * sheet as Linux (init_8259A, probe_8259A, mask_and_ack_8259A) and SeaBIOS
 * issue them, driven through the I/O bus, with the INTA cycle of the CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/pic.h"

#define MASTER_CMD 0x20
#define MASTER_IMR 0x21
#define SLAVE_CMD 0xa0
#define SLAVE_IMR 0xa1
#define ELCR1 0x4d0
#define ELCR2 0x4d1

#define ICW1_EDGE_ICW4 0x11 /* ICW1: edge, cascade, ICW4 follows */
#define ICW1_LEVEL_ICW4 0x19
#define ICW4_8086 0x01
#define ICW4_8086_AEOI 0x03
#define ICW4_8086_SFNM 0x11
#define OCW2_EOI 0x20
#define OCW2_SPECIFIC_EOI 0x60
#define OCW2_ROTATE_EOI 0xa0
#define OCW2_SET_PRIORITY 0xc0
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW3_POLL 0x0c
#define OCW3_SMM_ON 0x68
#define OCW3_SMM_OFF 0x48

#define LINUX_VECTOR0 0x30 /* ISA_IRQ_VECTOR(0) */

static struct io_bus bus;
static struct pic pic;

static void out8(uint16_t port, uint8_t v)
{
	io_bus_write(&bus, port, 1, v);
}

static uint8_t in8(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	pic_init(&pic);
	return pic_attach(&pic, &bus);
}

/* Linux's init_8259A(auto_eoi): mask, ICW1-ICW4 on both chips, restore the
 * masks (here: everything unmasked). */
static void linux_init(bool auto_eoi)
{
	out8(MASTER_IMR, 0xff);
	out8(MASTER_CMD, ICW1_EDGE_ICW4);
	out8(MASTER_IMR, LINUX_VECTOR0);
	out8(MASTER_IMR, 1u << PIC_CASCADE_IRQ);
	out8(MASTER_IMR, auto_eoi ? ICW4_8086_AEOI : ICW4_8086);
	out8(SLAVE_CMD, ICW1_EDGE_ICW4);
	out8(SLAVE_IMR, LINUX_VECTOR0 + 8);
	out8(SLAVE_IMR, PIC_CASCADE_IRQ);
	out8(SLAVE_IMR, ICW4_8086);
	out8(MASTER_IMR, 0x00);
	out8(SLAVE_IMR, 0x00);
}

static void pulse(unsigned irq)
{
	pic_set_irq(&pic, irq, true);
	pic_set_irq(&pic, irq, false);
}

static uint8_t read_isr(uint16_t cmd)
{
	out8(cmd, OCW3_READ_ISR);
	return in8(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	out8(cmd, OCW3_READ_IRR);
	return in8(cmd);
}

/* Linux's EOI for an IRQ: specific EOI to the slave, then for the cascade
 * on the master (mask_and_ack_8259A). */
static void eoi(unsigned irq)
{
	if (irq >= 8) {
		out8(SLAVE_CMD, OCW2_SPECIFIC_EOI + (irq & 7));
		out8(MASTER_CMD, OCW2_SPECIFIC_EOI + PIC_CASCADE_IRQ);
	} else {
		out8(MASTER_CMD, OCW2_SPECIFIC_EOI + irq);
	}
}

static void test_firmware_state_and_probe(void **state)
{
	(void)state;
	/* Before any ICW: firmware vectors, only the cascade unmasked. */
	assert_int_equal(in8(MASTER_IMR), 0xfb);
	assert_int_equal(in8(SLAVE_IMR), 0xff);
	pulse(0);
	assert_false(pic_has_interrupt(&pic)); /* masked */
	out8(MASTER_IMR, 0xfa);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x08);
	pulse(8);
	assert_false(pic_has_interrupt(&pic));
	out8(SLAVE_IMR, 0xfe);
	out8(MASTER_CMD, OCW2_EOI);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x70);
	/* probe_8259A: the IMR reads back what was written. */
	out8(SLAVE_IMR, 0xff);
	out8(MASTER_IMR, 0xfb);
	assert_int_equal(in8(MASTER_IMR), 0xfb);
}

static void test_linux_init_vectors(void **state)
{
	(void)state;
	linux_init(false);
	assert_int_equal(in8(MASTER_IMR), 0x00);
	assert_int_equal(pic.master.vector_base, 0x30);
	assert_int_equal(pic.slave.vector_base, 0x38);
	for (unsigned irq = 0; irq < PIC_IRQS; irq++) {
		if (irq == PIC_CASCADE_IRQ)
			continue;
		pulse(irq);
		assert_true(pic_has_interrupt(&pic));
		assert_int_equal(pic_acknowledge(&pic), LINUX_VECTOR0 + irq);
		assert_false(pic_has_interrupt(&pic));
		eoi(irq);
		assert_int_equal(read_isr(MASTER_CMD), 0);
		assert_int_equal(read_isr(SLAVE_CMD), 0);
	}
}

static void test_icw1_resets(void **state)
{
	(void)state;
	linux_init(false);
	pulse(3);
	assert_int_equal(pic_acknowledge(&pic), 0x33);
	pulse(4);
	out8(MASTER_IMR, 0x55);
	/* ICW1 clears the IMR, ISR and the edge requests; reads go back to
	 * IRR. */
	out8(MASTER_CMD, OCW3_READ_ISR);
	out8(MASTER_CMD, ICW1_EDGE_ICW4);
	out8(MASTER_IMR, 0x20);
	out8(MASTER_IMR, 0x04);
	out8(MASTER_IMR, ICW4_8086);
	assert_int_equal(in8(MASTER_IMR), 0x00);
	assert_int_equal(in8(MASTER_CMD), 0x00); /* IRR */
	assert_int_equal(read_isr(MASTER_CMD), 0x00);
	assert_false(pic_has_interrupt(&pic));
	pulse(5);
	assert_int_equal(pic_acknowledge(&pic), 0x25);
}

static void test_mask_keeps_request(void **state)
{
	(void)state;
	linux_init(false);
	out8(MASTER_IMR, 0x10); /* mask IRQ 4 */
	pulse(4);
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(read_irr(MASTER_CMD), 0x10);
	out8(MASTER_IMR, 0x00);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x34);
	assert_int_equal(read_irr(MASTER_CMD), 0x00);
	assert_int_equal(read_isr(MASTER_CMD), 0x10);
}

static void test_priority_and_nesting(void **state)
{
	(void)state;
	linux_init(false);
	pulse(5);
	pulse(3);
	assert_int_equal(pic_acknowledge(&pic), 0x33); /* IR3 beats IR5 */
	/* IR5 is below IR3 in service: held. IR1 is above: it nests. */
	assert_false(pic_has_interrupt(&pic));
	pulse(1);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x31);
	assert_int_equal(read_isr(MASTER_CMD), 0x0a);
	/* A non-specific EOI ends the highest in service: IR1. */
	out8(MASTER_CMD, OCW2_EOI);
	assert_int_equal(read_isr(MASTER_CMD), 0x08);
	assert_false(pic_has_interrupt(&pic));
	out8(MASTER_CMD, OCW2_EOI);
	assert_int_equal(pic_acknowledge(&pic), 0x35);
	/* The same level again while in service waits for its EOI. */
	pulse(5);
	assert_false(pic_has_interrupt(&pic));
	eoi(5);
	assert_int_equal(pic_acknowledge(&pic), 0x35);
}

static void test_cascade_priority(void **state)
{
	(void)state;
	linux_init(false);
	/* The slave's lines rank at IR2: between IRQ 1 and IRQ 3. */
	pulse(3);
	pulse(10);
	pulse(1);
	pulse(8);
	assert_int_equal(pic_acknowledge(&pic), 0x31);
	eoi(1);
	assert_int_equal(pic_acknowledge(&pic), 0x38);
	/* IRQ 8 in service blocks IRQ 3 and the lower slave line 10... */
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(read_isr(MASTER_CMD), 0x04);
	assert_int_equal(read_isr(SLAVE_CMD), 0x01);
	/* ...but not IRQ 0. */
	pulse(0);
	assert_int_equal(pic_acknowledge(&pic), 0x30);
	eoi(0);
	eoi(8);
	assert_int_equal(pic_acknowledge(&pic), 0x3a);
	eoi(10);
	assert_int_equal(pic_acknowledge(&pic), 0x33);
	eoi(3);
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(read_irr(MASTER_CMD), 0);
	assert_int_equal(read_irr(SLAVE_CMD), 0);
}

static void test_slave_higher_request_needs_master_eoi(void **state)
{
	(void)state;
	linux_init(false);
	pulse(12);
	assert_int_equal(pic_acknowledge(&pic), 0x3c);
	/* IRQ 9 outranks 12 in the slave, but the master has IR2 in service:
	 * in fully nested mode it waits for the master's EOI. */
	pulse(9);
	assert_false(pic_has_interrupt(&pic));
	out8(MASTER_CMD, OCW2_SPECIFIC_EOI + PIC_CASCADE_IRQ);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x39);
	assert_int_equal(read_isr(SLAVE_CMD), 0x12);
}

static void test_special_fully_nested(void **state)
{
	(void)state;
	linux_init(false);
	out8(MASTER_CMD, ICW1_EDGE_ICW4);
	out8(MASTER_IMR, LINUX_VECTOR0);
	out8(MASTER_IMR, 1u << PIC_CASCADE_IRQ);
	out8(MASTER_IMR, ICW4_8086_SFNM);
	pulse(12);
	assert_int_equal(pic_acknowledge(&pic), 0x3c);
	/* SFNM: a higher slave request gets through with IR2 in service... */
	pulse(9);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x39);
	/* ...a lower master line still does not. */
	pulse(4);
	assert_false(pic_has_interrupt(&pic));
}

static void test_spurious_irq7(void **state)
{
	(void)state;
	linux_init(false);
	/* INTA with nothing pending: IR7's vector and no ISR bit. */
	assert_int_equal(pic_acknowledge(&pic), 0x37);
	assert_int_equal(read_isr(MASTER_CMD), 0x00);
	/* A level request withdrawn before INTA. */
	out8(ELCR1, 0x20);
	pic_set_irq(&pic, 5, true);
	assert_true(pic_has_interrupt(&pic));
	pic_set_irq(&pic, 5, false);
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x37);
	assert_int_equal(read_isr(MASTER_CMD), 0x00);
	/* A real IRQ 7 sets its ISR bit; that is how Linux tells them apart. */
	pulse(7);
	assert_int_equal(pic_acknowledge(&pic), 0x37);
	assert_int_equal(read_isr(MASTER_CMD), 0x80);
}

static void test_spurious_irq15(void **state)
{
	(void)state;
	linux_init(false);
	/* The slave's request latched IR2 on the master, then went away
	 * (masked) before INTA: the slave answers with IR7, sets nothing, and
	 * the master's IR2 is in service (Linux EOIs the master only). */
	pulse(11);
	assert_true(pic_has_interrupt(&pic));
	out8(SLAVE_IMR, 0x08);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x3f);
	assert_int_equal(read_isr(SLAVE_CMD), 0x00);
	assert_int_equal(read_isr(MASTER_CMD), 0x04);
	out8(MASTER_CMD, OCW2_SPECIFIC_EOI + PIC_CASCADE_IRQ);
	/* Unmasked again, the latched request on the slave is delivered. */
	out8(SLAVE_IMR, 0x00);
	assert_int_equal(pic_acknowledge(&pic), 0x3b);
}

static void test_auto_eoi(void **state)
{
	(void)state;
	linux_init(true);
	pulse(0);
	assert_int_equal(pic_acknowledge(&pic), 0x30);
	assert_int_equal(read_isr(MASTER_CMD), 0x00); /* no EOI needed */
	pulse(0);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x30);
	/* The slave still needs its EOI; with the master in AEOI the cascade
	 * in the master is not in service. */
	pulse(14);
	assert_int_equal(pic_acknowledge(&pic), 0x3e);
	assert_int_equal(read_isr(SLAVE_CMD), 0x40);
	assert_int_equal(read_isr(MASTER_CMD), 0x00);
}

static void test_elcr_level(void **state)
{
	(void)state;
	linux_init(false);
	/* IRQ 0-2, 8 and 13 cannot be level-triggered. */
	out8(ELCR1, 0xff);
	out8(ELCR2, 0xff);
	assert_int_equal(in8(ELCR1), 0xf8);
	assert_int_equal(in8(ELCR2), 0xde);
	out8(ELCR1, 0x00);
	out8(ELCR2, 0x0e); /* IRQ 9, 10, 11 level, as for PCI INTx */
	pic_set_irq(&pic, 10, true);
	assert_int_equal(pic_acknowledge(&pic), 0x3a);
	/* The line stays high: after the EOI it interrupts again. */
	eoi(10);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x3a);
	/* The device is serviced (line low) before the EOI: no more. */
	pic_set_irq(&pic, 10, false);
	eoi(10);
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(read_irr(SLAVE_CMD), 0x00);
	/* An edge line raised and held interrupts once. */
	pic_set_irq(&pic, 12, true);
	assert_int_equal(pic_acknowledge(&pic), 0x3c);
	eoi(12);
	assert_false(pic_has_interrupt(&pic));
	/* Switching a held line to level makes it request at once. */
	out8(ELCR2, 0x1e);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x3c);
}

static void test_ltim_level_chip(void **state)
{
	(void)state;
	/* ICW1 LTIM makes every input of that chip level-triggered. */
	out8(MASTER_CMD, ICW1_LEVEL_ICW4);
	out8(MASTER_IMR, 0x40);
	out8(MASTER_IMR, 0x04);
	out8(MASTER_IMR, ICW4_8086);
	pic_set_irq(&pic, 1, true);
	assert_int_equal(pic_acknowledge(&pic), 0x41);
	out8(MASTER_CMD, OCW2_EOI);
	assert_int_equal(pic_acknowledge(&pic), 0x41);
	pic_set_irq(&pic, 1, false);
	out8(MASTER_CMD, OCW2_EOI);
	assert_false(pic_has_interrupt(&pic));
}

static void test_poll_mode(void **state)
{
	(void)state;
	linux_init(false);
	out8(MASTER_CMD, OCW3_POLL);
	assert_int_equal(in8(MASTER_CMD), 0x00); /* nothing pending */
	pulse(6);
	pulse(4);
	out8(MASTER_CMD, OCW3_POLL);
	assert_int_equal(in8(MASTER_CMD), 0x84); /* I | level 4, acked */
	assert_int_equal(read_isr(MASTER_CMD), 0x10);
	/* Only the next read is a poll; the odd port polls too. */
	assert_int_equal(in8(MASTER_CMD), 0x10);
	out8(MASTER_CMD, OCW2_EOI);
	out8(MASTER_CMD, OCW3_POLL);
	assert_int_equal(in8(MASTER_IMR), 0x86);
	assert_int_equal(in8(MASTER_IMR), 0x00);
	/* A slave interrupt polls as level 2 on the master, then the slave
	 * tells its own level. */
	out8(MASTER_CMD, OCW2_EOI);
	pulse(13);
	out8(MASTER_CMD, OCW3_POLL);
	assert_int_equal(in8(MASTER_CMD), 0x82);
	out8(SLAVE_CMD, OCW3_POLL);
	assert_int_equal(in8(SLAVE_CMD), 0x85);
	assert_false(pic_has_interrupt(&pic));
}

static void test_special_mask_mode(void **state)
{
	(void)state;
	linux_init(false);
	pulse(3);
	assert_int_equal(pic_acknowledge(&pic), 0x33);
	pulse(5);
	assert_false(pic_has_interrupt(&pic));
	/* SMM + mask of the level in service: lower levels get through. */
	out8(MASTER_CMD, OCW3_SMM_ON);
	out8(MASTER_IMR, 0x08);
	assert_true(pic_has_interrupt(&pic));
	assert_int_equal(pic_acknowledge(&pic), 0x35);
	out8(MASTER_CMD, OCW2_SPECIFIC_EOI + 5);
	out8(MASTER_CMD, OCW3_SMM_OFF);
	pulse(6);
	assert_false(pic_has_interrupt(&pic)); /* IR3 still in service */
	out8(MASTER_CMD, OCW2_SPECIFIC_EOI + 3);
	assert_int_equal(pic_acknowledge(&pic), 0x36);
}

static void test_rotation(void **state)
{
	(void)state;
	linux_init(false);
	/* Set priority: IR4 lowest, so IR5 is highest. */
	out8(MASTER_CMD, OCW2_SET_PRIORITY + 4);
	pulse(1);
	pulse(5);
	assert_int_equal(pic_acknowledge(&pic), 0x35);
	/* Rotate on non-specific EOI: IR5 becomes the lowest, IR6 highest. */
	out8(MASTER_CMD, OCW2_ROTATE_EOI);
	pulse(7);
	pulse(5);
	assert_int_equal(pic_acknowledge(&pic), 0x37);
	out8(MASTER_CMD, OCW2_EOI);
	assert_int_equal(pic_acknowledge(&pic), 0x31);
	out8(MASTER_CMD, OCW2_EOI);
	assert_int_equal(pic_acknowledge(&pic), 0x35);
}

static void test_line_2_is_the_cascade(void **state)
{
	(void)state;
	linux_init(false);
	pulse(2);
	pic_set_irq(&pic, 16, true);
	assert_false(pic_has_interrupt(&pic));
	assert_int_equal(read_irr(MASTER_CMD), 0x00);
}

static void test_attach(void **state)
{
	(void)state;
	struct pic other;

	pic_init(&other);
	assert_int_equal(pic_attach(&other, &bus), -1);
	assert_int_equal(in8(0x22), 0xff); /* not ours */
	assert_int_equal(bus.unclaimed_reads, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_firmware_state_and_probe, setup),
		cmocka_unit_test_setup(test_linux_init_vectors, setup),
		cmocka_unit_test_setup(test_icw1_resets, setup),
		cmocka_unit_test_setup(test_mask_keeps_request, setup),
		cmocka_unit_test_setup(test_priority_and_nesting, setup),
		cmocka_unit_test_setup(test_cascade_priority, setup),
		cmocka_unit_test_setup(test_slave_higher_request_needs_master_eoi, setup),
		cmocka_unit_test_setup(test_special_fully_nested, setup),
		cmocka_unit_test_setup(test_spurious_irq7, setup),
		cmocka_unit_test_setup(test_spurious_irq15, setup),
		cmocka_unit_test_setup(test_auto_eoi, setup),
		cmocka_unit_test_setup(test_elcr_level, setup),
		cmocka_unit_test_setup(test_ltim_level_chip, setup),
		cmocka_unit_test_setup(test_poll_mode, setup),
		cmocka_unit_test_setup(test_special_mask_mode, setup),
		cmocka_unit_test_setup(test_rotation, setup),
		cmocka_unit_test_setup(test_line_2_is_the_cascade, setup),
		cmocka_unit_test_setup(test_attach, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
