/* Unit tests for vmm/dev/virtio/virtqueue.c: a fake guest RAM holds the
 * rings, the test plays the driver (virtio 1.2, 2.7.13) and checks what
 * the device takes and returns, and that every hostile ring value breaks
 * the queue instead of reaching outside the RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/virtio/virtqueue.h"

#define RAM_SIZE 0x10000
#define RAM_ALIGN 4096
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define DATA_GPA 0x4000 /* buffers from here on */

/* The driver's view of the rings, written from the spec (2.7.5, 2.7.6,
 * 2.7.8), not from the device code. */
struct drv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct drv_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct drv_used_elem {
	uint32_t id;
	uint32_t len;
};

struct drv_used {
	uint16_t flags;
	uint16_t idx;
	struct drv_used_elem ring[]; /* size entries, then avail_event */
};

struct fx {
	uint8_t *ram;
	struct virtq q;
	struct virtq_req req;
	struct drv_desc *desc;
	struct drv_avail *avail;
	struct drv_used *used;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	f->desc = (struct drv_desc *)(f->ram + DESC_GPA);
	f->avail = (struct drv_avail *)(f->ram + AVAIL_GPA);
	f->used = (struct drv_used *)(f->ram + USED_GPA);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* The transport's part: reset, configure and enable a queue. */
static void queue_init(struct fx *f, uint16_t size, bool event_idx)
{
	const char *why = NULL;

	virtq_reset(&f->q, f->ram, RAM_SIZE, NULL);
	f->q.size = size;
	f->q.event_idx = event_idx;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	assert_int_equal(virtq_enable(&f->q, &why), 0);
	assert_true(f->q.ready);
}

static void set_desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	f->desc[i] = (struct drv_desc){ addr, len, flags, next };
}

/* Offers head the way a driver does: ring entry first, then idx. */
static void post(struct fx *f, uint16_t head)
{
	uint16_t idx = f->avail->idx;

	f->avail->ring[idx & (f->q.size - 1)] = head;
	__atomic_store_n(&f->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static uint16_t *used_event(struct fx *f)
{
	return &f->avail->ring[f->q.size];
}

static uint16_t *avail_event(struct fx *f)
{
	return (uint16_t *)&f->used->ring[f->q.size];
}

/* Expects the next pop to break the queue for reason, taking nothing. */
static void expect_broken(struct fx *f, const char *reason)
{
	const char *why = NULL;
	uint16_t last = f->q.last_avail;

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_BROKEN);
	assert_true(f->q.broken);
	assert_non_null(why);
	assert_string_equal(why, reason);
	assert_int_equal(f->q.last_avail, last);
	assert_int_equal(f->used->idx, 0);
}

static void test_pop_simple_chain(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	/* Two readable elements, then two writable ones (2.7.4). */
	set_desc(f, 5, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 9);
	set_desc(f, 9, DATA_GPA + 0x1000, 100, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x2000, 200, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, DATA_GPA + 0x3000, 4, VIRTQ_DESC_F_WRITE, 0);
	post(f, 5);

	assert_true(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.head, 5);
	assert_int_equal(f->req.nout, 2);
	assert_int_equal(f->req.nin, 2);
	assert_int_equal(f->req.out_len, 116);
	assert_int_equal(f->req.in_len, 204);
	assert_ptr_equal(f->req.seg[0].host, f->ram + DATA_GPA);
	assert_int_equal(f->req.seg[0].len, 16);
	assert_ptr_equal(f->req.seg[1].host, f->ram + DATA_GPA + 0x1000);
	assert_int_equal(f->req.seg[1].len, 100);
	assert_ptr_equal(f->req.seg[2].host, f->ram + DATA_GPA + 0x2000);
	assert_int_equal(f->req.seg[2].len, 200);
	assert_ptr_equal(f->req.seg[3].host, f->ram + DATA_GPA + 0x3000);
	assert_int_equal(f->req.seg[3].len, 4);
	assert_int_equal(f->q.last_avail, 1);

	/* Taken: nothing more until the driver offers another. */
	assert_false(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_EMPTY);
	assert_false(f->q.broken);
}

/* A live migration's dirty log sees every byte the device writes: the
 * writable segments of a chain it takes (a readable one is not marked)
 * and the used ring when it returns the chain or moves avail_event; with
 * the log off, nothing. */
static void test_device_writes_are_logged(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;
	uint64_t bits = 0;
	struct dirty_log log = {
		.mode = DIRTY_AD, .pages = RAM_SIZE / RAM_ALIGN, .bitmap = &bits, .words = 1
	};
	const uint64_t used_frame = 1ull << (USED_GPA / RAM_ALIGN);

	queue_init(f, 8, true);
	f->q.dirty = &log;
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	/* Writable, across frames 6 and 7. */
	set_desc(f, 1, DATA_GPA + 0x2800, 0x1000, VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	/* avail_event was published in the used ring's page. */
	assert_int_equal(bits, (1ull << 6) | (1ull << 7) | used_frame);

	bits = 0;
	virtq_push(&f->q, 0, 4);
	assert_int_equal(bits, used_frame);
	bits = 0;
	virtq_set_notify(&f->q, true);
	assert_int_equal(bits, used_frame);

	log.mode = DIRTY_OFF;
	bits = 0;
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, 0, 4);
	assert_int_equal(bits, 0);
}

static void test_pop_in_only_and_out_only(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, DATA_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 1, DATA_GPA + 64, 32, 0, 0);
	post(f, 0);
	post(f, 1);

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.head, 0);
	assert_int_equal(f->req.nout, 0);
	assert_int_equal(f->req.nin, 1);
	assert_int_equal(f->req.in_len, 64);
	assert_ptr_equal(f->req.seg[0].host, f->ram + DATA_GPA);

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.head, 1);
	assert_int_equal(f->req.nout, 1);
	assert_int_equal(f->req.nin, 0);
	assert_int_equal(f->req.out_len, 32);
	assert_int_equal(f->req.in_len, 0);
}

