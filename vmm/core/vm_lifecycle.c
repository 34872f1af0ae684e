/* VM lifecycle: create from a config, load the image, destroy, and apply
 * the on_poweroff / on_crash policy (Xen's destroy | restart | preserve)
 * once every CPU has let go of a stopped VM. */
#include "vmm/core/vm_lifecycle.h"

#include <string.h>

#include "arch/x86/fault_inject.h"
#include "arch/x86/fpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "drivers/console.h"
#include "drivers/storage/partition.h"
#include "vmm/core/console_hooks.h"
#include "vmm/core/end_checks.h"
#include "vmm/core/runqueue.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/cpu/msr_policy.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/cpu/vmcs_shadow.h"
#include "vmm/dev/hpet.h"
#include "vmm/load/acpi_build.h"
#include "vmm/load/bzimage.h"
#include "vmm/nested/nested_caps.h"
#include "vmm/vm/platform.h"
#include "vmm/vmx/trap_policy.h"
#include "vmm/vmx/vmx.h"

#define MIB (1ull << 20)
#define LARGE_PAGE (2 * MIB)
#define CLEAR_PIECE (32 * 1024)

static const struct boot_file *find_file(const struct boot_info *bi, const char *name)
{
	for (unsigned i = 0; i < bi->nfiles; i++)
		if (!strcmp(bi->files[i].name, name))
			return &bi->files[i];
	return NULL;
}

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Clears a VM's RAM a piece at a time. When the VM goes away (poll set),
 * the console is read between the pieces: clearing 100 MiB takes seconds
 * in an emulator, and keys typed meanwhile for another VM would overflow
 * the host UART's 16-byte FIFO, which is only read by polling (a piece
 * takes well under 16 characters' time at 115200 baud). */
static void clear_ram(struct vm *vm, bool poll)
{
	const struct core_console *console = core_console();

	for (uint64_t off = 0; off < vm->ram.size; off += CLEAR_PIECE) {
		uint64_t n = vm->ram.size - off < CLEAR_PIECE ? vm->ram.size - off : CLEAR_PIECE;
		memset(vm->ram.host + off, 0, n);
		if (poll && console)
			console->poll();
	}
}

static void free_ram(struct vm *vm)
{
	if (!vm->ram.host)
		return;
	/* Zeroed on the way out too: nothing of this VM outlives it. */
	clear_ram(vm, true);
	page_free(vm->ram.host, pages_for(vm->ram.size));
	vm->ram.host = NULL;
}

static void free_disks(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		struct vm_disk_image *d = &vm->disk_images[i];
		if (d->owned) {
			/* What the guest wrote does not outlive it. */
			memset(d->store.image, 0, d->store.size);
			page_free(d->store.image, pages_for(d->store.size));
		}
		if (d->store.part) {
			partition_close(d->store.part, vm->cfg.disks[i].writable);
			page_free(d->store.bounce, pages_for(VIRTIO_BLK_BOUNCE_BYTES));
		}
		*d = (struct vm_disk_image){ 0 };
	}
}

static void vm_free_resources(struct vm *vm)
{
	free_ram(vm);
	free_disks(vm);
	platform_release(vm);
	ept_destroy(&vm->ept);
	page_free(vm->io_bitmaps, 2);
	vm->io_bitmaps = NULL;
	page_free(vm->msr_bitmap, 1);
	vm->msr_bitmap = NULL;
	if (vm->apic_access_page)
		page_free(vm->apic_access_page, 1);
	vm->apic_access_page = NULL;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct cpu *c = this_cpu();
		if (v->vmcs)
			vmcs_clear(v->vmcs);
		if (c->loaded_vcpu == v)
			c->loaded_vcpu = NULL;
		if (c->fpu_owner == v)
			c->fpu_owner = NULL;
		page_free((void *)v->vmcs, 1);
		page_free(v->fpu_area, pages_for(FPU_AREA_SIZE));
		page_free(v->vapic_page, 1);
		page_free(v->msr_bitmap, 1);
		page_free(v->nested.slots, pages_for(NESTED_SLOTS_BYTES));
		v->nested.slots = NULL;
		if (v->nested.vmcs02)
			vmcs_clear(v->nested.vmcs02);
		page_free((void *)v->nested.vmcs02, 1);
		v->nested.vmcs02 = 0;
		shadow_ept_free(&v->nested.shadow);
		page_free(v->nested.msr_bitmap02, 1);
		vmcs_shadow_free(v);
		v->nested.msr_bitmap02 = NULL;
		v->vmcs = 0;
		v->fpu_area = NULL;
		v->vapic_page = NULL;
		v->msr_bitmap = NULL;
	}
}

