/* A virtual 16550A UART (COM1) per VM. The register model covers what
 * polled drivers use: divisor latch, LCR, MCR, scratch, LSR and MSR
 * status, FIFO control. Output goes to the host console one whole line at
 * a time, prefixed with the VM's name. */
#ifndef PGVISOR_DEV_UART_H
#define PGVISOR_DEV_UART_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/line_out.h"
#include "vmm/dev/virq.h"

#define UART_COM1_BASE 0x3f8
#define UART_PORTS 8
#define UART_LINE_MAX LINE_OUT_MAX
#define UART_RX_FIFO 64

struct uart {
	struct line_out out;	  /* output lines, prefixed with the VM's name */
	void (*poll_input)(void); /* fetches host input before a status read */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	uint64_t bytes_out;
	bool thre_pending; /* transmitter-empty interrupt not yet taken */
	/* A THR write only appends to the line: the UART is on the port bus,
	 * the divisor latch is closed, loopback is off and the THRE interrupt
	 * is disabled (so the write changes no interrupt). Kept by the
	 * register writes; see uart_thr_write_fast. */
	bool thr_direct;
	bool attached;		/* on a port bus (uart_attach) */
	const struct virq *irq; /* NULL: no interrupt line wired */
	unsigned irq_line;
	bool irq_level;
};

/* poll_input (may be NULL) runs when the guest looks for input, so typed
 * keys arrive while the guest polls, not only between time slices. */
void uart_init(struct uart *u, const char *owner, void (*poll_input)(void));
int uart_attach(struct uart *u, struct io_bus *bus, uint16_t base);
/* Wires the UART's interrupt output (RDA and THRE, 16550A IER bits 0-1). */
void uart_set_irq(struct uart *u, const struct virq *irq, unsigned line);
/* Appends one byte of guest output; a newline or a full line flushes.
 * Inline: every console byte comes through here. */
static inline void uart_output_byte(struct uart *u, uint8_t c)
{
	u->bytes_out++;
	line_out_byte(&u->out, c);
}
/* The transmit fast path of the I/O exit handler (exit_io.c): a byte
 * written to THR when thr_direct holds needs none of the register model,
 * only the line and the THRE flag. Returns false, having done nothing,
 * when the full model (uart_write through the port bus) must run. */
static inline bool uart_thr_write_fast(struct uart *u, uint8_t c)
{
	if (!u->thr_direct)
		return false;
	uart_output_byte(u, c);
	/* The byte leaves at once: the holding register is empty again. */
	u->thre_pending = true;
	return true;
}
/* Prints whatever partial line is pending (at VM stop). */
void uart_flush(struct uart *u);
/* Queues host console input for the guest; false when the FIFO is full. */
bool uart_receive(struct uart *u, uint8_t c);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void uart_save(const struct uart *u, struct state_writer *w);
int uart_load(struct uart *u, struct state_reader *r);

#endif
