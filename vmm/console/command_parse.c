#include "vmm/console/command_parse.h"

#include <string.h>

#include "arch/x86/lib/hex.h"
#include "vmm/load/errmsg.h"

/* Argument letters: v a VM name, w a word (file, command), t trace's
 * on|off|show, g a guest-physical address, n a count, i an image
 * (mem:NAME); an upper-case letter is optional (and only last ones are). */
static const struct command_info commands[CMD_COUNT] = {
	[CMD_HELP] = { "help", "W", "help [CMD]", "the commands, or one in detail" },
	[CMD_LIST] = { "list", "", "list",
		       "every VM: id, name, state, vCPUs, memory, CPU time, exits" },
	[CMD_CREATE] = { "create", "w", "create FILE",
			 "start the VM of a config among the boot files (one with "
			 "autostart = 0)" },
	[CMD_CONSOLE] = { "console", "v", "console VM", "give VM the keyboard" },
	[CMD_PAUSE] = { "pause", "v", "pause VM", "stop running VM until unpause" },
	[CMD_UNPAUSE] = { "unpause", "v", "unpause VM", "let a paused VM run again" },
	[CMD_DESTROY] = { "destroy", "v", "destroy VM", "stop VM now and free its memory" },
	[CMD_REBOOT] = { "reboot", "v", "reboot VM", "start VM again from its kernel" },
	[CMD_SHUTDOWN] = { "shutdown", "vN", "shutdown VM [SECONDS]",
			   "press VM's ACPI power button; destroy it if it has not powered "
			   "off after SECONDS (30)" },
	[CMD_INFO] = { "info", "v", "info VM",
		       "per vCPU: registers, control registers, EFER, segment bases, "
		       "activity state, pending events" },
	[CMD_EXITS] = { "exits", "v", "exits VM", "VM's exit profile" },
	[CMD_TRACE] = { "trace", "vtN", "trace VM on|off|show [N]",
			"record VM's exits (reason, RIP, qualification, TSC); show the "
			"last N (16, at most 64)" },
	[CMD_MEM] = { "mem", "vgn", "mem VM GPA LEN",
		      "hex dump of LEN bytes (at most 4096) of VM's RAM at guest-physical "
		      "GPA" },
	[CMD_GDBSERVER] = { "gdbserver", "v", "gdbserver VM",
			    "stop VM at its next entry for gdb on COM2 (the control channel "
			    "returns when gdb detaches)" },
	[CMD_SAVE] = { "save", "vi", "save VM mem:NAME",
		       "save VM's whole state into image NAME in hypervisor memory; VM "
		       "runs on" },
	[CMD_RESTORE] = { "restore", "iV", "restore mem:NAME [NEWVM]",
			  "a new VM from image NAME, named NEWVM (default: as saved, or "
			  "NAME-2, ... when taken)" },
	[CMD_IMAGES] = { "images", "", "images", "the saved images: name, VM, size" },
	[CMD_DROP] = { "drop", "i", "drop mem:NAME", "free image NAME" },
	[CMD_CORRUPT] = { "corrupt", "io", "corrupt mem:NAME [TYPE+]OFFSET",
			  "flip the byte at OFFSET of image NAME, or of its first TYPE record's "
			  "body (tests; only with image-test on pgvisor's command line)" },
	[CMD_MIGRATE] = { "migrate", "vW", "migrate VM [HOST]",
			  "move VM live to a new slot on this machine (its name kept), or to the "
			  "pgvisor at IPv4 address HOST (ip= and migrate-key= on both command "
			  "lines; VM is destroyed here once HOST restored it)" },
	/* Typed as two words: command_parse joins them. */
	[CMD_MIGRATE_CANCEL] = { "migrate cancel", "v", "migrate cancel VM",
				 "stop VM's migration, here or to another machine; VM runs on "
				 "here" },
};

#define MAX_WORDS 5

const struct command_info *command_info(enum command_id id)
{
	return id < CMD_COUNT ? &commands[id] : NULL;
}

const struct command_info *command_find(const char *name, enum command_id *id)
{
	for (unsigned i = 0; i < CMD_COUNT; i++)
		if (!strcmp(commands[i].name, name)) {
			if (id)
				*id = (enum command_id)i;
			return &commands[i];
		}
	return NULL;
}

bool command_names_vm(enum command_id id)
{
	return id < CMD_COUNT && commands[id].args[0] == 'v';
}

/* Splits line into at most max blank-separated words (copied into buf).
 * Returns how many, or -1 when there are more. */
static int split(const char *line, char *buf, size_t size, const char **words, int max)
{
	int n = 0;
	size_t used = 0;

	while (*line) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			break;
		if (n == max || used + 1 >= size)
			return -1;
		words[n++] = buf + used;
		while (*line && *line != ' ' && *line != '\t' && used + 1 < size)
			buf[used++] = *line++;
		buf[used++] = '\0';
	}
	return n;
}

static int digit_value(char c, unsigned base)
{
	int d = hex_value(c);

	return d >= 0 && (unsigned)d < base ? d : -1;
}

