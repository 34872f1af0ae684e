/* dirtytest: the save/restore and migration test guest (issue 19), after
 * QEMU's migration test guest. It increments the first byte of every 4 KiB
 * page of a region of RAM, pass after pass, and prints a mark after each:
 *
 *   dirtytest: pass P sum 0xXXXXXXXX
 *
 * where sum is an FNV-1a hash of the region's first bytes. Before every
 * pass it checks that all of them hold the last pass's count (mod 256):
 * a page a restore lost or mixed up prints one FAIL line and the guest
 * stops with status 1. A VM restored from an image saved mid-run goes on
 * from the pass it was in, so its marks continue the source's sequence.
 * The TSC is read after every pass: one that went back is a FAIL, and the
 * longest time between two marks is printed at the end (a restored VM's
 * TSC must not jump over the time it spent as an image).
 *
 * Options: mib=N (the region, default 4, from 4 MiB up), spin=S (a busy
 * loop of S iterations after each pass, default 0, to pace the marks),
 * passes=N (power off with status 0 after pass N; default: run forever).
 *
 * With blk=1 each pass also goes through the first virtio-blk disk (polled,
 * guest/lib/virtio): it writes sector P % DISK_SECTORS with a pattern of the
 * pass, reads all DISK_SECTORS back in one request, checks that each holds
 * the last pass that wrote it (zeros if none did yet: the disk starts
 * zeroed) and prints
 *
 *   dirtytest: disk pass P sum 0xXXXXXXXX
 *
 * (an FNV-1a hash of what it read). A restored VM's disk must hold what the
 * source had written up to the save, and its queue must go on from the
 * source's positions. With hvc=1 each pass also prints
 *
 *   dirtytest: hvc pass P
 *
 * through the virtio console (its transmit queue, polled). With net=1 each
 * pass also sends one broadcast frame through the first virtio-net
 * interface (EtherType 0x88b5: the pass, then a pattern of it), takes the
 * frames its receive queue got since the last pass (each checked: a FAIL
 * line for a frame whose payload does not match its pass), gives their
 * buffers back, and prints
 *
 *   dirtytest: net pass P rx R
 *
 * with R the frames received so far. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/freemem.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"
#include "guest/lib/virtio.h"

#define REGION_START (4u << 20)
#define MIB (1u << 20)
#define PAGE 4096u
#define DEFAULT_MIB 4u
#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 16777619u
#define EXIT_FAILED 1
#define SECTOR 512u
#define DISK_SECTORS 16u
#define QSIZE 16
#define VIRTIO_PCI_DEVICE_CONSOLE 0x1043
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_S_OK 0
#define BLK_NO_STATUS 0xff
#define HVC_TX 1
#define HVC_LINE_MAX 64
#define PATTERN_STEP 7u
#define NET_RX 0
#define NET_TX 1
#define NET_HDR 12 /* struct virtio_net_hdr with VERSION_1 (5.1.6) */
#define ETH_ALEN 6
#define ETH_HDR 14
#define ETH_PAYLOAD 46 /* a minimal frame */
#define ETHERTYPE_HI 0x88
#define ETHERTYPE_LO 0xb5 /* local experimental (IEEE 802) */
#define NET_BUF 1536

const char program_name[] = "dirtytest";

/* In RAM, like the region: a restore carries them with it. */
static volatile uint32_t pass;
static volatile uint32_t spin_sink;
static volatile uint64_t last_tsc, longest_pass;

