/* pgvisor's own IPv4 address on the machine's first NIC (pgvisor's command
 * line "ip=ADDR/PREFIX"), for migration between machines: it answers ARP
 * for its address, resolves its peers' (RFC 826), and sends and receives
 * UDP datagrams (RFC 768; IPv4 RFC 791, no fragments, no options) on one
 * port for one listener. The NIC may also be a bridge's uplink
 * (vmm/dev/net_uplink.h): frames for pgvisor's address are taken here
 * (net_uplink's take hook), all others go on to the bridge as before; a
 * NIC that is no uplink is polled here. Frames are queued as they arrive
 * and handled by host_ip_poll, one CPU at a time, which then calls the
 * listener's tick: everything the listener does happens there. */
#ifndef PGVISOR_HOST_IP_H
#define PGVISOR_HOST_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/net/netdev.h"

#define HOST_IP_OPTION "ip"
#define HOST_IP_UDP_MAX 1472 /* 1500 less the IPv4 and UDP headers */

struct host_ip_listener {
	/* A UDP datagram for the port from IPv4 address from. */
	void (*receive)(void *ctx, uint32_t from, const uint8_t *payload, size_t len,
			uint64_t now_ns);
	/* Every poll, after what arrived. */
	void (*tick)(void *ctx, uint64_t now_ns);
	void *ctx;
};

/* Reads ip=ADDR/PREFIX (one line: taken, or why not). */
void host_ip_init(const char *cmdline);
/* Whether pgvisor has an address (then its NIC is polled). */
bool host_ip_enabled(void);
uint32_t host_ip_addr(void);
/* The NIC it uses, or NULL. */
struct netdev *host_ip_nic(void);
/* The one listener, on UDP port port. */
void host_ip_listen(uint16_t port, const struct host_ip_listener *l);
/* A frame the NIC received: true when it is pgvisor's own (queued here,
 * or dropped when the queue is full), false for the bridge. */
bool host_ip_take(const uint8_t *frame, size_t len);
/* Takes what the NIC received when it is no uplink (uplinked: whether an
 * uplink's poll hands frames in), handles what is queued, calls the
 * listener's tick. Any CPU; one at a time, the others return at once. */
void host_ip_poll(uint64_t now_ns, bool uplinked);
/* From the listener's receive or tick only: a datagram to to's port
 * (the same as ours). 0, or -1 when to's MAC is not known yet (an ARP
 * request went out: the caller sends again later) or the NIC is busy. */
int host_ip_send(uint32_t to, const void *payload, size_t len);
/* "a.b.c.d" into *addr. */
bool host_ip_parse_addr(const char *s, uint32_t *addr);

#endif
