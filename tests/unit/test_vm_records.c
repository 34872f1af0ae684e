/* Unit tests for the VM-level records of the state stream: the vCPU record
 * (vmm/migrate/vcpu_record.c), the VM config record (config_record.c) and
 * page-data batches with their page iterator (page_data.c), and the
 * checking pass of a restore over a whole VM's stream (vm_stream_check.c).
 * Each round-trips a state with every field distinct through a whole
 * stream, and shows that a record no real VM could have written (a state
 * out of range, a body cut short or too long, a frame outside RAM, a
 * flipped byte) or a stream no save could have written (a record missing,
 * twice, out of order, of a vCPU the VM has not) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/migrate/config_record.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_record.h"
#include "vmm/migrate/vm_stream_check.h"

#define BUF_SIZE (2u << 20)
#define NOW_NS 123456789ull
#define RAM_PAGES 64u

static uint8_t *buf;

static int setup(void **state)
{
	(void)state;
	buf = malloc(BUF_SIZE);
	return buf ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(buf);
	return 0;
}

/* A vCPU state with every field different from every other. */
static void fill_vcpu(struct vcpu_record *v)
{
	memset(v, 0, sizeof(*v));
	v->id = 3;
	for (unsigned i = 0; i < VCPU_RECORD_GPRS; i++)
		v->gpr[i] = 0x1111111111111111ull * (i + 1) + i;
	v->rip = 0xffffffff81000123ull;
	v->rflags = 0x246;
	v->cr0 = 0x80050033;
	v->cr0_shadow = 0x80050031;
	v->cr2 = 0xdead000;
	v->cr3 = 0x1234000;
	v->cr4 = 0x3626f0;
	v->cr4_shadow = 0x1626f0;
	v->dr7 = 0x401;
	v->debugctl = 1;
	for (unsigned i = 0; i < VREC_SEGMENTS; i++)
		v->seg[i] = (struct vcpu_record_segment){ (uint16_t)(0x10 + 8 * i), 0x1000ull * i,
							  0xfffff - i, 0xa09b + i };
	v->gdtr_base = 0x9000;
	v->gdtr_limit = 0x7f;
	v->idtr_base = 0xa000;
	v->idtr_limit = 0xfff;
	v->sysenter_cs = 0x10;
	v->sysenter_esp = 0x5000;
	v->sysenter_eip = 0x6000;
	v->efer = 0xd01;
	v->pat = 0x0007040600070406ull;
	v->ia32e_mode = true;
	for (unsigned i = 0; i < VCPU_RECORD_PDPTES; i++)
		v->pdpte[i] = 0x100001ull * (i + 1);
	v->activity = 1;
	v->interruptibility = 2;
	v->pending_dbg = 0x4000;
	v->entry_intr_info = 0x80000b0e;
	v->entry_error_code = 4;
	v->entry_insn_len = 3;
	v->intr_status = 0x3031;
	for (unsigned i = 0; i < VCPU_RECORD_DR_ADDRS; i++)
		v->dr[i] = 0x7000 + i;
	v->dr6 = 0xffff0ff0;
	v->xcr0 = 7;
	v->misc_enable = 0x850089;
	v->tsc_adjust = 0xfffffffffff00000ull;
	for (unsigned i = 0; i < VCPU_RECORD_LAZY_MSRS; i++)
		v->lazy_msrs[i] = 0xc0000080ull + i;
	v->kvmclock_msr = 0x4001;
	v->kvmclock_version = 6;
	v->steal_msr = 0x5001;
	v->steal_version = 8;
	v->steal_ns = 99999;
	v->pv_eoi_msr = 0x6001;
	v->tsc_at_clock_zero = 0xfffffff000000123ull;
	v->halted = true;
	v->pv_unhalted = true;
	v->sipi_pending = true;
	v->sipi_vector = 0x9a;
	for (unsigned i = 0; i < VCPU_RECORD_FPU_SIZE; i++)
		v->fpu[i] = (uint8_t)(i * 7 + 1);
}

