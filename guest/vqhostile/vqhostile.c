/* vqhostile: a guest that attacks its own virtio devices with everything a
 * buggy or malicious driver could do: descriptors outside its RAM or
 * wrapping 2^64, chains that loop or run past the queue,
 * readable-after-writable chains, indirect descriptors, avail indices far
 * ahead, rings outside RAM or misaligned, bad queue sizes, notify storms,
 * writes to read-only registers and out-of-range selectors, BAR moves,
 * MSI-X garbage, writes all over PCI configuration space, bad receive
 * buffers. Targets: virtio-blk; the transmit side of a first virtio-net
 * NIC; when a second NIC shares its bridge, that one's receive side, fed
 * by frames from the first. Only under pgvisor: the attacks assume its
 * device layout.
 *
 * Each attack starts from a freshly negotiated device. An attack that must
 * break the device is checked for DEVICE_NEEDS_RESET (with the
 * configuration-change ISR bit and a new config generation, 2.1.2); any
 * other must leave it unset. Then the device is reset (status must read
 * back 0 and the queue must be disabled) and a valid request must succeed
 * again. One line per attack:
 *
 *   VQHOSTILE: DEV ATTACK: needs reset, recovered
 *   VQHOSTILE: DEV ATTACK: no reset, recovered
 *   VQHOSTILE: DEV ATTACK: FAILED: what went wrong
 *
 * and at the end "VQHOSTILE: done N attacks, F failed, final read ok:
 * HEX" (sector 0's first 16 bytes) or "... final read FAILED". The disk
 * must hold the pattern disk_byte() describes (the test creates it). Exit
 * value 0 when everything held.
 *
 * Command line: delay=N spins N turns of an empty loop first, so that a
 * neighbour VM started at the same time has filled its RAM with a pattern
 * before the attacks (it checks the pattern after them). */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/freemem.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"
#include "guest/lib/virtio.h"

const char program_name[] = "vqhostile";

#define SECTOR 512
#define DISK_SECTORS 128 /* the test's 64 KiB image */
#define DISK_MAGIC "PGVQDISK"
#define DISK_MAGIC_LEN 8
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define NO_STATUS 0xff
#define QSIZE 8
#define BIG_QSIZE 256
#define NET_RX 0
#define NET_TX 1
#define NET_HDR 12
#define NET_NUM_BUFFERS 10 /* in struct virtio_net_hdr */
#define NET_F_MRG_RXBUF 15
#define ETHERTYPE_LOCAL 0x88b5 /* IEEE local experimental */
#define RX_BUF 2048
#define DRAIN_ROUNDS 100 /* more than a switch port's ring holds */
#define ETH_MIN 60
#define ISR_CONFIG 2
#define MSIX_CTRL 2
#define MSIX_PBA 8
#define MSIX_ENABLE 0x8000
#define MSIX_ENTRY 16
#define CAP_PCI_CFG 5
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_DATA 16
#define BAR_REGS_SIZE 0x4000
#define EXIT_FAILED 1

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* A device under attack. */
struct target {
	const char *name; /* "vda", "eth0" */
	struct virtio_pci dev;
	unsigned nqueues;
	unsigned attack_queue;		 /* where chains are posted */
	bool (*valid)(struct target *t); /* one good request, checked */
	struct virtq q[2];
};

struct attack {
	const char *name;
	bool breaks; /* must end in DEVICE_NEEDS_RESET */
	void (*run)(struct target *t);
};

static uint8_t ring_mem[2][VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t alt_mem[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t bar_shadow[BAR_REGS_SIZE] __attribute__((aligned(BAR_REGS_SIZE)));
static uint8_t data[4 * SECTOR] __attribute__((aligned(4096)));
static uint8_t frame[8192] __attribute__((aligned(4096)));
static uint8_t sender_mem[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t rx_buf[QSIZE][RX_BUF] __attribute__((aligned(4096)));
static uint8_t sent[NET_HDR + ETH_MIN]; /* the last frame eth0 sent, header first */
static uint32_t next_tag = 1;
static struct blk_req_hdr hdr __attribute__((aligned(16)));
static volatile uint8_t status_byte;
static uint32_t ram_end;    /* the top of usable RAM: where the VM's RAM ends */
static const char *failure; /* the first failed check of the current attack */
static unsigned attacks, failed;

static void expect(bool ok, const char *what)
{
	if (!ok && !failure)
		failure = what;
}

/* The test's disk image: the magic, then a pattern that differs per
 * sector. */
static uint8_t disk_byte(uint32_t i)
{
	if (i < DISK_MAGIC_LEN)
		return (uint8_t)DISK_MAGIC[i];
	return (uint8_t)(i * 13 + (i >> 9) + 0x21);
}

static bool sector_ok(const uint8_t *buf, uint32_t sector)
{
	for (uint32_t i = 0; i < SECTOR; i++)
		if (buf[i] != disk_byte(sector * SECTOR + i))
			return false;
	return true;
}

static void set_desc(struct virtq *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	q->desc[i].addr = addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = next;
}

static uint32_t addr_of(const volatile void *p)
{
	return (uint32_t)p;
}

/* ---- the devices' good paths ---- */

/* Negotiates, sets up the device's queues in ring_mem, DRIVER_OK. */
static void std_setup(struct target *t)
{
	for (unsigned i = 0; i < t->nqueues; i++)
		expect(virtq_setup_at(&t->dev, &t->q[i], (uint16_t)i, QSIZE, ring_mem[i]),
		       "a valid queue was not enabled");
	virtio_driver_ok(&t->dev);
}

/* A three-descriptor read or write chain at descriptors 0-2. */
static void blk_chain(struct virtq *q, uint32_t type, uint64_t sector, uint64_t buf, uint32_t len)
{
	hdr = (struct blk_req_hdr){ type, 0, sector };
	status_byte = NO_STATUS;
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, buf, len,
		 (uint16_t)(VIRTQ_DESC_F_NEXT | (type == BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0)), 2);
	set_desc(q, 2, addr_of(&status_byte), 1, VIRTQ_DESC_F_WRITE, 0);
}

/* Posts head 0, notifies, and returns the status byte (NO_STATUS when the
 * chain did not come back, or came back wrong). */
static uint8_t blk_submit(struct virtq *q, uint32_t expect_written)
{
	struct virtq_used_elem e;

	virtq_post(q, 0);
	virtq_notify(q);
	if (!virtq_get_used(q, &e))
		return NO_STATUS;
	if (e.id != 0 || (expect_written && e.len != expect_written))
		return NO_STATUS;
	return status_byte;
}

static uint8_t blk_request(struct virtq *q, uint32_t type, uint64_t sector, uint64_t buf,
			   uint32_t len)
{
	blk_chain(q, type, sector, buf, len);
	return blk_submit(q, 0);
}

/* Sector 0 into data, checked. */
static bool blk_valid(struct target *t)
{
	if (virtio_negotiate(&t->dev,
			     VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)))
		return false;
	std_setup(t);
	memset(data, 0, SECTOR);
	blk_chain(&t->q[0], BLK_T_IN, 0, addr_of(data), SECTOR);
	uint8_t s = blk_submit(&t->q[0], SECTOR + 1);
	return s == BLK_S_OK && sector_ok(data, 0);
}

/* One minimum-size broadcast frame on the transmit queue. */
static bool net_send(struct virtq *q, uint32_t len, unsigned ndesc)
{
	struct virtq_used_elem e;
	uint32_t chunk = len / ndesc;

	memset(frame, 0, NET_HDR);
	memset(frame + NET_HDR, 0xff, 6); /* destination: broadcast */
	for (unsigned i = 0; i < ndesc; i++)
		set_desc(q, i, addr_of(frame) + i * chunk, i + 1 < ndesc ? chunk : len - i * chunk,
			 i + 1 < ndesc ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	virtq_post(q, 0);
	virtq_notify(q);
	return virtq_get_used(q, &e) && e.id == 0 && e.len == 0;
}

static bool net_valid(struct target *t)
{
	if (virtio_negotiate(&t->dev,
			     VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)))
		return false;
	std_setup(t);
	return net_send(&t->q[NET_TX], NET_HDR + ETH_MIN, 1);
}

/* struct virtio_net_hdr's num_buffers. */
static uint16_t num_buffers(const uint8_t *hdr_bytes)
{
	return (uint16_t)(hdr_bytes[NET_NUM_BUFFERS] | hdr_bytes[NET_NUM_BUFFERS + 1] << 8);
}

/* eth0 sends one minimum-size frame to eth1's MAC (its payload starts with
 * a fresh tag) from its own queue memory, so that eth1's queues are free
 * for the attacks. */
static struct target *sender, *receiver;

static bool eth0_send(void)
{
	struct virtio_pci *d = &sender->dev;
	struct virtq q;
	struct virtq_used_elem e;
	uint32_t tag = next_tag++;

	if (virtio_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)) ||
	    !virtq_setup_at(d, &q, NET_TX, QSIZE, sender_mem))
		return false;
	virtio_driver_ok(d);
	memset(sent, 0, sizeof(sent));
	uint8_t *eth = sent + NET_HDR;
	for (unsigned i = 0; i < 6; i++) {
		eth[i] = (uint8_t)mmio_read(receiver->dev.device + i, 1);
		eth[6 + i] = (uint8_t)mmio_read(d->device + i, 1);
	}
	eth[12] = ETHERTYPE_LOCAL >> 8;
	eth[13] = ETHERTYPE_LOCAL & 0xff;
	memcpy(eth + 14, &tag, sizeof(tag));
	for (unsigned i = 18; i < ETH_MIN; i++)
		eth[i] = (uint8_t)(i * 7 + tag);
	memcpy(frame, sent, sizeof(sent));
	set_desc(&q, 0, addr_of(frame), sizeof(sent), 0, 0);
	virtq_post(&q, 0);
	virtq_notify(&q);
	return virtq_get_used(&q, &e) && e.id == 0;
}

