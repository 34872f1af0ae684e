/* The checking pass of a restore: a whole VM's stream read through, every
 * record's place and the bodies that need no VM checked. */
#include "vmm/migrate/vm_stream_check.h"

#include <stdio.h>

#include "vmm/migrate/page_data.h"

#define MIB_SHIFT 20

/* The records a stream must hold once each: the device singletons by
 * type, from DEVICE_FIRST (the local APICs, one per vCPU, among them
 * are counted apart). */
#define DEVICE_FIRST STREAM_DEV_UART
#define DEVICE_TYPES (STREAM_DEV_SYSCTL - STREAM_DEV_UART + 1)

struct seen {
	bool config;
	bool device[DEVICE_TYPES];
	uint32_t vcpus, lapics; /* a bit per vCPU */
	uint32_t disks;		/* a bit per virtio-blk record */
	uint32_t vifs;		/* a bit per virtio-net record */
	bool vcon;
};

int vm_stream_refused(char *why, size_t whylen, const struct stream_reader *sr)
{
	snprintf(why, whylen, "image refused: %s (%s at byte %zu)", sr->why,
		 stream_status_name(sr->error), sr->where);
	return -1;
}

int vm_stream_body_refused(char *why, size_t whylen, struct stream_reader *sr,
			   const struct stream_record *rec)
{
	stream_refuse_record(sr, rec);
	return vm_stream_refused(why, whylen, sr);
}

/* One line: the record at sr's last position breaks a rule of the whole
 * stream (not of its own body). */
static int refuse_record(char *why, size_t whylen, const struct stream_reader *sr,
			 const struct stream_record *rec, const char *what)
{
	size_t at = (size_t)(rec->body.buf - sr->buf) - STREAM_RECORD_HEADER_SIZE;

	snprintf(why, whylen, "image refused: %s (record type %#x at byte %zu)", what, rec->type,
		 at);
	return -1;
}

/* The checking pass of one record: its place in the stream, and the body
 * of the records that need no VM to be checked. */
static int check_record(struct stream_reader *sr, struct stream_record *rec, struct seen *seen,
			struct vm_stream_records *out, char *why, size_t whylen)
{
	uint32_t bit = rec->instance < VM_MAX_VCPUS ? 1u << rec->instance : 0;

	if (rec->type != STREAM_VM_CONFIG && !seen->config)
		return refuse_record(why, whylen, sr, rec, "the VM config record is not first");
	switch (rec->type) {
	case STREAM_VM_CONFIG:
		if (seen->config || rec->instance)
			return refuse_record(why, whylen, sr, rec, "a second VM config record");
		seen->config = true;
		if (vm_record_load(&out->vm, &rec->body))
			return vm_stream_body_refused(why, whylen, sr, rec);
		return 0;
	case STREAM_VCPU:
		if (rec->instance >= out->vm.cfg.vcpus || (seen->vcpus & bit))
			return refuse_record(why, whylen, sr, rec, "a vCPU record out of place");
		seen->vcpus |= bit;
		if (vcpu_record_load(&out->vcpus[rec->instance], &rec->body))
			return vm_stream_body_refused(why, whylen, sr, rec);
		if (out->vcpus[rec->instance].id != rec->instance)
			return refuse_record(why, whylen, sr, rec, "a vCPU record of another vCPU");
		return 0;
	case STREAM_PAGE_DATA:
		if (page_data_load(&rec->body, NULL,
				   ((uint64_t)out->vm.cfg.memory_mib << MIB_SHIFT) /
					   PAGE_DATA_PAGE) < 0)
			return vm_stream_body_refused(why, whylen, sr, rec);
		return 0;
	case STREAM_DISK_DATA:
		/* Only a writable image disk is the VM's own copy; its size is
		 * the destination's file's, checked as the records load. */
		if (rec->instance >= out->vm.cfg.ndisks ||
		    !out->vm.cfg.disks[rec->instance].writable ||
		    out->vm.cfg.disks[rec->instance].partition)
			return refuse_record(why, whylen, sr, rec,
					     "disk data for no writable image disk");
		if (page_data_load(&rec->body, NULL, UINT64_MAX) < 0)
			return vm_stream_body_refused(why, whylen, sr, rec);
		return 0;
	case STREAM_DEV_VIRTIO_BLK:
		if (rec->instance >= out->vm.cfg.ndisks || (seen->disks & bit))
			return refuse_record(why, whylen, sr, rec,
					     "a virtio-blk record out of place");
		seen->disks |= bit;
		return 0;
	case STREAM_DEV_VIRTIO_NET:
		if (rec->instance >= out->vm.cfg.nvifs || (seen->vifs & bit))
			return refuse_record(why, whylen, sr, rec,
					     "a virtio-net record out of place");
		seen->vifs |= bit;
		return 0;
	case STREAM_DEV_VIRTIO_CONSOLE:
		if (rec->instance || !out->vm.cfg.virtio_console || seen->vcon)
			return refuse_record(why, whylen, sr, rec,
					     "a virtio-console record out of place");
		seen->vcon = true;
		return 0;
	case STREAM_DEV_VLAPIC:
		if (rec->instance >= out->vm.cfg.vcpus || (seen->lapics & bit))
			return refuse_record(why, whylen, sr, rec,
					     "a local APIC record out of place");
		seen->lapics |= bit;
		return 0;
	default: /* the device singletons */
		if (rec->instance || seen->device[rec->type - DEVICE_FIRST])
			return refuse_record(why, whylen, sr, rec, "a device record out of place");
		seen->device[rec->type - DEVICE_FIRST] = true;
		return 0;
	}
}

int vm_stream_check(const void *buf, size_t len, struct vm_stream_records *out, char *why,
		    size_t whylen)
{
	struct stream_reader sr;
	struct stream_record rec;
	struct seen seen = { 0 };
	int st;

	if (stream_reader_init(&sr, buf, len, 0))
		return vm_stream_refused(why, whylen, &sr);
	while ((st = stream_next(&sr, &rec)) == STREAM_OK)
		if (check_record(&sr, &rec, &seen, out, why, whylen))
			return -1;
	if (st != STREAM_DONE)
		return vm_stream_refused(why, whylen, &sr);
	if (!seen.config) {
		snprintf(why, whylen, "image refused: no VM config record");
		return -1;
	}
	uint32_t all = (1u << out->vm.cfg.vcpus) - 1;
	for (unsigned i = 0; i < DEVICE_TYPES; i++)
		if (!seen.device[i] && DEVICE_FIRST + i != STREAM_DEV_VLAPIC) {
			snprintf(why, whylen, "image refused: no record of device type %#x",
				 DEVICE_FIRST + i);
			return -1;
		}
	if (seen.vcpus != all || seen.lapics != all) {
		snprintf(why, whylen, "image refused: a vCPU or local APIC record is missing");
		return -1;
	}
	if (seen.disks != (1u << out->vm.cfg.ndisks) - 1 ||
	    seen.vifs != (1u << out->vm.cfg.nvifs) - 1 || seen.vcon != out->vm.cfg.virtio_console) {
		snprintf(why, whylen, "image refused: a virtio device's record is missing");
		return -1;
	}
	return 0;
}
