/* Unit tests for vmm/migrate/mig_chan.c, the authenticated byte stream of
 * migration between machines, over a simulated link that loses, delays
 * (and so reorders) and duplicates datagrams: the bytes arrive exact and
 * in order with the receiver's result; a receiver with another key takes
 * nothing and the sender gives up; a tampered datagram is dropped and
 * counted and the stream still completes; datagrams of an earlier session
 * replayed into a later one are refused; a cancel reaches the receiver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/migrate/mig_chan.h"

#define MS 1000000ull
#define RTO (20 * MS)
#define TIMEOUT (2000 * MS)
#define STREAM_BYTES (200 * 1024 + 123)
#define MAX_FLIGHT 4096
#define RX_ADDR 2
#define TX_ADDR 1

struct flight {
	uint64_t due;
	uint32_t to;
	size_t len;
	uint8_t data[MIG_DGRAM_MAX];
};

struct net {
	struct flight f[MAX_FLIGHT];
	unsigned n;
	unsigned drop_pct, dup_pct, delay_ms; /* delays up to delay_ms: reordering */
	uint64_t now;
	uint32_t rng;
	int tamper_at; /* flip a bit of the n-th datagram to the receiver (-1: none) */
	unsigned to_rx;
	/* Every datagram to the receiver, for replays. */
	struct flight *log;
	unsigned nlog, log_cap;
};

static uint32_t rnd(struct net *n)
{
	n->rng = n->rng * 1103515245u + 12345u;
	return n->rng >> 8;
}

static void enqueue(struct net *n, uint32_t to, const void *d, size_t len, uint64_t due)
{
	assert_true(n->n < MAX_FLIGHT);
	struct flight *f = &n->f[n->n++];
	f->to = to;
	f->len = len;
	f->due = due;
	memcpy(f->data, d, len);
}

static int net_send(void *ctx, uint32_t to, const void *d, size_t len)
{
	struct net *n = ctx;

	assert_true(len <= MIG_DGRAM_MAX);
	if (to == RX_ADDR && n->log && n->nlog < n->log_cap) {
		n->log[n->nlog].len = len;
		memcpy(n->log[n->nlog++].data, d, len);
	}
	if (rnd(n) % 100 < n->drop_pct)
		return 0;
	unsigned copies = rnd(n) % 100 < n->dup_pct ? 2 : 1;
	for (unsigned i = 0; i < copies; i++) {
		enqueue(n, to, d, len, n->now + (n->delay_ms ? rnd(n) % n->delay_ms * MS : 0));
		if (to == RX_ADDR && (int)n->to_rx++ == n->tamper_at)
			n->f[n->n - 1].data[MIG_HEADER_SIZE + 3] ^= 0x10;
	}
	return 0;
}

struct app {
	uint8_t *got;
	size_t len;
	unsigned begins, ends, abandons, bad_macs;
	bool answer_at_end; /* set the result in end() */
	enum mig_result result;
	struct mig_rx *rx;
};

static void app_begin(void *ctx, uint32_t from)
{
	struct app *a = ctx;

	assert_int_equal(from, TX_ADDR);
	a->begins++;
	a->len = 0;
}

static void app_deliver(void *ctx, const void *buf, size_t len)
{
	struct app *a = ctx;

	assert_true(a->len + len <= STREAM_BYTES);
	memcpy(a->got + a->len, buf, len);
	a->len += len;
}

static void app_end(void *ctx)
{
	struct app *a = ctx;

	a->ends++;
	if (a->answer_at_end)
		mig_rx_set_result(a->rx, a->result, a->result == MIG_RESULT_OK ? "restored" : "no");
}

static void app_abandon(void *ctx, const char *why)
{
	(void)why;
	((struct app *)ctx)->abandons++;
}

static void app_bad_mac(void *ctx, uint32_t from)
{
	(void)from;
	((struct app *)ctx)->bad_macs++;
}

static const struct mig_rx_ops ops = { app_begin, app_deliver, app_end, app_abandon, app_bad_mac };

struct world {
	struct net net;
	struct hmac_sha256_key ktx, krx;
	struct mig_tx tx;
	struct mig_rx rx;
	struct app app;
	uint8_t *stream;
	size_t written;
	bool closed;
	uint64_t nonce;
};

