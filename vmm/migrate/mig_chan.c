#include "vmm/migrate/mig_chan.h"

#include <string.h>

/* Header offsets (little-endian), MAC over header and payload. */
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_TYPE 5
#define OFF_FLAGS 6
#define OFF_STATUS 7
#define OFF_NONCE_S 8
#define OFF_NONCE_R 16
#define OFF_SEQ 24
#define OFF_ACK 28
#define OFF_LEN 32
/* 34..39: zero */
#define ABORT_COPIES 2 /* ABORT is not acknowledged: sent twice */

struct mig_hdr {
	uint8_t type, flags, status;
	uint64_t nonce_s, nonce_r;
	uint32_t seq, ack;
	uint16_t len;
	const uint8_t *payload;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void mac(const struct hmac_sha256_key *key, const uint8_t *buf, size_t len,
		uint8_t tag[MIG_TAG_SIZE])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key);
	hmac_sha256_update(&h, buf, len);
	hmac_sha256_final(&h, tag);
}

/* Builds a datagram into out (MIG_DGRAM_MAX bytes); its length. */
static size_t build(const struct hmac_sha256_key *key, uint8_t *out, const struct mig_hdr *h)
{
	memset(out, 0, MIG_HEADER_SIZE);
	put32(out + OFF_MAGIC, MIG_MAGIC);
	out[OFF_VERSION] = MIG_VERSION;
	out[OFF_TYPE] = h->type;
	out[OFF_FLAGS] = h->flags;
	out[OFF_STATUS] = h->status;
	put64(out + OFF_NONCE_S, h->nonce_s);
	put64(out + OFF_NONCE_R, h->nonce_r);
	put32(out + OFF_SEQ, h->seq);
	put32(out + OFF_ACK, h->ack);
	put16(out + OFF_LEN, h->len);
	if (h->len)
		memcpy(out + MIG_HEADER_SIZE, h->payload, h->len);
	mac(key, out, MIG_HEADER_SIZE + h->len, out + MIG_HEADER_SIZE + h->len);
	return MIG_HEADER_SIZE + h->len + MIG_TAG_SIZE;
}

/* Checks a datagram's size, header and MAC (the tag compared in constant
 * time): 0 and *h filled, or -1 (the caller counts it as bad_mac: nothing
 * of it is believed). */
static int parse(const struct hmac_sha256_key *key, const uint8_t *buf, size_t len,
		 struct mig_hdr *h)
{
	uint8_t tag[MIG_TAG_SIZE];

	if (len < MIG_HEADER_SIZE + MIG_TAG_SIZE || len > MIG_DGRAM_MAX)
		return -1;
	h->len = get16(buf + OFF_LEN);
	if ((size_t)h->len + MIG_HEADER_SIZE + MIG_TAG_SIZE != len)
		return -1;
	mac(key, buf, MIG_HEADER_SIZE + h->len, tag);
	if (!ct_equal(tag, buf + MIG_HEADER_SIZE + h->len, MIG_TAG_SIZE))
		return -1;
	if (get32(buf + OFF_MAGIC) != MIG_MAGIC || buf[OFF_VERSION] != MIG_VERSION)
		return -1;
	h->type = buf[OFF_TYPE];
	h->flags = buf[OFF_FLAGS];
	h->status = buf[OFF_STATUS];
	h->nonce_s = get64(buf + OFF_NONCE_S);
	h->nonce_r = get64(buf + OFF_NONCE_R);
	h->seq = get32(buf + OFF_SEQ);
	h->ack = get32(buf + OFF_ACK);
	h->payload = buf + MIG_HEADER_SIZE;
	return 0;
}

bool mig_dgram_for_receiver(const void *dgram, size_t len)
{
	const uint8_t *d = dgram;

	return len > OFF_TYPE && (d[OFF_TYPE] == MIG_OPEN || d[OFF_TYPE] == MIG_DATA ||
				  d[OFF_TYPE] == MIG_ABORT || d[OFF_TYPE] == MIG_KEEPALIVE);
}

/* --- sender --- */

static void tx_send(struct mig_tx *tx, const struct mig_hdr *h, uint64_t now_ns)
{
	size_t len = build(tx->key, tx->dgram, h);

	tx->link.send(tx->link.ctx, tx->peer, tx->dgram, len);
	tx->stats.sent++;
	tx->last_sent_ns = now_ns;
}

