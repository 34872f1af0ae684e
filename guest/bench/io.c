/* Streaming I/O under pgvisor, measured by the guest (make bench's "disk"
 * and "net" machines), with polled drivers on guest/lib/virtio.
 *
 * disk: reads the whole virtio disk (read-only, the pattern disk_word()
 * describes; scripts/bench makes it) in requests of request=N bytes
 * (default 64 KiB: header, data and status descriptors), inflight=N of
 * them (default 8) posted before each notification, which
 * VIRTIO_F_RING_EVENT_IDX lets the device suppress; the used ring is
 * polled. A warm-up pass, then a measured one between RDTSCs and
 * HC_PROFILE_READs; the data is checked after each pass, outside the
 * timing. With write=1 (a writable disk: a partition of the machine's
 * disk, say) it then writes the same bytes back in one more timed pass,
 * and times flush=N rounds (default 16) of one 4 KiB write followed by a
 * FLUSH: an fsync's cost, since the device completes a FLUSH only once
 * the data is on the medium.
 *
 * net-send / net-recv: two VMs on one bridge. The sender broadcasts a
 * probe until the receiver answers it (the switch has then learnt both
 * MACs), then sends warmup=N + frames=N frames of 1514 bytes (1500 of
 * payload) to the receiver's MAC, at most window=N ahead of the receiver's
 * last acknowledgement. The default window, 64, is what a switch port's
 * ring holds (NET_PORT_RING_SLOTS): with one host CPU the receiver only
 * takes frames when the sender has stopped, so a larger window would lose
 * frames. The receiver checks every frame's sequence numbers and payload
 * and acknowledges each batch it took. Both sleep in HLT for their receive
 * queue's MSI-X interrupt when there is nothing to do. A 100 ms periodic
 * LAPIC timer paces the probes and keeps each VM alive while it sleeps:
 * pgvisor stops a VM whose vCPUs all halted with no timer armed, as it
 * does not count a NIC as something that can wake it. Each side measures
 * from the acknowledgement that ends the warm-up to the one that ends the
 * run; then the sender says it is done, and the receiver waits for that
 * before it prints and stops (which would hold the one CPU).
 *
 * disk and net-send also time the guest's own `rep movsb` (the
 * hypervisor's memcpy, arch/x86/lib/string.c) over 4096 and 1514 bytes:
 * the yardstick of make bench's I/O targets. */
#include "guest/bench/io.h"

#include <stdbool.h>
#include <stdint.h>

#include "guest/bench/bench.h"
#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/lapic.h"
#include "guest/lib/string.h"
#include "guest/lib/virtio.h"

#define KIB 1024u
#define GOLDEN 0x9e3779b1u
/* A device or peer that has not answered in this long (2 s at 50 MHz)
 * never will; the receiver gives the sender's VM longer to start. */
#define STALL_TICKS 100000000ull
#define START_TICKS (10 * STALL_TICKS)
#define COPY_ITERS 100
#define COPY_PAGE 4096u

/* virtio-blk (virtio 1.2, 5.2). */
#define SECTOR 512u
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define DEFAULT_FLUSH_ROUNDS 16
#define BLK_S_OK 0
#define BLK_NO_STATUS 0xff
#define BLK_CFG_CAPACITY 0
#define DISK_QSIZE 64
#define DISK_DESC_PER_REQ 3
#define DISK_MAX_INFLIGHT (DISK_QSIZE / DISK_DESC_PER_REQ)
#define DISK_BUF_BYTES (4u << 20)
#define DISK_MAX_REQUEST (1u << 20) /* the device's size_max */
#define DISK_SEED 0x5a17c0deu
#define DEFAULT_REQUEST (64u * KIB)
#define DEFAULT_INFLIGHT 8

