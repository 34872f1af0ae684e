#include "vmm/console/control_channel.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/spinlock.h"
#include "drivers/byte_ring.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/debug/gdb_target.h"
#include "vmm/vm/vm.h"

#define RECEIVED_BYTES 4096 /* read from COM2, not yet made into lines */
/* A reply: mem's 4096 bytes in hex and what goes around them. */
#define REPLY_MAX (2 * MEM_DUMP_MAX + 512)
#define EVENT_MAX 512
#define GDB_ACK '+'

static bool channel_open;
static uint8_t received_buf[RECEIVED_BYTES];
static struct byte_ring received = { received_buf, RECEIVED_BYTES, 0, 0, 0 };
static char line[CONTROL_LINE_MAX + 1];
static unsigned line_len;
static bool line_too_long;
static char reply[REPLY_MAX];
static struct json_writer reply_json;
/* Replies and events come from any CPU; a line goes out whole. */
static struct spinlock send_lock;

static void send_line(const char *text)
{
	spin_lock(&send_lock);
	for (; *text; text++)
		com2_putc(*text);
	com2_putc('\n');
	spin_unlock(&send_lock);
}

/* COM2 belongs to gdb while it is attached to a VM. */
static bool usable(void)
{
	return channel_open && !gdb_target_attached();
}

static void event(const struct vm *vm, enum vm_event ev)
{
	static const char *const names[] = {
		[VM_EVENT_STARTED] = "vm-started",
		[VM_EVENT_STOPPED] = "vm-stopped",
		[VM_EVENT_CRASHED] = "vm-crashed",
	};
	char buf[EVENT_MAX];
	struct json_writer w;

	if (!usable())
		return;
	json_init(&w, buf, sizeof(buf));
	json_open(&w, '{');
	json_key_string(&w, "event", names[ev]);
	json_key_string(&w, "vm", vm->name);
	json_key_uint(&w, "id", vm->id);
	if (ev != VM_EVENT_STARTED)
		json_key_string(&w, "reason", vm->reason);
	json_close(&w, '}');
	if (json_ok(&w))
		send_line(buf);
}

bool control_channel_open(void)
{
	return channel_open;
}

void control_channel_init(void)
{
	if (gdb_target_attached())
		return;
	if (!com2_init())
		return;
	channel_open = true;
	vm_set_event_listener(event);
	send_line("{\"event\":\"ready\"}");
	kprintf("pgvisor: control channel: JSON requests on COM2 (docs/CONTROL.md)\n");
}

static void start_reply(struct json_writer *w, char *buf, size_t size,
			const struct control_request *req, bool ok)
{
	json_init(w, buf, size);
	json_open(w, '{');
	if (req && req->has_id)
		json_key_int(w, "id", req->id);
	json_key_bool(w, "ok", ok);
}

static void send_error(const struct control_request *req, const char *error)
{
	char buf[EVENT_MAX];
	struct json_writer w;

	start_reply(&w, buf, sizeof(buf), req, false);
	json_key_string(&w, "error", error);
	json_close(&w, '}');
	send_line(buf);
}

void control_channel_refuse(const struct control_request *req, const char *error)
{
	send_error(req, error);
}

void control_channel_begin_reply(const struct control_request *req, struct command_result *res)
{
	start_reply(&reply_json, reply, sizeof(reply), req, true);
	res->json = &reply_json;
}

void control_channel_finish_reply(const struct control_request *req,
				  const struct command_result *res)
{
	if (res->failed) {
		send_error(req, res->error);
		return;
	}
	json_close(&reply_json, '}');
	if (!json_ok(&reply_json)) {
		send_error(req, "the reply does not fit the channel's buffer");
		return;
	}
	send_line(reply);
}

/* One complete line: a request into *req (true), or its error sent. */
static bool take_line(struct control_request *req)
{
	char err[COMMAND_ERROR_MAX];
	bool too_long = line_too_long;
	unsigned len = line_len;

	line_len = 0;
	line_too_long = false;
	if (too_long) {
		snprintf(err, sizeof(err), "line longer than %u bytes; ignored", CONTROL_LINE_MAX);
		send_error(NULL, err);
		return false;
	}
	if (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return false; /* blank lines are allowed between requests */
	if (!control_request_parse(line, len, req, err, sizeof(err)))
		return true;
	send_error(req, err);
	return false;
}

bool control_channel_poll(struct control_request *req, bool want)
{
	int c;

	if (!usable())
		return false;
	/* The UART's FIFO is 16 bytes: empty it every poll. */
	while ((c = com2_getc()) >= 0)
		if (!byte_ring_put(&received, (uint8_t)c))
			line_too_long = true; /* lost bytes: the line is not whole */
	while (want && (c = byte_ring_get(&received)) >= 0) {
		if (c == '\n') {
			if (take_line(req))
				return true;
		} else if (c == GDB_ACK && !line_len) {
			/* gdb acknowledges the stub's last reply after it detached
			 * (and COM2 came back): no JSON line starts with it. */
		} else if (line_len < CONTROL_LINE_MAX) {
			line[line_len++] = (char)c;
		} else {
			line_too_long = true;
		}
	}
	return false;
}
