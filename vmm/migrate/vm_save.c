#include "vmm/migrate/vm_save.h"

#include <stdio.h>

#include "arch/x86/spinlock.h"
#include "vmm/cpu/vcpu_state.h"
#include "vmm/migrate/config_record.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vcpu_capture.h"

/* Room for the config record and every device record; the vCPU and page
 * records and a vif's waiting frames are counted apiece. */
#define FIXED_RECORDS_BOUND (64u * 1024)
#define NIC_FRAMES_BOUND (NET_PORT_RING_SLOTS * (sizeof(uint16_t) + NET_FRAME_MAX))
#define PAGE_RECORD_SIZE (PAGE_DATA_PAGE + sizeof(uint64_t))

/* Too big for a hypervisor stack; one save at a time. */
static struct spinlock save_lock;
static struct vm_record vm_rec;
static struct vcpu_record vcpu_rec;
static uint64_t batch[PAGE_DATA_BATCH];

/* A writable image disk's own copy: its pages, as the disk-data records
 * carry them (the last one may be partly past the disk's end). */
static uint64_t disk_pages(const struct vm *vm, unsigned i)
{
	const struct vm_disk_image *d = &vm->disk_images[i];

	return d->owned ? (d->store.size + PAGE_DATA_PAGE - 1) / PAGE_DATA_PAGE : 0;
}

size_t vm_save_bound(const struct vm *vm)
{
	size_t pages = vm->ram.size / PAGE_DATA_PAGE;
	size_t batches = (pages + PAGE_DATA_BATCH - 1) / PAGE_DATA_BATCH;

	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		pages += disk_pages(vm, i);
		batches += (disk_pages(vm, i) + PAGE_DATA_BATCH - 1) / PAGE_DATA_BATCH;
	}

	return STREAM_HEADER_SIZE + FIXED_RECORDS_BOUND + vm->cfg.nvifs * NIC_FRAMES_BOUND +
	       vm->nvcpus * (STREAM_RECORD_HEADER_SIZE + sizeof(struct vcpu_record)) +
	       pages * PAGE_RECORD_SIZE + batches * (STREAM_RECORD_HEADER_SIZE + STREAM_ALIGN) +
	       STREAM_RECORD_HEADER_SIZE;
}

const char *vm_save_refusal(const struct vm *vm)
{
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
		return "is not running";
	if (vm->spread)
		return "runs on several CPUs: save needs all its vCPUs on one";
	if (vm->debugger)
		return "has a debugger attached";
	if (vm->cfg.nested)
		return "has nested VMX, whose virtual VMCSs the stream does not carry yet";
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!vcpu_state_readable_here(&vm->vcpus[i]))
			return "has a vCPU on another CPU";
	return NULL;
}

static void save_config(struct stream_writer *sw, const struct vm *vm)
{
	struct state_writer w;

	vm_rec = (struct vm_record){
		.cfg = vm->cfg,
		.clock_ns = sw->now_ns,
		.start_epoch_ns = vm->start_epoch_ns,
		.wall_clock_msr = vm->wall_clock_msr,
		.wall_clock_version = vm->wall_clock_version,
		.pv_unhalt_known = vm->pv_unhalt_known,
		.lapic_moved_base = vm->lapic_moved_base,
	};
	stream_record_begin(sw, &w);
	vm_record_save(&vm_rec, &w);
	stream_record_end(sw, STREAM_VM_CONFIG, 0, &w);
}

static int save_vcpus(struct stream_writer *sw, struct vm *vm)
{
	struct state_writer w;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vcpu_capture(&vm->vcpus[i], &vcpu_rec))
			return -1;
		stream_record_begin(sw, &w);
		vcpu_record_save(&vcpu_rec, &w);
		stream_record_end(sw, STREAM_VCPU, i, &w);
	}
	return 0;
}