/* virtio-net (5.1) and the frames. */
#define NET_HDR 12 /* struct virtio_net_hdr with VERSION_1 */
#define ETH_ALEN 6
#define ETH_HDR 14
#define ETH_TYPE 12
#define ETH_PAYLOAD 1500
#define FRAME_BYTES (ETH_HDR + ETH_PAYLOAD)
#define ETH_MIN 60
#define ETHERTYPE_BENCH 0x88b5 /* IEEE local experimental */
#define NET_RX 0
#define NET_TX 1
#define RX_SLOTS 128
#define TX_SLOTS 64
#define NET_BUF 2048
#define DEFAULT_WINDOW 64
#define DEFAULT_FRAMES 4096
#define DEFAULT_NET_WARMUP 256
#define NIC_MSIX_ENTRY 0
#define PROBE_TRIES 100
/* 100 ms of the LAPIC timer's 100 MHz under pgvisor (vmm/dev/vlapic.h). */
#define TIMER_PERIOD 10000000
#define LVT_PERIODIC (1u << 17)

/* The payload, in 32-bit words: kind | slot << 16, the sequence number
 * (an acknowledgement: the next one the receiver expects), then data
 * frames carry the pattern of their transmit slot and the sequence number
 * again in the last word. */
#define W_KIND 0
#define W_SEQ 1
#define W_PATTERN 2
#define W_LAST (ETH_PAYLOAD / 4 - 1)
#define KIND_MASK 0xffffu
#define SLOT_SHIFT 16
enum { KIND_DATA = 1, KIND_ACK, KIND_PROBE, KIND_HELLO, KIND_DONE };

typedef uint32_t u32_unaligned __attribute__((aligned(1), may_alias));

static struct hc_exit_profile before, after;
static volatile uint32_t nic_interrupts;

static uint32_t cmdline_uint(const char *cmdline, const char *key, uint32_t fallback)
{
	const char *value = cmdline_option(cmdline, key);
	return value ? parse_uint(value) : fallback;
}