/* Whether buf holds the frame eth0 sent last, after a header. */
static bool is_sent_frame(const uint8_t *buf, uint32_t len)
{
	return len == sizeof(sent) && memcmp(buf + NET_HDR, sent + NET_HDR, ETH_MIN) == 0;
}

/* eth1's receive queue full of good buffers; frames left in its port
 * from earlier (eth0's broadcasts, frames a broken queue did not take) are
 * drained, then the frame eth0 sends must arrive whole. */
static bool rx_valid(struct target *t)
{
	struct virtq *q = &t->q[NET_RX];
	struct virtq_used_elem e;

	if (virtio_negotiate(&t->dev,
			     VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)))
		return false;
	std_setup(t);
	for (unsigned i = 0; i < QSIZE; i++) {
		set_desc(q, i, addr_of(rx_buf[i]), RX_BUF, VIRTQ_DESC_F_WRITE, 0);
		virtq_post(q, (uint16_t)i);
	}
	virtq_notify(q);
	if (!eth0_send())
		return false;
	for (unsigned round = 0; round < DRAIN_ROUNDS && virtq_get_used(q, &e); round++) {
		if (e.id >= QSIZE)
			return false;
		if (is_sent_frame(rx_buf[e.id], e.len))
			return num_buffers(rx_buf[e.id]) == 1;
		virtq_post(q, (uint16_t)e.id);
		virtq_notify(q);
	}
	return false;
}

/* Receive buffers as an attack lays them out, then eth0's frame. */
static struct virtq *rx_attack_setup(struct target *t, bool merge)
{
	if (merge)
		expect(virtio_negotiate(&t->dev, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
							 VIRTIO_BIT(NET_F_MRG_RXBUF)) == 0,
		       "MRG_RXBUF refused");
	std_setup(t);
	memset(rx_buf, 0xee, sizeof(rx_buf));
	return &t->q[NET_RX];
}

static void rx_send(struct virtq *q)
{
	virtq_notify(q);
	expect(eth0_send(), "eth0 could not send");
}

static void rx_refused(struct virtq *q)
{
	virtq_post(q, 0);
	rx_send(q);
	expect(virtq_used_idx(q) == 0, "a bad receive buffer was used");
}

static void atk_rx_buffer_outside_ram(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	set_desc(q, 0, 0xffff0000u, RX_BUF, VIRTQ_DESC_F_WRITE, 0);
	rx_refused(q);
}

static void atk_rx_buffer_readable(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	set_desc(q, 0, addr_of(rx_buf[0]), RX_BUF, 0, 0);
	rx_refused(q);
}

static void atk_rx_buffer_shorter_than_header(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	set_desc(q, 0, addr_of(rx_buf[0]), 4, VIRTQ_DESC_F_WRITE, 0);
	rx_refused(q);
}

static void atk_rx_chain_loop(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	set_desc(q, 0, addr_of(rx_buf[0]), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, addr_of(rx_buf[1]), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	rx_refused(q);
}

/* The header spread over four 3-byte descriptors, the frame after. */
static void atk_rx_header_split(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	struct virtq_used_elem e;
	uint8_t got[NET_HDR + ETH_MIN];
	for (unsigned i = 0; i < 4; i++)
		set_desc(q, i, addr_of(rx_buf[i]), 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			 (uint16_t)(i + 1));
	set_desc(q, 4, addr_of(rx_buf[4]), RX_BUF, VIRTQ_DESC_F_WRITE, 0);
	virtq_post(q, 0);
	rx_send(q);
	for (unsigned i = 0; i < 4; i++)
		memcpy(got + 3 * i, rx_buf[i], 3);
	memcpy(got + NET_HDR, rx_buf[4], ETH_MIN);
	expect(virtq_get_used(q, &e) && e.id == 0 && is_sent_frame(got, e.len) &&
		       num_buffers(got) == 1,
	       "a frame into a split header came out wrong");
}

/* No MRG_RXBUF and a buffer of 20 bytes: the frame is cut short. */
static void atk_rx_truncated(struct target *t)
{
	struct virtq *q = rx_attack_setup(t, false);
	struct virtq_used_elem e;
	set_desc(q, 0, addr_of(rx_buf[0]), 20, VIRTQ_DESC_F_WRITE, 0);
	virtq_post(q, 0);
	rx_send(q);
	expect(virtq_get_used(q, &e) && e.id == 0 && e.len == 20 &&
		       memcmp(rx_buf[0] + NET_HDR, sent + NET_HDR, 8) == 0 && rx_buf[0][20] == 0xee,
	       "a truncated frame came out wrong");
}

/* MRG_RXBUF with the given buffer sizes (0: a readable buffer of 64
 * bytes): the frame spreads over them in order; num_buffers counts them. */
static void rx_merge(struct target *t, const uint32_t *sizes, unsigned n, unsigned want_used,
		     uint32_t want_bytes)
{
	struct virtq *q = rx_attack_setup(t, true);
	struct virtq_used_elem e;
	uint8_t got[NET_HDR + ETH_MIN];
	uint32_t total = 0;
	unsigned used = 0;

	for (unsigned i = 0; i < n; i++) {
		set_desc(q, i, addr_of(rx_buf[i]), sizes[i] ? sizes[i] : 64,
			 sizes[i] ? VIRTQ_DESC_F_WRITE : 0, 0);
		virtq_post(q, (uint16_t)i);
	}
	rx_send(q);
	while (virtq_get_used(q, &e)) {
		bool in_order = e.id == used && e.len <= (sizes[used] ? sizes[used] : 0);
		expect(in_order, "merged buffers came back out of order or overfilled");
		if (!in_order)
			return;
		if (total + e.len <= sizeof(got))
			memcpy(got + total, rx_buf[e.id], e.len);
		total += e.len;
		used++;
	}
	expect(used == want_used && total == want_bytes, "merged buffers used wrongly");
	expect(num_buffers(got) == want_used, "num_buffers is wrong");
	expect(memcmp(got + NET_HDR, sent + NET_HDR, want_bytes - NET_HDR) == 0,
	       "a merged frame came out wrong");
}

static void atk_rx_merge_tiny_buffers(struct target *t)
{
	static const uint32_t sizes[] = { 16, 16, 16, 16, 16, 16, 16, 16 };
	rx_merge(t, sizes, QSIZE, 5, NET_HDR + ETH_MIN);
}

static void atk_rx_merge_runs_out(struct target *t)
{
	static const uint32_t sizes[] = { 16, 16 };
	rx_merge(t, sizes, 2, 2, 32);
}

static void atk_rx_merge_readable_buffer(struct target *t)
{
	static const uint32_t sizes[] = { 16, 0, 64 };
	rx_merge(t, sizes, 3, 3, NET_HDR + ETH_MIN);
}

/* ---- chains the device must refuse (the queue is set up right) ---- */

static struct virtq *attack_q(struct target *t)
{
	std_setup(t);
	return &t->q[t->attack_queue];
}

/* A valid request's chain, as the queue's device type wants it. */
static void good_chain(struct target *t, struct virtq *q)
{
	if (t->dev.device_id == VIRTIO_PCI_DEVICE_BLK) {
		blk_chain(q, BLK_T_IN, 0, addr_of(data), SECTOR);
	} else {
		memset(frame, 0, NET_HDR + ETH_MIN);
		set_desc(q, 0, addr_of(frame), NET_HDR + ETH_MIN, 0, 0);
	}
}

/* Posts head, notifies, and checks nothing came back and nothing of the
 * chain was served (the status byte is untouched). */
static void post_refused(struct virtq *q, uint16_t head)
{
	status_byte = NO_STATUS;
	virtq_post(q, head);
	virtq_notify(q);
	expect(virtq_used_idx(q) == 0, "a bad chain was returned as used");
	expect(status_byte == NO_STATUS, "a bad chain was partly served");
}

/* The good chain with descriptor 1 (the data) replaced. */
static void bad_data_desc(struct target *t, uint64_t addr, uint32_t len)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	q->desc[t->dev.device_id == VIRTIO_PCI_DEVICE_BLK ? 1 : 0].addr = addr;
	q->desc[t->dev.device_id == VIRTIO_PCI_DEVICE_BLK ? 1 : 0].len = len;
	post_refused(q, 0);
}

