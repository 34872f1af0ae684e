/* Unit tests for vmm/dev/net_switch.c: flooding, learning, ageing, bridge
 * isolation, the per-port inbound rings and attach/detach; and for
 * vmm/dev/net_uplink.c, a bridge's port that is a NIC (a fake one here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/netdev.h"
#include "vmm/dev/net_switch.h"
#include "vmm/dev/net_uplink.h"

#define MAC_LEN 6
#define FRAME_LEN 64 /* a minimal Ethernet frame: any valid size would do */
#define T0 1000u     /* a time that is neither zero nor near wrap-around */

static const uint8_t broadcast[MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t multicast[MAC_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

/* A VM's side of a port: its ring and how often it was woken. */
struct vif {
	struct net_port port;
	struct net_frame *ring;
	unsigned notified;
	bool take_direct;   /* its deliver callback accepts frames */
	unsigned direct;    /* frames it took that way */
	uint8_t direct_tag; /* the last one's payload byte */
};

struct fixture {
	struct net_switch sw;
	struct vif vif[NET_SWITCH_PORTS + 1];
};

static void on_notify(void *ctx)
{
	((struct vif *)ctx)->notified++;
}

static bool on_deliver(void *ctx, const uint8_t *frame, size_t len)
{
	struct vif *v = ctx;

	if (!v->take_direct)
		return false;
	v->direct++;
	v->direct_tag = frame[len - 1];
	return true;
}

/* A locally administered unicast address, distinct for each n. */
static void mac_of(uint8_t mac[MAC_LEN], unsigned n)
{
	const uint8_t m[MAC_LEN] = { 0x02, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n };

	memcpy(mac, m, MAC_LEN);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	net_switch_init(&f->sw);
	for (unsigned i = 0; i < NET_SWITCH_PORTS + 1; i++) {
		f->vif[i].ring = calloc(NET_PORT_RING_SLOTS, sizeof(struct net_frame));
		if (!f->vif[i].ring)
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < NET_SWITCH_PORTS + 1; i++)
		free(f->vif[i].ring);
	free(f);
	return 0;
}

static int attach_mac(struct fixture *f, unsigned i, const char *bridge, const uint8_t *mac,
		      const char **why)
{
	return net_switch_attach(&f->sw, &f->vif[i].port, bridge, mac, f->vif[i].ring, on_notify,
				 &f->vif[i], why);
}

/* Attaches vif i with address mac_of(i); must succeed. */
static void attach(struct fixture *f, unsigned i, const char *bridge)
{
	uint8_t mac[MAC_LEN];
	const char *why = NULL;

	mac_of(mac, i);
	assert_int_equal(attach_mac(f, i, bridge, mac, &why), 0);
	assert_null(why);
	assert_in_range(f->vif[i].port.bridge, 0, f->sw.nbridges - 1);
	assert_string_equal(f->sw.bridges[f->vif[i].port.bridge].name, bridge);
}

/* Sends a frame of len bytes from vif i; payload bytes carry tag. */
static void send_len(struct fixture *f, unsigned i, const uint8_t *dest, const uint8_t *src,
		     size_t len, uint8_t tag, uint64_t now_ns)
{
	uint8_t buf[NET_FRAME_MAX + 1];

	memset(buf, tag, sizeof(buf));
	memcpy(buf, dest, MAC_LEN);
	memcpy(buf + MAC_LEN, src, MAC_LEN);
	net_switch_send(&f->sw, &f->vif[i].port, buf, len, now_ns);
}

/* Sends a FRAME_LEN frame from vif i with its own source address. */
static void send(struct fixture *f, unsigned i, const uint8_t *dest, uint8_t tag, uint64_t now_ns)
{
	uint8_t src[MAC_LEN];

	mac_of(src, i);
	send_len(f, i, dest, src, FRAME_LEN, tag, now_ns);
}

static void send_to(struct fixture *f, unsigned i, unsigned to, uint8_t tag, uint64_t now_ns)
{
	uint8_t dest[MAC_LEN];

	mac_of(dest, to);
	send(f, i, dest, tag, now_ns);
}

static unsigned queued(const struct fixture *f, unsigned i)
{
	return f->vif[i].port.head - f->vif[i].port.tail;
}

/* Takes the oldest frame off vif i's ring: it must be there, carry tag and
 * come from src. */
static void expect_frame(struct fixture *f, unsigned i, const uint8_t *src, uint8_t tag)
{
	const struct net_frame *fr = net_port_peek(&f->vif[i].port);

	assert_non_null(fr);
	assert_int_equal(fr->len, FRAME_LEN);
	assert_memory_equal(fr->data + MAC_LEN, src, MAC_LEN);
	assert_int_equal(fr->data[FRAME_LEN - 1], tag);
	net_port_consume(&f->vif[i].port);
}

static void drain(struct fixture *f, unsigned i)
{
	while (net_port_peek(&f->vif[i].port))
		net_port_consume(&f->vif[i].port);
}

static void expect_frame_from(struct fixture *f, unsigned i, unsigned from, uint8_t tag)
{
	uint8_t src[MAC_LEN];

	mac_of(src, from);
	expect_frame(f, i, src, tag);
}

static const struct net_mac_entry *entry(const struct fixture *f, int bridge, const uint8_t *mac)
{
	const struct net_bridge *br = &f->sw.bridges[bridge];

	for (unsigned i = 0; i < NET_SWITCH_MACS; i++)
		if (br->macs[i].valid && !memcmp(br->macs[i].mac, mac, MAC_LEN))
			return &br->macs[i];
	return NULL;
}

static void test_attach_sets_up_port(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br1");
	assert_int_equal(f->sw.nports, 3);
	assert_int_equal(f->sw.nbridges, 2);
	assert_int_equal(f->vif[0].port.bridge, 0);
	assert_int_equal(f->vif[1].port.bridge, 0);
	assert_int_equal(f->vif[2].port.bridge, 1);
	assert_string_equal(f->sw.bridges[0].name, "br0");
	assert_string_equal(f->sw.bridges[1].name, "br1");
	assert_null(net_port_peek(&f->vif[0].port));
}

/* A port that takes frames straight away gets them without its ring or a
 * notify; one that declines gets them queued; and a frame never overtakes
 * one already waiting in the ring. */
static void test_direct_delivery_keeps_order(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	f->vif[1].port.deliver = on_deliver;
	f->vif[1].take_direct = true;
	send_to(f, 0, 1, 0xb1, T0);
	assert_int_equal(f->vif[1].direct, 1);
	assert_int_equal(f->vif[1].direct_tag, 0xb1);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(f->vif[1].notified, 0);
	assert_int_equal(f->vif[1].port.stats.rx_frames, 1);
	/* Declined: queued and notified. */
	f->vif[1].take_direct = false;
	send_to(f, 0, 1, 0xb2, T0 + 1);
	assert_int_equal(queued(f, 1), 1);
	assert_int_equal(f->vif[1].notified, 1);
	/* Accepting again, but a frame waits: this one queues behind it. */
	f->vif[1].take_direct = true;
	send_to(f, 0, 1, 0xb3, T0 + 2);
	assert_int_equal(f->vif[1].direct, 1);
	assert_int_equal(queued(f, 1), 2);
	expect_frame_from(f, 1, 0, 0xb2);
	expect_frame_from(f, 1, 0, 0xb3);
	assert_int_equal(f->vif[1].port.stats.rx_frames, 3);
}

static void test_two_ports_unknown_then_learned(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");

	/* Nothing learned yet: flooded to the only other port. */
	send_to(f, 0, 1, 0xa1, T0);
	assert_int_equal(f->sw.bridges[0].flooded, 1);
	assert_int_equal(queued(f, 0), 0);
	expect_frame_from(f, 1, 0, 0xa1);

	/* The reply goes straight to the learned port, not flooded. */
	send_to(f, 1, 0, 0xa2, T0 + 1);
	assert_int_equal(f->sw.bridges[0].flooded, 1);
	expect_frame_from(f, 0, 1, 0xa2);
	assert_null(net_port_peek(&f->vif[1].port));

	assert_int_equal(f->vif[0].port.stats.tx_frames, 1);
	assert_int_equal(f->vif[0].port.stats.tx_bytes, FRAME_LEN);
	assert_int_equal(f->vif[0].port.stats.rx_frames, 1);
	assert_int_equal(f->vif[0].port.stats.rx_bytes, FRAME_LEN);
	assert_int_equal(f->vif[1].port.stats.rx_frames, 1);
}

static void test_three_ports_flood_and_unicast(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");

	/* Unknown unicast reaches every other port, never the sender. */
	send_to(f, 0, 1, 0x11, T0);
	assert_int_equal(queued(f, 0), 0);
	expect_frame_from(f, 1, 0, 0x11);
	expect_frame_from(f, 2, 0, 0x11);

	/* Broadcast and multicast too, also after the sender was learned. */
	send(f, 0, broadcast, 0x12, T0 + 1);
	send(f, 0, multicast, 0x13, T0 + 2);
	assert_int_equal(queued(f, 0), 0);
	expect_frame_from(f, 1, 0, 0x12);
	expect_frame_from(f, 1, 0, 0x13);
	expect_frame_from(f, 2, 0, 0x12);
	expect_frame_from(f, 2, 0, 0x13);
	assert_int_equal(f->sw.bridges[0].flooded, 3);

	/* Port 2 speaks; now unicast to it reaches only it. */
	send(f, 2, broadcast, 0x14, T0 + 3);
	expect_frame_from(f, 0, 2, 0x14);
	expect_frame_from(f, 1, 2, 0x14);
	send_to(f, 0, 2, 0x15, T0 + 4);
	expect_frame_from(f, 2, 0, 0x15);
	assert_null(net_port_peek(&f->vif[1].port));
	assert_null(net_port_peek(&f->vif[0].port));
	assert_int_equal(f->sw.bridges[0].flooded, 4);
}

static void test_bridges_isolated(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN];

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br1");
	attach(f, 3, "br1");

	send(f, 0, broadcast, 0x21, T0);
	send_to(f, 0, 2, 0x22, T0); /* an address that lives on the other bridge */
	send(f, 2, broadcast, 0x23, T0);
	send_to(f, 2, 0, 0x24, T0);

	expect_frame_from(f, 1, 0, 0x21);
	expect_frame_from(f, 1, 0, 0x22);
	assert_null(net_port_peek(&f->vif[1].port));
	expect_frame_from(f, 3, 2, 0x23);
	expect_frame_from(f, 3, 2, 0x24);
	assert_null(net_port_peek(&f->vif[3].port));
	assert_null(net_port_peek(&f->vif[0].port));
	assert_null(net_port_peek(&f->vif[2].port));

	/* Each bridge learned only its own ports. */
	mac_of(mac, 0);
	assert_non_null(entry(f, 0, mac));
	assert_null(entry(f, 1, mac));
	mac_of(mac, 2);
	assert_null(entry(f, 0, mac));
	assert_non_null(entry(f, 1, mac));
}

static void test_ageing(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");

	send(f, 1, broadcast, 0x31, T0);
	expect_frame_from(f, 0, 1, 0x31);
	expect_frame_from(f, 2, 1, 0x31);

	/* Exactly the ageing time old: still known. */
	send_to(f, 0, 1, 0x32, T0 + NET_SWITCH_AGEING_NS);
	expect_frame_from(f, 1, 0, 0x32);
	assert_null(net_port_peek(&f->vif[2].port));
	assert_int_equal(f->sw.bridges[0].flooded, 1);

	/* Older than that: flooded again. */
	send_to(f, 0, 1, 0x33, T0 + NET_SWITCH_AGEING_NS + 1);
	expect_frame_from(f, 1, 0, 0x33);
	expect_frame_from(f, 2, 0, 0x33);
	assert_int_equal(f->sw.bridges[0].flooded, 2);

	/* Heard from again: known again. */
	send(f, 1, broadcast, 0x34, T0 + NET_SWITCH_AGEING_NS + 2);
	expect_frame_from(f, 0, 1, 0x34);
	expect_frame_from(f, 2, 1, 0x34);
	send_to(f, 0, 1, 0x35, T0 + NET_SWITCH_AGEING_NS + 3);
	expect_frame_from(f, 1, 0, 0x35);
	assert_null(net_port_peek(&f->vif[2].port));
}

static void test_mac_moves(void **state)
{
	struct fixture *f = *state;
	uint8_t roamer[MAC_LEN];

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");
	mac_of(roamer, 0x99);

	send_len(f, 1, broadcast, roamer, FRAME_LEN, 0x41, T0);
	assert_int_equal(entry(f, 0, roamer)->port, 1);
	send(f, 0, roamer, 0x42, T0 + 1);
	expect_frame(f, 0, roamer, 0x41);
	expect_frame(f, 2, roamer, 0x41);
	expect_frame_from(f, 1, 0, 0x42);
	assert_null(net_port_peek(&f->vif[2].port));

	/* The address now speaks from port 2: frames for it follow. */
	send_len(f, 2, broadcast, roamer, FRAME_LEN, 0x43, T0 + 2);
	assert_int_equal(entry(f, 0, roamer)->port, 2);
	send(f, 0, roamer, 0x44, T0 + 3);
	expect_frame(f, 0, roamer, 0x43);
	expect_frame(f, 1, roamer, 0x43);
	assert_null(net_port_peek(&f->vif[1].port));
	expect_frame_from(f, 2, 0, 0x44);
}

static void test_destination_behind_sender_dropped(void **state)
{
	struct fixture *f = *state;
	uint8_t self[MAC_LEN];

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	mac_of(self, 0);

	send(f, 0, broadcast, 0x51, T0);
	expect_frame_from(f, 1, 0, 0x51);
	send(f, 0, self, 0x52, T0 + 1);
	assert_null(net_port_peek(&f->vif[0].port));
	assert_null(net_port_peek(&f->vif[1].port));
	assert_int_equal(f->sw.bridges[0].flooded, 1);
	assert_int_equal(f->vif[0].port.stats.tx_frames, 2);
	assert_int_equal(f->vif[0].notified, 0);
}

static void test_full_ring_drops_only_its_own(void **state)
{
	struct fixture *f = *state;
	const unsigned extra = 5;

	attach(f, 0, "br0");
	attach(f, 1, "br0"); /* never reads */
	attach(f, 2, "br0"); /* reads every frame */

	for (unsigned n = 0; n < NET_PORT_RING_SLOTS + extra; n++) {
		send(f, 0, broadcast, (uint8_t)n, T0 + n);
		expect_frame_from(f, 2, 0, (uint8_t)n);
	}
	assert_int_equal(queued(f, 1), NET_PORT_RING_SLOTS);
	assert_int_equal(f->vif[1].port.stats.rx_frames, NET_PORT_RING_SLOTS);
	assert_int_equal(f->vif[1].port.stats.rx_bytes, NET_PORT_RING_SLOTS * FRAME_LEN);
	assert_int_equal(f->vif[1].port.stats.rx_dropped, extra);
	assert_int_equal(f->vif[1].notified, NET_PORT_RING_SLOTS);
	assert_int_equal(f->vif[2].port.stats.rx_frames, NET_PORT_RING_SLOTS + extra);
	assert_int_equal(f->vif[2].port.stats.rx_dropped, 0);
	assert_int_equal(f->vif[2].notified, NET_PORT_RING_SLOTS + extra);
	assert_int_equal(f->vif[0].port.stats.tx_frames, NET_PORT_RING_SLOTS + extra);

	/* A unicast for the stalled port is dropped too. */
	send_to(f, 2, 1, 0x77, T0 + 1000);
	assert_int_equal(f->vif[1].port.stats.rx_dropped, extra + 1);
}

static void test_consume_frees_slots(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");

	for (unsigned n = 0; n < NET_PORT_RING_SLOTS; n++)
		send(f, 0, broadcast, (uint8_t)n, T0);
	send(f, 0, broadcast, 0xee, T0);
	assert_int_equal(f->vif[1].port.stats.rx_dropped, 1);

	/* One slot read: one more frame fits, queued behind the rest. */
	expect_frame_from(f, 1, 0, 0);
	send(f, 0, broadcast, 0xf0, T0);
	assert_int_equal(f->vif[1].port.stats.rx_dropped, 1);
	assert_int_equal(queued(f, 1), NET_PORT_RING_SLOTS);
	for (unsigned n = 1; n < NET_PORT_RING_SLOTS; n++)
		expect_frame_from(f, 1, 0, (uint8_t)n);
	expect_frame_from(f, 1, 0, 0xf0);
	assert_null(net_port_peek(&f->vif[1].port));

	/* Consuming an empty ring is harmless. */
	net_port_consume(&f->vif[1].port);
	assert_int_equal(queued(f, 1), 0);

	/* The counters wrap the ring many times over. */
	for (unsigned n = 0; n < 3 * NET_PORT_RING_SLOTS; n++) {
		send(f, 0, broadcast, (uint8_t)n, T0);
		expect_frame_from(f, 1, 0, (uint8_t)n);
	}
	assert_int_equal(f->vif[1].port.stats.rx_dropped, 1);
}

static void test_frame_is_copied(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[FRAME_LEN];
	const struct net_frame *fr;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	memset(buf, 0x5a, sizeof(buf));
	memcpy(buf, broadcast, MAC_LEN);
	mac_of(buf + MAC_LEN, 0);
	net_switch_send(&f->sw, &f->vif[0].port, buf, sizeof(buf), T0);
	memset(buf, 0, sizeof(buf));

	fr = net_port_peek(&f->vif[1].port);
	assert_non_null(fr);
	assert_int_equal(fr->len, FRAME_LEN);
	assert_memory_equal(fr->data, broadcast, MAC_LEN);
	assert_int_equal(fr->data[FRAME_LEN - 1], 0x5a);
	/* Peek does not consume. */
	assert_ptr_equal(net_port_peek(&f->vif[1].port), fr);
}

static void test_invalid_sizes(void **state)
{
	struct fixture *f = *state;
	uint8_t src[MAC_LEN];
	const struct net_frame *fr;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	mac_of(src, 0);

	send_len(f, 0, broadcast, src, NET_FRAME_MIN - 1, 0x61, T0);
	send_len(f, 0, broadcast, src, NET_FRAME_MAX + 1, 0x62, T0);
	send_len(f, 0, broadcast, src, 0, 0x63, T0);
	assert_int_equal(f->vif[0].port.stats.tx_invalid, 3);
	assert_int_equal(f->vif[0].port.stats.tx_frames, 0);
	assert_int_equal(f->vif[0].port.stats.tx_bytes, 0);
	assert_null(net_port_peek(&f->vif[1].port));
	assert_int_equal(f->sw.bridges[0].flooded, 0);
	assert_null(entry(f, 0, src)); /* nothing learned from a bad frame */

	/* The limits themselves are fine. */
	send_len(f, 0, broadcast, src, NET_FRAME_MIN, 0x64, T0);
	send_len(f, 0, broadcast, src, NET_FRAME_MAX, 0x65, T0);
	assert_int_equal(f->vif[0].port.stats.tx_invalid, 3);
	assert_int_equal(f->vif[0].port.stats.tx_frames, 2);
	assert_int_equal(f->vif[0].port.stats.tx_bytes, NET_FRAME_MIN + NET_FRAME_MAX);
	fr = net_port_peek(&f->vif[1].port);
	assert_non_null(fr);
	assert_int_equal(fr->len, NET_FRAME_MIN);
	net_port_consume(&f->vif[1].port);
	fr = net_port_peek(&f->vif[1].port);
	assert_non_null(fr);
	assert_int_equal(fr->len, NET_FRAME_MAX);
	assert_int_equal(fr->data[NET_FRAME_MAX - 1], 0x65);
}

static void test_notify_per_receiving_port(void **state)
{
	struct fixture *f = *state;
	uint8_t src[MAC_LEN], mac[MAC_LEN];
	const char *why;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");
	attach(f, 3, "br1");

	send(f, 0, broadcast, 0x71, T0);
	assert_int_equal(f->vif[0].notified, 0);
	assert_int_equal(f->vif[1].notified, 1);
	assert_int_equal(f->vif[2].notified, 1);
	assert_int_equal(f->vif[3].notified, 0);

	send_to(f, 1, 0, 0x72, T0);
	assert_int_equal(f->vif[0].notified, 1);
	assert_int_equal(f->vif[1].notified, 1);
	assert_int_equal(f->vif[2].notified, 1);

	/* Invalid frames wake nobody. */
	mac_of(src, 0);
	send_len(f, 0, broadcast, src, NET_FRAME_MIN - 1, 0x73, T0);
	assert_int_equal(f->vif[1].notified, 1);
	assert_int_equal(f->vif[2].notified, 1);

	/* A port without notify still receives. */
	mac_of(mac, 4);
	assert_int_equal(net_switch_attach(&f->sw, &f->vif[4].port, "br0", mac, f->vif[4].ring,
					   NULL, NULL, &why),
			 0);
	send(f, 0, broadcast, 0x74, T0);
	expect_frame_from(f, 4, 0, 0x74);
	assert_int_equal(f->vif[4].notified, 0);
}

static void test_detach(void **state)
{
	struct fixture *f = *state;
	uint8_t mac1[MAC_LEN];

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");
	mac_of(mac1, 1);

	send(f, 1, broadcast, 0x81, T0);
	send(f, 2, broadcast, 0x82, T0);
	expect_frame_from(f, 0, 1, 0x81);
	expect_frame_from(f, 0, 2, 0x82);
	expect_frame_from(f, 2, 1, 0x81);
	expect_frame_from(f, 1, 2, 0x82);

	net_switch_detach(&f->sw, &f->vif[1].port);
	assert_int_equal(f->vif[1].port.bridge, -1);
	assert_int_equal(f->sw.nports, 2);
	assert_null(entry(f, 0, mac1));

	/* Its address is unknown again: flooded, and never reaches it. */
	send_to(f, 0, 1, 0x83, T0 + 1);
	expect_frame_from(f, 2, 0, 0x83);
	assert_null(net_port_peek(&f->vif[1].port));
	assert_int_equal(f->vif[1].port.stats.rx_frames, 1);

	/* Port 2 took the freed place in the list: still reached directly. */
	send_to(f, 0, 2, 0x84, T0 + 2);
	expect_frame_from(f, 2, 0, 0x84);
	assert_int_equal(f->sw.bridges[0].flooded, 3);

	/* A detached port's frames go nowhere. */
	send(f, 1, broadcast, 0x85, T0 + 3);
	assert_null(net_port_peek(&f->vif[0].port));
	assert_null(net_port_peek(&f->vif[2].port));
	assert_null(entry(f, 0, mac1));

	/* Detaching twice is harmless; the port can come back. */
	net_switch_detach(&f->sw, &f->vif[1].port);
	assert_int_equal(f->sw.nports, 2);
	attach(f, 1, "br0");
	send(f, 0, broadcast, 0x86, T0 + 4);
	expect_frame_from(f, 1, 0, 0x86);
}

/* What a restore uses: whether a MAC is on a bridge, and frames put back
 * into a port's ring without waking it. */
static void test_mac_taken_and_requeue(void **state)
{
	struct fixture *f = *state;
	uint8_t mac0[MAC_LEN], mac1[MAC_LEN], frame[FRAME_LEN] = { 0 };

	mac_of(mac0, 0);
	mac_of(mac1, 1);
	assert_false(net_switch_mac_taken(&f->sw, "br0", mac0));
	attach(f, 0, "br0");
	assert_true(net_switch_mac_taken(&f->sw, "br0", mac0));
	assert_false(net_switch_mac_taken(&f->sw, "br0", mac1));
	assert_false(net_switch_mac_taken(&f->sw, "br1", mac0));

	for (unsigned i = 0; i < NET_PORT_RING_SLOTS; i++) {
		frame[FRAME_LEN - 1] = (uint8_t)i;
		assert_true(net_port_requeue(&f->sw, &f->vif[0].port, frame, FRAME_LEN));
	}
	assert_false(net_port_requeue(&f->sw, &f->vif[0].port, frame, FRAME_LEN));
	assert_int_equal(f->vif[0].port.stats.rx_dropped, 1);
	assert_false(net_port_requeue(&f->sw, &f->vif[0].port, frame, NET_FRAME_MIN - 1));
	assert_int_equal(f->vif[0].notified, 0);
	for (unsigned i = 0; i < NET_PORT_RING_SLOTS; i++) {
		const struct net_frame *got = net_port_peek(&f->vif[0].port);
		assert_non_null(got);
		assert_int_equal(got->len, FRAME_LEN);
		assert_int_equal(got->data[FRAME_LEN - 1], i);
		net_port_consume(&f->vif[0].port);
	}
	assert_null(net_port_peek(&f->vif[0].port));
	net_switch_detach(&f->sw, &f->vif[0].port);
	assert_false(net_switch_mac_taken(&f->sw, "br0", mac0));
}

/* A live migration's switch: a port on no bridge takes an attached one's
 * place, its MAC and learned address (unicast to it is not flooded), and
 * the frames waiting for it, in order, in place of its own. */
static void test_take_over(void **state)
{
	struct fixture *f = *state;
	struct vif *v = &f->vif[2];
	uint8_t mac1[MAC_LEN], frame[FRAME_LEN] = { 0 };
	unsigned flooded;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	mac_of(mac1, 1);
	send(f, 1, broadcast, 0x81, T0);
	expect_frame_from(f, 0, 1, 0x81);
	send_to(f, 0, 1, 0x91, T0 + 1);
	send_to(f, 0, 1, 0x92, T0 + 1);
	flooded = f->sw.bridges[0].flooded;

	v->port = (struct net_port){ .bridge = -1, .notify = on_notify, .ctx = v, .ring = v->ring };
	assert_true(net_port_requeue(&f->sw, &v->port, frame, FRAME_LEN)); /* loaded, stale */
	assert_int_equal(net_switch_take_over(&f->sw, &f->vif[1].port, &v->port), 0);
	assert_int_equal(v->port.bridge, 0);
	assert_int_equal(f->vif[1].port.bridge, -1);
	assert_int_equal(f->sw.nports, 2);
	assert_memory_equal(v->port.mac, mac1, MAC_LEN);
	assert_int_equal(queued(f, 1), 0);
	expect_frame_from(f, 2, 0, 0x91);
	expect_frame_from(f, 2, 0, 0x92);
	assert_null(net_port_peek(&v->port));

	/* Neighbours see the same port: unicast goes straight to it. */
	send_to(f, 0, 1, 0x93, T0 + 2);
	expect_frame_from(f, 2, 0, 0x93);
	assert_int_equal(f->sw.bridges[0].flooded, flooded);
	send_len(f, 2, broadcast, mac1, FRAME_LEN, 0x94, T0 + 2);
	expect_frame(f, 0, mac1, 0x94);

	/* The old port is off the switch: nothing to take over twice. */
	assert_int_equal(net_switch_take_over(&f->sw, &f->vif[1].port, &f->vif[3].port), -1);
	assert_int_equal(net_switch_take_over(&f->sw, &f->vif[0].port, &v->port), -1);
	net_switch_detach(&f->sw, &f->vif[1].port);
	assert_int_equal(f->sw.nports, 2);
}

static void test_detach_keeps_other_bridges_learned(void **state)
{
	struct fixture *f = *state;
	uint8_t mac3[MAC_LEN];

	attach(f, 0, "br0");
	attach(f, 1, "br1");
	attach(f, 2, "br1");
	attach(f, 3, "br1");
	mac_of(mac3, 3);

	send(f, 3, broadcast, 0x91, T0);
	expect_frame_from(f, 1, 3, 0x91);
	expect_frame_from(f, 2, 3, 0x91);

	/* Port 3 moves to port 0's place in the list. */
	net_switch_detach(&f->sw, &f->vif[0].port);
	assert_ptr_equal(f->sw.ports[0], &f->vif[3].port);
	assert_int_equal(entry(f, 1, mac3)->port, 0);
	send_to(f, 1, 3, 0x92, T0 + 1);
	expect_frame_from(f, 3, 1, 0x92);
	assert_null(net_port_peek(&f->vif[2].port));
}

static void test_attach_refusals(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN];
	const char *why;
	char name[NET_BRIDGE_NAME_MAX + 1];

	mac_of(mac, 0);
	attach(f, 0, "br0");

	/* The same address on the same bridge: refused; on another: fine. */
	why = NULL;
	assert_int_equal(attach_mac(f, 1, "br0", mac, &why), -1);
	assert_non_null(why);
	assert_int_equal(f->sw.nports, 1);
	why = NULL;
	assert_int_equal(attach_mac(f, 1, "br1", mac, &why), 0);
	assert_null(why);

	/* The same port twice. */
	why = NULL;
	mac_of(mac, 7);
	assert_int_equal(attach_mac(f, 0, "br0", mac, &why), -1);
	assert_non_null(why);

	/* Names: empty, missing, too long. The longest that fits is fine. */
	mac_of(mac, 2);
	why = NULL;
	assert_int_equal(attach_mac(f, 2, "", mac, &why), -1);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(attach_mac(f, 2, NULL, mac, &why), -1);
	assert_non_null(why);
	memset(name, 'b', NET_BRIDGE_NAME_MAX);
	name[NET_BRIDGE_NAME_MAX] = '\0';
	why = NULL;
	assert_int_equal(attach_mac(f, 2, name, mac, &why), -1);
	assert_non_null(why);
	name[NET_BRIDGE_NAME_MAX - 1] = '\0';
	why = NULL;
	assert_int_equal(attach_mac(f, 2, name, mac, &why), 0);
	assert_string_equal(f->sw.bridges[f->vif[2].port.bridge].name, name);

	/* No ring. */
	mac_of(mac, 3);
	why = NULL;
	assert_int_equal(net_switch_attach(&f->sw, &f->vif[3].port, "br0", mac, NULL, on_notify,
					   &f->vif[3], &why),
			 -1);
	assert_non_null(why);
	assert_int_equal(f->sw.nports, 3);
	assert_int_equal(f->sw.nbridges, 3);
}