static inline void copy_bytes(void *dst, const void *src, uint32_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static inline void zero_bytes(void *dst, uint32_t n)
{
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

/* COPY_ITERS copies of bytes with rep movsb between two RDTSCs and two
 * profile reads: the profile's guest ticks are the copies without any
 * exit that came meanwhile. */
static void time_copy(uint32_t bytes)
{
	static uint8_t src[2 * COPY_PAGE] __attribute__((aligned(4096)));
	static uint8_t dst[2 * COPY_PAGE] __attribute__((aligned(4096)));

	copy_bytes(dst, src, bytes);
	profile_read(&before);
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < COPY_ITERS; i++)
		copy_bytes(dst, src, bytes);
	uint64_t t1 = rdtsc();
	profile_read(&after);
	printf("{\"copy\":%u,\"iters\":%u,\"ticks\":%llu", bytes, COPY_ITERS, t1 - t0);
	print_profile_delta(&before, &after);
	printf("}\n");
}

/* ---- disk ---- */

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct disk {
	struct virtio_pci dev;
	struct virtq q;
	uint32_t request, inflight, bytes;
	uint32_t notifies;
};

static struct blk_req_hdr blk_hdr[DISK_MAX_INFLIGHT] __attribute__((aligned(16)));
static volatile uint8_t blk_status[DISK_MAX_INFLIGHT];
static uint8_t disk_ring[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t disk_buf[DISK_BUF_BYTES] __attribute__((aligned(4096)));

/* Waits for the next used element; false after STALL_TICKS. */
static bool wait_used(struct virtq *q, struct virtq_used_elem *e)
{
	uint64_t end = rdtsc() + STALL_TICKS;

	while (!virtq_take_used(q, e))
		if (rdtsc() > end)
			return false;
	return true;
}

/* Reads k->bytes from sector 0 into disk_buf (type BLK_T_IN), or writes
 * them from it (BLK_T_OUT): each round posts a request into every free
 * slot, notifies once if the device asks for it, and takes back what
 * completed. */
static int disk_pass(struct disk *k, uint32_t type)
{
	/* The device writes the data and the status of a read, only the
	 * status of a write. */
	uint32_t written = type == BLK_T_IN ? k->request + 1 : 1;

	uint32_t nreq = k->bytes / k->request, next = 0, done = 0, nfree = 0;
	uint8_t free_slot[DISK_MAX_INFLIGHT];
	struct virtq_used_elem e;

	for (unsigned s = 0; s < k->inflight; s++)
		free_slot[nfree++] = (uint8_t)s;
	while (done < nreq) {
		uint16_t old = k->q.next_avail;
		while (nfree && next < nreq) {
			unsigned s = free_slot[--nfree];
			volatile struct virtq_desc *data = &k->q.desc[s * DISK_DESC_PER_REQ + 1];
			blk_hdr[s] = (struct blk_req_hdr){ type, 0,
							   (uint64_t)next * (k->request / SECTOR) };
			blk_status[s] = BLK_NO_STATUS;
			data->addr = (uint32_t)(disk_buf + next * k->request);
			data->flags =
				VIRTQ_DESC_F_NEXT | (type == BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0);
			virtq_post(&k->q, (uint16_t)(s * DISK_DESC_PER_REQ));
			next++;
		}
		if (k->q.next_avail != old && virtq_need_notify(&k->q, old, true)) {
			virtq_notify(&k->q);
			k->notifies++;
		}
		if (!wait_used(&k->q, &e)) {
			printf("bench: disk: the device stopped answering\n");
			return -1;
		}
		do {
			unsigned s = e.id / DISK_DESC_PER_REQ;
			if (e.id % DISK_DESC_PER_REQ || s >= k->inflight || e.len != written ||
			    blk_status[s] != BLK_S_OK) {
				printf("bench: disk: bad completion id %u len %u status %u\n", e.id,
				       e.len, s < k->inflight ? blk_status[s] : BLK_NO_STATUS);
				return -1;
			}
			free_slot[nfree++] = (uint8_t)s;
			done++;
		} while (virtq_take_used(&k->q, &e));
	}
	return 0;
}

/* scripts/bench's disk image: 32-bit word i is i * GOLDEN + DISK_SEED. */
static bool disk_verify(uint32_t bytes)
{
	const uint32_t *w = (const uint32_t *)disk_buf;
	uint32_t x = DISK_SEED;

	for (uint32_t i = 0; i < bytes / 4; i++, x += GOLDEN)
		if (w[i] != x)
			return false;
	return true;
}

/* One request in slot 0, waited for: a 4 KiB write of disk_buf to sector 0
 * (BLK_T_OUT) or a FLUSH (header and status only). 0 or -1. */
static int disk_one(struct disk *k, uint32_t type)
{
	volatile struct virtq_desc *d = &k->q.desc[0];
	struct virtq_used_elem e;
	uint16_t old = k->q.next_avail;

	blk_hdr[0] = (struct blk_req_hdr){ type, 0, 0 };
	blk_status[0] = BLK_NO_STATUS;
	d[0].next = type == BLK_T_FLUSH ? 2 : 1;
	d[1].addr = (uint32_t)disk_buf;
	d[1].len = COPY_PAGE;
	d[1].flags = VIRTQ_DESC_F_NEXT;
	virtq_post(&k->q, 0);
	if (virtq_need_notify(&k->q, old, true))
		virtq_notify(&k->q);
	bool ok = wait_used(&k->q, &e) && e.id == 0 && blk_status[0] == BLK_S_OK;
	d[0].next = 1;
	d[1].len = k->request;
	if (!ok)
		printf("bench: disk: %s request failed (status %u)\n",
		       type == BLK_T_FLUSH ? "flush" : "write", blk_status[0]);
	return ok ? 0 : -1;
}

/* rounds of write-then-FLUSH; their ticks, or 0 when one failed. */
static uint64_t disk_flush_rounds(struct disk *k, uint32_t rounds)
{
	uint64_t t0 = rdtsc();

	for (uint32_t i = 0; i < rounds; i++)
		if (disk_one(k, BLK_T_OUT) || disk_one(k, BLK_T_FLUSH))
			return 0;
	return rdtsc() - t0;
}

static int disk_setup(struct disk *k)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);

	if (virtio_pci_find(VIRTIO_PCI_DEVICE_BLK, 0, &k->dev)) {
		printf("bench: disk: no virtio-blk device\n");
		return -1;
	}
	if ((virtio_device_features(&k->dev) & want) != want || virtio_negotiate(&k->dev, want) ||
	    !virtq_setup_at(&k->dev, &k->q, 0, DISK_QSIZE, disk_ring)) {
		printf("bench: disk: the device refused VERSION_1, EVENT_IDX or its queue\n");
		return -1;
	}
	for (unsigned s = 0; s < k->inflight; s++) {
		volatile struct virtq_desc *d = &k->q.desc[s * DISK_DESC_PER_REQ];
		d[0] = (struct virtq_desc){ (uint32_t)&blk_hdr[s], sizeof(blk_hdr[s]),
					    VIRTQ_DESC_F_NEXT,
					    (uint16_t)(s * DISK_DESC_PER_REQ + 1) };
		d[1] = (struct virtq_desc){ 0, k->request, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
					    (uint16_t)(s * DISK_DESC_PER_REQ + 2) };
		d[2] = (struct virtq_desc){ (uint32_t)&blk_status[s], 1, VIRTQ_DESC_F_WRITE, 0 };
	}
	virtio_driver_ok(&k->dev);
	uint64_t sectors = (uint64_t)mmio_read(k->dev.device + BLK_CFG_CAPACITY + 4, 4) << 32 |
			   mmio_read(k->dev.device + BLK_CFG_CAPACITY, 4);
	uint32_t bytes =
		sectors > DISK_BUF_BYTES / SECTOR ? DISK_BUF_BYTES : (uint32_t)sectors * SECTOR;
	k->bytes = bytes - bytes % k->request;
	if (!k->bytes) {
		printf("bench: disk: the disk is smaller than one request\n");
		return -1;
	}
	return 0;
}

