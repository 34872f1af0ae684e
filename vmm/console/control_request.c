#include "vmm/console/control_request.h"

#include <stdio.h>
#include <string.h>

#include "vmm/console/json_request.h"
#include "vmm/load/errmsg.h"

const char *control_arg_name(enum command_id id, unsigned i)
{
	const struct command_info *c = command_info(id);

	if (!c || i >= strlen(c->args))
		return NULL;
	switch (c->args[i]) {
	case 'i':
		return "image";
	case 'v':
	case 'V':
		return "vm";
	case 'w':
	case 'W':
		return id == CMD_HELP ? "command" : id == CMD_MIGRATE ? "host" : "file";
	case 't':
		return "op";
	case 'g':
		return "gpa";
	case 'o':
		return "offset";
	default: /* 'n', 'N' */
		return id == CMD_MEM	   ? "len"
		       : id == CMD_TRACE   ? "n"
		       : id == CMD_CORRUPT ? "offset"
					   : "seconds";
	}
}

static bool known_field(enum command_id id, const char *key)
{
	if (!strcmp(key, "id") || !strcmp(key, "cmd"))
		return true;
	for (unsigned i = 0; control_arg_name(id, i); i++)
		if (!strcmp(control_arg_name(id, i), key))
			return true;
	return false;
}

static bool has_blank(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			return true;
	return false;
}

/* Appends " value" of f to line: a word (no blank) or an integer. */
static int append_arg(char *line, size_t size, const struct json_field *f, char *err, size_t errlen)
{
	size_t used = strlen(line);
	char text[JSON_STRING_MAX];

	switch (f->type) {
	case JSON_STRING:
		if (!f->str[0] || has_blank(f->str))
			return errf(err, errlen, "'%s' must be one word", f->key);
		snprintf(text, sizeof(text), "%s", f->str);
		break;
	case JSON_INT:
		if (f->num < 0)
			return errf(err, errlen, "'%s' must not be negative", f->key);
		snprintf(text, sizeof(text), "%lld", (long long)f->num);
		break;
	default:
		return errf(err, errlen, "'%s' must be a string or an integer", f->key);
	}
	if (used + 1 + strlen(text) >= size)
		return errf(err, errlen, "the arguments are too long");
	line[used] = ' ';
	memcpy(line + used + 1, text, strlen(text) + 1);
	return 0;
}

int control_request_parse(const char *text, size_t len, struct control_request *req, char *err,
			  size_t errlen)
{
	static struct json_object obj; /* big for a hypervisor stack; one caller at a time */
	char line[COMMAND_LINE_MAX];
	enum command_id id;

	memset(req, 0, sizeof(*req));
	if (json_parse_object(text, len, &obj, err, errlen))
		return -1;
	const struct json_field *fid = json_field(&obj, "id");
	if (fid) {
		if (fid->type != JSON_INT)
			return errf(err, errlen, "'id' must be an integer");
		req->has_id = true;
		req->id = fid->num;
	}
	const struct json_field *cmd = json_field(&obj, "cmd");
	if (!cmd || cmd->type != JSON_STRING)
		return errf(err, errlen, "'cmd' (a string) is missing");
	if (!command_find(cmd->str, &id))
		return errf(err, errlen, "unknown command '%.32s'", cmd->str);
	for (unsigned i = 0; i < obj.count; i++)
		if (!known_field(id, obj.fields[i].key))
			return errf(err, errlen, "%s: unknown field '%.16s'", cmd->str,
				    obj.fields[i].key);
	/* The fields in the order the typed command takes them; a missing
	 * optional one is always the last. */
	snprintf(line, sizeof(line), "%s", cmd->str);
	const struct command_info *c = command_info(id);
	for (unsigned i = 0; control_arg_name(id, i); i++) {
		const struct json_field *f = json_field(&obj, control_arg_name(id, i));
		if (!f) {
			if (c->args[i] >= 'a')
				return errf(err, errlen, "%s: field '%s' is missing", c->name,
					    control_arg_name(id, i));
			break;
		}
		if (append_arg(line, sizeof(line), f, err, errlen))
			return -1;
	}
	return command_parse(line, &req->cmd, err, errlen);
}