static void world_init(struct world *w, const char *rx_key)
{
	static const char key[] = "0123456789abcdef-the-shared-key";

	memset(w, 0, sizeof(*w));
	w->net.rng = 7;
	w->net.tamper_at = -1;
	hmac_sha256_key(&w->ktx, key, strlen(key));
	hmac_sha256_key(&w->krx, rx_key ? rx_key : key, strlen(rx_key ? rx_key : key));
	w->stream = malloc(STREAM_BYTES);
	w->app.got = malloc(STREAM_BYTES);
	assert_non_null(w->stream);
	assert_non_null(w->app.got);
	for (size_t i = 0; i < STREAM_BYTES; i++)
		w->stream[i] = (uint8_t)(i * 31 + i / 251);
	w->app.answer_at_end = true;
	w->app.result = MIG_RESULT_OK;
	w->app.rx = &w->rx;
	w->nonce = 1000;
	mig_rx_init(&w->rx, &w->krx, (struct mig_link){ net_send, &w->net }, &ops, &w->app,
		    TIMEOUT);
}

static void world_free(struct world *w)
{
	free(w->stream);
	free(w->app.got);
}

static void start(struct world *w)
{
	w->written = 0;
	w->closed = false;
	mig_tx_open(&w->tx, &w->ktx, (struct mig_link){ net_send, &w->net }, RX_ADDR,
		    ++w->nonce * 0x9e3779b97f4a7c15ull, w->net.now, RTO, TIMEOUT);
}

/* Delivers what is due, in the order it was queued among equals. */
static void deliver_due(struct world *w)
{
	for (unsigned i = 0; i < w->net.n;) {
		struct flight *f = &w->net.f[i];
		if (f->due > w->net.now) {
			i++;
			continue;
		}
		struct flight copy = *f;
		*f = w->net.f[--w->net.n];
		if (copy.to == RX_ADDR)
			mig_rx_input(&w->rx, TX_ADDR, copy.data, copy.len,
				     ++w->nonce * 0x51afd7ed558ccd1dull, w->net.now);
		else
			mig_tx_input(&w->tx, copy.data, copy.len, w->net.now);
	}
}

/* One millisecond: the writer writes what the window takes, the link
 * delivers, both sides poll. */
static void step(struct world *w)
{
	if (w->tx.state == MIG_TX_OPENING || w->tx.state == MIG_TX_OPEN) {
		w->written += mig_tx_write(&w->tx, w->stream + w->written,
					   STREAM_BYTES - w->written, w->net.now);
		if (w->written == STREAM_BYTES && !w->closed)
			w->closed = mig_tx_close(&w->tx, w->net.now) == 0;
	}
	deliver_due(w);
	mig_tx_poll(&w->tx, w->net.now);
	mig_rx_poll(&w->rx, w->net.now);
	w->net.now += MS;
}

static void run_until_settled(struct world *w, uint64_t limit_ms)
{
	for (uint64_t i = 0; i < limit_ms; i++) {
		step(w);
		if (w->tx.state == MIG_TX_DONE || w->tx.state == MIG_TX_FAILED)
			break;
	}
}

static void check_exact(struct world *w)
{
	assert_int_equal(w->tx.state, MIG_TX_DONE);
	assert_int_equal(w->tx.result, MIG_RESULT_OK);
	assert_string_equal(w->tx.result_line, "restored");
	assert_int_equal(w->app.ends, 1);
	assert_int_equal(w->app.len, STREAM_BYTES);
	assert_memory_equal(w->app.got, w->stream, STREAM_BYTES);
}

/* A world whose sender and receiver have exchanged the opening
 * datagrams (three steps into a session). */
static struct world *world_in_session(void)
{
	struct world *w = malloc(sizeof(*w));

	world_init(w, NULL);
	start(w);
	for (unsigned i = 0; i < 3; i++)
		step(w);
	return w;
}

static void test_clean_link(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	start(w);
	run_until_settled(w, 100000);
	check_exact(w);
	assert_int_equal(w->tx.stats.resent, 0);
	assert_int_equal(w->rx.stats.bad_mac + w->tx.stats.bad_mac, 0);
	assert_int_equal(w->app.begins, 1);
	world_free(w);
	free(w);
}