/* Every device model's record, in the order of their type numbers. */
static void save_devices(struct stream_writer *sw, const struct vm *vm)
{
	struct state_writer w;

	stream_record_begin(sw, &w);
	uart_save(&vm->uart, &w);
	stream_record_end(sw, STREAM_DEV_UART, 0, &w);
	stream_record_begin(sw, &w);
	pic_save(&vm->pic, &w);
	stream_record_end(sw, STREAM_DEV_PIC, 0, &w);
	stream_record_begin(sw, &w);
	pit_save(&vm->pit, &w);
	stream_record_end(sw, STREAM_DEV_PIT, 0, &w);
	stream_record_begin(sw, &w);
	rtc_save(&vm->rtc, &w);
	stream_record_end(sw, STREAM_DEV_RTC, 0, &w);
	stream_record_begin(sw, &w);
	acpi_pm_save(&vm->acpi_pm, &w);
	stream_record_end(sw, STREAM_DEV_ACPI_PM, 0, &w);
	stream_record_begin(sw, &w);
	hpet_save(&vm->hpet, &w);
	stream_record_end(sw, STREAM_DEV_HPET, 0, &w);
	stream_record_begin(sw, &w);
	vioapic_save(&vm->ioapic, &w);
	stream_record_end(sw, STREAM_DEV_VIOAPIC, 0, &w);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		stream_record_begin(sw, &w);
		vlapic_save(&vm->vcpus[i].lapic, &w);
		stream_record_end(sw, STREAM_DEV_VLAPIC, i, &w);
	}
	stream_record_begin(sw, &w);
	pci_host_save(&vm->pci, &w);
	stream_record_end(sw, STREAM_DEV_PCI_HOST, 0, &w);
	stream_record_begin(sw, &w);
	sysctl_save(&vm->sysctl, &w);
	stream_record_end(sw, STREAM_DEV_SYSCTL, 0, &w);
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		stream_record_begin(sw, &w);
		virtio_blk_save(vm->disks[i], &w);
		stream_record_end(sw, STREAM_DEV_VIRTIO_BLK, i, &w);
	}
	if (vm->vcon) {
		stream_record_begin(sw, &w);
		virtio_console_save(vm->vcon, &w);
		stream_record_end(sw, STREAM_DEV_VIRTIO_CONSOLE, 0, &w);
	}
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		stream_record_begin(sw, &w);
		virtio_net_save(&vm->nics[i]->net, &w);
		stream_record_end(sw, STREAM_DEV_VIRTIO_NET, i, &w);
	}
}

/* The non-zero pages of base[0 .. pages) as records of type; returns how
 * many. */
static uint64_t save_nonzero(struct stream_writer *sw, const uint8_t *base, uint64_t pages,
			     uint32_t type, uint32_t instance)
{
	struct page_cursor c;
	struct state_writer w;
	uint64_t sent = 0;
	unsigned n;

	page_cursor_init(&c, base, pages, (struct page_filter){ page_nonzero, NULL });
	while (!sw->error && (n = page_cursor_next(&c, batch, PAGE_DATA_BATCH))) {
		stream_record_begin(sw, &w);
		page_data_save(&w, base, batch, n);
		stream_record_end(sw, type, instance, &w);
		sent += n;
	}
	return sent;
}

/* The pages a save sends: all but the zero ones; returns how many of the
 * RAM's. A
 * writable image disk is the VM's own copy, which lives and dies with it
 * like its RAM: its non-zero pages travel too (disk-data records), so the
 * restored VM's disk is as the guest left it at the save. */
static uint64_t save_pages(struct stream_writer *sw, const struct vm *vm)
{
	uint64_t sent =
		save_nonzero(sw, vm->ram.host, vm->ram.size / PAGE_DATA_PAGE, STREAM_PAGE_DATA, 0);

	for (unsigned i = 0; i < vm->cfg.ndisks; i++)
		if (disk_pages(vm, i))
			save_nonzero(sw, vm->disk_images[i].store.image, disk_pages(vm, i),
				     STREAM_DISK_DATA, i);
	return sent;
}

/* The records' own results are not looked at: the writer's first error
 * sticks, and stream_writer_finish returns it. */
long vm_save(struct vm *vm, uint64_t clock_ns, void *buf, size_t cap, uint64_t *pages, char *why,
	     size_t whylen)
{
	struct stream_writer sw;
	const char *no = vm_save_refusal(vm);
	long len = -1;

	if (no) {
		snprintf(why, whylen, "vm %s: cannot be saved: it %s", vm->name, no);
		return -1;
	}
	spin_lock(&save_lock);
	stream_writer_init(&sw, buf, cap, clock_ns);
	save_config(&sw, vm);
	if (save_vcpus(&sw, vm)) {
		snprintf(why, whylen, "vm %s: cannot be saved: a vCPU's VMCS cannot be read",
			 vm->name);
		goto out;
	}
	save_devices(&sw, vm);
	*pages = save_pages(&sw, vm);
	len = stream_writer_finish(&sw);
	if (len < 0)
		snprintf(why, whylen, "vm %s: cannot be saved: %s", vm->name,
			 stream_status_name((int)len));
out:
	spin_unlock(&save_lock);
	return len;
}

void vm_save_config(struct stream_writer *sw, const struct vm *vm)
{
	spin_lock(&save_lock);
	save_config(sw, vm);
	spin_unlock(&save_lock);
}

int vm_save_state(struct stream_writer *sw, struct vm *vm)
{
	int err;

	spin_lock(&save_lock);
	save_config(sw, vm);
	err = save_vcpus(sw, vm);
	if (!err)
		save_devices(sw, vm);
	spin_unlock(&save_lock);
	return err;
}
