/* The machine's PS/2 keyboard behind its i8042 controller, polled like the
 * serial line, so that a machine with a screen and a keyboard and no
 * serial port can use the console. The caller serializes the calls (the
 * console's input lock). */
#ifndef PGVISOR_PS2KBD_H
#define PGVISOR_PS2KBD_H

#include <stdbool.h>

/* Looks for the controller and turns its scan code translation on (set 1,
 * drivers/scancode.h); without a controller the keyboard stays silent. */
void ps2kbd_init(void);
bool ps2kbd_present(void);
/* The next byte typed (a key can type several: an arrow's escape
 * sequence), or -1 when none is waiting. */
int ps2kbd_getc(void);
/* selftest=keyboard: echoes what is typed until Enter (or 60 s pass),
 * one line; passes when a line came. */
bool ps2kbd_selftest(void);

#endif
