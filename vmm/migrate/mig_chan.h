/* A reliable, authenticated byte stream over datagrams, for migration
 * between machines: one sender (struct mig_tx) streams bytes to one
 * receiver (struct mig_rx) over a link that may lose, reorder, duplicate
 * or forge datagrams. No I/O and no clock of its own: the caller hands in
 * datagrams, the time and a way to send (vmm/migrate/mig_net.c puts it on
 * IPv4/UDP; tests/unit/test_mig_chan.c on a simulated lossy link).
 *
 * Every datagram: a 40-byte header, a payload, and HMAC-SHA-256 over both
 * with the pre-shared key. A session is opened by the sender's OPEN with
 * its nonce and answered by the receiver's ACCEPT with one of its own;
 * every later datagram carries both nonces and its sequence number inside
 * the MAC, so a datagram of another session (a replay) is refused and one
 * of this session is taken once. Data datagrams are numbered from 0; the
 * receiver acknowledges cumulatively (the next number it expects) and
 * keeps up to MIG_WINDOW out-of-order ones; the sender keeps MIG_WINDOW
 * in flight and sends each again when its acknowledgement is late. The
 * last datagram carries FIN; the receiver's acknowledgement of it carries
 * the application's result (accepted, or refused with one line), which
 * the sender waits for. A sender that has sent nothing for a
 * retransmission time (busy, or with nothing to say) sends KEEPALIVE,
 * which the receiver answers with an ACK: each side's silence timeout
 * then measures the other's absence, not a pause in the data (a
 * receiver's clock may run far ahead of the sender's: an idle Bochs
 * machine's does). Datagrams failing the MAC are dropped and counted. */
#ifndef PGVISOR_MIGRATE_MIG_CHAN_H
#define PGVISOR_MIGRATE_MIG_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/lib/hmac_sha256.h"

#define MIG_MAGIC 0x474d4750u /* "PGMG", little-endian */
#define MIG_VERSION 1
#define MIG_HEADER_SIZE 40
#define MIG_TAG_SIZE HMAC_SHA256_SIZE
#define MIG_PAYLOAD_MAX 1400 /* header, payload and tag in one Ethernet frame */
#define MIG_DGRAM_MAX (MIG_HEADER_SIZE + MIG_PAYLOAD_MAX + MIG_TAG_SIZE)
#define MIG_WINDOW 16	   /* data datagrams in flight */
#define MIG_RESULT_MAX 120 /* the receiver's line */
#define MIG_KEY_MIN 16	   /* bytes of pre-shared key at least */

enum mig_type {
	MIG_OPEN = 1,	   /* sender: nonce_s */
	MIG_ACCEPT = 2,	   /* receiver: nonce_s, nonce_r */
	MIG_DATA = 3,	   /* sender: seq, payload; flags FIN on the last */
	MIG_ACK = 4,	   /* receiver: ack; status and its line once known */
	MIG_ABORT = 5,	   /* sender: the session is given up */
	MIG_KEEPALIVE = 6, /* sender: still there (answered by an ACK) */
};

#define MIG_FLAG_FIN 0x01

enum mig_result {
	MIG_RESULT_NONE = 0, /* not known yet */
	MIG_RESULT_OK = 1,
	MIG_RESULT_REFUSED = 2,
};

/* Where datagrams go: to is the peer's address as the caller knows it. */
struct mig_link {
	int (*send)(void *ctx, uint32_t to, const void *dgram, size_t len);
	void *ctx;
};

struct mig_stats {
	uint64_t sent, resent, received;
	uint64_t bad_mac;    /* failed the MAC: dropped */
	uint64_t stale;	     /* authentic but of another session, or seen before */
	uint64_t keepalives; /* KEEPALIVEs sent (among sent) */
};

enum mig_tx_state {
	MIG_TX_IDLE,
	MIG_TX_OPENING, /* OPEN sent, no ACCEPT yet */
	MIG_TX_OPEN,
	MIG_TX_DONE,   /* FIN acknowledged with the receiver's result */
	MIG_TX_FAILED, /* no answer in time, or aborted */
};

struct mig_slot {
	uint16_t len;
	uint8_t flags;
	bool sent;
	uint64_t sent_ns;
	uint8_t data[MIG_PAYLOAD_MAX];
};

