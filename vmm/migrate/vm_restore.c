#include "vmm/migrate/vm_restore.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "drivers/storage/partition.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/dev/net_switch.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_capture.h"
#include "vmm/migrate/vm_stream_check.h"
#include "vmm/vm/platform.h"

#define NAME_SUFFIX_MAX 99 /* NAME-2 .. NAME-99 */
#define SUFFIX_ROOM 4	   /* "-NN" */

/* What the checking pass read and the building pass uses; too big for a
 * hypervisor stack, one restore at a time. */
static struct spinlock restore_lock;
static struct vm_stream_records recs;

/* The restored VM's name into out: asked, or the saved one, or the first
 * free NAME-N. */
static int pick_name(const char *asked, char *out, size_t size, char *why, size_t whylen)
{
	const char *base = recs.vm.cfg.name;

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

/* A partition disk is the machine's, not the image's: the restored VM
 * uses the same one. Two VMs writing it would corrupt it, so a writable
 * one waits until the VM that holds it (the source, still running) has
 * ended; read-only on both sides is fine. The one line says so before
 * anything is built (vm_build's partition_open stays the real guard). */
static int disks_free(const struct vm_config *cfg, char *why, size_t whylen)
{
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct vm_disk_config *c = &cfg->disks[i];
		struct partition *p = c->partition ? partition_find(c->target) : NULL;
		const char *writer = p ? __atomic_load_n(&p->writer, __ATOMIC_RELAXED) : NULL;
		unsigned readers = p ? __atomic_load_n(&p->readers, __ATOMIC_RELAXED) : 0;

		if (writer) {
			snprintf(why, whylen,
				 "disk %s (part:%s) is still written by vm %s: restore it once "
				 "that VM has ended",
				 c->vdev, c->target, writer);
			return -1;
		}
		if (c->writable && readers) {
			snprintf(why, whylen,
				 "disk %s (part:%s) is writable and still read by %u VM(s): "
				 "restore it once they have ended",
				 c->vdev, c->target, readers);
			return -1;
		}
	}
	return 0;
}

/* A vif's MAC is the VM config's: the restored VM's port joins the same
 * bridge with it, which the switch refuses while another port (the
 * source's, still running) has it. One line before anything is built. */
static int vifs_free(const struct vm_config *cfg, char *why, size_t whylen)
{
	struct net_switch *sw = cfg->nvifs ? platform_switch() : NULL;

	for (unsigned i = 0; sw && i < cfg->nvifs; i++) {
		const struct vm_vif_config *c = &cfg->vifs[i];
		if (net_switch_mac_taken(sw, c->bridge, c->mac)) {
			snprintf(
				why, whylen,
				"vif %u (MAC %02x:%02x:%02x:%02x:%02x:%02x) is still on bridge %s: "
				"restore it once the VM that has it has ended",
				i, c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5],
				c->bridge);
			return -1;
		}
	}
	return 0;
}

/* The VM clock of the new VM reads the saved clock now (docs/STATE_STREAM.md,
 * "Time"): the last step before it starts, so that the time the restore
 * took is not the guest's. A VM that ran longer than this machine has been
 * up (one from another machine) gets an origin before TSC 0, wrapped: the
 * clock's readers take the difference as signed (vtime_now_ns). */
static void set_clock(struct vm *vm)
{
	struct vtime *t = &vm->vtime;
	uint64_t ticks = vtime_ns_to_tsc(t, recs.vm.clock_ns) - t->start_tsc;

	t->start_tsc = rdtsc() - ticks;
	vm->start_epoch_ns = recs.vm.start_epoch_ns;
	vm->wall_clock_msr = recs.vm.wall_clock_msr;
	vm->wall_clock_version = recs.vm.wall_clock_version;
	vm->pv_unhalt_known = recs.vm.pv_unhalt_known;
}

/* The pages of a writable image disk's copy (the last one may be partly
 * past its end: that part is zeroed again after the load). */
static uint64_t disk_pages(const struct virtio_blk_store *d)
{
	return (d->size + PAGE_DATA_PAGE - 1) / PAGE_DATA_PAGE;
}

/* A writable image disk's copy before its disk-data records: all zeros,
 * as the save left out its zero pages. Read-only images are the boot
 * file itself, partitions the machine's: neither is touched. */
static void clear_disk_copies(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		struct vm_disk_image *d = &vm->disk_images[i];
		if (d->owned)
			memset(d->store.image, 0, disk_pages(&d->store) * PAGE_DATA_PAGE);
	}
}

/* After the records: nothing past a disk's end, and every live virtqueue
 * agrees with the guest's rings, now in RAM. */