static void test_empty(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	/* Not enabled yet: the ring addresses are unchecked, so untouched. */
	virtq_reset(&f->q, f->ram, RAM_SIZE, NULL);
	f->q.desc_gpa = f->q.avail_gpa = f->q.used_gpa = UINT64_MAX;
	assert_false(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_EMPTY);

	queue_init(f, VIRTQ_MAX_SIZE, false);
	assert_false(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_EMPTY);
	assert_int_equal(f->q.last_avail, 0);
	assert_false(f->q.broken);
}

static void test_reset_state(void **state)
{
	struct fx *f = *state;

	memset(&f->q, 0x5a, sizeof(f->q));
	virtq_reset(&f->q, f->ram, RAM_SIZE, NULL);
	assert_int_equal(f->q.size, VIRTQ_MAX_SIZE);
	assert_false(f->q.ready);
	assert_false(f->q.event_idx);
	assert_false(f->q.broken);
	assert_int_equal(f->q.msix_vector, 0xffff);
	assert_int_equal(f->q.last_avail, 0);
	assert_int_equal(f->q.used_idx, 0);
	assert_int_equal(f->q.signalled, 0);
	assert_ptr_equal(f->q.ram, f->ram);
	assert_int_equal(f->q.ram_size, RAM_SIZE);
}

static void test_push_used_ring(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 7, DATA_GPA, 128, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 3, DATA_GPA + 128, 128, VIRTQ_DESC_F_WRITE, 0);
	post(f, 7);
	post(f, 3);

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, f->req.head, 42);
	assert_int_equal(f->used->idx, 1);
	assert_int_equal(f->used->ring[0].id, 7);
	assert_int_equal(f->used->ring[0].len, 42);

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, f->req.head, 0);
	assert_int_equal(f->used->idx, 2);
	assert_int_equal(f->used->ring[1].id, 3);
	assert_int_equal(f->used->ring[1].len, 0);
	assert_int_equal(f->q.used_idx, 2);
}

/* Both free-running indices wrap at 65536 (2.7.13), the ring slots at the
 * queue size. */
static void test_idx_wraparound(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;
	const uint16_t size = 8;

	queue_init(f, size, false);
	for (uint16_t i = 0; i < size; i++)
		set_desc(f, i, DATA_GPA + i * 16u, 16, VIRTQ_DESC_F_WRITE, 0);
	for (uint32_t n = 0; n < 65536u + 3; n++) {
		uint16_t head = (uint16_t)(n % size);

		post(f, head);
		assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
		assert_int_equal(f->req.head, head);
		virtq_push(&f->q, head, n & 0xff);
		if (n == 65534) {
			assert_int_equal(f->used->idx, 65535);
		} else if (n == 65535) {
			/* The entry for idx 65535 went to slot 7, idx to 0. */
			assert_int_equal(f->used->idx, 0);
			assert_int_equal(f->used->ring[65535 % size].id, head);
			assert_int_equal(f->used->ring[65535 % size].len, 0xff);
			assert_int_equal(f->q.last_avail, 0);
		}
	}
	assert_int_equal(f->used->idx, 3);
	assert_int_equal(f->q.used_idx, 3);
	assert_int_equal(f->q.last_avail, 3);
	assert_int_equal(f->used->ring[2].id, (65536u + 2) % size);
	assert_int_equal(f->used->ring[2].len, (65536u + 2) & 0xff);
	assert_false(f->q.broken);
}