/* The polled virtio devices, their rings and buffers: in RAM too. */
struct blk_req_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct virtio_pci blk_dev, hvc_dev;
static struct virtq blk_q, hvc_q;
static uint8_t blk_ring[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t hvc_ring[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static struct blk_req_hdr blk_hdr;
static volatile uint8_t blk_status;
static uint8_t disk_buf[DISK_SECTORS * SECTOR];
static char hvc_line[HVC_LINE_MAX];
static struct virtio_pci net_dev;
static struct virtq net_rxq, net_txq;
static uint8_t net_rx_ring[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t net_tx_ring[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t net_rx_buf[QSIZE][NET_BUF];
static uint8_t net_tx_buf[NET_HDR + ETH_HDR + ETH_PAYLOAD];
static uint8_t net_mac[ETH_ALEN];
static uint32_t net_received;

static void fail(const char *what)
{
	printf("dirtytest: FAIL pass %u: %s\n", pass, what);
	guest_exit(EXIT_FAILED);
}

/* Brings up the nth device of device_id with VERSION_1 and EVENT_IDX and
 * its queue index at ring. */
static void device_up(uint16_t device_id, struct virtio_pci *d, struct virtq *q, uint16_t index,
		      void *ring)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);

	if (virtio_pci_find(device_id, 0, d) || virtio_negotiate(d, want) ||
	    !virtq_setup_at(d, q, index, QSIZE, ring))
		fail("virtio device missing or refused");
	virtio_driver_ok(d);
}

/* Offers the chain at head, notifies if asked, waits for it back. */
static void round_trip(struct virtq *q, uint16_t head)
{
	struct virtq_used_elem e;
	uint16_t old = q->next_avail;

	virtq_post(q, head);
	if (virtq_need_notify(q, old, true))
		virtq_notify(q);
	if (!virtq_get_used(q, &e) || e.id != head)
		fail("virtio request not returned");
}

/* One request: header, len bytes of disk_buf (read into it when in), the
 * status byte. */
static void blk_request(uint32_t type, uint32_t sector, uint32_t len)
{
	volatile struct virtq_desc *d = blk_q.desc;
	uint16_t in = type == BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;

	blk_hdr = (struct blk_req_hdr){ type, 0, sector };
	blk_status = BLK_NO_STATUS;
	d[0] = (struct virtq_desc){ (uint32_t)&blk_hdr, sizeof(blk_hdr), VIRTQ_DESC_F_NEXT, 1 };
	d[1] = (struct virtq_desc){ (uint32_t)disk_buf, len, (uint16_t)(in | VIRTQ_DESC_F_NEXT),
				    2 };
	d[2] = (struct virtq_desc){ (uint32_t)&blk_status, 1, VIRTQ_DESC_F_WRITE, 0 };
	round_trip(&blk_q, 0);
	if (blk_status != BLK_S_OK)
		fail("disk request failed");
}

static uint8_t pattern(uint32_t p, uint32_t i)
{
	return (uint8_t)(p * PATTERN_STEP + i);
}

/* The pass's sector written, every sector read back and checked. */
static void disk_pass(void)
{
	uint32_t h = FNV_OFFSET;

	for (uint32_t i = 0; i < SECTOR; i++)
		disk_buf[i] = i < sizeof(pass) ? (uint8_t)(pass >> (8 * i)) : pattern(pass, i);
	blk_request(BLK_T_OUT, pass % DISK_SECTORS, SECTOR);
	memset(disk_buf, 0, sizeof(disk_buf));
	blk_request(BLK_T_IN, 0, sizeof(disk_buf));
	for (uint32_t s = 0; s < DISK_SECTORS; s++) {
		/* The last pass that wrote sector s: s + k * DISK_SECTORS <= pass. */
		uint32_t last = pass >= s && s ? s + (pass - s) / DISK_SECTORS * DISK_SECTORS
					       : pass / DISK_SECTORS * DISK_SECTORS;
		const uint8_t *b = disk_buf + s * SECTOR;
		for (uint32_t i = 0; i < SECTOR; i++) {
			uint8_t want = !last		  ? 0
				       : i < sizeof(pass) ? (uint8_t)(last >> (8 * i))
							  : pattern(last, i);
			if (b[i] != want) {
				printf("dirtytest: FAIL pass %u: disk sector %u byte %u holds %u, "
				       "expected %u\n",
				       pass, s, i, b[i], want);
				guest_exit(EXIT_FAILED);
			}
			h = (h ^ b[i]) * FNV_PRIME;
		}
	}
	printf("dirtytest: disk pass %u sum 0x%08x\n", pass, h);
}

/* The pass's line through the virtio console's transmit queue. */
static void hvc_pass(void)
{
	static const char prefix[] = "dirtytest: hvc pass ";
	char digits[10];
	unsigned n = sizeof(prefix) - 1, nd = 0;

	memcpy(hvc_line, prefix, n);
	for (uint32_t v = pass; v || !nd; v /= 10)
		digits[nd++] = (char)('0' + v % 10);
	while (nd)
		hvc_line[n++] = digits[--nd];
	hvc_line[n++] = '\n';
	hvc_q.desc[0] = (struct virtq_desc){ (uint32_t)hvc_line, n, 0, 0 };
	round_trip(&hvc_q, 0);
}

/* Receive buffer i offered to the device. */
static void net_offer(uint16_t i)
{
	net_rxq.desc[i] =
		(struct virtq_desc){ (uint32_t)net_rx_buf[i], NET_BUF, VIRTQ_DESC_F_WRITE, 0 };
	virtq_post(&net_rxq, i);
}

static void net_up(void)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);

	if (virtio_pci_find(VIRTIO_PCI_DEVICE_NET, 0, &net_dev) ||
	    virtio_negotiate(&net_dev, want) ||
	    !virtq_setup_at(&net_dev, &net_rxq, NET_RX, QSIZE, net_rx_ring) ||
	    !virtq_setup_at(&net_dev, &net_txq, NET_TX, QSIZE, net_tx_ring))
		fail("virtio-net missing or refused");
	for (unsigned i = 0; i < ETH_ALEN; i++)
		net_mac[i] = (uint8_t)mmio_read(net_dev.device + i, 1);
	for (uint16_t i = 0; i < QSIZE; i++)
		net_offer(i);
	virtio_driver_ok(&net_dev);
	virtq_notify(&net_rxq);
}