/* A "part:NAME" disk: the partition, held for the VM (one writer or many
 * readers), and a bounce buffer for its driver calls. */
static int attach_partition(struct vm *vm, const struct vm_disk_config *c, struct vm_disk_image *d)
{
	struct partition *p = partition_find(c->target);
	char why[120];

	if (!p) {
		kprintf("pgvisor: vm %s: disk %s: no partition named '%s' on the machine's "
			"disks\n",
			vm->name, c->vdev, c->target);
		return -1;
	}
	if (partition_open(p, vm->name, c->writable, why, sizeof(why))) {
		kprintf("pgvisor: vm %s: disk %s: %s\n", vm->name, c->vdev, why);
		return -1;
	}
	d->store.bounce = page_alloc(pages_for(VIRTIO_BLK_BOUNCE_BYTES));
	if (!d->store.bounce) {
		partition_close(p, c->writable);
		kprintf("pgvisor: vm %s: disk %s: out of memory\n", vm->name, c->vdev);
		return -1;
	}
	d->store.part = p;
	d->store.size = p->sectors * VIRTIO_BLK_SECTOR;
	return 0;
}

/* An image disk's image is a boot file: a read-only disk reads it in
 * place, a writable one gets its own copy, which its writes change. */
static int attach_image(struct vm *vm, const struct vm_disk_config *c, struct vm_disk_image *d,
			const struct boot_info *bi)
{
	const struct boot_file *f = find_file(bi, c->target);

	if (!f) {
		kprintf("pgvisor: vm %s: disk %s: file '%s' was not loaded by the boot loader\n",
			vm->name, c->vdev, c->target);
		return -1;
	}
	if (f->size < VIRTIO_BLK_SECTOR) {
		kprintf("pgvisor: vm %s: disk %s: '%s' holds %zu bytes, less than one sector\n",
			vm->name, c->vdev, c->target, (size_t)f->size);
		return -1;
	}
	if (!c->writable) {
		d->store.image = (uint8_t *)f->data;
		d->store.size = f->size;
		return 0;
	}
	d->store.image = page_alloc(pages_for(f->size));
	if (!d->store.image) {
		kprintf("pgvisor: vm %s: disk %s: no memory for a %zu KiB copy of '%s'\n", vm->name,
			c->vdev, (size_t)(f->size >> 10), c->target);
		return -1;
	}
	memcpy(d->store.image, f->data, f->size);
	d->store.size = f->size;
	d->owned = true;
	return 0;
}

static int attach_disks(struct vm *vm, const struct boot_info *bi)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		const struct vm_disk_config *c = &vm->cfg.disks[i];
		struct vm_disk_image *d = &vm->disk_images[i];
		if (c->partition ? attach_partition(vm, c, d) : attach_image(vm, c, d, bi))
			return -1;
	}
	return 0;
}

static int attach_files(struct vm *vm, const struct boot_info *bi)
{
	const struct boot_file *k = find_file(bi, vm->cfg.kernel);

	if (!k) {
		kprintf("pgvisor: vm %s: kernel file '%s' was not loaded by the boot loader\n",
			vm->name, vm->cfg.kernel);
		return -1;
	}
	vm->kernel = (struct image_file){ k->name, k->data, k->size };
	vm->nmodules = 0;
	for (unsigned i = 0; i < vm->cfg.nmodules; i++) {
		const struct boot_file *m = find_file(bi, vm->cfg.modules[i]);
		if (!m) {
			kprintf("pgvisor: vm %s: module file '%s' was not loaded by the boot "
				"loader\n",
				vm->name, vm->cfg.modules[i]);
			return -1;
		}
		vm->modules[vm->nmodules++] = (struct image_file){ m->name, m->data, m->size };
	}
	if (vm->cfg.ramdisk[0]) {
		const struct boot_file *r = find_file(bi, vm->cfg.ramdisk);
		if (!r) {
			kprintf("pgvisor: vm %s: ramdisk file '%s' was not loaded by the boot "
				"loader\n",
				vm->name, vm->cfg.ramdisk);
			return -1;
		}
		vm->ramdisk = (struct image_file){ r->name, r->data, r->size };
	}
	return attach_disks(vm, bi);
}

