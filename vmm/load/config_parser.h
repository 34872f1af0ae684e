/* The config reader's state, shared by its files (config.c reads keys and
 * values, config_devices.c the disk and vif strings). Not for use outside
 * vmm/load/config*.c: config.h is the interface. */
#ifndef VMM_LOAD_CONFIG_PARSER_H
#define VMM_LOAD_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct vm_config;

#define SPEC_MAX 255 /* longest disk or vif string */
#define ECHO_MAX 32  /* longest piece of a value echoed in messages */

struct parser {
	const char *p;
	const char *end;
	unsigned line;
	const char *path;
	char *err;
	size_t errlen;
	struct vm_config *out;
	unsigned seen;	 /* bit per enum key */
	unsigned nitems; /* strings so far in the list being read */
};

/* Writes "PATH:LINE: message" (or "PATH: message" for line 0) into the
 * caller's error buffer; returns -1. */
int config_fail_at(const struct parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define fail(ps, ...) config_fail_at((ps), (ps)->line, __VA_ARGS__)

/* For "'%.*s%s'": a value echoed in a message, cut at ECHO_MAX. */
#define ECHO(s)                                                                                    \
	(strlen(s) > ECHO_MAX ? ECHO_MAX : (int)strlen(s)), (s), (strlen(s) > ECHO_MAX ? "..." : "")

/* Letters, digits, '_', '.' and '-': VM and bridge names. */
bool config_name_char(char c);

/* One string of a disk = [ ... ] or vif = [ ... ] list, the ps->nitems-th
 * (config_devices.c). */
int config_add_disk(struct parser *ps, const char *spec, size_t len);
int config_add_vif(struct parser *ps, const char *spec, size_t len);

#endif
