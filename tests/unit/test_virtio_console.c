/* Unit tests for vmm/dev/virtio/virtio_console.c through the virtio-pci
 * transport: the test plays the guest's driver (virtio 1.2, 3.1.1 and
 * 4.1.5: status, features, queues and MSI-X through BAR 0, notifications
 * through BAR 2) over a fake guest RAM, and checks the lines printed for
 * what the guest transmits, the bytes it receives from typed input, the
 * buffering and counted drops, and when the console takes the keyboard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/virtio/virtio_console.h"

#define RAM_SIZE 0x20000
#define QSIZE 16
#define QUEUE_GPA(q) (0x1000 + (q)*0x1000) /* descriptors; rings after */
#define AVAIL_OFF 0x400
#define USED_OFF 0x800
#define DATA_GPA 0x8000
#define BAR_REGS 0
#define BAR_NOTIFY 2
#define MSIX_TABLE 0x3000
#define MSI_VECTOR_BASE 0x40
#define RXQ 0
#define TXQ 1

/* struct virtio_pci_common_cfg (4.1.4.3), from the spec. */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_CONFIG_MSIX_VECTOR 0x10
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

/* The console feature bits that must not be offered (5.3.3). */
#define F_SIZE 0
#define F_MULTIPORT 1
#define F_EMERG_WRITE 2

#include "tests/unit/virtio_driver_rings.h"

#define MAX_LINES 16
static struct {
	char vm[16];
	char text[LINE_OUT_MAX + 1];
} lines[MAX_LINES];
static unsigned nlines;
static unsigned nkprintf;
static char last_kprintf[256];
static uint32_t msi_data[64];
static unsigned nmsi;

void console_vm_line(const char *vm, const char *text, unsigned len);
void console_vm_line(const char *vm, const char *text, unsigned len)
{
	assert_true(nlines < MAX_LINES);
	assert_true(len <= LINE_OUT_MAX);
	snprintf(lines[nlines].vm, sizeof(lines[nlines].vm), "%s", vm);
	memcpy(lines[nlines].text, text, len);
	lines[nlines].text[len] = '\0';
	nlines++;
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_kprintf, sizeof(last_kprintf), fmt, ap);
	va_end(ap);
	nkprintf++;
}

static void msi_send(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	assert_int_equal(address, 0xfee00000u);
	assert_true(nmsi < sizeof(msi_data) / sizeof(msi_data[0]));
	msi_data[nmsi++] = data;
}

static uint8_t *ram;
static struct virtio_console con;
static uint16_t next_desc[2]; /* the driver's next free descriptor per queue */
static uint16_t used_seen[2]; /* used entries the driver has looked at */

static struct drv_desc *desc(unsigned q)
{
	return (struct drv_desc *)(ram + QUEUE_GPA(q));
}

static struct drv_avail *avail(unsigned q)
{
	return (struct drv_avail *)(ram + QUEUE_GPA(q) + AVAIL_OFF);
}

static struct drv_used *used(unsigned q)
{
	return (struct drv_used *)(ram + QUEUE_GPA(q) + USED_OFF);
}

static void reg_write(unsigned off, unsigned size, uint64_t value)
{
	pci_device_bar_write(&con.dev.pci, BAR_REGS, off, size, value);
}

static uint64_t reg_read(unsigned off, unsigned size)
{
	return pci_device_bar_read(&con.dev.pci, BAR_REGS, off, size);
}