static int alloc_memory(struct vm *vm)
{
	uint64_t size = (uint64_t)vm->cfg.memory_mib * MIB;

	vm->ram.size = size;
	/* Not zeroed here: vm_load clears it before anything goes in, and
	 * vm_discard (free_ram) on every way out before that. */
	vm->ram.host = page_alloc_aligned_unzeroed(pages_for(size),
						   size >= LARGE_PAGE ? LARGE_PAGE : PAGE_SIZE);
	if (!vm->ram.host) {
		kprintf("pgvisor: vm %s: not enough memory: asked for %u MiB, %llu MiB free\n",
			vm->name, vm->cfg.memory_mib,
			(unsigned long long)(page_alloc_free_bytes() / MIB));
		return -1;
	}
	vm->io_bitmaps = page_alloc(2);
	vm->msr_bitmap = page_alloc(1);
	if (!vm->io_bitmaps || !vm->msr_bitmap ||
	    ept_init(&vm->ept, vmx_controls.ept_2mb, vmx_controls.ept_1gb) ||
	    ept_map_range(&vm->ept, 0, (uint64_t)vm->ram.host, size, EPT_RWX)) {
		kprintf("pgvisor: vm %s: out of memory for its page tables and bitmaps\n",
			vm->name);
		return -1;
	}
	/* The APIC-access page: its contents are never read (the CPU takes
	 * the registers from each vCPU's virtual-APIC page), only its
	 * address matters. Mapped until a vCPU leaves the default xAPIC
	 * page (apicv.c). */
	if (vmx_controls.apic_access) {
		vm->apic_access_page = page_alloc(1);
		if (!vm->apic_access_page ||
		    ept_map_range(&vm->ept, VLAPIC_MMIO_BASE, (uint64_t)vm->apic_access_page,
				  PAGE_SIZE, EPT_READ | EPT_WRITE)) {
			kprintf("pgvisor: vm %s: out of memory for its APIC-access page\n",
				vm->name);
			return -1;
		}
		vm->apic_access_mapped = true;
	}
	/* Every port exits: the VM's port bus decides what exists. */
	memset(vm->io_bitmaps, 0xff, 2 * PAGE_SIZE);
	msr_bitmap_init(vm->msr_bitmap);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].fpu_area = page_alloc(pages_for(FPU_AREA_SIZE));
		vm->vcpus[i].vapic_page = page_alloc(1);
		vm->vcpus[i].msr_bitmap = page_alloc(1);
		/* Only a VM with nested VMX keeps virtual VMCSs. */
		if (vm->cfg.nested) {
			vm->vcpus[i].nested.slots = page_alloc(pages_for(NESTED_SLOTS_BYTES));
			uint32_t *vmcs02 = page_alloc(1);
			if (vmcs02)
				vmcs02[0] = vmx_revision_id();
			vm->vcpus[i].nested.vmcs02 = (uint64_t)vmcs02;
		}
		if (!vm->vcpus[i].fpu_area || !vm->vcpus[i].vapic_page ||
		    !vm->vcpus[i].msr_bitmap ||
		    (vm->cfg.nested && (!vm->vcpus[i].nested.slots || !vm->vcpus[i].nested.vmcs02 ||
					vmcs_shadow_alloc(&vm->vcpus[i])))) {
			kprintf("pgvisor: vm %s: out of memory for vCPU state\n", vm->name);
			return -1;
		}
	}
	return 0;
}