static void fill_config(struct vm_record *r)
{
	memset(r, 0, sizeof(*r));
	struct vm_config *c = &r->cfg;
	strcpy(c->name, "dirty");
	strcpy(c->kernel, "build/guests/dirtytest.elf");
	strcpy(c->ramdisk, "initrd.img");
	strcpy(c->cmdline, "mib=4 mark=1");
	c->memory_mib = 16;
	c->vcpus = 2;
	c->nmodules = 2;
	strcpy(c->modules[0], "a.bin");
	strcpy(c->modules[1], "b.txt");
	c->on_poweroff = VM_ACTION_PRESERVE;
	c->on_crash = VM_ACTION_RESTART;
	c->on_unbacked = VM_UNBACKED_CRASH;
	c->cpus = 0x3;
	c->traps = 0x5;
	c->ndisks = 1;
	strcpy(c->disks[0].target, "root");
	c->disks[0].partition = true;
	strcpy(c->disks[0].vdev, "vda");
	c->disks[0].writable = true;
	c->nvifs = 1;
	memcpy(c->vifs[0].mac, "\x02\x00\x00\x00\x00\x07", 6);
	c->vifs[0].mac_given = true;
	strcpy(c->vifs[0].bridge, "lan0");
	c->virtio_console = true;
	c->pv = PV_KVM_CLOCK | PV_EOI;
	c->timer_mode = TIMER_MODE_NO_MISSED_TICKS_PENDING;
	c->autostart = false;
	r->clock_ns = 5555555555ull;
	r->start_epoch_ns = 946681200000000000ull;
	r->wall_clock_msr = 0x8001;
	r->wall_clock_version = 2;
	r->pv_unhalt_known = true;
	r->lapic_moved_base = 0xfee01000;
}

/* A stream of one record of type whose body save() writes; its length. */
static size_t one_record(uint32_t type, void (*save)(const void *, struct state_writer *),
			 const void *state)
{
	struct stream_writer sw;
	struct state_writer body;

	assert_int_equal(stream_writer_init(&sw, buf, BUF_SIZE, NOW_NS), STREAM_OK);
	stream_record_begin(&sw, &body);
	save(state, &body);
	assert_int_equal(stream_record_end(&sw, type, 0, &body), STREAM_OK);
	long len = stream_writer_finish(&sw);
	assert_true(len > 0);
	return (size_t)len;
}

static void save_vcpu(const void *s, struct state_writer *w)
{
	vcpu_record_save(s, w);
}

static void save_config(const void *s, struct state_writer *w)
{
	vm_record_save(s, w);
}

/* The record of a one-record stream of len bytes. */
static void read_record(size_t len, struct stream_reader *sr, struct stream_record *rec)
{
	assert_int_equal(stream_reader_init(sr, buf, len, NOW_NS), STREAM_OK);
	assert_int_equal(stream_next(sr, rec), STREAM_OK);
}