static void test_too_many_ports(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN];
	const char *why = NULL;

	for (unsigned i = 0; i < NET_SWITCH_PORTS; i++)
		attach(f, i, "br0");
	mac_of(mac, NET_SWITCH_PORTS);
	assert_int_equal(attach_mac(f, NET_SWITCH_PORTS, "br0", mac, &why), -1);
	assert_non_null(why);
	assert_int_equal(f->sw.nports, NET_SWITCH_PORTS);

	/* Broadcast reaches all the others. */
	send(f, 0, broadcast, 0xa5, T0);
	for (unsigned i = 1; i < NET_SWITCH_PORTS; i++)
		expect_frame_from(f, i, 0, 0xa5);

	/* A freed place can be taken. */
	net_switch_detach(&f->sw, &f->vif[3].port);
	why = NULL;
	assert_int_equal(attach_mac(f, NET_SWITCH_PORTS, "br0", mac, &why), 0);
}

static void test_too_many_bridges(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN];
	const char *why = NULL;
	char name[NET_BRIDGE_NAME_MAX];

	for (unsigned i = 0; i < NET_SWITCH_BRIDGES; i++) {
		snprintf(name, sizeof(name), "br%u", i);
		attach(f, i, name);
	}
	assert_int_equal(f->sw.nbridges, NET_SWITCH_BRIDGES);
	mac_of(mac, NET_SWITCH_BRIDGES);
	assert_int_equal(attach_mac(f, NET_SWITCH_BRIDGES, "extra", mac, &why), -1);
	assert_non_null(why);
	assert_int_equal(f->sw.nports, NET_SWITCH_BRIDGES);

	/* An existing bridge still takes ports. */
	why = NULL;
	assert_int_equal(attach_mac(f, NET_SWITCH_BRIDGES, "br2", mac, &why), 0);
	assert_int_equal(f->vif[NET_SWITCH_BRIDGES].port.bridge, 2);

	/* A bridge whose ports are all gone makes room for a new one. */
	net_switch_detach(&f->sw, &f->vif[5].port);
	mac_of(mac, NET_SWITCH_BRIDGES + 1);
	why = NULL;
	assert_int_equal(attach_mac(f, NET_SWITCH_BRIDGES + 1, "extra", mac, &why), 0);
	assert_int_equal(f->vif[NET_SWITCH_BRIDGES + 1].port.bridge, 5);
	assert_string_equal(f->sw.bridges[5].name, "extra");
	assert_int_equal(f->sw.bridges[5].flooded, 0);
}