/* A Multiboot kernel: 32-bit entry with EAX/EBX as GRUB sets them. */
static int load_multiboot(struct vm *vm, struct vcpu_boot_state *boot, char *err, size_t errlen)
{
	struct image_entry entry;

	if (image_load(&vm->kernel, vm->cfg.cmdline, vm->modules, vm->nmodules, &vm->ram, &entry,
		       err, errlen))
		return -1;
	*boot = (struct vcpu_boot_state){ .rip = entry.eip, .rax = entry.eax, .rbx = entry.ebx };
	return 0;
}

/* A Linux bzImage: ACPI tables at the top of RAM (and the RSDP in the BIOS
 * area, where Linux also looks), then the kernel, initrd and zero page,
 * entered through the 64-bit boot protocol. */
static int load_linux(struct vm *vm, struct vcpu_boot_state *boot, char *err, size_t errlen)
{
	struct bzimage_layout layout;
	struct bzimage_entry entry;
	struct acpi_config acpi = {
		.ncpus = vm->nvcpus,
		.pm_base = ACPI_PM_BASE_DEFAULT,
		.sci_irq = ACPI_PM_SCI_IRQ,
		.hpet_base = HPET_MMIO_BASE,
		.hpet_block_id = HPET_BLOCK_ID,
		.bios_rsdp_gpa = ACPI_BIOS_RSDP_START,
		.bios_rsdp = vm->ram.host + ACPI_BIOS_RSDP_START,
	};
	size_t acpi_size = (acpi_build_size(&acpi) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t rsdp;

	bzimage_default_layout(&layout);
	layout.acpi_size = acpi_size;
	layout.acpi_base = vm->ram.size - acpi_size;
	if (!acpi_size || acpi_build(vm->ram.host + layout.acpi_base, layout.acpi_base, acpi_size,
				     &acpi, &rsdp, err, errlen))
		return -1;
	layout.rsdp = rsdp;
	const struct image_file *initrd = vm->ramdisk.data ? &vm->ramdisk : NULL;
	if (bzimage_load(&vm->kernel, initrd, vm->cfg.cmdline, &vm->ram, &layout, &entry, err,
			 errlen))
		return -1;
	*boot = (struct vcpu_boot_state){
		.long_mode = true,
		.rip = entry.rip,
		.rsi = entry.rsi,
		.cr3 = entry.cr3,
		.gdt_base = entry.gdt_base,
		.gdt_limit = entry.gdt_limit,
		.cs_sel = entry.cs_sel,
		.ds_sel = entry.ds_sel,
	};
	return 0;
}

int vm_load(struct vm *vm)
{
	char err[160];
	struct vcpu_boot_state boot;
	bool linux = bzimage_probe(vm->kernel.data, vm->kernel.size);

	clear_ram(vm, false);
	if ((linux ? load_linux : load_multiboot)(vm, &boot, err, sizeof(err))) {
		kprintf("pgvisor: vm %s: cannot load '%s': %s\n", vm->name, vm->kernel.name, err);
		return -1;
	}
	if (platform_reset(vm))
		return -1;
	vm->unbacked_count = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		fpu_area_init(v->fpu_area);
		memset(v->lazy_msrs, 0, sizeof(v->lazy_msrs));
		v->misc_enable = msr_misc_enable_default();
		v->tsc_adjust = 0;
		kvm_pv_reset(v);
		nested_vcpu_reset(&v->nested);
		vcpu_end_halt(v);
		/* APs wait for the boot vCPU's INIT-SIPI (SDM Vol. 3 9.4.4). */
		vcpu_start_reset(&v->start, i == 0);
		v->window_exiting = false;
		v->watchdog_fired = false;
		profile_reset(&v->prof);
		v->prof_reason = PROFILE_NO_REASON;
		if (vmcs_setup(v, &boot, err, sizeof(err))) {
			kprintf("pgvisor: vm %s: %s\n", vm->name, err);
			return -1;
		}
		/* Set up here, run on its run queue's CPU: inactive until that
		 * CPU loads it (a VMCS is active on one CPU at a time, SDM
		 * 25.11.1). A restart reuses the VM's EPT and VPID: what the
		 * last run left in that CPU's TLBs (guest-physical and combined
		 * mappings, SDM 29.4) goes before the vCPU runs again. */
		vmcs_release(v);
		v->flush_tlb = true;
		v->released = false;
	}
	vm->vcpus_held = vm->nvcpus;
	vm->state = VM_RUNNING;
	vm->end = VM_END_NONE;
	vm->reason[0] = '\0';
	end_checks_vm_loaded(vm);
	return 0;
}