static void atk_desc_outside_ram(struct target *t)
{
	bad_data_desc(t, 0xffff0000u, SECTOR);
}

static void atk_desc_at_ram_end(struct target *t)
{
	volatile uint8_t *last = (volatile uint8_t *)(ram_end - 1);
	*last = 0x5a;
	bad_data_desc(t, ram_end - 1, 4096);
	expect(*last == 0x5a, "the device wrote the last byte of RAM");
}

static void atk_desc_wraps(struct target *t)
{
	bad_data_desc(t, 0xfffffffffffff000ull, 0x2000);
}

static void atk_desc_above_4g(struct target *t)
{
	bad_data_desc(t, 0x100000000ull + addr_of(data), SECTOR);
}

static void atk_desc_huge_len(struct target *t)
{
	bad_data_desc(t, addr_of(data), 0xffffffffu);
}

static void atk_chain_self_loop(struct target *t)
{
	struct virtq *q = attack_q(t);
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 0);
	post_refused(q, 0);
}

static void atk_chain_loop_ab(struct target *t)
{
	struct virtq *q = attack_q(t);
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, addr_of(data), SECTOR, VIRTQ_DESC_F_NEXT, 0);
	post_refused(q, 0);
}

/* Every descriptor of the queue once, then back to the first. */
static void atk_chain_longer_than_queue(struct target *t)
{
	struct virtq *q = attack_q(t);
	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(q, i, addr_of(data), 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
	post_refused(q, 0);
}

/* 65 distinct descriptors in a queue of 256: past the device's limit. */
static void atk_chain_over_64(struct target *t)
{
	struct virtq *q = &t->q[0];
	expect(virtq_setup_at(&t->dev, q, 0, BIG_QSIZE, ring_mem[0]), "queue of 256 refused");
	virtio_driver_ok(&t->dev);
	for (unsigned i = 0; i < 65; i++)
		set_desc(q, i, addr_of(data), 16, i < 64 ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	post_refused(q, 0);
}

static void atk_next_beyond_queue(struct target *t)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	q->desc[1].next = QSIZE;
	post_refused(q, 0);
}

static void atk_next_ffff(struct target *t)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	q->desc[0].flags = VIRTQ_DESC_F_NEXT;
	q->desc[0].next = 0xffff;
	post_refused(q, 0);
}

static void atk_head_beyond_queue(struct target *t)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	post_refused(q, QSIZE);
}

static void atk_head_ffff(struct target *t)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	post_refused(q, 0xffff);
}

static void atk_readable_after_writable(struct target *t)
{
	struct virtq *q = attack_q(t);
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, addr_of(data), SECTOR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(q, 2, addr_of(data) + SECTOR, 16, VIRTQ_DESC_F_NEXT, 3);
	set_desc(q, 3, addr_of(&status_byte), 1, VIRTQ_DESC_F_WRITE, 0);
	post_refused(q, 0);
}

/* An indirect table that itself would be valid: the feature was never
 * offered, so the device must not follow it. */
static void atk_indirect(struct target *t)
{
	struct virtq *q = attack_q(t);
	volatile struct virtq_desc *table = (volatile struct virtq_desc *)alt_mem;
	table[0] = (struct virtq_desc){ addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1 };
	table[1] = (struct virtq_desc){ addr_of(&status_byte), 1, VIRTQ_DESC_F_WRITE, 0 };
	set_desc(q, 0, addr_of(table), 2 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	post_refused(q, 0);
}

static void avail_ahead(struct target *t, uint16_t idx)
{
	struct virtq *q = attack_q(t);
	good_chain(t, q);
	for (unsigned i = 0; i < QSIZE; i++)
		q->avail[2 + i] = 0;
	q->avail[1] = idx;
	virtq_notify(q);
	expect(virtq_used_idx(q) == 0, "chains past the ring were returned");
}

static void atk_avail_far_ahead(struct target *t)
{
	avail_ahead(t, 1000);
}

static void atk_avail_size_plus_one(struct target *t)
{
	avail_ahead(t, QSIZE + 1);
}

static void atk_no_status_byte(struct target *t)
{
	struct virtq *q = attack_q(t);
	hdr = (struct blk_req_hdr){ BLK_T_IN, 0, 0 };
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), 0, 0);
	post_refused(q, 0);
}

static void atk_short_header(struct target *t)
{
	struct virtq *q = attack_q(t);
	hdr = (struct blk_req_hdr){ BLK_T_IN, 0, 0 };
	set_desc(q, 0, addr_of(&hdr), 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, addr_of(&status_byte), 1, VIRTQ_DESC_F_WRITE, 0);
	post_refused(q, 0);
}

/* A valid read whose buffer is the available ring itself: the disk's
 * bytes land on the ring's index, which then runs far ahead ("VQ"). */
static void atk_data_over_avail_ring(struct target *t)
{
	struct virtq *q = attack_q(t);
	blk_chain(q, BLK_T_IN, 0, addr_of(q->avail), SECTOR);
	virtq_post(q, 0);
	virtq_notify(q);
	expect(virtq_used_idx(q) == 1, "the read into the ring did not complete");
	expect(status_byte == BLK_S_OK, "the read into the ring failed");
	expect(q->avail[1] == (uint16_t)(DISK_MAGIC[2] | DISK_MAGIC[3] << 8),
	       "the disk's bytes are not in the ring");
}

/* After the device broke, a valid chain and more notifications change
 * nothing, and the driver cannot clear NEEDS_RESET by writing status. */
static void atk_dead_after_break(struct target *t)
{
	atk_desc_outside_ram(t);
	struct virtq *q = &t->q[t->attack_queue];
	good_chain(t, q);
	virtq_post(q, 0);
	for (unsigned i = 0; i < 16; i++)
		virtq_notify(q);
	expect(virtq_used_idx(q) == 0, "a broken device served a request");
	virtio_set_status(&t->dev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	expect(virtio_status(&t->dev) & VIRTIO_STATUS_NEEDS_RESET,
	       "the driver cleared DEVICE_NEEDS_RESET by writing status");
	virtq_notify(q);
	expect(virtq_used_idx(q) == 0, "a broken device served a request");
}

/* ---- rings the device must refuse when the queue is enabled ---- */

static void bad_ring(struct target *t, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
		     uint64_t used)
{
	expect(!virtq_setup(&t->dev, &t->q[q], (uint16_t)q, size, desc, avail, used),
	       "a bad queue was enabled");
	virtio_driver_ok(&t->dev);
	virtq_notify(&t->q[q]);
}

#define RING0 ((uint64_t)addr_of(ring_mem[0]))

static void atk_ring_desc_outside_ram(struct target *t)
{
	bad_ring(t, 0, QSIZE, 0xffff0000u, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF);
}

static void atk_ring_desc_wraps(struct target *t)
{
	bad_ring(t, 0, QSIZE, 0xfffffffffffffff0ull, RING0 + VIRTQ_AVAIL_OFF,
		 RING0 + VIRTQ_USED_OFF);
}

static void atk_ring_avail_outside_ram(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0, ram_end - 4, RING0 + VIRTQ_USED_OFF);
}

static void atk_ring_used_above_4g(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0, RING0 + VIRTQ_AVAIL_OFF, 0x100000000ull + RING0);
}

/* The used ring's elements fit below the end of RAM, its avail_event
 * does not. */
static void atk_ring_used_event_past_end(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0, RING0 + VIRTQ_AVAIL_OFF, ram_end - (4 + 8 * QSIZE));
}

static void atk_ring_desc_misaligned(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0 + 8, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF);
}

static void atk_ring_avail_misaligned(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0, RING0 + VIRTQ_AVAIL_OFF + 1, RING0 + VIRTQ_USED_OFF);
}

static void atk_ring_used_misaligned(struct target *t)
{
	bad_ring(t, 0, QSIZE, RING0, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF + 2);
}