static void test_multicast_source_not_learned(void **state)
{
	struct fixture *f = *state;

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");

	send_len(f, 1, broadcast, multicast, FRAME_LEN, 0xb1, T0);
	assert_null(entry(f, 0, multicast));
	expect_frame(f, 0, multicast, 0xb1);
	expect_frame(f, 2, multicast, 0xb1);

	/* Frames to it are still flooded. */
	send(f, 0, multicast, 0xb2, T0 + 1);
	expect_frame_from(f, 1, 0, 0xb2);
	expect_frame_from(f, 2, 0, 0xb2);
}

static void test_mac_table_full(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN], probe_src[MAC_LEN];
	const unsigned base = 0x100; /* addresses apart from the ports' own */

	attach(f, 0, "br0");
	attach(f, 1, "br0");
	attach(f, 2, "br0");
	/* Probes from port 0 carry a multicast source: they learn nothing. */
	memcpy(probe_src, multicast, MAC_LEN);

	/* Port 1 fills the table, one address per tick. */
	for (unsigned n = 0; n < NET_SWITCH_MACS; n++) {
		mac_of(mac, base + n);
		send_len(f, 1, broadcast, mac, FRAME_LEN, 0, T0 + n);
	}
	for (unsigned n = 0; n < NET_SWITCH_MACS; n++) {
		mac_of(mac, base + n);
		assert_non_null(entry(f, 0, mac));
	}

	/* Refresh the oldest, so the second oldest goes next. */
	mac_of(mac, base);
	send_len(f, 1, broadcast, mac, FRAME_LEN, 0, T0 + NET_SWITCH_MACS);

	/* One more, from port 2: replaces the least recently seen. */
	mac_of(mac, base + NET_SWITCH_MACS);
	send_len(f, 2, broadcast, mac, FRAME_LEN, 0, T0 + NET_SWITCH_MACS + 1);
	assert_int_equal(entry(f, 0, mac)->port, 2);
	mac_of(mac, base + 1);
	assert_null(entry(f, 0, mac));
	mac_of(mac, base);
	assert_non_null(entry(f, 0, mac));

	drain(f, 1);
	drain(f, 2);
	f->sw.bridges[0].flooded = 0;

	/* The newcomer and the refreshed entry are reached directly; the
	 * replaced one is flooded. */
	mac_of(mac, base + NET_SWITCH_MACS);
	send_len(f, 0, mac, probe_src, FRAME_LEN, 0xc1, T0 + NET_SWITCH_MACS + 2);
	assert_int_equal(queued(f, 2), 1);
	assert_int_equal(queued(f, 1), 0);
	mac_of(mac, base);
	send_len(f, 0, mac, probe_src, FRAME_LEN, 0xc2, T0 + NET_SWITCH_MACS + 2);
	assert_int_equal(queued(f, 1), 1);
	assert_int_equal(queued(f, 2), 1);
	assert_int_equal(f->sw.bridges[0].flooded, 0);
	mac_of(mac, base + 1);
	send_len(f, 0, mac, probe_src, FRAME_LEN, 0xc3, T0 + NET_SWITCH_MACS + 2);
	assert_int_equal(queued(f, 1), 2);
	assert_int_equal(queued(f, 2), 2);
	assert_int_equal(f->sw.bridges[0].flooded, 1);
}