static void tx_send_open(struct mig_tx *tx, uint64_t now_ns)
{
	struct mig_hdr h = { .type = MIG_OPEN, .nonce_s = tx->nonce_s };

	tx_send(tx, &h, now_ns);
	tx->open_sent_ns = now_ns;
}

static void tx_send_slot(struct mig_tx *tx, uint32_t seq, uint64_t now_ns)
{
	struct mig_slot *s = &tx->slot[seq % MIG_WINDOW];
	struct mig_hdr h = { .type = MIG_DATA,
			     .flags = s->flags,
			     .nonce_s = tx->nonce_s,
			     .nonce_r = tx->nonce_r,
			     .seq = seq,
			     .len = s->len,
			     .payload = s->data };

	if (s->sent)
		tx->stats.resent++;
	tx_send(tx, &h, now_ns);
	s->sent = true;
	s->sent_ns = now_ns;
}

void mig_tx_open(struct mig_tx *tx, const struct hmac_sha256_key *key, struct mig_link link,
		 uint32_t peer, uint64_t nonce, uint64_t now_ns, uint64_t rto_ns,
		 uint64_t timeout_ns)
{
	memset(tx, 0, sizeof(*tx));
	tx->key = key;
	tx->link = link;
	tx->peer = peer;
	tx->nonce_s = nonce;
	tx->rto_ns = rto_ns;
	tx->timeout_ns = timeout_ns;
	tx->state = MIG_TX_OPENING;
	tx->last_progress_ns = now_ns;
	tx_send_open(tx, now_ns);
}

static bool tx_room(const struct mig_tx *tx)
{
	return tx->next - tx->base < MIG_WINDOW;
}

/* The datagram being filled (tx->next) is complete: number it, send it
 * when the session is open. */
static void tx_seal(struct mig_tx *tx, uint8_t flags, uint64_t now_ns)
{
	struct mig_slot *s = &tx->slot[tx->next % MIG_WINDOW];

	s->len = (uint16_t)tx->fill;
	s->flags = flags;
	s->sent = false;
	tx->fill = 0;
	if (tx->state == MIG_TX_OPEN)
		tx_send_slot(tx, tx->next, now_ns);
	tx->next++;
}

size_t mig_tx_write(struct mig_tx *tx, const void *buf, size_t len, uint64_t now_ns)
{
	const uint8_t *p = buf;
	size_t taken = 0;

	if ((tx->state != MIG_TX_OPENING && tx->state != MIG_TX_OPEN) || tx->fin_queued)
		return 0;
	while (taken < len && tx_room(tx)) {
		struct mig_slot *s = &tx->slot[tx->next % MIG_WINDOW];
		size_t n = MIG_PAYLOAD_MAX - tx->fill;
		if (n > len - taken)
			n = len - taken;
		memcpy(s->data + tx->fill, p + taken, n);
		tx->fill += n;
		taken += n;
		if (tx->fill == MIG_PAYLOAD_MAX)
			tx_seal(tx, 0, now_ns);
	}
	return taken;
}

void mig_tx_flush(struct mig_tx *tx, uint64_t now_ns)
{
	if (tx->fill && tx_room(tx))
		tx_seal(tx, 0, now_ns);
}

int mig_tx_close(struct mig_tx *tx, uint64_t now_ns)
{
	if (tx->fin_queued)
		return 0;
	mig_tx_flush(tx, now_ns);
	if (!tx_room(tx))
		return -1;
	tx_seal(tx, MIG_FLAG_FIN, now_ns);
	tx->fin_queued = true;
	return 0;
}

static void tx_ack(struct mig_tx *tx, const struct mig_hdr *h, uint64_t now_ns)
{
	uint32_t ack = h->ack;

	if (ack - tx->base > tx->next - tx->base) {
		tx->stats.stale++; /* beyond what was sent */
		return;
	}
	tx->last_progress_ns = now_ns;
	/* FIN stays in flight until the receiver's result comes with its
	 * acknowledgement: sent again, it asks for the result again. */
	if (tx->fin_queued && ack == tx->next && h->status == MIG_RESULT_NONE)
		ack = tx->next - 1;
	tx->base = ack;
	if (tx->fin_queued && tx->base == tx->next) {
		size_t n = h->len < MIG_RESULT_MAX - 1 ? h->len : MIG_RESULT_MAX - 1;
		memcpy(tx->result_line, h->payload, n);
		tx->result_line[n] = '\0';
		tx->result = h->status == MIG_RESULT_OK ? MIG_RESULT_OK : MIG_RESULT_REFUSED;
		tx->state = MIG_TX_DONE;
	}
}

