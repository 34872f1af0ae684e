/* A VM's console output, assembled into whole lines: each line reaches the
 * host console as "[vm-name] text" (console_vm_line). Shared by the
 * devices a guest prints through (the UART, virtio-console), so that both
 * print alike: '\r' is dropped, '\n' ends a line (an empty one too), a
 * line that fills the buffer is printed at once, and a newline right after
 * such a full line adds no empty line. */
#ifndef PGVISOR_DEV_LINE_OUT_H
#define PGVISOR_DEV_LINE_OUT_H

#include <stdbool.h>
#include <stdint.h>

#define LINE_OUT_MAX 200

struct line_out {
	const char *owner; /* VM name used as the line prefix */
	char line[LINE_OUT_MAX];
	unsigned len;
	bool wrapped; /* the last byte filled a line, which was printed */
};

void line_out_init(struct line_out *l, const char *owner);
/* Ends the pending line with c: a newline, or the byte that fills it. */
void line_out_end(struct line_out *l, uint8_t c);
/* Appends one byte of guest output; a newline or a full line flushes.
 * Inline: every byte a guest prints on its UART comes through here. */
static inline void line_out_byte(struct line_out *l, uint8_t c)
{
	if (c == '\r')
		return;
	if (c == '\n' || l->len == LINE_OUT_MAX - 1) {
		line_out_end(l, c);
		return;
	}
	l->wrapped = false;
	l->line[l->len++] = (char)c;
}
/* Prints whatever partial line is pending (at VM stop, or at a prompt). */
void line_out_flush(struct line_out *l);

#endif
