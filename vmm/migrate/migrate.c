#include "vmm/migrate/migrate.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/lib/cmdline.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/migrate/dirty_track.h"
#include "vmm/migrate/migrate_dest.h"
#include "vmm/migrate/migrate_policy.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_record.h"
#include "vmm/migrate/vm_save.h"
#include "vmm/vm/platform.h"

#define DOWNTIME_KEY "migrate-downtime"
#define DIRTY_KEY "dirty"
#define OPTION_MAX 16
#define MS_PER_S 1000u
#define DOWNTIME_MS_MAX 3600000u
#define WORD_BITS 64u

#define TO_MAX 24

/* The stop-and-copy's steps within the machine, stamped for the report:
 * the downtime, part by part. */
enum part {
	PART_ROUND_END, /* the scheduler's way from the last exit to the poll */
	PART_COLLECT,	/* the last dirty pages collected, the policy */
	PART_STATE,	/* config, vCPU and device records written */
	PART_TAKEN,	/* the destination took them */
	PART_PAGES,	/* the last pages, written and loaded */
	PART_LOAD,	/* END: the records checked and loaded */
	PART_START,	/* the destination started, its vifs taken over */
	PART_COUNT,
};
static const char *const part_name[PART_COUNT] = {
	"to the poll", "collect", "state records", "taken", "last pages", "END's load", "start",
};

enum phase {
	PHASE_IDLE,
	PHASE_COPY,
	PHASE_FINAL,   /* to another machine: stopped, the last pages going */
	PHASE_WAIT,    /* to another machine: all sent, waiting for its verdict */
	PHASE_ARRIVED, /* within the machine: the destination started */
};

/* The migration in progress: written on the source's CPU only (its
 * command, its scheduler's passes); phase read by every CPU's poll. */
static struct {
	enum phase phase;
	unsigned cpu;
	struct vm *src, *dst;
	char name[VM_NAME_MAX];
	enum dirty_mode mode;
	struct migrate_dest dest;
	struct migrate_sink *sink;
	struct migrate_sink *remote; /* the sink to another machine, or NULL */
	char to[TO_MAX];	     /* "a new slot", or the peer's address */
	bool fresh;		     /* round 1 to a zeroed peer: zero pages stay */
	bool stopped, was_running;   /* paused for the stop-and-copy, and before */
	struct stream_writer sw;     /* a few records at a time, then to the sink */
	uint8_t *stage;
	size_t stage_pages;
	uint64_t *send; /* the frames this round sends, a bit each */
	size_t send_pages;
	uint64_t pages, cursor;
	unsigned round;
	uint64_t round_start, round_sent, round_dirty;
	uint64_t start_tsc, stop_tsc, total_sent, copy_ticks, downtime_ticks;
	/* The last round's line, printed once the destination runs: the
	 * console's lines are slow (a serial character ~87 us). */
	uint64_t round_ticks, round_found, last_pages;
	enum migrate_stop why;
	unsigned restarts;	   /* the source's when it started */
	uint64_t part[PART_COUNT]; /* the stop-and-copy's steps (TSC) */
} m;
static struct spinlock start_lock;
static uint64_t batch[PAGE_DATA_BATCH];

