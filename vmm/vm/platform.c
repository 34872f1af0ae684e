#include "vmm/vm/platform.h"

#include <string.h>

#include "arch/x86/cmos_clock.h"
#include "arch/x86/cpu.h"
#include "arch/x86/muldiv.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/vm/vm.h"

#define NSEC_PER_SEC 1000000000ull
#define ISA_IRQS 16
#define PIT_IRQ 0
#define PIT_IOAPIC_PIN 2 /* the MADT's interrupt source override */
#define UART_IRQ 4
#define BROADCAST_PHYSICAL 0xff
/* The PIT, RTC and HPET are looked at no more than every 100 us (10 kHz):
 * a guest can program them far faster, which no PC guest needs. */
#define LEGACY_TIMER_MIN_NS 100000ull
/* The I/O APIC inputs an HPET timer may be routed to (Tn_INT_ROUTE_CAP):
 * the ISA lines nothing else of the VM drives, 3, 5-7 and 10-15. PCI
 * INTx owns 16-23, and the I/O APIC holds one level per input. */
#define HPET_ROUTE_CAP 0xfce8u
#define SHORTHAND_NONE 0
#define SHORTHAND_SELF 1
#define SHORTHAND_ALL 2
#define SHORTHAND_OTHERS 3
/* MSI address and data fields (SDM Vol. 3 10.11.1, 10.11.2). */
#define MSI_ADDR_WINDOW 0xfee00000ull
#define MSI_ADDR_WINDOW_MASK 0xfffffffffff00000ull /* above 4 GiB: not the window */
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_LOGICAL 0x4
#define MSI_DATA_VECTOR 0xff
#define MSI_DATA_MODE_SHIFT 8
#define MSI_DATA_MODE_MASK 0x7
#define MSI_DATA_LEVEL 0x8000

/* The bridges between VMs: one switch for the whole machine, allocated
 * when the first VM with a vif is created or the first uplink attached
 * (most machines have neither). */
static struct net_switch *lan;
#define LAN_PAGES ((sizeof(struct net_switch) + PAGE_SIZE - 1) / PAGE_SIZE)

#define NIC_RING_PAGES                                                                             \
	((NET_PORT_RING_SLOTS * sizeof(struct net_frame) + PAGE_SIZE - 1) / PAGE_SIZE)

/* The host's time of day, read once, and the TSC when it was read. */
static uint64_t host_epoch, host_epoch_tsc;

/* v has something new to take (an interrupt, INIT or SIPI): when it runs
 * on another CPU of a spread VM, that CPU is made to look (it leaves the
 * guest, or its idle wait, and sees it before the next entry). */
static void notify(struct vcpu *v)
{
	if (v->vm->spread && v->cpu != this_cpu()->index)
		smp_kick(v->cpu);
}

void platform_wake_vcpu(struct vcpu *v)
{
	notify(v);
}

void platform_set_irq(struct vm *vm, unsigned irq, bool level)
{
	if (irq < ISA_IRQS) {
		pic_set_irq(&vm->pic, irq, level);
		if (level)
			notify(&vm->vcpus[0]); /* the PIC reaches vCPU 0's LINT0 */
	}
	vioapic_set_irq(&vm->ioapic, irq == PIT_IRQ ? PIT_IOAPIC_PIN : irq, level);
}

static void isa_irq_set(void *ctx, unsigned line, bool level)
{
	platform_set_irq(ctx, line, level);
}

/* The PIC delivers line to vCPU 0: unmasked, and LINT0 in ExtINT mode. */
static bool pic_reaches_cpu(struct vm *vm, unsigned line)
{
	return line < ISA_IRQS && vlapic_accepts_pic(&vm->vcpus[0].lapic) &&
	       !pic_line_masked(&vm->pic, line);
}

static unsigned ioapic_pin_of(unsigned line)
{
	return line == PIT_IRQ ? PIT_IOAPIC_PIN : line;
}

