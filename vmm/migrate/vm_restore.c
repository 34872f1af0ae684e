#include "vmm/migrate/vm_restore.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/migrate/config_record.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_capture.h"

#define NAME_SUFFIX_MAX 99 /* NAME-2 .. NAME-99 */
#define SUFFIX_ROOM 4	   /* "-NN" */

/* What the checking pass read and the building pass uses; too big for a
 * hypervisor stack, one restore at a time. */
static struct spinlock restore_lock;
static struct vm_record vm_rec;
static struct vcpu_record vcpu_recs[VM_MAX_VCPUS];

/* The records a stream must hold once each: the device singletons by
 * type, from DEVICE_FIRST (the local APICs, one per vCPU, among them
 * are counted apart). */
#define DEVICE_FIRST STREAM_DEV_UART
#define DEVICE_TYPES (STREAM_DEV_SYSCTL - STREAM_DEV_UART + 1)

struct seen {
	bool config;
	bool device[DEVICE_TYPES];
	uint32_t vcpus, lapics; /* a bit per vCPU */
};

static int refuse(char *why, size_t whylen, const struct stream_reader *sr)
{
	snprintf(why, whylen, "image refused: %s (%s at byte %zu)", sr->why,
		 stream_status_name(sr->error), sr->where);
	return -1;
}

