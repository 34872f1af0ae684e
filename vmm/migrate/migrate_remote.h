/* Migration between machines (the console's "migrate VM HOST"): the VM's
 * state stream (docs/STATE_STREAM.md) goes to the pgvisor at HOST over
 * the authenticated channel of mig_chan.h on IPv4/UDP (vmm/vm/host_ip.h),
 * and that pgvisor builds the VM from it as the bytes arrive (a push
 * loader, migrate_dest.h). Live: the pre-copy engine (migrate.h) writes
 * the stream into a small queue (its sink) that the network poll drains
 * into the channel; the VM runs during the rounds and is paused for the
 * stop-and-copy; it is destroyed only when the peer acknowledged the
 * started VM, and runs on (dirty logging off) after a refusal, a silence
 * (a peer with another key answers nothing), or "migrate cancel VM". One
 * migration out at a time, one in. */
#ifndef PGVISOR_MIGRATE_MIGRATE_REMOTE_H
#define PGVISOR_MIGRATE_MIGRATE_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "vmm/vm/vm.h"

#define MIGRATE_KEY_OPTION "migrate-key"
#define MIGRATE_UDP_PORT 7420
#define MIGRATE_KEY_MAX 128

/* Reads migrate-key= (with ip=, host_ip_init first) and listens: one line
 * (listening, or why not: a key missing or shorter than MIG_KEY_MIN; the
 * key itself is never printed). bi: what restored VMs load their files
 * from. */
void migrate_remote_init(const char *cmdline, const struct boot_info *bi);
/* Starts migrating vm live to the pgvisor at host ("a.b.c.d"): on the
 * CPU of its vCPU 0 with its lock held, as save. 0 (the rounds run from
 * migrate_poll, the transfer from the network poll; "migrate cancel VM"
 * is migrate_cancel's), or -1 with one line in why. */
int migrate_remote_start(struct vm *vm, const char *host, char *why, size_t whylen);
/* One line at the end, when migration between machines was on: the
 * datagrams received (how many failed the MAC, how many were another
 * session's or seen before) and sent. */
void migrate_remote_summary(void);

#endif