static void test_aged_entry_replaced_first(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[MAC_LEN];
	const unsigned base = 0x200;
	const uint64_t later = T0 + NET_SWITCH_AGEING_NS + NET_SWITCH_MACS;

	attach(f, 0, "br0");
	attach(f, 1, "br0");

	/* One address long gone, the rest heard from recently. */
	mac_of(mac, base);
	send_len(f, 1, broadcast, mac, FRAME_LEN, 0, T0);
	for (unsigned n = 1; n < NET_SWITCH_MACS; n++) {
		mac_of(mac, base + n);
		send_len(f, 1, broadcast, mac, FRAME_LEN, 0, later + n);
	}
	mac_of(mac, base + NET_SWITCH_MACS);
	send_len(f, 1, broadcast, mac, FRAME_LEN, 0, later + NET_SWITCH_MACS);
	assert_non_null(entry(f, 0, mac));
	mac_of(mac, base);
	assert_null(entry(f, 0, mac));
	for (unsigned n = 1; n < NET_SWITCH_MACS; n++) {
		mac_of(mac, base + n);
		assert_non_null(entry(f, 0, mac));
	}
}

/* The machine's NIC, faked: what the switch sends it is kept, what the
 * wire brings waits in `inbound` for net_uplink_poll. */
#define NIC_FRAMES 16
struct fake_nic {
	struct netdev dev;
	unsigned tx_room; /* free transmit descriptors */
	unsigned sent;
	uint8_t sent_tag[NIC_FRAMES];
	uint8_t sent_dest[NIC_FRAMES][MAC_LEN];
	unsigned in_head, in_tail;
	uint8_t inbound[NIC_FRAMES][FRAME_LEN];
};

