/* Unit tests for the push-style stream reader (vmm/migrate/stream_push.c)
 * a migration's destination is fed with, and the pre-copy round policy
 * (vmm/migrate/migrate_policy.c). A migration-shaped stream (a config-like
 * record, the same frame in two page batches, an unknown optional record,
 * END) is fed whole, byte by byte and in odd chunks: the same records come
 * out, in order, the later page winning; a flipped bit, bytes after END, a
 * record larger than the buffer and a bad header are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/migrate/migrate_policy.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/stream_push.h"

#define RAM_PAGES 8
#define STREAM_CAP (64 * 1024)
#define SMALL_CAP 256
#define MAX_SEEN 16
#define OPTIONAL_UNKNOWN (STREAM_OPTIONAL | 0x7fu)
#define MS 50000ull /* ticks a millisecond at 50 MHz */

static uint8_t stream[STREAM_CAP];
static size_t stream_len;
static uint8_t src_ram[RAM_PAGES * PAGE_DATA_PAGE];
static uint8_t dst_ram[RAM_PAGES * PAGE_DATA_PAGE];
static uint8_t record_buf[PUSH_RECORD_MAX];

struct seen {
	unsigned n;
	uint32_t types[MAX_SEEN];
	bool refuse_pages;
};

static int on_record(void *ctx, struct stream_record *rec, const uint8_t *raw, size_t len)
{
	struct seen *s = ctx;

	assert_true(len >= STREAM_RECORD_HEADER_SIZE);
	assert_memory_equal(raw + STREAM_RECORD_HEADER_SIZE, rec->body.buf, rec->body.len);
	if (s->n < MAX_SEEN)
		s->types[s->n++] = rec->type;
	if (rec->type == STREAM_PAGE_DATA)
		return s->refuse_pages || page_data_load(&rec->body, dst_ram, RAM_PAGES) < 0;
	return 0;
}

static void page_batch(struct stream_writer *sw, const uint64_t *gfns, unsigned n)
{
	struct state_writer w;

	stream_record_begin(sw, &w);
	page_data_save(&w, src_ram, gfns, n);
	assert_int_equal(stream_record_end(sw, STREAM_PAGE_DATA, 0, &w), STREAM_OK);
}

/* config-like record, pages 1-3 (page 2 as it was), an optional unknown
 * record, page 2 again (rewritten), END. */
static int build(void **state)
{
	static const uint64_t first[] = { 1, 2, 3 }, again[] = { 2 };
	struct stream_writer sw;
	struct state_writer w;

	(void)state;
	memset(dst_ram, 0, sizeof(dst_ram));
	for (size_t i = 0; i < sizeof(src_ram); i++)
		src_ram[i] = (uint8_t)(i * 7 + i / PAGE_DATA_PAGE);
	stream_writer_init(&sw, stream, sizeof(stream), 0);
	stream_record_begin(&sw, &w);
	state_put_u64(&w, 0x1234);
	stream_record_end(&sw, STREAM_VM_CONFIG, 0, &w);
	page_batch(&sw, first, 3);
	stream_record_begin(&sw, &w);
	state_put_u32(&w, 5);
	stream_record_end(&sw, OPTIONAL_UNKNOWN, 0, &w);
	memset(src_ram + 2 * PAGE_DATA_PAGE, 0xab, PAGE_DATA_PAGE);
	page_batch(&sw, again, 1);
	stream_len = (size_t)stream_writer_finish(&sw);
	return 0;
}

/* Feeds the stream in chunks of step bytes (0: whole); the last status. */
static int feed(struct stream_push *p, size_t step)
{
	int st = STREAM_OK;

	if (!step)
		return stream_push_feed(p, stream, stream_len);
	for (size_t at = 0; at < stream_len && st == STREAM_OK; at += step)
		st = stream_push_feed(p, stream + at,
				      stream_len - at < step ? stream_len - at : step);
	return st;
}

static void check_chunks(size_t step)
{
	struct stream_push p;
	struct seen s = { 0 };

	memset(dst_ram, 0, sizeof(dst_ram));
	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, &s);
	assert_int_equal(feed(&p, step), STREAM_DONE);
	assert_int_equal(p.consumed, stream_len);
	assert_int_equal(s.n, 3); /* the unknown optional record skipped */
	assert_int_equal(s.types[0], STREAM_VM_CONFIG);
	assert_int_equal(s.types[1], STREAM_PAGE_DATA);
	assert_int_equal(s.types[2], STREAM_PAGE_DATA);
	/* Pages 1-3 as sent, the later copy of page 2 winning; 0 never sent. */
	assert_memory_equal(dst_ram + PAGE_DATA_PAGE, src_ram + PAGE_DATA_PAGE, 3 * PAGE_DATA_PAGE);
	for (size_t i = 0; i < PAGE_DATA_PAGE; i++)
		assert_int_equal(dst_ram[i], 0);
}