size_t vm_overhead_bytes(const struct vm *vm)
{
	/* Everything allocated for the VM besides its RAM and disk copies:
	 * the VM structure, EPT paging structures, I/O and MSR bitmaps, per
	 * vCPU a VMCS, an FPU state area, a virtual-APIC page and its own MSR
	 * bitmap (and with nested VMX its virtual VMCSs, VMCS02 and a shadow
	 * VMCS), and its virtio devices. */
	size_t pages = pages_for(sizeof(*vm)) + vm->ept.table_pages + 2 + 1;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		pages += 3 + pages_for(FPU_AREA_SIZE) +
			 (vm->cfg.nested ? pages_for(NESTED_SLOTS_BYTES) + 1 : 0) +
			 (vm->vcpus[i].nested.shadow_vmcs ? 1 : 0);
	return pages * PAGE_SIZE + platform_device_bytes(vm);
}

size_t vm_kept_bytes(const struct vm *vm)
{
	return pages_for(sizeof(*vm)) * PAGE_SIZE + platform_device_state_bytes(vm);
}

struct vm *vm_build(const struct vm_config *cfg, const struct boot_info *bi, bool nics_later)
{
	if (!vm_name_free(cfg->name)) {
		kprintf("pgvisor: vm %s: a VM with this name is running or kept for inspection; "
			"not started\n",
			cfg->name);
		return NULL;
	}
	if (vm_count() == MAX_VMS) {
		kprintf("pgvisor: vm %s: too many VMs (at most %d); not started\n", cfg->name,
			MAX_VMS);
		return NULL;
	}
	if (cfg->memory_mib > VM_MAX_RAM_MIB) {
		kprintf("pgvisor: vm %s: memory = %u: at most %u MiB, below the APIC MMIO window "
			"at "
			"0xFEC00000; not started\n",
			cfg->name, cfg->memory_mib, VM_MAX_RAM_MIB);
		return NULL;
	}

	struct trap_controls trap_ctl;
	char why[TRAP_MSG_MAX];
	if (trap_compute_controls(cfg->traps, &vmx_caps, &trap_ctl, why, sizeof(why)) < 0) {
		kprintf("pgvisor: vm %s: %s; not started\n", cfg->name, why);
		return NULL;
	}

	/* Test build: fault=alloc:N fails the Nth page allocation from
	 * here; every failure path below must free what was allocated. */
	fault_alloc_begin(cfg->name);
	struct vm *vm = page_alloc(pages_for(sizeof(*vm)));
	if (!vm) {
		fault_alloc_end();
		kprintf("pgvisor: vm %s: out of memory; not started\n", cfg->name);
		return NULL;
	}
	vm->id = vm_count();
	vm->cfg = *cfg;
	vm->name = vm->cfg.name;
	vm->trap_ctl = trap_ctl;
	if (cfg->nested)
		nested_caps_compute(&vmx_caps, cfg->nested_profile, &vm->nested_caps);
	vm->nvcpus = cfg->vcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
	}
	uart_init(&vm->uart, vm->name, core_console()->poll);
	vm->nics_later = nics_later;
	if (attach_files(vm, bi) || alloc_memory(vm) || platform_attach(vm) || vm_load(vm)) {
		vm_discard(vm);
		fault_alloc_end();
		kprintf("pgvisor: vm %s: not started\n", cfg->name);
		return NULL;
	}
	fault_alloc_end();
	return vm;
}

void vm_discard(struct vm *vm)
{
	vm_free_resources(vm);
	platform_free_device_state(vm);
	page_free(vm, pages_for(sizeof(*vm)));
}