void kprintf(const char *fmt, ...)
{
	(void)fmt;
}

static int nic_transmit(struct netdev *d, const void *frame, size_t len)
{
	struct fake_nic *n = d->priv;
	const uint8_t *b = frame;

	if (!n->tx_room || n->sent == NIC_FRAMES)
		return -1;
	n->tx_room--;
	memcpy(n->sent_dest[n->sent], b, MAC_LEN);
	n->sent_tag[n->sent++] = b[len - 1];
	return 0;
}

static size_t nic_receive(struct netdev *d, void *buf, size_t cap)
{
	struct fake_nic *n = d->priv;

	if (n->in_head == n->in_tail || cap < FRAME_LEN)
		return 0;
	memcpy(buf, n->inbound[n->in_tail++ % NIC_FRAMES], FRAME_LEN);
	return FRAME_LEN;
}

static bool nic_link_up(struct netdev *d)
{
	(void)d;
	return true;
}

static int nic_set_loopback(struct netdev *d, bool on)
{
	(void)d;
	(void)on;
	return -1;
}

static const struct netdev_ops nic_ops = { nic_transmit, nic_receive, nic_link_up,
					   nic_set_loopback };

/* A frame from outside: dest, source address n (mac_of), payload tag. */
static void wire_in(struct fake_nic *n, const uint8_t *dest, unsigned from, uint8_t tag)
{
	uint8_t *b = n->inbound[n->in_head++ % NIC_FRAMES];

	memset(b, tag, FRAME_LEN);
	memcpy(b, dest, MAC_LEN);
	mac_of(b + MAC_LEN, from);
}

