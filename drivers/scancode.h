/* PC keyboard scan code set 1 (what the i8042 hands the CPU with its
 * translation on, the state firmware leaves it in) turned into the bytes a
 * serial terminal sends for the same keys: US layout, Shift and Caps Lock,
 * Ctrl with a letter (Ctrl-A is the console's focus key), Enter as CR,
 * Backspace as DEL, arrows and Home/End/Delete as ANSI escape sequences.
 * Pure: the keyboard driver feeds it bytes, host unit tests too. */
#ifndef PGVISOR_SCANCODE_H
#define PGVISOR_SCANCODE_H

#include <stdbool.h>
#include <stdint.h>

#define SCANCODE_OUT_MAX 4 /* the longest output of one byte: ESC [ 3 ~ */

struct scancode_state {
	bool shift_left, shift_right, ctrl_left, ctrl_right, caps;
	bool extended;	  /* an 0xE0 prefix came */
	unsigned swallow; /* bytes of a Pause sequence (0xE1 ...) still to come */
};

/* Feeds one byte from the keyboard; writes what it types into out and
 * returns how many bytes (0 for a release, a modifier, an unknown key). */
unsigned scancode_feed(struct scancode_state *s, uint8_t code, uint8_t out[SCANCODE_OUT_MAX]);

#endif