/* Without EVENT_IDX the driver's NO_INTERRUPT flag decides (2.7.7). */
static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	for (uint16_t i = 0; i < 4; i++) {
		set_desc(f, i, DATA_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
		post(f, i);
	}

	/* Nothing pushed: nothing to interrupt for. */
	assert_false(virtq_should_interrupt(&f->q));

	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, f->req.head, 1);
	assert_true(virtq_should_interrupt(&f->q));
	assert_int_equal(f->q.signalled, 1);
	assert_false(virtq_should_interrupt(&f->q));

	f->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, f->req.head, 1);
	assert_false(virtq_should_interrupt(&f->q));

	/* Interrupts back on: the chain pushed meanwhile still counts. */
	f->avail->flags = 0;
	assert_true(virtq_should_interrupt(&f->q));
	assert_int_equal(f->q.signalled, 2);

	/* used_event is not looked at without EVENT_IDX. */
	*used_event(f) = 100;
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	virtq_push(&f->q, f->req.head, 1);
	assert_true(virtq_should_interrupt(&f->q));

	/* The device's side: NO_NOTIFY in the used flags, avail_event
	 * untouched. */
	*avail_event(f) = 0x1234;
	virtq_set_notify(&f->q, false);
	assert_int_equal(f->used->flags, VIRTQ_USED_F_NO_NOTIFY);
	virtq_set_notify(&f->q, true);
	assert_int_equal(f->used->flags, 0);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(*avail_event(f), 0x1234);
}

/* With EVENT_IDX, used_event decides (2.7.7) and the device publishes
 * avail_event (2.7.10). */
static void test_event_idx(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, true);
	for (uint16_t i = 0; i < 8; i++)
		set_desc(f, i, DATA_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	for (uint16_t i = 0; i < 6; i++)
		post(f, i);

	/* Each chain taken moves avail_event past it. */
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(*avail_event(f), 1);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(*avail_event(f), 2);

	/* used_event 0: interrupt once the entry at idx 0 is written. */
	*used_event(f) = 0;
	virtq_push(&f->q, 0, 16);
	assert_true(virtq_should_interrupt(&f->q));
	virtq_push(&f->q, 1, 16);
	assert_false(virtq_should_interrupt(&f->q));

	/* Suppressed until the entry at idx 3; the flag's lower bit is
	 * ignored with EVENT_IDX. */
	*used_event(f) = 3;
	f->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	for (uint16_t i = 0; i < 4; i++)
		assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(*avail_event(f), 6);
	virtq_push(&f->q, 2, 16); /* idx 2 -> 3 */
	assert_false(virtq_should_interrupt(&f->q));
	virtq_push(&f->q, 3, 16); /* idx 3 -> 4: passes used_event */
	assert_true(virtq_should_interrupt(&f->q));
	assert_int_equal(f->q.signalled, 4);

	/* A used_event far ahead (a driver polling) suppresses. */
	*used_event(f) = 100;
	virtq_push(&f->q, 4, 16);
	virtq_push(&f->q, 5, 16);
	assert_false(virtq_should_interrupt(&f->q));
	assert_int_equal(f->q.signalled, 4);

	/* Drained: the empty look leaves avail_event at the next chain,
	 * so the driver's next post notifies. */
	*avail_event(f) = 0;
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_EMPTY);
	assert_int_equal(*avail_event(f), 6);
	*avail_event(f) = 0;
	virtq_set_notify(&f->q, true);
	assert_int_equal(*avail_event(f), 6);
	/* The used flags stay 0 with EVENT_IDX (2.7.10). */
	virtq_set_notify(&f->q, false);
	assert_int_equal(f->used->flags, 0);
}

/* used_event and the used idx wrap together at 65536. */
static void test_event_idx_wraparound(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, true);
	f->q.used_idx = f->q.signalled = 65534;
	*used_event(f) = 65535;
	virtq_push(&f->q, 0, 1); /* idx 65534 -> 65535 */
	assert_false(virtq_should_interrupt(&f->q));
	virtq_push(&f->q, 1, 1); /* idx 65535 -> 0 */
	assert_int_equal(f->used->idx, 0);
	assert_true(virtq_should_interrupt(&f->q));
	assert_int_equal(f->q.signalled, 0);
}

