#include <stdbool.h>
#include <stdio.h>

#include "drivers/console.h"
#include "drivers/net/netdev.h"
#include "vmm/core/end_checks.h"
#include "vmm/core/sched.h"
#include "vmm/core/summary.h"
#include "vmm/vm/vm.h"

static const char *end_name(const struct vm *vm)
{
	switch (vm->end) {
	case VM_END_POWEROFF:
		return "powered off";
	case VM_END_DEBUG_EXIT:
		return "exited";
	case VM_END_HALTED:
		return "halted";
	case VM_END_CRASH:
		return "crashed";
	case VM_END_DESTROYED:
		return "destroyed by the operator";
	case VM_END_REBOOT:
		return "reset by the guest";
	default:
		return vm->state == VM_PAUSED ? "paused" : "still running";
	}
}

#define TOP_KEYS 6

/* "name=count" for every reason with exits; with ticks, the average
 * hypervisor ticks of the timed ones instead. */
static void print_by_reason(const char *name, const struct exit_profile *p, bool ticks)
{
	/* Empty when no reason has a value (a VM whose one exit was not
	 * timed): printed as it is. */
	char line[640] = "";
	int n = 0;

	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		uint64_t value =
			ticks ? (p->timed[r] ? p->ticks[r] / p->timed[r] : 0) : p->count[r];
		if (!value || n >= (int)sizeof(line))
			continue;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu", exit_reason_name(r),
			      (unsigned long long)value);
	}
	if (ticks)
		kprintf("pgvisor:   vm %s: ticks per exit%s\n", name, line);
	else
		kprintf("pgvisor:   vm %s: exits total=%llu%s\n", name,
			(unsigned long long)profile_total(p), line);
}

static void print_top_keys(const char *name, const char *what, const struct key_counts *k)
{
	uint32_t keys[TOP_KEYS];
	uint64_t counts[TOP_KEYS];
	unsigned nkeys = profile_top_keys(k, keys, counts, TOP_KEYS);
	char line[256];
	int n = 0;

	if (!nkeys)
		return;
	for (unsigned i = 0; i < nkeys && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %#x=%llu", keys[i],
			      (unsigned long long)counts[i]);
	kprintf("pgvisor:   vm %s: top %s%s\n", name, what, line);
}

/* What the VM's disks and network interfaces did (since its last start). */
static void print_devices(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		const struct virtio_blk *b = vm->disks[i];
		if (!b)
			continue;
		const struct virtio_blk_stats *s = &b->stats;
		kprintf("pgvisor:   vm %s: %s: %llu reads (%llu KiB), %llu writes (%llu KiB), "
			"%llu flushes, %llu errors\n",
			vm->name, b->name, (unsigned long long)s->reads,
			(unsigned long long)(s->bytes_read >> 10), (unsigned long long)s->writes,
			(unsigned long long)(s->bytes_written >> 10),
			(unsigned long long)s->flushes, (unsigned long long)s->errors);
	}
	if (vm->vcon) {
		const struct virtio_console_stats *c = &vm->vcon->stats;
		kprintf("pgvisor:   vm %s: virtio-console: out %llu bytes, in %llu bytes, "
			"%llu typed bytes dropped\n",
			vm->name, (unsigned long long)c->tx_bytes, (unsigned long long)c->rx_bytes,
			(unsigned long long)c->rx_dropped);
	}
	for (unsigned i = 0; i < vm->cfg.nvifs; i++) {
		const struct vm_nic *nic = vm->nics[i];
		if (!nic)
			continue;
		const struct net_port_stats *s = &nic->port.stats;
		const uint8_t *m = nic->port.mac;
		kprintf("pgvisor:   vm %s: %s (bridge %s, %02x:%02x:%02x:%02x:%02x:%02x): sent "
			"%llu "
			"frames (%llu bytes), received %llu (%llu bytes), dropped %llu\n",
			vm->name, nic->net.name, vm->cfg.vifs[i].bridge, m[0], m[1], m[2], m[3],
			m[4], m[5], (unsigned long long)s->tx_frames,
			(unsigned long long)s->tx_bytes, (unsigned long long)s->rx_frames,
			(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_dropped);
	}
}

void summary_print_profile(const struct vm *vm)
{
	static struct exit_profile p; /* too big for the stack */
	vm_exit_profile(vm, &p);
	print_by_reason(vm->name, &p, false);
	uint64_t root = profile_root_ticks(&p), all = p.guest_ticks + root;
	if (!all)
		return;
	uint64_t permille = root * 1000 / all;
	kprintf("pgvisor:   vm %s: ticks guest=%llu hypervisor=%llu (%llu.%llu%% in the "
		"hypervisor)\n",
		vm->name, (unsigned long long)p.guest_ticks, (unsigned long long)root,
		(unsigned long long)(permille / 10), (unsigned long long)(permille % 10));
	print_by_reason(vm->name, &p, true);
	print_top_keys(vm->name, "ports", &p.ports);
	print_top_keys(vm->name, "msrs", &p.msrs);
}