/* The line's last edge waits to be taken: in the PIC's IRR while the PIC
 * reaches vCPU 0, or, through its I/O APIC pin, in a local APIC's IRR.
 * Timers with owed ticks hold the next until then. */
static bool isa_irq_waiting(void *ctx, unsigned line)
{
	struct vm *vm = ctx;

	if (pic_reaches_cpu(vm, line) && pic_line_waiting(&vm->pic, line))
		return true;
	int vector = vioapic_pin_vector(&vm->ioapic, ioapic_pin_of(line));
	if (vector < 0)
		return false;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vlapic_requested(&vm->vcpus[i].lapic, (uint8_t)vector))
			return true;
	return false;
}

static bool isa_irq_masked(void *ctx, unsigned line)
{
	struct vm *vm = ctx;

	return !pic_reaches_cpu(vm, line) &&
	       vioapic_pin_vector(&vm->ioapic, ioapic_pin_of(line)) < 0;
}

/* In legacy replacement the HPET's timers 0 and 1 drive IRQ 0 and IRQ 8
 * instead of the PIT and the RTC (IA-PC HPET specification 2.3.9.2.2):
 * their assertions go nowhere, their releases still pass. */
static void legacy_timer_irq_set(void *ctx, unsigned line, bool level)
{
	struct vm *vm = ctx;

	if (level && hpet_legacy_replacement(&vm->hpet))
		return;
	platform_set_irq(vm, line, level);
}

/* Ticks a replaced PIT or RTC would raise reach nobody: none are owed. */
static bool legacy_timer_irq_masked(void *ctx, unsigned line)
{
	struct vm *vm = ctx;

	return hpet_legacy_replacement(&vm->hpet) || isa_irq_masked(ctx, line);
}

static void hpet_ioapic_irq_set(void *ctx, unsigned pin, bool level)
{
	struct vm *vm = ctx;

	vioapic_set_irq(&vm->ioapic, pin, level);
}

/* Does the local APIC of v answer to destination dest (SDM 11.6.2)? */
static bool lapic_matches(const struct vlapic *a, uint32_t dest, bool logical)
{
	if (!logical)
		return dest == vlapic_id(a) ||
		       dest == (vlapic_x2apic(a) ? 0xffffffffu : BROADCAST_PHYSICAL);
	if (vlapic_x2apic(a)) {
		uint32_t id = vlapic_id(a);
		uint32_t ldr = (uint32_t)((1u << (id & 0xf)) | ((id >> 4) << 16));
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	return ((a->ldr >> 24) & dest) != 0; /* flat model */
}

static void deliver(struct vcpu *v, uint8_t mode, uint8_t vector, bool level)
{
	struct vlapic *a = &v->lapic;

	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		vlapic_accept(a, vector, level);
		break;
	case APIC_DM_NMI:
		vlapic_raise_nmi(a);
		break;
	default:
		return; /* SMI: no SMM; INIT and SIPI come only as IPIs */
	}
	notify(v);
}

/* INIT and STARTUP IPIs; the scheduler applies them before it next looks
 * at the vCPU (sched.c, start_ap). */
static void deliver_start(struct vcpu *v, const struct vlapic_ipi *ipi)
{
	if (ipi->mode == APIC_DM_INIT)
		vcpu_start_init(&v->start, v->id == 0, ipi->level_assert);
	else
		vcpu_start_sipi(&v->start, ipi->vector);
	notify(v);
}

static void ioapic_deliver(void *ctx, const struct vioapic_msg *msg)
{
	struct vm *vm = ctx;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!lapic_matches(&v->lapic, msg->dest, msg->logical))
			continue;
		deliver(v, msg->mode, msg->vector, msg->level);
		if (msg->mode == APIC_DM_LOWEST)
			return; /* one recipient: the first is as low as any */
	}
}