struct uplink_fixture {
	struct fake_nic nic;
	struct net_uplink up;
	struct net_frame *ring;
};

/* Outside addresses: far from the VMs' mac_of(0..16). */
#define OUTSIDE 100
#define OUTSIDE2 101

static struct uplink_fixture *uplink_on(struct fixture *f, const char *bridge)
{
	struct uplink_fixture *u = calloc(1, sizeof(*u));
	const char *why = NULL;

	assert_non_null(u);
	u->ring = calloc(NET_PORT_RING_SLOTS, sizeof(struct net_frame));
	assert_non_null(u->ring);
	u->nic.dev.ops = &nic_ops;
	u->nic.dev.priv = &u->nic;
	u->nic.tx_room = NIC_FRAMES;
	mac_of(u->nic.dev.mac, 200);
	assert_int_equal(net_uplink_attach(&u->up, &f->sw, bridge, &u->nic.dev, u->ring, &why), 0);
	assert_null(why);
	return u;
}

static void uplink_free(struct uplink_fixture *u)
{
	free(u->ring);
	free(u);
}

/* A frame from the NIC enters its own bridge only, and the sender is
 * learned behind the NIC. */
static void test_uplink_frame_from_nic_reaches_only_its_bridge(void **state)
{
	struct fixture *f = *state;
	struct uplink_fixture *u;
	uint8_t vm0[MAC_LEN], outside[MAC_LEN];

	attach(f, 0, "lan0");
	attach(f, 1, "lan0");
	attach(f, 2, "lan1");
	u = uplink_on(f, "lan0");
	/* vm0 announces itself (out of the NIC too): the switch knows it. */
	send(f, 0, broadcast, 0x10, T0);
	drain(f, 1);
	assert_int_equal(u->nic.sent, 1);
	wire_in(&u->nic, broadcast, OUTSIDE, 0x11);
	mac_of(vm0, 0);
	wire_in(&u->nic, vm0, OUTSIDE, 0x22);
	net_uplink_poll(&u->up, T0);
	expect_frame(f, 0, (mac_of(outside, OUTSIDE), outside), 0x11);
	expect_frame(f, 0, outside, 0x22);
	expect_frame(f, 1, outside, 0x11);
	assert_int_equal(queued(f, 1), 0); /* unicast for vm0 only */
	assert_int_equal(queued(f, 2), 0); /* the other bridge: nothing */
	assert_int_equal(u->nic.sent, 1);  /* never back out */
	assert_int_equal(u->up.port.stats.tx_frames, 2);
	/* vm0 answers: straight out of the NIC, no VM sees it. */
	send_to(f, 0, OUTSIDE, 0x33, T0);
	assert_int_equal(u->nic.sent, 2);
	assert_int_equal(u->nic.sent_tag[1], 0x33);
	assert_memory_equal(u->nic.sent_dest[1], outside, MAC_LEN);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(queued(f, 2), 0);
	uplink_free(u);
}