int run_disk(const char *cmdline)
{
	static struct disk k;

	k.request = cmdline_uint(cmdline, "request", DEFAULT_REQUEST);
	k.inflight = cmdline_uint(cmdline, "inflight", DEFAULT_INFLIGHT);
	if (!k.request || k.request % SECTOR || k.request > DISK_MAX_REQUEST || !k.inflight ||
	    k.inflight > DISK_MAX_INFLIGHT) {
		printf("bench: disk: request must be a multiple of %u up to %u, inflight 1 to %u\n",
		       SECTOR, DISK_MAX_REQUEST, DISK_MAX_INFLIGHT);
		return 1;
	}
	if (disk_setup(&k))
		return 1;
	time_copy(COPY_PAGE);
	time_copy(FRAME_BYTES);
	print_profile_read_cost();

	zero_bytes(disk_buf, k.bytes);
	if (disk_pass(&k, BLK_T_IN))
		return 1;
	bool warm_ok = disk_verify(k.bytes);
	zero_bytes(disk_buf, k.bytes);
	k.notifies = 0;
	profile_read(&before);
	uint64_t t0 = rdtsc();
	int failed = disk_pass(&k, BLK_T_IN);
	uint64_t t1 = rdtsc();
	profile_read(&after);
	if (failed)
		return 1;
	bool ok = warm_ok && disk_verify(k.bytes);
	printf("{\"io\":\"disk\",\"bytes\":%u,\"request\":%u,\"in_flight\":%u,\"notifies\":%u,"
	       "\"verified\":%s,\"ticks\":%llu",
	       k.bytes, k.request, k.inflight, k.notifies, ok ? "true" : "false", t1 - t0);
	print_profile_delta(&before, &after);
	if (ok && cmdline_uint(cmdline, "write", 0)) {
		/* The pattern just read and checked goes back where it was. */
		uint32_t rounds = cmdline_uint(cmdline, "flush", DEFAULT_FLUSH_ROUNDS);
		t0 = rdtsc();
		failed = disk_pass(&k, BLK_T_OUT);
		t1 = rdtsc();
		uint64_t flush_ticks = failed ? 0 : disk_flush_rounds(&k, rounds);
		if (failed || !flush_ticks)
			ok = false;
		printf(",\"write_ticks\":%llu,\"flush_rounds\":%u,\"flush_ticks\":%llu",
		       failed ? 0 : t1 - t0, rounds, flush_ticks);
	}
	printf("}\n");
	return ok ? 0 : 1;
}

/* ---- net ---- */

struct nic {
	struct virtio_pci dev;
	struct virtq rx, tx;
	uint8_t mac[ETH_ALEN], peer[ETH_ALEN];
	bool peer_known;
	uint8_t tx_free[TX_SLOTS];
	unsigned ntx_free;
	uint16_t tx_old; /* the avail idx when the device last heard of it */
	uint32_t tx_kicks, rx_kicks, waits, controls;
};