static void lapic_send_ipi(void *ctx, struct vlapic *from, const struct vlapic_ipi *ipi)
{
	struct vm *vm = ctx;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		bool self = &v->lapic == from;
		bool hit = ipi->shorthand == SHORTHAND_ALL ||
			   (ipi->shorthand == SHORTHAND_SELF && self) ||
			   (ipi->shorthand == SHORTHAND_OTHERS && !self) ||
			   (ipi->shorthand == SHORTHAND_NONE &&
			    lapic_matches(&v->lapic, ipi->dest, ipi->logical));
		if (hit && (ipi->mode == APIC_DM_INIT || ipi->mode == APIC_DM_STARTUP))
			deliver_start(v, ipi);
		else if (hit)
			deliver(v, ipi->mode, ipi->vector, false);
		/* A target sharing this CPU runs once the sender yields. */
		if (hit && !self && v->cpu == this_cpu()->index)
			vm_current_vcpu(vm)->yield = true;
	}
}

void platform_send_ipi(struct vm *vm, struct vcpu *from, const struct vlapic_ipi *ipi)
{
	lapic_send_ipi(vm, &from->lapic, ipi);
}

static void lapic_eoi_level(void *ctx, uint8_t vector)
{
	struct vm *vm = ctx;

	vioapic_eoi(&vm->ioapic, vector);
}

static uint64_t lapic_tsc_to_ns(void *ctx, uint64_t guest_tsc)
{
	struct vcpu *v = ctx;
	struct vtime *t = &v->vm->vtime;
	uint64_t host_tsc = guest_tsc - v->lapic.tsc_offset;
	/* Signed, as vtime_now_ns: the origin may lie before TSC 0. */
	int64_t since_origin = (int64_t)(host_tsc - vtime_origin_tsc(t));

	if (since_origin <= 0)
		return 0;
	return mul_div_u64((uint64_t)since_origin, 1000000000ull, t->tsc_hz);
}

/* Every vCPU sees its own local APIC at the same address: the MMIO
 * handler works on the vCPU whose access exited. */
static struct vlapic *current_lapic(void *ctx)
{
	struct vm *vm = ctx;
	struct vcpu *v = vm_current_vcpu(vm);

	return &v->lapic;
}

static uint64_t lapic_mmio_read(void *ctx, uint64_t addr, unsigned size)
{
	return vlapic_mmio_read(current_lapic(ctx), addr, size);
}

static void lapic_mmio_write(void *ctx, uint64_t addr, unsigned size, uint64_t value)
{
	struct vm *vm = ctx;

	vlapic_mmio_write(current_lapic(ctx), addr, size, value);
	vtime_reschedule(&vm->vtime); /* the timer may have been reprogrammed */
}

static uint64_t hpet_read(void *ctx, uint64_t addr, unsigned size)
{
	struct vm *vm = ctx;

	return hpet_mmio_read(&vm->hpet, addr, size);
}

static void hpet_write(void *ctx, uint64_t addr, unsigned size, uint64_t value)
{
	struct vm *vm = ctx;

	hpet_mmio_write(&vm->hpet, addr, size, value);
	vtime_reschedule(&vm->vtime); /* a comparator may have moved */
}

/* A vCPU moved its xAPIC page (SDM 11.4.5). The default page stays
 * decoded for the vCPUs that did not move theirs; the handlers read all
 * ones where an access does not hit the vCPU's own page. One moved page
 * per VM: guests move every APIC to the same place. A page inside RAM or
 * over another device stays undecoded, with a note on the console. */
static void lapic_base_moved(void *ctx, struct vlapic *a)
{
	struct vm *vm = ctx;
	uint64_t base = vlapic_mmio_base(a);
	int err;

	if (base == VLAPIC_MMIO_BASE || base == vm->lapic_moved_base)
		return;
	if (base < vm->ram.size)
		err = -1;
	else if (vm->lapic_moved_base)
		err = mmio_bus_move(&vm->mmio, vm->lapic_moved_base, base);
	else
		err = mmio_bus_register(&vm->mmio, base, VLAPIC_MMIO_SIZE, lapic_mmio_read,
					lapic_mmio_write, vm, "lapic (moved)");
	if (err) {
		kprintf("pgvisor: vm %s: local APIC page moved to %#llx, which is RAM or another "
			"device's: not decoded\n",
			vm->name, (unsigned long long)base);
		return;
	}
	vm->lapic_moved_base = base;
}

