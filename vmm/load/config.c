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

#include "arch/x86/lib/hex.h"
#include "vmm/load/config_nested.h"
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
#define SPEC_MAX 255	   /* longest disk or vif string */
#define ECHO_MAX 32	   /* longest piece of a value echoed in messages */
#define DISK_FIELDS_MIN 3  /* target,format,vdev */
#define DISK_FIELDS_MAX 4  /* ...,access */
#define VIF_FIELDS_MAX 8   /* more than the keys there are, to name the extra */
#define MAC_LEN 6
#define MAC_TEXT_LEN 17 /* "xx:xx:xx:xx:xx:xx" */
#define MAC_MULTICAST 0x01
#define MAC_LOCAL 0x02
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

_Static_assert(SPEC_MAX < STRING_SCRATCH, "a disk or vif string is never cut short");
_Static_assert(VM_MAX_VIFS < 256, "config_vif_mac hashes the index as one byte");

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

struct parser {
	const char *p;
	const char *end;
	unsigned line;
	const char *path;
	char *err;
	size_t errlen;
	struct vm_config *out;
	unsigned seen;	 /* bit per enum key */
	unsigned nitems; /* strings so far in the list being read */
};

static int fail_at(const struct parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "PATH:LINE: message" (or "PATH: message" for line 0). */
static int fail_at(const struct parser *ps, unsigned line, const char *fmt, ...)
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

#define fail(ps, ...) fail_at((ps), (ps)->line, __VA_ARGS__)

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
			return fail_at(ps, line, "NUL byte (is this a text file?)");
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return fail_at(ps, line, "control character 0x%02x (is this a text file?)",
				       c);
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

static bool valid_name_char(char c)
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
			return fail_at(ps, open_line, "%s: unterminated list (missing ']')", key);
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
			return fail_at(ps, open_line, "%s: unterminated list (missing ']')", key);
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

/* Blanks around a field are not part of it. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Cuts s at every ',' into trimmed fields (at most max kept); returns how
 * many fields there are in all. */
static unsigned split_fields(char *s, char **fields, unsigned max)
{
	unsigned n = 0;

	for (;;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		if (n < max)
			fields[n] = trim(s);
		n++;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

/* For "'%.*s%s'": a value echoed in a message, cut at ECHO_MAX. */
#define ECHO(s)                                                                                    \
	(strlen(s) > ECHO_MAX ? ECHO_MAX : (int)strlen(s)), (s), (strlen(s) > ECHO_MAX ? "..." : "")

static bool is_list(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p == '[';
}

static int set_access(const char *s, bool *writable)
{
	if (!strcmp(s, "rw") || !strcmp(s, "w"))
		*writable = true;
	else if (!strcmp(s, "ro") || !strcmp(s, "r"))
		*writable = false;
	else
		return -1;
	return 0;
}

/* "target,format,vdev[,access]" as xl's positional disk syntax. */
static int add_disk(struct parser *ps, const char *spec, size_t len)
{
	static const char *const field_names[DISK_FIELDS_MAX] = { "target", "format", "vdev",
								  "access" };
	struct vm_config *out = ps->out;
	unsigned idx = ps->nitems; /* 1-based, as in messages */
	char copy[SPEC_MAX + 1], *f[DISK_FIELDS_MAX];
	struct vm_disk_config *d;
	unsigned n;

	if (out->ndisks == VM_MAX_DISKS)
		return fail(ps, "too many disks (max %u)", VM_MAX_DISKS);
	if (len > SPEC_MAX)
		return fail(ps, "disk %u: too long (max %u characters)", idx, SPEC_MAX);
	if (!len)
		return fail(ps, "disk %u: empty (expected \"target,format,vdev[,access]\")", idx);
	memcpy(copy, spec, len + 1);
	n = split_fields(copy, f, DISK_FIELDS_MAX);
	if (n < DISK_FIELDS_MIN || n > DISK_FIELDS_MAX)
		return fail(ps,
			    "disk %u: expected \"target,format,vdev[,access]\", found %u field%s",
			    idx, n, n == 1 ? "" : "s");
	for (unsigned i = 0; i < n; i++)
		if (!f[i][0])
			return fail(ps, "disk %u: empty %s", idx, field_names[i]);

	d = &out->disks[out->ndisks];
	d->partition = !strncmp(f[0], CFG_PART_PREFIX, strlen(CFG_PART_PREFIX));
	if (d->partition) {
		const char *name = f[0] + strlen(CFG_PART_PREFIX);
		if (!name[0] || strlen(name) > CFG_PART_NAME_MAX)
			return fail(ps,
				    "disk %u: partition name '%.*s%s' must be 1 to %u characters",
				    idx, ECHO(name), CFG_PART_NAME_MAX);
		memcpy(d->target, name, strlen(name) + 1);
	} else if (strlen(f[0]) >= CFG_PATH_MAX)
		return fail(ps, "disk %u: target too long (max %u)", idx, CFG_PATH_MAX - 1);
	else if (config_resolve_path(ps->path, f[0], d->target, CFG_PATH_MAX) < 0)
		return fail(ps,
			    "disk %u: target too long once resolved relative to the config file "
			    "(max %u)",
			    idx, CFG_PATH_MAX - 1);
	if (strcmp(f[1], "raw"))
		return fail(ps, "disk %u: format '%.*s%s' is not supported (raw only)", idx,
			    ECHO(f[1]));
	/* virtio-blk names: one letter, so at most 26 per VM. */
	if (strlen(f[2]) != 3 || f[2][0] != 'v' || f[2][1] != 'd' || f[2][2] < 'a' || f[2][2] > 'z')
		return fail(ps, "disk %u: vdev '%.*s%s' must be vda to vdz", idx, ECHO(f[2]));
	for (unsigned i = 0; i < out->ndisks; i++)
		if (!strcmp(out->disks[i].vdev, f[2]))
			return fail(ps, "disk %u: vdev '%s' is already used by disk %u", idx, f[2],
				    i + 1);
	memcpy(d->vdev, f[2], strlen(f[2]) + 1);
	d->writable = true; /* xl's default access */
	if (n == DISK_FIELDS_MAX && set_access(f[3], &d->writable) < 0)
		return fail(ps, "disk %u: access '%.*s%s' must be rw, w, ro or r", idx, ECHO(f[3]));
	out->ndisks++;
	return 0;
}

/* "xx:xx:xx:xx:xx:xx", two hex digits per octet as libxl reads it. */
static int parse_mac(const char *s, uint8_t mac[MAC_LEN])
{
	if (strlen(s) != MAC_TEXT_LEN)
		return -1;
	for (unsigned i = 0; i < MAC_LEN; i++, s += 3) {
		int hi = hex_value(s[0]), lo = hex_value(s[1]);
		if (hi < 0 || lo < 0 || (i + 1 < MAC_LEN && s[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool mac_is_zero(const uint8_t mac[MAC_LEN])
{
	for (unsigned i = 0; i < MAC_LEN; i++)
		if (mac[i])
			return false;
	return true;
}

static int set_vif_mac(struct parser *ps, unsigned idx, const char *val, struct vm_vif_config *v)
{
	const struct vm_config *out = ps->out;

	if (parse_mac(val, v->mac) < 0)
		return fail(ps,
			    "vif %u: mac '%.*s%s' must be six two-digit hex numbers separated by "
			    "':'",
			    idx, ECHO(val));
	/* A guest sending from a group address would have its frames
	 * flooded and never be learned by the switch. */
	if (v->mac[0] & MAC_MULTICAST)
		return fail(ps, "vif %u: mac '%s' is a multicast address", idx, val);
	if (mac_is_zero(v->mac))
		return fail(ps, "vif %u: mac '%s' is all zero", idx, val);
	for (unsigned i = 0; i < out->nvifs; i++)
		if (out->vifs[i].mac_given && !memcmp(out->vifs[i].mac, v->mac, MAC_LEN))
			return fail(ps, "vif %u: mac '%s' is already used by vif %u", idx, val,
				    i + 1);
	v->mac_given = true;
	return 0;
}

static int set_vif_bridge(struct parser *ps, unsigned idx, const char *val, struct vm_vif_config *v)
{
	size_t len = strlen(val);

	if (len >= CFG_BRIDGE_MAX)
		return fail(ps, "vif %u: bridge name too long (max %u)", idx, CFG_BRIDGE_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (!valid_name_char(val[i]))
			return fail(ps,
				    "vif %u: bridge name may contain only letters, digits, '_', "
				    "'.' and '-'",
				    idx);
	memcpy(v->bridge, val, len + 1);
	return 0;
}

/* xl's "key=value,key=value"; "" is a vif with every default. */
static int add_vif(struct parser *ps, const char *spec, size_t len)
{
	struct vm_config *out = ps->out;
	unsigned idx = ps->nitems, n;
	char copy[SPEC_MAX + 1], *f[VIF_FIELDS_MAX];
	bool seen_mac = false, seen_bridge = false;
	struct vm_vif_config *v;

	if (out->nvifs == VM_MAX_VIFS)
		return fail(ps, "too many vifs (max %u)", VM_MAX_VIFS);
	if (len > SPEC_MAX)
		return fail(ps, "vif %u: too long (max %u characters)", idx, SPEC_MAX);
	v = &out->vifs[out->nvifs];
	memset(v, 0, sizeof(*v));
	memcpy(v->bridge, CFG_BRIDGE_DEFAULT, sizeof(CFG_BRIDGE_DEFAULT));
	memcpy(copy, spec, len + 1);
	n = split_fields(copy, f, VIF_FIELDS_MAX);
	if (n > VIF_FIELDS_MAX)
		return fail(ps, "vif %u: too many settings (max %u)", idx, VIF_FIELDS_MAX);
	if (n == 1 && !f[0][0])
		n = 0; /* "": every default */
	for (unsigned i = 0; i < n; i++) {
		char *eq = strchr(f[i], '=');
		const char *key, *val;
		bool is_mac, *seen;

		if (!f[i][0])
			return fail(ps, "vif %u: empty setting", idx);
		if (!eq || eq == f[i])
			return fail(ps, "vif %u: expected key=value, found '%.*s%s'", idx,
				    ECHO(f[i]));
		*eq = '\0';
		key = trim(f[i]);
		val = trim(eq + 1);
		is_mac = !strcmp(key, "mac");
		if (!is_mac && strcmp(key, "bridge"))
			return fail(ps, "vif %u: unknown key '%.*s%s'", idx, ECHO(key));
		seen = is_mac ? &seen_mac : &seen_bridge;
		if (*seen)
			return fail(ps, "vif %u: duplicate key '%s'", idx, key);
		*seen = true;
		if (!val[0])
			return fail(ps, "vif %u: empty value for '%s'", idx, key);
		if ((is_mac ? set_vif_mac : set_vif_bridge)(ps, idx, val, v) < 0)
			return -1;
	}
	out->nvifs++;
	return 0;
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

void config_vif_mac(const char *vm_name, unsigned index, uint8_t mac[6])
{
	uint64_t h = FNV64_OFFSET;

	for (const char *c = vm_name; *c; c++)
		h = (h ^ (uint8_t)*c) * FNV64_PRIME;
	/* The last step is a bijection on the low 40 bits (an odd multiplier),
	 * so a VM's vifs always get different MACs. */
	h = (h ^ (uint8_t)index) * FNV64_PRIME;
	mac[0] = MAC_LOCAL;
	for (unsigned i = 1; i < MAC_LEN; i++, h >>= 8)
		mac[i] = (uint8_t)h;
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
			if (!valid_name_char(buf[i]))
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
		return parse_device_list(ps, k, buf, sizeof(buf), add_disk);
	case KEY_VIF:
		return parse_device_list(ps, k, buf, sizeof(buf), add_vif);
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
		return fail_at(&ps, 0, "missing required key 'name'");
	if (!(ps.seen & (1u << KEY_KERNEL)))
		return fail_at(&ps, 0, "missing required key 'kernel'");
	/* Held time moves the TSC offset of whichever VMCS is current, which
	 * for a nested guest may be its L2's: not combined yet. */
	if (out->nested && out->timer_mode == TIMER_MODE_DELAY_FOR_MISSED_TICKS)
		return fail_at(&ps, 0,
			       "timer_mode \"delay_for_missed_ticks\" cannot be combined "
			       "with nested = 1 yet");
	/* Only now: name may come after vif. */
	for (unsigned i = 0; i < out->nvifs; i++)
		if (!out->vifs[i].mac_given)
			config_vif_mac(out->name, i, out->vifs[i].mac);
	return 0;
}

/* Normalising path components into out, as posixpath.normpath does: the
 * stack is "dotdots" leading ".." components (only in relative paths)
 * followed by names, which are kept in out[0, len) separated by '/'.
 * Names that would not fit are only counted (virt), above the stored
 * ones, so that later ".." can still pop them. */
struct norm {
	char *out;
	size_t cap;
	size_t len;
	size_t nnames;
	size_t virt;
	size_t dotdots;
	bool absolute;
};

static void norm_component(struct norm *n, const char *c, size_t clen)
{
	if (clen == 0 || (clen == 1 && c[0] == '.'))
		return;
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		if (n->virt) {
			n->virt--;
		} else if (n->nnames) {
			while (n->len > 0 && n->out[n->len - 1] != '/')
				n->len--;
			if (n->len > 0)
				n->len--; /* the separator */
			n->nnames--;
		} else if (!n->absolute) {
			n->dotdots++;
		} /* else ".." at the root stays at the root */
		return;
	}
	size_t need = n->len + (n->nnames ? 1 : 0) + clen;
	if (n->virt || need + 1 > n->cap) {
		n->virt++;
		return;
	}
	if (n->nnames)
		n->out[n->len++] = '/';
	memcpy(n->out + n->len, c, clen);
	n->len += clen;
	n->nnames++;
}

static void norm_components(struct norm *n, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		norm_component(n, s + i, j - i);
		i = j + 1;
	}
}

int config_resolve_path(const char *base, const char *rel, char *out, size_t outlen)
{
	const char *first, *second = "";
	size_t flen, slen = 0, dlen = 0, slashes = 0;

	if (!outlen)
		return -1;
	/* os.path.dirname(base): up to the last '/', trailing slashes
	 * stripped unless that leaves nothing. */
	const char *last = strrchr(base, '/');
	if (last) {
		size_t lead = 0;
		dlen = (size_t)(last - base) + 1;
		while (lead < dlen && base[lead] == '/')
			lead++;
		if (lead != dlen)
			while (dlen > 0 && base[dlen - 1] == '/')
				dlen--;
	}
	/* os.path.join(dir, rel): an absolute rel replaces dir. */
	if (rel[0] == '/') {
		first = rel;
		flen = strlen(rel);
	} else {
		first = base;
		flen = dlen;
		second = rel;
		slen = strlen(rel);
	}
	/* POSIX keeps exactly two leading slashes; more count as one. */
	while (slashes < flen && first[slashes] == '/')
		slashes++;
	if (slashes > 2)
		slashes = 1;

	struct norm n = { .out = out, .cap = outlen, .absolute = slashes > 0 };
	norm_components(&n, first, flen);
	norm_components(&n, second, slen);
	if (n.virt)
		return -1;

	size_t pre = slashes + (n.dotdots ? 3 * n.dotdots - 1 : 0) + (n.dotdots && n.nnames);
	size_t total = pre + n.len;
	if (total == 0) {
		if (outlen < 2)
			return -1;
		memcpy(out, ".", 2);
		return 0;
	}
	if (total + 1 > outlen)
		return -1;
	memmove(out + pre, out, n.len);
	out[total] = '\0';
	size_t o = 0;
	for (size_t i = 0; i < slashes; i++)
		out[o++] = '/';
	for (size_t i = 0; i < n.dotdots; i++) {
		if (i)
			out[o++] = '/';
		out[o++] = '.';
		out[o++] = '.';
	}
	if (n.dotdots && n.nnames)
		out[o++] = '/';
	return 0;
}
