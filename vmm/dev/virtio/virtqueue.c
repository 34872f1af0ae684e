/* Split virtqueues, the device side (virtio 1.2, 2.7).
 *
 * The rings are in guest RAM, which the guest's vCPUs write from other CPUs
 * while we read. So every shared field is read once, with an atomic load,
 * into a local that is checked and then used; ring indices and descriptor
 * contents are never fetched twice. x86 is little-endian like the rings,
 * so the le16/le32/le64 fields load as they are. */
#include "vmm/dev/virtio/virtqueue.h"

#include <stddef.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

#define VIRTQ_NO_VECTOR 0xffff /* VIRTIO_MSI_NO_VECTOR (4.1.5.1.2) */

/* The layout of the three parts (2.7.5, 2.7.6, 2.7.8); the variable parts
 * (ring entries, used_event, avail_event) are reached by offset. */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

#define RING_HDR 4 /* le16 flags; le16 idx */
#define RING_FLAGS_OFF 0
#define RING_IDX_OFF 2
#define RING_EVENT_SIZE 2 /* used_event or avail_event after the ring */

/* Alignments of the parts (2.7, the table before 2.7.1). */
#define DESC_ALIGN 16
#define AVAIL_ALIGN 2
#define USED_ALIGN 4

_Static_assert(sizeof(struct vring_desc) == 16, "descriptor is 16 bytes (2.7.5)");
_Static_assert(sizeof(struct vring_used_elem) == 8, "used element is 8 bytes (2.7.8)");
_Static_assert(VIRTQ_MAX_SIZE <= 32768 && (VIRTQ_MAX_SIZE & (VIRTQ_MAX_SIZE - 1)) == 0,
	       "queue size is a power of two of at most 32768 (2.7)");

static inline uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static inline void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

/* The parts; only valid once virtq_enable checked them. */
static inline uint8_t *avail(const struct virtq *q)
{
	return q->ram + q->avail_gpa;
}

static inline uint8_t *used(const struct virtq *q)
{
	return q->ram + q->used_gpa;
}

static inline uint16_t *avail_ring(const struct virtq *q)
{
	return (uint16_t *)(avail(q) + RING_HDR);
}

static inline uint16_t *used_event(const struct virtq *q)
{
	return (uint16_t *)(avail(q) + RING_HDR + sizeof(uint16_t) * q->size);
}

static inline struct vring_used_elem *used_ring(const struct virtq *q)
{
	return (struct vring_used_elem *)(used(q) + RING_HDR);
}

static inline uint16_t *avail_event(const struct virtq *q)
{
	return (uint16_t *)(used(q) + RING_HDR + sizeof(struct vring_used_elem) * q->size);
}

/* The avail index with acquire ordering: ring entries and descriptors the
 * driver wrote before raising it are visible after (2.7.13). */
static inline uint16_t avail_idx(const struct virtq *q)
{
	return __atomic_load_n((const uint16_t *)(avail(q) + RING_IDX_OFF), __ATOMIC_ACQUIRE);
}

/* [gpa, gpa + len) inside RAM, written so that no sum can wrap. */
static bool in_ram(const struct virtq *q, uint64_t gpa, uint64_t len)
{
	return len <= q->ram_size && gpa <= q->ram_size - len;
}

static bool aligned(const struct virtq *q, uint64_t gpa, uint64_t align)
{
	/* The host address too: the rings are accessed as host objects. */
	return ((uintptr_t)q->ram + gpa) % align == 0;
}

/* Marks the queue broken: from now on nothing is taken or returned. */
static enum virtq_pop_result broken(struct virtq *q, const char **why, const char *reason)
{
	q->broken = true;
	*why = reason;
	return VIRTQ_BROKEN;
}

void virtq_reset(struct virtq *q, uint8_t *ram, uint64_t ram_size, struct dirty_log *dirty)
{
	memset(q, 0, sizeof(*q));
	q->size = VIRTQ_MAX_SIZE;
	q->msix_vector = VIRTQ_NO_VECTOR;
	q->ram = ram;
	q->ram_size = ram_size;
	q->dirty = dirty;
}

/* The device wrote the used ring (an element, idx, flags or avail_event,
 * which lies right after it): its frames go to the dirty log. */
static void note_used(const struct virtq *q)
{
	dirty_log_note(q->dirty, q->used_gpa,
		       RING_HDR + sizeof(struct vring_used_elem) * q->size + RING_EVENT_SIZE);
}

