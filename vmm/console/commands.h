/* Running the operator's commands (command_parse.h) against the VMs. A
 * command that names a VM runs on the CPU of its vCPU 0, under its lock;
 * the others on any CPU in its scheduler. */
#ifndef PGVISOR_COMMANDS_H
#define PGVISOR_COMMANDS_H

#include <stdint.h>

#include "boot/boot_info.h"
#include "vmm/console/command_parse.h"
#include "vmm/console/json_writer.h"
#include "vmm/vm/vm.h"

/* What commands need from the console around them. */
struct command_env {
	const struct boot_info *boot; /* create's configs and files */
	void (*focus)(struct vm *vm); /* console: the keyboard goes to vm */
};

/* What became of a command, besides the text it printed on the console:
 * whether it was refused (and why, one line), and for the control
 * channel its results as fields of the JSON reply (docs/CONTROL.md). */
#define COMMAND_ERROR_MAX 160
struct command_result {
	struct json_writer *json; /* NULL: the console, text only */
	bool failed;
	char error[COMMAND_ERROR_MAX];
};

void commands_init(const struct command_env *env);
/* Runs req; vm is the VM it names (found already), NULL for the others. */
void command_run(const struct command_request *req, struct vm *vm, struct command_result *res);
/* "running", "paused", "shutdown", "crashed", "destroyed" (* when
 * preserved for inspection). */
const char *command_state_name(const struct vm *vm);
/* The registers of v, printed on v's own CPU (info asks that CPU when v
 * runs elsewhere). */
void command_print_vcpu(struct vcpu *v);
/* Destroys, on their CPU, the VMs whose shutdown timed out. Cheap when
 * no shutdown is pending. */
void commands_check_shutdowns(void);
/* A step of a live migration whose source runs on this CPU (its copy
 * interleaves with the guest: one chunk a scheduler pass). */
void commands_poll_migration(void);

#endif