static size_t pages_of(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void free_buffers(void)
{
	if (m.stage)
		page_free(m.stage, m.stage_pages);
	if (m.send)
		page_free(m.send, m.send_pages);
	m.stage = NULL;
	m.send = NULL;
}

/* Whether the source is the VM the migration started with, running or
 * paused: not stopped, not restarted (its VMCSs set up afresh). */
static bool source_live(const struct vm *vm)
{
	return (vm->state == VM_RUNNING || vm->state == VM_PAUSED) && vm->restarts == m.restarts;
}

/* The migration ends without moving the VM: the source runs on (or has
 * stopped by itself). */
static void abandon(const char *why)
{
	bool live = source_live(m.src);

	kprintf("pgvisor: vm %s: migration cancelled: %s%s\n", m.name, why,
		live ? "; it runs on" : "");
	if (m.remote)
		m.remote->release(m.remote);
	else
		migrate_dest_abort(&m.dest);
	if (live && m.stopped && m.was_running)
		m.src->state = VM_RUNNING;
	if (live)
		dirty_track_stop(m.src);
	else
		dirty_track_drop(m.src);
	free_buffers();
	__atomic_store_n(&m.phase, PHASE_IDLE, __ATOMIC_RELEASE);
}

/* What the writer holds goes to the sink. */
static int flush(void)
{
	if (m.sw.error) {
		snprintf(m.sink->why, sizeof(m.sink->why), "stream: %s",
			 stream_status_name(m.sw.error));
		return -1;
	}
	if (m.sw.len && m.sink->write(m.sink, m.stage, m.sw.len))
		return -1;
	stream_writer_reset(&m.sw);
	return 0;
}

/* The next at most max frames of the round's set, from the cursor, as a
 * page-data record. Returns how many, or -1 when the sink failed. */
static int send_chunk(unsigned max)
{
	struct state_writer w;
	const uint8_t *ram = m.src->ram.host;
	unsigned n = 0, looked = 0;

	/* A fresh round sends the non-zero frames of those it looks at. */
	while (m.cursor < m.pages && n < max && looked < max) {
		uint64_t word = m.send[m.cursor / WORD_BITS] >> (m.cursor % WORD_BITS);
		if (!word) {
			m.cursor = (m.cursor / WORD_BITS + 1) * WORD_BITS;
			continue;
		}
		if ((word & 1) && m.fresh)
			looked++;
		if ((word & 1) &&
		    (!m.fresh || page_nonzero(NULL, m.cursor, ram + m.cursor * PAGE_DATA_PAGE)))
			batch[n++] = m.cursor;
		m.cursor++;
	}
	if (!n)
		return 0;
	stream_record_begin(&m.sw, &w);
	page_data_save(&w, m.src->ram.host, batch, n);
	stream_record_end(&m.sw, STREAM_PAGE_DATA, 0, &w);
	return flush() ? -1 : (int)n;
}

/* A writable image disk's copy (disk_images[i].owned) is the VM's own, like
 * its RAM, but written by the device model, not the guest: no dirty log
 * sees it, so the stop-and-copy sends every page of it, a record a batch
 * (the destination's copy holds the image file's contents). 0, or -1 when
 * the sink failed. */
static int send_disks(const struct vm *vm)
{
	struct state_writer w;

	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		const struct vm_disk_image *d = &vm->disk_images[i];
		uint64_t pages = d->owned ? pages_of(d->store.size) : 0;
		for (uint64_t at = 0; at < pages;) {
			unsigned n = 0;
			while (at < pages && n < PAGE_DATA_BATCH)
				batch[n++] = at++;
			stream_record_begin(&m.sw, &w);
			page_data_save(&w, d->store.image, batch, n);
			stream_record_end(&m.sw, STREAM_DISK_DATA, i, &w);
			if (flush())
				return -1;
		}
	}
	return 0;
}

/* Why vm cannot migrate, or NULL. */
static const char *unmigratable(const struct vm *vm)
{
	const char *no = vm_save_refusal(vm);

	if (no)
		return no;
	return NULL;
}

/* pgvisor's migrate-downtime=MS (default 300) in TSC ticks. */
static int downtime_ticks(const char *cmdline, uint64_t *out, char *why, size_t whylen)
{
	char ms[OPTION_MAX];
	uint64_t v = MIGRATE_DOWNTIME_DEFAULT_MS;

	if (cmdline_value(cmdline, DOWNTIME_KEY, ms, sizeof(ms))) {
		v = 0;
		for (const char *p = ms; *p; p++) {
			if (*p < '0' || *p > '9' || v > DOWNTIME_MS_MAX) {
				snprintf(why, whylen, "%s=%s: expected milliseconds up to %u",
					 DOWNTIME_KEY, ms, DOWNTIME_MS_MAX);
				return -1;
			}
			v = v * 10 + (uint64_t)(*p - '0');
		}
	}
	*out = tsc_hz() / MS_PER_S * v;
	return 0;
}

