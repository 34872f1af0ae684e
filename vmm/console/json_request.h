/* The control channel's requests (docs/CONTROL.md): one JSON object a
 * line, flat, its values strings, integers, true or false. Nothing else
 * of JSON is taken (no nesting, null, fractions): a request never needs
 * it, and a parser that takes less has less to get wrong. Plain string
 * handling, unit-tested and fuzzed on the host. */
#ifndef PGVISOR_JSON_REQUEST_H
#define PGVISOR_JSON_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_FIELDS_MAX 8
#define JSON_KEY_MAX 16	   /* a key's length, the NUL included */
#define JSON_STRING_MAX 96 /* a string value's, the NUL included */

enum json_type { JSON_STRING, JSON_INT, JSON_BOOL };

struct json_field {
	char key[JSON_KEY_MAX];
	enum json_type type;
	char str[JSON_STRING_MAX]; /* JSON_STRING; no NUL inside */
	int64_t num;		   /* JSON_INT */
	bool flag;		   /* JSON_BOOL */
};

struct json_object {
	unsigned count;
	struct json_field fields[JSON_FIELDS_MAX];
};

/* Parses text (len bytes, no NUL needed) as one object with blanks
 * around it. 0, or -1 with one line in err: what is wrong and where. A
 * key given twice is an error. */
int json_parse_object(const char *text, size_t len, struct json_object *obj, char *err,
		      size_t errlen);
/* The field of that key, or NULL. */
const struct json_field *json_field(const struct json_object *obj, const char *key);

#endif
