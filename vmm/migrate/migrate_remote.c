#include "vmm/migrate/migrate_remote.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lib/cmdline.h"
#include "arch/x86/lib/sha256.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/migrate/mig_chan.h"
#include "vmm/migrate/migrate.h"
#include "vmm/migrate/migrate_dest.h"
#include "vmm/vm/host_ip.h"

#define NS_PER_MS 1000000ull
#define RTO_NS (50 * NS_PER_MS)
#define TIMEOUT_NS (5000 * NS_PER_MS)
#define QUEUE_CHUNKS 2 /* the queue holds two of the engine's chunks */
#define KIB_SHIFT 10
#define IP_TEXT 16

static struct hmac_sha256_key key;
static const struct boot_info *boot;
static uint64_t nonce_count;

enum out_phase {
	OUT_IDLE,
	OUT_START,   /* the engine writes; the session opens at the next poll */
	OUT_SENDING, /* the queue drains into the channel, then FIN, then the verdict */
	OUT_ENDED,   /* the verdict is in, or the session failed */
};

/* The migration out: the engine (on the VM's CPU) writes the stream into
 * a queue through the sink, the network poll (on its CPU) drains it into
 * the channel; both under out.lock, which is taken with nothing else
 * held and holds nothing else. */
static struct {
	struct spinlock lock;
	enum out_phase phase;
	struct migrate_sink sink;
	enum migrate_sink_state state;
	uint32_t peer;
	char peer_text[IP_TEXT];
	uint8_t *q; /* a ring: used bytes from head */
	size_t npages, cap, head, used;
	bool closed; /* END is in the queue: FIN after it */
	uint64_t bytes;
	struct mig_tx tx;
} out;

/* The migration in: the bytes go to a push loader as they come. */
static struct {
	struct mig_rx rx;
	uint32_t from;
	struct migrate_dest dest;
	bool loading; /* dest holds its buffers (and maybe a VM) */
	char refused[MIGRATE_WHY_MAX];
	uint64_t t_begin, bytes;
	struct vm *arrived; /* started; its first entry not reported yet */
	uint64_t t_tail;    /* its stop-and-copy's first record here */
	char arrived_from[IP_TEXT];
} in;

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void ip_text(uint32_t ip, char buf[IP_TEXT])
{
	snprintf(buf, IP_TEXT, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff);
}

static uint64_t ms_of(uint64_t ticks)
{
	uint64_t per_ms = tsc_hz() / 1000;

	return ticks / (per_ms ? per_ms : 1);
}

/* A session nonce: fresh for every session (the TSC, a counter and the
 * address hashed), which is what replay protection needs; secrecy comes
 * from the key. */
static uint64_t fresh_nonce(void)
{
	struct {
		uint64_t tsc, count;
		uint32_t ip;
	} seed = { rdtsc(), ++nonce_count, host_ip_addr() };
	uint8_t d[SHA256_DIGEST_SIZE];
	uint64_t n;

	sha256(&seed, sizeof(seed), d);
	memcpy(&n, d, sizeof(n));
	return n;
}

static int link_send(void *ctx, uint32_t to, const void *dgram, size_t len)
{
	(void)ctx;
	return host_ip_send(to, dgram, len);
}

static const struct mig_link net_link = { link_send, NULL };

/* --- in --- */

static void in_drop(void)
{
	if (in.loading)
		migrate_dest_abort(&in.dest);
	in.loading = false;
}

static void in_refuse(const char *why)
{
	snprintf(in.refused, sizeof(in.refused), "%s", why);
	in_drop();
}

static void in_begin(void *ctx, uint32_t from)
{
	(void)ctx;
	in_drop();
	in.from = from;
	in.refused[0] = '\0';
	in.bytes = 0;
	in.t_begin = rdtsc();
	if (migrate_dest_init(&in.dest, boot, false))
		snprintf(in.refused, sizeof(in.refused), "%s", in.dest.why);
	else
		in.loading = true;
}

