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
#include "vmm/core/sched.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/dev/vtime.h"
#include "vmm/migrate/mig_chan.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vm_restore.h"
#include "vmm/migrate/vm_save.h"
#include "vmm/vm/host_ip.h"

#define NS_PER_MS 1000000ull
#define RTO_NS (50 * NS_PER_MS)
#define TIMEOUT_NS (5000 * NS_PER_MS)
#define LEN_PREFIX 8 /* the stream's length, little-endian, before it */
#define KIB_SHIFT 10
#define IP_TEXT 16

static struct hmac_sha256_key key;
static const struct boot_info *boot;
static uint64_t nonce_count;

enum out_phase {
	OUT_IDLE,
	OUT_START,   /* saved and paused; the session opens at the next poll */
	OUT_SENDING, /* bytes, then FIN, then the peer's result */
	OUT_CANCEL,  /* asked by the operator */
	OUT_DESTROY, /* the peer restored it: destroyed on the CPU of its vCPU 0 */
};

/* The migration out: the console sets it up, the network poll runs it.
 * The console takes out.lock with the VM's lock held and the poll takes
 * the VM's lock inside out.lock: no deadlock, as vm_save takes only VMs
 * on one CPU, for which vm_lock takes nothing. */
static struct {
	struct spinlock lock;
	enum out_phase phase;
	struct vm *vm;
	bool was_running;
	uint32_t peer;
	char peer_text[IP_TEXT];
	uint8_t *buf;
	size_t npages, len, off;
	uint64_t pages, t_stop, t_saved;
	struct mig_tx tx;
} out;

