/* i8042 keyboard controller, polled (the PICs stay masked). Ports and
 * commands as in IBM's PS/2 technical reference: data at 0x60, status and
 * commands at 0x64; status bit 0 says a byte waits, bit 5 that it came
 * from the mouse (auxiliary) port; command 0x20 reads and 0x60 writes the
 * controller's configuration byte, whose bit 6 translates the keyboard's
 * scan code set 2 into set 1. */
#include "drivers/ps2kbd.h"

#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/scancode.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_COMMAND 0x64
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL 0x02
#define STATUS_AUX_DATA 0x20
#define STATUS_ABSENT 0xff /* nothing decodes the port */
#define CMD_READ_CONFIG 0x20
#define CMD_WRITE_CONFIG 0x60
#define CONFIG_TRANSLATE 0x40
#define SPIN_LIMIT 100000 /* polls of the status port before giving up */
#define FLUSH_LIMIT 64	  /* stale bytes thrown away at start */
#define SELFTEST_SECONDS 60
#define SELFTEST_LINE_MAX 80

static bool present;
static struct scancode_state keys;
static uint8_t typed[SCANCODE_OUT_MAX];
static unsigned typed_next, typed_count;

static bool wait_status(uint8_t bit, bool set)
{
	for (int i = 0; i < SPIN_LIMIT; i++) {
		if (!!(inb(I8042_STATUS) & bit) == set)
			return true;
		cpu_relax();
	}
	return false;
}

static bool send_command(uint8_t cmd)
{
	if (!wait_status(STATUS_INPUT_FULL, false))
		return false;
	outb(I8042_COMMAND, cmd);
	return true;
}

void ps2kbd_init(void)
{
	if (inb(I8042_STATUS) == STATUS_ABSENT)
		return;
	for (int i = 0; i < FLUSH_LIMIT && (inb(I8042_STATUS) & STATUS_OUTPUT_FULL); i++)
		inb(I8042_DATA);
	if (!send_command(CMD_READ_CONFIG) || !wait_status(STATUS_OUTPUT_FULL, true))
		return;
	uint8_t config = inb(I8042_DATA);
	if (!(config & CONFIG_TRANSLATE)) {
		if (!send_command(CMD_WRITE_CONFIG) || !wait_status(STATUS_INPUT_FULL, false))
			return;
		outb(I8042_DATA, config | CONFIG_TRANSLATE);
	}
	present = true;
}

bool ps2kbd_present(void)
{
	return present;
}

int ps2kbd_getc(void)
{
	while (present && typed_next == typed_count) {
		uint8_t status = inb(I8042_STATUS);
		if (!(status & STATUS_OUTPUT_FULL))
			return -1;
		uint8_t code = inb(I8042_DATA);
		if (status & STATUS_AUX_DATA)
			continue; /* a mouse's byte */
		typed_count = scancode_feed(&keys, code, typed);
		typed_next = 0;
	}
	return present ? typed[typed_next++] : -1;
}

bool ps2kbd_selftest(void)
{
	char line[SELFTEST_LINE_MAX];
	unsigned len = 0;
	uint64_t end = rdtsc() + tsc_hz() * SELFTEST_SECONDS;

	if (!present) {
		kprintf("pgvisor: selftest: keyboard: no i8042 controller: failed\n");
		return false;
	}
	kprintf("pgvisor: selftest: keyboard: type a line and Enter\n");
	while (rdtsc() < end) {
		int c = ps2kbd_getc();
		if (c < 0) {
			cpu_relax();
			continue;
		}
		if (c == '\r') {
			kprintf("pgvisor: selftest: keyboard: typed '%.*s': passed\n", (int)len,
				line);
			return true;
		}
		/* Control bytes shown as ^X, so the line says what came. */
		if (c < ' ' && len + 2 < sizeof(line)) {
			line[len++] = '^';
			line[len++] = (char)(c + '@');
		} else if (c >= ' ' && len + 1 < sizeof(line)) {
			line[len++] = (char)c;
		}
	}
	kprintf("pgvisor: selftest: keyboard: no Enter within %u s ('%.*s'): failed\n",
		SELFTEST_SECONDS, (int)len, line);
	return false;
}