static void atk_queue_size_3(struct target *t)
{
	bad_ring(t, 0, 3, RING0, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF);
}

static void atk_queue_size_0(struct target *t)
{
	bad_ring(t, 0, 0, RING0, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF);
}

static void atk_queue_size_512(struct target *t)
{
	bad_ring(t, 0, 512, RING0, RING0 + VIRTQ_AVAIL_OFF, RING0 + VIRTQ_USED_OFF);
}

static void atk_rx_ring_outside_ram(struct target *t)
{
	uint64_t rx = addr_of(ring_mem[NET_RX]);
	bad_ring(t, NET_RX, QSIZE, rx, ram_end - 4, rx + VIRTQ_USED_OFF);
}

/* All-ones into every dword of the common configuration: among others a
 * queue size of 0xffff, then queue_enable. */
static void atk_common_sweep(struct target *t)
{
	std_setup(t);
	virtio_reset(&t->dev);
	virtio_negotiate(&t->dev, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	for (unsigned off = 0; off < 0x40; off += 4)
		virtio_cc_write(&t->dev, off, 4, 0xffffffffu);
	for (unsigned off = 0; off < 0x40; off++)
		(void)virtio_cc_read(&t->dev, off, 1);
}

/* ---- what the device must survive without breaking ---- */

/* A zero-length descriptor's address is never used, whatever it is. */
static void atk_zero_len_wild_addr(struct target *t)
{
	struct virtq *q = attack_q(t);
	memset(data, 0, SECTOR);
	hdr = (struct blk_req_hdr){ BLK_T_IN, 0, 1 };
	status_byte = NO_STATUS;
	set_desc(q, 0, addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	set_desc(q, 1, 0xffffffffffffffffull, 0, VIRTQ_DESC_F_NEXT, 2);
	set_desc(q, 2, addr_of(data), SECTOR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	set_desc(q, 3, addr_of(&status_byte), 1, VIRTQ_DESC_F_WRITE, 0);
	expect(blk_submit(q, SECTOR + 1) == BLK_S_OK && sector_ok(data, 1),
	       "read with an empty descriptor failed");
}

/* The three rings in the last 4 KiB of RAM, the available ring's
 * used_event in the very last two bytes. */
static void atk_rings_at_ram_end(struct target *t)
{
	struct virtq *q = &t->q[0];
	uint32_t top = ram_end - 0x1000;
	memset((void *)top, 0, 0x1000);
	expect(virtq_setup(&t->dev, q, 0, QSIZE, top, ram_end - (4 + 2 * QSIZE + 2), top + 0x800),
	       "rings that end at the end of RAM were refused");
	virtio_driver_ok(&t->dev);
	memset(data, 0, SECTOR);
	blk_chain(q, BLK_T_IN, 2, addr_of(data), SECTOR);
	expect(blk_submit(q, SECTOR + 1) == BLK_S_OK && sector_ok(data, 2),
	       "read with rings at the end of RAM failed");
}

/* The used ring on top of the available ring. */
static void atk_rings_aliased(struct target *t)
{
	struct virtq *q = &t->q[0];
	uint32_t base = addr_of(ring_mem[0]);
	memset(ring_mem[0], 0, VIRTQ_MEM_BYTES);
	expect(virtq_setup(&t->dev, q, 0, QSIZE, base, base + VIRTQ_AVAIL_OFF,
			   base + VIRTQ_AVAIL_OFF),
	       "aliased rings were refused");
	virtio_driver_ok(&t->dev);
	memset(data, 0, SECTOR);
	blk_chain(q, BLK_T_IN, 3, addr_of(data), SECTOR);
	virtq_post(q, 0);
	virtq_notify(q);
	expect(virtq_used_idx(q) == 1 && status_byte == BLK_S_OK && sector_ok(data, 3),
	       "read with aliased rings failed");
}

/* Requests the device must answer with an error status, one queue set-up
 * each (a queue's indices restart at the reset). */
static void atk_bad_requests(struct target *t)
{
	static const struct {
		uint32_t type;
		uint64_t sector;
		uint32_t len;
		uint8_t status;
		const char *what;
	} reqs[] = {
		{ BLK_T_IN, DISK_SECTORS, SECTOR, BLK_S_IOERR, "read past the disk not IOERR" },
		{ BLK_T_IN, DISK_SECTORS - 1, 2 * SECTOR, BLK_S_IOERR,
		  "read across the disk's end not IOERR" },
		{ BLK_T_IN, 0xffffffffffffffffull, SECTOR, BLK_S_IOERR,
		  "read of sector 2^64-1 not IOERR" },
		{ BLK_T_IN, 0x0080000000000000ull, SECTOR, BLK_S_IOERR,
		  "read whose byte offset wraps not IOERR" },
		{ BLK_T_IN, 0, 100, BLK_S_IOERR, "read of 100 bytes not IOERR" },
		{ BLK_T_OUT, DISK_SECTORS - 1, 2 * SECTOR, BLK_S_IOERR,
		  "write across the disk's end not IOERR" },
		{ 0x77, 0, SECTOR, BLK_S_UNSUPP, "unknown request type not UNSUPP" },
		{ BLK_T_IN, DISK_SECTORS - 1, SECTOR, BLK_S_OK, "read of the last sector failed" },
	};
	for (unsigned i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		virtio_negotiate(&t->dev, VIRTIO_BIT(VIRTIO_F_VERSION_1));
		std_setup(t);
		expect(blk_request(&t->q[0], reqs[i].type, reqs[i].sector, addr_of(data),
				   reqs[i].len) == reqs[i].status,
		       reqs[i].what);
	}
	expect(sector_ok(data, DISK_SECTORS - 1), "the last sector's bytes are wrong");
}

/* Tens of thousands of notifications: for the queue with nothing in it,
 * for queues that do not exist, in every width; before DRIVER_OK a
 * request waits, after it exactly one comes back. */
static void atk_notify_storm(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	struct virtq *q = &t->q[t->attack_queue];

	for (unsigned i = 0; i < t->nqueues; i++)
		expect(virtq_setup_at(d, &t->q[i], (uint16_t)i, QSIZE, ring_mem[i]),
		       "a valid queue was not enabled");
	good_chain(t, q);
	virtq_post(q, 0);
	for (unsigned i = 0; i < 1000; i++)
		virtq_notify(q);
	expect(virtq_used_idx(q) == 0, "a request was served before DRIVER_OK");
	virtio_driver_ok(d);
	for (unsigned i = 0; i < 20000; i++)
		virtq_notify(q);
	expect(virtq_used_idx(q) == 1, "not exactly one request came back");
	for (unsigned i = 0; i < 5000; i++)
		outw(d->notify, 7);
	for (unsigned i = 0; i < 5000; i++)
		outw(d->notify, 0xffff);
	for (unsigned i = 0; i < 1000; i++)
		outl(d->notify, 0xffff0000u | t->attack_queue);
	for (unsigned i = 0; i < 1000; i++)
		outb((uint16_t)(d->notify + 1 + i % 3), 0xff);
	for (unsigned i = 0; i < 1000; i++)
		outw((uint16_t)(d->notify + 2), (uint16_t)t->attack_queue);
	/* REP OUTSW: thousands of notifications per instruction, the queue's
	 * own index among those of queues that do not exist. */
	static uint16_t storm[4096];
	for (unsigned i = 0; i < 4096; i++)
		storm[i] = i % 3 == 0 ? (uint16_t)t->attack_queue : i % 3 == 1 ? 7 : 0xffff;
	for (unsigned round = 0; round < 4; round++) {
		const uint16_t *src = storm;
		uint32_t count = 4096;
		__asm__ volatile("rep outsw"
				 : "+S"(src), "+c"(count)
				 : "d"(d->notify), "m"(storm)
				 : "memory");
	}
	uint16_t in[64];
	uint16_t *dst = in;
	uint32_t count = 64;
	__asm__ volatile("rep insw" : "+D"(dst), "+c"(count) : "d"(d->notify) : "memory");
	expect(in[0] == 0xffff && in[63] == 0xffff, "the notify register reads back");
	expect(virtq_used_idx(q) == 1, "notifications conjured a request");
}

/* Writes to what the driver may only read, and reads of holes. */
static void atk_read_only_fields(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	uint8_t before[VIRTIO_CC_LEN], after[VIRTIO_CC_LEN], cfg[64];

	std_setup(t);
	uint64_t features = virtio_device_features(d);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, 0);
	for (unsigned i = 0; i < VIRTIO_CC_LEN; i++)
		before[i] = (uint8_t)virtio_cc_read(d, i, 1);
	for (unsigned i = 0; i < sizeof(cfg); i++)
		cfg[i] = (uint8_t)mmio_read(d->device + i, 1);

	virtio_cc_write(d, VIRTIO_CC_DEVICE_FEATURE, 4, 0xffffffffu);
	virtio_cc_write(d, VIRTIO_CC_DEVICE_FEATURE, 2, 0);
	virtio_cc_write(d, VIRTIO_CC_NUM_QUEUES, 2, 0xffff);
	virtio_cc_write(d, VIRTIO_CC_CONFIG_GENERATION, 1, 0x5a);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_NOTIFY_OFF, 2, 0x1234);
	/* The queue is enabled: its size and addresses are fixed now
	 * (4.1.4.3.2), and it cannot be disabled by writing 0. */
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SIZE, 2, 16);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_DESC, 4, 0xdead0000u);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_DRIVER + 4, 4, 0xffffffffu);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_DEVICE + 2, 2, 0x7777);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_ENABLE, 2, 0);
	for (unsigned i = 0; i < sizeof(cfg); i += 4)
		mmio_write(d->device + i, 4, 0xffffffffu);
	for (unsigned i = 0; i < sizeof(cfg); i++)
		mmio_write(d->device + i, 1, 0);
	mmio_write(d->isr, 4, 0xffffffffu);
	/* NEEDS_RESET is the device's bit (2.1.1). */
	virtio_set_status(d, virtio_status(d) | VIRTIO_STATUS_NEEDS_RESET);
	expect(!(virtio_status(d) & VIRTIO_STATUS_NEEDS_RESET),
	       "the driver could set DEVICE_NEEDS_RESET");

	/* Holes and accesses that straddle a structure or the BAR's end. */
	uint32_t bar0 = d->bar[0];
	static const uint32_t holes[] = { 0x40, 0x800, 0x1004, 0x1800, 0x2040, 0x2800, 0x3f00 };
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		mmio_write(bar0 + holes[i], 4, 0xffffffffu);
		expect(mmio_read(bar0 + holes[i], 4) == 0, "a hole in BAR 0 does not read 0");
	}
	(void)mmio_read(bar0 + 0x3e, 4);
	(void)mmio_read(bar0 + 0xfff, 2);
	mmio_write(bar0 + 0x3e, 4, 0xffffffffu);
	expect(mmio_read(bar0 + BAR_REGS_SIZE - 2, 4) == 0xffffffffu,
	       "an access past BAR 0's end was decoded");
	mmio_write(bar0 + BAR_REGS_SIZE - 2, 4, 0);

	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, 0);
	for (unsigned i = 0; i < VIRTIO_CC_LEN; i++)
		after[i] = (uint8_t)virtio_cc_read(d, i, 1);
	expect(memcmp(before, after, sizeof(before)) == 0, "a read-only field changed");
	expect(virtio_device_features(d) == features, "the device features changed");
	for (unsigned i = 0; i < sizeof(cfg); i++)
		expect(mmio_read(d->device + i, 1) == cfg[i], "the device configuration changed");
	expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_ENABLE, 2) == 1, "writing 0 disabled the queue");
}

