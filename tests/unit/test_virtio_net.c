/* Unit tests for the state-stream record of vmm/dev/virtio/virtio_net.c
 * (virtio_net_save / virtio_net_load): the test plays the guest's driver
 * through the virtio-pci transport (virtio 1.2, 3.1.1: status, features,
 * queues through BAR 0, notifications through BAR 2) over a fake guest RAM,
 * with the NIC's port on a bridge of pgvisor's switch and a peer port that
 * sends it frames. Frames waiting in the port's ring at a save reach the
 * restored device's guest; the queues go on where they were; a record with
 * more frames than the ring holds, a frame of an impossible length or a
 * truncated body is refused and leaves the fresh device as built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/virtio/virtio_net.h"

#define RAM_SIZE 0x20000
#define QSIZE 16
#define QUEUE_GPA(q) (0x1000 + (q)*0x1000) /* descriptors; rings after */
#define AVAIL_OFF 0x400
#define USED_OFF 0x800
#define RX_BUF_GPA 0x8000
#define RX_BUF_LEN 1536
#define BAR_REGS 0
#define BAR_NOTIFY 2
#define RXQ 0
#define TXQ 1
#define HDR_BYTES 12 /* struct virtio_net_hdr with VERSION_1 (5.1.6) */
#define FRAME_LEN 60
#define RECORD_CAP (128 * 1024)

/* struct virtio_pci_common_cfg (4.1.4.3), from the spec. */
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_DEVICE_STATUS 0x14
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

#include "tests/unit/virtio_driver_rings.h"

static uint8_t *ram;
static struct net_switch sw;
static struct net_port nic_port, peer_port;
static struct net_frame nic_ring[NET_PORT_RING_SLOTS], peer_ring[NET_PORT_RING_SLOTS];
static struct virtio_net net;
static uint8_t rec[RECORD_CAP];
static const uint8_t nic_mac[6] = { 2, 0, 0, 0, 0, 1 }, peer_mac[6] = { 2, 0, 0, 0, 0, 2 };

void kprintf(const char *fmt, ...)
{
	(void)fmt;
}

static uint64_t clock_now(void *ctx)
{
	(void)ctx;
	return 1000;
}

static struct vclock clock = { clock_now, NULL };

static void reg_write(unsigned off, unsigned size, uint64_t value)
{
	pci_device_bar_write(&net.dev.pci, BAR_REGS, off, size, value);
}

static uint64_t reg_read(unsigned off, unsigned size)
{
	return pci_device_bar_read(&net.dev.pci, BAR_REGS, off, size);
}

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

/* The NIC's port on bridge "br" with a fresh ring, and a fresh device on it
 * (as a VM's build does, and the destination of a restore). */
static void build(void)
{
	const char *why;

	net_switch_detach(&sw, &nic_port);
	assert_int_equal(
		net_switch_attach(&sw, &nic_port, "br", nic_mac, nic_ring, NULL, NULL, &why), 0);
	assert_int_equal(virtio_net_init(&net, "vm", 0, &sw, &nic_port, &clock, ram, RAM_SIZE), 0);
}

