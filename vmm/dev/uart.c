#include "vmm/dev/uart.h"

#include <string.h>

#include "vmm/dev/state_io.h"

/* Register offsets and bits (16550A data sheet; as in drivers/serial.c,
 * but this is the guest's view, not the host's device). */
#define REG_DATA 0 /* RBR/THR, DLL when DLAB */
#define REG_IER 1  /* DLM when DLAB */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7
#define LCR_DLAB 0x80
#define LSR_DATA_READY 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INTERRUPT 0x01
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IIR_FIFOS_ENABLED 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOPBACK 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define IER_MASK 0x0f
#define MCR_MASK 0x1f

void uart_init(struct uart *u, const char *owner, void (*poll_input)(void))
{
	memset(u, 0, sizeof(*u));
	line_out_init(&u->out, owner);
	u->poll_input = poll_input;
	u->dll = 1; /* 115200 baud, as firmware leaves it */
	u->lcr = 0x03;
}

void uart_flush(struct uart *u)
{
	line_out_flush(&u->out);
}

static void update_irq(struct uart *u);

bool uart_receive(struct uart *u, uint8_t c)
{
	if (u->rx_count == UART_RX_FIFO)
		return false;
	u->rx[(u->rx_head + u->rx_count++) % UART_RX_FIFO] = c;
	update_irq(u);
	return true;
}

static uint8_t rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	return c;
}

/* The interrupt the UART signals now, as IIR encodes it (16550A data
 * sheet table 4): received data before transmitter empty. */
static uint8_t pending_interrupt(const struct uart *u)
{
	if ((u->ier & IER_RDA) && u->rx_count)
		return IIR_RDA;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE;
	return IIR_NO_INTERRUPT;
}

/* The IRQ line follows the pending interrupt, gated by OUT2 as on every
 * PC serial port. */
static void update_irq(struct uart *u)
{
	bool level = pending_interrupt(u) != IIR_NO_INTERRUPT && (u->mcr & MCR_OUT2);

	if (u->irq && level != u->irq_level)
		virq_set(u->irq, u->irq_line, level);
	u->irq_level = level;
}

void uart_set_irq(struct uart *u, const struct virq *irq, unsigned line)
{
	u->irq = irq;
	u->irq_line = line;
	u->irq_level = false;
}

/* Whether a THR write may take uart_thr_write_fast: with the divisor
 * latch open it writes DLL, in loopback it is received, and with the THRE
 * interrupt enabled it may raise the IRQ. */
static void update_thr_direct(struct uart *u)
{
	u->thr_direct = u->attached && !(u->lcr & LCR_DLAB) && !(u->mcr & MCR_LOOPBACK) &&
			!(u->ier & IER_THRE);
}

static uint32_t uart_read(void *dev, uint16_t port, unsigned size)
{
	struct uart *u = dev;
	uint8_t iir, v;
	(void)size;

	switch (port & 7) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		v = rx_pop(u);
		update_irq(u);
		return v;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		iir = pending_interrupt(u);
		/* Reading IIR while it reports THRE clears that interrupt. */
		if (iir == IIR_THRE) {
			u->thre_pending = false;
			update_irq(u);
		}
		return iir | ((u->fcr & FCR_FIFO_ENABLE) ? IIR_FIFOS_ENABLED : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		if (u->poll_input && !u->rx_count)
			u->poll_input();
		/* Output is consumed at once: the transmitter is always empty. */
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DATA_READY : 0);
	case REG_MSR:
		/* In loopback the modem inputs follow the outputs (16550A data
		 * sheet): CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2. */
		if (u->mcr & MCR_LOOPBACK)
			return ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
			       ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			       ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
			       ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
		return MSR_CTS | MSR_DSR | MSR_DCD;
	default:
		return u->scr;
	}
}

static void uart_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct uart *u = dev;
	uint8_t v = (uint8_t)value;
	(void)size;

	switch (port & 7) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOPBACK)
			uart_receive(u, v);
		else
			uart_output_byte(u, v);
		/* The byte leaves at once: the holding register is empty again. */
		u->thre_pending = true;
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRE with the transmitter empty raises it at once. */
		if ((v & IER_THRE) && !(u->ier & IER_THRE))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		update_thr_direct(u);
		break;
	case REG_IIR_FCR:
		u->fcr = v;
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = v;
		update_thr_direct(u);
		break;
	case REG_MCR:
		u->mcr = v & MCR_MASK;
		update_thr_direct(u);
		break;
	case REG_LSR:
	case REG_MSR:
		break; /* read-only */
	default:
		u->scr = v;
		break;
	}
	update_irq(u);
}

int uart_attach(struct uart *u, struct io_bus *bus, uint16_t base)
{
	if (io_bus_register(bus, base, UART_PORTS, uart_read, uart_write, u, "uart"))
		return -1;
	u->attached = true;
	update_thr_direct(u);
	return 0;
}

void uart_save(const struct uart *u, struct state_writer *w)
{
	state_put_u8(w, u->ier);
	state_put_u8(w, u->lcr);
	state_put_u8(w, u->mcr);
	state_put_u8(w, u->scr);
	state_put_u8(w, u->dll);
	state_put_u8(w, u->dlm);
	state_put_u8(w, u->fcr);
	state_put_bool(w, u->thre_pending);
	state_put_u64(w, u->bytes_out);
	/* The receive FIFO oldest first, then the output line not yet sent. */
	state_put_u8(w, (uint8_t)u->rx_count);
	for (unsigned i = 0; i < u->rx_count; i++)
		state_put_u8(w, u->rx[(u->rx_head + i) % UART_RX_FIFO]);
	state_put_u16(w, (uint16_t)u->out.len);
	state_put_bytes(w, u->out.line, u->out.len);
}

int uart_load(struct uart *u, struct state_reader *r)
{
	uint8_t ier = state_get_u8(r), lcr = state_get_u8(r), mcr = state_get_u8(r);
	uint8_t scr = state_get_u8(r), dll = state_get_u8(r), dlm = state_get_u8(r);
	uint8_t fcr = state_get_u8(r);
	bool thre_pending = state_get_bool(r);
	uint64_t bytes_out = state_get_u64(r);
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_count = state_get_u8(r), line_len;
	char line[UART_LINE_MAX];

	if (rx_count > UART_RX_FIFO)
		state_refuse(r, "UART receive FIFO over its size");
	else
		state_get_bytes(r, rx, rx_count);
	line_len = state_get_u16(r);
	if (line_len >= UART_LINE_MAX)
		state_refuse(r, "UART output line over its size");
	else
		state_get_bytes(r, line, line_len);
	if ((ier & ~IER_MASK) || (mcr & ~MCR_MASK))
		state_refuse(r, "UART register with reserved bits set");
	if (state_reader_done(r))
		return -1;
	u->ier = ier;
	u->lcr = lcr;
	u->mcr = mcr;
	u->scr = scr;
	u->dll = dll;
	u->dlm = dlm;
	u->fcr = fcr;
	u->thre_pending = thre_pending;
	u->bytes_out = bytes_out;
	memcpy(u->rx, rx, rx_count);
	u->rx_head = 0;
	u->rx_count = rx_count;
	memcpy(u->out.line, line, line_len);
	u->out.len = line_len;
	update_thr_direct(u);
	update_irq(u);
	return 0;
}
