#include "vmm/dev/net_switch.h"

#include <string.h>

#define ETH_ALEN 6
#define ETH_DEST_OFF 0
#define ETH_SRC_OFF ETH_ALEN
#define ETH_GROUP_BIT 0x01 /* in the first byte: broadcast or multicast */
#define NET_PORT_RING_MASK (NET_PORT_RING_SLOTS - 1)

_Static_assert((NET_PORT_RING_SLOTS & NET_PORT_RING_MASK) == 0,
	       "NET_PORT_RING_SLOTS must be a power of two");
_Static_assert(NET_SWITCH_PORTS <= UINT8_MAX + 1, "net_mac_entry.port is a uint8_t");
_Static_assert(NET_FRAME_MAX <= UINT16_MAX, "net_frame.len is a uint16_t");

static bool is_group(const uint8_t *mac)
{
	return mac[0] & ETH_GROUP_BIT;
}

/* Clocks of different CPUs may disagree a little: an entry stamped "after"
 * now is fresh, not aged by a wrapped-around difference. */
static bool aged_out(const struct net_mac_entry *e, uint64_t now_ns)
{
	return now_ns > e->seen_ns && now_ns - e->seen_ns > NET_SWITCH_AGEING_NS;
}

static int port_index(const struct net_switch *sw, const struct net_port *port)
{
	for (unsigned i = 0; i < sw->nports; i++)
		if (sw->ports[i] == port)
			return (int)i;
	return -1;
}

static bool bridge_has_ports(const struct net_switch *sw, unsigned b)
{
	for (unsigned i = 0; i < sw->nports; i++)
		if (sw->ports[i]->bridge == (int)b)
			return true;
	return false;
}

static int find_bridge(const struct net_switch *sw, const char *name)
{
	for (unsigned b = 0; b < sw->nbridges; b++)
		if (!strcmp(sw->bridges[b].name, name))
			return (int)b;
	return -1;
}

/* A fresh bridge, or one whose ports have all gone (VMs come and go with
 * other bridge names; the table must not fill with dead ones). */
static int new_bridge(struct net_switch *sw, const char *name)
{
	unsigned b = sw->nbridges;

	if (b == NET_SWITCH_BRIDGES) {
		for (b = 0; b < sw->nbridges; b++)
			if (!bridge_has_ports(sw, b))
				break;
		if (b == sw->nbridges)
			return -1;
	} else {
		sw->nbridges++;
	}
	memset(&sw->bridges[b], 0, sizeof(sw->bridges[b]));
	memcpy(sw->bridges[b].name, name, strlen(name) + 1);
	return (int)b;
}

static struct net_mac_entry *lookup(struct net_bridge *br, const uint8_t *mac)
{
	for (unsigned i = 0; i < NET_SWITCH_MACS; i++)
		if (br->macs[i].valid && !memcmp(br->macs[i].mac, mac, ETH_ALEN))
			return &br->macs[i];
	return NULL;
}

/* A free entry, else the least recently seen one (an aged-out entry is
 * older than every live one, so it goes first). */
static struct net_mac_entry *victim(struct net_bridge *br)
{
	struct net_mac_entry *oldest = &br->macs[0];

	for (unsigned i = 0; i < NET_SWITCH_MACS; i++) {
		if (!br->macs[i].valid)
			return &br->macs[i];
		if (br->macs[i].seen_ns < oldest->seen_ns)
			oldest = &br->macs[i];
	}
	return oldest;
}

static void learn(struct net_bridge *br, const uint8_t *mac, unsigned port, uint64_t now_ns)
{
	struct net_mac_entry *e;

	if (is_group(mac))
		return;
	e = lookup(br, mac);
	if (!e) {
		e = victim(br);
		memcpy(e->mac, mac, ETH_ALEN);
		e->valid = true;
	}
	e->port = (uint8_t)port;
	e->seen_ns = now_ns;
}

static void forget_port(struct net_bridge *br, unsigned port)
{
	for (unsigned i = 0; i < NET_SWITCH_MACS; i++)
		if (br->macs[i].valid && br->macs[i].port == port)
			br->macs[i].valid = false;
}

/* Queues one copy for port and wakes it. The switch lock serializes
 * producers; the consumer only ever advances tail. */
