#include "vmm/dev/line_out.h"

#include <string.h>

#ifndef HOST_TEST
#include "drivers/console.h"
#else
void console_vm_line(const char *vm, const char *text, unsigned len);
#endif

void line_out_init(struct line_out *l, const char *owner)
{
	memset(l, 0, sizeof(*l));
	l->owner = owner;
}

void line_out_flush(struct line_out *l)
{
	if (!l->len)
		return;
	console_vm_line(l->owner, l->line, l->len);
	l->len = 0;
}

void line_out_end(struct line_out *l, uint8_t c)
{
	if (c == '\n') {
		/* An empty line is still a line the guest printed, unless the
		 * newline only ends a line already flushed for being full. */
		if (l->len || !l->wrapped)
			console_vm_line(l->owner, l->line, l->len);
		l->len = 0;
		l->wrapped = false;
		return;
	}
	l->line[l->len++] = (char)c;
	line_out_flush(l);
	l->wrapped = true;
}