static int setup(void **state)
{
	const char *why;
	(void)state;

	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	net_switch_init(&sw);
	nic_port.bridge = peer_port.bridge = -1;
	assert_int_equal(
		net_switch_attach(&sw, &peer_port, "br", peer_mac, peer_ring, NULL, NULL, &why), 0);
	build();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

/* VERSION_1 only, both queues, DRIVER_OK (3.1.1); MSI-X stays off. */
static void driver_start(void)
{
	reg_write(CC_DEVICE_STATUS, 1, 1 | 2);
	reg_write(CC_DRIVER_FEATURE_SELECT, 4, 1);
	reg_write(CC_DRIVER_FEATURE, 4, 1);
	reg_write(CC_DRIVER_FEATURE_SELECT, 4, 0);
	reg_write(CC_DRIVER_FEATURE, 4, 0);
	reg_write(CC_DEVICE_STATUS, 1, 1 | 2 | 8);
	for (unsigned q = 0; q < 2; q++) {
		reg_write(CC_QUEUE_SELECT, 2, q);
		reg_write(CC_QUEUE_SIZE, 2, QSIZE);
		reg_write(CC_QUEUE_DESC, 4, QUEUE_GPA(q));
		reg_write(CC_QUEUE_DRIVER, 4, QUEUE_GPA(q) + AVAIL_OFF);
		reg_write(CC_QUEUE_DEVICE, 4, QUEUE_GPA(q) + USED_OFF);
		reg_write(CC_QUEUE_ENABLE, 2, 1);
	}
	reg_write(CC_DEVICE_STATUS, 1, 1 | 2 | 8 | 4);
	assert_true(virtio_running(&net.dev));
}

/* One receive buffer as descriptor (and avail entry) n. */
static void post_rx(uint16_t n)
{
	desc(RXQ)[n] = (struct drv_desc){ RX_BUF_GPA + n * RX_BUF_LEN, RX_BUF_LEN, 2, 0 };
	avail(RXQ)->ring[avail(RXQ)->idx % QSIZE] = n;
	avail(RXQ)->idx++;
}

/* A frame from the peer to the NIC, its payload filled with tag. */
static void peer_sends(uint8_t tag)
{
	uint8_t f[FRAME_LEN];

	memcpy(f, nic_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	memset(f + 12, tag, sizeof(f) - 12);
	net_switch_send(&sw, &peer_port, f, sizeof(f), 1000);
}

static size_t save_rec(void)
{
	struct state_writer w;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_net_save(&net, &w);
	assert_false(w.overflow);
	return w.len;
}

/* The destination: a fresh port and device, the record loaded. */
static int load_rec(size_t len, const char **why)
{
	struct state_reader r;

	build();
	state_reader_init(&r, rec, len, 0);
	int ret = virtio_net_load(&net, &r);
	*why = r.refused;
	return ret;
}

static void test_state_round_trip(void **state)
{
	const char *why;
	(void)state;

	driver_start();
	post_rx(0);
	pci_device_bar_write(&net.dev.pci, BAR_NOTIFY, 0, 2, RXQ);
	/* One frame taken by the guest, two more waiting in the ring (no
	 * receive buffer left for them). */
	peer_sends(0xa1);
	pci_device_bar_write(&net.dev.pci, BAR_NOTIFY, 0, 2, RXQ);
	assert_int_equal(used(RXQ)->idx, 1);
	peer_sends(0xb2);
	peer_sends(0xc3);
	assert_int_equal(nic_port.head - nic_port.tail, 2);
	size_t len = save_rec();

	assert_int_equal(load_rec(len, &why), 0);
	assert_null(why);
	assert_int_equal(virtio_dev_check_loaded(&net.dev, &why), 0);
	assert_int_equal(reg_read(CC_DEVICE_STATUS, 1), 1 | 2 | 8 | 4);
	/* The two frames wait in the new port's ring; the guest's next
	 * buffers get them, in order, as the queue's entries 1 and 2. */
	assert_int_equal(nic_port.head - nic_port.tail, 2);
	post_rx(1);
	post_rx(2);
	pci_device_bar_write(&net.dev.pci, BAR_NOTIFY, 0, 2, RXQ);
	assert_int_equal(used(RXQ)->idx, 3);
	assert_int_equal(used(RXQ)->ring[1].id, 1);
	assert_int_equal(used(RXQ)->ring[1].len, HDR_BYTES + FRAME_LEN);
	assert_int_equal(ram[RX_BUF_GPA + RX_BUF_LEN + HDR_BYTES + 20], 0xb2);
	assert_int_equal(ram[RX_BUF_GPA + 2 * RX_BUF_LEN + HDR_BYTES + 20], 0xc3);
	assert_int_equal(nic_port.head - nic_port.tail, 0);
}

static void expect_refused(size_t len, const char *reason)
{
	const char *why;

	assert_int_equal(load_rec(len, &why), -1);
	assert_non_null(why);
	if (reason && strcmp(why, reason))
		fail_msg("refused for '%s', expected '%s'", why, reason);
	assert_int_equal(net.dev.status, 0);
	assert_int_equal(nic_port.head - nic_port.tail, 0);
}

static void test_state_refusals(void **state)
{
	(void)state;
	uint16_t v;

	driver_start();
	peer_sends(0x11);
	size_t len = save_rec();
	/* The tail: the frame count (1), the frame's length, its bytes. */
	size_t count_at = len - FRAME_LEN - 4, flen_at = len - FRAME_LEN - 2;

	v = NET_PORT_RING_SLOTS + 1;
	memcpy(rec + count_at, &v, 2);
	expect_refused(len, "virtio-net: more waiting frames than its ring holds");
	v = 1;
	memcpy(rec + count_at, &v, 2);
	v = NET_FRAME_MIN - 1;
	memcpy(rec + flen_at, &v, 2);
	expect_refused(len, "virtio-net: a waiting frame of a length no Ethernet frame has");
	v = NET_FRAME_MAX + 1;
	memcpy(rec + flen_at, &v, 2);
	expect_refused(len, "virtio-net: a waiting frame of a length no Ethernet frame has");
	v = FRAME_LEN;
	memcpy(rec + flen_at, &v, 2);
	for (size_t cut = 1; cut < len; cut += 13)
		expect_refused(len - cut, NULL);
	expect_refused(len + 1, "state record longer than its device's state");
	/* Another MAC in the device configuration (after the PCI function's
	 * 311 bytes with three MSI-X vectors, and the transport's 35): another
	 * interface. */
	rec[311 + 35] ^= 1;
	expect_refused(len, "virtio: device configuration differs from this VM's device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
