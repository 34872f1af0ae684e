/* The odds and ends of a PC's system ports, all per VM:
 *
 *   0x92   System Control Port A (Intel 82371AB PIIX4 data sheet, "Port
 *          92h"): bit 1 A20 gate, bit 0 fast reset on its 0 -> 1 edge.
 *   0x60/0x64  a keyboard controller (Intel 8042 / IBM PC/AT Technical
 *          Reference, "Keyboard Controller") with nothing plugged in.
 *   0x80   POST code port, 0xED delay port: writes accepted and dropped.
 *   0xCF9  Reset Control Register (Intel ICH/PIIX4 "RC"): RST_CPU (bit 2)
 *          going 0 -> 1 resets, hard or soft per SYS_RST (bit 1).
 *
 * The keyboard controller answers its own commands (read/write command
 * byte, self-test, enable/disable ports, output port, AUX loopback) and
 * its status register reads "no data, input buffer empty", so waits on it
 * end at once. It never raises IRQ 1 or 12 and drops bytes sent to the
 * keyboard or mouse. Linux's i8042 driver therefore finds a controller
 * with no AUX port (its AUX IRQ test times out after 250 ms;
 * i8042.noaux skips it) and a keyboard port on which atkbd finds no
 * keyboard (asynchronously, in kseriod).
 *
 * Every reset path (port 0x92 bit 0, 8042 command 0xFE or any pulse of
 * output bit 0, an output-port write with bit 0 clear, 0xCF9) calls the
 * reset callback; the VM decides what a reset means. A20 is state only:
 * guest memory is never wrapped at 1 MiB. */
#ifndef PGVISOR_DEV_SYSCTL_H
#define PGVISOR_DEV_SYSCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/state_io.h"

#define SYSCTL_KBC_DATA 0x60
#define SYSCTL_KBC_CMD 0x64
#define SYSCTL_POST 0x80
#define SYSCTL_PORT_A 0x92
#define SYSCTL_DELAY 0xed
#define SYSCTL_RESET_CONTROL 0xcf9

struct sysctl {
	void (*reset)(void *ctx);
	void *ctx;
	uint8_t port_a;	       /* port 0x92 */
	uint8_t reset_control; /* port 0xCF9 */
	/* The keyboard controller. */
	uint8_t command_byte;
	uint8_t output_port;
	uint8_t output_buffer;
	bool output_full; /* OBF: a byte waits in the output buffer */
	bool output_aux;  /* ... and it came from the AUX side */
	bool last_was_command;
	uint8_t pending_command; /* the command whose data byte is next, or 0 */
};

void sysctl_init(struct sysctl *s, void (*reset)(void *ctx), void *ctx);
/* Registers 0x60, 0x64, 0x80, 0x92, 0xED and 0xCF9: 0, or -1. */
int sysctl_attach(struct sysctl *s, struct io_bus *bus);
/* A20 is enabled by port 0x92 bit 1 or the 8042's output port bit 1. */
bool sysctl_a20_enabled(const struct sysctl *s);

/* The state stream's record (docs/STATE_STREAM.md): ports 0x92 and 0xCF9
 * and the keyboard controller's bytes. A load refuses bits the ports do
 * not keep, a pending command that takes no data byte, and an AUX byte
 * with no byte waiting; it leaves s as it was then. */
void sysctl_save(const struct sysctl *s, struct state_writer *w);
int sysctl_load(struct sysctl *s, struct state_reader *r);

#endif
