#include "vmm/dev/virtio/virtio_console.h"

#include <string.h>

#include "drivers/console.h"

#define CLASS_COMMUNICATION_OTHER 0x078000u /* as QEMU's virtio-serial */
#define RX_QUEUE VIRTIO_RX_QUEUE
#define TX_QUEUE VIRTIO_TX_QUEUE
#define NQUEUES 2
/* struct virtio_console_config (5.3.4): cols, rows, max_nr_ports,
 * emerg_wr. Offered (as zeros) though no feature makes them valid. */
#define CFG_LEN 12
/* Bytes copied from a transmit chain at a time. */
#define TX_CHUNK 256

static void rx_mark_posted(struct virtio_console *c)
{
	struct virtq *q = &c->dev.vq[RX_QUEUE];

	if (!c->rx_posted && q->ready && virtq_has_work(q))
		c->rx_posted = true;
}

bool virtio_console_reading(struct virtio_console *c)
{
	if (!virtio_running(&c->dev) || !c->dev.vq[RX_QUEUE].ready)
		return false;
	rx_mark_posted(c);
	return c->rx_posted;
}

/* Moves buffered input into the guest's receive buffers. */
static void receive(struct virtio_dev *v)
{
	struct virtio_console *c = v->backend;
	struct virtq *q = &v->vq[RX_QUEUE];
	struct virtq_req *r = &c->req;
	bool pushed = false;

	if (!virtio_running(v) || !q->ready)
		return;
	rx_mark_posted(c);
	while (c->rx_count && virtio_pop(v, RX_QUEUE, r)) {
		/* The ring buffer in at most two runs: to its end, then from
		 * its start. */
		uint64_t done = 0;
		while (done < r->in_len && c->rx_count) {
			unsigned run = VIRTIO_CONSOLE_RX_BUF - c->rx_head;
			if (run > c->rx_count)
				run = c->rx_count;
			uint64_t n = virtq_copy_to(r, done, c->rx + c->rx_head, run);
			if (!n)
				break;
			done += n;
			c->rx_head = (unsigned)((c->rx_head + n) % VIRTIO_CONSOLE_RX_BUF);
			c->rx_count -= (unsigned)n;
		}
		c->stats.rx_bytes += done;
		virtq_push(q, r->head, (uint32_t)done);
		pushed = true;
	}
	if (pushed)
		virtio_queue_interrupt(v, RX_QUEUE);
}

void virtio_console_input(struct virtio_console *c, const uint8_t *bytes, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (c->rx_count == VIRTIO_CONSOLE_RX_BUF) {
			if (!c->dropping)
				kprintf("pgvisor: vm %s: %s: input buffer full (%u bytes the guest "
					"has not read); dropping typed bytes\n",
					c->dev.vm_name, c->dev.name, VIRTIO_CONSOLE_RX_BUF);
			c->dropping = true;
			c->stats.rx_dropped += len - i;
			break;
		}
		c->dropping = false;
		c->rx[(c->rx_head + c->rx_count++) % VIRTIO_CONSOLE_RX_BUF] = bytes[i];
	}
	receive(&c->dev);
}

/* Prints what the guest queued for transmission; returns whether any
 * chain went back. */
static bool transmit(struct virtio_dev *v)
{
	struct virtio_console *c = v->backend;
	struct virtq *q = &v->vq[TX_QUEUE];
	struct virtq_req *r = &c->req;
	uint8_t chunk[TX_CHUNK];
	bool pushed = false;

	while (virtio_pop(v, TX_QUEUE, r)) {
		/* Only the device-readable part is output (5.3.6); a writable
		 * segment gets nothing written. */
		for (uint64_t off = 0; off < r->out_len;) {
			uint64_t n = virtq_copy_from(r, off, chunk, sizeof(chunk));
			if (!n)
				break;
			for (uint64_t i = 0; i < n; i++)
				line_out_byte(&c->out, chunk[i]);
			off += n;
		}
		c->stats.tx_bytes += r->out_len;
		virtq_push(q, r->head, 0);
		pushed = true;
	}
	return pushed;
}

static void console_reset(struct virtio_dev *v)
{
	struct virtio_console *c = v->backend;

	/* Typed bytes stay buffered for the driver's next start; COM1 gets
	 * the keys until it posts buffers again. */
	c->rx_posted = false;
}

static const struct virtio_dev_ops console_ops = {
	.reset = console_reset,
	.transmit = transmit,
	.receive = receive,
};

void virtio_console_flush(struct virtio_console *c)
{
	line_out_flush(&c->out);
}

int virtio_console_init(struct virtio_console *c, const char *vm_name, uint8_t *ram,
			uint64_t ram_size)
{
	memset(c, 0, sizeof(*c));
	line_out_init(&c->out, vm_name);
	return virtio_dev_init(&c->dev, vm_name, "virtio-console hvc0", VIRTIO_ID_CONSOLE,
			       CLASS_COMMUNICATION_OTHER, NQUEUES, 0, CFG_LEN, ram, ram_size,
			       &console_ops, c);
}

void virtio_console_save(const struct virtio_console *c, struct state_writer *w)
{
	virtio_dev_save(&c->dev, w);
	state_put_bool(w, c->rx_posted);
	state_put_bool(w, c->dropping);
	state_put_u16(w, (uint16_t)c->rx_count);
	for (unsigned i = 0; i < c->rx_count; i++)
		state_put_u8(w, c->rx[(c->rx_head + i) % VIRTIO_CONSOLE_RX_BUF]);
	state_put_u16(w, (uint16_t)c->out.len);
	state_put_bytes(w, c->out.line, c->out.len);
	state_put_bool(w, c->out.wrapped);
}

int virtio_console_load(struct virtio_console *c, struct state_reader *r)
{
	static uint8_t rx[VIRTIO_CONSOLE_RX_BUF]; /* loads run one at a time */
	char line[LINE_OUT_MAX];
	bool posted, dropping, wrapped;
	unsigned rx_count, line_len;

	if (virtio_dev_load(&c->dev, r))
		return -1;
	posted = state_get_bool(r);
	dropping = state_get_bool(r);
	rx_count = state_get_u16(r);
	if (rx_count > VIRTIO_CONSOLE_RX_BUF)
		state_refuse(r, "virtio-console: more input than its buffer holds");
	else
		state_get_bytes(r, rx, rx_count);
	line_len = state_get_u16(r);
	if (line_len >= LINE_OUT_MAX)
		state_refuse(r, "virtio-console: output line over its size");
	else
		state_get_bytes(r, line, line_len);
	wrapped = state_get_bool(r);
	if (state_reader_done(r))
		return -1;
	virtio_dev_load_commit(&c->dev);
	c->rx_posted = posted;
	c->dropping = dropping;
	memcpy(c->rx, rx, rx_count);
	c->rx_head = 0;
	c->rx_count = rx_count;
	memcpy(c->out.line, line, line_len);
	c->out.len = line_len;
	c->out.wrapped = wrapped;
	return 0;
}
