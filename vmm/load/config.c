/* VM configuration files (see config.h): a line-oriented reader for the
 * xl.cfg subset pgvisor uses.
 *
 *   file    := line*
 *   line    := ws* { setting ws* ';' ws* } [ setting ws* ] [ '#' comment ] ( '\n' | end )
 *   setting := key ws* '=' ws* value
 *   key     := [A-Za-z_][A-Za-z0-9_]*
 *   value   := string | integer | list
 *   string  := '"' char* '"' | "'" char* "'"   on one line; escapes \\ \" \'
 *   integer := [0-9]+                         decimal
 *   list    := '[' [ string { ',' string } [ ',' ] ] ']'
 *              newlines and comments allowed between the brackets
 *
 * ws is spaces, tabs and carriage returns. Control characters other than
 * those and newlines are refused anywhere, so a binary file fails at once. */
#include "vmm/load/config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/load/config_nested.h"
#include "vmm/load/config_parser.h"
#include "vmm/vmx/trap_policy.h"

enum key {
	KEY_NAME,
	KEY_KERNEL,
	KEY_RAMDISK,
	KEY_MEMORY,
	KEY_VCPUS,
	KEY_CMDLINE,
	KEY_MODULES,
	KEY_ON_POWEROFF,
	KEY_ON_CRASH,
	KEY_CPUS,
	KEY_TRAP,
	KEY_DISK,
	KEY_VIF,
	KEY_VIRTIO_CONSOLE,
	KEY_PV,
	KEY_ON_UNBACKED,
	KEY_TIMER_MODE,
	KEY_AUTOSTART,
	KEY_NESTED,
	KEY_NESTED_PROFILE,
	KEY_COUNT,
};

static const char *const key_names[KEY_COUNT] = {
	[KEY_NAME] = "name",
	[KEY_KERNEL] = "kernel",
	[KEY_RAMDISK] = "ramdisk",
	[KEY_MEMORY] = "memory",
	[KEY_VCPUS] = "vcpus",
	[KEY_CMDLINE] = "cmdline",
	[KEY_MODULES] = "modules",
	[KEY_ON_POWEROFF] = "on_poweroff",
	[KEY_ON_CRASH] = "on_crash",
	[KEY_CPUS] = "cpus",
	[KEY_TRAP] = "trap",
	[KEY_DISK] = "disk",
	[KEY_VIF] = "vif",
	[KEY_VIRTIO_CONSOLE] = "virtio_console",
	[KEY_PV] = "pv",
	[KEY_ON_UNBACKED] = "on_unbacked",
	[KEY_TIMER_MODE] = "timer_mode",
	[KEY_AUTOSTART] = "autostart",
	[KEY_NESTED] = "nested",
	[KEY_NESTED_PROFILE] = "nested_profile",
};

static const char *const action_names[] = {
	[VM_ACTION_DESTROY] = "destroy",
	[VM_ACTION_RESTART] = "restart",
	[VM_ACTION_PRESERVE] = "preserve",
};

#define DEFAULT_MEMORY_MIB 16
#define DEFAULT_VCPUS 1
#define KEY_MAX 64	   /* longest key name echoed in messages */
#define STRING_SCRATCH 512 /* longer than any value's limit but cmdline's */

_Static_assert(SPEC_MAX < STRING_SCRATCH, "a disk or vif string is never cut short");

/* Xen's names (xl.cfg(5)); one_missed_tick_pending is what pgvisor's
 * no_missed_ticks_pending already does (vmm/dev/tick_backlog.h). The
 * default stays no_delay_for_missed_ticks, as xl's (README, timer_mode). */
static const struct {
	const char *name;
	enum timer_mode mode;
} timer_mode_names[] = {
	{ "no_delay_for_missed_ticks", TIMER_MODE_NO_DELAY_FOR_MISSED_TICKS },
	{ "no_missed_ticks_pending", TIMER_MODE_NO_MISSED_TICKS_PENDING },
	{ "one_missed_tick_pending", TIMER_MODE_NO_MISSED_TICKS_PENDING },
	{ "delay_for_missed_ticks", TIMER_MODE_DELAY_FOR_MISSED_TICKS },
};