size_t migrate_chunk_bytes(const struct vm *vm)
{
	return pages_of(PUSH_RECORD_MAX + STREAM_HEADER_SIZE + 64 * 1024 +
			vm->nvcpus * (STREAM_RECORD_HEADER_SIZE + sizeof(struct vcpu_record))) *
	       PAGE_SIZE;
}

/* Whether the sink takes a whole chunk, or the state records, now (its
 * queue holds two). */
static bool sink_has_room(void)
{
	return !m.remote || m.remote->queued(m.remote) < m.stage_pages * PAGE_SIZE;
}

/* Whether all that was written went onto the link. */
static bool sink_drained(void)
{
	return !m.remote || !m.remote->queued(m.remote);
}

static int start_locked(struct vm *vm, const struct boot_info *bi, struct migrate_sink *remote,
			const char *to, char *why, size_t whylen)
{
	char asked[OPTION_MAX] = "";
	const char *no = unmigratable(vm);

	if (m.phase != PHASE_IDLE) {
		snprintf(why, whylen, "vm %s: cannot migrate: vm %s is migrating already", vm->name,
			 m.name);
		return -1;
	}
	if (no) {
		snprintf(why, whylen, "vm %s: cannot migrate: it %s", vm->name, no);
		return -1;
	}
	cmdline_value(bi->cmdline, DIRTY_KEY, asked, sizeof(asked));
	memset(&m, 0, sizeof(m));
	m.cpu = this_cpu()->index;
	m.src = vm;
	m.round = 1;
	m.restarts = vm->restarts;
	m.remote = remote;
	/* The peer builds the VM in zeroed RAM, as a restore. */
	m.fresh = remote != NULL;
	snprintf(m.to, sizeof(m.to), "%s", to);
	snprintf(m.name, sizeof(m.name), "%s", vm->name);
	m.mode = dirty_track_choose(asked, why, whylen);
	if (m.mode == DIRTY_OFF || downtime_ticks(bi->cmdline, &m.downtime_ticks, why, whylen))
		return -1;
	m.pages = vm->ram.size / PAGE_DATA_PAGE;
	m.stage_pages = pages_of(migrate_chunk_bytes(vm));
	m.send_pages = pages_of((m.pages + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t));
	m.stage = page_alloc(m.stage_pages);
	m.send = page_alloc(m.send_pages);
	if (!m.stage || !m.send) {
		free_buffers();
		snprintf(why, whylen, "vm %s: cannot migrate: not enough memory for its buffers",
			 vm->name);
		return -1;
	}
	if (!remote && migrate_dest_init(&m.dest, bi, true)) {
		free_buffers();
		snprintf(why, whylen, "vm %s: cannot migrate: %s", vm->name, m.dest.why);
		return -1;
	}
	m.sink = remote ? remote : &m.dest.sink;
	m.start_tsc = m.round_start = rdtsc();
	/* The header and the first config record: the destination is built
	 * as it takes them. */
	stream_writer_init(&m.sw, m.stage, m.stage_pages * PAGE_SIZE, vtime_now_ns(&vm->vtime));
	vm_save_config(&m.sw, vm);
	int err = flush();
	if (err)
		snprintf(why, whylen, "vm %s: cannot migrate: %s", vm->name, m.sink->why);
	else if (dirty_track_start(vm, m.mode, m.sink->why, sizeof(m.sink->why))) {
		snprintf(why, whylen, "vm %s: cannot migrate: %s", vm->name, m.sink->why);
		err = -1;
	}
	if (err) {
		if (!remote)
			migrate_dest_abort(&m.dest);
		free_buffers();
		return -1;
	}
	/* Round 1 sends every page. */
	for (uint64_t i = 0; i < m.pages; i++)
		m.send[i / WORD_BITS] |= 1ull << (i % WORD_BITS);
	m.round_dirty = m.pages;
	__atomic_store_n(&m.phase, PHASE_COPY, __ATOMIC_RELEASE);
	kprintf("pgvisor: vm %s: migrating live to %s: %llu pages, dirty logging by %s\n", vm->name,
		m.to, (unsigned long long)m.pages, dirty_mode_name(m.mode));
	return 0;
}

