/* Unit tests for drivers/storage/nvme_cmd.c and nvme_queue.c: the command
 * entries pgvisor sends an NVMe controller (NVMe 1.4), PRP lists, the
 * Identify data it parses, and the queue pair's tail, head and phase tag
 * against a fake controller (memory queues, two doorbell words). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/storage/nvme_cmd.h"
#include "drivers/storage/nvme_queue.h"

static void test_read_and_write_entries(void **state)
{
	struct nvme_sqe e;
	(void)state;
	memset(&e, 0xee, sizeof(e));

	nvme_cmd_rw(&e, false, 1, 0x123456789ull, 128, 0x10000, 0x20000);
	assert_int_equal(e.cdw0, 0x02);
	assert_int_equal(e.nsid, 1);
	assert_int_equal(e.cdw2, 0);
	assert_int_equal(e.mptr, 0);
	assert_int_equal(e.prp1, 0x10000);
	assert_int_equal(e.prp2, 0x20000);
	assert_int_equal(e.cdw10, 0x23456789); /* SLBA low */
	assert_int_equal(e.cdw11, 0x1);	       /* SLBA high */
	assert_int_equal(e.cdw12, 127);	       /* NLB, 0's based */
	assert_int_equal(e.cdw13, 0);

	nvme_cmd_rw(&e, true, 2, 7, 65536, 0x3000, 0);
	assert_int_equal(e.cdw0, 0x01);
	assert_int_equal(e.nsid, 2);
	assert_int_equal(e.cdw12, 0xffff);

	nvme_cmd_flush(&e, 3);
	assert_int_equal(e.cdw0, 0x00);
	assert_int_equal(e.nsid, 3);
	assert_int_equal(e.prp1, 0);
	assert_int_equal(e.cdw10, 0);
}

static void test_admin_entries(void **state)
{
	struct nvme_sqe e;
	(void)state;

	nvme_cmd_identify(&e, NVME_CNS_CONTROLLER, 0, 0x5000);
	assert_int_equal(e.cdw0, 0x06);
	assert_int_equal(e.nsid, 0);
	assert_int_equal(e.prp1, 0x5000);
	assert_int_equal(e.cdw10, 1);

	nvme_cmd_identify(&e, NVME_CNS_NAMESPACE, 4, 0x5000);
	assert_int_equal(e.nsid, 4);
	assert_int_equal(e.cdw10, 0);

	nvme_cmd_create_cq(&e, 1, 16, 0x7000);
	assert_int_equal(e.cdw0, 0x05);
	assert_int_equal(e.prp1, 0x7000);
	assert_int_equal(e.cdw10, 15u << 16 | 1); /* QSIZE 0's based, QID */
	assert_int_equal(e.cdw11, 1);		  /* PC; IEN clear, vector 0 */

	nvme_cmd_create_sq(&e, 1, 16, 1, 0x8000);
	assert_int_equal(e.cdw0, 0x01);
	assert_int_equal(e.prp1, 0x8000);
	assert_int_equal(e.cdw10, 15u << 16 | 1);
	assert_int_equal(e.cdw11, 1u << 16 | 1); /* CQID, PC, priority 0 */
}

static void test_status_field(void **state)
{
	(void)state;
	/* Phase 1, SCT 1 (command specific), SC 0x80, DNR. */
	uint16_t status = 1 | 0x80 << 1 | 1 << 9 | 1u << 15;
	assert_int_equal(nvme_status_sct(status), 1);
	assert_int_equal(nvme_status_sc(status), 0x80);
	assert_int_equal(nvme_status_sct(1), 0);
	assert_int_equal(nvme_status_sc(1), 0);
}

