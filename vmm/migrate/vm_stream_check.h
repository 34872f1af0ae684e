/* The checking pass of a restore (docs/STATE_STREAM.md, "A whole VM's
 * stream"): a VM's whole stream is read before anything is built, and
 * refused with one line when a record is corrupted, truncated, of an
 * unknown mandatory type, out of place (the config not first, a vCPU or
 * device twice or of no vCPU the config has, a record missing), or holds a
 * state no VM could have (the config's, each vCPU's and every page batch's
 * own checks). Needs no VMX: unit-tested on the host. */
#ifndef PGVISOR_MIGRATE_VM_STREAM_CHECK_H
#define PGVISOR_MIGRATE_VM_STREAM_CHECK_H

#include <stddef.h>

#include "vmm/load/config.h"
#include "vmm/migrate/config_record.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_record.h"

/* What the checking pass read, for the pass that builds the VM. */
struct vm_stream_records {
	struct vm_record vm;
	struct vcpu_record vcpus[VM_MAX_VCPUS];
};

/* 0 and out filled, or -1 with one line ("image refused: ...") in why. */
int vm_stream_check(const void *buf, size_t len, struct vm_stream_records *out, char *why,
		    size_t whylen);
/* The line for a stream sr refused (its why, error and offset); -1. */
int vm_stream_refused(char *why, size_t whylen, const struct stream_reader *sr);
/* The line for a record whose body its own load refused; -1. */
int vm_stream_body_refused(char *why, size_t whylen, struct stream_reader *sr,
			   const struct stream_record *rec);

#endif