int migrate_start_to(struct vm *vm, const struct boot_info *bi, struct migrate_sink *remote,
		     const char *to, char *why, size_t whylen)
{
	int err;

	why[0] = '\0';
	spin_lock(&start_lock);
	err = start_locked(vm, bi, remote, to, why, whylen);
	spin_unlock(&start_lock);
	return err;
}

int migrate_start(struct vm *vm, const struct boot_info *bi, char *why, size_t whylen)
{
	return migrate_start_to(vm, bi, NULL, "a new slot", why, whylen);
}

int migrate_cancel(struct vm *vm)
{
	enum phase p = __atomic_load_n(&m.phase, __ATOMIC_ACQUIRE);

	/* Once the last bytes went, the peer may have started it. */
	if ((p != PHASE_COPY && p != PHASE_FINAL) || m.src != vm)
		return -1;
	abandon("by the operator");
	return 0;
}

/* The source's last VM exit: the guest has not run since. */
static uint64_t last_exit(const struct vm *vm)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].regs.exit_tsc > t)
			t = vm->vcpus[i].regs.exit_tsc;
	return t;
}

/* The VM stops for good here: its state and last dirty pages go, the
 * destination loads them and starts; the source is freed. */
static void stop_and_copy(enum migrate_stop why)
{
	struct vm *vm = m.src;
	uint64_t last = 0;
	int n;

	m.stop_tsc = last_exit(vm);
	m.was_running = vm->state == VM_RUNNING;
	m.stopped = true;
	vm->state = VM_PAUSED;
	m.sw.now_ns = vtime_now_ns(&vm->vtime);
	m.part[PART_COLLECT] = rdtsc();
	if (vm_save_state(&m.sw, vm)) {
		abandon("a vCPU's VMCS cannot be read");
		return;
	}
	m.part[PART_STATE] = rdtsc();
	if (flush() || send_disks(vm)) {
		abandon(m.sink->why);
		return;
	}
	m.part[PART_TAKEN] = rdtsc();
	m.cursor = 0;
	m.why = why;
	if (m.remote) {
		/* The last pages go as the link takes them (final_step). */
		__atomic_store_n(&m.phase, PHASE_FINAL, __ATOMIC_RELEASE);
		return;
	}
	while ((n = send_chunk(PAGE_DATA_BATCH)) > 0)
		last += (uint64_t)n;
	m.part[PART_PAGES] = rdtsc();
	if (n < 0 || stream_writer_finish(&m.sw) < 0 || flush() || !m.dest.done) {
		abandon(m.sink->why[0] ? m.sink->why : "the destination did not load");
		return;
	}
	m.total_sent += last;
	m.part[PART_LOAD] = rdtsc();
	/* The source waits, paused, until the destination has entered its
	 * guest: undoing its dirty logging and freeing it and the buffers
	 * first would only lengthen the downtime. */
	m.dst = migrate_dest_start(&m.dest, m.name, 1u << m.cpu);
	/* The destination's vifs take the source's switch ports (MACs,
	 * learned addresses, waiting frames) before it first runs. */
	if (platform_take_over_nics(m.dst, vm))
		kprintf("pgvisor: vm %s: a vif's switch port could not be taken over\n", m.name);
	m.last_pages = last;
	m.part[PART_START] = rdtsc();
	__atomic_store_n(&m.phase, PHASE_ARRIVED, __ATOMIC_RELEASE);
}