static void acpi_poweroff(void *ctx)
{
	vm_stop(ctx, VM_END_POWEROFF, "powered off (ACPI S5)");
}

static void debug_exit(void *ctx, uint32_t value)
{
	struct vm *vm = ctx;

	vm->exit_value = value;
	vm_stop(vm, VM_END_DEBUG_EXIT, "exited through port 0xf4: value %u (status %u)", value,
		(value << 1) | 1);
}

static void bochs_poweroff(void *ctx)
{
	vm_stop(ctx, VM_END_POWEROFF, "powered off (port 0x8900)");
}

static void guest_reset(void *ctx)
{
	vm_stop(ctx, VM_END_REBOOT, "reset by the guest (reset port)");
}

/* An MSI (or MSI-X) message (SDM Vol. 3 10.11): the address names the
 * destination, the data the vector and delivery mode. A message outside
 * the interrupt window is dropped, as the chipset would not route it. */
static void msi_send(void *ctx, uint64_t address, uint32_t data)
{
	struct vioapic_msg msg = {
		.vector = (uint8_t)(data & MSI_DATA_VECTOR),
		.mode = (uint8_t)(data >> MSI_DATA_MODE_SHIFT & MSI_DATA_MODE_MASK),
		.logical = address & MSI_ADDR_LOGICAL,
		.level = data & MSI_DATA_LEVEL,
		.dest = (uint8_t)(address >> MSI_ADDR_DEST_SHIFT),
	};

	if ((address & MSI_ADDR_WINDOW_MASK) != MSI_ADDR_WINDOW)
		return;
	ioapic_deliver(ctx, &msg);
}

/* The VM's PCI functions, placed on bus 0 as firmware would, afresh at
 * every reset. */
/* The switch queued frames for nic (on whichever CPU sent them): the
 * VM's own CPU takes them at its next look at its timers. */
static void nic_frames_waiting(void *ctx)
{
	struct vm_nic *nic = ctx;
	struct vm *vm = nic->vm;
	uint32_t kicked = 1u << this_cpu()->index;

	virtio_net_frames_waiting(&nic->net);
	vtime_poke(&vm->vtime);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		unsigned cpu = vm->vcpus[i].cpu;
		if (!(kicked & (1u << cpu)))
			smp_kick(cpu);
		kicked |= 1u << cpu;
	}
}

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* The state of each virtio device the config names. */
static int alloc_virtio(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++)
		if (!vm->disks[i] && !(vm->disks[i] = page_alloc(pages_for(sizeof(*vm->disks[i])))))
			return -1;
	for (unsigned i = 0; i < vm->cfg.nvifs; i++)
		if (!vm->nics[i] && !(vm->nics[i] = page_alloc(pages_for(sizeof(*vm->nics[i])))))
			return -1;
	if (vm->cfg.virtio_console && !vm->vcon &&
	    !(vm->vcon = page_alloc(pages_for(sizeof(*vm->vcon)))))
		return -1;
	return 0;
}

size_t platform_device_state_bytes(const struct vm *vm)
{
	size_t pages = 0;

	for (unsigned i = 0; i < vm->cfg.ndisks; i++)
		pages += vm->disks[i] ? pages_for(sizeof(*vm->disks[i])) : 0;
	for (unsigned i = 0; i < vm->cfg.nvifs; i++)
		pages += vm->nics[i] ? pages_for(sizeof(*vm->nics[i])) : 0;
	if (vm->vcon)
		pages += pages_for(sizeof(*vm->vcon));
	return pages * PAGE_SIZE;
}

