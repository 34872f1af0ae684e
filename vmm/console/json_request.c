#include "vmm/console/json_request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/lib/hex.h"

#define UNICODE_ASCII_END 0x80

struct cursor {
	const char *p, *end, *start;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3))) fail(struct cursor *c, const char *fmt, ...)
{
	va_list ap;
	char what[96];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s at byte %u", what, (unsigned)(c->p - c->start));
	return -1;
}

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

static bool take(struct cursor *c, char ch)
{
	skip_blanks(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* \uXXXX: only ASCII (and not NUL) is taken; requests are names and
 * numbers. */
static int unicode_escape(struct cursor *c, char *out)
{
	unsigned v = 0;

	if (c->end - c->p < 4)
		return fail(c, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		int d = hex_value(c->p[i]);
		if (d < 0)
			return fail(c, "bad \\u escape");
		v = v * 16 + (unsigned)d;
	}
	if (v == 0 || v >= UNICODE_ASCII_END)
		return fail(c, "\\u%04x: only ASCII is taken", v);
	c->p += 4;
	*out = (char)v;
	return 0;
}

/* A string after its opening quote, into out (size bytes). */
static int string(struct cursor *c, char *out, size_t size, const char *what)
{
	size_t n = 0;

	for (;;) {
		if (c->p >= c->end)
			return fail(c, "unterminated string");
		char ch = *c->p++;
		if (ch == '"')
			break;
		if ((unsigned char)ch < 0x20)
			return fail(c, "control character in a string");
		if (ch == '\\') {
			if (c->p >= c->end)
				return fail(c, "unterminated string");
			char e = *c->p++;
			switch (e) {
			case '"':
			case '\\':
			case '/':
				ch = e;
				break;
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'r':
				ch = '\r';
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'u':
				if (unicode_escape(c, &ch))
					return -1;
				break;
			default:
				return fail(c, "bad escape \\%c", e);
			}
		}
		if (n + 1 >= size)
			return fail(c, "%s longer than %u bytes", what, (unsigned)size - 1);
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

static bool word(struct cursor *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return false;
	c->p += n;
	return true;
}

/* An integer: -?digits, no leading zero, within int64_t. */
static int integer(struct cursor *c, int64_t *out)
{
	bool negative = c->p < c->end && *c->p == '-';
	uint64_t v = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	const char *digits;

	if (negative)
		c->p++;
	digits = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		uint64_t d = (uint64_t)(*c->p - '0');
		if (v > (limit - d) / 10)
			return fail(c, "number out of range");
		v = v * 10 + d;
		c->p++;
	}
	if (c->p == digits)
		return fail(c, "expected a value (string, integer, true or false)");
	if (c->p - digits > 1 && *digits == '0')
		return fail(c, "number with a leading zero");
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return fail(c, "only integers are taken");
	*out = negative ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int value(struct cursor *c, struct json_field *f)
{
	skip_blanks(c);
	if (c->p >= c->end)
		return fail(c, "expected a value");
	if (*c->p == '"') {
		c->p++;
		f->type = JSON_STRING;
		return string(c, f->str, sizeof(f->str), "a value");
	}
	if (word(c, "true") || word(c, "false")) {
		f->type = JSON_BOOL;
		f->flag = c->p[-1] == 'e' && c->p[-2] == 'u'; /* "true", not "false" */
		return 0;
	}
	if (*c->p == '{' || *c->p == '[')
		return fail(c, "nested values are not taken");
	if (word(c, "null"))
		return fail(c, "null is not taken");
	f->type = JSON_INT;
	return integer(c, &f->num);
}

const struct json_field *json_field(const struct json_object *obj, const char *key)
{
	for (unsigned i = 0; i < obj->count; i++)
		if (!strcmp(obj->fields[i].key, key))
			return &obj->fields[i];
	return NULL;
}

int json_parse_object(const char *text, size_t len, struct json_object *obj, char *err,
		      size_t errlen)
{
	struct cursor c = { text, text + len, text, err, errlen };

	memset(obj, 0, sizeof(*obj));
	if (err && errlen)
		err[0] = '\0';
	if (!take(&c, '{'))
		return fail(&c, "expected a JSON object");
	if (!take(&c, '}')) {
		do {
			if (obj->count == JSON_FIELDS_MAX)
				return fail(&c, "more than %u fields", JSON_FIELDS_MAX);
			struct json_field *f = &obj->fields[obj->count];
			if (!take(&c, '"'))
				return fail(&c, "expected a key");
			if (string(&c, f->key, sizeof(f->key), "a key"))
				return -1;
			if (json_field(obj, f->key))
				return fail(&c, "key '%s' given twice", f->key);
			if (!take(&c, ':'))
				return fail(&c, "expected ':'");
			if (value(&c, f))
				return -1;
			obj->count++;
		} while (take(&c, ','));
		if (!take(&c, '}'))
			return fail(&c, "expected ',' or '}'");
	}
	skip_blanks(&c);
	if (c.p != c.end)
		return fail(&c, "text after the object");
	return 0;
}