static void test_lossy_reordering_duplicating_link(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	w->net.drop_pct = 20;
	w->net.dup_pct = 10;
	w->net.delay_ms = 30;
	start(w);
	run_until_settled(w, 1000000);
	check_exact(w);
	assert_true(w->tx.stats.resent > 0);
	assert_true(w->rx.stats.stale > 0); /* duplicates, taken once */
	assert_int_equal(w->rx.stats.bad_mac + w->tx.stats.bad_mac, 0);
	world_free(w);
	free(w);
}

static void test_wrong_key_takes_nothing(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, "another-key-of-some-length");
	start(w);
	run_until_settled(w, 100000);
	assert_int_equal(w->tx.state, MIG_TX_FAILED);
	assert_int_equal(w->app.begins, 0);
	assert_int_equal(w->app.len, 0);
	assert_true(w->rx.stats.bad_mac > 1);
	assert_int_equal(w->app.bad_macs, 1); /* one line, the rest counted */
	assert_int_equal(w->rx.stats.sent, 0);
	world_free(w);
	free(w);
}

static void test_tampered_datagram_dropped_and_resent(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	w->net.tamper_at = 5; /* a data datagram */
	start(w);
	run_until_settled(w, 100000);
	check_exact(w);
	assert_int_equal(w->rx.stats.bad_mac, 1);
	assert_int_equal(w->app.bad_macs, 1);
	assert_true(w->tx.stats.resent > 0);
	world_free(w);
	free(w);
}

static void test_replayed_session_refused(void **state)
{
	struct world *w = malloc(sizeof(*w));
	unsigned cap = 1024;

	(void)state;
	world_init(w, NULL);
	w->net.log = calloc(cap, sizeof(struct flight));
	w->net.log_cap = cap;
	start(w);
	run_until_settled(w, 100000);
	check_exact(w);
	unsigned recorded = w->net.nlog;
	w->net.log_cap = 0;

	/* Session 2 carries other bytes; session 1's datagrams arrive in
	 * the middle of it. */
	for (size_t i = 0; i < STREAM_BYTES; i++)
		w->stream[i] = (uint8_t)~w->stream[i];
	start(w);
	for (unsigned i = 0; i < 5; i++)
		step(w);
	assert_int_equal(w->tx.state, MIG_TX_OPEN);
	uint64_t stale = w->rx.stats.stale;
	for (unsigned i = 0; i < recorded; i++)
		mig_rx_input(&w->rx, TX_ADDR, w->net.log[i].data, w->net.log[i].len, 77,
			     w->net.now);
	assert_int_equal(w->rx.stats.stale - stale, recorded);
	run_until_settled(w, 100000);
	assert_int_equal(w->app.begins, 2);
	assert_int_equal(w->app.ends, 2);
	assert_int_equal(w->app.len, STREAM_BYTES);
	assert_memory_equal(w->app.got, w->stream, STREAM_BYTES);

	/* After it: the old OPEN gets an answer, but none of the old data
	 * is taken under the new receiver nonce. */
	unsigned ends = w->app.ends;
	for (unsigned i = 0; i < recorded; i++)
		mig_rx_input(&w->rx, TX_ADDR, w->net.log[i].data, w->net.log[i].len, 78,
			     w->net.now);
	assert_int_equal(w->app.ends, ends);
	assert_int_equal(w->app.len, 0); /* begin() of the replayed OPEN, nothing since */
	free(w->net.log);
	world_free(w);
	free(w);
}

static void test_cancel_reaches_the_receiver(void **state)
{
	struct world *w = world_in_session();

	(void)state;
	assert_int_equal(w->tx.state, MIG_TX_OPEN);
	mig_tx_abort(&w->tx);
	assert_int_equal(w->tx.state, MIG_TX_FAILED);
	for (unsigned i = 0; i < 3; i++)
		step(w);
	assert_int_equal(w->app.abandons, 1);
	assert_int_equal(w->app.ends, 0);
	assert_int_equal(w->rx.state, MIG_RX_IDLE);
	world_free(w);
	free(w);
}

