#include "vmm/dev/sysctl.h"

#include <string.h>

/* Port 0x92, System Control Port A (PIIX4 data sheet). */
#define PORT_A_FAST_RESET 0x01 /* ALT_RST: reset on 0 -> 1 */
#define PORT_A_A20 0x02	       /* ALT_A20_GATE */
#define PORT_A_MASK (PORT_A_FAST_RESET | PORT_A_A20)

/* Port 0xCF9, Reset Control Register. */
#define RC_SYS_RST 0x02 /* hard (1) or soft (0) reset */
#define RC_RST_CPU 0x04 /* reset on 0 -> 1 */
#define RC_FULL_RST 0x08
#define RC_MASK (RC_SYS_RST | RC_RST_CPU | RC_FULL_RST)

/* 8042 status register. */
#define STATUS_OBF 0x01	     /* output buffer full */
#define STATUS_IBF 0x02	     /* input buffer full: never, bytes are taken at once */
#define STATUS_SYS 0x04	     /* system flag, from the command byte */
#define STATUS_COMMAND 0x08  /* the last write was to port 0x64 */
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited by the keylock */
#define STATUS_AUX_DATA 0x20 /* the output buffer holds an AUX byte */

/* 8042 command byte. */
#define CB_KBD_INT 0x01
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_TRANSLATE 0x40

/* 8042 output port. */
#define OUT_RESET 0x01 /* system reset line, active low */
#define OUT_A20 0x02

/* 8042 commands (written to port 0x64). */
#define CMD_READ_COMMAND_BYTE 0x20
#define CMD_WRITE_COMMAND_BYTE 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPUT_PORT 0xd0
#define CMD_WRITE_OUTPUT_PORT 0xd1
#define CMD_WRITE_AUX_OUTPUT 0xd3 /* AUX loopback: the byte comes back */
#define CMD_WRITE_AUX 0xd4	  /* to the mouse: there is none */
#define CMD_PULSE_FIRST 0xf0	  /* 0xF0-0xFF: pulse output bits 3-0 */
#define PULSE_RESET 0x01	  /* a clear bit 0 pulses the reset line */
#define NO_COMMAND 0x00

#define SELF_TEST_PASSED 0x55

/* What firmware leaves: keyboard interrupt on, scan-code translation,
 * system flag (POST passed); reset line high, A20 enabled by both
 * gates. */
#define FIRMWARE_COMMAND_BYTE (CB_KBD_INT | CB_SYS | CB_TRANSLATE)
#define FIRMWARE_OUTPUT_PORT (OUT_RESET | OUT_A20)

static void do_reset(struct sysctl *s)
{
	if (s->reset)
		s->reset(s->ctx);
}

static void respond(struct sysctl *s, uint8_t v, bool aux)
{
	s->output_buffer = v;
	s->output_full = true;
	s->output_aux = aux;
}

static void write_output_port(struct sysctl *s, uint8_t v)
{
	s->output_port = v;
	if (!(v & OUT_RESET))
		do_reset(s);
}

static void kbc_command(struct sysctl *s, uint8_t cmd)
{
	s->last_was_command = true;
	s->pending_command = NO_COMMAND;
	if (cmd >= CMD_PULSE_FIRST) {
		if (!(cmd & PULSE_RESET))
			do_reset(s);
		return;
	}
	switch (cmd) {
	case CMD_READ_COMMAND_BYTE:
		respond(s, s->command_byte, false);
		break;
	case CMD_WRITE_COMMAND_BYTE:
	case CMD_WRITE_OUTPUT_PORT:
	case CMD_WRITE_AUX_OUTPUT:
	case CMD_WRITE_AUX:
		s->pending_command = cmd;
		break;
	case CMD_AUX_DISABLE:
		s->command_byte |= CB_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		s->command_byte &= (uint8_t)~CB_AUX_DISABLE;
		break;
	case CMD_SELF_TEST:
		respond(s, SELF_TEST_PASSED, false);
		break;
	case CMD_KBD_DISABLE:
		s->command_byte |= CB_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		s->command_byte &= (uint8_t)~CB_KBD_DISABLE;
		break;
	case CMD_READ_OUTPUT_PORT:
		respond(s, s->output_port, false);
		break;
	default:
		break; /* not implemented: no answer */
	}
}

static void kbc_data(struct sysctl *s, uint8_t v)
{
	uint8_t cmd = s->pending_command;

	s->last_was_command = false;
	s->pending_command = NO_COMMAND;
	switch (cmd) {
	case CMD_WRITE_COMMAND_BYTE:
		s->command_byte = v;
		break;
	case CMD_WRITE_OUTPUT_PORT:
		write_output_port(s, v);
		break;
	case CMD_WRITE_AUX_OUTPUT:
		respond(s, v, true);
		break;
	default:
		break; /* for the keyboard or the mouse: nobody is there */
	}
}