/* Feature selects out of range, features never offered, and changes
 * after FEATURES_OK. */
static void atk_feature_selects(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	const uint8_t ack_driver = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	static const uint32_t sels[] = { 2, 3, 0x80000000u, 0xffffffffu };

	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		virtio_cc_write(d, VIRTIO_CC_DEVICE_FEATURE_SELECT, 4, sels[i]);
		expect(virtio_cc_read(d, VIRTIO_CC_DEVICE_FEATURE, 4) == 0,
		       "a feature word past 64 bits is not 0");
		virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, sels[i]);
		virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0xffffffffu);
	}
	virtio_reset(d);
	virtio_set_status(d, ack_driver);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 7);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0xffffffffu);
	for (uint32_t sel = 0; sel < 2; sel++) {
		virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, sel);
		expect(virtio_cc_read(d, VIRTIO_CC_DRIVER_FEATURE, 4) == 0,
		       "an out-of-range driver feature write landed");
	}
	/* Everything, offered or not: FEATURES_OK must not stick (3.1.1). */
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 0);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0xffffffffu);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 1);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0xffffffffu);
	virtio_set_status(d, ack_driver | VIRTIO_STATUS_FEATURES_OK);
	expect(!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK),
	       "FEATURES_OK with features never offered");
	/* Without VERSION_1 a modern device refuses too. */
	virtio_reset(d);
	virtio_set_status(d, ack_driver);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 1);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0);
	virtio_set_status(d, ack_driver | VIRTIO_STATUS_FEATURES_OK);
	expect(!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK), "FEATURES_OK without VERSION_1");
	/* Accepted features are fixed. */
	expect(virtio_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)) == 0, "negotiation failed");
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 1);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, 0);
	expect(virtio_cc_read(d, VIRTIO_CC_DRIVER_FEATURE, 4) == 1,
	       "features changed after FEATURES_OK");
}

/* Queue selects past the device's queues: nothing there, nothing kept. */
static void atk_queue_selects(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	static const uint16_t sels[] = { 4, 7, 0x8000, 0xffff };

	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, sels[i]);
		expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_SIZE, 2) == 0,
		       "a queue past num_queues has a size");
		virtio_cc_write(d, VIRTIO_CC_QUEUE_SIZE, 2, QSIZE);
		virtio_cc_write(d, VIRTIO_CC_QUEUE_DESC, 4, 0x1000);
		virtio_cc_write(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2, 0);
		virtio_cc_write(d, VIRTIO_CC_QUEUE_ENABLE, 2, 1);
		expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_ENABLE, 2) == 0,
		       "a queue past num_queues was enabled");
		outw(d->notify, sels[i]);
	}
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, 0);
	expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_SIZE, 2) == VIRTQ_MAX_SIZE &&
		       virtio_cc_read(d, VIRTIO_CC_QUEUE_DESC, 4) == 0 &&
		       virtio_cc_read(d, VIRTIO_CC_QUEUE_ENABLE, 2) == 0,
	       "queue 0 changed through another select");
}

/* BARs sized, moved inside and outside the window, onto RAM, onto the
 * local APIC and onto COM1, while decoding is on; absent BARs; decoding
 * turned off. */
