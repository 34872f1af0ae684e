/* The GDB remote serial protocol's framing: "$data#cs" packets with a
 * two-digit hex checksum (the sum of the data bytes modulo 256), '+'/'-'
 * acknowledgements, '}' escapes (the next byte XOR 0x20) and Ctrl-C (0x03)
 * between packets as an interrupt request. Pure byte handling: whoever owns
 * the line feeds bytes in and sends what comes out. */
#ifndef PGVISOR_GDB_PACKET_H
#define PGVISOR_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet, unescaped data bytes, either way; announced to gdb as
 * PacketSize. Longer incoming packets are refused with a NAK. */
#define GDB_PACKET_MAX 4096

#define GDB_INTERRUPT 0x03 /* Ctrl-C */
#define GDB_ACK '+'
#define GDB_NAK '-'

enum gdb_rx_result {
	GDB_RX_PENDING,	  /* nothing complete yet */
	GDB_RX_PACKET,	  /* a whole, well-formed packet: send '+', handle it */
	GDB_RX_BAD,	  /* bad checksum, oversize or malformed: send '-' */
	GDB_RX_INTERRUPT, /* Ctrl-C outside a packet */
	GDB_RX_ACK,	  /* gdb acknowledged our last packet */
	GDB_RX_NAK,	  /* gdb wants our last packet again */
};

enum gdb_rx_state {
	GDB_RX_IDLE,
	GDB_RX_DATA,
	GDB_RX_ESCAPE,
	GDB_RX_CHECKSUM_HIGH,
	GDB_RX_CHECKSUM_LOW,
};

struct gdb_rx {
	enum gdb_rx_state state;
	bool overflow;	/* more data than GDB_PACKET_MAX: the packet is refused */
	bool malformed; /* a byte that cannot be in a packet */
	uint8_t sum;	/* of the bytes as they came, escapes included */
	uint8_t checksum;
	size_t len;
	char data[GDB_PACKET_MAX + 1]; /* unescaped, NUL-terminated */
};

void gdb_rx_reset(struct gdb_rx *rx);
/* Feeds one byte from the line. On GDB_RX_PACKET, rx->data holds rx->len
 * bytes (and a NUL) until the next call. */
enum gdb_rx_result gdb_rx_byte(struct gdb_rx *rx, uint8_t byte);

/* Frames len bytes of reply data as "$...#cs" into out (escaping '$', '#',
 * '}' and '*'); returns the framed length, or 0 when it does not fit. */
size_t gdb_frame(const char *data, size_t len, char *out, size_t out_size);

#endif
