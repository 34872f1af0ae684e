/* Unit tests for vmm/dev/sysctl.c: each reset path as Linux's
 * native_machine_emergency_restart() drives it, the A20 gates, and the
 * keyboard controller as Linux's i8042 driver probes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/sysctl.h"

#define KBC_DATA 0x60
#define KBC_CMD 0x64
#define PORT_A 0x92
#define RST_CNT 0xcf9

#define STATUS_OBF 0x01
#define STATUS_IBF 0x02
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10
#define STATUS_AUX 0x20

static struct io_bus bus;
static struct sysctl sys;
static unsigned resets;
static int reset_ctx;

static void on_reset(void *ctx)
{
	assert_ptr_equal(ctx, &reset_ctx);
	resets++;
}

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	resets = 0;
	sysctl_init(&sys, on_reset, &reset_ctx);
	return sysctl_attach(&sys, &bus);
}

static void out8(uint16_t port, uint8_t v)
{
	io_bus_write(&bus, port, 1, v);
}

static uint8_t in8(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

/* Linux's kb_wait(): spin while the input buffer is full. */
static unsigned kb_wait(void)
{
	unsigned spins = 0;

	while ((in8(KBC_CMD) & STATUS_IBF) && spins < 0x10000)
		spins++;
	return spins;
}

/* An i8042 command with one answer, as Linux's __i8042_command() does it:
 * wait for IBF clear, write, wait for OBF. */
static int kbc_query(uint8_t cmd, uint8_t *answer)
{
	assert_int_equal(kb_wait(), 0);
	out8(KBC_CMD, cmd);
	for (unsigned i = 0; i < 100; i++) {
		if (in8(KBC_CMD) & STATUS_OBF) {
			*answer = in8(KBC_DATA);
			return 0;
		}
	}
	return -1;
}

static void test_reset_port_a(void **state)
{
	(void)state;
	assert_int_equal(in8(PORT_A), 0x02); /* A20 on, as firmware leaves it */
	out8(PORT_A, in8(PORT_A) | 0x01);
	assert_int_equal(resets, 1);
	/* Only the 0 -> 1 edge resets. */
	out8(PORT_A, 0x03);
	assert_int_equal(resets, 1);
	out8(PORT_A, 0x02);
	out8(PORT_A, 0x03);
	assert_int_equal(resets, 2);
	/* Other bits read back as 0. */
	out8(PORT_A, 0xfc);
	assert_int_equal(in8(PORT_A), 0x00);
}

static void test_reset_kbc_pulse(void **state)
{
	(void)state;
	/* BOOT_KBD: kb_wait(), then 0xFE to port 0x64. */
	assert_int_equal(kb_wait(), 0);
	out8(KBC_CMD, 0xfe);
	assert_int_equal(resets, 1);
	/* Pulse commands name the output bits to pulse by clear bits. */
	out8(KBC_CMD, 0xff);
	out8(KBC_CMD, 0xfd);
	assert_int_equal(resets, 1);
	out8(KBC_CMD, 0xf0);
	assert_int_equal(resets, 2);
}

static void test_reset_kbc_output_port(void **state)
{
	(void)state;
	uint8_t out;

	assert_int_equal(kbc_query(0xd0, &out), 0);
	assert_int_equal(out, 0x03);
	out8(KBC_CMD, 0xd1);
	out8(KBC_DATA, 0x03); /* reset line stays high */
	assert_int_equal(resets, 0);
	out8(KBC_CMD, 0xd1);
	out8(KBC_DATA, 0x02); /* bit 0 low: reset */
	assert_int_equal(resets, 1);
	/* A data byte without 0xD1 first is for the (absent) keyboard. */
	out8(KBC_DATA, 0x00);
	assert_int_equal(resets, 1);
}

static void test_reset_cf9(void **state)
{
	(void)state;
	/* BOOT_CF9_FORCE, cold: clear, request hard reset, then RST_CPU. */
	uint8_t cf9 = in8(RST_CNT) & (uint8_t)~0x0e;
	out8(RST_CNT, cf9 | 0x02);
	assert_int_equal(resets, 0);
	assert_int_equal(in8(RST_CNT), 0x02);
	out8(RST_CNT, cf9 | 0x0e);
	assert_int_equal(resets, 1);
	/* Writing RST_CPU again without clearing it: no new edge. */
	out8(RST_CNT, 0x06);
	assert_int_equal(resets, 1);
	/* Warm (soft) reset: RST_CPU without SYS_RST resets too. */
	out8(RST_CNT, 0x00);
	out8(RST_CNT, 0x04);
	assert_int_equal(resets, 2);
}

static void test_a20(void **state)
{
	(void)state;
	assert_true(sysctl_a20_enabled(&sys));
	/* The two gates are ORed: both must close. */
	out8(PORT_A, 0x00);
	assert_int_equal(in8(PORT_A), 0x00);
	assert_true(sysctl_a20_enabled(&sys));
	out8(KBC_CMD, 0xd1);
	out8(KBC_DATA, 0x01);
	assert_false(sysctl_a20_enabled(&sys));
	uint8_t out;
	assert_int_equal(kbc_query(0xd0, &out), 0);
	assert_int_equal(out, 0x01);
	/* The fast gate (SeaBIOS, Linux's boot code) opens it again. */
	out8(PORT_A, 0x02);
	assert_int_equal(in8(PORT_A), 0x02);
	assert_true(sysctl_a20_enabled(&sys));
	out8(PORT_A, 0x00);
	out8(KBC_CMD, 0xd1);
	out8(KBC_DATA, 0x03);
	assert_true(sysctl_a20_enabled(&sys));
	assert_int_equal(resets, 0);
}

