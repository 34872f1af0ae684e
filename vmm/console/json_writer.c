#include "vmm/console/json_writer.h"

#include <stdio.h>
#include <string.h>

#define CONTROL_CHAR_END 0x20 /* below it, a character is written \u00XX */

void json_init(struct json_writer *w, char *buf, size_t size)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->size = size;
	buf[0] = '\0';
}

static void put(struct json_writer *w, char c)
{
	if (w->len + 1 >= w->size) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* s in quotes, with what JSON must escape escaped (RFC 8259 7). */
static void put_quoted(struct json_writer *w, const char *s)
{
	put(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put(w, '\\');
			put(w, (char)c);
		} else if (c == '\n') {
			put(w, '\\');
			put(w, 'n');
		} else if (c < CONTROL_CHAR_END || c >= 0x7f) {
			/* Only ASCII leaves: a byte above it is not known UTF-8. */
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			for (const char *e = esc; *e; e++)
				put(w, *e);
		} else {
			put(w, (char)c);
		}
	}
	put(w, '"');
}

/* A value or key begins: the comma that is due, unless it follows a key. */
static void begin_item(struct json_writer *w)
{
	bool after_key = w->len && w->buf[w->len - 1] == ':';

	if (!after_key && w->need_comma[w->depth])
		put(w, ',');
	w->need_comma[w->depth] = true;
}

void json_open(struct json_writer *w, char bracket)
{
	begin_item(w);
	put(w, bracket);
	if (w->depth + 1 >= JSON_DEPTH_MAX) {
		w->overflow = true;
		return;
	}
	w->need_comma[++w->depth] = false;
}

void json_close(struct json_writer *w, char bracket)
{
	put(w, bracket);
	if (w->depth)
		w->depth--;
	else
		w->overflow = true; /* more closed than opened */
}

void json_key(struct json_writer *w, const char *key)
{
	begin_item(w);
	put_quoted(w, key);
	put(w, ':');
}

void json_string(struct json_writer *w, const char *s)
{
	begin_item(w);
	put_quoted(w, s);
}

void json_int(struct json_writer *w, int64_t v)
{
	char num[24];

	begin_item(w);
	snprintf(num, sizeof(num), "%lld", (long long)v);
	for (const char *p = num; *p; p++)
		put(w, *p);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char num[24];

	begin_item(w);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	for (const char *p = num; *p; p++)
		put(w, *p);
}

void json_bool(struct json_writer *w, bool v)
{
	begin_item(w);
	for (const char *p = v ? "true" : "false"; *p; p++)
		put(w, *p);
}

void json_key_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_key_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_key_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_key_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

bool json_ok(const struct json_writer *w)
{
	return !w->overflow && w->depth == 0;
}