static void test_whole_and_in_chunks(void **state)
{
	static const size_t steps[] = { 0, 1, 7, 16, 17, 4096, 5000 };

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		check_chunks(steps[i]);
}

static void test_flipped_bit_refused(void **state)
{
	struct stream_push p;
	struct seen s = { 0 };

	(void)state;
	stream[STREAM_HEADER_SIZE + STREAM_RECORD_HEADER_SIZE] ^= 1; /* the config's body */
	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, &s);
	assert_int_equal(feed(&p, 3), STREAM_ERR_CHECKSUM);
	assert_int_equal(s.n, 0);
	assert_non_null(p.why);
	/* Sticky: nothing more is taken. */
	assert_int_equal(stream_push_feed(&p, stream, 1), STREAM_ERR_CHECKSUM);
}

static void test_bad_header_and_trailing_bytes(void **state)
{
	struct stream_push p;
	struct seen s = { 0 };
	uint8_t extra = 0;

	(void)state;
	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, &s);
	assert_int_equal(feed(&p, 0), STREAM_DONE);
	assert_int_equal(stream_push_feed(&p, &extra, 1), STREAM_ERR_MALFORMED);

	stream[0] ^= 0xff; /* the magic */
	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, &s);
	assert_int_equal(feed(&p, 5), STREAM_ERR_MAGIC);
}

/* A record larger than the buffer (fed in pieces, so it must be
 * collected): refused, not overrun. */
static void test_record_larger_than_buffer(void **state)
{
	struct stream_push p;
	struct seen s = { 0 };

	(void)state;
	stream_push_init(&p, record_buf, SMALL_CAP, 0, on_record, &s);
	assert_int_equal(feed(&p, 100), STREAM_ERR_MALFORMED);
	assert_int_equal(s.n, 1); /* the config fitted */
}

/* The destination refusing a record stops the stream there. */
static void test_callback_refusal(void **state)
{
	struct stream_push p;
	struct seen s = { .refuse_pages = true };

	(void)state;
	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, &s);
	assert_int_equal(feed(&p, 0), STREAM_ERR_MALFORMED);
	assert_int_equal(s.n, 2);
	assert_null(p.why);
}

static enum migrate_stop policy(unsigned rounds, uint64_t dirty, uint64_t sent, uint64_t downtime)
{
	struct migrate_progress p = { .rounds = rounds,
				      .dirty = dirty,
				      .sent = sent,
				      .pages = 16384,
				      .ticks_per_page = 5000 };

	return migrate_policy(&p, downtime);
}

static void test_round_policy(void **state)
{
	(void)state;
	/* At most 50 dirty pages: stop, whatever the round. */
	assert_int_equal(policy(1, 50, 16384, 0), MIGRATE_STOP_FEW_DIRTY);
	assert_int_equal(policy(1, 0, 16384, 0), MIGRATE_STOP_FEW_DIRTY);
	/* More, and the downtime limit not met: on until round 5. */
	assert_int_equal(policy(1, 51, 16384, MS), MIGRATE_GO_ON);
	assert_int_equal(policy(4, 1000, 20000, MS), MIGRATE_GO_ON);
	assert_int_equal(policy(5, 1000, 20000, MS), MIGRATE_STOP_ROUNDS);
	/* 1000 pages at 5000 ticks = 5 M ticks: within 300 ms, not 1 ms. */
	assert_int_equal(policy(2, 1000, 20000, 300 * MS), MIGRATE_STOP_DOWNTIME);
	assert_int_equal(policy(2, 1000, 20000, 100 * MS), MIGRATE_STOP_DOWNTIME);
	assert_int_equal(policy(2, 1001, 20000, 100 * MS), MIGRATE_GO_ON);
	/* Another round and a stop-and-copy of 8192 pages each would pass
	 * 3 x 16384 pages sent. */
	assert_int_equal(policy(2, 8192, 32768, MS), MIGRATE_GO_ON);
	assert_int_equal(policy(3, 8192, 32769, MS), MIGRATE_STOP_SENT);
	/* No overflow for huge estimates. */
	struct migrate_progress huge = { 2, UINT64_MAX, 0, 16384, UINT64_MAX };
	assert_int_equal(migrate_policy(&huge, 300 * MS), MIGRATE_STOP_SENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_whole_and_in_chunks, build),
		cmocka_unit_test_setup(test_flipped_bit_refused, build),
		cmocka_unit_test_setup(test_bad_header_and_trailing_bytes, build),
		cmocka_unit_test_setup(test_record_larger_than_buffer, build),
		cmocka_unit_test_setup(test_callback_refusal, build),
		cmocka_unit_test(test_round_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