static void notify(unsigned q)
{
	pci_device_bar_write(&con.dev.pci, BAR_NOTIFY, 0, 2, q);
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	memset(lines, 0, sizeof(lines));
	nlines = nkprintf = nmsi = 0;
	memset(next_desc, 0, sizeof(next_desc));
	memset(used_seen, 0, sizeof(used_seen));
	assert_int_equal(virtio_console_init(&con, "vm1", ram, RAM_SIZE), 0);
	con.dev.pci.msi_send = msi_send;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

/* The driver's start-up (3.1.1), with MSI-X vector q for queue q. */
static void driver_start(void)
{
	uint8_t cap = con.dev.pci.msix.cap;

	reg_write(CC_DEVICE_STATUS, 1, 1 | 2); /* ACKNOWLEDGE | DRIVER */
	reg_write(CC_DRIVER_FEATURE_SELECT, 4, 1);
	reg_write(CC_DRIVER_FEATURE, 4, 1); /* VERSION_1 */
	reg_write(CC_DRIVER_FEATURE_SELECT, 4, 0);
	reg_write(CC_DRIVER_FEATURE, 4, 0);
	reg_write(CC_DEVICE_STATUS, 1, 1 | 2 | 8);
	assert_int_equal(reg_read(CC_DEVICE_STATUS, 1) & 8, 8); /* FEATURES_OK */
	/* MSI-X on, every vector unmasked and aimed at CPU 0. */
	pci_device_config_write(&con.dev.pci, cap + 2, 2, 0x8000);
	for (unsigned v = 0; v < 3; v++) {
		pci_device_bar_write(&con.dev.pci, BAR_REGS, MSIX_TABLE + 16 * v, 4, 0xfee00000u);
		pci_device_bar_write(&con.dev.pci, BAR_REGS, MSIX_TABLE + 16 * v + 4, 4, 0);
		pci_device_bar_write(&con.dev.pci, BAR_REGS, MSIX_TABLE + 16 * v + 8, 4,
				     MSI_VECTOR_BASE + v);
		pci_device_bar_write(&con.dev.pci, BAR_REGS, MSIX_TABLE + 16 * v + 12, 4, 0);
	}
	reg_write(CC_CONFIG_MSIX_VECTOR, 2, 2);
	for (unsigned q = 0; q < 2; q++) {
		reg_write(CC_QUEUE_SELECT, 2, q);
		reg_write(CC_QUEUE_SIZE, 2, QSIZE);
		reg_write(CC_QUEUE_MSIX_VECTOR, 2, q);
		reg_write(CC_QUEUE_DESC, 4, QUEUE_GPA(q));
		reg_write(CC_QUEUE_DRIVER, 4, QUEUE_GPA(q) + AVAIL_OFF);
		reg_write(CC_QUEUE_DEVICE, 4, QUEUE_GPA(q) + USED_OFF);
		reg_write(CC_QUEUE_ENABLE, 2, 1);
		assert_int_equal(reg_read(CC_QUEUE_ENABLE, 2), 1);
	}
	reg_write(CC_DEVICE_STATUS, 1, 1 | 2 | 8 | 4); /* DRIVER_OK */
	assert_true(virtio_running(&con.dev));
}

/* Offers a chain of n buffers (addresses and lengths) on queue q, device-
 * writable ones when write; returns its head. */
static uint16_t post(unsigned q, const uint64_t *addr, const uint32_t *len, unsigned n, bool write)
{
	uint16_t head = next_desc[q];

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % QSIZE);
		desc(q)[d] = (struct drv_desc){ addr[i], len[i],
						(uint16_t)((write ? 2 : 0) | (i + 1 < n ? 1 : 0)),
						(uint16_t)((d + 1) % QSIZE) };
	}
	next_desc[q] = (uint16_t)((head + n) % QSIZE);
	struct drv_avail *a = avail(q);
	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
	return head;
}

/* Puts text into guest RAM at gpa and offers it on the transmitq. */
static void transmit(uint64_t gpa, const char *text)
{
	uint64_t addr = gpa;
	uint32_t len = (uint32_t)strlen(text);

	memcpy(ram + gpa, text, len);
	post(TXQ, &addr, &len, 1, false);
}

/* One receive buffer of len bytes at gpa. */
static uint16_t post_rx(uint64_t gpa, uint32_t len)
{
	memset(ram + gpa, 0, len);
	return post(RXQ, &gpa, &len, 1, true);
}

/* The next used entry of queue q: its head and length. */
static void take_used(unsigned q, uint16_t *head, uint32_t *len)
{
	struct drv_used *u = used(q);

	assert_true(u->idx != used_seen[q]);
	*head = (uint16_t)u->ring[used_seen[q] % QSIZE].id;
	*len = u->ring[used_seen[q] % QSIZE].len;
	used_seen[q]++;
}