/* One line: the record's body was refused by its own checks. */
static int refuse_body(char *why, size_t whylen, struct stream_reader *sr,
		       const struct stream_record *rec)
{
	stream_refuse_record(sr, rec);
	return refuse(why, whylen, sr);
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
			char *why, size_t whylen)
{
	uint32_t bit = rec->instance < VM_MAX_VCPUS ? 1u << rec->instance : 0;

	if (rec->type != STREAM_VM_CONFIG && !seen->config)
		return refuse_record(why, whylen, sr, rec, "the VM config record is not first");
	switch (rec->type) {
	case STREAM_VM_CONFIG:
		if (seen->config || rec->instance)
			return refuse_record(why, whylen, sr, rec, "a second VM config record");
		seen->config = true;
		if (vm_record_load(&vm_rec, &rec->body))
			return refuse_body(why, whylen, sr, rec);
		return 0;
	case STREAM_VCPU:
		if (rec->instance >= vm_rec.cfg.vcpus || (seen->vcpus & bit))
			return refuse_record(why, whylen, sr, rec, "a vCPU record out of place");
		seen->vcpus |= bit;
		if (vcpu_record_load(&vcpu_recs[rec->instance], &rec->body))
			return refuse_body(why, whylen, sr, rec);
		if (vcpu_recs[rec->instance].id != rec->instance)
			return refuse_record(why, whylen, sr, rec, "a vCPU record of another vCPU");
		return 0;
	case STREAM_PAGE_DATA:
		if (page_data_load(&rec->body, NULL,
				   (uint64_t)vm_rec.cfg.memory_mib * (1u << 20) / PAGE_DATA_PAGE) <
		    0)
			return refuse_body(why, whylen, sr, rec);
		return 0;
	case STREAM_DEV_VLAPIC:
		if (rec->instance >= vm_rec.cfg.vcpus || (seen->lapics & bit))
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

/* The first pass: every record checked, nothing built. */
static int check_stream(const void *buf, size_t len, char *why, size_t whylen)
{
	struct stream_reader sr;
	struct stream_record rec;
	struct seen seen = { 0 };
	int st;

	if (stream_reader_init(&sr, buf, len, 0))
		return refuse(why, whylen, &sr);
	while ((st = stream_next(&sr, &rec)) == STREAM_OK)
		if (check_record(&sr, &rec, &seen, why, whylen))
			return -1;
	if (st != STREAM_DONE)
		return refuse(why, whylen, &sr);
	uint32_t all = (1u << vm_rec.cfg.vcpus) - 1;
	for (unsigned i = 0; i < DEVICE_TYPES; i++)
		if (!seen.device[i] && DEVICE_FIRST + i != STREAM_DEV_VLAPIC) {
			snprintf(why, whylen, "image refused: no record of device type %#x",
				 DEVICE_FIRST + i);
			return -1;
		}
	if (!seen.config || seen.vcpus != all || seen.lapics != all) {
		snprintf(why, whylen, "image refused: a vCPU or local APIC record is missing");
		return -1;
	}
	return 0;
}

/* The restored VM's name into out: asked, or the saved one, or the first
 * free NAME-N. */
static int pick_name(const char *asked, char *out, size_t size, char *why, size_t whylen)
{
	const char *base = vm_rec.cfg.name;

	if (asked) {
		if (vm_named(asked)) {
			snprintf(why, whylen, "restore: a VM named %s exists already", asked);
			return -1;
		}
		snprintf(out, size, "%s", asked);
		return 0;
	}
	if (!vm_named(base)) {
		snprintf(out, size, "%s", base);
		return 0;
	}
	for (unsigned n = 2; n <= NAME_SUFFIX_MAX; n++) {
		snprintf(out, size, "%.*s-%u", (int)(size - SUFFIX_ROOM - 1), base, n);
		if (!vm_named(out))
			return 0;
	}
	snprintf(why, whylen, "restore: %s-2 to %s-%u exist already", base, base, NAME_SUFFIX_MAX);
	return -1;
}

/* The VM clock of the new VM reads the saved clock now (docs/STATE_STREAM.md,
 * "Time"): the last step before it starts, so that the time the restore
 * took is not the guest's. */
static int set_clock(struct vm *vm, char *why, size_t whylen)
{
	struct vtime *t = &vm->vtime;
	uint64_t ticks = vtime_ns_to_tsc(t, vm_rec.clock_ns) - t->start_tsc;
	uint64_t now = rdtsc();

	if (ticks > now) {
		snprintf(why, whylen, "image refused: its VM clock is ahead of this machine's TSC");
		return -1;
	}
	t->start_tsc = now - ticks;
	vm->start_epoch_ns = vm_rec.start_epoch_ns;
	vm->wall_clock_msr = vm_rec.wall_clock_msr;
	vm->wall_clock_version = vm_rec.wall_clock_version;
	vm->pv_unhalt_known = vm_rec.pv_unhalt_known;
	return 0;
}

/* A device record into the new VM's model. */
static int load_device(struct vm *vm, struct stream_record *rec)
{
	struct state_reader *r = &rec->body;

	switch (rec->type) {
	case STREAM_DEV_UART:
		return uart_load(&vm->uart, r);
	case STREAM_DEV_PIC:
		return pic_load(&vm->pic, r);
	case STREAM_DEV_PIT:
		return pit_load(&vm->pit, r);
	case STREAM_DEV_RTC:
		return rtc_load(&vm->rtc, r);
	case STREAM_DEV_ACPI_PM:
		return acpi_pm_load(&vm->acpi_pm, r);
	case STREAM_DEV_HPET:
		return hpet_load(&vm->hpet, r);
	case STREAM_DEV_VIOAPIC:
		return vioapic_load(&vm->ioapic, r);
	case STREAM_DEV_VLAPIC:
		return vlapic_load(&vm->vcpus[rec->instance].lapic, r);
	case STREAM_DEV_PCI_HOST:
		return pci_host_load(&vm->pci, r);
	case STREAM_DEV_SYSCTL:
		return sysctl_load(&vm->sysctl, r);
	default: /* config and vCPUs: read in the first pass */
		return 0;
	}
}

/* The second pass: devices and pages into the built VM, then its vCPUs. */
static int load_state(struct vm *vm, const void *buf, size_t len, char *why, size_t whylen)
{
	struct stream_reader sr;
	struct stream_record rec;
	int st;

	/* The loader's image goes: the RAM holds what was saved, zeros
	 * elsewhere. */
	memset(vm->ram.host, 0, vm->ram.size);
	/* The guest TSC first: a vLAPIC in TSC-deadline mode converts its
	 * deadline with it as it loads (guest TSC - offset - clock start,
	 * which set_clock keeps). */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].lapic.tsc_offset =
			vcpu_recs[i].tsc_at_clock_zero - vm->vtime.start_tsc;
	/* The devices' times land on the saved clock's values: set_clock
	 * makes the clock read them as the VM starts. */
	stream_reader_init(&sr, buf, len, vm_rec.clock_ns);
	while ((st = stream_next(&sr, &rec)) == STREAM_OK) {
		int err = rec.type == STREAM_PAGE_DATA
				  ? page_data_load(&rec.body, vm->ram.host,
						   vm->ram.size / PAGE_DATA_PAGE) < 0
				  : load_device(vm, &rec);
		if (err)
			return refuse_body(why, whylen, &sr, &rec);
	}
	if (st != STREAM_DONE)
		return refuse(why, whylen, &sr);
	/* A vCPU that moved its xAPIC page: the page is decoded there again. */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vlapic *a = &vm->vcpus[i].lapic;
		if (vlapic_mmio_base(a) != VLAPIC_MMIO_BASE && a->ops.base_moved)
			a->ops.base_moved(a->ops.ctx, a);
	}
	if (set_clock(vm, why, whylen))
		return -1;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vcpu_apply(&vm->vcpus[i], &vcpu_recs[i], why, whylen))
			return -1;
	vtime_reschedule(&vm->vtime);
	return 0;
}

struct vm *vm_restore(const void *buf, size_t len, const char *name, const struct boot_info *bi,
		      uint32_t usable, char *why, size_t whylen)
{
	static struct vm_config cfg; /* too big for the stack; under restore_lock */
	struct vm *vm = NULL;

	spin_lock(&restore_lock);
	if (check_stream(buf, len, why, whylen))
		goto out;
	cfg = vm_rec.cfg;
	if (pick_name(name, cfg.name, sizeof(cfg.name), why, whylen))
		goto out;
	vm = vm_build(&cfg, bi);
	if (!vm) {
		snprintf(why, whylen, "restore: vm %s could not be built (the console says why)",
			 cfg.name);
		goto out;
	}
	if (load_state(vm, buf, len, why, whylen)) {
		vm_discard(vm);
		vm = NULL;
		goto out;
	}
	vm_start(vm, usable);
out:
	spin_unlock(&restore_lock);
	return vm;
}