void platform_free_device_state(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		page_free(vm->disks[i], pages_for(sizeof(*vm->disks[i])));
		vm->disks[i] = NULL;
	}
	for (unsigned i = 0; i < VM_MAX_VIFS; i++) {
		page_free(vm->nics[i], pages_for(sizeof(*vm->nics[i])));
		vm->nics[i] = NULL;
	}
	page_free(vm->vcon, pages_for(sizeof(*vm->vcon)));
	vm->vcon = NULL;
}

size_t platform_device_bytes(const struct vm *vm)
{
	size_t rings = 0;

	for (unsigned i = 0; i < vm->cfg.nvifs; i++)
		rings += vm->nics[i] ? NIC_RING_PAGES : 0;
	return platform_device_state_bytes(vm) + rings * PAGE_SIZE;
}

/* The switch has a frame for nic and nothing queued before it: where the
 * receiving VM's only CPU is this one (so it is not in its guest now, and
 * this CPU alone touches its devices), it goes straight into the guest's
 * buffers. */
static bool nic_deliver(void *ctx, const uint8_t *frame, size_t len)
{
	struct vm_nic *nic = ctx;
	struct vm *vm = nic->vm;

	if (vm->spread || vm->vcpus[0].cpu != this_cpu()->index || vm->state != VM_RUNNING)
		return false;
	return virtio_net_deliver(&nic->net, frame, len);
}

struct net_switch *platform_switch(void)
{
	static struct spinlock lock;

	spin_lock(&lock);
	if (!lan) {
		lan = page_alloc(LAN_PAGES);
		if (lan)
			net_switch_init(lan);
	}
	spin_unlock(&lock);
	return lan;
}

static int attach_nics(struct vm *vm)
{
	if (vm->cfg.nvifs && !platform_switch()) {
		kprintf("pgvisor: vm %s: out of memory for the network switch\n", vm->name);
		return -1;
	}
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		const struct vm_vif_config *c = &vm->cfg.vifs[i];
		struct vm_nic *nic = vm->nics[i];
		struct net_frame *ring = page_alloc(NIC_RING_PAGES);
		const char *why = "out of memory for its receive ring";
		nic->vm = vm;
		if (ring && vm->nics_later) {
			/* On no bridge until it takes the source's port over. */
			nic->port = (struct net_port){
				.bridge = -1, .notify = nic_frames_waiting, .ctx = nic, .ring = ring
			};
			memcpy(nic->port.mac, c->mac, sizeof(nic->port.mac));
		} else if (!ring || net_switch_attach(lan, &nic->port, c->bridge, c->mac, ring,
						      nic_frames_waiting, nic, &why)) {
			if (ring)
				page_free(ring, NIC_RING_PAGES);
			kprintf("pgvisor: vm %s: vif %u (bridge %s): %s\n", vm->name, i, c->bridge,
				why);
			return -1;
		}
		nic->port.deliver = nic_deliver;
	}
	return 0;
}

int platform_take_over_nics(struct vm *vm, struct vm *src)
{
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		struct vm_nic *nic = vm->nics[i];
		if (i >= src->cfg.nvifs ||
		    net_switch_take_over(lan, &src->nics[i]->port, &nic->port))
			return -1;
		if (net_port_peek(&nic->port))
			virtio_net_frames_waiting(&nic->net);
	}
	vm->nics_later = false;
	return 0;
}

void platform_release(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		struct vm_nic *nic = vm->nics[i];
		if (!nic || !nic->port.ring)
			continue;
		net_switch_detach(lan, &nic->port);
		page_free(nic->port.ring, NIC_RING_PAGES);
		nic->port.ring = NULL;
	}
}

static void intx_send(void *ctx, unsigned gsi, bool level)
{
	platform_set_irq(ctx, gsi, level);
}

/* Puts a freshly set-up function on the VM's bus, its MSIs routed to the
 * VM's local APICs and its INTx line to the I/O APIC. */