static void atk_bar_moves(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	unsigned slot = d->slot;
	uint32_t bar0 = pci_config_read(slot, PCI_CFG_BAR0, 4);
	uint32_t bar2 = pci_config_read(slot, PCI_CFG_BAR0 + 8, 4);
	uint32_t nq_off = VIRTIO_CC_NUM_QUEUES + (d->common - d->bar[0]);
	uint32_t lapic_version = *lapic_reg(LAPIC_VERSION);

	pci_config_write(slot, PCI_CFG_BAR0, 4, 0xffffffffu);
	expect(pci_config_read(slot, PCI_CFG_BAR0, 4) == (uint32_t)-BAR_REGS_SIZE,
	       "BAR 0 does not size as 16 KiB of memory");
	expect(mmio_read(d->common + VIRTIO_CC_NUM_QUEUES, 2) == 0xffff,
	       "BAR 0 still decodes at its old address");
	pci_config_write(slot, PCI_CFG_BAR0 + 8, 4, 0xffffffffu);
	expect(pci_config_read(slot, PCI_CFG_BAR0 + 8, 4) == 0xfffffffdu,
	       "BAR 2 does not size as 4 I/O ports");

	/* Elsewhere in the window: the registers follow. */
	pci_config_write(slot, PCI_CFG_BAR0, 4, d->bar[0] + 0x100000);
	expect(mmio_read(d->bar[0] + 0x100000 + nq_off, 2) == t->nqueues,
	       "BAR 0 moved in the window does not decode");
	/* Onto RAM: RAM stays RAM. */
	bar_shadow[nq_off] = 0x5a;
	pci_config_write(slot, PCI_CFG_BAR0, 4, addr_of(bar_shadow));
	expect(mmio_read(addr_of(bar_shadow) + nq_off, 1) == 0x5a, "a BAR shadowed RAM");
	/* Onto the local APIC: it stays the local APIC. */
	pci_config_write(slot, PCI_CFG_BAR0, 4, LAPIC_BASE);
	expect(*lapic_reg(LAPIC_VERSION) == lapic_version, "a BAR shadowed the local APIC");
	/* The notify port onto COM1: COM1 stays the UART. */
	pci_config_write(slot, PCI_CFG_BAR0 + 8, 4, 0x3f8 | 1);
	expect(inb(0x3fb) == 0x03, "a BAR shadowed COM1"); /* its LCR: 8N1 */
	/* The notify port elsewhere in the I/O window: notifications there
	 * work (checked with a request below). */
	pci_config_write(slot, PCI_CFG_BAR0, 4, bar0);
	pci_config_write(slot, PCI_CFG_BAR0 + 8, 4, d->bar[2] + 0x80);
	uint16_t notify = d->notify;
	d->notify = (uint16_t)(notify + 0x80);
	outw(notify, 0); /* nothing decodes the old port now */
	std_setup(t);
	if (t->dev.device_id == VIRTIO_PCI_DEVICE_BLK) {
		blk_chain(&t->q[0], BLK_T_IN, 0, addr_of(data), SECTOR);
		expect(blk_submit(&t->q[0], SECTOR + 1) == BLK_S_OK,
		       "a request through the moved notify port failed");
	}
	d->notify = notify;
	/* BARs the function does not have read 0 whatever is written. */
	for (unsigned b = 1; b < 6; b++) {
		if (b == 2)
			continue;
		pci_config_write(slot, PCI_CFG_BAR0 + 4 * b, 4, 0xffffffffu);
		expect(pci_config_read(slot, PCI_CFG_BAR0 + 4 * b, 4) == 0, "an absent BAR sizes");
	}
	/* Memory decoding off: the registers are gone until it is on. */
	pci_config_write(slot, PCI_CFG_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	expect(mmio_read(d->common + VIRTIO_CC_NUM_QUEUES, 2) == 0xffff,
	       "BAR 0 decodes with memory decoding off");
	pci_config_write(slot, PCI_CFG_BAR0 + 8, 4, bar2);
	pci_config_write(slot, PCI_CFG_COMMAND, 2,
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	expect(mmio_read(d->common + VIRTIO_CC_NUM_QUEUES, 2) == t->nqueues,
	       "BAR 0 does not decode after the moves");
}

/* Garbage in the MSI-X table (and past it), the PBA written, vectors
 * that do not exist, then MSI-X on with messages that go nowhere: outside
 * the interrupt window, or in it with delivery modes a device cannot use
 * (ExtINT, INIT, SMI), unmasked. A request then sends one. */
static void atk_msix_garbage(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	unsigned cap = d->msix_cap;

	expect(cap != 0, "no MSI-X capability");
	if (!cap)
		return;
	unsigned nvec = (pci_config_read(d->slot, cap + MSIX_CTRL, 2) & 0x7ff) + 1;
	uint32_t pba_reg = pci_config_read(d->slot, cap + MSIX_PBA, 4);
	uint32_t pba = d->bar[pba_reg & 7] + (pba_reg & ~7u);
	for (unsigned off = 0; off < 32 * MSIX_ENTRY; off += 4)
		mmio_write(d->msix_table + off, 4, 0xdeadbeefu ^ off * 0x01010101u);
	for (unsigned off = 0; off < 8; off++)
		mmio_write(pba + off, 1, 0xff);
	expect(mmio_read(pba, 4) == 0, "the PBA was writable");

	static const uint32_t entries[][4] = {
		{ 0xfeeff000u, 0, 0x0000c730u, 0xfffffffeu }, /* ExtINT, level */
		{ 0xdeadbee0u, 0, 0x00004041u, 0 },	      /* outside the window */
		{ 0xfee0000cu, 0, 0x00000531u, 0 },	      /* INIT */
		{ 0xfee00000u, 0, 0x00000232u, 0 },	      /* SMI */
	};
	for (unsigned v = 0; v < nvec; v++)
		for (unsigned w = 0; w < 4; w++)
			mmio_write(d->msix_table + v * MSIX_ENTRY + 4 * w, 4, entries[v % 4][w]);
	virtio_cc_write(d, VIRTIO_CC_CONFIG_MSIX_VECTOR, 2, 0x1234);
	expect(virtio_cc_read(d, VIRTIO_CC_CONFIG_MSIX_VECTOR, 2) == VIRTIO_NO_VECTOR,
	       "a config vector past the table was accepted");
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, 0);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2, nvec);
	expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2) == VIRTIO_NO_VECTOR,
	       "a queue vector past the table was accepted");
	virtio_cc_write(d, VIRTIO_CC_CONFIG_MSIX_VECTOR, 2, 0);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2, nvec - 1);
	pci_config_write(d->slot, cap + MSIX_CTRL, 2, MSIX_ENABLE);
	std_setup(t);
	struct virtq *q = &t->q[t->attack_queue];
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, (uint16_t)t->attack_queue);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2, nvec - 1);
	good_chain(t, q);
	virtq_post(q, 0);
	virtq_notify(q);
	expect(virtq_used_idx(q) == 1, "a request with MSI-X on did not complete");
	pci_config_write(d->slot, cap + MSIX_CTRL, 2, MSIX_ENABLE | 0x4000);
	pci_config_write(d->slot, cap + MSIX_CTRL, 2, 0);
}

/* Every byte of the function's configuration space written (all ones,
 * zeros, bytes, words, accesses straddling the data port), then restored
 * from a snapshot: what is read-only must have kept its value. Also the
 * host bridge, an empty slot, another bus and another function. */
static bool sweep_restores(unsigned slot)
{
	uint32_t snap[64];

	for (unsigned off = 0; off < 256; off += 4)
		snap[off / 4] = pci_config_read(slot, off, 4);
	for (unsigned off = 0; off < 256; off += 4)
		pci_config_write(slot, off, 4, 0xffffffffu);
	for (unsigned off = 0; off < 256; off += 4)
		pci_config_write(slot, off, 4, 0);
	for (unsigned off = 0; off < 256; off++)
		pci_config_write(slot, off, 1, 0xa5);
	for (unsigned off = 0; off < 256; off += 2)
		pci_config_write(slot, off, 2, 0x5aa5);
	/* Wider than what is left of the data port. */
	outl(0xcf8, 0x80000000u | slot << 11 | 0xfc);
	outl(0xcfe, 0xffffffffu);
	outw(0xcff, 0xffff);
	(void)inl(0xcfd);
	bool ids = pci_config_read(slot, 0, 4) == snap[0] &&
		   pci_config_read(slot, 8, 4) == snap[2] &&
		   pci_config_read(slot, PCI_CFG_CAP_PTR, 1) == (snap[PCI_CFG_CAP_PTR / 4] & 0xff);
	for (unsigned off = 0; off < 256; off += 4)
		pci_config_write(slot, off, 4, snap[off / 4]);
	for (unsigned off = 0; off < 256; off += 4)
		if (pci_config_read(slot, off, 4) != snap[off / 4])
			return false;
	return ids;
}

static void atk_config_sweep(struct target *t)
{
	std_setup(t);
	expect(sweep_restores(t->dev.slot), "configuration space did not restore");
	expect(sweep_restores(0), "the host bridge did not restore");
	for (unsigned off = 0; off < 256; off += 4)
		pci_config_write(PCI_SLOTS - 1, off, 4, 0);
	expect(pci_config_read(PCI_SLOTS - 1, 0, 4) == 0xffffffffu, "an empty slot answers");
	outl(0xcf8, 0x80000000u | 1u << 16 | t->dev.slot << 11);
	outl(0xcfc, 0);
	expect(inl(0xcfc) == 0xffffffffu, "bus 1 answers");
	outl(0xcf8, 0x80000000u | t->dev.slot << 11 | 1u << 8);
	outl(0xcfc, 0);
	expect(inl(0xcfc) == 0xffffffffu, "function 1 answers");
	/* Queue state survived config-space writes that were restored. */
	expect(virtio_cc_read(&t->dev, VIRTIO_CC_QUEUE_ENABLE, 2) == 1, "the queue was disabled");
}

/* The PCI-config-access capability (4.1.4.9): a window onto the BARs
 * through configuration space, pointed at registers, past the BAR, at
 * BARs that do not exist, with bad lengths. */
