#include "vmm/vm/host_ip.h"

#include <string.h>

#include "arch/x86/lib/cmdline.h"
#include "arch/x86/spinlock.h"
#include "drivers/console.h"
#include "vmm/dev/net_switch.h"

#define ETH_HDR 14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ARP_LEN 28 /* Ethernet/IPv4 ARP (RFC 826) */
#define ARP_HTYPE_ETHER 1
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define IPV4_HDR 20 /* no options */
#define IPV4_VERSION_IHL 0x45
#define IPV4_TTL 64
#define IPV4_PROTO_UDP 17
#define IPV4_FLAG_DF 0x4000
#define IPV4_FRAG_MASK 0x3fff /* MF and the offset: fragments are refused */
#define UDP_HDR 8
#define ARP_CACHE 4
#define ARP_RETRY_NS 100000000ull /* one request per peer per 100 ms */
/* RFC 5227 2.3: ANNOUNCE_NUM announcements ANNOUNCE_INTERVAL apart. A
 * switch (or Bochs's bxhub, which forwards unicast only to a machine it
 * saw broadcast) learns where pgvisor's address is before a peer asks. */
#define ANNOUNCE_NUM 2
#define ANNOUNCE_INTERVAL_NS 2000000000ull
#define QUEUE_SLOTS 64 /* frames waiting for host_ip_poll; a power of two */
#define OPTION_MAX 24
#define RX_BUDGET 32 /* frames taken from a NIC that is no uplink, per poll */

struct arp_entry {
	uint32_t ip;
	uint8_t mac[NETDEV_MAC_LEN];
	bool known;
	uint64_t asked_ns;
};

struct queued {
	uint16_t len;
	uint8_t data[NET_FRAME_MAX];
};

static struct netdev *nic;
static uint32_t my_ip, my_mask;
static uint16_t my_port;
static struct host_ip_listener listener;
static struct arp_entry arp[ARP_CACHE];
static unsigned arp_next;
static unsigned announced;
static uint64_t announced_ns;
static uint64_t now;
static struct spinlock poll_lock, queue_lock;
static struct queued queue[QUEUE_SLOTS];
static unsigned q_head, q_tail; /* free-running */
static uint8_t frame_buf[NET_FRAME_MAX];
static uint8_t out[ETH_HDR + IPV4_HDR + UDP_HDR + HOST_IP_UDP_MAX];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

bool host_ip_parse_addr(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (unsigned i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || (i < 3 && *s++ != '.'))
			return false;
		a = a << 8 | v;
	}
	if (*s)
		return false;
	*addr = a;
	return true;
}