/* The frames received since the last pass, checked, their buffers back. */
static void net_receive(void)
{
	struct virtq_used_elem e;
	uint16_t old = net_rxq.next_avail;

	while (virtq_take_used(&net_rxq, &e)) {
		const uint8_t *eth = net_rx_buf[e.id % QSIZE] + NET_HDR;
		const uint8_t *payload = eth + ETH_HDR;
		uint32_t p = 0;
		if (e.id >= QSIZE || e.len < NET_HDR + ETH_HDR + ETH_PAYLOAD ||
		    eth[12] != ETHERTYPE_HI || eth[13] != ETHERTYPE_LO)
			fail("a received frame that no dirtytest sent");
		for (unsigned i = 0; i < sizeof(p); i++)
			p |= (uint32_t)payload[i] << (8 * i);
		for (unsigned i = sizeof(p); i < ETH_PAYLOAD; i++)
			if (payload[i] != pattern(p, i))
				fail("a received frame's payload does not match its pass");
		net_received++;
		net_offer((uint16_t)e.id);
	}
	if (net_rxq.next_avail != old && virtq_need_notify(&net_rxq, old, true))
		virtq_notify(&net_rxq);
}

/* The pass's broadcast frame, sent and returned. */
static void net_pass(void)
{
	uint8_t *eth = net_tx_buf + NET_HDR, *payload = eth + ETH_HDR;

	net_receive();
	memset(net_tx_buf, 0, NET_HDR);
	memset(eth, 0xff, ETH_ALEN);
	memcpy(eth + ETH_ALEN, net_mac, ETH_ALEN);
	eth[12] = ETHERTYPE_HI;
	eth[13] = ETHERTYPE_LO;
	for (unsigned i = 0; i < ETH_PAYLOAD; i++)
		payload[i] = i < sizeof(pass) ? (uint8_t)(pass >> (8 * i)) : pattern(pass, i);
	net_txq.desc[0] = (struct virtq_desc){ (uint32_t)net_tx_buf, sizeof(net_tx_buf), 0, 0 };
	round_trip(&net_txq, 0);
	printf("dirtytest: net pass %u rx %u\n", pass, net_received);
}

static volatile uint8_t *page_byte(uint32_t page)
{
	return (volatile uint8_t *)(REGION_START + page * PAGE);
}