static void in_deliver(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	if (in.refused[0])
		return;
	in.bytes += len;
	if (migrate_dest_feed(&in.dest, data, len))
		in_refuse(in.dest.why);
}

static void in_end(void *ctx)
{
	char from[IP_TEXT], line[MIG_RESULT_MAX];
	const char *name = in.dest.first.cfg.name;

	(void)ctx;
	ip_text(in.from, from);
	if (!in.refused[0] && !in.dest.done)
		in_refuse("the stream ended before its END");
	if (!in.refused[0] && vm_named(name)) {
		snprintf(line, sizeof(line), "a VM named %s runs here already", name);
		in_refuse(line);
	}
	if (in.refused[0]) {
		kprintf("pgvisor: migrate: stream from %s refused: %s\n", from, in.refused);
		mig_rx_set_result(&in.rx, MIG_RESULT_REFUSED, in.refused);
		return;
	}
	in.t_tail = in.dest.tail_tsc;
	in.loading = false;
	in.arrived = migrate_dest_start(&in.dest, name, 1u << this_cpu()->index);
	snprintf(in.arrived_from, sizeof(in.arrived_from), "%s", from);
	vm_start_report(in.arrived);
	kprintf("pgvisor: migrate: vm %s received from %s: %llu KiB in %llu ms, %llu pages, "
		"started\n",
		in.arrived->name, from, (unsigned long long)(in.bytes >> KIB_SHIFT),
		(unsigned long long)ms_of(rdtsc() - in.t_begin),
		(unsigned long long)in.dest.pages_received);
	snprintf(line, sizeof(line), "vm %s started", in.arrived->name);
	mig_rx_set_result(&in.rx, MIG_RESULT_OK, line);
}

/* The arrived VM's first entry: the destination's part of the downtime,
 * on this machine's clock. */
static void in_report_entry(void)
{
	struct vm *vm = in.arrived;
	uint64_t entry;

	if (!vm)
		return;
	entry = vm->vcpus[0].first_entry_tsc;
	if (!entry && vm->state == VM_RUNNING)
		return;
	if (entry)
		kprintf("pgvisor: migrate: vm %s from %s: stopped here %llu ticks (%llu ms) from "
			"its stop-and-copy's first record to its first entry\n",
			vm->name, in.arrived_from, (unsigned long long)(entry - in.t_tail),
			(unsigned long long)ms_of(entry - in.t_tail));
	in.arrived = NULL;
}

static void in_abandon(void *ctx, const char *why)
{
	char from[IP_TEXT];

	(void)ctx;
	ip_text(in.from, from);
	kprintf("pgvisor: migrate: transfer from %s abandoned: %s\n", from, why);
	in_drop();
}

static void in_bad_mac(void *ctx, uint32_t from)
{
	char text[IP_TEXT];

	(void)ctx;
	ip_text(from, text);
	kprintf("pgvisor: migrate: a datagram from %s failed its MAC (another key?): "
		"dropped, as any more will be\n",
		text);
}

static const struct mig_rx_ops in_ops = { in_begin, in_deliver, in_end, in_abandon, in_bad_mac };

/* --- out: the engine's sink --- */

static int out_write(struct migrate_sink *sink, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int ret = 0;

	spin_lock(&out.lock);
	if (len > out.cap - out.used) {
		snprintf(sink->why, sizeof(sink->why), "to %s: the send queue is full",
			 out.peer_text);
		ret = -1;
	}
	while (!ret && len) {
		size_t at = (out.head + out.used) % out.cap;
		size_t n = len < out.cap - at ? len : out.cap - at;
		memcpy(out.q + at, p, n);
		out.used += n;
		out.bytes += n;
		p += n;
		len -= n;
	}
	spin_unlock(&out.lock);
	return ret;
}

static size_t out_queued(struct migrate_sink *sink)
{
	size_t used;

	(void)sink;
	spin_lock(&out.lock);
	used = out.used;
	spin_unlock(&out.lock);
	return used;
}