static void deliver(struct net_port *port, const void *frame, size_t len)
{
	uint32_t head = port->head;
	/* Acquire: the consumer has finished with a slot before we refill it. */
	uint32_t tail = __atomic_load_n(&port->tail, __ATOMIC_ACQUIRE);
	struct net_frame *slot;

	/* Nothing waits ahead of it: the receiver may take it now, saving
	 * the copy into the ring (the order of frames is kept). */
	if (head == tail && port->deliver && port->deliver(port->ctx, frame, len)) {
		port->stats.rx_frames++;
		port->stats.rx_bytes += len;
		return;
	}
	if (head - tail >= NET_PORT_RING_SLOTS) {
		port->stats.rx_dropped++;
		return;
	}
	slot = &port->ring[head & NET_PORT_RING_MASK];
	memcpy(slot->data, frame, len);
	slot->len = (uint16_t)len;
	/* Release: the slot is complete before the consumer can see it. */
	__atomic_store_n(&port->head, head + 1, __ATOMIC_RELEASE);
	port->stats.rx_frames++;
	port->stats.rx_bytes += len;
	if (port->notify)
		port->notify(port->ctx);
}

bool net_switch_mac_taken(struct net_switch *sw, const char *bridge, const uint8_t mac[6])
{
	bool taken = false;

	spin_lock(&sw->lock);
	int b = find_bridge(sw, bridge);
	for (unsigned i = 0; b >= 0 && i < sw->nports; i++)
		if (sw->ports[i]->bridge == b && !memcmp(sw->ports[i]->mac, mac, ETH_ALEN))
			taken = true;
	spin_unlock(&sw->lock);
	return taken;
}

bool net_port_requeue(struct net_switch *sw, struct net_port *port, const uint8_t *frame,
		      size_t len)
{
	bool queued = false;

	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX)
		return false;
	spin_lock(&sw->lock);
	uint32_t head = port->head, tail = __atomic_load_n(&port->tail, __ATOMIC_ACQUIRE);
	if (head - tail < NET_PORT_RING_SLOTS) {
		struct net_frame *slot = &port->ring[head & NET_PORT_RING_MASK];
		memcpy(slot->data, frame, len);
		slot->len = (uint16_t)len;
		__atomic_store_n(&port->head, head + 1, __ATOMIC_RELEASE);
		queued = true;
	} else {
		port->stats.rx_dropped++;
	}
	spin_unlock(&sw->lock);
	return queued;
}

void net_switch_init(struct net_switch *sw)
{
	memset(sw, 0, sizeof(*sw));
}

int net_switch_attach(struct net_switch *sw, struct net_port *port, const char *bridge,
		      const uint8_t mac[6], struct net_frame *ring, void (*notify)(void *ctx),
		      void *ctx, const char **why)
{
	size_t name_len = bridge ? strnlen(bridge, NET_BRIDGE_NAME_MAX) : 0;
	int b;

	*why = NULL;
	if (!name_len) {
		*why = "empty bridge name";
		return -1;
	}
	if (name_len >= NET_BRIDGE_NAME_MAX) {
		*why = "bridge name too long";
		return -1;
	}
	if (!ring) {
		*why = "no ring";
		return -1;
	}
	spin_lock(&sw->lock);
	b = find_bridge(sw, bridge);
	if (port_index(sw, port) >= 0) {
		*why = "port already attached";
	} else if (sw->nports == NET_SWITCH_PORTS) {
		*why = "too many ports";
	} else if (b >= 0) {
		for (unsigned i = 0; i < sw->nports; i++)
			if (sw->ports[i]->bridge == b && !memcmp(sw->ports[i]->mac, mac, ETH_ALEN))
				*why = "MAC already on that bridge";
	} else {
		b = new_bridge(sw, bridge);
		if (b < 0)
			*why = "too many bridges";
	}
	if (*why) {
		spin_unlock(&sw->lock);
		return -1;
	}
	memset(&port->stats, 0, sizeof(port->stats));
	memcpy(port->mac, mac, ETH_ALEN);
	port->notify = notify;
	port->ctx = ctx;
	port->ring = ring;
	port->head = 0;
	port->tail = 0;
	port->bridge = b;
	sw->ports[sw->nports++] = port;
	spin_unlock(&sw->lock);
	return 0;
}