void mig_tx_input(struct mig_tx *tx, const void *dgram, size_t len, uint64_t now_ns)
{
	struct mig_hdr h;

	if (parse(tx->key, dgram, len, &h)) {
		tx->stats.bad_mac++;
		return;
	}
	tx->stats.received++;
	if (h.nonce_s != tx->nonce_s) {
		tx->stats.stale++;
		return;
	}
	if (h.type == MIG_ACCEPT && tx->state == MIG_TX_OPENING) {
		tx->nonce_r = h.nonce_r;
		tx->state = MIG_TX_OPEN;
		tx->last_progress_ns = now_ns;
		for (uint32_t seq = tx->base; seq != tx->next; seq++)
			tx_send_slot(tx, seq, now_ns);
	} else if (h.type == MIG_ACK && tx->state == MIG_TX_OPEN && h.nonce_r == tx->nonce_r) {
		tx_ack(tx, &h, now_ns);
	} else {
		tx->stats.stale++;
	}
}

void mig_tx_poll(struct mig_tx *tx, uint64_t now_ns)
{
	if (tx->state != MIG_TX_OPENING && tx->state != MIG_TX_OPEN)
		return;
	if (now_ns - tx->last_progress_ns >= tx->timeout_ns) {
		tx->state = MIG_TX_FAILED;
		return;
	}
	if (tx->state == MIG_TX_OPENING) {
		if (now_ns - tx->open_sent_ns >= tx->rto_ns)
			tx_send_open(tx, now_ns);
		return;
	}
	for (uint32_t seq = tx->base; seq != tx->next; seq++) {
		const struct mig_slot *s = &tx->slot[seq % MIG_WINDOW];
		if (!s->sent || now_ns - s->sent_ns >= tx->rto_ns)
			tx_send_slot(tx, seq, now_ns);
	}
	/* Nothing went for a while (the application is busy, or has
	 * nothing to send): the receiver hears that this side is there. */
	if (now_ns - tx->last_sent_ns >= tx->rto_ns) {
		struct mig_hdr h = { .type = MIG_KEEPALIVE,
				     .nonce_s = tx->nonce_s,
				     .nonce_r = tx->nonce_r,
				     .seq = tx->next };
		tx_send(tx, &h, now_ns);
		tx->stats.keepalives++;
	}
}

void mig_tx_abort(struct mig_tx *tx)
{
	struct mig_hdr h = { .type = MIG_ABORT, .nonce_s = tx->nonce_s, .nonce_r = tx->nonce_r };

	if (tx->state == MIG_TX_OPEN)
		for (unsigned i = 0; i < ABORT_COPIES; i++)
			tx_send(tx, &h, tx->last_sent_ns);
	if (tx->state != MIG_TX_DONE)
		tx->state = MIG_TX_FAILED;
}

/* --- receiver --- */

static void rx_send(struct mig_rx *rx, struct mig_hdr *h)
{
	size_t len;

	h->nonce_s = rx->nonce_s;
	h->nonce_r = rx->nonce_r;
	len = build(rx->key, rx->dgram, h);
	rx->link.send(rx->link.ctx, rx->peer, rx->dgram, len);
	rx->stats.sent++;
}

static void rx_send_ack(struct mig_rx *rx)
{
	struct mig_hdr h = { .type = MIG_ACK, .ack = rx->expected, .status = rx->result };

	if (rx->result != MIG_RESULT_NONE) {
		h.len = (uint16_t)strlen(rx->result_line);
		h.payload = (const uint8_t *)rx->result_line;
	}
	rx_send(rx, &h);
}

void mig_rx_init(struct mig_rx *rx, const struct hmac_sha256_key *key, struct mig_link link,
		 const struct mig_rx_ops *ops, void *ctx, uint64_t timeout_ns)
{
	memset(rx, 0, sizeof(*rx));
	rx->key = key;
	rx->link = link;
	rx->ops = ops;
	rx->ctx = ctx;
	rx->timeout_ns = timeout_ns;
}

