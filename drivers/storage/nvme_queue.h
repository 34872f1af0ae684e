/* One NVMe submission queue and its completion queue as pgvisor uses them
 * (NVMe 1.4, 4.1, 4.6): entries copied in at the tail and the tail doorbell
 * rung; completions found by their phase tag, which flips each time the
 * head wraps, and the head doorbell rung as they are consumed. Memory and
 * two doorbell registers, so the host unit tests run it against a fake. */
#ifndef PGVISOR_NVME_QUEUE_H
#define PGVISOR_NVME_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/storage/nvme_cmd.h"

struct nvme_queue {
	struct nvme_sqe *sq;
	const volatile struct nvme_cqe *cq;
	uint16_t entries; /* of each queue */
	uint16_t sq_tail, sq_head, cq_head;
	uint16_t next_cid;
	uint16_t phase; /* the phase tag a new completion carries */
	volatile uint32_t *sq_doorbell, *cq_doorbell;
};

/* Byte offset of queue qid's SQ tail (cq false) or CQ head doorbell from the
 * registers' start, with CAP.DSTRD dstrd (3.1.24). */
unsigned nvme_doorbell_offset(uint16_t qid, bool cq, unsigned dstrd);

/* A fresh pair: both queues empty, the CQ zeroed (so no entry carries phase
 * 1, the first phase a controller writes). */
void nvme_queue_init(struct nvme_queue *q, struct nvme_sqe *sq, struct nvme_cqe *cq,
		     uint16_t entries, volatile uint32_t *sq_doorbell,
		     volatile uint32_t *cq_doorbell);
/* Gives e the next command identifier, queues it and rings the tail
 * doorbell; the CID, or -1 when the SQ is full. */
int nvme_queue_submit(struct nvme_queue *q, struct nvme_sqe *e);
/* Takes the next completion into *out when the controller has posted one:
 * advances the head (flipping the phase on wrap), notes how far the
 * controller has read the SQ, and rings the head doorbell. */
bool nvme_queue_reap(struct nvme_queue *q, struct nvme_cqe *out);

#endif