static void test_identity(void **state)
{
	(void)state;
	struct pci_device *d = &con.dev.pci;

	assert_int_equal(pci_device_config_read(d, 0, 2), 0x1af4);
	assert_int_equal(pci_device_config_read(d, 2, 2), 0x1043); /* 0x1040 + 3 */
	assert_int_equal(pci_device_config_read(d, 0x09, 1), 0x00);
	assert_int_equal(pci_device_config_read(d, 0x0a, 2), 0x0780);
	assert_int_equal(reg_read(CC_NUM_QUEUES, 2), 2);
	reg_write(CC_DEVICE_FEATURE_SELECT, 4, 0);
	uint32_t low = (uint32_t)reg_read(CC_DEVICE_FEATURE, 4);
	assert_int_equal(low & ((1u << F_SIZE) | (1u << F_MULTIPORT) | (1u << F_EMERG_WRITE)), 0);
	reg_write(CC_DEVICE_FEATURE_SELECT, 4, 1);
	assert_int_equal(reg_read(CC_DEVICE_FEATURE, 4) & 1, 1); /* VERSION_1 */
	assert_false(virtio_console_reading(&con));
}

static void test_transmit_lines(void **state)
{
	(void)state;
	uint64_t addr[2] = { DATA_GPA, DATA_GPA + 0x100 };
	uint32_t len[2] = { 9, 3 };
	uint16_t head;
	uint32_t ulen;

	driver_start();
	/* One chain of two buffers, the line split between them. */
	memcpy(ram + addr[0], "hello\nwor", 9);
	memcpy(ram + addr[1], "ld\n", 3);
	uint16_t h = post(TXQ, addr, len, 2, false);
	notify(TXQ);
	assert_int_equal(nlines, 2);
	assert_string_equal(lines[0].vm, "vm1");
	assert_string_equal(lines[0].text, "hello");
	assert_string_equal(lines[1].text, "world");
	take_used(TXQ, &head, &ulen);
	assert_int_equal(head, h);
	assert_int_equal(ulen, 0);
	assert_int_equal(nmsi, 1);
	assert_int_equal(msi_data[0], MSI_VECTOR_BASE + TXQ);
	assert_int_equal(con.stats.tx_bytes, 12);

	/* CR is dropped and an empty line is a line, as on COM1. */
	transmit(DATA_GPA + 0x200, "a\r\n\r\n");
	notify(TXQ);
	assert_int_equal(nlines, 4);
	assert_string_equal(lines[2].text, "a");
	assert_string_equal(lines[3].text, "");

	/* A prompt waits until flushed (the VM stops, or waits for input). */
	transmit(DATA_GPA + 0x300, "/ # ");
	notify(TXQ);
	assert_int_equal(nlines, 4);
	virtio_console_flush(&con);
	assert_int_equal(nlines, 5);
	assert_string_equal(lines[4].text, "/ # ");
	virtio_console_flush(&con);
	assert_int_equal(nlines, 5);
}

static void test_transmit_long_line(void **state)
{
	(void)state;
	char text[LINE_OUT_MAX + 10];

	driver_start();
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	transmit(DATA_GPA, text);
	notify(TXQ);
	/* A full line is printed at once, the rest on its own line. */
	assert_int_equal(nlines, 2);
	assert_int_equal(strlen(lines[0].text), LINE_OUT_MAX);
	assert_int_equal(strlen(lines[1].text), sizeof(text) - 2 - LINE_OUT_MAX);
}

static void test_transmit_before_driver_ok(void **state)
{
	(void)state;

	/* Notifications before DRIVER_OK are not the device's to act on. */
	transmit(DATA_GPA, "early\n");
	notify(TXQ);
	assert_int_equal(nlines, 0);
}