static void atk_config_window(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	unsigned slot = d->slot, at = pci_config_read(slot, PCI_CFG_CAP_PTR, 1), cap = 0;

	for (unsigned n = 0; at && n < 48; n++) {
		if (pci_config_read(slot, at, 1) == PCI_CAP_VENDOR &&
		    pci_config_read(slot, at + 3, 1) == CAP_PCI_CFG)
			cap = at;
		at = pci_config_read(slot, at + 1, 1);
	}
	expect(cap != 0, "no PCI-config-access capability");
	if (!cap)
		return;
	std_setup(t);
	uint32_t cc = d->common - d->bar[0];
	/* A legitimate read: num_queues. */
	pci_config_write(slot, cap + CAP_BAR, 1, 0);
	pci_config_write(slot, cap + CAP_OFFSET, 4, cc + VIRTIO_CC_NUM_QUEUES);
	pci_config_write(slot, cap + CAP_LENGTH, 4, 2);
	expect((pci_config_read(slot, cap + CAP_DATA, 4) & 0xffff) == t->nqueues,
	       "the window does not read num_queues");
	static const struct {
		uint8_t bar;
		uint32_t offset, length;
	} bad[] = {
		{ 0, 0xfffffffcu, 4 }, { 0, 0x3ffe, 4 }, { 0, 0x12, 3 }, { 0, 0, 0xffffffffu },
		{ 5, 0, 4 },	       { 0xff, 0, 4 },	 { 2, 1, 2 },	 { 0, 0x3000, 4 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pci_config_write(slot, cap + CAP_BAR, 1, bad[i].bar);
		pci_config_write(slot, cap + CAP_OFFSET, 4, bad[i].offset);
		pci_config_write(slot, cap + CAP_LENGTH, 4, bad[i].length);
		(void)pci_config_read(slot, cap + CAP_DATA, 4);
		pci_config_write(slot, cap + CAP_DATA, 4, 0xffffffffu);
	}
	/* A notification for a queue that does not exist, through BAR 2. */
	pci_config_write(slot, cap + CAP_BAR, 1, 2);
	pci_config_write(slot, cap + CAP_OFFSET, 4, 0);
	pci_config_write(slot, cap + CAP_LENGTH, 4, 2);
	pci_config_write(slot, cap + CAP_DATA, 2, 7);
	/* A device reset through the window: status 0. */
	pci_config_write(slot, cap + CAP_BAR, 1, 0);
	pci_config_write(slot, cap + CAP_OFFSET, 4, cc + VIRTIO_CC_DEVICE_STATUS);
	pci_config_write(slot, cap + CAP_LENGTH, 4, 1);
	pci_config_write(slot, cap + CAP_DATA, 1, 0);
	expect(virtio_status(d) == 0, "a reset through the window did not reset");
	pci_config_write(slot, cap + CAP_OFFSET, 4, 0);
	pci_config_write(slot, cap + CAP_LENGTH, 4, 0);
	/* A disabled MSI-X table written through the window stays harmless. */
	for (unsigned off = 0; off < 0x40; off += 4) {
		pci_config_write(slot, cap + CAP_OFFSET, 4, 0x3000 + off);
		pci_config_write(slot, cap + CAP_LENGTH, 4, 4);
		pci_config_write(slot, cap + CAP_DATA, 4, 0xfee00000u + off);
	}
	pci_config_write(slot, cap + CAP_OFFSET, 4, 0);
	pci_config_write(slot, cap + CAP_LENGTH, 4, 0);
}

/* ---- virtio-net: frames the device must drop without breaking ---- */

/* ---- MMIO by every instruction form a driver might use ---- */

static void atk_mmio_insn_forms(struct target *t)
{
	struct virtio_pci *d = &t->dev;
	volatile uint16_t *qs = (volatile uint16_t *)(d->common + VIRTIO_CC_QUEUE_SELECT);
	volatile uint8_t *st = (volatile uint8_t *)(d->common + VIRTIO_CC_DEVICE_STATUS);
	volatile uint32_t *dfs = (volatile uint32_t *)(d->common + VIRTIO_CC_DEVICE_FEATURE_SELECT);
	volatile uint32_t *capacity = (volatile uint32_t *)d->device;
	uint32_t r = 0x0007, z;
	int32_t sx;
	uint8_t flag;

	virtio_reset(d);
	__asm__ volatile("movw $0x1234, %0" : "+m"(*qs));
	__asm__ volatile("xchgw %w0, %1" : "+r"(r), "+m"(*qs));
	expect((r & 0xffff) == 0x1234 && virtio_cc_read(d, VIRTIO_CC_QUEUE_SELECT, 2) == 7,
	       "MOV imm16 / XCHG on MMIO");
	__asm__ volatile("movw $0x80f0, %0" : "+m"(*qs));
	__asm__ volatile("movzwl %1, %0" : "=r"(z) : "m"(*qs));
	expect(z == 0x80f0, "MOVZX from MMIO");
	__asm__ volatile("movsbl %1, %0" : "=r"(sx) : "m"(*(volatile uint8_t *)qs));
	expect(sx == -16, "MOVSX byte from MMIO");
	__asm__ volatile("movswl %1, %0" : "=r"(sx) : "m"(*qs));
	expect(sx == (int32_t)0xffff80f0, "MOVSX word from MMIO");
	__asm__ volatile("andw $0x00ff, %0" : "+m"(*qs) : : "cc");
	__asm__ volatile("addw $0x10, %0" : "+m"(*qs) : : "cc");
	__asm__ volatile("cmpw $0x100, %1; sete %0" : "=q"(flag) : "m"(*qs) : "cc");
	expect(flag, "AND / ADD / CMP on MMIO");
	__asm__ volatile("testw $0x100, %1; setnz %0" : "=q"(flag) : "m"(*qs) : "cc");
	expect(flag, "TEST on MMIO");
	__asm__ volatile("movw $0, %0" : "+m"(*qs));
	__asm__ volatile("orb $1, %0" : "+m"(*st) : : "cc");
	__asm__ volatile("lock orb $2, %0" : "+m"(*st) : : "cc");
	__asm__ volatile("xorb $0, %0" : "+m"(*st) : : "cc");
	expect(virtio_status(d) == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER),
	       "OR / LOCK OR / XOR on the status byte");
	__asm__ volatile("movl $1, %0" : "+m"(*dfs));
	expect(virtio_cc_read(d, VIRTIO_CC_DEVICE_FEATURE, 4) == 1, "MOV imm32 to MMIO");
	__asm__ volatile("subl $1, %0" : "+m"(*dfs) : : "cc");
	expect(virtio_cc_read(d, VIRTIO_CC_DEVICE_FEATURE_SELECT, 4) == 0, "SUB on MMIO");
	__asm__ volatile("cmpl $%c2, %1; sete %0"
			 : "=q"(flag)
			 : "m"(*capacity), "i"(DISK_SECTORS)
			 : "cc");
	expect(flag, "CMP with the device configuration");
	__asm__ volatile("movl %1, %%eax; movl %%eax, %0" : "=r"(z) : "m"(*capacity) : "eax");
	expect(z == DISK_SECTORS, "MOV to EAX from MMIO");
}

static void atk_tx_short_frame(struct target *t)
{
	struct virtq *q = attack_q(t);
	expect(net_send(q, NET_HDR + 2, 1), "a short frame was not returned");
}

static void atk_tx_oversized_frame(struct target *t)
{
	struct virtq *q = attack_q(t);
	expect(net_send(q, sizeof(frame), 3), "an oversized frame was not returned");
}

/* ---- the list ---- */

static const struct attack blk_attacks[] = {
	{ "desc-outside-ram", true, atk_desc_outside_ram },
	{ "desc-at-ram-end", true, atk_desc_at_ram_end },
	{ "desc-wraps-2^64", true, atk_desc_wraps },
	{ "desc-above-4g", true, atk_desc_above_4g },
	{ "desc-huge-len", true, atk_desc_huge_len },
	{ "chain-self-loop", true, atk_chain_self_loop },
	{ "chain-loop-a-b-a", true, atk_chain_loop_ab },
	{ "chain-longer-than-queue", true, atk_chain_longer_than_queue },
	{ "chain-over-64", true, atk_chain_over_64 },
	{ "next-beyond-queue", true, atk_next_beyond_queue },
	{ "next-0xffff", true, atk_next_ffff },
	{ "head-beyond-queue", true, atk_head_beyond_queue },
	{ "head-0xffff", true, atk_head_ffff },
	{ "readable-after-writable", true, atk_readable_after_writable },
	{ "indirect", true, atk_indirect },
	{ "avail-idx-far-ahead", true, atk_avail_far_ahead },
	{ "avail-idx-size-plus-one", true, atk_avail_size_plus_one },
	{ "no-status-byte", true, atk_no_status_byte },
	{ "short-header", true, atk_short_header },
	{ "data-over-avail-ring", true, atk_data_over_avail_ring },
	{ "dead-after-break", true, atk_dead_after_break },
	{ "ring-desc-outside-ram", true, atk_ring_desc_outside_ram },
	{ "ring-desc-wraps", true, atk_ring_desc_wraps },
	{ "ring-avail-outside-ram", true, atk_ring_avail_outside_ram },
	{ "ring-used-above-4g", true, atk_ring_used_above_4g },
	{ "ring-used-event-past-end", true, atk_ring_used_event_past_end },
	{ "ring-desc-misaligned", true, atk_ring_desc_misaligned },
	{ "ring-avail-misaligned", true, atk_ring_avail_misaligned },
	{ "ring-used-misaligned", true, atk_ring_used_misaligned },
	{ "queue-size-3", true, atk_queue_size_3 },
	{ "queue-size-0", true, atk_queue_size_0 },
	{ "queue-size-512", true, atk_queue_size_512 },
	{ "common-cfg-sweep", true, atk_common_sweep },
	{ "zero-len-desc-wild-addr", false, atk_zero_len_wild_addr },
	{ "rings-at-ram-end", false, atk_rings_at_ram_end },
	{ "rings-aliased", false, atk_rings_aliased },
	{ "bad-requests", false, atk_bad_requests },
	{ "notify-storm", false, atk_notify_storm },
	{ "read-only-fields", false, atk_read_only_fields },
	{ "feature-selects", false, atk_feature_selects },
	{ "queue-selects", false, atk_queue_selects },
	{ "bar-moves", false, atk_bar_moves },
	{ "msix-garbage", false, atk_msix_garbage },
	{ "config-sweep", false, atk_config_sweep },
	{ "config-window", false, atk_config_window },
	{ "mmio-insn-forms", false, atk_mmio_insn_forms },
};