static void test_prp_one_and_two_pages(void **state)
{
	uint64_t list[4] = { 0 }, prp1, prp2;
	(void)state;

	assert_int_equal(nvme_prp_build(0x100000, 4096, list, 0x9000, 4, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x100000);
	assert_int_equal(prp2, 0);
	assert_int_equal(nvme_prp_build(0x100000, 512, list, 0x9000, 4, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0);
	assert_int_equal(nvme_prp_build(0x100000, 8192, list, 0x9000, 4, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0x101000);
	/* An offset start: 4 KiB from 0x100200 touches two pages. */
	assert_int_equal(nvme_prp_build(0x100200, 4096, list, 0x9000, 4, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x100200);
	assert_int_equal(prp2, 0x101000);
	assert_int_equal(list[0], 0); /* no list needed */
}

static void test_prp_list(void **state)
{
	uint64_t list[16], prp1, prp2;
	(void)state;
	memset(list, 0xee, sizeof(list));

	assert_int_equal(nvme_prp_build(0x200000, 65536, list, 0x9000, 16, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x200000);
	assert_int_equal(prp2, 0x9000);
	for (unsigned i = 0; i < 15; i++)
		assert_int_equal(list[i], 0x201000 + i * 0x1000ull);
	assert_int_equal(list[15], 0xeeeeeeeeeeeeeeeeull); /* 15 entries, no more */

	/* 12 KiB: three pages, so a list of two. */
	assert_int_equal(nvme_prp_build(0x200000, 12288, list, 0x9000, 16, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0x9000);
	assert_int_equal(list[0], 0x201000);
	assert_int_equal(list[1], 0x202000);
}

static void test_prp_list_too_short(void **state)
{
	uint64_t list[2], prp1, prp2;
	(void)state;

	assert_int_equal(nvme_prp_build(0x200000, 4 * 4096, list, 0x9000, 2, &prp1, &prp2), -1);
	assert_int_equal(nvme_prp_build(0x200000, 3 * 4096, list, 0x9000, 2, &prp1, &prp2), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void test_identify_controller(void **state)
{
	static uint8_t d[NVME_IDENTIFY_BYTES];
	struct nvme_ctrl_identity id;
	(void)state;
	memset(d, 0, sizeof(d));
	memcpy(d + 4, "deadbeef            ", 20);
	memcpy(d + 24, "QEMU NVMe Ctrl                          ", 40);
	d[77] = 7;
	put32(d + 516, 256);

	nvme_identify_controller_parse(d, &id);
	assert_string_equal(id.serial, "deadbeef");
	assert_string_equal(id.model, "QEMU NVMe Ctrl");
	assert_int_equal(id.mdts, 7);
	assert_int_equal(id.namespaces, 256);
}

static void test_identify_namespace(void **state)
{
	static uint8_t d[NVME_IDENTIFY_BYTES];
	struct nvme_ns_identity id;
	char why[64] = "";
	(void)state;
	memset(d, 0, sizeof(d));
	put32(d, 0x00020000);
	put32(d + 4, 0x1);
	d[25] = 1;		       /* two LBA formats */
	d[26] = 1;		       /* the second is in use */
	put32(d + 128, 9u << 16);      /* 512 bytes */
	put32(d + 132, 12u << 16 | 8); /* 4096 bytes, 8 bytes of metadata */

	assert_int_equal(nvme_identify_namespace_parse(d, &id, why, sizeof(why)), 0);
	assert_int_equal(id.blocks, 0x100020000ull);
	assert_int_equal(id.block_size, 4096);
	assert_int_equal(id.metadata, 8);

	d[26] = 0x10; /* format 0, metadata at the end of each block (bit 4) */
	assert_int_equal(nvme_identify_namespace_parse(d, &id, why, sizeof(why)), 0);
	assert_int_equal(id.block_size, 512);
	assert_int_equal(id.metadata, 0);

	d[26] = 2; /* beyond NLBAF */
	assert_int_equal(nvme_identify_namespace_parse(d, &id, why, sizeof(why)), -1);
	assert_string_equal(why, "LBA format 2 of 2");

	memset(d, 0, 8); /* NSZE 0: not active */
	assert_int_equal(nvme_identify_namespace_parse(d, &id, why, sizeof(why)), -1);
	assert_string_equal(why, "not active");
}

static void test_doorbell_offsets(void **state)
{
	(void)state;
	assert_int_equal(nvme_doorbell_offset(0, false, 0), 0x1000);
	assert_int_equal(nvme_doorbell_offset(0, true, 0), 0x1004);
	assert_int_equal(nvme_doorbell_offset(1, false, 0), 0x1008);
	assert_int_equal(nvme_doorbell_offset(1, true, 0), 0x100c);
	assert_int_equal(nvme_doorbell_offset(1, true, 2), 0x1000 + 3 * 16);
}

/* A fake controller: reads the entry at its SQ head and posts a completion
 * with the phase it is on, as a controller does (4.6). */
struct fake {
	struct nvme_sqe sq[4];
	struct nvme_cqe cq[4];
	uint32_t sq_doorbell, cq_doorbell;
	uint16_t sq_head, cq_tail, phase;
};

static void fake_complete(struct fake *f, uint16_t status)
{
	struct nvme_cqe *c = &f->cq[f->cq_tail];
	uint16_t cid = (uint16_t)(f->sq[f->sq_head].cdw0 >> 16);

	f->sq_head = (uint16_t)((f->sq_head + 1) % 4);
	c->dw0 = 0xabcd;
	c->sq_head = f->sq_head;
	c->sq_id = 1;
	c->cid = cid;
	c->status = (uint16_t)(status << 1 | f->phase);
	if (++f->cq_tail == 4) {
		f->cq_tail = 0;
		f->phase ^= 1;
	}
}

static void test_queue_wraps_and_flips_phase(void **state)
{
	static struct fake f;
	struct nvme_queue q;
	struct nvme_sqe e;
	struct nvme_cqe done;
	(void)state;
	memset(&f, 0, sizeof(f));
	memset(f.cq, 0xff, sizeof(f.cq)); /* init clears it */
	f.phase = 1;

	nvme_queue_init(&q, f.sq, f.cq, 4, &f.sq_doorbell, &f.cq_doorbell);
	assert_false(nvme_queue_reap(&q, &done));
	/* Ten commands one at a time: the queues wrap twice and the phase
	 * flips with them. */
	for (unsigned i = 0; i < 10; i++) {
		nvme_cmd_flush(&e, 1);
		int cid = nvme_queue_submit(&q, &e);
		assert_int_equal(cid, i);
		assert_int_equal(f.sq_doorbell, (i + 1) % 4);
		assert_int_equal(f.sq[i % 4].cdw0, (uint32_t)i << 16 | 0x00);
		assert_false(nvme_queue_reap(&q, &done)); /* nothing posted yet */
		fake_complete(&f, 0);
		assert_true(nvme_queue_reap(&q, &done));
		assert_int_equal(done.cid, cid);
		assert_int_equal(done.dw0, 0xabcd);
		assert_int_equal(nvme_status_sc(done.status), 0);
		assert_int_equal(f.cq_doorbell, (i + 1) % 4);
		assert_false(nvme_queue_reap(&q, &done)); /* an old entry is not new */
	}
	assert_int_equal(q.phase, 1); /* 10 completions on 4 slots: wrapped twice */
}

static void test_queue_full_and_error_status(void **state)
{
	static struct fake f;
	struct nvme_queue q;
	struct nvme_sqe e;
	struct nvme_cqe done;
	(void)state;
	memset(&f, 0, sizeof(f));
	f.phase = 1;

	nvme_queue_init(&q, f.sq, f.cq, 4, &f.sq_doorbell, &f.cq_doorbell);
	nvme_cmd_flush(&e, 1);
	assert_int_equal(nvme_queue_submit(&q, &e), 0);
	assert_int_equal(nvme_queue_submit(&q, &e), 1);
	assert_int_equal(nvme_queue_submit(&q, &e), 2);
	assert_int_equal(nvme_queue_submit(&q, &e), -1); /* one slot stays empty */
	assert_int_equal(f.sq_doorbell, 3);

	fake_complete(&f, 0x02 | 1 << 8); /* SCT 1 (command specific), SC 2 */
	assert_true(nvme_queue_reap(&q, &done));
	assert_int_equal(done.cid, 0);
	assert_int_equal(nvme_status_sct(done.status), 1);
	assert_int_equal(nvme_status_sc(done.status), 0x02);
	/* The controller read one entry: room for one more. */
	assert_int_equal(nvme_queue_submit(&q, &e), 3);
	assert_int_equal(nvme_queue_submit(&q, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_write_entries),
		cmocka_unit_test(test_admin_entries),
		cmocka_unit_test(test_status_field),
		cmocka_unit_test(test_prp_one_and_two_pages),
		cmocka_unit_test(test_prp_list),
		cmocka_unit_test(test_prp_list_too_short),
		cmocka_unit_test(test_identify_controller),
		cmocka_unit_test(test_identify_namespace),
		cmocka_unit_test(test_doorbell_offsets),
		cmocka_unit_test(test_queue_wraps_and_flips_phase),
		cmocka_unit_test(test_queue_full_and_error_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