/* Linux's i8042_controller_check() and i8042_controller_init(): flush the
 * output buffer, read the command byte until two reads agree, write it
 * back. */
static void test_linux_i8042_probe(void **state)
{
	(void)state;
	/* Status: nothing to read, room to write, POST passed, unlocked. */
	assert_int_equal(in8(KBC_CMD), STATUS_SYS | STATUS_UNLOCKED);
	uint8_t ctr[2];
	assert_int_equal(kbc_query(0x20, &ctr[0]), 0);
	assert_int_equal(kbc_query(0x20, &ctr[1]), 0);
	assert_int_equal(ctr[0], ctr[1]);
	assert_int_equal(ctr[0], 0x45); /* KBDINT | SYS | XLATE */
	assert_int_equal(in8(KBC_CMD), STATUS_SYS | STATUS_CMD | STATUS_UNLOCKED);
	/* Write CTR: keyboard port disabled, interrupts off. */
	out8(KBC_CMD, 0x60);
	out8(KBC_DATA, 0x54);
	assert_int_equal(in8(KBC_CMD) & STATUS_CMD, 0);
	uint8_t v;
	assert_int_equal(kbc_query(0x20, &v), 0);
	assert_int_equal(v, 0x54);
	/* 0xAD/0xAE flip the keyboard-disable bit; 0xA7/0xA8 the AUX one. */
	out8(KBC_CMD, 0xae);
	assert_int_equal(kbc_query(0x20, &v), 0);
	assert_int_equal(v, 0x44);
	out8(KBC_CMD, 0xad);
	out8(KBC_CMD, 0xa7);
	assert_int_equal(kbc_query(0x20, &v), 0);
	assert_int_equal(v, 0x74);
	out8(KBC_CMD, 0xa8);
	assert_int_equal(kbc_query(0x20, &v), 0);
	assert_int_equal(v, 0x54);
	/* Self-test passes; the SYS status bit follows the command byte. */
	assert_int_equal(kbc_query(0xaa, &v), 0);
	assert_int_equal(v, 0x55);
	out8(KBC_CMD, 0x60);
	out8(KBC_DATA, 0x00);
	assert_int_equal(in8(KBC_CMD) & STATUS_SYS, 0);
	assert_int_equal(resets, 0);
}

/* Linux's i8042_check_aux(): the AUX loopback answers as from the AUX
 * side; the AUX port is then dropped because IRQ 12 never comes. */
static void test_aux_loopback_and_no_devices(void **state)
{
	(void)state;
	out8(KBC_CMD, 0xd3);
	out8(KBC_DATA, 0x5a);
	assert_int_equal(in8(KBC_CMD) & (STATUS_OBF | STATUS_AUX), STATUS_OBF | STATUS_AUX);
	assert_int_equal(in8(KBC_DATA), 0x5a);
	assert_int_equal(in8(KBC_CMD) & (STATUS_OBF | STATUS_AUX), 0);
	/* Bytes for the keyboard or the mouse get no answer. */
	uint8_t v;
	out8(KBC_DATA, 0xf2); /* keyboard GET ID */
	assert_int_equal(in8(KBC_CMD) & STATUS_OBF, 0);
	out8(KBC_CMD, 0xd4);
	out8(KBC_DATA, 0xff); /* mouse RESET */
	assert_int_equal(in8(KBC_CMD) & STATUS_OBF, 0);
	/* Unimplemented commands neither (AUX interface test). */
	assert_int_equal(kbc_query(0xa9, &v), -1);
	/* An empty buffer reads its last byte again. */
	assert_int_equal(in8(KBC_DATA), 0x5a);
}

static void test_post_and_delay_ports(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 256; i++) {
		out8(0x80, (uint8_t)i);
		out8(0xed, (uint8_t)i);
	}
	assert_int_equal(in8(0x80), 0xff);
	assert_int_equal(bus.unclaimed_writes, 0);
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(resets, 0);
	/* Neighbours are not ours. */
	in8(0x61);
	in8(0x91);
	assert_int_equal(bus.unclaimed_reads, 2);
}

static void test_attach_and_no_callback(void **state)
{
	(void)state;
	struct sysctl other;

	sysctl_init(&other, NULL, NULL);
	assert_int_equal(sysctl_attach(&other, &bus), -1);
	/* Without a callback a reset is just dropped. */
	struct io_bus bus2;
	memset(&bus2, 0, sizeof(bus2));
	assert_int_equal(sysctl_attach(&other, &bus2), 0);
	io_bus_write(&bus2, KBC_CMD, 1, 0xfe);
	io_bus_write(&bus2, PORT_A, 1, 0x01);
	assert_int_equal(resets, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_port_a, setup),
		cmocka_unit_test_setup(test_reset_kbc_pulse, setup),
		cmocka_unit_test_setup(test_reset_kbc_output_port, setup),
		cmocka_unit_test_setup(test_reset_cf9, setup),
		cmocka_unit_test_setup(test_a20, setup),
		cmocka_unit_test_setup(test_linux_i8042_probe, setup),
		cmocka_unit_test_setup(test_aux_loopback_and_no_devices, setup),
		cmocka_unit_test_setup(test_post_and_delay_ports, setup),
		cmocka_unit_test_setup(test_attach_and_no_callback, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
