/* Words of pgvisor's own command line: "key=value" options, separated by
 * spaces, as GRUB or pgvisor.conf passes them. */
#ifndef PGVISOR_CMDLINE_H
#define PGVISOR_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of the first word "key=value" of cmdline into out
 * (cut to len - 1 characters); false when there is no such word. */
bool cmdline_value(const char *cmdline, const char *key, char *out, size_t len);
/* Copies cmdline into out (cut to len - 1 characters) with the value of
 * every word "key=value" replaced by "***": for printing a command line
 * that holds a secret. */
void cmdline_masked(const char *cmdline, const char *key, char *out, size_t len);

#endif