void host_ip_init(const char *cmdline)
{
	char opt[OPTION_MAX], addr[OPTION_MAX];
	unsigned prefix = 0;

	if (!cmdline_value(cmdline, HOST_IP_OPTION, opt, sizeof(opt)))
		return;
	const char *slash = strchr(opt, '/');
	bool ok = slash && (size_t)(slash - opt) < sizeof(addr);
	if (ok) {
		memcpy(addr, opt, (size_t)(slash - opt));
		addr[slash - opt] = '\0';
		const char *p = slash + 1;
		ok = *p != '\0';
		for (; ok && *p; p++)
			ok = *p >= '0' && *p <= '9' &&
			     (prefix = prefix * 10 + (unsigned)(*p - '0')) <= 32;
		ok = ok && prefix >= 1 && host_ip_parse_addr(addr, &my_ip) && my_ip;
	}
	if (!ok) {
		my_ip = 0;
		kprintf("pgvisor: ip: '%s' is not ip=ADDR/PREFIX (as 10.0.0.1/24)\n", opt);
		return;
	}
	nic = netdev_get(0);
	if (!nic) {
		my_ip = 0;
		kprintf("pgvisor: ip %s: no NIC to put it on\n", opt);
		return;
	}
	my_mask = prefix == 32 ? ~0u : ~(~0u >> prefix);
	kprintf("pgvisor: ip %s on %s (%02x:%02x:%02x:%02x:%02x:%02x)\n", opt, nic->name,
		nic->mac[0], nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
}

bool host_ip_enabled(void)
{
	return my_ip != 0;
}

uint32_t host_ip_addr(void)
{
	return my_ip;
}

struct netdev *host_ip_nic(void)
{
	return my_ip ? nic : NULL;
}

void host_ip_listen(uint16_t port, const struct host_ip_listener *l)
{
	my_port = port;
	listener = *l;
}

/* Whether the frame is for pgvisor itself: ARP about its address, IPv4
 * to its address. */
static bool ours(const uint8_t *f, size_t len)
{
	if (len < ETH_HDR)
		return false;
	uint16_t type = get16(f + 12);
	if (type == ETH_TYPE_ARP)
		return len >= ETH_HDR + ARP_LEN && get32(f + ETH_HDR + 24) == my_ip;
	return type == ETH_TYPE_IPV4 && len >= ETH_HDR + IPV4_HDR &&
	       get32(f + ETH_HDR + 16) == my_ip;
}

bool host_ip_take(const uint8_t *frame, size_t len)
{
	if (!my_ip || !ours(frame, len))
		return false;
	spin_lock(&queue_lock);
	/* A full queue drops the frame: the migration channel sends again. */
	if (q_tail - q_head < QUEUE_SLOTS && len <= NET_FRAME_MAX) {
		struct queued *q = &queue[q_tail++ % QUEUE_SLOTS];
		q->len = (uint16_t)len;
		memcpy(q->data, frame, len);
	}
	spin_unlock(&queue_lock);
	return true;
}

static struct arp_entry *arp_find(uint32_t ip)
{
	for (unsigned i = 0; i < ARP_CACHE; i++)
		if (arp[i].ip == ip)
			return &arp[i];
	return NULL;
}

static void arp_learn(uint32_t ip, const uint8_t *mac)
{
	struct arp_entry *e = arp_find(ip);

	if (!e) {
		e = &arp[arp_next++ % ARP_CACHE];
		e->ip = ip;
	}
	memcpy(e->mac, mac, NETDEV_MAC_LEN);
	e->known = true;
}

static void send_arp(uint16_t op, const uint8_t *to_mac, uint32_t to_ip)
{
	static const uint8_t broadcast[NETDEV_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[ETH_HDR + ARP_LEN], *a = f + ETH_HDR;

	/* A request (or announcement) is broadcast; a reply goes to the
	 * asker. */
	memcpy(f, to_mac ? to_mac : broadcast, NETDEV_MAC_LEN);
	memcpy(f + 6, nic->mac, NETDEV_MAC_LEN);
	put16(f + 12, ETH_TYPE_ARP);
	put16(a, ARP_HTYPE_ETHER);
	put16(a + 2, ETH_TYPE_IPV4);
	a[4] = NETDEV_MAC_LEN;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, nic->mac, NETDEV_MAC_LEN);
	put32(a + 14, my_ip);
	if (to_mac)
		memcpy(a + 18, to_mac, NETDEV_MAC_LEN);
	else
		memset(a + 18, 0, NETDEV_MAC_LEN);
	put32(a + 24, to_ip);
	netdev_transmit(nic, f, sizeof(f));
}

static void handle_arp(const uint8_t *f, size_t len)
{
	const uint8_t *a = f + ETH_HDR;

	(void)len;
	if (get16(a) != ARP_HTYPE_ETHER || get16(a + 2) != ETH_TYPE_IPV4 ||
	    a[4] != NETDEV_MAC_LEN || a[5] != 4)
		return;
	uint32_t sender = get32(a + 14);
	if (sender == my_ip)
		return; /* another machine claims our address: not believed */
	/* RFC 826: the sender's mapping is learned (or refreshed) when we
	 * are the target; a request is answered. */
	if (sender)
		arp_learn(sender, a + 8);
	if (get16(a + 6) == ARP_REQUEST)
		send_arp(ARP_REPLY, a + 8, sender);
}

/* RFC 1071: the ones' complement sum of 16-bit words. */
static uint16_t checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void handle_ipv4(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH_HDR;
	size_t ip_len = len - ETH_HDR;

	if (ip[0] != IPV4_VERSION_IHL || checksum(ip, IPV4_HDR) != 0)
		return;
	size_t total = get16(ip + 2);
	if (total < IPV4_HDR + UDP_HDR || total > ip_len || get16(ip + 6) & IPV4_FRAG_MASK ||
	    ip[9] != IPV4_PROTO_UDP)
		return;
	const uint8_t *udp = ip + IPV4_HDR;
	size_t udp_len = get16(udp + 4);
	if (udp_len < UDP_HDR || udp_len > total - IPV4_HDR || get16(udp + 2) != my_port ||
	    !listener.receive)
		return;
	/* The UDP checksum is not checked: the payload carries its own MAC. */
	listener.receive(listener.ctx, get32(ip + 12), udp + UDP_HDR, udp_len - UDP_HDR, now);
}

static void handle(const uint8_t *f, size_t len)
{
	if (!ours(f, len))
		return;
	if (get16(f + 12) == ETH_TYPE_ARP)
		handle_arp(f, len);
	else
		handle_ipv4(f, len);
}

int host_ip_send(uint32_t to, const void *payload, size_t len)
{
	struct arp_entry *e = arp_find(to);

	if (len > HOST_IP_UDP_MAX)
		return -1;
	if (!e || !e->known) {
		if (!e) {
			e = &arp[arp_next++ % ARP_CACHE];
			*e = (struct arp_entry){ .ip = to, .asked_ns = now - ARP_RETRY_NS };
		}
		if (now - e->asked_ns >= ARP_RETRY_NS) {
			e->asked_ns = now;
			send_arp(ARP_REQUEST, NULL, to);
		}
		return -1;
	}
	uint8_t *ip = out + ETH_HDR, *udp = ip + IPV4_HDR;
	memcpy(out, e->mac, NETDEV_MAC_LEN);
	memcpy(out + 6, nic->mac, NETDEV_MAC_LEN);
	put16(out + 12, ETH_TYPE_IPV4);
	memset(ip, 0, IPV4_HDR);
	ip[0] = IPV4_VERSION_IHL;
	put16(ip + 2, (uint16_t)(IPV4_HDR + UDP_HDR + len));
	put16(ip + 6, IPV4_FLAG_DF);
	ip[8] = IPV4_TTL;
	ip[9] = IPV4_PROTO_UDP;
	put32(ip + 12, my_ip);
	put32(ip + 16, to);
	put16(ip + 10, checksum(ip, IPV4_HDR));
	put16(udp, my_port);
	put16(udp + 2, my_port);
	put16(udp + 4, (uint16_t)(UDP_HDR + len));
	put16(udp + 6, 0); /* no checksum (RFC 768) */
	memcpy(udp + UDP_HDR, payload, len);
	return netdev_transmit(nic, out, ETH_HDR + IPV4_HDR + UDP_HDR + len);
}

void host_ip_poll(uint64_t now_ns, bool uplinked)
{
	if (!my_ip || !spin_trylock(&poll_lock))
		return;
	now = now_ns;
	if (announced < ANNOUNCE_NUM &&
	    (!announced || now - announced_ns >= ANNOUNCE_INTERVAL_NS)) {
		/* RFC 5227 2.3: an ARP request for our own address. */
		send_arp(ARP_REQUEST, NULL, my_ip);
		announced++;
		announced_ns = now;
	}
	if (!uplinked) {
		size_t len;
		for (unsigned i = 0;
		     i < RX_BUDGET && (len = netdev_receive(nic, frame_buf, sizeof(frame_buf)));
		     i++)
			handle(frame_buf, len);
	}
	for (;;) {
		spin_lock(&queue_lock);
		bool empty = q_head == q_tail;
		if (!empty) {
			struct queued *q = &queue[q_head % QUEUE_SLOTS];
			memcpy(frame_buf, q->data, q->len);
		}
		size_t len = empty ? 0 : queue[q_head++ % QUEUE_SLOTS].len;
		spin_unlock(&queue_lock);
		if (empty)
			break;
		handle(frame_buf, len);
	}
	if (listener.tick)
		listener.tick(listener.ctx, now_ns);
	spin_unlock(&poll_lock);
}