static uint8_t kbc_status(const struct sysctl *s)
{
	return (uint8_t)((s->output_full ? STATUS_OBF : 0) |
			 ((s->command_byte & CB_SYS) ? STATUS_SYS : 0) |
			 (s->last_was_command ? STATUS_COMMAND : 0) | STATUS_UNLOCKED |
			 (s->output_aux ? STATUS_AUX_DATA : 0));
}

static uint8_t kbc_read_data(struct sysctl *s)
{
	/* An empty buffer reads its last byte again. */
	s->output_full = false;
	s->output_aux = false;
	return s->output_buffer;
}

static void write_port_a(struct sysctl *s, uint8_t v)
{
	uint8_t old = s->port_a;

	s->port_a = v & PORT_A_MASK;
	if ((v & PORT_A_FAST_RESET) && !(old & PORT_A_FAST_RESET))
		do_reset(s);
}

static void write_reset_control(struct sysctl *s, uint8_t v)
{
	uint8_t old = s->reset_control;

	s->reset_control = v & RC_MASK;
	if ((v & RC_RST_CPU) && !(old & RC_RST_CPU))
		do_reset(s);
}

static uint32_t sysctl_read(void *dev, uint16_t port, unsigned size)
{
	struct sysctl *s = dev;
	(void)size;

	switch (port) {
	case SYSCTL_KBC_DATA:
		return kbc_read_data(s);
	case SYSCTL_KBC_CMD:
		return kbc_status(s);
	case SYSCTL_PORT_A:
		return s->port_a;
	default: /* SYSCTL_RESET_CONTROL */
		return s->reset_control;
	}
}

static void sysctl_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct sysctl *s = dev;
	uint8_t v = (uint8_t)value;
	(void)size;

	switch (port) {
	case SYSCTL_KBC_DATA:
		kbc_data(s, v);
		break;
	case SYSCTL_KBC_CMD:
		kbc_command(s, v);
		break;
	case SYSCTL_PORT_A:
		write_port_a(s, v);
		break;
	default: /* SYSCTL_RESET_CONTROL */
		write_reset_control(s, v);
		break;
	}
}

void sysctl_init(struct sysctl *s, void (*reset)(void *ctx), void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->reset = reset;
	s->ctx = ctx;
	s->port_a = PORT_A_A20;
	s->command_byte = FIRMWARE_COMMAND_BYTE;
	s->output_port = FIRMWARE_OUTPUT_PORT;
}

int sysctl_attach(struct sysctl *s, struct io_bus *bus)
{
	static const uint16_t ports[] = { SYSCTL_KBC_DATA, SYSCTL_KBC_CMD, SYSCTL_PORT_A,
					  SYSCTL_RESET_CONTROL };

	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (io_bus_register(bus, ports[i], 1, sysctl_read, sysctl_write, s, "sysctl"))
			return -1;
	/* Write-only ports whose writes mean nothing to a VM; reads float. */
	if (io_bus_register(bus, SYSCTL_POST, 1, NULL, NULL, s, "post"))
		return -1;
	return io_bus_register(bus, SYSCTL_DELAY, 1, NULL, NULL, s, "delay");
}

bool sysctl_a20_enabled(const struct sysctl *s)
{
	return (s->port_a & PORT_A_A20) || (s->output_port & OUT_A20);
}

void sysctl_save(const struct sysctl *s, struct state_writer *w)
{
	state_put_u8(w, s->port_a);
	state_put_u8(w, s->reset_control);
	state_put_u8(w, s->command_byte);
	state_put_u8(w, s->output_port);
	state_put_u8(w, s->output_buffer);
	state_put_bool(w, s->output_full);
	state_put_bool(w, s->output_aux);
	state_put_bool(w, s->last_was_command);
	state_put_u8(w, s->pending_command);
}

/* The commands kbc_command leaves waiting for their data byte. */
static bool takes_data(uint8_t cmd)
{
	return cmd == NO_COMMAND || cmd == CMD_WRITE_COMMAND_BYTE || cmd == CMD_WRITE_OUTPUT_PORT ||
	       cmd == CMD_WRITE_AUX_OUTPUT || cmd == CMD_WRITE_AUX;
}

int sysctl_load(struct sysctl *s, struct state_reader *r)
{
	struct sysctl n = *s;

	n.port_a = state_get_u8(r);
	n.reset_control = state_get_u8(r);
	n.command_byte = state_get_u8(r);
	n.output_port = state_get_u8(r);
	n.output_buffer = state_get_u8(r);
	n.output_full = state_get_bool(r);
	n.output_aux = state_get_bool(r);
	n.last_was_command = state_get_bool(r);
	n.pending_command = state_get_u8(r);
	if (n.port_a & ~PORT_A_MASK)
		state_refuse(r, "system control: port 0x92 bits it does not keep");
	if (n.reset_control & ~RC_MASK)
		state_refuse(r, "system control: port 0xCF9 bits it does not keep");
	if (!takes_data(n.pending_command))
		state_refuse(r, "keyboard controller: a pending command without a data byte");
	if (n.output_aux && !n.output_full)
		state_refuse(r, "keyboard controller: an AUX byte with none waiting");
	if (state_reader_done(r))
		return -1;
	*s = n;
	return 0;
}
