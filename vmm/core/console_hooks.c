#include "vmm/core/console_hooks.h"

static const struct core_console *console;

void core_set_console(const struct core_console *c)
{
	console = c;
}

const struct core_console *core_console(void)
{
	return console;
}