void net_switch_detach(struct net_switch *sw, struct net_port *port)
{
	int i;
	unsigned last;

	spin_lock(&sw->lock);
	i = port_index(sw, port);
	if (i < 0) {
		port->bridge = -1;
		spin_unlock(&sw->lock);
		return;
	}
	forget_port(&sw->bridges[port->bridge], (unsigned)i);
	/* Keep the list dense: the last port takes the hole, and its bridge's
	 * entries follow it to its new index. */
	last = sw->nports - 1;
	if ((unsigned)i != last) {
		struct net_bridge *br = &sw->bridges[sw->ports[last]->bridge];

		sw->ports[i] = sw->ports[last];
		for (unsigned m = 0; m < NET_SWITCH_MACS; m++)
			if (br->macs[m].valid && br->macs[m].port == last)
				br->macs[m].port = (uint8_t)i;
	}
	sw->ports[last] = NULL;
	sw->nports--;
	port->bridge = -1;
	spin_unlock(&sw->lock);
}

int net_switch_take_over(struct net_switch *sw, struct net_port *old, struct net_port *port)
{
	int i;

	spin_lock(&sw->lock);
	i = port_index(sw, old);
	if (i < 0 || port_index(sw, port) >= 0) {
		spin_unlock(&sw->lock);
		return -1;
	}
	sw->ports[i] = port;
	port->bridge = old->bridge;
	memcpy(port->mac, old->mac, ETH_ALEN);
	port->tail = port->head;
	for (uint32_t t = old->tail; t != old->head; t++) {
		port->ring[port->head & NET_PORT_RING_MASK] = old->ring[t & NET_PORT_RING_MASK];
		port->head++;
	}
	old->tail = old->head;
	old->bridge = -1;
	spin_unlock(&sw->lock);
	return 0;
}

void net_switch_send(struct net_switch *sw, struct net_port *from, const void *frame, size_t len,
		     uint64_t now_ns)
{
	const uint8_t *bytes = frame;
	struct net_bridge *br;
	struct net_mac_entry *dest;
	int src;

	spin_lock(&sw->lock);
	src = port_index(sw, from);
	if (src < 0)
		goto out; /* detached: its VM is going away */
	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX) {
		from->stats.tx_invalid++;
		goto out;
	}
	from->stats.tx_frames++;
	from->stats.tx_bytes += len;
	br = &sw->bridges[from->bridge];
	learn(br, bytes + ETH_SRC_OFF, (unsigned)src, now_ns);

	dest = is_group(bytes + ETH_DEST_OFF) ? NULL : lookup(br, bytes + ETH_DEST_OFF);
	if (dest && !aged_out(dest, now_ns)) {
		/* The destination sits behind the sender: nothing to do. */
		if (dest->port != src)
			deliver(sw->ports[dest->port], frame, len);
		goto out;
	}
	if (dest)
		dest->valid = false;
	br->flooded++;
	for (unsigned i = 0; i < sw->nports; i++)
		if ((int)i != src && sw->ports[i]->bridge == from->bridge)
			deliver(sw->ports[i], frame, len);
out:
	spin_unlock(&sw->lock);
}

unsigned net_switch_bridge_ports(struct net_switch *sw, const char *name)
{
	unsigned n = 0;
	int b;

	spin_lock(&sw->lock);
	b = find_bridge(sw, name);
	for (unsigned i = 0; b >= 0 && i < sw->nports; i++)
		n += sw->ports[i]->bridge == b;
	spin_unlock(&sw->lock);
	return n;
}

const struct net_frame *net_port_peek(struct net_port *port)
{
	/* Acquire: pairs with deliver's release, the slot is complete. */
	uint32_t head = __atomic_load_n(&port->head, __ATOMIC_ACQUIRE);
	uint32_t tail = port->tail;

	if (head == tail)
		return NULL;
	return &port->ring[tail & NET_PORT_RING_MASK];
}

void net_port_consume(struct net_port *port)
{
	uint32_t tail = port->tail;

	if (__atomic_load_n(&port->head, __ATOMIC_RELAXED) == tail)
		return;
	/* Release: our reads of the slot are done before the switch refills it. */
	__atomic_store_n(&port->tail, tail + 1, __ATOMIC_RELEASE);
}
