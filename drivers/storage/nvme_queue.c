#include "drivers/storage/nvme_queue.h"

#include <string.h>

#define DOORBELL_BASE 0x1000	 /* SQ 0 tail doorbell (3.1, figure 78) */
#define DOORBELL_UNIT 4		 /* stride is 4 << CAP.DSTRD bytes (3.1.1) */
#define CID_SHIFT 16		 /* CDW0 31:16 (4.2, figure 105) */
#define CDW0_OPCODE_MASK 0xffffu /* opcode, fused, PSDT: below the CID */

/* Orders memory around the doorbell writes and the phase reads. */
static void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

unsigned nvme_doorbell_offset(uint16_t qid, bool cq, unsigned dstrd)
{
	return DOORBELL_BASE + (2u * qid + (cq ? 1 : 0)) * (DOORBELL_UNIT << dstrd);
}

void nvme_queue_init(struct nvme_queue *q, struct nvme_sqe *sq, struct nvme_cqe *cq,
		     uint16_t entries, volatile uint32_t *sq_doorbell,
		     volatile uint32_t *cq_doorbell)
{
	memset(q, 0, sizeof(*q));
	memset(cq, 0, sizeof(*cq) * entries);
	q->sq = sq;
	q->cq = cq;
	q->entries = entries;
	q->phase = NVME_STATUS_PHASE;
	q->sq_doorbell = sq_doorbell;
	q->cq_doorbell = cq_doorbell;
}

int nvme_queue_submit(struct nvme_queue *q, struct nvme_sqe *e)
{
	uint16_t next = (uint16_t)((q->sq_tail + 1) % q->entries);
	uint16_t cid = q->next_cid;

	if (next == q->sq_head)
		return -1;
	q->next_cid++;
	e->cdw0 = (e->cdw0 & CDW0_OPCODE_MASK) | (uint32_t)cid << CID_SHIFT;
	q->sq[q->sq_tail] = *e;
	q->sq_tail = next;
	barrier();
	*q->sq_doorbell = next;
	return cid;
}

bool nvme_queue_reap(struct nvme_queue *q, struct nvme_cqe *out)
{
	const volatile struct nvme_cqe *c = &q->cq[q->cq_head];

	if ((c->status & NVME_STATUS_PHASE) != q->phase)
		return false;
	barrier();
	out->dw0 = c->dw0;
	out->dw1 = c->dw1;
	out->sq_head = c->sq_head;
	out->sq_id = c->sq_id;
	out->cid = c->cid;
	out->status = c->status;
	q->sq_head = out->sq_head % q->entries;
	if (++q->cq_head == q->entries) {
		q->cq_head = 0;
		q->phase ^= NVME_STATUS_PHASE;
	}
	barrier();
	*q->cq_doorbell = q->cq_head;
	return true;
}