static int plug(struct vm *vm, struct pci_device *d)
{
	d->msi_send = msi_send;
	d->intx_send = intx_send;
	d->msi_ctx = vm;
	return pci_host_add_device(&vm->pci, d) < 0 ? -1 : 0;
}

static int pci_reset(struct vm *vm)
{
	pci_host_init(&vm->pci);
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		struct vm_nic *nic = vm->nics[i];
		if (virtio_net_init(&nic->net, vm->name, i, lan, &nic->port, &vm->vtime.clock,
				    vm->ram.host, vm->ram.size) ||
		    vtime_add_timer(&vm->vtime, virtio_net_timer(&nic->net)) ||
		    plug(vm, &nic->net.dev.pci))
			return -1;
		virtio_dev_log_writes(&nic->net.dev, &vm->dirty);
	}
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		const struct vm_disk_image *img = &vm->disk_images[i];
		if (virtio_blk_init(vm->disks[i], vm->name, vm->cfg.disks[i].vdev, &img->store,
				    vm->cfg.disks[i].writable, vm->ram.host, vm->ram.size) ||
		    plug(vm, &vm->disks[i]->dev.pci))
			return -1;
		virtio_dev_log_writes(&vm->disks[i]->dev, &vm->dirty);
	}
	if (vm->vcon && (virtio_console_init(vm->vcon, vm->name, vm->ram.host, vm->ram.size) ||
			 plug(vm, &vm->vcon->dev.pci)))
		return -1;
	if (vm->vcon)
		virtio_dev_log_writes(&vm->vcon->dev, &vm->dirty);
	return 0;
}

int platform_reset(struct vm *vm)
{
	struct vtime *t = &vm->vtime;

	if (!host_epoch_tsc) {
		host_epoch = cmos_clock_read_epoch();
		host_epoch_tsc = rdtsc();
	}
	vtime_init(t, rdtsc(), tsc_hz());
	vm->start_epoch_ns = host_epoch * NSEC_PER_SEC +
			     mul_div_u64(t->start_tsc - host_epoch_tsc, NSEC_PER_SEC, tsc_hz());
	vm->isa_irq = (struct virq){
		.set = isa_irq_set, .ctx = vm, .waiting = isa_irq_waiting, .masked = isa_irq_masked
	};
	vm->legacy_timer_irq = (struct virq){ .set = legacy_timer_irq_set,
					      .ctx = vm,
					      .waiting = isa_irq_waiting,
					      .masked = legacy_timer_irq_masked };
	vm->hpet_ioapic_irq = (struct virq){ .set = hpet_ioapic_irq_set, .ctx = vm };
	pic_init(&vm->pic);
	pit_init(&vm->pit, &t->clock, vm->legacy_timer_irq);
	pit_set_timer_mode(&vm->pit, vm->cfg.timer_mode);
	/* The guest's clock starts at the host's time of day now. */
	rtc_init(&vm->rtc, &t->clock, vm->legacy_timer_irq, vm->start_epoch_ns / NSEC_PER_SEC,
		 vm->ram.size);
	rtc_set_timer_mode(&vm->rtc, vm->cfg.timer_mode);
	hpet_init(&vm->hpet, &t->clock, vm->isa_irq, vm->hpet_ioapic_irq, HPET_ROUTE_CAP);
	struct acpi_pm_callbacks cb = { acpi_poweroff, NULL, vm };
	acpi_pm_init(&vm->acpi_pm, &t->clock, &vm->isa_irq, ACPI_PM_SCI_IRQ, &cb);
	sysctl_init(&vm->sysctl, guest_reset, vm);
	power_ports_init(&vm->power, debug_exit, bochs_poweroff, vm);
	vioapic_init(&vm->ioapic, vm->nvcpus, ioapic_deliver, vm);
	uart_set_irq(&vm->uart, &vm->isa_irq, UART_IRQ);
	struct vlapic_ops ops = { .send_ipi = lapic_send_ipi,
				  .eoi_level = lapic_eoi_level,
				  .base_moved = lapic_base_moved,
				  .ctx = vm };
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		vlapic_init(&v->lapic, v->id, v->id == 0, &t->clock, ops, v->vapic_page);
		v->lapic.tsc_to_ns = lapic_tsc_to_ns;
		v->lapic.tsc_ctx = v;
		vlapic_set_tsc_hz(&v->lapic, t->tsc_hz);
		vlapic_set_timer_mode(&v->lapic, vm->cfg.timer_mode);
		if (v->id == 0)
			vlapic_virtual_wire(&v->lapic);
		vtime_add_timer(t, (struct vtimer){ .next_event = vlapic_timer_next,
						    .update = vlapic_timer_update,
						    .held = vlapic_timer_held,
						    .dev = &v->lapic });
	}
	struct vtimer pit = pit_timer(&vm->pit), rtc = rtc_timer(&vm->rtc);
	struct vtimer hpet = hpet_timer(&vm->hpet);
	pit.min_interval_ns = rtc.min_interval_ns = hpet.min_interval_ns = LEGACY_TIMER_MIN_NS;
	vtime_add_timer(t, pit);
	vtime_add_timer(t, rtc);
	vtime_add_timer(t, hpet);
	if (pci_reset(vm)) {
		kprintf("pgvisor: vm %s: cannot place its PCI devices\n", vm->name);
		return -1;
	}
	return 0;
}