static void rx_open(struct mig_rx *rx, uint32_t from, const struct mig_hdr *h, uint64_t nonce,
		    uint64_t now_ns)
{
	struct mig_hdr a = { .type = MIG_ACCEPT };

	if (rx->state != MIG_RX_IDLE && h->nonce_s == rx->nonce_s) {
		rx_send(rx, &a); /* our ACCEPT was lost */
		return;
	}
	if (rx->state == MIG_RX_OPEN) {
		rx->stats.stale++; /* one session at a time */
		return;
	}
	rx->state = MIG_RX_OPEN;
	rx->peer = from;
	rx->nonce_s = h->nonce_s;
	rx->nonce_r = nonce;
	rx->expected = 0;
	memset(rx->have, 0, sizeof(rx->have));
	rx->result = MIG_RESULT_NONE;
	rx->result_line[0] = '\0';
	rx->last_heard_ns = now_ns;
	rx->ops->begin(rx->ctx, from);
	rx_send(rx, &a);
}

static void rx_data(struct mig_rx *rx, const struct mig_hdr *h)
{
	uint32_t ahead = h->seq - rx->expected;

	if (rx->state == MIG_RX_OPEN && ahead < MIG_WINDOW && !rx->have[h->seq % MIG_WINDOW]) {
		struct mig_slot *s = &rx->held[h->seq % MIG_WINDOW];
		memcpy(s->data, h->payload, h->len);
		s->len = h->len;
		s->flags = h->flags;
		rx->have[h->seq % MIG_WINDOW] = true;
	} else {
		rx->stats.stale++; /* seen before, or beyond the window */
	}
	while (rx->state == MIG_RX_OPEN && rx->have[rx->expected % MIG_WINDOW]) {
		struct mig_slot *s = &rx->held[rx->expected % MIG_WINDOW];
		rx->have[rx->expected % MIG_WINDOW] = false;
		rx->expected++;
		if (s->len)
			rx->ops->deliver(rx->ctx, s->data, s->len);
		if (s->flags & MIG_FLAG_FIN) {
			rx->state = MIG_RX_ENDED;
			rx->ops->end(rx->ctx);
		}
	}
	rx_send_ack(rx);
}

void mig_rx_input(struct mig_rx *rx, uint32_t from, const void *dgram, size_t len, uint64_t nonce,
		  uint64_t now_ns)
{
	struct mig_hdr h;

	if (parse(rx->key, dgram, len, &h)) {
		if (!rx->stats.bad_mac++ && rx->ops->bad_mac)
			rx->ops->bad_mac(rx->ctx, from);
		return;
	}
	rx->stats.received++;
	if (h.type == MIG_OPEN) {
		rx_open(rx, from, &h, nonce, now_ns);
		return;
	}
	if (rx->state == MIG_RX_IDLE || h.nonce_s != rx->nonce_s || h.nonce_r != rx->nonce_r) {
		rx->stats.stale++; /* another session's: a replay */
		return;
	}
	rx->last_heard_ns = now_ns;
	if (h.type == MIG_DATA && h.len <= MIG_PAYLOAD_MAX) {
		rx_data(rx, &h);
	} else if (h.type == MIG_KEEPALIVE) {
		rx_send_ack(rx); /* the sender hears this side is there too */
	} else if (h.type == MIG_ABORT && rx->state == MIG_RX_OPEN) {
		rx->state = MIG_RX_IDLE;
		rx->ops->abandon(rx->ctx, "the sender cancelled");
	} else {
		rx->stats.stale++;
	}
}

void mig_rx_set_result(struct mig_rx *rx, enum mig_result result, const char *line)
{
	size_t n = strlen(line);

	if (n >= MIG_RESULT_MAX)
		n = MIG_RESULT_MAX - 1;
	memcpy(rx->result_line, line, n);
	rx->result_line[n] = '\0';
	rx->result = result;
	if (rx->state == MIG_RX_ENDED)
		rx_send_ack(rx);
}

void mig_rx_poll(struct mig_rx *rx, uint64_t now_ns)
{
	if (rx->state == MIG_RX_OPEN && now_ns - rx->last_heard_ns >= rx->timeout_ns) {
		rx->state = MIG_RX_IDLE;
		rx->ops->abandon(rx->ctx, "the sender went silent");
	}
}
