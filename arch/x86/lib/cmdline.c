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