/* A decimal or 0x-prefixed hexadecimal number that fits 64 bits. */
static bool parse_number(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = digit_value(*s, base);
		if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* One argument of kind letter (lower case) into req. */
static int parse_arg(const struct command_info *c, char kind, const char *word,
		     struct command_request *req, char *err, size_t errlen)
{
	uint64_t n;

	switch (kind) {
	case 'v':
		if (strlen(word) >= sizeof(req->vm))
			return errf(err, errlen, "no vm named '%.32s...' (%s)", word, c->usage);
		memcpy(req->vm, word, strlen(word) + 1);
		return 0;
	case 'w':
		if (strlen(word) >= sizeof(req->word))
			return errf(err, errlen, "'%.32s...' is too long (%s)", word, c->usage);
		memcpy(req->word, word, strlen(word) + 1);
		return 0;
	case 't':
		if (!strcmp(word, "on"))
			req->trace = TRACE_ON;
		else if (!strcmp(word, "off"))
			req->trace = TRACE_OFF;
		else if (!strcmp(word, "show"))
			req->trace = TRACE_SHOW;
		else
			return errf(err, errlen, "'%.32s': expected on, off or show (%s)", word,
				    c->usage);
		return 0;
	case 'i':
		if (strncmp(word, IMAGE_PREFIX, strlen(IMAGE_PREFIX)) ||
		    !word[strlen(IMAGE_PREFIX)])
			return errf(err, errlen, "'%.32s': images are mem:NAME (%s)", word,
				    c->usage);
		word += strlen(IMAGE_PREFIX);
		if (strlen(word) >= VM_NAME_MAX)
			return errf(err, errlen, "image name '%.32s...' is too long (%s)", word,
				    c->usage);
		memcpy(req->word, word, strlen(word) + 1);
		return 0;
	case 'g':
		if (!parse_number(word, &req->gpa))
			return errf(err, errlen, "'%.32s' is not a number (%s)", word, c->usage);
		return 0;
	case 'o': {
		/* corrupt's [TYPE+]OFFSET */
		char type[sizeof(req->word)];
		const char *plus = strchr(word, '+');
		uint64_t t = 0;
		if (plus) {
			size_t tl = (size_t)(plus - word);
			if (tl >= sizeof(type))
				return errf(err, errlen, "'%.32s' is not TYPE+OFFSET (%s)", word,
					    c->usage);
			memcpy(type, word, tl);
			type[tl] = '\0';
			if (!parse_number(type, &t) || !t || t > UINT32_MAX)
				return errf(err, errlen, "'%.32s' is not TYPE+OFFSET (%s)", word,
					    c->usage);
			word = plus + 1;
		}
		if (!parse_number(word, &req->offset))
			return errf(err, errlen, "'%.32s' is not a number (%s)", word, c->usage);
		req->record_type = (uint32_t)t;
		return 0;
	}
	default: /* 'n' */
		if (!parse_number(word, &n))
			return errf(err, errlen, "'%.32s' is not a number (%s)", word, c->usage);
		req->len = n;
		req->offset = n;
		req->count = n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
		return 0;
	}
}

/* Ranges that depend on the command. */
static int check_ranges(const struct command_info *c, struct command_request *req, int nargs,
			char *err, size_t errlen)
{
	switch (req->id) {
	case CMD_MEM:
		if (!req->len || req->len > MEM_DUMP_MAX)
			return errf(err, errlen, "LEN must be 1 to %u (%s)", MEM_DUMP_MAX,
				    c->usage);
		if (req->gpa + req->len < req->gpa)
			return errf(err, errlen, "GPA + LEN wraps around (%s)", c->usage);
		return 0;
	case CMD_TRACE:
		if (req->trace != TRACE_SHOW && nargs == 3)
			return errf(err, errlen, "only show takes a count (%s)", c->usage);
		if (nargs < 3)
			req->count = TRACE_SHOW_DEFAULT;
		if (!req->count || req->count > TRACE_SHOW_MAX)
			return errf(err, errlen, "N must be 1 to %u (%s)", TRACE_SHOW_MAX,
				    c->usage);
		return 0;
	case CMD_SHUTDOWN:
		if (nargs < 2)
			req->count = SHUTDOWN_TIMEOUT_DEFAULT;
		if (!req->count || req->count > SHUTDOWN_TIMEOUT_MAX)
			return errf(err, errlen, "SECONDS must be 1 to %u (%s)",
				    SHUTDOWN_TIMEOUT_MAX, c->usage);
		return 0;
	default:
		return 0;
	}
}

int command_parse(const char *line, struct command_request *req, char *err, size_t errlen)
{
	char buf[COMMAND_LINE_MAX + MAX_WORDS + 1];
	const char *words[MAX_WORDS + 1];
	enum command_id id;

	memset(req, 0, sizeof(*req));
	if (err && errlen)
		err[0] = '\0';
	const char **w = words;
	int n = split(line, buf, sizeof(buf), words, MAX_WORDS + 1);
	if (n == 0)
		return errf(err, errlen, "empty command (try help)");
	if (n >= 2 && !strcmp(words[0], "migrate") && !strcmp(words[1], "cancel")) {
		w++;
		n--;
		w[0] = command_info(CMD_MIGRATE_CANCEL)->name;
	}
	const struct command_info *c = command_find(w[0], &id);
	if (!c)
		return errf(err, errlen, "unknown command '%.32s' (try help)", w[0]);
	req->id = id;
	size_t most = strlen(c->args), least = 0;
	while (least < most && c->args[least] >= 'a')
		least++;
	int nargs = n < 0 ? MAX_WORDS + 1 : n - 1;
	if ((size_t)nargs < least)
		return errf(err, errlen, "%s: missing argument (%s)", c->name, c->usage);
	if ((size_t)nargs > most)
		return errf(err, errlen, "%s: too many arguments (%s)", c->name, c->usage);
	for (int i = 0; i < nargs; i++) {
		char kind = c->args[i];
		if (kind < 'a')
			kind = (char)(kind - 'A' + 'a');
		if (parse_arg(c, kind, w[i + 1], req, err, errlen))
			return -1;
	}
	if (id == CMD_HELP && req->word[0] && !command_find(req->word, NULL))
		return errf(err, errlen, "no command named '%.32s' (try help)", req->word);
	return check_ranges(c, req, nargs, err, errlen);
}