int platform_attach(struct vm *vm)
{
	struct io_bus *io = &vm->iobus;
	const char *failed = NULL;

	if (uart_attach(&vm->uart, io, UART_COM1_BASE))
		failed = "uart";
	else if (power_ports_attach(&vm->power, io))
		failed = "power ports";
	else if (pic_attach(&vm->pic, io))
		failed = "pic";
	else if (pit_attach(&vm->pit, io))
		failed = "pit";
	else if (rtc_attach(&vm->rtc, io))
		failed = "rtc";
	else if (acpi_pm_attach(&vm->acpi_pm, io, ACPI_PM_BASE_DEFAULT))
		failed = "acpi-pm";
	else if (pci_host_attach(&vm->pci, io, &vm->mmio))
		failed = "pci";
	else if (sysctl_attach(&vm->sysctl, io))
		failed = "system control ports";
	else if (mmio_bus_register(&vm->mmio, VLAPIC_MMIO_BASE, VLAPIC_MMIO_SIZE, lapic_mmio_read,
				   lapic_mmio_write, vm, "lapic"))
		failed = "lapic";
	else if (mmio_bus_register(&vm->mmio, VIOAPIC_MMIO_BASE, VIOAPIC_MMIO_SIZE,
				   vioapic_mmio_read, vioapic_mmio_write, &vm->ioapic, "ioapic"))
		failed = "ioapic";
	else if (mmio_bus_register(&vm->mmio, HPET_MMIO_BASE, HPET_MMIO_SIZE, hpet_read, hpet_write,
				   vm, "hpet"))
		failed = "hpet";
	if (failed) {
		kprintf("pgvisor: vm %s: cannot attach device %s\n", vm->name, failed);
		return -1;
	}
	if (alloc_virtio(vm)) {
		kprintf("pgvisor: vm %s: out of memory for its virtio devices\n", vm->name);
		return -1;
	}
	if (attach_nics(vm))
		return -1;
	/* After the guest programs these, the VM's next deadline may move.
	 * Reading the PIT's counters or port B changes no timer (and Linux
	 * polls them to calibrate the TSC, so they must stay cheap); reading
	 * RTC register C releases its IRQ, which re-arms its events. */
	io_bus_set_timed(io, 0x40, IO_TIMED_WRITES);
	io_bus_set_timed(io, 0x61, IO_TIMED_WRITES);
	io_bus_set_timed(io, 0x70, IO_TIMED_READS | IO_TIMED_WRITES);
	return 0;
}
