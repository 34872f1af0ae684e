/* 16550 driver for COM1 (the console) and COM2 (the debug channel: the
 * gdb stub) at 115200 8N1. Output is polled, which keeps both usable from
 * any context (exception handlers, VM-exit handlers).
 *
 * Input is moved from the UART's 16-byte FIFO into a ring of its own by
 * COM1's receive interrupt where the machine can route it (IRQ 4 through
 * the I/O APIC), and whenever anyone looks (serial_rx_pump): the console
 * reads the ring, and every byte the hypervisor writes waits for the
 * transmitter while bytes keep arriving at the same rate, so output pumps
 * too. At 115200 baud a byte takes 86.8 us and the FIFO fills in 1.39 ms
 * (see SERIAL_POLL_US, the console's pace without the interrupt). */
#include "drivers/serial.h"

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "drivers/byte_ring.h"

#define COM1 0x3f8
#define COM2 0x2f8
#define UART_RBR 0 /* receive buffer (DLAB = 0) */
#define UART_THR 0 /* transmit holding (DLAB = 0) */
#define UART_DLL 0 /* divisor low (DLAB = 1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB = 1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0b /* OUT2 gates the UART's IRQ line on a PC */
#define IER_RX_DATA 0x01      /* received data available (or FIFO timeout) */
#define LSR_DATA_READY 0x01
#define LSR_OVERRUN 0x02
#define LSR_THR_EMPTY 0x20
#define BAUD_DIVISOR_115200 1
#define TX_SPIN_LIMIT 100000

static bool present; /* COM1 */
static bool com2_present;
static uint8_t rx_buf[SERIAL_RX_RING];
static struct byte_ring rx = { rx_buf, SERIAL_RX_RING, 0, 0, 0 };
static uint64_t rx_overruns; /* bytes the UART itself lost (LSR OE) */
/* The ring and the UART's receive side: taken, never waited for, by
 * whoever pumps or reads (an exception handler's output may come in the
 * middle of a pump). */
static struct spinlock rx_lock;
static bool rx_arrived; /* bytes entered the ring: set here, cleared by the reader */

/* Probes and programs the 16550 at base; false when none answers. */
static bool uart_init(uint16_t base)
{
	/* A missing UART reads back 0xff: probe with the scratch register. */
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, BAUD_DIVISOR_115200);
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
	return true;
}

void serial_init(void)
{
	present = uart_init(COM1);
}

bool serial_present(void)
{
	return present;
}

/* Moves received bytes from the UART into the ring; rx_lock held. */
static void pump_locked(uint8_t lsr)
{
	if (!(lsr & LSR_DATA_READY))
		return;
	for (; lsr & LSR_DATA_READY; lsr = inb(COM1 + UART_LSR)) {
		if (lsr & LSR_OVERRUN)
			rx_overruns++;
		byte_ring_put(&rx, inb(COM1 + UART_RBR));
	}
	__atomic_store_n(&rx_arrived, true, __ATOMIC_RELEASE);
}

void serial_rx_pump(void)
{
	if (!present || !spin_trylock(&rx_lock))
		return;
	pump_locked(inb(COM1 + UART_LSR));
	spin_unlock(&rx_lock);
}

/* The IRQ is edge triggered and the UART holds its line up while its FIFO
 * has data: the FIFO is emptied here, or no edge would come again. Waited
 * for, not tried: another CPU's output may hold the lock for a moment,
 * this CPU never does (interrupts are off while it pumps). */
void serial_rx_interrupt(void)
{
	spin_lock(&rx_lock);
	pump_locked(inb(COM1 + UART_LSR));
	spin_unlock(&rx_lock);
}

void serial_rx_interrupts_enable(void)
{
	/* Bytes already waiting raise the line now: an edge either way. */
	if (present)
		outb(COM1 + UART_IER, IER_RX_DATA);
}

bool *serial_rx_arrived_flag(void)
{
	return &rx_arrived;
}

void serial_putc(char c)
{
	if (!present)
		return;
	bool pumping = spin_trylock(&rx_lock);
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT; i++) {
		uint8_t lsr = inb(COM1 + UART_LSR);
		if (pumping)
			pump_locked(lsr);
		if (lsr & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	if (pumping)
		spin_unlock(&rx_lock);
	outb(COM1 + UART_THR, (uint8_t)c);
}

int serial_getc(void)
{
	int c;

	if (!present || !spin_trylock(&rx_lock))
		return -1;
	pump_locked(inb(COM1 + UART_LSR));
	c = byte_ring_get(&rx);
	spin_unlock(&rx_lock);
	return c;
}

void serial_rx_losses(uint64_t *overruns, uint64_t *dropped)
{
	*overruns = rx_overruns;
	*dropped = rx.dropped;
}

bool com2_init(void)
{
	com2_present = uart_init(COM2);
	return com2_present;
}

void com2_putc(char c)
{
	if (!com2_present)
		return;
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT && !(inb(COM2 + UART_LSR) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(COM2 + UART_THR, (uint8_t)c);
}

int com2_getc(void)
{
	if (!com2_present || !(inb(COM2 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM2 + UART_RBR);
}