/* What the switch floods goes out; what stays between VMs, or belongs to
 * another bridge, does not. */
static void test_uplink_gets_floods_not_local_or_foreign_traffic(void **state)
{
	struct fixture *f = *state;
	struct uplink_fixture *u;

	attach(f, 0, "lan0");
	attach(f, 1, "lan0");
	attach(f, 2, "lan1");
	attach(f, 3, "lan1");
	u = uplink_on(f, "lan0");
	send(f, 0, broadcast, 0x01, T0);   /* flooded: out */
	send_to(f, 0, OUTSIDE2, 0x02, T0); /* unknown: flooded, out */
	send_to(f, 1, 0, 0x03, T0);	   /* vm0 is known: not out */
	send(f, 2, broadcast, 0x04, T0);   /* other bridge: not out */
	send_to(f, 3, OUTSIDE2, 0x05, T0); /* other bridge: not out */
	assert_int_equal(u->nic.sent, 2);
	assert_int_equal(u->nic.sent_tag[0], 0x01);
	assert_int_equal(u->nic.sent_tag[1], 0x02);
	/* A frame from outside for an address also behind the NIC stays out. */
	wire_in(&u->nic, broadcast, OUTSIDE, 0x06);
	net_uplink_poll(&u->up, T0);
	drain(f, 0);
	drain(f, 1);
	uint8_t outside[MAC_LEN];
	mac_of(outside, OUTSIDE);
	wire_in(&u->nic, outside, OUTSIDE2, 0x07);
	net_uplink_poll(&u->up, T0);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(u->nic.sent, 2);
	uplink_free(u);
}

