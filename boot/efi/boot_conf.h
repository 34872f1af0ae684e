/* The UEFI loader's top-level configuration: pgvisor.conf at the root of
 * the EFI system partition names the VM configs to boot.
 *
 *   # comment
 *   cmdline = "no-preemption-timer"   # optional: pgvisor's command line
 *   vm = "configs/hello.cfg"          # one line per VM config, at least one
 *
 * Paths are relative to the partition's root, with '/' between names. */
#ifndef PGVISOR_BOOT_CONF_H
#define PGVISOR_BOOT_CONF_H

#include <stddef.h>

#include "boot/boot_info.h"
#include "vmm/load/config.h"

#define BOOT_CONF_NAME "pgvisor.conf"
#define BOOT_CONF_MAX_VMS 16

struct boot_conf {
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned nvms;
	char vms[BOOT_CONF_MAX_VMS][CFG_PATH_MAX]; /* normalised */
};

/* Parses len bytes of text. On error returns -1 and writes one line
 * "pgvisor.conf:LINE: problem" into err. */
int boot_conf_parse(const char *text, size_t len, struct boot_conf *out, char *err, size_t errlen);

#endif