static void print_round(void)
{
	kprintf("pgvisor: vm %s: migrate round %u: %llu pages to send, %llu sent, %llu ticks; "
		"%llu dirtied meanwhile\n",
		m.name, m.round, (unsigned long long)m.round_dirty,
		(unsigned long long)m.round_sent, (unsigned long long)m.round_ticks,
		(unsigned long long)m.round_found);
}

static void end_round(void)
{
	/* To another machine the link sets the pace: the time since the
	 * start, not the copying's own. */
	uint64_t spent = m.remote ? rdtsc() - m.start_tsc : m.copy_ticks;
	uint64_t per_page = m.total_sent ? spent / m.total_sent : 0;

	m.fresh = false;
	m.part[PART_ROUND_END] = rdtsc();
	m.round_ticks = m.part[PART_ROUND_END] - m.round_start;
	/* The bitmap's words only: a page of rep stosb is 4096 ticks of
	 * downtime in Bochs. */
	memset(m.send, 0, (m.pages + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t));
	m.round_found = dirty_track_collect(m.src, m.send);
	struct migrate_progress p = { .rounds = m.round,
				      .dirty = m.round_found,
				      .sent = m.total_sent,
				      .pages = m.pages,
				      .ticks_per_page = per_page };
	enum migrate_stop why = migrate_policy(&p, m.downtime_ticks);
	if (why != MIGRATE_GO_ON) {
		stop_and_copy(why);
		return;
	}
	print_round();
	m.round++;
	m.cursor = 0;
	m.round_sent = 0;
	m.round_dirty = m.round_found;
	m.round_start = rdtsc();
}

static void copy_step(void)
{
	struct vm *vm = m.src;
	uint64_t t0 = rdtsc();
	int n;

	if (!source_live(vm)) {
		abandon("the VM stopped or restarted");
		return;
	}
	if (m.remote && m.remote->state(m.remote) == MIGRATE_SINK_FAILED) {
		abandon(m.sink->why);
		return;
	}
	if (!sink_has_room())
		return;
	/* A round ends on the pass after its last chunk, right after a guest
	 * slice: a stop-and-copy then starts at the source's last exit. */
	if (m.cursor >= m.pages) {
		if (sink_drained())
			end_round();
		return;
	}
	n = send_chunk(MIGRATE_CHUNK_PAGES);
	if (n < 0) {
		abandon(m.sink->why);
		return;
	}
	m.copy_ticks += rdtsc() - t0;
	m.round_sent += (uint64_t)n;
	m.total_sent += (uint64_t)n;
}

/* Stopped, to another machine: the last pages as the link takes them,
 * then END. */
static void final_step(void)
{
	int n;

	if (!source_live(m.src)) {
		abandon("the VM stopped or restarted");
		return;
	}
	/* Its pages are read as the link takes them: it must not run. */
	if (m.src->state != VM_PAUSED) {
		abandon("it was unpaused during its stop-and-copy");
		return;
	}
	if (m.remote->state(m.remote) == MIGRATE_SINK_FAILED) {
		abandon(m.sink->why);
		return;
	}
	while (m.cursor < m.pages && sink_has_room()) {
		n = send_chunk(PAGE_DATA_BATCH);
		if (n < 0) {
			abandon(m.sink->why);
			return;
		}
		m.last_pages += (uint64_t)n;
	}
	if (m.cursor < m.pages || !sink_has_room())
		return;
	if (stream_writer_finish(&m.sw) < 0 || flush()) {
		abandon(m.sink->why[0] ? m.sink->why : "stream: END does not fit");
		return;
	}
	m.total_sent += m.last_pages;
	m.remote->close(m.remote);
	__atomic_store_n(&m.phase, PHASE_WAIT, __ATOMIC_RELEASE);
}

/* The source's VM goes, on its CPU. */
static void free_source(const char *why)
{
	m.src->destroy_requested = true;
	m.src->preserved = false;
	vm_stop(m.src, VM_END_DESTROYED, why);
}

