/* libFuzzer harness: the VM-level records of the state stream
 * (vmm/migrate/vcpu_record.c, config_record.c, page_data.c). The first
 * byte picks the record and how the rest is used: as the body itself
 * (unchecked by any CRC, so the fuzzer reaches the loads' own checks), or
 * XORed into a valid body of that record (a vCPU record is longer than
 * libFuzzer's inputs, and mutations then land on single fields). A body accepted must say
 * nothing more than its fields: written again, it gives the same bytes
 * (and loads again); a refusal always says why. Page data goes into RAM
 * of RAM_PAGES pages between guard pages (fuzz_support), and only frames
 * inside it may be written. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/migrate/config_record.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/vcpu_record.h"

#define RECORD_KINDS 3
#define MODES 2 /* the body as given, or XORed into a valid one */
#define RAM_PAGES 16u
#define BODY_MAX (2u * PAGE_DATA_BATCH * PAGE_DATA_PAGE)
#define NOW_NS 1000000000ull

static uint8_t again[BODY_MAX];
static struct vcpu_record vcpu;
static struct vm_record config;

/* Writes the record just loaded, into again; its length. */
static size_t rewrite(unsigned kind)
{
	struct state_writer w;

	state_writer_init(&w, again, sizeof(again), NOW_NS);
	if (kind == 0)
		vcpu_record_save(&vcpu, &w);
	else
		vm_record_save(&config, &w);
	if (w.overflow)
		abort();
	return w.len;
}

static int load(unsigned kind, struct state_reader *r, uint8_t *ram)
{
	switch (kind) {
	case 0:
		return vcpu_record_load(&vcpu, r);
	case 1:
		return vm_record_load(&config, r);
	default:
		return page_data_load(r, ram, RAM_PAGES) < 0 ? -1 : 0;
	}
}

/* A valid body of kind, with data XORed over its start; its length. */
static size_t valid_body(unsigned kind, uint8_t *out, const uint8_t *data, size_t size)
{
	static const uint64_t gfns[] = { 1, 3 };
	static uint8_t page_src[RAM_PAGES * PAGE_DATA_PAGE];
	struct state_writer w;

	state_writer_init(&w, out, BODY_MAX, NOW_NS);
	switch (kind) {
	case 0:
		vcpu = (struct vcpu_record){ .xcr0 = 1 };
		vcpu_record_save(&vcpu, &w);
		break;
	case 1:
		config = (struct vm_record){
			.cfg = { .name = "a", .kernel = "k", .memory_mib = 1, .vcpus = 1 }
		};
		vm_record_save(&config, &w);
		break;
	default:
		page_data_save(&w, page_src, gfns, 2);
		break;
	}
	for (size_t i = 0; i < size && i < w.len; i++)
		out[i] ^= data[i];
	return w.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t xored[BODY_MAX];
	struct state_reader r;

	if (size < 1)
		return 0;
	unsigned kind = data[0] % RECORD_KINDS;
	uint8_t *body;
	size_t len = size - 1;
	if ((data[0] / RECORD_KINDS) % MODES) {
		len = valid_body(kind, xored, data + 1, size - 1);
		body = fuzz_copy(xored, len);
	} else {
		body = fuzz_copy(data + 1, len);
	}
	uint8_t *ram = fuzz_guarded(RAM_PAGES * PAGE_DATA_PAGE);
	state_reader_init(&r, body, len, NOW_NS);
	if (load(kind, &r, ram)) {
		if (!r.refused)
			abort();
	} else if (kind < 2) {
		/* Accepted: every byte was a field, and the fields say it all. */
		size_t n = rewrite(kind);
		if (n != len || memcmp(again, body, n))
			abort();
		state_reader_init(&r, again, n, NOW_NS);
		if (load(kind, &r, ram))
			abort();
	}
	free(body);
	return 0;
}
