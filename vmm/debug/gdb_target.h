/* A VM as the gdb stub's target, on COM2 (gdb=NAME on pgvisor's command
 * line). One VM at a time: there is one COM2. */
#ifndef PGVISOR_GDB_TARGET_H
#define PGVISOR_GDB_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct vm;

/* Attaches the stub to vm and holds it at its next entry (at_start: before
 * its first instruction) until gdb continues it. Returns 0, or -1 with
 * why in err: there is no COM2, gdb is attached now, or it was attached
 * to another VM before (its hooks stay in that VM). */
int gdb_target_attach(struct vm *vm, bool at_start, char *err, size_t errlen);
/* Whether gdb holds COM2 now (attached and not yet detached). */
bool gdb_target_attached(void);

#endif
