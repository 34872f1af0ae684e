#include "arch/x86/lib/cmdline.h"

#include <string.h>

bool cmdline_value(const char *cmdline, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;
			if (len) {
				n = n < len - 1 ? n : len - 1;
				memcpy(out, p + klen + 1, n);
				out[n] = '\0';
			}
			return true;
		}
		p = end;
	}
	return false;
}

/* Appends s[0..n) to out[0..len) at *at, keeping room for the NUL. */
static void append(char *out, size_t len, size_t *at, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *at + 1 < len; i++)
		out[(*at)++] = s[i];
}

void cmdline_masked(const char *cmdline, const char *key, char *out, size_t len)
{
	static const char mask[] = "***";
	size_t klen = strlen(key), at = 0;

	if (!len)
		return;
	for (const char *p = cmdline; *p;) {
		const char *end = p + 1;
		if (*p != ' ')
			while (*end && *end != ' ')
				end++;
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			append(out, len, &at, p, klen + 1);
			append(out, len, &at, mask, sizeof(mask) - 1);
		} else {
			append(out, len, &at, p, (size_t)(end - p));
		}
		p = end;
	}
	out[at] = '\0';
}