static void test_receive(void **state)
{
	(void)state;
	uint16_t head, h;
	uint32_t len;

	assert_false(virtio_console_reading(&con));
	driver_start();
	/* Live, but no receive buffer yet: COM1 keeps the keyboard. */
	assert_false(virtio_console_reading(&con));
	virtio_console_input(&con, (const uint8_t *)"ab", 2);
	assert_int_equal(con.rx_count, 2);
	assert_int_equal(nmsi, 0);

	h = post_rx(DATA_GPA, 8);
	assert_true(virtio_console_reading(&con));
	notify(RXQ);
	take_used(RXQ, &head, &len);
	assert_int_equal(head, h);
	assert_int_equal(len, 2);
	assert_memory_equal(ram + DATA_GPA, "ab", 2);
	assert_int_equal(nmsi, 1);
	assert_int_equal(msi_data[0], MSI_VECTOR_BASE + RXQ);

	/* Every buffer taken: the console keeps the keyboard, and keeps the
	 * bytes until the guest posts more. */
	assert_true(virtio_console_reading(&con));
	virtio_console_input(&con, (const uint8_t *)"xyz", 3);
	assert_int_equal(con.rx_count, 3);
	post_rx(DATA_GPA + 0x100, 2);
	post_rx(DATA_GPA + 0x200, 2);
	notify(RXQ);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(ram + DATA_GPA + 0x100, "xy", 2);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(ram + DATA_GPA + 0x200, "z", 1);
	assert_int_equal(con.rx_count, 0);
	assert_int_equal(con.stats.rx_bytes, 5);

	/* A buffer posted with nothing typed waits for the next keys. */
	post_rx(DATA_GPA + 0x300, 4);
	notify(RXQ);
	assert_int_equal(used(RXQ)->idx, used_seen[RXQ]);
	virtio_console_input(&con, (const uint8_t *)"q", 1);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, 1);
	assert_int_equal(ram[DATA_GPA + 0x300], 'q');
}

static void test_receive_full_buffer(void **state)
{
	(void)state;
	static uint8_t typed[VIRTIO_CONSOLE_RX_BUF + 10];
	uint16_t head;
	uint32_t len;

	driver_start();
	/* Move the ring buffer's start, so the big read below wraps. */
	post_rx(DATA_GPA, 100);
	notify(RXQ);
	virtio_console_input(&con, (const uint8_t *)"0123456789", 10);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, 10);

	for (unsigned i = 0; i < sizeof(typed); i++)
		typed[i] = (uint8_t)(i * 7 + 1);
	virtio_console_input(&con, typed, sizeof(typed));
	assert_int_equal(con.rx_count, VIRTIO_CONSOLE_RX_BUF);
	assert_int_equal(con.stats.rx_dropped, 10);
	assert_int_equal(nkprintf, 1);
	assert_non_null(strstr(last_kprintf, "vm vm1"));
	assert_non_null(strstr(last_kprintf, "dropping"));
	/* One report for a run of drops. */
	virtio_console_input(&con, typed, 5);
	assert_int_equal(con.stats.rx_dropped, 15);
	assert_int_equal(nkprintf, 1);

	post_rx(DATA_GPA + 0x1000, VIRTIO_CONSOLE_RX_BUF + 100);
	notify(RXQ);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, VIRTIO_CONSOLE_RX_BUF);
	assert_memory_equal(ram + DATA_GPA + 0x1000, typed, VIRTIO_CONSOLE_RX_BUF);
	assert_int_equal(con.rx_count, 0);

	/* Room again: the next overflow is reported again. */
	virtio_console_input(&con, typed, sizeof(typed));
	assert_int_equal(nkprintf, 2);
	assert_int_equal(con.stats.rx_dropped, 25);
}

static void test_reset_gives_com1_the_keys(void **state)
{
	(void)state;

	driver_start();
	post_rx(DATA_GPA, 8);
	assert_true(virtio_console_reading(&con));
	reg_write(CC_DEVICE_STATUS, 1, 0);
	assert_false(virtio_running(&con.dev));
	assert_false(virtio_console_reading(&con));
	/* The driver starts again: the old ring's buffers are gone. */
	memset(ram, 0, DATA_GPA);
	next_desc[RXQ] = used_seen[RXQ] = 0;
	driver_start();
	assert_false(virtio_console_reading(&con));
	post_rx(DATA_GPA, 8);
	notify(RXQ);
	assert_true(virtio_console_reading(&con));
}