static void fill(uint8_t *p, unsigned len, uint8_t first)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

static void test_copy_across_segments(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;
	uint8_t buf[32], want[32];
	uint8_t *out0 = f->ram + DATA_GPA, *out1 = f->ram + DATA_GPA + 0x100;
	uint8_t *out2 = f->ram + DATA_GPA + 0x200;
	uint8_t *in0 = f->ram + DATA_GPA + 0x300, *in1 = f->ram + DATA_GPA + 0x400;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	/* Out: 3 + 5 + 8 bytes numbered 0..15 across the segments. */
	fill(out0, 3, 0);
	fill(out1, 5, 3);
	fill(out2, 8, 8);
	set_desc(f, 0, DATA_GPA, 3, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 0x100, 5, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x200, 8, VIRTQ_DESC_F_NEXT, 3);
	/* In: 4 + 6 bytes. */
	set_desc(f, 3, DATA_GPA + 0x300, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	set_desc(f, 4, DATA_GPA + 0x400, 6, VIRTQ_DESC_F_WRITE, 0);
	memset(in0, 0xee, 8);
	memset(in1, 0xee, 8);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);

	/* From offset 2, through all three out segments. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_copy_from(&f->req, 2, buf, 10), 10);
	fill(want, 10, 2);
	assert_memory_equal(buf, want, 10);
	/* Asking past the end gets what there is. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_copy_from(&f->req, 0, buf, sizeof(buf)), 16);
	fill(want, 16, 0);
	assert_memory_equal(buf, want, 16);
	assert_int_equal(virtq_copy_from(&f->req, 13, buf, 8), 3);
	assert_int_equal(buf[0], 13);
	assert_int_equal(buf[2], 15);
	assert_int_equal(virtq_copy_from(&f->req, 16, buf, 8), 0);
	assert_int_equal(virtq_copy_from(&f->req, UINT64_MAX, buf, 8), 0);

	/* Into the in segments from offset 3: one byte in the first, four in
	 * the second; nothing else written, out segments untouched. */
	fill(buf, 5, 0xa0);
	assert_int_equal(virtq_copy_to(&f->req, 3, buf, 5), 5);
	assert_int_equal(in0[2], 0xee);
	assert_int_equal(in0[3], 0xa0);
	assert_int_equal(in0[4], 0xee);
	fill(want, 4, 0xa1);
	assert_memory_equal(in1, want, 4);
	assert_int_equal(in1[4], 0xee);
	fill(want, 3, 0);
	assert_memory_equal(out0, want, 3);

	/* Past the end: truncated at the last in byte, nothing beyond. */
	fill(buf, 8, 0x10);
	assert_int_equal(virtq_copy_to(&f->req, 7, buf, 8), 3);
	assert_int_equal(in1[3], 0x10);
	assert_int_equal(in1[5], 0x12);
	assert_int_equal(in1[6], 0xee);
	assert_int_equal(virtq_copy_to(&f->req, 10, buf, 8), 0);
}

/* Zero-length elements are valid, give no segment, and their address is
 * never used; they still count in the readable/writable order. */
static void test_zero_length_descriptor(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, UINT64_MAX, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, RAM_SIZE, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, DATA_GPA + 8, 4, VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.nout, 1);
	assert_int_equal(f->req.nin, 1);
	assert_ptr_equal(f->req.seg[0].host, f->ram + DATA_GPA);
	assert_ptr_equal(f->req.seg[1].host, f->ram + DATA_GPA + 8);
	assert_int_equal(f->req.out_len, 8);
	assert_int_equal(f->req.in_len, 4);

	/* A readable element after an empty writable one is out of order. */
	set_desc(f, 4, DATA_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, 5, DATA_GPA, 8, 0, 0);
	post(f, 4);
	expect_broken(f, "readable descriptor after a writable one");
}