static void test_vcpu_round_trip(void **state)
{
	static struct vcpu_record a, b;
	struct stream_reader sr;
	struct stream_record rec;
	(void)state;

	fill_vcpu(&a);
	size_t len = one_record(STREAM_VCPU, save_vcpu, &a);
	read_record(len, &sr, &rec);
	assert_int_equal(rec.type, STREAM_VCPU);
	memset(&b, 0xcc, sizeof(b));
	assert_int_equal(vcpu_record_load(&b, &rec.body), 0);
	/* Field by field (the structures hold padding). */
	assert_int_equal(b.id, a.id);
	assert_memory_equal(b.gpr, a.gpr, sizeof(a.gpr));
	assert_int_equal(b.rip, a.rip);
	assert_int_equal(b.cr0_shadow, a.cr0_shadow);
	assert_int_equal(b.cr4_shadow, a.cr4_shadow);
	for (unsigned i = 0; i < VREC_SEGMENTS; i++) {
		assert_int_equal(b.seg[i].selector, a.seg[i].selector);
		assert_int_equal(b.seg[i].base, a.seg[i].base);
		assert_int_equal(b.seg[i].limit, a.seg[i].limit);
		assert_int_equal(b.seg[i].access, a.seg[i].access);
	}
	assert_int_equal(b.gdtr_limit, a.gdtr_limit);
	assert_int_equal(b.idtr_base, a.idtr_base);
	assert_int_equal(b.sysenter_eip, a.sysenter_eip);
	assert_int_equal(b.efer, a.efer);
	assert_int_equal(b.pat, a.pat);
	assert_true(b.ia32e_mode);
	assert_memory_equal(b.pdpte, a.pdpte, sizeof(a.pdpte));
	assert_int_equal(b.activity, a.activity);
	assert_int_equal(b.interruptibility, a.interruptibility);
	assert_int_equal(b.pending_dbg, a.pending_dbg);
	assert_int_equal(b.entry_intr_info, a.entry_intr_info);
	assert_int_equal(b.entry_error_code, a.entry_error_code);
	assert_int_equal(b.entry_insn_len, a.entry_insn_len);
	assert_int_equal(b.intr_status, a.intr_status);
	assert_memory_equal(b.dr, a.dr, sizeof(a.dr));
	assert_int_equal(b.dr6, a.dr6);
	assert_int_equal(b.xcr0, a.xcr0);
	assert_int_equal(b.misc_enable, a.misc_enable);
	assert_int_equal(b.tsc_adjust, a.tsc_adjust);
	assert_memory_equal(b.lazy_msrs, a.lazy_msrs, sizeof(a.lazy_msrs));
	assert_int_equal(b.kvmclock_msr, a.kvmclock_msr);
	assert_int_equal(b.kvmclock_version, a.kvmclock_version);
	assert_int_equal(b.steal_msr, a.steal_msr);
	assert_int_equal(b.steal_version, a.steal_version);
	assert_int_equal(b.steal_ns, a.steal_ns);
	assert_int_equal(b.pv_eoi_msr, a.pv_eoi_msr);
	assert_int_equal(b.tsc_at_clock_zero, a.tsc_at_clock_zero);
	assert_true(b.halted && !b.halted_until_kick && b.pv_unhalted);
	assert_true(!b.wait_sipi && !b.parked && !b.init_pending && b.sipi_pending);
	assert_int_equal(b.sipi_vector, a.sipi_vector);
	assert_memory_equal(b.fpu, a.fpu, sizeof(a.fpu));
	assert_int_equal(stream_next(&sr, &rec), STREAM_DONE);
}

/* A vCPU record whose state is out of range, written as a valid stream
 * (right checksum): refused by the record's own checks. */
static void expect_vcpu_refused(void (*spoil)(struct vcpu_record *), const char *why)
{
	static struct vcpu_record a, b;
	struct stream_reader sr;
	struct stream_record rec;

	fill_vcpu(&a);
	spoil(&a);
	read_record(one_record(STREAM_VCPU, save_vcpu, &a), &sr, &rec);
	assert_int_equal(vcpu_record_load(&b, &rec.body), -1);
	assert_string_equal(rec.body.refused, why);
}

static void bad_activity(struct vcpu_record *v)
{
	v->activity = 4;
}
static void bad_event(struct vcpu_record *v)
{
	v->entry_intr_info |= 1u << 20;
}
static void bad_length(struct vcpu_record *v)
{
	v->entry_insn_len = 16;
}
static void bad_interruptibility(struct vcpu_record *v)
{
	v->interruptibility = 1u << 5;
}
static void bad_dr7(struct vcpu_record *v)
{
	v->dr7 = 1ull << 32;
}
static void bad_xcr0(struct vcpu_record *v)
{
	v->xcr0 = 6;
}
static void bad_start(struct vcpu_record *v)
{
	v->parked = v->wait_sipi = true;
}

static void test_vcpu_refusals(void **state)
{
	(void)state;
	expect_vcpu_refused(bad_activity, "vCPU activity state out of range");
	expect_vcpu_refused(bad_event, "vCPU pending event has reserved bits set");
	expect_vcpu_refused(bad_length, "vCPU pending event: instruction length over 15");
	expect_vcpu_refused(bad_interruptibility, "vCPU interruptibility has reserved bits set");
	expect_vcpu_refused(bad_dr7, "vCPU DR6/DR7 bits 63:32 set");
	expect_vcpu_refused(bad_xcr0, "vCPU XCR0 without x87 state");
	expect_vcpu_refused(bad_start, "vCPU both parked and waiting for SIPI");
}

