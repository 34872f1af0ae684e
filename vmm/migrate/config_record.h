/* The VM config record of the state stream (docs/STATE_STREAM.md, type
 * 0x01): the parsed config the destination builds its VM from, and the
 * VM-wide state no device holds (its clock, kvm-clock's wall clock). The
 * codec needs no VMX and unit-tests on the host. */
#ifndef PGVISOR_MIGRATE_CONFIG_RECORD_H
#define PGVISOR_MIGRATE_CONFIG_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/state_io.h"
#include "vmm/load/config.h"

struct vm_record {
	struct vm_config cfg;
	uint64_t clock_ns;	 /* the VM clock at save: the restored one goes on from it */
	uint64_t start_epoch_ns; /* the time of day at guest time 0 */
	uint64_t wall_clock_msr; /* kvm-clock's wall clock as the guest set it */
	uint32_t wall_clock_version;
	bool pv_unhalt_known;
	uint64_t lapic_moved_base; /* a vCPU moved its xAPIC page here (0: none) */
};

void vm_record_save(const struct vm_record *rec, struct state_writer *w);
/* -1 with r->refused set for a short or long body, a string without room
 * for its NUL, or a value the config parser would have refused. */
int vm_record_load(struct vm_record *rec, struct state_reader *r);

#endif