static void test_ram_edges(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	/* The last bytes of RAM are fine. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, RAM_SIZE - 16, 16, 0, 0);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_ptr_equal(f->req.seg[0].host, f->ram + RAM_SIZE - 16);
}

static void test_desc_outside_ram(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, RAM_SIZE - 8, 16, 0, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");

	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	set_desc(f, 0, RAM_SIZE, 1, VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");

	/* A bad element late in the chain breaks it too. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 1ull << 40, 16, VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");
}

/* addr + len wraps to a small number that a naive sum would accept. */
static void test_desc_addr_overflow(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, UINT64_MAX - 15, 32, 0, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");

	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	set_desc(f, 0, UINT64_MAX - 0xfffffffeull, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");
}

static void test_index_out_of_range(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, VIRTQ_MAX_SIZE);
	post(f, 0);
	expect_broken(f, "next index beyond the queue");

	/* With a smaller queue the table is smaller too. */
	queue_init(f, 16, false);
	f->avail->idx = 0;
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 16);
	post(f, 0);
	expect_broken(f, "next index beyond the queue");

	queue_init(f, 16, false);
	f->avail->idx = 0;
	post(f, 16);
	expect_broken(f, "head index beyond the queue");

	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	post(f, 0xffff);
	expect_broken(f, "head index beyond the queue");
}

static void test_chain_loop(void **state)
{
	struct fx *f = *state;

	/* a -> b -> a */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 10, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 11);
	set_desc(f, 11, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 10);
	post(f, 10);
	expect_broken(f, "descriptor chain loops or exceeds 64");

	/* A descriptor pointing at itself, in a queue smaller than 64. */
	queue_init(f, 8, false);
	f->avail->idx = 0;
	set_desc(f, 3, DATA_GPA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	post(f, 3);
	expect_broken(f, "descriptor chain loops");

	/* Empty elements loop too. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	set_desc(f, 0, 0, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 0, 0, VIRTQ_DESC_F_NEXT, 0);
	post(f, 0);
	expect_broken(f, "descriptor chain loops or exceeds 64");
}

static void chain_of(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		set_desc(f, (uint16_t)i, DATA_GPA + i, 1, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
}

static void test_chain_length(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	/* Exactly VIRTQ_MAX_SEGS: taken whole. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	chain_of(f, VIRTQ_MAX_SEGS);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.nout, VIRTQ_MAX_SEGS);
	assert_int_equal(f->req.out_len, VIRTQ_MAX_SEGS);
	assert_ptr_equal(f->req.seg[VIRTQ_MAX_SEGS - 1].host,
			 f->ram + DATA_GPA + VIRTQ_MAX_SEGS - 1);

	/* One more: refused, though it does not loop. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	chain_of(f, VIRTQ_MAX_SEGS + 1);
	post(f, 0);
	expect_broken(f, "descriptor chain loops or exceeds 64");

	/* A chain using the whole table of a small queue is fine. */
	queue_init(f, 8, false);
	f->avail->idx = 0;
	chain_of(f, 8);
	post(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.nout, 8);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 16, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 32, 16, 0, 0);
	post(f, 0);
	expect_broken(f, "readable descriptor after a writable one");
}