/* A body cut short or with a byte more than the record holds. */
static void test_vcpu_short_and_long_bodies(void **state)
{
	static struct vcpu_record a, b;
	uint8_t *body = malloc(sizeof(a) + 16);
	struct state_writer w;
	struct state_reader r;
	(void)state;

	assert_non_null(body);
	fill_vcpu(&a);
	state_writer_init(&w, body, sizeof(a) + 16, NOW_NS);
	vcpu_record_save(&a, &w);
	assert_false(w.overflow);
	state_reader_init(&r, body, w.len - 1, NOW_NS);
	assert_int_equal(vcpu_record_load(&b, &r), -1);
	state_reader_init(&r, body, w.len + 1, NOW_NS);
	assert_int_equal(vcpu_record_load(&b, &r), -1);
	state_reader_init(&r, body, w.len, NOW_NS);
	assert_int_equal(vcpu_record_load(&b, &r), 0);
	free(body);
}

static void test_config_round_trip(void **state)
{
	static struct vm_record a, b;
	struct stream_reader sr;
	struct stream_record rec;
	(void)state;

	fill_config(&a);
	read_record(one_record(STREAM_VM_CONFIG, save_config, &a), &sr, &rec);
	assert_int_equal(rec.type, STREAM_VM_CONFIG);
	assert_int_equal(vm_record_load(&b, &rec.body), 0);
	const struct vm_config *x = &a.cfg, *y = &b.cfg;
	assert_string_equal(y->name, x->name);
	assert_string_equal(y->kernel, x->kernel);
	assert_string_equal(y->ramdisk, x->ramdisk);
	assert_string_equal(y->cmdline, x->cmdline);
	assert_int_equal(y->memory_mib, x->memory_mib);
	assert_int_equal(y->vcpus, x->vcpus);
	assert_int_equal(y->nmodules, 2);
	assert_string_equal(y->modules[1], x->modules[1]);
	assert_int_equal(y->on_poweroff, x->on_poweroff);
	assert_int_equal(y->on_crash, x->on_crash);
	assert_int_equal(y->on_unbacked, x->on_unbacked);
	assert_int_equal(y->cpus, x->cpus);
	assert_int_equal(y->traps, x->traps);
	assert_int_equal(y->ndisks, 1);
	assert_string_equal(y->disks[0].target, "root");
	assert_true(y->disks[0].partition && y->disks[0].writable);
	assert_string_equal(y->disks[0].vdev, "vda");
	assert_int_equal(y->nvifs, 1);
	assert_memory_equal(y->vifs[0].mac, x->vifs[0].mac, 6);
	assert_true(y->vifs[0].mac_given);
	assert_string_equal(y->vifs[0].bridge, "lan0");
	assert_true(y->virtio_console);
	assert_int_equal(y->pv, x->pv);
	assert_int_equal(y->timer_mode, x->timer_mode);
	assert_false(y->autostart);
	assert_int_equal(b.clock_ns, a.clock_ns);
	assert_int_equal(b.start_epoch_ns, a.start_epoch_ns);
	assert_int_equal(b.wall_clock_msr, a.wall_clock_msr);
	assert_int_equal(b.wall_clock_version, a.wall_clock_version);
	assert_true(b.pv_unhalt_known);
	assert_int_equal(b.lapic_moved_base, a.lapic_moved_base);
}

static void expect_config_refused(void (*spoil)(struct vm_record *), const char *why)
{
	static struct vm_record a, b;
	struct stream_reader sr;
	struct stream_record rec;

	fill_config(&a);
	spoil(&a);
	read_record(one_record(STREAM_VM_CONFIG, save_config, &a), &sr, &rec);
	assert_int_equal(vm_record_load(&b, &rec.body), -1);
	assert_string_equal(rec.body.refused, why);
}

