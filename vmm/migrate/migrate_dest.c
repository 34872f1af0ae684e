#include "vmm/migrate/migrate_dest.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/page_alloc.h"
#include "arch/x86/tsc.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/vcpu_record.h"
#include "vmm/migrate/vm_restore.h"

/* The stop-and-copy records but pages: config, vCPUs, devices (the save's
 * bound for them), END. */
#define TAIL_FIXED (64u * 1024)
#define NAME_MARK '~' /* the building VM's name: "~NAME" until it starts */

static size_t pages_of(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static int refuse(struct migrate_dest *d, const char *what)
{
	snprintf(d->why, sizeof(d->why), "%s", what);
	return -1;
}

static int append_tail(struct migrate_dest *d, const uint8_t *raw, size_t len)
{
	struct stream_writer *t = &d->tail;

	if (len > t->cap - t->len)
		return refuse(d, "stop-and-copy records larger than the destination takes");
	memcpy(t->buf + t->len, raw, len);
	t->len += len;
	return 0;
}

/* The first config record: the VM, built paused under a name of its own. */
static int build(struct migrate_dest *d, struct stream_record *rec)
{
	static struct vm_config cfg; /* too big for the stack; one build at a time */

	if (rec->type != STREAM_VM_CONFIG)
		return refuse(d, "stream refused: the VM config record is not first");
	if (vm_record_load(&d->first, &rec->body))
		return refuse(d, rec->body.refused ? rec->body.refused : "config record refused");
	cfg = d->first.cfg;
	snprintf(cfg.name, sizeof(cfg.name), "%c%.*s", NAME_MARK, (int)sizeof(cfg.name) - 2,
		 d->first.cfg.name);
	d->vm = vm_build(&cfg, d->boot, d->take_over_nics);
	if (!d->vm)
		return refuse(d, "the destination VM could not be built (the console says why)");
	d->vm->state = VM_PAUSED;
	return 0;
}

static int on_record(void *ctx, struct stream_record *rec, const uint8_t *raw, size_t len)
{
	struct migrate_dest *d = ctx;
	struct vm *vm = d->vm;
	int n;

	if (!vm)
		return build(d, rec);
	switch (rec->type) {
	case STREAM_PAGE_DATA:
		n = page_data_load(&rec->body, vm->ram.host, vm->ram.size / PAGE_DATA_PAGE);
		if (n < 0)
			return refuse(d, rec->body.refused);
		d->pages_received += (uint64_t)n;
		return 0;
	case STREAM_DISK_DATA: {
		/* A writable image disk's copy, whole, in the stop-and-copy. */
		if (!d->in_tail || rec->instance >= vm->cfg.ndisks ||
		    !vm->disk_images[rec->instance].owned)
			return refuse(d, "stream refused: disk data out of place or for no "
					 "writable image disk");
		struct virtio_blk_store *s = &vm->disk_images[rec->instance].store;
		if (page_data_load(&rec->body, s->image, pages_of(s->size)) < 0)
			return refuse(d, rec->body.refused);
		return 0;
	}
	case STREAM_VM_CONFIG:
		if (d->in_tail)
			return refuse(d, "stream refused: a third VM config record");
		d->in_tail = true;
		d->tail_tsc = rdtsc();
		return append_tail(d, raw, len);
	default:
		if (!d->in_tail)
			return refuse(d, "stream refused: a vCPU or device record before the "
					 "stop-and-copy's config record");
		return append_tail(d, raw, len);
	}
}

static int local_write(struct migrate_sink *s, const void *buf, size_t len)
{
	struct migrate_dest *d = (struct migrate_dest *)s;

	if (migrate_dest_feed(d, buf, len)) {
		snprintf(s->why, sizeof(s->why), "%s", d->why);
		return -1;
	}
	return 0;
}

int migrate_dest_init(struct migrate_dest *d, const struct boot_info *bi, bool take_over_nics)
{
	uint8_t *buf = page_alloc(pages_of(PUSH_RECORD_MAX));
	size_t tail_cap = TAIL_FIXED + VM_MAX_VCPUS * (STREAM_RECORD_HEADER_SIZE +
						       sizeof(struct vcpu_record) + STREAM_ALIGN);

	uint8_t *tail = page_alloc(pages_of(tail_cap));

	*d = (struct migrate_dest){ .sink.write = local_write,
				    .boot = bi,
				    .tail_cap = tail_cap,
				    .take_over_nics = take_over_nics };
	if (!buf || !tail) {
		if (buf)
			page_free(buf, pages_of(PUSH_RECORD_MAX));
		if (tail)
			page_free(tail, pages_of(tail_cap));
		return refuse(d, "not enough memory for the destination's buffers");
	}
	stream_push_init(&d->push, buf, PUSH_RECORD_MAX, 0, on_record, d);
	/* The stop-and-copy part is a stream of its own: its header first. */
	stream_writer_init(&d->tail, tail, tail_cap, 0);
	return 0;
}

/* END came: the stop-and-copy part, checked and loaded. */
static int finish(struct migrate_dest *d)
{
	long len = stream_writer_finish(&d->tail);

	if (len < 0)
		return refuse(d, "stop-and-copy records larger than the destination takes");
	if (vm_restore_finish(d->vm, d->tail.buf, (size_t)len, d->why, sizeof(d->why)))
		return -1;
	d->done = true;
	return 0;
}

int migrate_dest_feed(struct migrate_dest *d, const void *buf, size_t len)
{
	int st = stream_push_feed(&d->push, buf, len);

	if (st < 0) {
		if (d->push.why)
			snprintf(d->why, sizeof(d->why), "stream refused: %s (%s at byte %llu)",
				 d->push.why, stream_status_name(st),
				 (unsigned long long)d->push.consumed);
		return -1;
	}
	if (st == STREAM_DONE && !d->done) {
		if (!d->vm || !d->in_tail)
			return refuse(d, "stream refused: it ended before the stop-and-copy");
		return finish(d);
	}
	return 0;
}

static void free_buffers(struct migrate_dest *d)
{
	if (d->push.buf)
		page_free(d->push.buf, pages_of(PUSH_RECORD_MAX));
	if (d->tail.buf)
		page_free(d->tail.buf, pages_of(d->tail_cap));
	d->push.buf = NULL;
	d->tail.buf = NULL;
}

struct vm *migrate_dest_start(struct migrate_dest *d, const char *name, uint32_t usable)
{
	struct vm *vm = d->vm;

	free_buffers(d);
	d->vm = NULL;
	snprintf(vm->cfg.name, sizeof(vm->cfg.name), "%s", name);
	vm->state = VM_RUNNING;
	vm_start_quiet(vm, usable);
	return vm;
}

void migrate_dest_abort(struct migrate_dest *d)
{
	free_buffers(d);
	if (d->vm)
		vm_discard(d->vm);
	d->vm = NULL;
}
