#include "boot/efi/boot_conf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 512

struct line {
	const char *p, *end;
	unsigned number;
};

static void skip_blanks(struct line *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\r'))
		l->p++;
}

static bool at_end(struct line *l)
{
	skip_blanks(l);
	return l->p == l->end || *l->p == '#';
}

/* key = "value": copies both; returns NULL or what is wrong. */
static const char *key_value(struct line *l, char *key, size_t keylen, char *value, size_t valuelen)
{
	size_t n = 0;

	skip_blanks(l);
	while (l->p < l->end && ((*l->p >= 'a' && *l->p <= 'z') || *l->p == '_')) {
		if (n + 1 == keylen)
			return "setting name too long";
		key[n++] = *l->p++;
	}
	key[n] = '\0';
	if (!n)
		return "expected a setting name";
	skip_blanks(l);
	if (l->p == l->end || *l->p++ != '=')
		return "expected '=' after the setting name";
	skip_blanks(l);
	if (l->p == l->end || *l->p++ != '"')
		return "expected a quoted value";
	n = 0;
	while (l->p < l->end && *l->p != '"') {
		if ((unsigned char)*l->p < ' ')
			return "control character in the value";
		if (n + 1 == valuelen)
			return "value too long";
		value[n++] = *l->p++;
	}
	value[n] = '\0';
	if (l->p == l->end)
		return "missing closing '\"'";
	l->p++;
	if (!at_end(l))
		return "unexpected text after the value";
	return NULL;
}

static int fail(char *err, size_t errlen, unsigned line, const char *what)
{
	snprintf(err, errlen, "%s:%u: %s", BOOT_CONF_NAME, line, what);
	return -1;
}

static const char *apply(struct boot_conf *out, const char *key, const char *value,
			 bool *seen_cmdline)
{
	if (!strcmp(key, "cmdline")) {
		if (*seen_cmdline)
			return "cmdline given twice";
		*seen_cmdline = true;
		size_t n = strlen(value);
		if (n >= sizeof(out->cmdline))
			return "cmdline too long";
		memcpy(out->cmdline, value, n + 1);
		return NULL;
	}
	if (!strcmp(key, "vm")) {
		if (out->nvms == BOOT_CONF_MAX_VMS)
			return "too many vm lines";
		if (!value[0])
			return "empty vm path";
		if (config_resolve_path(BOOT_CONF_NAME, value, out->vms[out->nvms], CFG_PATH_MAX))
			return "vm path too long";
		out->nvms++;
		return NULL;
	}
	return "unknown setting (expected cmdline or vm)";
}

int boot_conf_parse(const char *text, size_t len, struct boot_conf *out, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	bool seen_cmdline = false;
	unsigned number = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = p;
		while (eol < end && *eol != '\n')
			eol++;
		struct line l = { p, eol, ++number };
		char key[16], value[LINE_MAX_LEN];
		p = eol < end ? eol + 1 : end;
		if (at_end(&l))
			continue;
		const char *problem = key_value(&l, key, sizeof(key), value, sizeof(value));
		if (!problem)
			problem = apply(out, key, value, &seen_cmdline);
		if (problem)
			return fail(err, errlen, l.number, problem);
	}
	if (!out->nvms)
		return fail(err, errlen, number, "no vm line: nothing to boot");
	return 0;
}