static int check_virtio(struct vm *vm, char *why, size_t whylen)
{
	const char *bad = NULL;
	const struct virtio_dev *dev = NULL;

	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		struct vm_disk_image *d = &vm->disk_images[i];
		if (d->owned)
			memset(d->store.image + d->store.size, 0,
			       disk_pages(&d->store) * PAGE_DATA_PAGE - d->store.size);
		if (!bad && virtio_dev_check_loaded(&vm->disks[i]->dev, &bad))
			dev = &vm->disks[i]->dev;
	}
	if (!bad && vm->vcon && virtio_dev_check_loaded(&vm->vcon->dev, &bad))
		dev = &vm->vcon->dev;
	for (unsigned i = 0; !bad && i < vm->cfg.nvifs; i++)
		if (virtio_dev_check_loaded(&vm->nics[i]->net.dev, &bad))
			dev = &vm->nics[i]->net.dev;
	if (!bad)
		return 0;
	snprintf(why, whylen, "image refused: %s: %s", dev->name, bad);
	return -1;
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
	case STREAM_DEV_VIRTIO_BLK: /* instances checked in the first pass */
		return virtio_blk_load(vm->disks[rec->instance], r);
	case STREAM_DEV_VIRTIO_CONSOLE:
		return virtio_console_load(vm->vcon, r);
	case STREAM_DEV_VIRTIO_NET:
		return virtio_net_load(&vm->nics[rec->instance]->net, r);
	case STREAM_DISK_DATA: {
		struct virtio_blk_store *d = &vm->disk_images[rec->instance].store;
		return page_data_load(r, d->image, disk_pages(d)) < 0;
	}
	default: /* config and vCPUs: read in the first pass */
		return 0;
	}
}

/* The second pass: devices and pages into the built VM, then its vCPUs. */
static int load_state(struct vm *vm, const void *buf, size_t len, bool fresh, char *why,
		      size_t whylen)
{
	struct stream_reader sr;
	struct stream_record rec;
	int st;

	/* The loader's image goes: the RAM holds what was saved, zeros
	 * elsewhere (fresh; a migration's pages are in already). */
	if (fresh) {
		memset(vm->ram.host, 0, vm->ram.size);
		clear_disk_copies(vm);
	}
	/* The guest TSC first: a vLAPIC in TSC-deadline mode converts its
	 * deadline with it as it loads (guest TSC - offset - clock start,
	 * which set_clock keeps). */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].lapic.tsc_offset =
			recs.vcpus[i].tsc_at_clock_zero - vm->vtime.start_tsc;
	/* The devices' times land on the saved clock's values: set_clock
	 * makes the clock read them as the VM starts. */
	stream_reader_init(&sr, buf, len, recs.vm.clock_ns);
	while ((st = stream_next(&sr, &rec)) == STREAM_OK) {
		int err = rec.type == STREAM_PAGE_DATA
				  ? page_data_load(&rec.body, vm->ram.host,
						   vm->ram.size / PAGE_DATA_PAGE) < 0
				  : load_device(vm, &rec);
		if (err)
			return vm_stream_body_refused(why, whylen, &sr, &rec);
	}
	if (st != STREAM_DONE)
		return vm_stream_refused(why, whylen, &sr);
	if (check_virtio(vm, why, whylen))
		return -1;
	/* A vCPU that moved its xAPIC page: the page is decoded there again. */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vlapic *a = &vm->vcpus[i].lapic;
		if (vlapic_mmio_base(a) != VLAPIC_MMIO_BASE && a->ops.base_moved)
			a->ops.base_moved(a->ops.ctx, a);
	}
	set_clock(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vcpu_apply(&vm->vcpus[i], &recs.vcpus[i], why, whylen))
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
	if (vm_stream_check(buf, len, &recs, why, whylen))
		goto out;
	cfg = recs.vm.cfg;
	if (pick_name(name, cfg.name, sizeof(cfg.name), why, whylen) ||
	    disks_free(&cfg, why, whylen) || vifs_free(&cfg, why, whylen))
		goto out;
	vm = vm_build(&cfg, bi, false);
	if (!vm) {
		snprintf(why, whylen, "restore: vm %s could not be built (the console says why)",
			 cfg.name);
		goto out;
	}
	/* Not running while it loads: the switch hands frames straight to a
	 * running VM's device (nic_deliver), and this one's RAM and queues are
	 * being written. Its frames wait in its port's ring meanwhile. */
	vm->state = VM_PAUSED;
	if (load_state(vm, buf, len, true, why, whylen)) {
		vm_discard(vm);
		vm = NULL;
		goto out;
	}
	vm->state = VM_RUNNING;
	vm_start(vm, usable);
out:
	spin_unlock(&restore_lock);
	return vm;
}

int vm_restore_finish(struct vm *vm, const void *buf, size_t len, char *why, size_t whylen)
{
	const struct vm_config *c;
	int err = -1;

	spin_lock(&restore_lock);
	if (vm_stream_check(buf, len, &recs, why, whylen))
		goto out;
	c = &recs.vm.cfg;
	if (c->memory_mib != vm->cfg.memory_mib || c->vcpus != vm->cfg.vcpus ||
	    c->ndisks != vm->cfg.ndisks || c->nvifs != vm->cfg.nvifs ||
	    c->virtio_console != vm->cfg.virtio_console) {
		snprintf(why, whylen, "image refused: the final VM config differs from the first");
		goto out;
	}
	err = load_state(vm, buf, len, false, why, whylen);
out:
	spin_unlock(&restore_lock);
	return err;
}