/* A full transmit ring: frames wait in the port's ring, in order, and go
 * out at the next poll once there is room. */
static void test_uplink_full_nic_queues_until_poll(void **state)
{
	struct fixture *f = *state;
	struct uplink_fixture *u;

	attach(f, 0, "lan0");
	u = uplink_on(f, "lan0");
	u->nic.tx_room = 1;
	send(f, 0, broadcast, 0x01, T0);
	send(f, 0, broadcast, 0x02, T0);
	send(f, 0, broadcast, 0x03, T0);
	assert_int_equal(u->nic.sent, 1);
	net_uplink_poll(&u->up, T0); /* still no room */
	assert_int_equal(u->nic.sent, 1);
	u->nic.tx_room = NIC_FRAMES;
	send(f, 0, broadcast, 0x04, T0); /* behind the waiting ones */
	assert_int_equal(u->nic.sent, 1);
	net_uplink_poll(&u->up, T0);
	assert_int_equal(u->nic.sent, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(u->nic.sent_tag[i], i + 1);
	assert_null(net_port_peek(&u->up.port));
	uplink_free(u);
}

/* A VM may use the NIC's own address: unicast for it, from outside,
 * reaches it. */
static void test_uplink_vm_may_take_the_nic_mac(void **state)
{
	struct fixture *f = *state;
	struct uplink_fixture *u = uplink_on(f, "lan0");
	const char *why = NULL;
	uint8_t outside[MAC_LEN];

	assert_int_equal(attach_mac(f, 0, "lan0", u->nic.dev.mac, &why), 0);
	send_len(f, 0, broadcast, u->nic.dev.mac, FRAME_LEN, 0x01, T0);
	assert_int_equal(u->nic.sent, 1);
	wire_in(&u->nic, u->nic.dev.mac, OUTSIDE, 0x02);
	net_uplink_poll(&u->up, T0);
	expect_frame(f, 0, (mac_of(outside, OUTSIDE), outside), 0x02);
	uplink_free(u);
}

/* Two bridges, two NICs: each NIC's frames stay in its own bridge. */
static void test_two_uplinks_stay_apart(void **state)
{
	struct fixture *f = *state;
	struct uplink_fixture *a, *b;
	uint8_t outside[MAC_LEN];

	attach(f, 0, "lan0");
	attach(f, 1, "lan1");
	a = uplink_on(f, "lan0");
	b = uplink_on(f, "lan1");
	mac_of(outside, OUTSIDE);
	wire_in(&a->nic, broadcast, OUTSIDE, 0x0a);
	wire_in(&b->nic, broadcast, OUTSIDE2, 0x0b);
	net_uplink_poll(&a->up, T0);
	net_uplink_poll(&b->up, T0);
	expect_frame(f, 0, outside, 0x0a);
	expect_frame_from(f, 1, OUTSIDE2, 0x0b);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(a->nic.sent + b->nic.sent, 0);
	uplink_free(a);
	uplink_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attach_sets_up_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_frame_from_nic_reaches_only_its_bridge,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_uplink_gets_floods_not_local_or_foreign_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_full_nic_queues_until_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_uplinks_stay_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_vm_may_take_the_nic_mac, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_direct_delivery_keeps_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_ports_unknown_then_learned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_three_ports_flood_and_unicast, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bridges_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ageing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination_behind_sender_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_drops_only_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consume_frees_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_is_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_per_receiving_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_taken_and_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach_keeps_other_bridges_learned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attach_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_bridges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_source_not_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aged_entry_replaced_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
