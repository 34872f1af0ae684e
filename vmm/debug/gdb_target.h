/* A VM as the gdb stub's target, on COM2 (gdb=NAME on pgvisor's command
 * line). One VM at a time: there is one COM2. */
#ifndef PGVISOR_GDB_TARGET_H
#define PGVISOR_GDB_TARGET_H

struct vm;

/* Attaches the stub to vm and holds it before its first instruction until
 * gdb continues it. Returns 0, or -1 (and says why on the console) when
 * there is no COM2 or a VM is already attached. */
int gdb_target_attach(struct vm *vm);

#endif