static const char *const unbacked_names[] = {
	[VM_UNBACKED_IGNORE] = "ignore",
	[VM_UNBACKED_CRASH] = "crash",
};

const char *vm_unbacked_name(enum vm_unbacked u)
{
	if ((unsigned)u < sizeof(unbacked_names) / sizeof(unbacked_names[0]))
		return unbacked_names[u];
	return "?";
}

const char *vm_action_name(enum vm_action a)
{
	if ((unsigned)a < sizeof(action_names) / sizeof(action_names[0]))
		return action_names[a];
	return "?";
}

int config_fail_at(const struct parser *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ps->err || !ps->errlen)
		return -1;
	if (line)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->path, line);
	else
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->path);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_key_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
	return is_key_start(c) || is_digit(c);
}

/* Characters of an unquoted word (a number, or a mistyped value). */
static bool is_word_char(char c)
{
	return is_key_char(c) || c == '.' || c == '-' || c == '+';
}

/* Refuses NUL and control bytes (all but tab, LF, CR) anywhere. */
static int check_text(struct parser *ps)
{
	unsigned line = 1;

	for (const char *q = ps->p; q < ps->end; q++) {
		unsigned char c = (unsigned char)*q;
		if (c == '\n')
			line++;
		else if (c == 0)
			return config_fail_at(ps, line, "NUL byte (is this a text file?)");
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return config_fail_at(ps, line,
					      "control character 0x%02x (is this a text file?)", c);
	}
	return 0;
}

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	while (ps->p < ps->end && *ps->p != '\n')
		ps->p++;
}

/* Inside a list: blanks, newlines and comments. */
static void skip_space_lines(struct parser *ps)
{
	for (;;) {
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == '#')
			skip_comment(ps);
		if (ps->p < ps->end && *ps->p == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		return;
	}
}

static bool at_line_end(const struct parser *ps)
{
	return ps->p == ps->end || *ps->p == '\n' || *ps->p == '#';
}

/* Describes the character at the cursor for messages. */
static void describe_here(const struct parser *ps, char *buf, size_t len)
{
	unsigned char c = ps->p < ps->end ? (unsigned char)*ps->p : 0;

	if (ps->p == ps->end || c == '\n')
		snprintf(buf, len, "end of line");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
}

/* Reads a quoted string at the cursor into buf (cap bytes, NUL-terminated,
 * cut short if need be); *len gets its full length. */
static int read_string(struct parser *ps, char *buf, size_t cap, size_t *len)
{
	char quote = *ps->p++;
	size_t n = 0;

	for (;;) {
		if (ps->p == ps->end || *ps->p == '\n')
			return fail(ps, "unterminated string");
		char c = *ps->p++;
		if (c == quote)
			break;
		if (c == '\\') {
			if (ps->p == ps->end || *ps->p == '\n')
				return fail(ps, "unterminated string");
			c = *ps->p++;
			if (c != '\\' && c != '"' && c != '\'') {
				char what[16];
				ps->p--;
				describe_here(ps, what, sizeof(what));
				return fail(ps, "unknown escape sequence: backslash before %s",
					    what);
			}
		}
		if (n + 1 < cap)
			buf[n] = c;
		n++;
	}
	buf[n + 1 < cap ? n : cap - 1] = '\0';
	*len = n;
	return 0;
}

static bool is_quote(const struct parser *ps)
{
	return ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'');
}

static int expect_string(struct parser *ps, enum key k, char *buf, size_t cap, size_t *len)
{
	if (!is_quote(ps))
		return fail(ps, "%s: expected a quoted string", key_names[k]);
	return read_string(ps, buf, cap, len);
}

/* Reads an unquoted decimal integer in [min, max]; *ok false otherwise
 * (the word is consumed either way). */
static uint32_t read_integer(struct parser *ps, uint32_t min, uint32_t max, bool *ok)
{
	uint64_t v = 0;
	bool digits = true;
	const char *start = ps->p;

	while (ps->p < ps->end && is_word_char(*ps->p)) {
		if (!is_digit(*ps->p))
			digits = false;
		else if (v <= max)
			v = v * 10 + (uint64_t)(*ps->p - '0');
		ps->p++;
	}
	*ok = digits && ps->p != start && v >= min && v <= max;
	return (uint32_t)v;
}

