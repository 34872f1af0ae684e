/* GDB remote serial protocol framing (see gdb_packet.h). */
#include "vmm/debug/gdb_packet.h"

#include "arch/x86/lib/hex.h"

#define GDB_PACKET_START '$'
#define GDB_CHECKSUM_START '#'
#define GDB_ESCAPE '}'
#define GDB_RUN_LENGTH '*'
#define GDB_ESCAPE_XOR 0x20

void gdb_rx_reset(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	rx->overflow = false;
	rx->malformed = false;
	rx->sum = 0;
	rx->checksum = 0;
	rx->len = 0;
	rx->data[0] = '\0';
}

static void rx_store(struct gdb_rx *rx, uint8_t byte)
{
	if (rx->len >= GDB_PACKET_MAX) {
		rx->overflow = true;
		return;
	}
	rx->data[rx->len++] = (char)byte;
}

static enum gdb_rx_result rx_idle(struct gdb_rx *rx, uint8_t byte)
{
	switch (byte) {
	case GDB_PACKET_START:
		gdb_rx_reset(rx);
		rx->state = GDB_RX_DATA;
		return GDB_RX_PENDING;
	case GDB_INTERRUPT:
		return GDB_RX_INTERRUPT;
	case GDB_ACK:
		return GDB_RX_ACK;
	case GDB_NAK:
		return GDB_RX_NAK;
	default:
		/* Line noise between packets: nothing to answer. */
		return GDB_RX_PENDING;
	}
}

/* The packet ended: judge it. */
static enum gdb_rx_result rx_finish(struct gdb_rx *rx)
{
	bool good = !rx->overflow && !rx->malformed && rx->sum == rx->checksum;

	rx->state = GDB_RX_IDLE;
	rx->data[rx->len] = '\0';
	return good ? GDB_RX_PACKET : GDB_RX_BAD;
}

enum gdb_rx_result gdb_rx_byte(struct gdb_rx *rx, uint8_t byte)
{
	int v;

	switch (rx->state) {
	case GDB_RX_IDLE:
		return rx_idle(rx, byte);
	case GDB_RX_DATA:
		if (byte == GDB_CHECKSUM_START) {
			rx->state = GDB_RX_CHECKSUM_HIGH;
			return GDB_RX_PENDING;
		}
		if (byte == GDB_PACKET_START) {
			/* gdb gave up on the packet and started anew. */
			gdb_rx_reset(rx);
			rx->state = GDB_RX_DATA;
			return GDB_RX_PENDING;
		}
		rx->sum += byte;
		if (byte == GDB_ESCAPE)
			rx->state = GDB_RX_ESCAPE;
		else
			rx_store(rx, byte);
		return GDB_RX_PENDING;
	case GDB_RX_ESCAPE:
		rx->sum += byte;
		rx_store(rx, byte ^ GDB_ESCAPE_XOR);
		rx->state = GDB_RX_DATA;
		return GDB_RX_PENDING;
	case GDB_RX_CHECKSUM_HIGH:
		v = hex_value((char)byte);
		rx->malformed |= v < 0;
		rx->checksum = (uint8_t)((v < 0 ? 0 : v) << 4);
		rx->state = GDB_RX_CHECKSUM_LOW;
		return GDB_RX_PENDING;
	case GDB_RX_CHECKSUM_LOW:
		v = hex_value((char)byte);
		rx->malformed |= v < 0;
		rx->checksum |= (uint8_t)(v < 0 ? 0 : v);
		return rx_finish(rx);
	}
	gdb_rx_reset(rx);
	return GDB_RX_BAD;
}

static bool needs_escape(char c)
{
	return c == GDB_PACKET_START || c == GDB_CHECKSUM_START || c == GDB_ESCAPE ||
	       c == GDB_RUN_LENGTH;
}

size_t gdb_frame(const char *data, size_t len, char *out, size_t out_size)
{
	size_t n = 0;
	uint8_t sum = 0;

	if (out_size < 4)
		return 0;
	out[n++] = GDB_PACKET_START;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (needs_escape(c)) {
			if (n + 2 > out_size - 3)
				return 0;
			out[n++] = GDB_ESCAPE;
			sum += GDB_ESCAPE;
			c ^= GDB_ESCAPE_XOR;
		} else if (n + 1 > out_size - 3) {
			return 0;
		}
		out[n++] = c;
		sum += (uint8_t)c;
	}
	out[n++] = GDB_CHECKSUM_START;
	out[n++] = hex_char(sum >> 4);
	out[n++] = hex_char(sum);
	return n;
}
