/* The L2 switch between VMs: each bridge (xl.cfg's vif "bridge=NAME") is a
 * learning Ethernet switch. A frame from a port goes to the port its
 * destination MAC was last seen on (entries age out after
 * NET_SWITCH_AGEING_NS), or is flooded to every other port of the bridge
 * when the destination is broadcast, multicast or unknown. Nothing crosses
 * between bridges.
 *
 * Ports may belong to VMs on different host CPUs, so the switch never
 * touches a receiving VM: it copies the frame into that port's inbound ring
 * (under the switch's lock) and calls the port's notify; the receiving
 * device drains its ring on its own CPU. A full ring drops the frame and
 * counts it against that port: a guest that stops reading loses its own
 * frames and stalls nobody. */
#ifndef PGVISOR_NET_SWITCH_H
#define PGVISOR_NET_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"

#define NET_FRAME_MIN 14   /* an Ethernet header */
#define NET_FRAME_MAX 1518 /* 1500 bytes of payload, header, one VLAN tag */
#define NET_BRIDGE_NAME_MAX 16
#define NET_SWITCH_BRIDGES 8
#define NET_SWITCH_PORTS 16			      /* in all bridges together */
#define NET_SWITCH_MACS 64			      /* learned addresses per bridge */
#define NET_SWITCH_AGEING_NS (300ull * 1000000000ull) /* Linux bridge default */
#define NET_PORT_RING_SLOTS 64 /* frames waiting for one port; a power of two */

struct net_frame {
	uint16_t len;
	uint8_t data[NET_FRAME_MAX];
};

struct net_port_stats {
	uint64_t tx_frames, tx_bytes; /* from the port's VM into the switch */
	uint64_t rx_frames, rx_bytes; /* queued for the port's VM */
	uint64_t rx_dropped;	      /* its ring was full */
	uint64_t tx_invalid;	      /* shorter than a header or longer than the max */
};

struct net_port {
	int bridge; /* index into the switch's bridges; -1: not attached */
	uint8_t mac[6];
	struct net_port_stats stats;
	/* Called (switch lock held, any CPU) after frames were queued. */
	void (*notify)(void *ctx);
	/* Optional (switch lock held): hands a frame straight to the port's
	 * guest when nothing waits in its ring; false when it cannot (the
	 * receiving VM may be running elsewhere, or has no buffer), and the
	 * frame is queued instead. Set after net_switch_attach. */
	bool (*deliver)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
	/* The inbound ring: the switch fills slots at head, the port's own
	 * CPU empties them at tail. */
	struct net_frame *ring; /* NET_PORT_RING_SLOTS slots */
	volatile uint32_t head, tail;
};

struct net_mac_entry {
	uint8_t mac[6];
	uint8_t port; /* index into the switch's ports */
	bool valid;
	uint64_t seen_ns;
};

struct net_bridge {
	char name[NET_BRIDGE_NAME_MAX];
	struct net_mac_entry macs[NET_SWITCH_MACS];
	uint64_t flooded; /* frames sent to every port */
};

struct net_switch {
	struct spinlock lock;
	unsigned nbridges, nports;
	struct net_bridge bridges[NET_SWITCH_BRIDGES];
	struct net_port *ports[NET_SWITCH_PORTS];
};

void net_switch_init(struct net_switch *sw);
/* Adds port to bridge (created on first use). ring holds
 * NET_PORT_RING_SLOTS frames. 0, or -1 with *why (too many bridges, too
 * many ports, a name too long or empty, the MAC already on that bridge). */
int net_switch_attach(struct net_switch *sw, struct net_port *port, const char *bridge,
		      const uint8_t mac[6], struct net_frame *ring, void (*notify)(void *ctx),
		      void *ctx, const char **why);
/* Takes a port off its bridge (its VM is destroyed): its learned
 * addresses are forgotten, frames for it are dropped from now on. */
void net_switch_detach(struct net_switch *sw, struct net_port *port);
/* A live migration's switch: port (never attached) takes old's place on
 * its bridge, with its MAC and its learned addresses, so neighbours see
 * the same port; port's own waiting frames are dropped and old's (a
 * superset: its VM has been paused since they were saved) move into
 * port's ring; old is off the switch. 0, or -1 when old is not attached
 * or port is. */
int net_switch_take_over(struct net_switch *sw, struct net_port *old, struct net_port *port);
/* Forwards one frame sent by from's VM at time now_ns (for learning and
 * ageing). The frame is copied: the caller's buffer is free on return. */
void net_switch_send(struct net_switch *sw, struct net_port *from, const void *frame, size_t len,
		     uint64_t now_ns);
/* Whether a port with mac is on the bridge named bridge now. */
bool net_switch_mac_taken(struct net_switch *sw, const char *bridge, const uint8_t mac[6]);
/* Puts a frame back into port's ring (a restored VM's frames that were
 * waiting at its save), behind what the ring holds, without waking the
 * port; false when the ring is full (the frame is then dropped and
 * counted). */
bool net_port_requeue(struct net_switch *sw, struct net_port *port, const uint8_t *frame,
		      size_t len);
/* How many ports the bridge named name has now (0: no such bridge). */
unsigned net_switch_bridge_ports(struct net_switch *sw, const char *name);
/* The oldest frame waiting for port, or NULL; it stays until
 * net_port_consume. Only port's own CPU calls these two. */
const struct net_frame *net_port_peek(struct net_port *port);
void net_port_consume(struct net_port *port);

#endif
