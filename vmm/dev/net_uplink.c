#include "vmm/dev/net_uplink.h"

/* Called by the switch, its lock held: straight into the NIC's ring. */
static bool uplink_deliver(void *ctx, const uint8_t *frame, size_t len)
{
	struct net_uplink *u = ctx;

	return netdev_transmit(u->nic, frame, len) == 0;
}

int net_uplink_attach(struct net_uplink *u, struct net_switch *sw, const char *bridge,
		      struct netdev *nic, struct net_frame *ring, const char **why)
{
	/* The port's address only keeps two ports of a bridge from sharing
	 * one: the uplink claims none, so a VM may take the NIC's own (a LAN
	 * that passes the NIC only its own address and broadcasts, as Bochs's
	 * socket network does, still reaches that VM). */
	static const uint8_t no_mac[NETDEV_MAC_LEN];

	u->sw = sw;
	u->nic = nic;
	/* No notify: what waits in the ring is sent at the next poll. */
	if (net_switch_attach(sw, &u->port, bridge, no_mac, ring, NULL, u, why))
		return -1;
	u->port.deliver = uplink_deliver;
	return 0;
}

void net_uplink_poll(struct net_uplink *u, uint64_t now_ns)
{
	const struct net_frame *f;
	size_t len;

	if (!spin_trylock(&u->poll_lock))
		return;
	while ((f = net_port_peek(&u->port)) && !netdev_transmit(u->nic, f->data, f->len))
		net_port_consume(&u->port);
	for (unsigned i = 0; i < NET_UPLINK_RX_BUDGET; i++) {
		len = netdev_receive(u->nic, u->rx_buf, sizeof(u->rx_buf));
		if (!len)
			break;
		if (u->take && u->take(u->rx_buf, len))
			continue;
		/* The switch checks the length and counts what it refuses. */
		net_switch_send(u->sw, &u->port, u->rx_buf, len, now_ns);
	}
	spin_unlock(&u->poll_lock);
}