static void test_indirect(void **state)
{
	struct fx *f = *state;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_broken(f, "indirect descriptor (not negotiated)");

	/* Also after an ordinary element. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	f->avail->idx = 0;
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 16, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	post(f, 0);
	expect_broken(f, "indirect descriptor (not negotiated)");
}

static void test_avail_idx_too_far(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	/* A full ring (size chains outstanding) is fine. */
	queue_init(f, 16, false);
	for (uint16_t i = 0; i < 16; i++) {
		set_desc(f, i, DATA_GPA, 16, 0, 0);
		post(f, i);
	}
	for (uint16_t i = 0; i < 16; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
		assert_int_equal(f->req.head, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_EMPTY);

	/* One more than the ring holds. */
	f->avail->idx = (uint16_t)(f->q.last_avail + 17);
	expect_broken(f, "available index more than a queue ahead");

	/* An index that went backwards looks like one far ahead. */
	queue_init(f, 16, false);
	f->avail->idx = 0xffff;
	expect_broken(f, "available index more than a queue ahead");
}

static void test_enable_checks(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint16_t size;
		uint64_t desc, avail, used;
		const char *why;
	} bad[] = {
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA, "queue size is not a power of two up to 256" },
		{ 100, DESC_GPA, AVAIL_GPA, USED_GPA,
		  "queue size is not a power of two up to 256" },
		{ 512, DESC_GPA, AVAIL_GPA, USED_GPA,
		  "queue size is not a power of two up to 256" },
		{ 256, DESC_GPA + 8, AVAIL_GPA, USED_GPA, "descriptor table misaligned" },
		{ 256, DESC_GPA, AVAIL_GPA + 1, USED_GPA, "available ring misaligned" },
		{ 256, DESC_GPA, AVAIL_GPA, USED_GPA + 2, "used ring misaligned" },
		{ 256, RAM_SIZE - 0x800, AVAIL_GPA, USED_GPA,
		  "descriptor table outside guest RAM" },
		{ 256, UINT64_MAX - 15, AVAIL_GPA, USED_GPA, "descriptor table outside guest RAM" },
		/* 6 + 2 * 256 bytes: used_event must fit too. */
		{ 256, DESC_GPA, RAM_SIZE - 516, USED_GPA, "available ring outside guest RAM" },
		{ 256, DESC_GPA, UINT64_MAX - 1, USED_GPA, "available ring outside guest RAM" },
		/* 6 + 8 * 256 bytes: avail_event must fit too. */
		{ 256, DESC_GPA, AVAIL_GPA, RAM_SIZE - 2052, "used ring outside guest RAM" },
		{ 256, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, "used ring outside guest RAM" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		virtq_reset(&f->q, f->ram, RAM_SIZE, NULL);
		f->q.size = bad[i].size;
		f->q.desc_gpa = bad[i].desc;
		f->q.avail_gpa = bad[i].avail;
		f->q.used_gpa = bad[i].used;
		assert_int_equal(virtq_enable(&f->q, &why), -1);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
		assert_false(f->q.ready);
		assert_true(f->q.broken);
		why = NULL;
		assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_BROKEN);
		assert_non_null(why);
	}

	/* Each area as near the end of RAM as its size and alignment let
	 * it be is fine. */
	static const struct {
		uint64_t desc, avail, used;
	} good[] = {
		{ RAM_SIZE - 16 * 256, AVAIL_GPA, USED_GPA },
		{ DESC_GPA, RAM_SIZE - 518, USED_GPA },
		{ DESC_GPA, AVAIL_GPA, RAM_SIZE - 2056 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = NULL;

		virtq_reset(&f->q, f->ram, RAM_SIZE, NULL);
		f->q.desc_gpa = good[i].desc;
		f->q.avail_gpa = good[i].avail;
		f->q.used_gpa = good[i].used;
		assert_int_equal(virtq_enable(&f->q, &why), 0);
		assert_true(f->q.ready);
		assert_false(f->q.broken);
	}
}

/* Once broken, nothing is taken or returned until a reset, even when the
 * driver repairs the ring. */
static void test_broken_until_reset(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;

	queue_init(f, VIRTQ_MAX_SIZE, false);
	set_desc(f, 0, RAM_SIZE, 16, 0, 0);
	post(f, 0);
	expect_broken(f, "descriptor outside guest RAM");

	set_desc(f, 0, DATA_GPA, 16, 0, 0);
	assert_false(virtq_has_work(&f->q));
	why = NULL;
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_BROKEN);
	assert_non_null(why);
	assert_true(f->q.broken);
	virtq_push(&f->q, 0, 16);
	assert_int_equal(f->used->idx, 0);
	assert_int_equal(f->q.used_idx, 0);
	assert_false(virtq_should_interrupt(&f->q));
	virtq_set_notify(&f->q, false);
	assert_int_equal(f->used->flags, 0);
	assert_int_equal(virtq_enable(&f->q, &why), -1);
	assert_string_equal(why, "queue is broken until reset");

	/* After a reset the repaired ring works. */
	queue_init(f, VIRTQ_MAX_SIZE, false);
	assert_false(f->q.broken);
	assert_int_equal(virtq_pop(&f->q, &f->req, &why), VIRTQ_OK);
	assert_int_equal(f->req.head, 0);
	assert_ptr_equal(f->req.seg[0].host, f->ram + DATA_GPA);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_pop_simple_chain),
		T(test_device_writes_are_logged),
		T(test_pop_in_only_and_out_only),
		T(test_empty),
		T(test_reset_state),
		T(test_push_used_ring),
		T(test_idx_wraparound),
		T(test_no_interrupt_flag),
		T(test_event_idx),
		T(test_event_idx_wraparound),
		T(test_copy_across_segments),
		T(test_zero_length_descriptor),
		T(test_ram_edges),
		T(test_desc_outside_ram),
		T(test_desc_addr_overflow),
		T(test_index_out_of_range),
		T(test_chain_loop),
		T(test_chain_length),
		T(test_readable_after_writable),
		T(test_indirect),
		T(test_avail_idx_too_far),
		T(test_enable_checks),
		T(test_broken_until_reset),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
