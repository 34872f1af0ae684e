/* Self-tests of the machine's own devices, asked for on pgvisor's command
 * line with "selftest=NAME[,NAME...]" (storage: drivers/storage/
 * storage_selftest.h; disk-errors: drivers/storage/error_selftest.h; net:
 * drivers/net/net_selftest.h; keyboard: drivers/ps2kbd.h). They run after the drivers found their
 * devices and instead of any VM; each prints its own lines. */
#ifndef PGVISOR_SELFTEST_H
#define PGVISOR_SELFTEST_H

#include <stdbool.h>

/* Whether cmdline holds a selftest= word. */
bool selftest_requested(const char *cmdline);
/* Runs every test cmdline names, in order: true when all passed (an
 * unknown name fails). */
bool selftest_run(const char *cmdline);

#endif