static uint8_t net_ring[2][VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t rx_bufs[RX_SLOTS][NET_BUF] __attribute__((aligned(4096)));
static uint8_t tx_bufs[TX_SLOTS][NET_BUF] __attribute__((aligned(4096)));
static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void on_nic(void)
{
	nic_interrupts++;
	lapic_eoi();
}

static u32_unaligned *payload(uint8_t *buf)
{
	return (u32_unaligned *)(buf + NET_HDR + ETH_HDR);
}

static uint32_t pattern_word(uint32_t slot, uint32_t k)
{
	return (slot << SLOT_SHIFT | k) * GOLDEN;
}

static void timer_start(void)
{
	*lapic_reg(LAPIC_TIMER_DIVIDE) = LAPIC_DIVIDE_BY_1;
	*lapic_reg(LAPIC_LVT_TIMER) = LVT_PERIODIC | BENCH_TIMER_VECTOR;
	*lapic_reg(LAPIC_TIMER_INITIAL) = TIMER_PERIOD;
}

static void timer_stop(void)
{
	*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
}

/* The NIC with VERSION_1 and EVENT_IDX (no merged receive buffers: one
 * 2 KiB buffer holds a frame), its receive queue's interrupt routed to
 * this CPU, every receive buffer posted. */
static int nic_setup(struct nic *n)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	struct virtio_pci *d = &n->dev;

	if (virtio_pci_find(VIRTIO_PCI_DEVICE_NET, 0, d)) {
		printf("bench: net: no virtio-net device\n");
		return -1;
	}
	if ((virtio_device_features(d) & want) != want || virtio_negotiate(d, want) ||
	    !d->msix_cap) {
		printf("bench: net: the device refused VERSION_1 or EVENT_IDX, or has no MSI-X\n");
		return -1;
	}
	virtio_msix_route(d, NIC_MSIX_ENTRY, BENCH_NIC_VECTOR, (uint8_t)lapic_id());
	if (virtio_queue_vector(d, NET_RX, NIC_MSIX_ENTRY) != NIC_MSIX_ENTRY ||
	    !virtq_setup_at(d, &n->rx, NET_RX, RX_SLOTS, net_ring[NET_RX]) ||
	    !virtq_setup_at(d, &n->tx, NET_TX, TX_SLOTS, net_ring[NET_TX])) {
		printf("bench: net: the device refused a queue or its vector\n");
		return -1;
	}
	for (unsigned i = 0; i < RX_SLOTS; i++) {
		n->rx.desc[i] =
			(struct virtq_desc){ (uint32_t)rx_bufs[i], NET_BUF, VIRTQ_DESC_F_WRITE, 0 };
		virtq_post(&n->rx, (uint16_t)i);
	}
	for (unsigned i = 0; i < TX_SLOTS; i++) {
		n->tx.desc[i] = (struct virtq_desc){ (uint32_t)tx_bufs[i], 0, 0, 0 };
		n->tx_free[n->ntx_free++] = (uint8_t)i;
	}
	virtio_driver_ok(d);
	virtq_notify(&n->rx);
	for (unsigned i = 0; i < ETH_ALEN; i++)
		n->mac[i] = (uint8_t)mmio_read(d->device + i, 1);
	return 0;
}

static void tx_reclaim(struct nic *n)
{
	struct virtq_used_elem e;

	while (virtq_take_used(&n->tx, &e))
		if (e.id < TX_SLOTS)
			n->tx_free[n->ntx_free++] = (uint8_t)e.id;
}

/* Notifies for the frames posted since the last time, if the device's
 * avail_event asks for it, and takes back the buffers it sent. */
static void tx_kick(struct nic *n)
{
	if (n->tx.next_avail == n->tx_old)
		return;
	if (virtq_need_notify(&n->tx, n->tx_old, true)) {
		virtq_notify(&n->tx);
		n->tx_kicks++;
	}
	n->tx_old = n->tx.next_avail;
	tx_reclaim(n);
}

/* A free transmit buffer and its slot; NULL when none came back. */
static uint8_t *tx_buffer(struct nic *n, unsigned *slot)
{
	uint64_t end = rdtsc() + STALL_TICKS;

	if (!n->ntx_free)
		tx_kick(n);
	while (!n->ntx_free) {
		if (rdtsc() > end) {
			printf("bench: net: no transmit buffer came back\n");
			return NULL;
		}
		tx_reclaim(n);
	}
	*slot = n->tx_free[--n->ntx_free];
	return tx_bufs[*slot];
}