static void out_close(struct migrate_sink *sink)
{
	(void)sink;
	spin_lock(&out.lock);
	out.closed = true;
	spin_unlock(&out.lock);
}

static enum migrate_sink_state out_state(struct migrate_sink *sink)
{
	enum migrate_sink_state st;

	(void)sink;
	spin_lock(&out.lock);
	st = out.state;
	spin_unlock(&out.lock);
	return st;
}

static void out_release(struct migrate_sink *sink)
{
	(void)sink;
	spin_lock(&out.lock);
	if (out.phase == OUT_SENDING)
		mig_tx_abort(&out.tx);
	if (out.q)
		page_free(out.q, out.npages);
	out.q = NULL;
	out.phase = OUT_IDLE;
	spin_unlock(&out.lock);
}

/* The queue into the channel, as far as its window takes. */
static void out_drain(uint64_t now_ns)
{
	while (out.used) {
		size_t n = out.cap - out.head < out.used ? out.cap - out.head : out.used;
		size_t took = mig_tx_write(&out.tx, out.q + out.head, n, now_ns);
		out.head = (out.head + took) % out.cap;
		out.used -= took;
		if (took < n)
			break;
	}
	/* Nothing more waits: what the channel holds goes now, not with
	 * the engine's next chunk. */
	if (!out.used)
		mig_tx_flush(&out.tx, now_ns);
}

static void out_sending(uint64_t now_ns)
{
	struct mig_tx *tx = &out.tx;

	out_drain(now_ns);
	if (out.closed && !out.used)
		mig_tx_close(tx, now_ns);
	mig_tx_poll(tx, now_ns);
	if (tx->state == MIG_TX_DONE && tx->result == MIG_RESULT_OK) {
		kprintf("pgvisor: migrate: to %s: %s; %llu KiB in %llu datagrams (%llu sent "
			"again)\n",
			out.peer_text, tx->result_line,
			(unsigned long long)(out.bytes >> KIB_SHIFT),
			(unsigned long long)tx->stats.sent, (unsigned long long)tx->stats.resent);
		out.state = MIGRATE_SINK_ACCEPTED;
	} else if (tx->state == MIG_TX_DONE) {
		snprintf(out.sink.why, sizeof(out.sink.why), "refused at %s (%s)", out.peer_text,
			 tx->result_line);
		out.state = MIGRATE_SINK_FAILED;
	} else if (tx->state == MIG_TX_FAILED) {
		snprintf(out.sink.why, sizeof(out.sink.why),
			 "no answer from %s for %llu ms (no pgvisor there, or another key)",
			 out.peer_text, (unsigned long long)(TIMEOUT_NS / NS_PER_MS));
		out.state = MIGRATE_SINK_FAILED;
	}
	if (out.state != MIGRATE_SINK_OPEN)
		out.phase = OUT_ENDED;
}

static void out_tick(uint64_t now_ns)
{
	spin_lock(&out.lock);
	if (out.phase == OUT_START) {
		mig_tx_open(&out.tx, &key, net_link, out.peer, fresh_nonce(), now_ns, RTO_NS,
			    TIMEOUT_NS);
		out.phase = OUT_SENDING;
	}
	if (out.phase == OUT_SENDING)
		out_sending(now_ns);
	spin_unlock(&out.lock);
}

/* --- the network's side --- */

static void receive(void *ctx, uint32_t from, const uint8_t *dgram, size_t len, uint64_t now_ns)
{
	(void)ctx;
	if (mig_dgram_for_receiver(dgram, len)) {
		mig_rx_input(&in.rx, from, dgram, len, fresh_nonce(), now_ns);
		return;
	}
	spin_lock(&out.lock);
	if (out.phase == OUT_SENDING && from == out.peer)
		mig_tx_input(&out.tx, dgram, len, now_ns);
	spin_unlock(&out.lock);
}

static void tick(void *ctx, uint64_t now_ns)
{
	(void)ctx;
	mig_rx_poll(&in.rx, now_ns);
	in_report_entry();
	out_tick(now_ns);
}

