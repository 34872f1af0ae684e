#include "vmm/dev/virtio/virtio_net.h"

#include <stdio.h>
#include <string.h>

#define CLASS_NETWORK_ETHERNET 0x020000u
#define RX_QUEUE VIRTIO_RX_QUEUE
#define TX_QUEUE VIRTIO_TX_QUEUE
#define NQUEUES 2
/* struct virtio_net_hdr with VERSION_1: always 12 bytes (5.1.6). */
#define HDR_BYTES 12
#define HDR_NUM_BUFFERS 10
/* A frame spread over more receive buffers than this is cut short. */
#define RX_MAX_BUFFERS 8

/* struct virtio_net_config (5.1.4): mac, then status. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_LEN 8

/* Sends each frame the guest queued; returns whether any chain went back. */
static bool transmit(struct virtio_dev *v)
{
	struct virtio_net *n = v->backend;
	struct virtq *q = &v->vq[TX_QUEUE];
	struct virtq_req *r = &n->req;
	bool pushed = false;

	while (virtio_pop(v, TX_QUEUE, r)) {
		if (r->out_len < HDR_BYTES + NET_FRAME_MIN ||
		    r->out_len - HDR_BYTES > NET_FRAME_MAX) {
			n->stats.tx_errors++;
		} else {
			/* Usually the header and frame are one buffer, or a
			 * header buffer then the frame: sent in place. */
			uint64_t len = r->out_len - HDR_BYTES;
			const uint8_t *frame;
			if (r->nout == 1)
				frame = r->seg[0].host + HDR_BYTES;
			else if (r->nout == 2 && r->seg[0].len == HDR_BYTES)
				frame = r->seg[1].host;
			else
				frame = n->tx_frame.data;
			if (frame == n->tx_frame.data)
				virtq_copy_from(r, HDR_BYTES, n->tx_frame.data, len);
			n->stats.tx_frames++;
			n->stats.tx_bytes += len;
			net_switch_send(n->sw, n->port, frame, len,
					n->clock->now_ns(n->clock->ctx));
		}
		virtq_push(q, r->head, 0);
		pushed = true;
	}
	return pushed;
}

/* Writes the waiting frame f into one or more receive buffers. Returns
 * false when the guest has no buffer for it (it stays in the ring). */
static bool receive_one(struct virtio_net *n, const uint8_t *data, uint64_t len, bool *pushed)
{
	struct virtio_dev *v = &n->dev;
	struct virtq *q = &v->vq[RX_QUEUE];
	uint16_t heads[RX_MAX_BUFFERS];
	uint32_t lens[RX_MAX_BUFFERS];
	uint8_t hdr[HDR_BYTES] = { 0 };
	uint64_t total = HDR_BYTES + len, done = 0;
	unsigned nbuf = 0;
	bool merge = virtio_has_feature(v, VIRTIO_NET_F_MRG_RXBUF);
	const char *why;

	while (done < total && nbuf < (merge ? RX_MAX_BUFFERS : 1)) {
		struct virtq_req *r = nbuf ? &n->req : &n->rx_first;
		enum virtq_pop_result res = virtq_pop(q, r, &why);
		if (res == VIRTQ_BROKEN) {
			virtio_needs_reset(v, why);
			return false;
		}
		if (res == VIRTQ_EMPTY) {
			if (!nbuf)
				return false;
			break; /* mid-frame: what was filled goes back, cut short */
		}
		/* The header first, in the first buffer; num_buffers is
		 * rewritten below once known. */
		uint64_t off = 0;
		if (!nbuf) {
			pci_put_le(hdr + HDR_NUM_BUFFERS, 2, 1);
			off = virtq_copy_to(r, 0, hdr, HDR_BYTES);
			done = off;
			if (off < HDR_BYTES) {
				virtio_needs_reset(v, "receive buffer shorter than its header");
				return false;
			}
		}
		uint64_t data_done = done - HDR_BYTES;
		uint64_t copied = virtq_copy_to(r, off, data + data_done, len - data_done);
		done += copied;
		heads[nbuf] = r->head;
		lens[nbuf] = (uint32_t)(off + copied);
		nbuf++;
	}
	if (done < total)
		n->stats.rx_truncated++;
	if (nbuf > 1) {
		/* The first buffer's header says how many were used. */
		pci_put_le(hdr + HDR_NUM_BUFFERS, 2, nbuf);
		virtq_copy_to(&n->rx_first, 0, hdr, HDR_BYTES);
	}
	for (unsigned i = 0; i < nbuf; i++)
		virtq_push(q, heads[i], lens[i]);
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	*pushed = true;
	return true;
}