int virtq_enable(struct virtq *q, const char **why)
{
	uint64_t n = q->size;
	const char *err = NULL;

	if (q->broken)
		err = "queue is broken until reset";
	else if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		err = "queue size is not a power of two up to " STR(VIRTQ_MAX_SIZE);
	else if (!aligned(q, q->desc_gpa, DESC_ALIGN))
		err = "descriptor table misaligned";
	else if (!aligned(q, q->avail_gpa, AVAIL_ALIGN))
		err = "available ring misaligned";
	else if (!aligned(q, q->used_gpa, USED_ALIGN))
		err = "used ring misaligned";
	/* The sizes of the table before 2.7.1, event fields included. */
	else if (!in_ram(q, q->desc_gpa, sizeof(struct vring_desc) * n))
		err = "descriptor table outside guest RAM";
	else if (!in_ram(q, q->avail_gpa, RING_HDR + sizeof(uint16_t) * n + RING_EVENT_SIZE))
		err = "available ring outside guest RAM";
	else if (!in_ram(q, q->used_gpa,
			 RING_HDR + sizeof(struct vring_used_elem) * n + RING_EVENT_SIZE))
		err = "used ring outside guest RAM";
	if (err) {
		q->ready = false;
		q->broken = true;
		*why = err;
		return -1;
	}
	q->ready = true;
	return 0;
}

bool virtq_has_work(const struct virtq *q)
{
	return q->ready && !q->broken && avail_idx(q) != q->last_avail;
}

/* Walks the chain at head into req; the queue's indices are untouched, so
 * a bad chain leaves nothing half-taken. */
static enum virtq_pop_result take_chain(struct virtq *q, uint16_t head, struct virtq_req *req,
					const char **why)
{
	const struct vring_desc *table = (const struct vring_desc *)(q->ram + q->desc_gpa);
	/* A chain has at most size descriptors (2.7.5.3), so one that goes
	 * on past that has visited some descriptor twice. */
	unsigned limit = q->size < VIRTQ_MAX_SEGS ? q->size : VIRTQ_MAX_SEGS;
	const char *too_long = q->size <= VIRTQ_MAX_SEGS
				       ? "descriptor chain loops"
				       : "descriptor chain loops or exceeds " STR(VIRTQ_MAX_SEGS);
	bool writable_seen = false;
	unsigned ndesc = 0;
	uint16_t i = head;
	struct vring_desc d;

	if (head >= q->size)
		return broken(q, why, "head index beyond the queue");
	req->head = head;
	req->nout = req->nin = 0;
	req->out_len = req->in_len = 0;
	do {
		const struct vring_desc *g = &table[i];
		bool writable;

		if (ndesc++ == limit)
			return broken(q, why, too_long);
		/* One fetch of each field: the checks and the use see the
		 * same value whatever the guest writes meanwhile. */
		d.addr = __atomic_load_n(&g->addr, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&g->len, __ATOMIC_RELAXED);
		d.flags = __atomic_load_n(&g->flags, __ATOMIC_RELAXED);
		d.next = __atomic_load_n(&g->next, __ATOMIC_RELAXED);
		writable = d.flags & VIRTQ_DESC_F_WRITE;

		/* VIRTIO_F_INDIRECT_DESC is not offered (2.7.5.3). */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return broken(q, why, "indirect descriptor (not negotiated)");
		/* Device-writable elements come last (2.7.4), empty ones
		 * included. */
		if (writable_seen && !writable)
			return broken(q, why, "readable descriptor after a writable one");
		writable_seen |= writable;
		if ((d.flags & VIRTQ_DESC_F_NEXT) && d.next >= q->size)
			return broken(q, why, "next index beyond the queue");
		/* An empty element touches no memory: it gives no segment and
		 * its address is not looked at. */
		if (!d.len) {
			i = d.next;
			continue;
		}
		if (!in_ram(q, d.addr, d.len))
			return broken(q, why, "descriptor outside guest RAM");
		/* Out segments are all in before the first in segment, so
		 * the in segments go straight after them. */
		req->seg[req->nout + req->nin] = (struct virtq_seg){ q->ram + d.addr, d.len };
		if (writable) {
			dirty_log_note(q->dirty, d.addr, d.len);
			req->nin++;
			req->in_len += d.len;
		} else {
			req->nout++;
			req->out_len += d.len;
		}
		i = d.next;
	} while (d.flags & VIRTQ_DESC_F_NEXT);
	return VIRTQ_OK;
}

enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_req *req, const char **why)
{
	enum virtq_pop_result r;
	uint16_t idx, pending, head;

	if (q->broken) {
		*why = "queue is broken until reset";
		return VIRTQ_BROKEN;
	}
	if (!q->ready)
		return VIRTQ_EMPTY;
	idx = avail_idx(q);
	if (idx == q->last_avail && q->event_idx) {
		/* About to go idle: ask for a notification for the next
		 * chain, then look again. The fence orders our avail_event
		 * store before the idx load, pairing with the driver's
		 * barrier between its idx store and avail_event load
		 * (2.7.13); without it both sides could miss the other. */
		store16(avail_event(q), q->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = avail_idx(q);
	}
	pending = (uint16_t)(idx - q->last_avail);
	if (!pending)
		return VIRTQ_EMPTY;
	/* The ring holds size entries: a driver cannot have more than that
	 * outstanding (2.7.13). */
	if (pending > q->size)
		return broken(q, why, "available index more than a queue ahead");
	head = load16(&avail_ring(q)[q->last_avail & (q->size - 1)]);
	r = take_chain(q, head, req, why);
	if (r != VIRTQ_OK)
		return r;
	q->last_avail++;
	/* The driver need not notify for chains before this one
	 * (2.7.10); a hint only, so no fence here. */
	if (q->event_idx) {
		store16(avail_event(q), q->last_avail);
		note_used(q);
	}
	return VIRTQ_OK;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	struct vring_used_elem *e;

	if (!q->ready || q->broken)
		return;
	e = &used_ring(q)[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element and the data written into the chain are
	 * visible before the new idx (2.7.8). */
	__atomic_store_n((uint16_t *)(used(q) + RING_IDX_OFF), q->used_idx, __ATOMIC_RELEASE);
	note_used(q);
}

/* Whether new_idx passed event since old (the spec's vring_need_event,
 * 2.7.7): the entry at index event was written in [old, new_idx). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_should_interrupt(struct virtq *q)
{
	uint16_t old = q->signalled, new_idx = q->used_idx;
	bool need;

	if (!q->ready || q->broken || old == new_idx)
		return false;
	/* The used idx store must be visible before we read the driver's
	 * suppression fields, or a driver re-enabling interrupts and then
	 * rechecking the used idx could be missed by both sides (Linux's
	 * virtio_mb before vring_need_event). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		need = need_event(load16(used_event(q)), new_idx, old);
	else
		need = !(load16(avail(q) + RING_FLAGS_OFF) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (need)
		q->signalled = new_idx;
	return need;
}

void virtq_set_notify(struct virtq *q, bool on)
{
	if (!q->ready || q->broken)
		return;
	if (q->event_idx) {
		/* With EVENT_IDX the flags stay 0 (2.7.10); avail_event
		 * says the next chain wants a notification. Turning it off
		 * is left to virtq_pop, which moves avail_event along. */
		if (!on)
			return;
		store16(avail_event(q), q->last_avail);
	} else {
		store16(used(q) + RING_FLAGS_OFF, on ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	}
	note_used(q);
	/* Turning on: the store before the caller's last look at the avail
	 * idx, or a chain posted in between goes unnoticed by both sides. */
	if (on)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int virtq_check_loaded(const struct virtq *q, const char **why)
{
	if (!q->ready || q->broken)
		return 0;
	if (load16(used(q) + RING_IDX_OFF) != q->used_idx)
		*why = "used ring index in guest RAM differs from the device's";
	else if ((uint16_t)(avail_idx(q) - q->last_avail) > q->size)
		*why = "available index more than a queue ahead of the device";
	else
		return 0;
	return -1;
}

/* Copies len bytes at most between the n segments at seg, starting offset
 * bytes into them, and dst (from the segments) or src (into them). */
static uint64_t copy_segs(const struct virtq_seg *seg, unsigned n, uint64_t offset, uint8_t *dst,
			  const uint8_t *src, uint64_t len)
{
	uint64_t done = 0;

	for (unsigned k = 0; k < n && done < len; k++) {
		uint64_t chunk;

		if (offset >= seg[k].len) {
			offset -= seg[k].len;
			continue;
		}
		chunk = seg[k].len - offset;
		if (chunk > len - done)
			chunk = len - done;
		if (dst)
			memcpy(dst + done, seg[k].host + offset, chunk);
		else
			memcpy(seg[k].host + offset, src + done, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

uint64_t virtq_copy_from(const struct virtq_req *req, uint64_t offset, void *dst, uint64_t len)
{
	return copy_segs(req->seg, req->nout, offset, dst, NULL, len);
}

uint64_t virtq_copy_to(const struct virtq_req *req, uint64_t offset, const void *src, uint64_t len)
{
	return copy_segs(req->seg + req->nout, req->nin, offset, NULL, src, len);
}