void vm_start_quiet(struct vm *vm, uint32_t usable)
{
	/* Each vCPU goes to the least loaded CPU of the VM's set: a VM with
	 * more vCPUs than one CPU spreads over several and is then shared
	 * between them (vm->spread). */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->spread |= runqueue_place(&vm->vcpus[i], usable) != vm->vcpus[0].cpu;
	vm_add(vm);
}

void vm_start_report(struct vm *vm)
{
	char why[TRAP_MSG_MAX];
	char where[VM_CPU_LIST_MAX];

	vm_cpu_list(vm, where, sizeof(where));
	kprintf("pgvisor: vm %s: %u MiB at host %#llx, kernel %s (%zu bytes), "
		"hypervisor overhead %zu KiB, on %s\n",
		vm->name, vm->cfg.memory_mib, (unsigned long long)(uint64_t)vm->ram.host,
		vm->kernel.name, vm->kernel.size, vm_overhead_bytes(vm) >> 10, where);
	trap_format(vm->cfg.traps, why, sizeof(why));
	kprintf("pgvisor: vm %s: traps %s\n", vm->name, why);
	vmx_apic_format(&vmx_controls, why, sizeof(why));
	kprintf("pgvisor: vm %s: APIC virtualization: %s\n", vm->name, why);
	vm_announce(vm, VM_EVENT_STARTED);
}

void vm_start(struct vm *vm, uint32_t usable)
{
	vm_start_quiet(vm, usable);
	vm_start_report(vm);
}

struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, uint32_t usable)
{
	struct vm *vm = vm_build(cfg, bi, false);

	if (vm)
		vm_start(vm, usable);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	bool locked = vm_lock(vm);
	bool was_stopped = vm->state == VM_SHUTDOWN || vm->state == VM_CRASHED;

	vm->destroy_requested = true;
	vm->preserved = false;
	if (!was_stopped)
		vm_stop(vm, VM_END_DESTROYED, "destroyed by the operator");
	else
		kprintf("pgvisor: vm %s: destroyed by the operator\n", vm->name);
	/* Stopped and let go of everywhere (a preserved VM): free it now.
	 * Otherwise the last CPU to let go of it does (vcpu_stopped). */
	if (!vm->vcpus_held)
		vm_free_resources(vm);
	vm_unlock(vm, locked);
}

void vcpu_stopped(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (v->released)
		return;
	vmcs_release(v);
	if (c->fpu_owner == v) {
		v->regs.cr2 = read_cr2();
		c->fpu_owner = NULL;
	}
	v->released = true;
	if (--v->vm->vcpus_held)
		return;
	vm_apply_policy(v->vm);
	if (v->vm->state == VM_RUNNING)
		vm_kick_cpus(v->vm); /* restarted: the other CPUs run it again */
}

void vm_apply_policy(struct vm *vm)
{
	enum vm_action a = vm->state == VM_CRASHED ? vm->cfg.on_crash : vm->cfg.on_poweroff;

	end_checks_vm_ended(vm);

	/* A reset is a reboot: the machine starts again, as hardware would. */
	if (vm->end == VM_END_REBOOT)
		a = VM_ACTION_RESTART;
	if (vm->destroy_requested)
		a = VM_ACTION_DESTROY;

	if (a == VM_ACTION_RESTART) {
		if (vm->restarts < VM_MAX_RESTARTS) {
			vm->restarts++;
			kprintf("pgvisor: vm %s: restarting (%u of %u)\n", vm->name, vm->restarts,
				VM_MAX_RESTARTS);
			if (!vm_load(vm)) {
				vm_announce(vm, VM_EVENT_STARTED);
				return;
			}
		} else {
			kprintf("pgvisor: vm %s: restarted %u times already; destroying it\n",
				vm->name, vm->restarts);
		}
		a = VM_ACTION_DESTROY;
	}
	if (a == VM_ACTION_PRESERVE) {
		vm->preserved = true;
		kprintf("pgvisor: vm %s: preserved for inspection (%u MiB kept)\n", vm->name,
			vm->cfg.memory_mib);
		return;
	}
	vm_free_resources(vm);
}