bool config_name_char(char c)
{
	return is_key_char(c) || c == '.' || c == '-';
}

/* Resolves a file name from the config into dst (CFG_PATH_MAX). */
static int set_path(struct parser *ps, const char *key, const char *val, size_t len, char *dst)
{
	if (len == 0)
		return fail(ps, "%s: empty file name", key);
	if (len >= CFG_PATH_MAX)
		return fail(ps, "value too long for '%s' (max %u)", key, CFG_PATH_MAX - 1);
	if (config_resolve_path(ps->path, val, dst, CFG_PATH_MAX) < 0)
		return fail(ps,
			    "value too long for '%s' once resolved relative to the config file "
			    "(max %u)",
			    key, CFG_PATH_MAX - 1);
	return 0;
}

static int set_action(struct parser *ps, enum key k, const char *val, enum vm_action *dst)
{
	for (unsigned a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++) {
		if (strcmp(val, action_names[a]) == 0) {
			*dst = (enum vm_action)a;
			return 0;
		}
	}
	return fail(ps, "%s must be \"destroy\", \"restart\" or \"preserve\"", key_names[k]);
}

static int set_unbacked(struct parser *ps, const char *val, enum vm_unbacked *dst)
{
	for (unsigned u = 0; u < sizeof(unbacked_names) / sizeof(unbacked_names[0]); u++) {
		if (strcmp(val, unbacked_names[u]) == 0) {
			*dst = (enum vm_unbacked)u;
			return 0;
		}
	}
	return fail(ps, "%s must be \"ignore\" or \"crash\"", key_names[KEY_ON_UNBACKED]);
}

static int set_timer_mode(struct parser *ps, const char *val, enum timer_mode *dst)
{
	for (unsigned i = 0; i < sizeof(timer_mode_names) / sizeof(timer_mode_names[0]); i++) {
		if (strcmp(val, timer_mode_names[i].name) == 0) {
			*dst = timer_mode_names[i].mode;
			return 0;
		}
	}
	return fail(ps, "timer_mode must be \"no_delay_for_missed_ticks\", "
			"\"delay_for_missed_ticks\", \"no_missed_ticks_pending\" or "
			"\"one_missed_tick_pending\"");
}

/* [ "a", "b", ... ]: calls add for each string, in order. */
static int parse_string_list(struct parser *ps, const char *key, char *buf, size_t cap,
			     int (*add)(struct parser *ps, const char *s, size_t len))
{
	unsigned open_line = ps->line;
	size_t len;

	ps->p++; /* the '[' */
	ps->nitems = 0;
	for (;;) {
		skip_space_lines(ps);
		if (ps->p == ps->end)
			return config_fail_at(ps, open_line, "%s: unterminated list (missing ']')",
					      key);
		if (*ps->p == ']')
			break;
		if (!is_quote(ps)) {
			char what[16];
			describe_here(ps, what, sizeof(what));
			return fail(ps, "%s: expected a quoted string or ']', found %s", key, what);
		}
		ps->nitems++;
		if (read_string(ps, buf, cap, &len) < 0 || add(ps, buf, len) < 0)
			return -1;
		skip_space_lines(ps);
		if (ps->p == ps->end)
			return config_fail_at(ps, open_line, "%s: unterminated list (missing ']')",
					      key);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != ']') {
			char what[16];
			describe_here(ps, what, sizeof(what));
			return fail(ps, "%s: expected ',' or ']', found %s", key, what);
		}
		break;
	}
	ps->p++;
	return 0;
}

static int add_module(struct parser *ps, const char *path, size_t len)
{
	struct vm_config *out = ps->out;

	if (out->nmodules == VM_MAX_MODULES)
		return fail(ps, "too many modules (max %u)", VM_MAX_MODULES);
	if (set_path(ps, "modules", path, len, out->modules[out->nmodules]) < 0)
		return -1;
	out->nmodules++;
	return 0;
}