static void print_total(uint64_t end)
{
	kprintf("pgvisor: vm %s: total %llu ticks, %llu pages sent of %llu (%llu.%02llu x)\n",
		m.name, (unsigned long long)(end - m.start_tsc), (unsigned long long)m.total_sent,
		(unsigned long long)m.pages, (unsigned long long)(m.total_sent / m.pages),
		(unsigned long long)(m.total_sent * 100 / m.pages % 100));
}

/* All sent to another machine: its verdict. The downtime it can see here
 * ends at the acknowledgement of the started VM (the two clocks differ;
 * the peer reports its own part). */
static void wait_step(void)
{
	enum migrate_sink_state st = m.remote->state(m.remote);
	uint64_t acked = rdtsc();

	if (st == MIGRATE_SINK_OPEN)
		return;
	if (st == MIGRATE_SINK_FAILED) {
		abandon(m.sink->why);
		return;
	}
	m.remote->release(m.remote);
	dirty_track_stop(m.src);
	free_buffers();
	print_round();
	kprintf("pgvisor: vm %s: stop-and-copy after round %u (%s): %llu pages\n", m.name, m.round,
		migrate_stop_name(m.why), (unsigned long long)m.last_pages);
	free_source("migrated to another machine");
	kprintf("pgvisor: vm %s: migrated to %s: stopped %llu ticks (%llu ms) from its last exit "
		"here to the acknowledgement of its start there\n",
		m.name, m.to, (unsigned long long)(acked - m.stop_tsc),
		(unsigned long long)((acked - m.stop_tsc) / (tsc_hz() / MS_PER_S)));
	print_total(acked);
	__atomic_store_n(&m.phase, PHASE_IDLE, __ATOMIC_RELEASE);
}

/* The downtime within the machine, step by step (ticks). */
static void print_parts(uint64_t entry)
{
	char line[256];
	size_t len = 0;
	uint64_t at = m.stop_tsc;

	for (unsigned i = 0; i < PART_COUNT && len < sizeof(line); i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %llu, ", part_name[i],
					(unsigned long long)(m.part[i] - at));
		at = m.part[i];
	}
	kprintf("pgvisor: vm %s: downtime parts (ticks): %sto the first entry %llu\n", m.name, line,
		(unsigned long long)(entry - at));
}

/* The destination entered its guest (or ended before): the report. */
static void arrived_step(void)
{
	uint64_t entry = m.dst->vcpus[0].first_entry_tsc;

	if (!entry && m.dst->state == VM_RUNNING)
		return;
	dirty_track_stop(m.src);
	free_buffers();
	print_round();
	kprintf("pgvisor: vm %s: stop-and-copy after round %u (%s): %llu pages\n", m.name, m.round,
		migrate_stop_name(m.why), (unsigned long long)m.last_pages);
	free_source("migrated to a new slot, this one freed");
	vm_start_report(m.dst);
	if (entry) {
		print_parts(entry);
		kprintf("pgvisor: vm %s: migrated: downtime %llu ticks, total %llu ticks, "
			"%llu pages sent of %llu (%llu.%02llu x)\n",
			m.name, (unsigned long long)(entry - m.stop_tsc),
			(unsigned long long)(entry - m.start_tsc), (unsigned long long)m.total_sent,
			(unsigned long long)m.pages, (unsigned long long)(m.total_sent / m.pages),
			(unsigned long long)(m.total_sent * 100 / m.pages % 100));
	} else {
		kprintf("pgvisor: vm %s: migrated, but it stopped before its first entry\n",
			m.name);
	}
	__atomic_store_n(&m.phase, PHASE_IDLE, __ATOMIC_RELEASE);
}

void migrate_poll(void)
{
	enum phase p = __atomic_load_n(&m.phase, __ATOMIC_ACQUIRE);

	if (p == PHASE_IDLE || m.cpu != this_cpu()->index)
		return;
	if (p == PHASE_COPY)
		copy_step();
	else if (p == PHASE_FINAL)
		final_step();
	else if (p == PHASE_WAIT)
		wait_step();
	else
		arrived_step();
}
