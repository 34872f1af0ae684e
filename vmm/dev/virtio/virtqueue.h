/* Split virtqueues (virtio 1.2, 2.7), the device side: the driver offers
 * descriptor chains in the available ring, the device takes them, does the
 * work and returns each head in the used ring.
 *
 * Every value in the rings is the guest's and is checked here: a ring or a
 * descriptor outside the VM's RAM, a head or next index beyond the queue,
 * a chain that loops or is longer than VIRTQ_MAX_SEGS, a readable
 * descriptor after a writable one, or an avail index that runs more than a
 * queue ahead of the device makes the queue "broken" (the device then sets
 * DEVICE_NEEDS_RESET): never a byte outside the VM. A broken queue stays
 * broken until virtq_reset: pop answers VIRTQ_BROKEN, push and the
 * interrupt and notify calls do nothing. A zero-length descriptor is
 * valid: it counts towards the chain length and the readable-then-writable
 * order, but gives no segment and its address is not checked.
 *
 * The rings live in guest RAM, which is one contiguous block of host memory
 * (ram, ram_size), so a checked guest-physical range is a host pointer
 * and the backends copy straight from and to it. */
#ifndef PGVISOR_VIRTQUEUE_H
#define PGVISOR_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmx/dirty_log.h"

#define VIRTQ_MAX_SIZE 256 /* the queue size a device offers (QUEUE_SIZE) */
#define VIRTQ_MAX_SEGS 64  /* descriptors in one chain */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4 /* never offered: VIRTIO_F_INDIRECT_DESC is off */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* One queue as the driver configured it through the transport. */
struct virtq {
	uint16_t size;	      /* a power of two, at most VIRTQ_MAX_SIZE */
	bool ready;	      /* queue_enable was written 1 */
	bool event_idx;	      /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool broken;	      /* a guest value was invalid: nothing more is taken */
	uint16_t msix_vector; /* the transport's; 0xffff: none */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail; /* the next available-ring entry to take */
	uint16_t used_idx;   /* the next used-ring entry to fill */
	uint16_t signalled;  /* used_idx when the driver was last interrupted */
	uint8_t *ram;	     /* guest-physical 0 in host memory */
	uint64_t ram_size;
	/* The VM's dirty log (NULL: none): the frames the device writes,
	 * used ring and device-writable buffers, are noted in it. */
	struct dirty_log *dirty;
};

/* A segment of a chain: a checked host pointer into guest RAM. */
struct virtq_seg {
	uint8_t *host;
	uint32_t len;
};

/* One chain: its readable (out) segments first, then its writable (in)
 * ones, as the spec orders them (2.7.4.1). */
struct virtq_req {
	uint16_t head;
	uint16_t nout, nin;
	uint64_t out_len, in_len;	      /* bytes, summed */
	struct virtq_seg seg[VIRTQ_MAX_SEGS]; /* out segments, then in */
};

enum virtq_pop_result {
	VIRTQ_EMPTY,  /* nothing available */
	VIRTQ_OK,     /* *req holds a chain */
	VIRTQ_BROKEN, /* the queue is broken; why says how */
};

/* Resets the queue to the state after a device reset (size keeps max);
 * the device's writes into RAM are noted in dirty (NULL: nowhere). */
void virtq_reset(struct virtq *q, uint8_t *ram, uint64_t ram_size, struct dirty_log *dirty);
/* Checks the three ring areas (alignment, inside RAM) once the driver sets
 * the queue ready; 0 (the queue is ready), or -1 with *why (it is broken). */
int virtq_enable(struct virtq *q, const char **why);
/* Takes the next available chain. With EVENT_IDX it also publishes
 * avail_event, so the driver notifies again only for chains after it.
 * The chain's writable segments are noted dirty here: the device fills
 * them before it next returns to the scheduler, where the log is taken. */
enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_req *req, const char **why);
/* Whether a chain waits (a cheap look at the avail index). */
bool virtq_has_work(const struct virtq *q);
/* Returns a chain: written bytes were stored into its in segments. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
/* Whether the driver wants an interrupt for the chains pushed since the
 * last call that returned true (used_event with EVENT_IDX, otherwise the
 * NO_INTERRUPT flag; virtio 1.2, 2.7.7). */
bool virtq_should_interrupt(struct virtq *q);
/* Tells the driver whether to notify (VIRTQ_USED_F_NO_NOTIFY) when the
 * queue is not in EVENT_IDX mode: a device draining a queue turns
 * notifications off, then on again before its last look. */
void virtq_set_notify(struct virtq *q, bool on);

/* A queue loaded from a state stream, once the guest's RAM is in place:
 * a live one (ready, not broken) must have its used ring's idx where the
 * device left it and its avail idx at most a queue ahead of what the
 * device took. 0, or -1 with *why. */
int virtq_check_loaded(const struct virtq *q, const char **why);

/* Copies up to len bytes from the chain's out segments, starting offset
 * bytes in; returns how many were copied. */
uint64_t virtq_copy_from(const struct virtq_req *req, uint64_t offset, void *dst, uint64_t len);
/* Copies up to len bytes into the chain's in segments, starting offset
 * bytes in; returns how many were copied. */
uint64_t virtq_copy_to(const struct virtq_req *req, uint64_t offset, const void *src, uint64_t len);

#endif