static void no_memory(struct vm_record *r)
{
	r->cfg.memory_mib = 0;
}
static void many_vcpus(struct vm_record *r)
{
	r->cfg.vcpus = 9;
}
static void bad_action(struct vm_record *r)
{
	r->cfg.on_crash = (enum vm_action)7;
}
static void no_name(struct vm_record *r)
{
	r->cfg.name[0] = '\0';
}
static void bad_mode(struct vm_record *r)
{
	r->cfg.timer_mode = (enum timer_mode)9;
}

static void test_config_refusals(void **state)
{
	(void)state;
	expect_config_refused(no_memory, "config record: memory out of range");
	expect_config_refused(many_vcpus, "config record: vcpus out of range");
	expect_config_refused(bad_action, "config record: unknown on_poweroff/on_crash action");
	expect_config_refused(no_name, "config record: no name or no kernel");
	expect_config_refused(bad_mode, "config record: unknown timer_mode");
}

/* A name as long as its field leaves no room for the NUL: refused. */
static void test_config_string_too_long(void **state)
{
	static struct vm_record b;
	uint8_t body[64] = { VM_NAME_MAX, 0 };
	struct state_reader r;
	(void)state;

	memset(body + 2, 'a', VM_NAME_MAX);
	state_reader_init(&r, body, sizeof(body), NOW_NS);
	assert_int_equal(vm_record_load(&b, &r), -1);
	assert_string_equal(r.refused, "config record: a string too long for its field");
}

/* RAM with a few non-zero pages: the save's iterator finds just them, a
 * stream of batches carries them, and loading into zeroed RAM gives the
 * same bytes; the batches split at PAGE_DATA_BATCH. */