/* Moves waiting frames into the guest's receive buffers. */
static void receive(struct virtio_dev *v)
{
	struct virtio_net *n = v->backend;
	const struct net_frame *f;
	bool pushed = false;

	if (!virtio_running(&n->dev) || !n->dev.vq[RX_QUEUE].ready)
		return;
	while ((f = net_port_peek(n->port))) {
		if (!receive_one(n, f->data, f->len, &pushed))
			break;
		net_port_consume(n->port);
	}
	if (pushed)
		virtio_queue_interrupt(&n->dev, RX_QUEUE);
}

bool virtio_net_deliver(struct virtio_net *n, const uint8_t *frame, uint64_t len)
{
	bool pushed = false;

	if (!virtio_running(&n->dev) || !n->dev.vq[RX_QUEUE].ready ||
	    !receive_one(n, frame, len, &pushed))
		return false;
	virtio_queue_interrupt(&n->dev, RX_QUEUE);
	return true;
}

static const struct virtio_dev_ops net_ops = {
	.transmit = transmit,
	.receive = receive,
};

void virtio_net_frames_waiting(struct virtio_net *n)
{
	__atomic_store_n(&n->rx_pending, 1, __ATOMIC_SEQ_CST);
}

static uint64_t net_next_event(void *dev)
{
	struct virtio_net *n = dev;

	return __atomic_load_n(&n->rx_pending, __ATOMIC_SEQ_CST) ? 0 : VTIME_NEVER;
}

static void net_update(void *dev, uint64_t now)
{
	struct virtio_net *n = dev;

	(void)now;
	__atomic_store_n(&n->rx_pending, 0, __ATOMIC_SEQ_CST);
	receive(&n->dev);
}

struct vtimer virtio_net_timer(struct virtio_net *n)
{
	return (struct vtimer){ .next_event = net_next_event, .update = net_update, .dev = n };
}

int virtio_net_init(struct virtio_net *n, const char *vm_name, unsigned index,
		    struct net_switch *sw, struct net_port *port, struct vclock *clock,
		    uint8_t *ram, uint64_t ram_size)
{
	uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_STATUS);

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "virtio-net eth%u", index);
	n->sw = sw;
	n->port = port;
	n->clock = clock;
	if (virtio_dev_init(&n->dev, vm_name, n->name, VIRTIO_ID_NET, CLASS_NETWORK_ETHERNET,
			    NQUEUES, features, CFG_LEN, ram, ram_size, &net_ops, n))
		return -1;
	memcpy(n->dev.config + CFG_MAC, port->mac, sizeof(port->mac));
	pci_put_le(n->dev.config + CFG_STATUS, 2, VIRTIO_NET_S_LINK_UP);
	/* Frames that came while the VM was down or resetting are stale. */
	while (net_port_peek(port))
		net_port_consume(port);
	return 0;
}

void virtio_net_save(const struct virtio_net *n, struct state_writer *w)
{
	uint32_t tail = n->port->tail;
	uint32_t waiting = __atomic_load_n(&n->port->head, __ATOMIC_ACQUIRE) - tail;

	virtio_dev_save(&n->dev, w);
	if (waiting > NET_PORT_RING_SLOTS)
		waiting = NET_PORT_RING_SLOTS;
	state_put_u16(w, (uint16_t)waiting);
	for (uint32_t i = 0; i < waiting; i++) {
		const struct net_frame *f = &n->port->ring[(tail + i) % NET_PORT_RING_SLOTS];
		state_put_u16(w, f->len);
		state_put_bytes(w, f->data, f->len);
	}
}

int virtio_net_load(struct virtio_net *n, struct state_reader *r)
{
	/* Loads run one at a time (under the restore's lock). */
	static struct net_frame frames[NET_PORT_RING_SLOTS];
	unsigned count;

	if (virtio_dev_load(&n->dev, r))
		return -1;
	count = state_get_u16(r);
	if (count > NET_PORT_RING_SLOTS) {
		state_refuse(r, "virtio-net: more waiting frames than its ring holds");
		return -1;
	}
	for (unsigned i = 0; i < count && !r->refused; i++) {
		frames[i].len = state_get_u16(r);
		if (frames[i].len < NET_FRAME_MIN || frames[i].len > NET_FRAME_MAX)
			state_refuse(
				r, "virtio-net: a waiting frame of a length no Ethernet frame has");
		else
			state_get_bytes(r, frames[i].data, frames[i].len);
	}
	if (state_reader_done(r))
		return -1;
	virtio_dev_load_commit(&n->dev);
	for (unsigned i = 0; i < count; i++)
		net_port_requeue(n->sw, n->port, frames[i].data, frames[i].len);
	if (count)
		virtio_net_frames_waiting(n);
	return 0;
}
