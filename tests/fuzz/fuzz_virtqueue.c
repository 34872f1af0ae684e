/* libFuzzer harness: a split virtqueue (vmm/dev/virtio/virtqueue.c) over
 * guest RAM between guard pages, the guest writing ring and descriptor
 * bytes anywhere in it while the device takes chains, copies data in and
 * out and returns them, each step decoded from the input; the queue's
 * size, features and ring addresses come first. Every segment the device
 * hands out must lie in the RAM. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/virtio/virtqueue.h"

#define RAM_SIZE 0x10000u
#define SIZE_SHIFTS 10 /* queue sizes 1 to 512: one too big */
#define COPY_MAX 4096u

enum step { STEP_RAM, STEP_POP, STEP_NOTIFY, STEP_INTERRUPT, STEPS };

static void check_segments(const uint8_t *ram, const struct virtq_req *req)
{
	if (req->nout + req->nin > VIRTQ_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < req->nout + req->nin; i++) {
		const struct virtq_seg *s = &req->seg[i];
		if (s->host < ram || s->host > ram + RAM_SIZE ||
		    s->len > (size_t)(ram + RAM_SIZE - s->host))
			abort();
	}
}

/* The device's use of a chain: reads the request, writes a reply. */
static void serve(struct fuzz_in *in, struct virtq *q, const struct virtq_req *req)
{
	static uint8_t buf[COPY_MAX];
	uint64_t off = fuzz_u16(in), len = fuzz_u16(in) % COPY_MAX;

	virtq_copy_from(req, off, buf, len);
	uint64_t written = virtq_copy_to(req, fuzz_u16(in), buf, fuzz_u16(in) % COPY_MAX);
	virtq_push(q, req->head, (uint32_t)written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq q;
	static struct virtq_req req;
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t *ram = fuzz_guarded(RAM_SIZE);
	const char *why;

	virtq_reset(&q, ram, RAM_SIZE, NULL);
	q.size = (uint16_t)(1u << (fuzz_u8(&in) % SIZE_SHIFTS));
	q.event_idx = fuzz_u8(&in) & 1;
	q.desc_gpa = fuzz_u32(&in) % (2 * RAM_SIZE);
	q.avail_gpa = fuzz_u32(&in) % (2 * RAM_SIZE);
	q.used_gpa = fuzz_u32(&in) % (2 * RAM_SIZE);
	if (virtq_enable(&q, &why) == 0) {
		while (in.left) {
			switch (fuzz_u8(&in) % STEPS) {
			case STEP_RAM: {
				uint32_t gpa = fuzz_u16(&in);
				uint32_t len = fuzz_u8(&in);
				for (uint32_t i = 0; i < len && gpa + i < RAM_SIZE; i++)
					ram[gpa + i] = fuzz_u8(&in);
				break;
			}
			case STEP_POP:
				if (virtq_pop(&q, &req, &why) == VIRTQ_OK) {
					check_segments(ram, &req);
					serve(&in, &q, &req);
				}
				break;
			case STEP_NOTIFY:
				virtq_set_notify(&q, fuzz_u8(&in) & 1);
				break;
			case STEP_INTERRUPT:
				virtq_has_work(&q);
				virtq_should_interrupt(&q);
				break;
			}
		}
	}
	fuzz_guarded_clear(ram, RAM_SIZE);
	return 0;
}