static void test_result_given_later_and_refusal(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	w->app.answer_at_end = false;
	start(w);
	for (unsigned i = 0; i < 2000 && !w->app.ends; i++)
		step(w);
	assert_int_equal(w->app.ends, 1);
	for (unsigned i = 0; i < 200; i++)
		step(w);
	assert_int_equal(w->tx.state, MIG_TX_OPEN); /* FIN goes again, asking */
	assert_true(w->tx.stats.resent > 0);
	mig_rx_set_result(&w->rx, MIG_RESULT_REFUSED, "stream refused: checksum");
	run_until_settled(w, 1000);
	assert_int_equal(w->tx.state, MIG_TX_DONE);
	assert_int_equal(w->tx.result, MIG_RESULT_REFUSED);
	assert_string_equal(w->tx.result_line, "stream refused: checksum");
	world_free(w);
	free(w);
}

static void test_silent_receiver_times_out(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	w->net.drop_pct = 100;
	start(w);
	run_until_settled(w, 100000);
	assert_int_equal(w->tx.state, MIG_TX_FAILED);
	assert_true(w->net.now >= TIMEOUT && w->net.now < TIMEOUT + 2 * RTO);
	assert_true(w->tx.stats.sent > TIMEOUT / RTO / 2); /* OPEN sent again */
	world_free(w);
	free(w);
}

/* A sender with nothing to send for several timeouts (its application
 * busy elsewhere) keeps the session: its KEEPALIVEs reach the receiver,
 * whose ACKs reach it. The stream then goes on whole. */
static void test_keepalive_holds_a_quiet_session(void **state)
{
	struct world *w = malloc(sizeof(*w));

	(void)state;
	world_init(w, NULL);
	start(w);
	for (unsigned i = 0; i < 3; i++)
		step(w); /* the window's first datagrams written */
	assert_true(w->written > 0 && w->written < STREAM_BYTES);
	for (uint64_t i = 0; i < 3 * TIMEOUT / MS; i++) {
		deliver_due(w);
		mig_tx_poll(&w->tx, w->net.now);
		mig_rx_poll(&w->rx, w->net.now);
		w->net.now += MS;
	}
	assert_int_equal(w->tx.state, MIG_TX_OPEN);
	assert_int_equal(w->rx.state, MIG_RX_OPEN);
	assert_int_equal(w->app.abandons, 0);
	assert_true(w->tx.stats.keepalives >= 3 * TIMEOUT / RTO / 2);
	assert_int_equal(w->tx.stats.resent, 0);
	run_until_settled(w, 100000);
	check_exact(w);
	world_free(w);
	free(w);
}

/* A sender that stops polling (gone: no KEEPALIVE comes) is given up by
 * the receiver after its timeout, keepalives before it or not. */
static void test_gone_sender_given_up(void **state)
{
	struct world *w = world_in_session();

	(void)state;
	assert_int_equal(w->rx.state, MIG_RX_OPEN);
	uint64_t gone = w->net.now;
	while (w->rx.state == MIG_RX_OPEN && w->net.now < gone + 2 * TIMEOUT) {
		deliver_due(w);
		mig_rx_poll(&w->rx, w->net.now);
		w->net.now += MS;
	}
	assert_int_equal(w->rx.state, MIG_RX_IDLE);
	assert_int_equal(w->app.abandons, 1);
	assert_true(w->net.now >= gone + TIMEOUT - RTO && w->net.now <= gone + TIMEOUT + MS);
	world_free(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_link),
		cmocka_unit_test(test_lossy_reordering_duplicating_link),
		cmocka_unit_test(test_wrong_key_takes_nothing),
		cmocka_unit_test(test_tampered_datagram_dropped_and_resent),
		cmocka_unit_test(test_replayed_session_refused),
		cmocka_unit_test(test_cancel_reaches_the_receiver),
		cmocka_unit_test(test_result_given_later_and_refusal),
		cmocka_unit_test(test_silent_receiver_times_out),
		cmocka_unit_test(test_keepalive_holds_a_quiet_session),
		cmocka_unit_test(test_gone_sender_given_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