struct mig_tx {
	const struct hmac_sha256_key *key;
	struct mig_link link;
	uint32_t peer;
	enum mig_tx_state state;
	uint64_t nonce_s, nonce_r;
	uint32_t base, next; /* oldest unacknowledged, next to number */
	size_t fill;	     /* bytes in the datagram being filled (tx->next) */
	bool fin_queued;
	struct mig_slot slot[MIG_WINDOW]; /* seq % MIG_WINDOW */
	uint64_t open_sent_ns, last_progress_ns;
	uint64_t last_sent_ns; /* any datagram: KEEPALIVE after rto_ns of none */
	uint64_t rto_ns, timeout_ns;
	enum mig_result result;
	char result_line[MIG_RESULT_MAX];
	struct mig_stats stats;
	uint8_t dgram[MIG_DGRAM_MAX];
};

enum mig_rx_state {
	MIG_RX_IDLE,
	MIG_RX_OPEN,
	MIG_RX_ENDED, /* FIN delivered */
};

struct mig_rx_ops {
	/* A session began: bytes follow. */
	void (*begin)(void *ctx, uint32_t from);
	/* The next bytes of the stream, in order, each once. */
	void (*deliver)(void *ctx, const void *buf, size_t len);
	/* FIN: the stream is whole. The application answers with
	 * mig_rx_set_result (now or later). */
	void (*end)(void *ctx);
	/* The sender aborted, or went silent past the timeout. */
	void (*abandon)(void *ctx, const char *why);
	/* The first datagram failing the MAC (others are only counted). */
	void (*bad_mac)(void *ctx, uint32_t from);
};

struct mig_rx {
	const struct hmac_sha256_key *key;
	struct mig_link link;
	const struct mig_rx_ops *ops;
	void *ctx;
	enum mig_rx_state state;
	uint32_t peer;
	uint64_t nonce_s, nonce_r;
	uint32_t expected; /* the next data datagram to deliver */
	struct mig_slot held[MIG_WINDOW];
	bool have[MIG_WINDOW];
	uint64_t last_heard_ns, timeout_ns;
	enum mig_result result;
	char result_line[MIG_RESULT_MAX];
	struct mig_stats stats;
	uint8_t dgram[MIG_DGRAM_MAX];
};

/* Whether a datagram is one a receiver takes (OPEN, DATA, ABORT) rather
 * than a sender (ACCEPT, ACK), by its type byte alone: only for routing,
 * each side authenticates what it takes. */
bool mig_dgram_for_receiver(const void *dgram, size_t len);

/* Opens a session to peer with nonce (fresh for every session): OPEN goes
 * out now. rto_ns: how late an acknowledgement may be before a datagram
 * goes again; timeout_ns: how long without progress before it fails. */
void mig_tx_open(struct mig_tx *tx, const struct hmac_sha256_key *key, struct mig_link link,
		 uint32_t peer, uint64_t nonce, uint64_t now_ns, uint64_t rto_ns,
		 uint64_t timeout_ns);
/* Takes as many of buf's len bytes as the window has room for (none
 * before the receiver accepted); full datagrams go out at once. Returns
 * the bytes taken. */
size_t mig_tx_write(struct mig_tx *tx, const void *buf, size_t len, uint64_t now_ns);
/* Sends what waits in a partly filled datagram. */
void mig_tx_flush(struct mig_tx *tx, uint64_t now_ns);
/* Queues FIN after the bytes written: 0, or -1 when the window has no
 * room yet (call again after a poll). */
int mig_tx_close(struct mig_tx *tx, uint64_t now_ns);
/* A datagram from the peer (ACCEPT, ACK). */
void mig_tx_input(struct mig_tx *tx, const void *dgram, size_t len, uint64_t now_ns);
/* Sends again what is late, KEEPALIVE after rto_ns of sending nothing;
 * fails the session after timeout_ns without an answer. */
void mig_tx_poll(struct mig_tx *tx, uint64_t now_ns);
/* Gives the session up: ABORT goes to the peer, the state is FAILED. */
void mig_tx_abort(struct mig_tx *tx);

void mig_rx_init(struct mig_rx *rx, const struct hmac_sha256_key *key, struct mig_link link,
		 const struct mig_rx_ops *ops, void *ctx, uint64_t timeout_ns);
/* A datagram from address from; nonce: a fresh value the receiver uses
 * if this one opens a session. */
void mig_rx_input(struct mig_rx *rx, uint32_t from, const void *dgram, size_t len, uint64_t nonce,
		  uint64_t now_ns);
/* The application's answer to the stream: sent with the acknowledgement
 * of FIN (now, and again whenever FIN comes again). */
void mig_rx_set_result(struct mig_rx *rx, enum mig_result result, const char *line);
/* Abandons a session whose sender went silent past the timeout. */
void mig_rx_poll(struct mig_rx *rx, uint64_t now_ns);

#endif
