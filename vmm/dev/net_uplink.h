/* A bridge's way out of the machine: one of its switch ports is a NIC
 * pgvisor drives (pgvisor's command line "bridge=lan0:nic0"). The switch
 * treats it as any port: frames it floods, and frames for addresses it
 * learned behind the NIC, go out of the NIC; frames the NIC receives enter
 * that bridge only, where the switch learns their senders and forwards
 * them (a frame for an address behind the NIC itself goes nowhere).
 *
 * Sending: the switch hands a frame straight to the NIC's transmit ring
 * (under the switch's lock). When that ring is full the frame waits in the
 * port's inbound ring and the next net_uplink_poll sends it.
 * Receiving: nothing interrupts; net_uplink_poll takes what the NIC has.
 * Any CPU may poll; one at a time does, the others return at once.
 *
 * The NIC receives every unicast address (it is the switch that filters),
 * and a VM on the bridge may use the NIC's own MAC. */
#ifndef PGVISOR_NET_UPLINK_H
#define PGVISOR_NET_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "drivers/net/netdev.h"
#include "vmm/dev/net_switch.h"

#define NET_UPLINK_RX_BUDGET 32 /* frames taken from the NIC per poll */
#define NET_UPLINK_RX_BUF 2048	/* more than any frame a NIC hands over */

struct net_uplink {
	struct net_port port;
	struct net_switch *sw;
	struct netdev *nic;
	struct spinlock poll_lock;
	/* Frames the hypervisor keeps for itself (NULL: none): true when it
	 * took the frame, which then never reaches the bridge. */
	bool (*take)(const uint8_t *frame, size_t len);
	uint8_t rx_buf[NET_UPLINK_RX_BUF];
};

/* Makes nic a port of bridge on sw; ring holds NET_PORT_RING_SLOTS frames.
 * 0, or -1 with *why (as net_switch_attach). */
int net_uplink_attach(struct net_uplink *u, struct net_switch *sw, const char *bridge,
		      struct netdev *nic, struct net_frame *ring, const char **why);
/* Sends frames that waited for room, then forwards what the NIC received
 * (at most NET_UPLINK_RX_BUDGET) into the bridge at time now_ns. */
void net_uplink_poll(struct net_uplink *u, uint64_t now_ns);

#endif