static void tx_post(struct nic *n, unsigned slot, uint32_t frame_len)
{
	n->tx.desc[slot].len = NET_HDR + frame_len;
	virtq_post(&n->tx, (uint16_t)slot);
}

static void eth_header(uint8_t *buf, const uint8_t *dst, const uint8_t *src)
{
	uint8_t *eth = buf + NET_HDR;

	memset(buf, 0, NET_HDR);
	memcpy(eth, dst, ETH_ALEN);
	memcpy(eth + ETH_ALEN, src, ETH_ALEN);
	eth[ETH_TYPE] = ETHERTYPE_BENCH >> 8;
	eth[ETH_TYPE + 1] = ETHERTYPE_BENCH & 0xff;
}

/* A minimum-size frame of kind with value, sent at once. */
static int send_control(struct nic *n, const uint8_t *dst, uint32_t kind, uint32_t value)
{
	unsigned slot;
	uint8_t *b = tx_buffer(n, &slot);

	if (!b)
		return -1;
	eth_header(b, dst, n->mac);
	payload(b)[W_KIND] = kind;
	payload(b)[W_SEQ] = value;
	tx_post(n, slot, ETH_MIN);
	tx_kick(n);
	n->controls++;
	return 0;
}

/* The sender's buffers, once the peer is known: header and pattern; a
 * data frame then only stamps its kind and sequence number. */
static void tx_prefill(struct nic *n)
{
	for (uint32_t slot = 0; slot < TX_SLOTS; slot++) {
		eth_header(tx_bufs[slot], n->peer, n->mac);
		u32_unaligned *p = payload(tx_bufs[slot]);
		for (uint32_t k = W_PATTERN; k < W_LAST; k++)
			p[k] = pattern_word(slot, k);
	}
}

static int send_data(struct nic *n, uint32_t seq)
{
	unsigned slot;
	uint8_t *b = tx_buffer(n, &slot);

	if (!b)
		return -1;
	u32_unaligned *p = payload(b);
	p[W_KIND] = KIND_DATA | slot << SLOT_SHIFT;
	p[W_SEQ] = seq;
	p[W_LAST] = seq;
	tx_post(n, slot, FRAME_BYTES);
	return 0;
}

/* The bench's kind of a received frame, 0 for anything else. */
static uint32_t frame_kind(uint8_t *b, uint32_t len)
{
	const uint8_t *eth = b + NET_HDR;

	if (len < NET_HDR + ETH_MIN || eth[ETH_TYPE] != ETHERTYPE_BENCH >> 8 ||
	    eth[ETH_TYPE + 1] != (ETHERTYPE_BENCH & 0xff))
		return 0;
	return payload(b)[W_KIND] & KIND_MASK;
}

/* A data frame whole: its length, both sequence numbers, its slot's
 * pattern. */
static bool data_ok(uint8_t *b, uint32_t len, uint32_t *seq)
{
	const u32_unaligned *p = payload(b);
	uint32_t slot = p[W_KIND] >> SLOT_SHIFT;

	if (len != NET_HDR + FRAME_BYTES || slot >= TX_SLOTS || p[W_LAST] != p[W_SEQ])
		return false;
	uint32_t x = pattern_word(slot, W_PATTERN);
	for (uint32_t k = W_PATTERN; k < W_LAST; k++, x += GOLDEN)
		if (p[k] != x)
			return false;
	*seq = p[W_SEQ];
	return true;
}

static void rx_kick(struct nic *n, uint16_t old)
{
	if (n->rx.next_avail != old && virtq_need_notify(&n->rx, old, true)) {
		virtq_notify(&n->rx);
		n->rx_kicks++;
	}
}

/* Sleeps in HLT until an interrupt (the receive queue's, or the timer's)
 * unless a frame came since the last look. Interrupts are off otherwise:
 * STI's shadow keeps one from slipping in before the HLT. */
static void nic_wait(struct nic *n)
{
	if (virtq_arm_interrupt(&n->rx)) {
		n->waits++;
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	}
}