static void test_bad_chain_needs_reset(void **state)
{
	(void)state;
	uint64_t addr = RAM_SIZE - 4;
	uint32_t len = 16;

	driver_start();
	post(TXQ, &addr, &len, 1, false);
	notify(TXQ);
	assert_int_equal(nlines, 0);
	assert_int_equal(reg_read(CC_DEVICE_STATUS, 1) & 0x40, 0x40); /* NEEDS_RESET */
	assert_int_equal(nkprintf, 1);
	assert_false(virtio_console_reading(&con));
}

/* --- the state stream's record ---------------------------------------- */

static uint8_t rec[8192];

static size_t save_rec(void)
{
	struct state_writer w;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_console_save(&con, &w);
	assert_false(w.overflow);
	return w.len;
}

/* A fresh device (the destination's) with the record of len bytes loaded. */
static int load_rec(size_t len, const char **why)
{
	struct state_reader r;

	assert_int_equal(virtio_console_init(&con, "vm2", ram, RAM_SIZE), 0);
	con.dev.pci.msi_send = msi_send;
	state_reader_init(&r, rec, len, 0);
	int ret = virtio_console_load(&con, &r);
	*why = r.refused;
	return ret;
}

/* Typed bytes the guest has not read and half a printed line travel; the
 * queues go on where they were. */
static void test_state_round_trip(void **state)
{
	const char *why;
	uint16_t head;
	uint32_t len;
	(void)state;

	driver_start();
	post_rx(DATA_GPA, 2);
	notify(RXQ);
	virtio_console_input(&con, (const uint8_t *)"hello", 5);
	take_used(RXQ, &head, &len);
	assert_int_equal(con.rx_count, 3); /* "llo" waits */
	transmit(DATA_GPA + 0x100, "half a li");
	notify(TXQ);
	assert_int_equal(nlines, 0);
	size_t n = save_rec();

	assert_int_equal(load_rec(n, &why), 0);
	assert_null(why);
	assert_int_equal(virtio_dev_check_loaded(&con.dev, &why), 0);
	assert_true(virtio_console_reading(&con));
	transmit(DATA_GPA + 0x200, "ne\n");
	notify(TXQ);
	assert_int_equal(nlines, 1);
	assert_string_equal(lines[0].text, "half a line");
	assert_string_equal(lines[0].vm, "vm2");
	post_rx(DATA_GPA + 0x300, 8);
	notify(RXQ);
	take_used(RXQ, &head, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(ram + DATA_GPA + 0x300, "llo", 3);
}

static void test_state_refusals(void **state)
{
	const char *why;
	(void)state;

	driver_start();
	size_t n = save_rec();
	assert_int_equal(n, 437); /* docs/STATE_STREAM.md: nothing buffered */
	/* The tail: rx count (u16), its bytes (none), line length (u16), its
	 * bytes (none), the wrapped flag. */
	size_t rx_count_at = n - 5, line_len_at = n - 3;
	uint16_t v = VIRTIO_CONSOLE_RX_BUF + 1;
	memcpy(rec + rx_count_at, &v, 2);
	assert_int_equal(load_rec(n, &why), -1);
	assert_string_equal(why, "virtio-console: more input than its buffer holds");
	assert_int_equal(con.dev.status, 0);
	v = 0;
	memcpy(rec + rx_count_at, &v, 2);
	v = LINE_OUT_MAX;
	memcpy(rec + line_len_at, &v, 2);
	assert_int_equal(load_rec(n, &why), -1);
	assert_string_equal(why, "virtio-console: output line over its size");
	v = 0;
	memcpy(rec + line_len_at, &v, 2);
	assert_int_equal(load_rec(n, &why), 0);
	for (size_t cut = 1; cut < n; cut += 11) {
		assert_int_equal(load_rec(n - cut, &why), -1);
		assert_int_equal(con.dev.status, 0);
	}
	assert_int_equal(load_rec(n + 1, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_before_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_full_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_gives_com1_the_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chain_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