/* The migration in. */
static struct {
	struct mig_rx rx;
	uint32_t from;
	uint8_t prefix[LEN_PREFIX];
	size_t prefix_have;
	uint64_t want, got;
	uint8_t *buf;
	size_t npages;
	const char *refused; /* why the stream cannot be restored, once known */
	uint64_t t_begin;
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

static void in_free(void)
{
	if (in.buf)
		page_free(in.buf, in.npages);
	in.buf = NULL;
}

static void in_begin(void *ctx, uint32_t from)
{
	(void)ctx;
	in_free();
	in.from = from;
	in.prefix_have = 0;
	in.want = in.got = 0;
	in.refused = NULL;
	in.t_begin = rdtsc();
}

static void in_deliver(void *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	(void)ctx;
	while (len && in.prefix_have < LEN_PREFIX) {
		in.prefix[in.prefix_have++] = *p++;
		len--;
		if (in.prefix_have < LEN_PREFIX)
			continue;
		for (unsigned i = 0; i < LEN_PREFIX; i++)
			in.want |= (uint64_t)in.prefix[i] << (8 * i);
		in.npages = pages_for(in.want);
		if (in.want < STREAM_HEADER_SIZE || in.want > page_alloc_free_bytes())
			in.refused = "no room for a stream of that length";
		else if (!(in.buf = page_alloc_unzeroed(in.npages)))
			in.refused = "not enough memory for the stream";
	}
	if (!len || in.refused)
		return;
	if (len > in.want - in.got) {
		in.refused = "more bytes than the stream's length";
		return;
	}
	memcpy(in.buf + in.got, p, len);
	in.got += len;
}

static void in_end(void *ctx)
{
	char from[IP_TEXT], why[MIG_RESULT_MAX], line[MIG_RESULT_MAX];
	struct vm *vm = NULL;

	(void)ctx;
	ip_text(in.from, from);
	if (!in.refused && in.got != in.want)
		in.refused = "the stream ended early";
	if (in.refused)
		snprintf(why, sizeof(why), "%s", in.refused);
	else
		vm = vm_restore(in.buf, in.want, NULL, boot, 1u << this_cpu()->index, why,
				sizeof(why));
	if (vm) {
		snprintf(line, sizeof(line), "vm %s restored", vm->name);
		kprintf("pgvisor: migrate: vm %s received from %s: %llu KiB in %llu ms, "
			"restored\n",
			vm->name, from, (unsigned long long)(in.want >> KIB_SHIFT),
			(unsigned long long)ms_of(rdtsc() - in.t_begin));
		mig_rx_set_result(&in.rx, MIG_RESULT_OK, line);
	} else {
		kprintf("pgvisor: migrate: stream from %s refused: %s\n", from, why);
		mig_rx_set_result(&in.rx, MIG_RESULT_REFUSED, why);
	}
	in_free();
}

static void in_abandon(void *ctx, const char *why)
{
	char from[IP_TEXT];

	(void)ctx;
	ip_text(in.from, from);
	kprintf("pgvisor: migrate: transfer from %s abandoned: %s\n", from, why);
	in_free();
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

/* --- out --- */

static void out_free(void)
{
	if (out.buf)
		page_free(out.buf, out.npages);
	out.buf = NULL;
	out.vm = NULL;
	out.phase = OUT_IDLE;
}

static void set_paused(struct vm *vm, bool pause)
{
	bool locked = vm_lock(vm);

	if (vm->state == (pause ? VM_RUNNING : VM_PAUSED)) {
		vm->state = pause ? VM_PAUSED : VM_RUNNING;
		vm_kick_cpus(vm);
	}
	vm_unlock(vm, locked);
}

/* The source runs on as before the command. */
static void out_resume(void)
{
	if (out.was_running)
		set_paused(out.vm, false);
	out_free();
}

static bool acts_on(const struct vm *vm)
{
	return vm->vcpus[0].cpu == this_cpu()->index || !sched_cpu_active(vm->vcpus[0].cpu);
}

/* The peer runs the VM now: it goes here, on the CPU that acts on it
 * (this one, or a later poll's). */
static void out_destroy(void)
{
	if (!acts_on(out.vm))
		return;
	bool locked = vm_lock(out.vm);
	vm_destroy(out.vm);
	vm_unlock(out.vm, locked);
	out_free();
}

static void out_sending(uint64_t now_ns)
{
	struct mig_tx *tx = &out.tx;

	if (out.off < out.len)
		out.off += mig_tx_write(tx, out.buf + out.off, out.len - out.off, now_ns);
	if (out.off == out.len)
		mig_tx_close(tx, now_ns);
	mig_tx_poll(tx, now_ns);
	if (tx->state == MIG_TX_DONE && tx->result == MIG_RESULT_OK) {
		uint64_t t = rdtsc();
		kprintf("pgvisor: migrate: vm %s to %s: %s; %llu KiB in %llu datagrams (%llu "
			"sent again), downtime %llu ticks (%llu ms): save %llu, transfer and "
			"restore %llu\n",
			out.vm->name, out.peer_text, tx->result_line,
			(unsigned long long)(out.len >> KIB_SHIFT),
			(unsigned long long)tx->stats.sent, (unsigned long long)tx->stats.resent,
			(unsigned long long)(t - out.t_stop),
			(unsigned long long)ms_of(t - out.t_stop),
			(unsigned long long)(out.t_saved - out.t_stop),
			(unsigned long long)(t - out.t_saved));
		out.phase = OUT_DESTROY;
		out_destroy();
	} else if (tx->state == MIG_TX_DONE) {
		kprintf("pgvisor: migrate: vm %s to %s: refused there (%s): it runs on here\n",
			out.vm->name, out.peer_text, tx->result_line);
		out_resume();
	} else if (tx->state == MIG_TX_FAILED) {
		kprintf("pgvisor: migrate: vm %s to %s: no answer for %llu ms (no pgvisor "
			"there, or another key): it runs on here\n",
			out.vm->name, out.peer_text, (unsigned long long)(TIMEOUT_NS / NS_PER_MS));
		out_resume();
	}
}

static void out_tick(uint64_t now_ns)
{
	spin_lock(&out.lock);
	switch (out.phase) {
	case OUT_START:
		mig_tx_open(&out.tx, &key, net_link, out.peer, fresh_nonce(), now_ns, RTO_NS,
			    TIMEOUT_NS);
		out.phase = OUT_SENDING;
		break;
	case OUT_SENDING:
		out_sending(now_ns);
		break;
	case OUT_CANCEL:
		mig_tx_abort(&out.tx);
		kprintf("pgvisor: migrate: vm %s to %s: cancelled: it runs on here\n", out.vm->name,
			out.peer_text);
		out_resume();
		break;
	case OUT_DESTROY:
		out_destroy();
		break;
	case OUT_IDLE:
		break;
	}
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
	int ret = -1;

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
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		snprintf(why, whylen, "vm %s: is not running", vm->name);
		return -1;
	}
	spin_lock(&out.lock);
	if (out.phase != OUT_IDLE) {
		snprintf(why, whylen, "migrate: vm %s is on its way out already (one at a time)",
			 out.vm->name);
		goto unlock;
	}
	uint64_t clock_ns = vtime_now_ns(&vm->vtime), t0 = rdtsc();
	size_t cap = LEN_PREFIX + vm_save_bound(vm);
	out.npages = pages_for(cap);
	out.buf = page_alloc_unzeroed(out.npages);
	if (!out.buf) {
		snprintf(why, whylen, "migrate: vm %s: not enough memory for its stream (%zu KiB)",
			 vm->name, cap >> KIB_SHIFT);
		goto unlock;
	}
	long len = vm_save(vm, clock_ns, out.buf + LEN_PREFIX, out.npages * PAGE_SIZE - LEN_PREFIX,
			   &out.pages, why, whylen);
	if (len < 0) {
		page_free(out.buf, out.npages);
		out.buf = NULL;
		goto unlock;
	}
	for (unsigned i = 0; i < LEN_PREFIX; i++)
		out.buf[i] = (uint8_t)((uint64_t)len >> (8 * i));
	out.len = LEN_PREFIX + (size_t)len;
	out.off = 0;
	out.vm = vm;
	out.peer = peer;
	ip_text(peer, out.peer_text);
	out.was_running = vm->state == VM_RUNNING;
	out.t_stop = t0;
	/* Stop-and-copy: nothing the VM does after the save may be lost. */
	set_paused(vm, true);
	out.t_saved = rdtsc();
	out.phase = OUT_START;
	kprintf("pgvisor: migrate: vm %s to %s: %llu KiB, %llu pages, stopped for it\n", vm->name,
		out.peer_text, (unsigned long long)(out.len >> KIB_SHIFT),
		(unsigned long long)out.pages);
	ret = 0;
unlock:
	spin_unlock(&out.lock);
	return ret;
}

int migrate_remote_cancel(struct vm *vm, char *why, size_t whylen)
{
	int ret = 0;

	spin_lock(&out.lock);
	if ((out.phase != OUT_START && out.phase != OUT_SENDING) || out.vm != vm) {
		snprintf(why, whylen, "migrate cancel: vm %s is not on its way out", vm->name);
		ret = -1;
	} else if (out.phase == OUT_START) {
		kprintf("pgvisor: migrate: vm %s to %s: cancelled: it runs on here\n", vm->name,
			out.peer_text);
		out_resume();
	} else {
		out.phase = OUT_CANCEL;
	}
	spin_unlock(&out.lock);
	return ret;
}
