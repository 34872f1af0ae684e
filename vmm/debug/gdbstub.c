/* GDB remote serial protocol commands (see gdbstub.h). Every number gdb
 * sends is parsed with bounds; anything malformed gets an error reply and
 * changes nothing. */
#include "vmm/debug/gdbstub.h"

#include <string.h>

#include "arch/x86/lib/hex.h"

#define GDB_HEX_DIGITS_MAX 16
#define GDB_XML_ANNEX "target.xml"
#define GDB_STOP_REPLY_MAX 64

/* A parse cursor over a packet. */
struct cursor {
	const char *p;
	const char *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool take(struct cursor *c, char want)
{
	if (at_end(c) || *c->p != want)
		return false;
	c->p++;
	return true;
}

static bool take_prefix(struct cursor *c, const char *prefix)
{
	size_t n = strlen(prefix);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, prefix, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* 1 to 16 hex digits. */
static bool take_hex(struct cursor *c, uint64_t *v)
{
	int digits = 0;
	int d;

	*v = 0;
	while (!at_end(c) && (d = hex_value(*c->p)) >= 0) {
		if (++digits > GDB_HEX_DIGITS_MAX)
			return false;
		*v = *v << 4 | (uint64_t)d;
		c->p++;
	}
	return digits > 0;
}

/* A thread id: hex, or -1 for all. 0 ("any") and -1 become 0. */
static bool take_thread(struct cursor *c, uint64_t *thread)
{
	if (take(c, '-'))
		return take(c, '1') && (*thread = 0, true);
	return take_hex(c, thread);
}

/* --- replies --- */

static void send_frame(struct gdbstub *stub, const char *data, size_t len)
{
	stub->last_len = gdb_frame(data, len, stub->last_frame, sizeof(stub->last_frame));
	stub->send(stub->line, stub->last_frame, stub->last_len);
}

static void reply(struct gdbstub *stub, const char *text)
{
	send_frame(stub, text, strlen(text));
}

static size_t put_hex_byte(char *out, uint8_t byte)
{
	out[0] = hex_char(byte >> 4);
	out[1] = hex_char(byte);
	return 2;
}

static size_t put_hex(char *out, uint64_t v)
{
	char digits[GDB_HEX_DIGITS_MAX];
	size_t n = 0;

	do {
		digits[n++] = hex_char((unsigned)v);
		v >>= 4;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	return n;
}

static size_t put_text(char *out, const char *text)
{
	size_t n = strlen(text);

	memcpy(out, text, n);
	return n;
}

static void send_stop(struct gdbstub *stub)
{
	const struct gdb_stop *s = &stub->last_stop;
	char r[GDB_STOP_REPLY_MAX];
	size_t n = 0;

	r[n++] = 'T';
	n += put_hex_byte(r + n, (uint8_t)s->signal);
	n += put_text(r + n, "thread:");
	n += put_hex(r + n, s->thread);
	r[n++] = ';';
	switch (s->reason) {
	case GDB_STOP_SWBREAK:
		n += put_text(r + n, "swbreak:;");
		break;
	case GDB_STOP_HWBREAK:
		n += put_text(r + n, "hwbreak:;");
		break;
	case GDB_STOP_WATCH:
	case GDB_STOP_AWATCH:
		n += put_text(r + n, s->reason == GDB_STOP_WATCH ? "watch:" : "awatch:");
		n += put_hex(r + n, s->addr);
		r[n++] = ';';
		break;
	case GDB_STOP_SIGNAL:
		break;
	}
	send_frame(stub, r, n);
}

/* --- commands --- */

static bool thread_valid(struct gdbstub *stub, uint64_t thread)
{
	return thread >= 1 && thread <= stub->ops->thread_count(stub->target);
}

static void cmd_read_regs(struct gdbstub *stub)
{
	struct gdb_regs regs;

	if (!stub->ops->read_regs(stub->target, stub->regs_thread, &regs)) {
		reply(stub, "E01");
		return;
	}
	send_frame(stub, stub->reply, gdb_regs_to_hex(&regs, stub->reply));
}

static void cmd_write_regs(struct gdbstub *stub, struct cursor *c)
{
	struct gdb_regs regs;

	if (!stub->ops->read_regs(stub->target, stub->regs_thread, &regs) ||
	    !gdb_regs_from_hex(&regs, c->p, (size_t)(c->end - c->p)) ||
	    !stub->ops->write_regs(stub->target, stub->regs_thread, &regs)) {
		reply(stub, "E01");
		return;
	}
	reply(stub, "OK");
}

static void cmd_read_reg(struct gdbstub *stub, struct cursor *c)
{
	struct gdb_regs regs;
	uint64_t n;

	if (!take_hex(c, &n) || !at_end(c) || n >= GDB_ALL_REG_COUNT ||
	    !stub->ops->read_regs(stub->target, stub->regs_thread, &regs)) {
		reply(stub, "E01");
		return;
	}
	send_frame(stub, stub->reply, gdb_reg_to_hex(&regs, (unsigned)n, stub->reply));
}

static void cmd_write_reg(struct gdbstub *stub, struct cursor *c)
{
	struct gdb_regs regs;
	uint64_t n;

	if (!take_hex(c, &n) || !take(c, '=') || n >= GDB_REG_COUNT ||
	    !stub->ops->read_regs(stub->target, stub->regs_thread, &regs) ||
	    !gdb_reg_from_hex(&regs, (unsigned)n, c->p, (size_t)(c->end - c->p)) ||
	    !stub->ops->write_regs(stub->target, stub->regs_thread, &regs)) {
		reply(stub, "E01");
		return;
	}
	reply(stub, "OK");
}

static bool take_range(struct cursor *c, uint64_t *addr, uint64_t *len)
{
	return take_hex(c, addr) && take(c, ',') && take_hex(c, len) && *len <= GDB_MEM_MAX;
}

static void cmd_read_mem(struct gdbstub *stub, struct cursor *c)
{
	uint8_t buf[GDB_MEM_MAX];
	uint64_t addr, len;

	if (!take_range(c, &addr, &len) || !at_end(c)) {
		reply(stub, "E01");
		return;
	}
	if (!stub->ops->read_mem(stub->target, stub->regs_thread, addr, buf, len)) {
		reply(stub, "E14"); /* EFAULT */
		return;
	}
	for (size_t i = 0; i < len; i++)
		put_hex_byte(stub->reply + 2 * i, buf[i]);
	send_frame(stub, stub->reply, 2 * len);
}

static void cmd_write_mem(struct gdbstub *stub, struct cursor *c)
{
	uint8_t buf[GDB_MEM_MAX];
	uint64_t addr, len;

	if (!take_range(c, &addr, &len) || !take(c, ':') || (uint64_t)(c->end - c->p) != 2 * len) {
		reply(stub, "E01");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		int high = hex_value(c->p[2 * i]);
		int low = hex_value(c->p[2 * i + 1]);

		if (high < 0 || low < 0) {
			reply(stub, "E01");
			return;
		}
		buf[i] = (uint8_t)(high << 4 | low);
	}
	if (!stub->ops->write_mem(stub->target, stub->regs_thread, addr, buf, len)) {
		reply(stub, "E14");
		return;
	}
	reply(stub, "OK");
}

static void cmd_breakpoint(struct gdbstub *stub, struct cursor *c, bool insert)
{
	uint64_t kind, addr, len;

	if (!take_hex(c, &kind) || !take(c, ',') || !take_hex(c, &addr) || !take(c, ',') ||
	    !take_hex(c, &len) || kind >= GDB_BREAK_KIND_COUNT) {
		reply(stub, "E01");
		return;
	}
	/* Conditions and commands evaluated by the target (";X...") are
	 * not offered in qSupported; gdb sends none. */
	switch (stub->ops->breakpoint(stub->target, (enum gdb_break_kind)kind, insert, addr, len)) {
	case GDB_BREAK_OK:
		reply(stub, "OK");
		break;
	case GDB_BREAK_UNSUPPORTED:
		reply(stub, "");
		break;
	case GDB_BREAK_FAILED:
		reply(stub, "E01");
		break;
	}
}

static void resume(struct gdbstub *stub, unsigned step_thread)
{
	stub->running = true;
	stub->ops->resume(stub->target, step_thread);
}

/* "c [addr]" and "s [addr]": resuming at another address is not offered. */
static void cmd_continue(struct gdbstub *stub, struct cursor *c, bool step)
{
	if (!at_end(c)) {
		reply(stub, "E01");
		return;
	}
	resume(stub, step ? stub->regs_thread : 0);
}

/* "vCont;ACTION[:thread]..." with actions c, C, s, S (signals are not
 * delivered: the guest gets none from a debugger). One stepping thread at
 * most; every other thread continues or stays stopped with it. */
static void cmd_vcont(struct gdbstub *stub, struct cursor *c)
{
	unsigned step_thread = 0;
	bool any = false;

	while (take(c, ';')) {
		uint64_t thread = 0, signal;
		char action;

		if (at_end(c))
			goto bad;
		action = *c->p++;
		if ((action == 'C' || action == 'S') && !take_hex(c, &signal))
			goto bad;
		if (action != 'c' && action != 'C' && action != 's' && action != 'S')
			goto bad;
		if (take(c, ':') &&
		    (!take_thread(c, &thread) || (thread && !thread_valid(stub, thread))))
			goto bad;
		if (action == 's' || action == 'S') {
			if (step_thread)
				goto bad;
			step_thread = thread ? (unsigned)thread : stub->regs_thread;
		}
		any = true;
	}
	if (!any || !at_end(c))
		goto bad;
	resume(stub, step_thread);
	return;
bad:
	reply(stub, "E01");
}

static void cmd_set_thread(struct gdbstub *stub, struct cursor *c)
{
	uint64_t thread;
	char op;

	if (at_end(c)) {
		reply(stub, "E01");
		return;
	}
	op = *c->p++;
	if ((op != 'g' && op != 'c') || !take_thread(c, &thread) || !at_end(c) ||
	    (thread && !thread_valid(stub, thread))) {
		reply(stub, "E01");
		return;
	}
	/* "Hc" only names the thread of the next c/s; vCont says it itself. */
	if (op == 'g' && thread)
		stub->regs_thread = (unsigned)thread;
	reply(stub, "OK");
}

static void cmd_thread_alive(struct gdbstub *stub, struct cursor *c)
{
	uint64_t thread;

	reply(stub, take_hex(c, &thread) && at_end(c) && thread_valid(stub, thread) ? "OK" : "E01");
}

static void cmd_thread_list(struct gdbstub *stub)
{
	unsigned count = stub->ops->thread_count(stub->target);
	size_t n = 0;

	stub->reply[n++] = 'm';
	for (unsigned t = 1; t <= count; t++) {
		if (t > 1)
			stub->reply[n++] = ',';
		n += put_hex(stub->reply + n, t);
	}
	send_frame(stub, stub->reply, n);
}

/* "qXfer:features:read:target.xml:OFFSET,LENGTH". */
static void cmd_xfer_features(struct gdbstub *stub, struct cursor *c)
{
	size_t total = strlen(gdb_target_xml);
	uint64_t offset, len;

	if (!take_prefix(c, GDB_XML_ANNEX ":")) {
		reply(stub, "E00");
		return;
	}
	if (!take_hex(c, &offset) || !take(c, ',') || !take_hex(c, &len) || !at_end(c) ||
	    offset > total) {
		reply(stub, "E01");
		return;
	}
	if (len > GDB_PACKET_MAX - 1)
		len = GDB_PACKET_MAX - 1;
	if (len > total - offset)
		len = total - offset;
	stub->reply[0] = offset + len < total ? 'm' : 'l';
	memcpy(stub->reply + 1, gdb_target_xml + offset, len);
	send_frame(stub, stub->reply, 1 + len);
}

static void cmd_query(struct gdbstub *stub, struct cursor *c)
{
	if (take_prefix(c, "Supported")) {
		/* PacketSize in hex. */
		size_t n = put_text(stub->reply, "PacketSize=");

		n += put_hex(stub->reply + n, GDB_PACKET_MAX);
		n += put_text(stub->reply + n,
			      ";qXfer:features:read+;vContSupported+;swbreak+;hwbreak+");
		send_frame(stub, stub->reply, n);
	} else if (take_prefix(c, "Xfer:features:read:")) {
		cmd_xfer_features(stub, c);
	} else if (take_prefix(c, "fThreadInfo")) {
		cmd_thread_list(stub);
	} else if (take_prefix(c, "sThreadInfo")) {
		reply(stub, "l");
	} else if (take_prefix(c, "Attached")) {
		reply(stub, "1"); /* detaching leaves the VM running */
	} else if (take(c, 'C') && at_end(c)) {
		char r[2 + GDB_HEX_DIGITS_MAX] = "QC";

		send_frame(stub, r, 2 + put_hex(r + 2, stub->last_stop.thread));
	} else {
		reply(stub, "");
	}
}

static void cmd_v(struct gdbstub *stub, struct cursor *c)
{
	if (take_prefix(c, "Cont?"))
		reply(stub, "vCont;c;C;s;S");
	else if (take_prefix(c, "Cont"))
		cmd_vcont(stub, c);
	else
		reply(stub, ""); /* vMustReplyEmpty and everything else */
}

static void cmd_detach(struct gdbstub *stub)
{
	reply(stub, "OK");
	stub->ops->detach(stub->target);
	stub->running = true;
}

/* While the target runs only Ctrl-C and acknowledgements mean anything;
 * a packet then is answered with an error. */
static void handle_packet(struct gdbstub *stub)
{
	struct cursor c = { stub->rx.data, stub->rx.data + stub->rx.len };
	char command;

	if (at_end(&c)) {
		reply(stub, "");
		return;
	}
	command = *c.p++;
	if (stub->running) {
		reply(stub, "E01");
		return;
	}
	switch (command) {
	case '?':
		send_stop(stub);
		break;
	case 'g':
		cmd_read_regs(stub);
		break;
	case 'G':
		cmd_write_regs(stub, &c);
		break;
	case 'p':
		cmd_read_reg(stub, &c);
		break;
	case 'P':
		cmd_write_reg(stub, &c);
		break;
	case 'm':
		cmd_read_mem(stub, &c);
		break;
	case 'M':
		cmd_write_mem(stub, &c);
		break;
	case 'c':
		cmd_continue(stub, &c, false);
		break;
	case 's':
		cmd_continue(stub, &c, true);
		break;
	case 'Z':
	case 'z':
		cmd_breakpoint(stub, &c, command == 'Z');
		break;
	case 'H':
		cmd_set_thread(stub, &c);
		break;
	case 'T':
		cmd_thread_alive(stub, &c);
		break;
	case 'q':
		cmd_query(stub, &c);
		break;
	case 'v':
		cmd_v(stub, &c);
		break;
	case 'D':
		cmd_detach(stub);
		break;
	case 'k':
		/* No reply (the protocol's rule). */
		stub->ops->kill(stub->target);
		stub->running = true;
		break;
	default:
		reply(stub, "");
		break;
	}
}

void gdbstub_init(struct gdbstub *stub, const struct gdb_target_ops *ops, void *target,
		  void (*send)(void *line, const char *bytes, size_t len), void *line)
{
	stub->ops = ops;
	stub->target = target;
	stub->send = send;
	stub->line = line;
	gdb_rx_reset(&stub->rx);
	stub->running = false;
	stub->regs_thread = 1;
	stub->last_stop = (struct gdb_stop){ .thread = 1, .signal = GDB_SIGTRAP };
	stub->last_len = 0;
}

void gdbstub_receive(struct gdbstub *stub, uint8_t byte)
{
	static const char ack = GDB_ACK, nak = GDB_NAK;

	switch (gdb_rx_byte(&stub->rx, byte)) {
	case GDB_RX_PACKET:
		stub->send(stub->line, &ack, 1);
		handle_packet(stub);
		break;
	case GDB_RX_BAD:
		stub->send(stub->line, &nak, 1);
		break;
	case GDB_RX_NAK:
		if (stub->last_len)
			stub->send(stub->line, stub->last_frame, stub->last_len);
		break;
	case GDB_RX_INTERRUPT:
		if (stub->running)
			stub->ops->interrupt(stub->target);
		break;
	case GDB_RX_ACK:
	case GDB_RX_PENDING:
		break;
	}
}

void gdbstub_stopped(struct gdbstub *stub, const struct gdb_stop *stop)
{
	stub->running = false;
	stub->last_stop = *stop;
	stub->regs_thread = stop->thread;
	send_stop(stub);
}
