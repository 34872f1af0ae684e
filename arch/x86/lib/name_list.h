/* A list of names for one line of output ("mwait rdtsc", "TPR shadow,
 * virtual-interrupt delivery"): the trap sets and the APIC features a VM
 * uses are printed this way. */
#ifndef PGVISOR_LIB_NAME_LIST_H
#define PGVISOR_LIB_NAME_LIST_H

#include <stddef.h>
#include <stdio.h>

/* Writes the names that are not NULL into buf, sep between them, or
 * "none" when there are none. Names are written whole: those that do not
 * fit are left out. */
static inline void name_list_format(char *buf, size_t len, const char *const *names, size_t count,
				    const char *sep)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (!names[i])
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? sep : "", names[i]);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

#endif