/* Whether [REGION_START, + bytes) is RAM the program may overwrite. */
static bool region_free(const struct boot_params *bp, uint32_t bytes)
{
	struct free_ranges free_ram;

	if (free_ranges_find(bp, &free_ram))
		return false;
	for (unsigned i = 0; i < free_ram.n; i++)
		if (free_ram.range[i].start <= REGION_START &&
		    free_ram.range[i].end >= (uint64_t)REGION_START + bytes)
			return true;
	return false;
}

/* Every page's byte holds the count of the passes done so far. */
static void check_region(uint32_t pages)
{
	uint8_t want = (uint8_t)pass;

	for (uint32_t p = 0; p < pages; p++)
		if (*page_byte(p) != want) {
			printf("dirtytest: FAIL pass %u: page %u holds %u, expected %u\n", pass, p,
			       *page_byte(p), want);
			guest_exit(EXIT_FAILED);
		}
}

/* The TSC since the last mark: never back, and the longest gap kept. */
static void check_tsc(void)
{
	uint64_t now = rdtsc();

	if (last_tsc && now < last_tsc) {
		printf("dirtytest: FAIL pass %u: the TSC went back from %llu to %llu\n", pass,
		       (unsigned long long)last_tsc, (unsigned long long)now);
		guest_exit(EXIT_FAILED);
	}
	if (last_tsc && now - last_tsc > longest_pass)
		longest_pass = now - last_tsc;
	last_tsc = now;
}

static uint32_t region_sum(uint32_t pages)
{
	uint32_t h = FNV_OFFSET;

	for (uint32_t p = 0; p < pages; p++)
		h = (h ^ *page_byte(p)) * FNV_PRIME;
	return (h ^ pass) * FNV_PRIME;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp)) {
		printf("dirtytest: FAIL not booted by a Multiboot loader\n");
		return EXIT_FAILED;
	}
	const char *opt = cmdline_option(bp.cmdline, "mib");
	uint32_t mib = opt ? parse_uint(opt) : DEFAULT_MIB;
	opt = cmdline_option(bp.cmdline, "spin");
	uint32_t spin = opt ? parse_uint(opt) : 0;
	opt = cmdline_option(bp.cmdline, "passes");
	uint32_t passes = opt ? parse_uint(opt) : 0;
	uint32_t pages = mib * (MIB / PAGE);
	opt = cmdline_option(bp.cmdline, "blk");
	bool blk = opt && parse_uint(opt);
	opt = cmdline_option(bp.cmdline, "hvc");
	bool hvc = opt && parse_uint(opt);
	opt = cmdline_option(bp.cmdline, "net");
	bool net = opt && parse_uint(opt);

	if (!mib || !region_free(&bp, mib * MIB)) {
		printf("dirtytest: FAIL %u MiB at 0x%x is not free RAM\n", mib, REGION_START);
		return EXIT_FAILED;
	}
	printf("dirtytest: %u pages at 0x%x, spin %u, passes %u\n", pages, REGION_START, spin,
	       passes);
	if (blk)
		device_up(VIRTIO_PCI_DEVICE_BLK, &blk_dev, &blk_q, 0, blk_ring);
	if (hvc)
		device_up(VIRTIO_PCI_DEVICE_CONSOLE, &hvc_dev, &hvc_q, HVC_TX, hvc_ring);
	if (net)
		net_up();
	for (;;) {
		check_region(pages);
		for (uint32_t p = 0; p < pages; p++)
			(*page_byte(p))++;
		pass++;
		printf("dirtytest: pass %u sum 0x%08x\n", pass, region_sum(pages));
		if (blk)
			disk_pass();
		if (hvc)
			hvc_pass();
		if (net)
			net_pass();
		check_tsc();
		for (uint32_t i = 0; i < spin; i++)
			spin_sink = i;
		if (passes && pass == passes) {
			printf("dirtytest: done, longest pass %llu TSC ticks\n",
			       (unsigned long long)longest_pass);
			return 0;
		}
	}
}
