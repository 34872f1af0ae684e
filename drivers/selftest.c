#include "drivers/selftest.h"

#include <stddef.h>
#include <string.h>

#include "arch/x86/lib/cmdline.h"
#include "boot/boot_info.h"
#include "drivers/console.h"
#include "drivers/net/net_selftest.h"
#include "drivers/ps2kbd.h"
#include "drivers/storage/error_selftest.h"
#include "drivers/storage/storage_selftest.h"

#define OPTION "selftest"
#define NAME_MAX_LEN 16

struct selftest {
	const char *name;
	bool (*run)(void);
};

/* One line a test. */
static const struct selftest tests[] = {
	{ "storage", storage_selftest },
	{ "net", net_selftest },
	{ "disk-errors", disk_error_selftest },
	{ "keyboard", ps2kbd_selftest },
};

bool selftest_requested(const char *cmdline)
{
	return cmdline_value(cmdline, OPTION, NULL, 0);
}

static const struct selftest *find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strlen(tests[i].name) == len && !strncmp(tests[i].name, name, len))
			return &tests[i];
	return NULL;
}

bool selftest_run(const char *cmdline)
{
	/* As long as the whole command line: the list is never cut. */
	char list[BOOT_CMDLINE_MAX];
	const char *p = list;
	bool passed = true;

	if (!cmdline_value(cmdline, OPTION, list, sizeof(list)) || !*p) {
		kprintf("pgvisor: selftest: selftest= names no test\n");
		return false;
	}
	while (*p) {
		size_t len = 0;
		while (p[len] && p[len] != ',')
			len++;
		const struct selftest *t = find(p, len);
		if (!t) {
			kprintf("pgvisor: selftest: no test named '%.*s'\n",
				(int)(len < NAME_MAX_LEN ? len : NAME_MAX_LEN), p);
			passed = false;
		} else if (!t->run()) {
			passed = false;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return passed;
}