static const struct attack net_attacks[] = {
	{ "tx-desc-outside-ram", true, atk_desc_outside_ram },
	{ "tx-desc-wraps-2^64", true, atk_desc_wraps },
	{ "tx-chain-loop-a-b-a", true, atk_chain_loop_ab },
	{ "tx-head-beyond-queue", true, atk_head_beyond_queue },
	{ "tx-avail-idx-far-ahead", true, atk_avail_far_ahead },
	{ "rx-ring-outside-ram", true, atk_rx_ring_outside_ram },
	{ "tx-short-frame", false, atk_tx_short_frame },
	{ "tx-oversized-frame", false, atk_tx_oversized_frame },
	{ "notify-storm", false, atk_notify_storm },
	{ "msix-garbage", false, atk_msix_garbage },
};

static const struct attack rx_attacks[] = {
	{ "rx-buffer-outside-ram", true, atk_rx_buffer_outside_ram },
	{ "rx-buffer-readable", true, atk_rx_buffer_readable },
	{ "rx-buffer-shorter-than-header", true, atk_rx_buffer_shorter_than_header },
	{ "rx-chain-loop", true, atk_rx_chain_loop },
	{ "rx-header-split", false, atk_rx_header_split },
	{ "rx-truncated", false, atk_rx_truncated },
	{ "rx-merge-tiny-buffers", false, atk_rx_merge_tiny_buffers },
	{ "rx-merge-runs-out", false, atk_rx_merge_runs_out },
	{ "rx-merge-readable-buffer", false, atk_rx_merge_readable_buffer },
};

static void run_attack(struct target *t, const struct attack *a)
{
	struct virtio_pci *d = &t->dev;

	failure = NULL;
	attacks++;
	expect(virtio_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
					   VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) == 0,
	       "negotiation failed");
	uint8_t generation = (uint8_t)virtio_cc_read(d, VIRTIO_CC_CONFIG_GENERATION, 1);
	(void)mmio_read(d->isr, 1); /* reading clears it */

	a->run(t);

	uint8_t status = virtio_status(d);
	if (a->breaks) {
		expect(status & VIRTIO_STATUS_NEEDS_RESET, "no DEVICE_NEEDS_RESET");
		expect(mmio_read(d->isr, 1) & ISR_CONFIG, "no configuration-change ISR bit");
		expect((uint8_t)virtio_cc_read(d, VIRTIO_CC_CONFIG_GENERATION, 1) != generation,
		       "config generation unchanged");
	} else {
		expect(!(status & VIRTIO_STATUS_NEEDS_RESET), "DEVICE_NEEDS_RESET set");
	}
	/* Reset: all fresh again (4.1.4.3.1). */
	expect(virtio_reset(d) == 0, "status does not read 0 after reset");
	for (unsigned i = 0; i < t->nqueues; i++) {
		virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, i);
		expect(virtio_cc_read(d, VIRTIO_CC_QUEUE_ENABLE, 2) == 0 &&
			       virtio_cc_read(d, VIRTIO_CC_QUEUE_SIZE, 2) == VIRTQ_MAX_SIZE,
		       "a queue is not fresh after reset");
	}
	bool recovered = t->valid(t);
	expect(recovered, "the valid request after reset failed");
	if (failure) {
		failed++;
		printf("VQHOSTILE: %s %s: FAILED: %s\n", t->name, a->name, failure);
	} else {
		printf("VQHOSTILE: %s %s: %s, recovered\n", t->name, a->name,
		       a->breaks ? "needs reset" : "no reset");
	}
}

static uint32_t top_of_ram(const struct boot_params *bp)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < bp->nusable && i < BOOT_MAX_RANGES; i++)
		if (bp->usable[i].end > top)
			top = bp->usable[i].end;
	return (uint32_t)below_4g(top);
}

/* Whether the program may overwrite [start, end). */
static bool is_free(const struct boot_params *bp, uint32_t start, uint32_t end)
{
	struct free_ranges fr;
	if (free_ranges_find(bp, &fr))
		return false;
	for (unsigned i = 0; i < fr.n; i++)
		if (fr.range[i].start <= start && end <= fr.range[i].end)
			return true;
	return false;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	static struct target blk = { .name = "vda", .nqueues = 1, .valid = blk_valid };
	static struct target eth[2] = {
		{ .name = "eth0", .nqueues = 2, .attack_queue = NET_TX, .valid = net_valid },
		{ .name = "eth1", .nqueues = 2, .attack_queue = NET_RX, .valid = rx_valid },
	};

	if (boot_params_parse(magic, info, &bp) || !hypervisor_present()) {
		printf("VQHOSTILE: needs Multiboot and pgvisor\n");
		return EXIT_FAILED;
	}
	const char *delay = cmdline_option(bp.cmdline, "delay");
	for (uint32_t turns = delay ? parse_uint(delay) : 0; turns; turns--)
		__asm__ volatile("" : "+r"(turns));
	ram_end = top_of_ram(&bp);
	if (!is_free(&bp, ram_end - 0x1000, ram_end)) {
		printf("VQHOSTILE: the last page of RAM (0x%08x) is not free\n", ram_end);
		return EXIT_FAILED;
	}
	if (virtio_pci_find(VIRTIO_PCI_DEVICE_BLK, 0, &blk.dev)) {
		printf("VQHOSTILE: no virtio-blk device\n");
		return EXIT_FAILED;
	}
	unsigned nics = 0;
	while (nics < 2 && virtio_pci_find(VIRTIO_PCI_DEVICE_NET, nics, &eth[nics].dev) == 0)
		nics++;
	printf("VQHOSTILE: ram ends at 0x%08x; vda at 00:%02x.0 bar0 0x%08x notify 0x%x", ram_end,
	       blk.dev.slot, blk.dev.bar[0], blk.dev.notify);
	for (unsigned i = 0; i < nics; i++)
		printf("; %s at 00:%02x.0 bar0 0x%08x notify 0x%x", eth[i].name, eth[i].dev.slot,
		       eth[i].dev.bar[0], eth[i].dev.notify);
	printf("\n");

	for (unsigned i = 0; i < sizeof(blk_attacks) / sizeof(blk_attacks[0]); i++)
		run_attack(&blk, &blk_attacks[i]);
	/* eth0 transmits; with a second NIC on its bridge eth1 receives what
	 * eth0 sends. */
	for (unsigned i = 0; nics && i < sizeof(net_attacks) / sizeof(net_attacks[0]); i++)
		run_attack(&eth[0], &net_attacks[i]);
	sender = &eth[0];
	receiver = &eth[1];
	/* eth0's broadcasts wait in eth1's port: take them first, so each
	 * attack meets only the frame it sends. */
	if (nics == 2 && !rx_valid(&eth[1])) {
		printf("VQHOSTILE: eth1 cannot receive from eth0\n");
		failed++;
	}
	for (unsigned i = 0; nics == 2 && i < sizeof(rx_attacks) / sizeof(rx_attacks[0]); i++)
		run_attack(&eth[1], &rx_attacks[i]);

	/* The last word: sector 0 as the disk holds it. */
	bool final_ok = blk_valid(&blk);
	if (final_ok) {
		printf("VQHOSTILE: done %u attacks, %u failed, final read ok:", attacks, failed);
		for (unsigned i = 0; i < 16; i++)
			printf(" %02x", data[i]);
		printf("\n");
	} else {
		printf("VQHOSTILE: done %u attacks, %u failed, final read FAILED\n", attacks,
		       failed);
	}
	virtio_reset(&blk.dev);
	for (unsigned i = 0; i < nics; i++)
		virtio_reset(&eth[i].dev);
	return final_ok && !failed ? 0 : EXIT_FAILED;
}