/* The sender's receive queue: acknowledgements (the highest next-expected
 * count goes to *acked) and the receiver's hello (its MAC). Returns
 * whether anything came. */
static bool sender_drain(struct nic *n, uint32_t *acked)
{
	struct virtq_used_elem e;
	uint16_t old = n->rx.next_avail;
	bool any = false;

	while (virtq_take_used(&n->rx, &e)) {
		any = true;
		if (e.id >= RX_SLOTS)
			continue;
		uint8_t *b = rx_bufs[e.id];
		uint32_t kind = frame_kind(b, e.len);
		if (kind == KIND_ACK && payload(b)[W_SEQ] > *acked)
			*acked = payload(b)[W_SEQ];
		if (kind == KIND_HELLO && !n->peer_known) {
			memcpy(n->peer, b + NET_HDR + ETH_ALEN, ETH_ALEN);
			n->peer_known = true;
		}
		virtq_post(&n->rx, (uint16_t)e.id);
	}
	rx_kick(n, old);
	return any;
}

/* Sends up to target, never more than window past *acked, until the
 * receiver has acknowledged target. */
static int send_frames(struct nic *n, uint32_t *sent, uint32_t target, uint32_t *acked,
		       uint32_t window)
{
	uint64_t stall_end = rdtsc() + STALL_TICKS;
	uint32_t last_acked = *acked;

	while (*acked < target) {
		while (*sent < target && *sent - *acked < window)
			if (send_data(n, (*sent)++))
				return -1;
		tx_kick(n);
		if (!sender_drain(n, acked))
			nic_wait(n);
		if (*acked != last_acked) {
			last_acked = *acked;
			stall_end = rdtsc() + STALL_TICKS;
		} else if (rdtsc() > stall_end) {
			printf("bench: net-send: no acknowledgement past %u of %u\n", *acked,
			       target);
			return -1;
		}
	}
	return 0;
}

int run_net_send(const char *cmdline)
{
	static struct nic n;
	uint32_t frames = cmdline_uint(cmdline, "frames", DEFAULT_FRAMES);
	uint32_t warmup = cmdline_uint(cmdline, "warmup", DEFAULT_NET_WARMUP);
	uint32_t window = cmdline_uint(cmdline, "window", DEFAULT_WINDOW);
	uint32_t sent = 0, acked = 0;

	if (!window) {
		printf("bench: net-send: window must be at least 1\n");
		return 1;
	}
	if (nic_setup(&n))
		return 1;
	timer_start();
	time_copy(COPY_PAGE);
	time_copy(FRAME_BYTES);
	print_profile_read_cost();

	/* A broadcast (the switch learns our MAC) until the receiver's hello
	 * (it learns the receiver's). */
	for (unsigned t = 0; !n.peer_known; t++) {
		if (t == PROBE_TRIES) {
			printf("bench: net-send: no receiver answered\n");
			return 1;
		}
		if (send_control(&n, broadcast, KIND_PROBE, t))
			return 1;
		nic_wait(&n);
		sender_drain(&n, &acked);
	}
	tx_prefill(&n);
	if (send_frames(&n, &sent, warmup, &acked, window))
		return 1;

	n.tx_kicks = n.rx_kicks = n.waits = 0;
	uint32_t interrupts = nic_interrupts;
	profile_read(&before);
	uint64_t t0 = rdtsc();
	int failed = send_frames(&n, &sent, warmup + frames, &acked, window);
	uint64_t t1 = rdtsc();
	profile_read(&after);
	struct nic counts = n;
	interrupts = nic_interrupts - interrupts;
	/* The receiver waits for this before it prints and stops. */
	if (failed || send_control(&n, n.peer, KIND_DONE, sent))
		return 1;
	timer_stop();
	printf("{\"io\":\"net-send\",\"frames\":%u,\"bytes\":%u,\"frame_bytes\":%u,\"window\":%u,"
	       "\"tx_kicks\":%u,\"rx_kicks\":%u,\"waits\":%u,\"interrupts\":%u,\"t0\":%llu,"
	       "\"ticks\":%llu",
	       frames, frames * FRAME_BYTES, FRAME_BYTES, window, counts.tx_kicks, counts.rx_kicks,
	       counts.waits, interrupts, t0, t1 - t0);
	print_profile_delta(&before, &after);
	printf("}\n");
	return 0;
}

