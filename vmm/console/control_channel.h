/* The control channel: the console's commands as JSON lines on COM2
 * (docs/CONTROL.md), while gdb does not have COM2. Bytes are kept in a
 * ring as they come; complete lines become requests, a bad one (not JSON,
 * longer than CONTROL_LINE_MAX, an unknown command or field) gets its
 * error reply at once and the channel reads on. VM events (started,
 * stopped, crashed) go out as they happen. */
#ifndef PGVISOR_CONTROL_CHANNEL_H
#define PGVISOR_CONTROL_CHANNEL_H

#include <stdbool.h>

#include "vmm/console/commands.h"
#include "vmm/console/control_request.h"

/* Opens the channel when COM2 exists and gdb does not hold it. */
void control_channel_init(void);
/* Whether the channel is open: COM2 is read only by polling. */
bool control_channel_open(void);
/* Reads what COM2 has received. When want is true, returns true with the
 * next good request in *req (its VM not yet looked up); bad lines before
 * it are answered here. Call with the console's input lock held. */
bool control_channel_poll(struct control_request *req, bool want);
/* The reply to req: begin before running it (res->json then takes its
 * fields), finish after. One request at a time. */
void control_channel_begin_reply(const struct control_request *req, struct command_result *res);
void control_channel_finish_reply(const struct control_request *req,
				  const struct command_result *res);
/* An error reply to req without running it (no VM of its name). */
void control_channel_refuse(const struct control_request *req, const char *error);

#endif
