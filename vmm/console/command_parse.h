/* The operator's commands (Xen's xl as the model): their table and the
 * parser that turns a typed line into a request. No output and no VM is
 * touched here, so the parser unit-tests on the host, and a control
 * channel can hand its requests to the same runner (commands.h). */
#ifndef PGVISOR_COMMAND_PARSE_H
#define PGVISOR_COMMAND_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/load/config.h"

enum command_id {
	CMD_HELP,
	CMD_LIST,
	CMD_CREATE,
	CMD_CONSOLE,
	CMD_PAUSE,
	CMD_UNPAUSE,
	CMD_DESTROY,
	CMD_REBOOT,
	CMD_SHUTDOWN,
	CMD_INFO,
	CMD_EXITS,
	CMD_TRACE,
	CMD_MEM,
	CMD_GDBSERVER,
	CMD_SAVE,
	CMD_RESTORE,
	CMD_IMAGES,
	CMD_DROP,
	CMD_CORRUPT,
	CMD_MIGRATE,
	CMD_COUNT,
};

enum trace_op { TRACE_ON, TRACE_OFF, TRACE_SHOW };

#define MIGRATE_CANCEL "cancel"	    /* migrate cancel VM */
#define IMAGE_PREFIX "mem:"	    /* save and restore targets: images in memory */
#define COMMAND_LINE_MAX 256	    /* the longest line the console takes */
#define MEM_DUMP_MAX 4096	    /* mem: bytes at most */
#define TRACE_SHOW_DEFAULT 16	    /* trace show: exits shown without N */
#define TRACE_SHOW_MAX 64	    /* the ring's length (EXIT_TRACE_LEN) */
#define SHUTDOWN_TIMEOUT_DEFAULT 30 /* seconds before shutdown destroys */
#define SHUTDOWN_TIMEOUT_MAX 3600

struct command_info {
	const char *name;
	const char *args; /* one letter an argument, see command_parse.c */
	const char *usage;
	const char *summary;
};

struct command_request {
	enum command_id id;
	char vm[VM_NAME_MAX]; /* the VM it names; "" when none */
	/* create's file, help's command, the NAME of an image mem:NAME; ""
	 * when none. restore's new name is in vm. */
	char word[CFG_PATH_MAX];
	enum trace_op trace;
	uint64_t gpa, len; /* mem */
	unsigned count;	   /* trace show's N, shutdown's seconds */
	uint64_t offset;   /* corrupt's byte */
	/* corrupt's TYPE+OFFSET form: the offset counts from the body of the
	 * first record of that type; 0: from the image's start. */
	uint32_t record_type;
};

const struct command_info *command_info(enum command_id id);
/* The command of that name, or NULL. */
const struct command_info *command_find(const char *name, enum command_id *id);
/* Parses line (words separated by blanks). 0 and *req filled in, or -1
 * with one line (no newline) in err: an unknown command, a missing or
 * extra argument, a number that is not one or out of range. */
int command_parse(const char *line, struct command_request *req, char *err, size_t errlen);
/* Whether the command acts on the VM it names (and so runs on the CPU of
 * its vCPU 0, under its lock). */
bool command_names_vm(enum command_id id);

#endif