/* The receiver, once it has acknowledged everything: until the sender's
 * KIND_DONE. */
static int wait_done(struct nic *n)
{
	uint64_t end = rdtsc() + STALL_TICKS;
	struct virtq_used_elem e;

	for (;;) {
		uint16_t old = n->rx.next_avail;
		bool done = false;
		while (virtq_take_used(&n->rx, &e)) {
			if (e.id >= RX_SLOTS)
				continue;
			done |= frame_kind(rx_bufs[e.id], e.len) == KIND_DONE;
			virtq_post(&n->rx, (uint16_t)e.id);
		}
		rx_kick(n, old);
		if (done)
			return 0;
		if (rdtsc() > end) {
			printf("bench: net-recv: the sender never said it was done\n");
			return -1;
		}
		nic_wait(n);
	}
}

int run_net_recv(const char *cmdline)
{
	static struct nic n;
	uint32_t frames = cmdline_uint(cmdline, "frames", DEFAULT_FRAMES);
	uint32_t warmup = cmdline_uint(cmdline, "warmup", DEFAULT_NET_WARMUP);
	uint32_t total = warmup + frames, next = 0, lost = 0, bad = 0, got = 0, interrupts = 0;
	uint32_t acks = 0;
	bool measuring = false;
	uint64_t t0 = 0, stall_end = rdtsc() + START_TICKS;

	if (nic_setup(&n))
		return 1;
	timer_start();
	print_profile_read_cost();
	while (next < total) {
		struct virtq_used_elem e;
		uint16_t old = n.rx.next_avail;
		uint32_t data = 0;

		while (virtq_take_used(&n.rx, &e)) {
			if (e.id >= RX_SLOTS) {
				bad++;
				continue;
			}
			uint8_t *b = rx_bufs[e.id];
			uint32_t kind = frame_kind(b, e.len), seq;
			if (kind == KIND_DATA) {
				if (!data_ok(b, e.len, &seq) || seq < next) {
					bad++;
				} else {
					lost += seq - next;
					next = seq + 1;
					data++;
					got += measuring;
				}
			} else if (kind == KIND_PROBE) {
				memcpy(n.peer, b + NET_HDR + ETH_ALEN, ETH_ALEN);
				n.peer_known = true;
				if (send_control(&n, n.peer, KIND_HELLO, 0))
					return 1;
			}
			virtq_post(&n.rx, (uint16_t)e.id);
		}
		rx_kick(&n, old);
		if (!data) {
			if (rdtsc() > stall_end) {
				printf("bench: net-recv: no frame past %u of %u\n", next, total);
				return 1;
			}
			nic_wait(&n);
			continue;
		}
		stall_end = rdtsc() + STALL_TICKS;
		if (!n.peer_known || send_control(&n, n.peer, KIND_ACK, next))
			return 1;
		acks++;
		if (!measuring && next >= warmup) {
			measuring = true;
			n.tx_kicks = n.rx_kicks = n.waits = acks = 0;
			interrupts = nic_interrupts;
			profile_read(&before);
			t0 = rdtsc();
		}
	}
	uint64_t t1 = rdtsc();
	profile_read(&after);
	struct nic counts = n;
	interrupts = nic_interrupts - interrupts;
	/* Printing and stopping would keep the one CPU from the sender until
	 * it has taken the last acknowledgement and read its profile. */
	if (wait_done(&n))
		return 1;
	timer_stop();
	printf("{\"io\":\"net-recv\",\"frames\":%u,\"bytes\":%u,\"frame_bytes\":%u,\"lost\":%u,"
	       "\"bad\":%u,\"acks\":%u,\"tx_kicks\":%u,\"rx_kicks\":%u,\"waits\":%u,"
	       "\"interrupts\":%u,\"t0\":%llu,\"ticks\":%llu",
	       got, got * FRAME_BYTES, FRAME_BYTES, lost, bad, acks, counts.tx_kicks,
	       counts.rx_kicks, counts.waits, interrupts, t0, t1 - t0);
	print_profile_delta(&before, &after);
	printf("}\n");
	return lost || bad ? 1 : 0;
}
