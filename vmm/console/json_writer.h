/* A small JSON writer into a fixed buffer: the control channel's replies
 * and events (docs/CONTROL.md). Keys and values are appended in order; a
 * comma goes in wherever one is due. What does not fit is cut and the
 * writer remembers it (json_ok), so a caller sends an error instead of a
 * broken line. */
#ifndef PGVISOR_JSON_WRITER_H
#define PGVISOR_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 8

struct json_writer {
	char *buf;
	size_t size, len;
	bool overflow;
	unsigned depth;
	bool need_comma[JSON_DEPTH_MAX];
};

/* buf (size bytes, at least 1) holds the text, always NUL-terminated. */
void json_init(struct json_writer *w, char *buf, size_t size);
/* Opens '{' or '[' (after json_key inside an object), closes with '}'
 * or ']'. */
void json_open(struct json_writer *w, char bracket);
void json_close(struct json_writer *w, char bracket);
/* "key": inside an object, before its value. */
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
/* A key and its value at once. */
void json_key_string(struct json_writer *w, const char *key, const char *s);
void json_key_int(struct json_writer *w, const char *key, int64_t v);
void json_key_uint(struct json_writer *w, const char *key, uint64_t v);
void json_key_bool(struct json_writer *w, const char *key, bool v);
/* Whether all of it fit and every bracket was closed. */
bool json_ok(const struct json_writer *w);

#endif