static int parse_modules(struct parser *ps, char *buf, size_t cap)
{
	if (ps->p == ps->end || *ps->p != '[')
		return fail(ps,
			    "modules: expected a list of quoted strings, like [ \"a\", \"b\" ]");
	return parse_string_list(ps, "modules", buf, cap, add_module);
}

/* xl's cpus = "2", "0-3", "0,2-3" or "all": a set of host CPU numbers. */
static int parse_cpu_list(const char *s, uint32_t *mask)
{
	*mask = 0;
	if (!strcmp(s, "all")) {
		*mask = CFG_CPUS_ALL;
		return 0;
	}
	for (;;) {
		unsigned lo = 0, hi, digits = 0;
		for (; *s >= '0' && *s <= '9' && lo <= CFG_MAX_CPU; s++, digits++)
			lo = lo * 10 + (unsigned)(*s - '0');
		if (!digits || lo > CFG_MAX_CPU)
			return -1;
		hi = lo;
		if (*s == '-') {
			hi = 0;
			digits = 0;
			for (s++; *s >= '0' && *s <= '9' && hi <= CFG_MAX_CPU; s++, digits++)
				hi = hi * 10 + (unsigned)(*s - '0');
			if (!digits || hi > CFG_MAX_CPU || hi < lo)
				return -1;
		}
		for (unsigned c = lo; c <= hi; c++)
			*mask |= 1u << c;
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

/* trap = "preset" or [ "preset-or-trap", ... ]: the union of them all. */
static int add_trap(struct parser *ps, const char *name, size_t len)
{
	uint32_t bits;

	(void)len;
	if (trap_lookup(name, &bits) < 0)
		return fail(ps, "trap: unknown trap or preset \"%s\"", name);
	ps->out->traps |= bits;
	return 0;
}

/* One quoted name or a list of them, each given to add (trap, pv);
 * expected says what the key takes, for the error. */
static int parse_names(struct parser *ps, const char *key, const char *expected, char *buf,
		       size_t cap, int (*add)(struct parser *ps, const char *s, size_t len))
{
	size_t len;

	if (is_quote(ps)) {
		if (read_string(ps, buf, cap, &len) < 0)
			return -1;
		return add(ps, buf, len);
	}
	if (ps->p == ps->end || *ps->p != '[')
		return fail(ps, "%s: expected %s", key, expected);
	return parse_string_list(ps, key, buf, cap, add);
}

static bool is_list(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p == '[';
}

static int parse_device_list(struct parser *ps, enum key k, char *buf, size_t cap,
			     int (*add)(struct parser *ps, const char *s, size_t len))
{
	if (!is_list(ps))
		return fail(
			ps, "%s: expected a list of quoted strings, like [ \"%s\" ]", key_names[k],
			k == KEY_DISK ? "root.img,raw,vda,rw" : "mac=02:00:00:00:00:01,bridge=br0");
	return parse_string_list(ps, key_names[k], buf, cap, add);
}

static const struct {
	const char *name;
	uint32_t bits;
} pv_names[] = {
	{ "none", 0 },
	{ "kvm-clock", PV_KVM_CLOCK },
	{ "steal-time", PV_STEAL_TIME },
	{ "pv-tlb-flush", PV_TLB_FLUSH },
	{ "pv-ipi", PV_SEND_IPI },
	{ "pv-sched-yield", PV_SCHED_YIELD },
	{ "pv-eoi", PV_EOI },
	{ "pv-unhalt", PV_UNHALT },
};

static int add_pv(struct parser *ps, const char *name, size_t len)
{
	(void)len;
	for (size_t i = 0; i < sizeof(pv_names) / sizeof(pv_names[0]); i++) {
		if (!strcmp(name, pv_names[i].name)) {
			ps->out->pv |= pv_names[i].bits;
			return 0;
		}
	}
	return fail(ps,
		    "pv: unknown paravirtual feature \"%.*s%s\" (known: none, kvm-clock, "
		    "steal-time, pv-tlb-flush, pv-ipi, pv-sched-yield, pv-eoi, pv-unhalt)",
		    ECHO(name));
}

static int parse_value(struct parser *ps, enum key k)
{
	struct vm_config *out = ps->out;
	char buf[STRING_SCRATCH];
	size_t len;
	bool ok;

	switch (k) {
	case KEY_NAME:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		if (len == 0)
			return fail(ps, "name must not be empty");
		if (len >= VM_NAME_MAX)
			return fail(ps, "value too long for 'name' (max %u)", VM_NAME_MAX - 1);
		for (size_t i = 0; i < len; i++)
			if (!config_name_char(buf[i]))
				return fail(ps, "name may contain only letters, digits, '_', '.' "
						"and '-'");
		memcpy(out->name, buf, len + 1);
		return 0;
	case KEY_KERNEL:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		return set_path(ps, "kernel", buf, len, out->kernel);
	case KEY_RAMDISK:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		if (len == 0) { /* ramdisk = "" means none */
			out->ramdisk[0] = '\0';
			return 0;
		}
		return set_path(ps, "ramdisk", buf, len, out->ramdisk);
	case KEY_CMDLINE:
		/* Longer than the scratch buffer: read in place. */
		if (expect_string(ps, k, out->cmdline, sizeof(out->cmdline), &len) < 0)
			return -1;
		if (len >= CFG_CMDLINE_MAX)
			return fail(ps, "value too long for 'cmdline' (max %u)",
				    CFG_CMDLINE_MAX - 1);
		return 0;
	case KEY_MEMORY:
		out->memory_mib = read_integer(ps, VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB, &ok);
		if (!ok)
			return fail(ps, "memory must be an integer between %u and %u (MiB)",
				    VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
		return 0;
	case KEY_VCPUS:
		out->vcpus = read_integer(ps, 1, VM_MAX_VCPUS, &ok);
		if (!ok)
			return fail(ps, "vcpus must be an integer between 1 and %u", VM_MAX_VCPUS);
		return 0;
	case KEY_MODULES:
		return parse_modules(ps, buf, sizeof(buf));
	case KEY_CPUS:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		if (parse_cpu_list(buf, &out->cpus))
			return fail(ps,
				    "cpus must be \"all\" or a list of CPU numbers and ranges "
				    "from 0 to %u, such as \"1\" or \"0-1,3\"",
				    CFG_MAX_CPU);
		return 0;
	case KEY_TRAP:
		out->traps = 0;
		return parse_names(
			ps, "trap",
			"a quoted name or a list of them, like [ \"minimal\", \"rdtsc\" ]", buf,
			sizeof(buf), add_trap);
	case KEY_DISK:
		return parse_device_list(ps, k, buf, sizeof(buf), config_add_disk);
	case KEY_VIF:
		return parse_device_list(ps, k, buf, sizeof(buf), config_add_vif);
	case KEY_VIRTIO_CONSOLE:
		out->virtio_console = read_integer(ps, 0, 1, &ok);
		if (!ok)
			return fail(ps, "virtio_console must be 0 or 1");
		return 0;
	case KEY_AUTOSTART:
		out->autostart = read_integer(ps, 0, 1, &ok);
		if (!ok)
			return fail(ps, "autostart must be 0 or 1");
		return 0;
	case KEY_NESTED:
		out->nested = read_integer(ps, 0, 1, &ok);
		if (!ok)
			return fail(ps, "nested must be 0 or 1");
		return 0;
	case KEY_NESTED_PROFILE:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		if (config_nested_profile(buf, &out->nested_profile))
			return fail(ps, "nested_profile must be \"kvm\" or \"host\"");
		return 0;
	case KEY_PV:
		/* "none", one feature, or a list of them: what the VM is offered. */
		out->pv = 0;
		return parse_names(ps, "pv",
				   "\"none\" or a list of features, like [ \"kvm-clock\" ]", buf,
				   sizeof(buf), add_pv);
	case KEY_ON_POWEROFF:
	case KEY_ON_CRASH:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		return set_action(ps, k, buf,
				  k == KEY_ON_CRASH ? &out->on_crash : &out->on_poweroff);
	case KEY_ON_UNBACKED:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		return set_unbacked(ps, buf, &out->on_unbacked);
	case KEY_TIMER_MODE:
		if (expect_string(ps, k, buf, sizeof(buf), &len) < 0)
			return -1;
		return set_timer_mode(ps, buf, &out->timer_mode);
	default:
		return fail(ps, "internal error: key %d", (int)k);
	}
}

/* One "key = value" setting, the cursor at the key. */
static int parse_setting(struct parser *ps)
{
	const char *key = ps->p;
	size_t klen;
	char what[16];
	int k;

	while (ps->p < ps->end && is_key_char(*ps->p))
		ps->p++;
	klen = (size_t)(ps->p - key);
	for (k = 0; k < KEY_COUNT; k++)
		if (strlen(key_names[k]) == klen && memcmp(key_names[k], key, klen) == 0)
			break;
	if (k == KEY_COUNT) {
		if (klen > KEY_MAX)
			return fail(ps, "unknown key '%.*s...'", KEY_MAX, key);
		return fail(ps, "unknown key '%.*s'", (int)klen, key);
	}
	if (ps->seen & (1u << k))
		return fail(ps, "duplicate key '%s'", key_names[k]);
	ps->seen |= 1u << k;

	skip_blanks(ps);
	if (ps->p == ps->end || *ps->p != '=') {
		describe_here(ps, what, sizeof(what));
		return fail(ps, "expected '=' after '%s', found %s", key_names[k], what);
	}
	ps->p++;
	skip_blanks(ps);
	if (at_line_end(ps))
		return fail(ps, "missing value for '%s'", key_names[k]);
	if (parse_value(ps, (enum key)k) < 0)
		return -1;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == ';') {
		ps->p++; /* xl's other statement end: more may follow on the line */
		return 0;
	}
	if (!at_line_end(ps)) {
		describe_here(ps, what, sizeof(what));
		return fail(ps, "unexpected %s after the value of '%s'", what, key_names[k]);
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *path, struct vm_config *out, char *err,
		 size_t errlen)
{
	struct parser ps = {
		.p = text,
		.end = text + len,
		.line = 1,
		.path = path,
		.err = err,
		.errlen = errlen,
		.out = out,
	};

	memset(out, 0, sizeof(*out));
	out->memory_mib = DEFAULT_MEMORY_MIB;
	out->vcpus = DEFAULT_VCPUS;
	out->autostart = true;
	out->on_poweroff = VM_ACTION_DESTROY;
	out->on_crash = VM_ACTION_DESTROY;
	out->on_unbacked = VM_UNBACKED_IGNORE;
	out->traps = TRAP_PRESET_DEFAULT;
	out->pv = PV_ALL;
	out->timer_mode = TIMER_MODE_NO_DELAY_FOR_MISSED_TICKS;
	if (err && errlen)
		err[0] = '\0';
	if (len == 0)
		ps.p = ps.end = "";

	if (check_text(&ps) < 0)
		return -1;
	if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0)
		ps.p += 3; /* UTF-8 byte order mark */

	while (ps.p < ps.end) {
		skip_blanks(&ps);
		if (ps.p == ps.end)
			break;
		if (*ps.p == '\n') {
			ps.p++;
			ps.line++;
		} else if (*ps.p == '#') {
			skip_comment(&ps);
		} else if (is_key_start(*ps.p)) {
			if (parse_setting(&ps) < 0)
				return -1;
		} else {
			char what[16];
			describe_here(&ps, what, sizeof(what));
			return fail(&ps, "expected a key name, found %s", what);
		}
	}

	if (!(ps.seen & (1u << KEY_NAME)))
		return config_fail_at(&ps, 0, "missing required key 'name'");
	if (!(ps.seen & (1u << KEY_KERNEL)))
		return config_fail_at(&ps, 0, "missing required key 'kernel'");
	/* Held time moves the TSC offset of whichever VMCS is current, which
	 * for a nested guest may be its L2's: not combined yet. */
	if (out->nested && out->timer_mode == TIMER_MODE_DELAY_FOR_MISSED_TICKS)
		return config_fail_at(&ps, 0,
				      "timer_mode \"delay_for_missed_ticks\" cannot be combined "
				      "with nested = 1 yet");
	/* Only now: name may come after vif. */
	for (unsigned i = 0; i < out->nvifs; i++)
		if (!out->vifs[i].mac_given)
			config_vif_mac(out->name, i, out->vifs[i].mac);
	return 0;
}