void migrate_remote_init(const char *cmdline, const struct boot_info *bi)
{
	char k[MIGRATE_KEY_MAX];
	bool have = cmdline_value(cmdline, MIGRATE_KEY_OPTION, k, sizeof(k));

	boot = bi;
	if (!host_ip_enabled()) {
		if (have)
			kprintf("pgvisor: migrate: %s= without ip=ADDR/PREFIX: no migration "
				"between machines\n",
				MIGRATE_KEY_OPTION);
		memset(k, 0, sizeof(k));
		return;
	}
	if (!have || strlen(k) < MIG_KEY_MIN) {
		kprintf("pgvisor: migrate: %s= %s: no migration between machines\n",
			MIGRATE_KEY_OPTION,
			have ? "is too short (16 characters at least)" : "is missing");
		memset(k, 0, sizeof(k));
		return;
	}
	hmac_sha256_key(&key, k, strlen(k));
	memset(k, 0, sizeof(k));
	mig_rx_init(&in.rx, &key, net_link, &in_ops, NULL, TIMEOUT_NS);
	static const struct host_ip_listener l = { receive, tick, NULL };
	host_ip_listen(MIGRATE_UDP_PORT, &l);
	char ip[IP_TEXT];
	ip_text(host_ip_addr(), ip);
	kprintf("pgvisor: migrate: listening on %s UDP port %u (HMAC-SHA-256 with the "
		"pre-shared key)\n",
		ip, MIGRATE_UDP_PORT);
}

void migrate_remote_summary(void)
{
	const struct mig_stats *rx = &in.rx.stats;

	if (!in.rx.key)
		return;
	/* Out: the totals of the last migration out are in its own line. */
	kprintf("pgvisor: migrate: %llu datagrams received as a destination, %llu failed the "
		"MAC, %llu refused as another session's or seen before; %llu sent\n",
		(unsigned long long)(rx->received + rx->bad_mac), (unsigned long long)rx->bad_mac,
		(unsigned long long)rx->stale, (unsigned long long)rx->sent);
}

int migrate_remote_start(struct vm *vm, const char *host, char *why, size_t whylen)
{
	uint32_t peer;
	size_t cap = QUEUE_CHUNKS * migrate_chunk_bytes(vm);

	if (!in.rx.key) {
		snprintf(why, whylen,
			 "migrate: no migration between machines here (it takes "
			 "ip=ADDR/PREFIX and %s= on pgvisor's command line)",
			 MIGRATE_KEY_OPTION);
		return -1;
	}
	if (!host_ip_parse_addr(host, &peer) || !peer || peer == host_ip_addr()) {
		snprintf(why, whylen, "migrate: '%s' is not another machine's IPv4 address", host);
		return -1;
	}
	spin_lock(&out.lock);
	if (out.phase != OUT_IDLE) {
		snprintf(why, whylen, "migrate: vm %s: a migration out is on its way already",
			 vm->name);
		spin_unlock(&out.lock);
		return -1;
	}
	out.npages = pages_for(cap);
	out.q = page_alloc_unzeroed(out.npages);
	if (!out.q) {
		snprintf(why, whylen, "migrate: vm %s: not enough memory for its send queue",
			 vm->name);
		spin_unlock(&out.lock);
		return -1;
	}
	out.cap = cap;
	out.head = out.used = 0;
	out.bytes = 0;
	out.closed = false;
	out.state = MIGRATE_SINK_OPEN;
	out.sink = (struct migrate_sink){ .write = out_write,
					  .queued = out_queued,
					  .close = out_close,
					  .state = out_state,
					  .release = out_release };
	out.peer = peer;
	ip_text(peer, out.peer_text);
	out.phase = OUT_START;
	spin_unlock(&out.lock);
	if (migrate_start_to(vm, boot, &out.sink, out.peer_text, why, whylen)) {
		out_release(&out.sink);
		return -1;
	}
	return 0;
}
