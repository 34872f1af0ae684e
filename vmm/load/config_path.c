/* Paths in VM configs (see config.h): a file named in a config is
 * resolved relative to the config's own directory and normalised as
 * Python's posixpath.normpath does, so pgvisor and the host tools (which
 * build the boot media) agree on every name. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "vmm/load/config.h"

/* Normalising path components into out, as posixpath.normpath does: the
 * stack is "dotdots" leading ".." components (only in relative paths)
 * followed by names, which are kept in out[0, len) separated by '/'.
 * Names that would not fit are only counted (virt), above the stored
 * ones, so that later ".." can still pop them. */
struct norm {
	char *out;
	size_t cap;
	size_t len;
	size_t nnames;
	size_t virt;
	size_t dotdots;
	bool absolute;
};

static void norm_component(struct norm *n, const char *c, size_t clen)
{
	if (clen == 0 || (clen == 1 && c[0] == '.'))
		return;
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		if (n->virt) {
			n->virt--;
		} else if (n->nnames) {
			while (n->len > 0 && n->out[n->len - 1] != '/')
				n->len--;
			if (n->len > 0)
				n->len--; /* the separator */
			n->nnames--;
		} else if (!n->absolute) {
			n->dotdots++;
		} /* else ".." at the root stays at the root */
		return;
	}
	size_t need = n->len + (n->nnames ? 1 : 0) + clen;
	if (n->virt || need + 1 > n->cap) {
		n->virt++;
		return;
	}
	if (n->nnames)
		n->out[n->len++] = '/';
	memcpy(n->out + n->len, c, clen);
	n->len += clen;
	n->nnames++;
}

static void norm_components(struct norm *n, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		norm_component(n, s + i, j - i);
		i = j + 1;
	}
}

int config_resolve_path(const char *base, const char *rel, char *out, size_t outlen)
{
	const char *first, *second = "";
	size_t flen, slen = 0, dlen = 0, slashes = 0;

	if (!outlen)
		return -1;
	/* os.path.dirname(base): up to the last '/', trailing slashes
	 * stripped unless that leaves nothing. */
	const char *last = strrchr(base, '/');
	if (last) {
		size_t lead = 0;
		dlen = (size_t)(last - base) + 1;
		while (lead < dlen && base[lead] == '/')
			lead++;
		if (lead != dlen)
			while (dlen > 0 && base[dlen - 1] == '/')
				dlen--;
	}
	/* os.path.join(dir, rel): an absolute rel replaces dir. */
	if (rel[0] == '/') {
		first = rel;
		flen = strlen(rel);
	} else {
		first = base;
		flen = dlen;
		second = rel;
		slen = strlen(rel);
	}
	/* POSIX keeps exactly two leading slashes; more count as one. */
	while (slashes < flen && first[slashes] == '/')
		slashes++;
	if (slashes > 2)
		slashes = 1;

	struct norm n = { .out = out, .cap = outlen, .absolute = slashes > 0 };
	norm_components(&n, first, flen);
	norm_components(&n, second, slen);
	if (n.virt)
		return -1;

	size_t pre = slashes + (n.dotdots ? 3 * n.dotdots - 1 : 0) + (n.dotdots && n.nnames);
	size_t total = pre + n.len;
	if (total == 0) {
		if (outlen < 2)
			return -1;
		memcpy(out, ".", 2);
		return 0;
	}
	if (total + 1 > outlen)
		return -1;
	memmove(out + pre, out, n.len);
	out[total] = '\0';
	size_t o = 0;
	for (size_t i = 0; i < slashes; i++)
		out[o++] = '/';
	for (size_t i = 0; i < n.dotdots; i++) {
		if (i)
			out[o++] = '/';
		out[o++] = '.';
		out[o++] = '.';
	}
	if (n.dotdots && n.nnames)
		out[o++] = '/';
	return 0;
}
