/* A control-channel request (docs/CONTROL.md) as a console command: the
 * JSON object's "cmd" names the command, its other fields are the
 * command's arguments by name ("vm", "file", "op", "gpa", "len", ...),
 * checked by the same parser as a typed line (command_parse.h). Host
 * unit-tested and fuzzed. */
#ifndef PGVISOR_CONTROL_REQUEST_H
#define PGVISOR_CONTROL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/console/command_parse.h"

#define CONTROL_LINE_MAX 512 /* the longest request line, newline excluded */

struct control_request {
	bool has_id; /* "id": an integer the reply repeats */
	int64_t id;
	struct command_request cmd;
};

/* 0 and *req filled in, or -1 with one line in err (req->has_id and
 * req->id are set whenever the line had a valid id, so the error reply
 * can carry it). */
int control_request_parse(const char *line, size_t len, struct control_request *req, char *err,
			  size_t errlen);
/* The JSON field that carries the command's argument number i (0-based),
 * or NULL past its last one. */
const char *control_arg_name(enum command_id id, unsigned i);

#endif