/* The machine's own NICs, as their drivers counted. */
static void print_nics(void)
{
	for (unsigned i = 0; i < netdev_count(); i++) {
		const struct netdev *d = netdev_get(i);
		const struct netdev_stats *s = &d->stats;
		kprintf("pgvisor: nic %s: sent %llu frames (%llu bytes), ring full %llu times; "
			"received %llu (%llu bytes), errors %llu, missed %llu\n",
			d->name, (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
			(unsigned long long)s->tx_busy, (unsigned long long)s->rx_frames,
			(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_errors,
			(unsigned long long)s->rx_missed);
	}
}

bool summary_print(void)
{
	unsigned ok = 0, destroyed = 0;

	kprintf("pgvisor: summary of %u VM%s\n", vm_count(), vm_count() == 1 ? "" : "s");
	for (unsigned i = 0; i < vm_count(); i++) {
		const struct vm *vm = vm_at(i);

		char how[VM_REASON_MAX + 48];
		if (vm->end == VM_END_DEBUG_EXIT)
			snprintf(how, sizeof(how), "exited with status %u (value %u)",
				 (vm->exit_value << 1) | 1, vm->exit_value);
		else if (vm->end == VM_END_CRASH)
			snprintf(how, sizeof(how), "crashed: %s", vm->reason);
		else
			snprintf(how, sizeof(how), "%s", end_name(vm));
		kprintf("pgvisor:   vm %s: %s, restarts %u\n", vm->name, how, vm->restarts);
		char where[VM_CPU_LIST_MAX];
		vm_cpu_list(vm, where, sizeof(where));
		kprintf("pgvisor:   vm %s: ran on %s\n", vm->name, where);
		if (vm->cfg.timer_mode == TIMER_MODE_DELAY_FOR_MISSED_TICKS)
			kprintf("pgvisor:   vm %s: time held %llu ms while waiting for a CPU "
				"(delay_for_missed_ticks)\n",
				vm->name,
				(unsigned long long)(vm->vtime.held_tsc * 1000 / vm->vtime.tsc_hz));
		char halted[VM_CPU_LIST_MAX];
		if (vm_halted_list(vm, false, halted, sizeof(halted)))
			kprintf("pgvisor:   vm %s: %s halted (HLT with interrupts enabled)\n",
				vm->name, halted);
		if (vm_halted_list(vm, true, halted, sizeof(halted)))
			kprintf("pgvisor:   vm %s: %s halted (HLT with interrupts disabled, "
				"waiting "
				"for a PV kick)\n",
				vm->name, halted);
		summary_print_profile(vm);
		if (vm->unbacked_count)
			kprintf("pgvisor:   vm %s: unbacked accesses %llu, the first a %s of "
				"guest-physical %#llx\n",
				vm->name, (unsigned long long)vm->unbacked_count,
				vm->unbacked_first_write ? "write" : "read",
				(unsigned long long)vm->unbacked_first_gpa);
		uint64_t fills = 0, entries = 0, flushes = 0, vpid_flushes = 0, evictions = 0,
			 addresses = 0;
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			const struct nested_vcpu *n = &vm->vcpus[i].nested;
			fills += n->shadow_fills;
			entries += n->l2_entries;
			flushes += n->l2_flushes;
			vpid_flushes += n->vpid_flushes;
			evictions += n->vpids.evictions;
			addresses += n->vpid_address_flushes;
		}
		if (fills)
			kprintf("pgvisor:   vm %s: shadow EPT pages filled for nested guests "
				"%llu\n",
				vm->name, (unsigned long long)fills);
		if (entries)
			kprintf("pgvisor:   vm %s: nested guests entered %llu times, their "
				"translations flushed at %llu\n",
				vm->name, (unsigned long long)entries, (unsigned long long)flushes);
		/* VPID for L2: how its guest hypervisor's VPIDs' host VPIDs went. */
		if (vpid_flushes || addresses)
			kprintf("pgvisor:   vm %s: VPIDs of nested guests: flushed at %llu "
				"entries (%llu evicted), individual-address INVVPIDs %llu\n",
				vm->name, (unsigned long long)vpid_flushes,
				(unsigned long long)evictions, (unsigned long long)addresses);
		print_devices(vm);
		/* The operator's choice, not the guest's failure: left out of
		 * the verdict. */
		if (vm->end == VM_END_DESTROYED)
			destroyed++;
		else if (vm_succeeded(vm))
			ok++;
	}
	const struct sched_stats *s = sched_get_stats();
	if (s->switches)
		kprintf("pgvisor: scheduler: %llu vCPU switches, %llu TSC ticks each on average\n",
			(unsigned long long)s->switches,
			(unsigned long long)(s->switch_ticks / s->switches));
	print_nics();
	bool canaries_intact = end_checks_canaries_report();
	unsigned judged = vm_count() - destroyed;
	bool success = vm_count() && ok == judged && canaries_intact;
	if (destroyed)
		kprintf("pgvisor: %u of %u VMs succeeded, %u destroyed by the operator\n", ok,
			judged, destroyed);
	else
		kprintf("pgvisor: %u of %u VMs succeeded\n", ok, judged);
	kprintf("pgvisor: result: %s\n", success ? "success" : "failure");
	return success;
}