static void test_pages_round_trip(void **state)
{
	static uint8_t src[RAM_PAGES * PAGE_DATA_PAGE], dst[RAM_PAGES * PAGE_DATA_PAGE];
	const uint64_t used[] = { 0, 5, 6, 40, 63 };
	uint64_t gfns[PAGE_DATA_BATCH];
	struct page_cursor c;
	(void)state;

	memset(src, 0, sizeof(src));
	memset(dst, 0, sizeof(dst));
	for (unsigned i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		src[used[i] * PAGE_DATA_PAGE + (i * 511) % PAGE_DATA_PAGE] = (uint8_t)(i + 1);
	page_cursor_init(&c, src, RAM_PAGES, (struct page_filter){ page_nonzero, NULL });
	unsigned n = page_cursor_next(&c, gfns, PAGE_DATA_BATCH);
	assert_int_equal(n, 5);
	assert_memory_equal(gfns, used, sizeof(used));
	assert_int_equal(page_cursor_next(&c, gfns, PAGE_DATA_BATCH), 0);

	/* Two batches: at most 3 pages, then the rest. */
	struct stream_writer sw;
	struct state_writer body;
	assert_int_equal(stream_writer_init(&sw, buf, BUF_SIZE, NOW_NS), STREAM_OK);
	page_cursor_init(&c, src, RAM_PAGES, (struct page_filter){ page_nonzero, NULL });
	unsigned batches = 0;
	while ((n = page_cursor_next(&c, gfns, 3))) {
		stream_record_begin(&sw, &body);
		page_data_save(&body, src, gfns, n);
		assert_int_equal(stream_record_end(&sw, STREAM_PAGE_DATA, 0, &body), STREAM_OK);
		batches++;
	}
	assert_int_equal(batches, 2);
	long len = stream_writer_finish(&sw);
	assert_true(len > 0);

	struct stream_reader sr;
	struct stream_record rec;
	int total = 0, st;
	assert_int_equal(stream_reader_init(&sr, buf, (size_t)len, NOW_NS), STREAM_OK);
	while ((st = stream_next(&sr, &rec)) == STREAM_OK) {
		assert_int_equal(rec.type, STREAM_PAGE_DATA);
		int got = page_data_load(&rec.body, dst, RAM_PAGES);
		assert_true(got > 0);
		total += got;
	}
	assert_int_equal(st, STREAM_DONE);
	assert_int_equal(total, 5);
	assert_memory_equal(dst, src, sizeof(src));
}

/* A body as page_data_save writes it, for frames gfns. */
static size_t page_body(uint8_t *out, const uint64_t *gfns, unsigned n, const uint8_t *ram)
{
	struct state_writer w;

	state_writer_init(&w, out, BUF_SIZE, NOW_NS);
	page_data_save(&w, ram, gfns, n);
	assert_false(w.overflow);
	return w.len;
}

static void test_pages_refused(void **state)
{
	static uint8_t ram[RAM_PAGES * PAGE_DATA_PAGE];
	struct state_reader r;
	(void)state;

	memset(ram, 0x5a, sizeof(ram));
	const uint64_t inside[] = { 1, 2 }, unordered[] = { 2, 1 }, twice[] = { 3, 3 };
	/* A frame past the RAM: checked against the destination's size. */
	size_t len = page_body(buf, inside, 2, ram);
	state_reader_init(&r, buf, len, NOW_NS);
	assert_int_equal(page_data_load(&r, NULL, 2), -1);
	assert_string_equal(r.refused, "page data: a frame outside the VM's RAM");
	len = page_body(buf, unordered, 2, ram);
	state_reader_init(&r, buf, len, NOW_NS);
	assert_int_equal(page_data_load(&r, NULL, RAM_PAGES), -1);
	assert_string_equal(r.refused, "page data: frames not in ascending order");
	len = page_body(buf, twice, 2, ram);
	state_reader_init(&r, buf, len, NOW_NS);
	assert_int_equal(page_data_load(&r, NULL, RAM_PAGES), -1);
	/* Short by a byte: refused, and nothing copied. */
	static uint8_t dst[RAM_PAGES * PAGE_DATA_PAGE];
	memset(dst, 0, sizeof(dst));
	len = page_body(buf, inside, 2, ram);
	state_reader_init(&r, buf, len - 1, NOW_NS);
	assert_int_equal(page_data_load(&r, dst, RAM_PAGES), -1);
	assert_string_equal(r.refused, "page data: body length does not match its count");
	for (size_t i = 0; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0);
	/* No pages at all. */
	memset(buf, 0, 8);
	state_reader_init(&r, buf, 8, NOW_NS);
	assert_int_equal(page_data_load(&r, NULL, RAM_PAGES), -1);
	assert_string_equal(r.refused, "page data: page count out of range");
	/* The well-formed one, validated without copying, counts its pages. */
	state_reader_init(&r, buf, page_body(buf, inside, 2, ram), NOW_NS);
	assert_int_equal(page_data_load(&r, NULL, RAM_PAGES), 2);
}

/* Every single flipped byte of a vCPU record's stream is refused. */
static void test_vcpu_stream_bit_flips(void **state)
{
	static struct vcpu_record a, b;
	(void)state;

	fill_vcpu(&a);
	size_t len = one_record(STREAM_VCPU, save_vcpu, &a);
	for (size_t at = 0; at < len; at += 61) {
		struct stream_reader sr;
		struct stream_record rec;
		buf[at] ^= 0x10;
		int st = stream_reader_init(&sr, buf, len, NOW_NS);
		if (st == STREAM_OK) {
			st = stream_next(&sr, &rec);
			if (st == STREAM_OK)
				st = vcpu_record_load(&b, &rec.body) ? -1 : stream_next(&sr, &rec);
		}
		assert_true(st < 0);
		buf[at] ^= 0x10;
	}
}

/* --- a whole VM's stream, as vm_save writes it ---------------------------- */

#define VM_VCPUS 2
#define VM_MIB 1

/* What the stream under test holds or lacks. */
struct vm_stream_spec {
	bool config_after_vcpu; /* the config record comes second */
	int skip_vcpu;		/* a vCPU without its record (-1: none) */
	int vcpu_id_of[VM_VCPUS];
	bool device_twice; /* the PIC's record twice */
	bool no_sysctl;	   /* the last device type missing */
	uint64_t page_gfn; /* the one page's frame */
	/* The virtio records (the config has one writable image disk and a
	 * virtio console): the disk's record's instance (-1: none), whether
	 * the console's is left out, disk data for disk n (-1: none), and a
	 * vif in the config. */
	int blk_instance;
	bool no_console;
	int disk_data_for;
	bool read_only_disk;
	bool with_vif;
	int net_instance; /* the vif's record (-1: none) */
};

static const struct vm_stream_spec good_spec = { .skip_vcpu = -1,
						 .vcpu_id_of = { 0, 1 },
						 .page_gfn = 5,
						 .blk_instance = 0,
						 .disk_data_for = 0,
						 .net_instance = -1 };

static void put_record(struct stream_writer *sw, uint32_t type, uint32_t instance,
		       void (*save)(const void *, struct state_writer *), const void *state)
{
	struct state_writer w;

	stream_record_begin(sw, &w);
	if (save)
		save(state, &w);
	assert_int_equal(stream_record_end(sw, type, instance, &w), STREAM_OK);
}

/* A page batch of the one frame *gfn, from RAM a page larger than the
 * VM's (so that a frame just past it can be written). */
static void save_page(const void *gfn, struct state_writer *w)
{
	static uint8_t ram[(VM_MIB * 256 + 1) * PAGE_DATA_PAGE];

	page_data_save(w, ram, gfn, 1);
}

static size_t vm_stream(const struct vm_stream_spec *spec)
{
	static struct vm_record config;
	static struct vcpu_record vcpus[VM_VCPUS];
	struct stream_writer sw;

	fill_config(&config);
	config.cfg.vcpus = VM_VCPUS;
	config.cfg.memory_mib = VM_MIB;
	config.cfg.disks[0].partition = false;
	config.cfg.disks[0].writable = !spec->read_only_disk;
	config.cfg.nvifs = spec->with_vif ? 1 : 0;
	assert_int_equal(stream_writer_init(&sw, buf, BUF_SIZE, NOW_NS), STREAM_OK);
	if (!spec->config_after_vcpu)
		put_record(&sw, STREAM_VM_CONFIG, 0, save_config, &config);
	for (int i = 0; i < VM_VCPUS; i++) {
		fill_vcpu(&vcpus[i]);
		vcpus[i].id = (uint32_t)spec->vcpu_id_of[i];
		if (i != spec->skip_vcpu)
			put_record(&sw, STREAM_VCPU, (uint32_t)i, save_vcpu, &vcpus[i]);
		if (i == 0 && spec->config_after_vcpu)
			put_record(&sw, STREAM_VM_CONFIG, 0, save_config, &config);
	}
	for (uint32_t t = STREAM_DEV_UART; t <= STREAM_DEV_SYSCTL; t++) {
		if (t == STREAM_DEV_SYSCTL && spec->no_sysctl)
			continue;
		for (uint32_t i = 0; i < (t == STREAM_DEV_VLAPIC ? VM_VCPUS : 1u); i++)
			put_record(&sw, t, i, NULL, NULL);
		if (t == STREAM_DEV_PIC && spec->device_twice)
			put_record(&sw, t, 0, NULL, NULL);
	}
	if (spec->blk_instance >= 0)
		put_record(&sw, STREAM_DEV_VIRTIO_BLK, (uint32_t)spec->blk_instance, NULL, NULL);
	if (!spec->no_console)
		put_record(&sw, STREAM_DEV_VIRTIO_CONSOLE, 0, NULL, NULL);
	if (spec->net_instance >= 0)
		put_record(&sw, STREAM_DEV_VIRTIO_NET, (uint32_t)spec->net_instance, NULL, NULL);
	put_record(&sw, STREAM_PAGE_DATA, 0, save_page, &spec->page_gfn);
	if (spec->disk_data_for >= 0)
		put_record(&sw, STREAM_DISK_DATA, (uint32_t)spec->disk_data_for, save_page,
			   &spec->page_gfn);
	long len = stream_writer_finish(&sw);
	assert_true(len > 0);
	return (size_t)len;
}

static void expect_stream_refused(const struct vm_stream_spec *spec, const char *why)
{
	static struct vm_stream_records out;
	char line[160];

	assert_int_equal(vm_stream_check(buf, vm_stream(spec), &out, line, sizeof(line)), -1);
	assert_non_null(strstr(line, why));
	assert_ptr_equal(strstr(line, "image refused: "), line);
}

static void test_whole_stream_checked(void **state)
{
	static struct vm_stream_records out;
	struct vm_stream_spec spec;
	char line[160] = "";
	(void)state;

	size_t len = vm_stream(&good_spec);
	int got = vm_stream_check(buf, len, &out, line, sizeof(line));
	if (got)
		fail_msg("%s", line);
	assert_string_equal(out.vm.cfg.name, "dirty");
	assert_int_equal(out.vm.cfg.vcpus, VM_VCPUS);
	assert_int_equal(out.vcpus[1].id, 1);
	assert_int_equal(out.vcpus[1].rip, 0xffffffff81000123ull);

	/* Cut anywhere, or a byte flipped in any record: refused. */
	for (size_t cut = 0; cut < len; cut += 97)
		assert_int_equal(vm_stream_check(buf, cut, &out, line, sizeof(line)), -1);
	for (size_t at = 0; at < len; at += 89) {
		buf[at] ^= 0x01;
		assert_int_equal(vm_stream_check(buf, len, &out, line, sizeof(line)), -1);
		buf[at] ^= 0x01;
	}

	spec = good_spec;
	spec.config_after_vcpu = true;
	expect_stream_refused(&spec, "the VM config record is not first");
	spec = good_spec;
	spec.skip_vcpu = 1;
	expect_stream_refused(&spec, "a vCPU or local APIC record is missing");
	spec = good_spec;
	spec.vcpu_id_of[1] = 0;
	expect_stream_refused(&spec, "a vCPU record of another vCPU");
	spec = good_spec;
	spec.device_twice = true;
	expect_stream_refused(&spec, "a device record out of place");
	spec = good_spec;
	spec.no_sysctl = true;
	expect_stream_refused(&spec, "no record of device type 0x19");
	spec = good_spec;
	spec.page_gfn = VM_MIB * 256; /* the first frame past 1 MiB */
	expect_stream_refused(&spec, "page data: a frame outside the VM's RAM");

	/* The virtio devices: one record each, of a device the config has. */
	spec = good_spec;
	spec.blk_instance = -1;
	expect_stream_refused(&spec, "a virtio device's record is missing");
	spec = good_spec;
	spec.blk_instance = 1;
	expect_stream_refused(&spec, "a virtio-blk record out of place");
	spec = good_spec;
	spec.no_console = true;
	expect_stream_refused(&spec, "a virtio device's record is missing");
	spec = good_spec;
	spec.with_vif = true;
	expect_stream_refused(&spec, "a virtio device's record is missing");
	spec.net_instance = 1;
	expect_stream_refused(&spec, "a virtio-net record out of place");
	spec.net_instance = 0;
	assert_int_equal(vm_stream_check(buf, vm_stream(&spec), &out, line, sizeof(line)), 0);
	spec.with_vif = false;
	expect_stream_refused(&spec, "a virtio-net record out of place");
	/* Disk data only for a writable image disk the config has. */
	spec = good_spec;
	spec.disk_data_for = 1;
	expect_stream_refused(&spec, "disk data for no writable image disk");
	spec = good_spec;
	spec.read_only_disk = true;
	expect_stream_refused(&spec, "disk data for no writable image disk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_round_trip),
		cmocka_unit_test(test_vcpu_refusals),
		cmocka_unit_test(test_vcpu_short_and_long_bodies),
		cmocka_unit_test(test_vcpu_stream_bit_flips),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_config_refusals),
		cmocka_unit_test(test_config_string_too_long),
		cmocka_unit_test(test_pages_round_trip),
		cmocka_unit_test(test_pages_refused),
		cmocka_unit_test(test_whole_stream_checked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
