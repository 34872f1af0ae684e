/* The VM config record's codec: every field of struct vm_config by name,
 * strings as a u16 length and their bytes, then the VM-wide state. */
#include "vmm/migrate/config_record.h"

#include <string.h>

#include "vmm/vmx/trap_policy.h"

#define MAC_BYTES 6

static void put_string(struct state_writer *w, const char *s)
{
	size_t n = strlen(s);

	state_put_u16(w, (uint16_t)n);
	state_put_bytes(w, s, n);
}

/* A string into out[size]: shorter than size, no NUL inside. */
static void get_string(struct state_reader *r, char *out, size_t size)
{
	uint16_t n = state_get_u16(r);

	if (n >= size) {
		state_refuse(r, "config record: a string too long for its field");
		out[0] = '\0';
		return;
	}
	state_get_bytes(r, out, n);
	out[n] = '\0';
	if (strlen(out) != n)
		state_refuse(r, "config record: a NUL inside a string");
}

void vm_record_save(const struct vm_record *rec, struct state_writer *w)
{
	const struct vm_config *c = &rec->cfg;

	put_string(w, c->name);
	put_string(w, c->kernel);
	put_string(w, c->ramdisk);
	put_string(w, c->cmdline);
	state_put_u32(w, c->memory_mib);
	state_put_u32(w, c->vcpus);
	state_put_u32(w, c->nmodules);
	for (unsigned i = 0; i < c->nmodules && i < VM_MAX_MODULES; i++)
		put_string(w, c->modules[i]);
	state_put_u8(w, (uint8_t)c->on_poweroff);
	state_put_u8(w, (uint8_t)c->on_crash);
	state_put_u8(w, (uint8_t)c->on_unbacked);
	state_put_u32(w, c->cpus);
	state_put_u32(w, c->traps);
	state_put_u32(w, c->ndisks);
	for (unsigned i = 0; i < c->ndisks && i < VM_MAX_DISKS; i++) {
		put_string(w, c->disks[i].target);
		state_put_bool(w, c->disks[i].partition);
		put_string(w, c->disks[i].vdev);
		state_put_bool(w, c->disks[i].writable);
	}
	state_put_u32(w, c->nvifs);
	for (unsigned i = 0; i < c->nvifs && i < VM_MAX_VIFS; i++) {
		state_put_bytes(w, c->vifs[i].mac, MAC_BYTES);
		state_put_bool(w, c->vifs[i].mac_given);
		put_string(w, c->vifs[i].bridge);
	}
	state_put_bool(w, c->virtio_console);
	state_put_u32(w, c->pv);
	state_put_u8(w, (uint8_t)c->timer_mode);
	state_put_bool(w, c->autostart);
	state_put_u64(w, rec->clock_ns);
	state_put_u64(w, rec->start_epoch_ns);
	state_put_u64(w, rec->wall_clock_msr);
	state_put_u32(w, rec->wall_clock_version);
	state_put_bool(w, rec->pv_unhalt_known);
	state_put_u64(w, rec->lapic_moved_base);
}

/* An action of on_poweroff / on_crash; anything else is refused. */
static enum vm_action get_action(struct state_reader *r)
{
	uint8_t v = state_get_u8(r);

	if (v > VM_ACTION_PRESERVE)
		state_refuse(r, "config record: unknown on_poweroff/on_crash action");
	return (enum vm_action)v;
}

/* A count of entries at most max. */
static unsigned get_count(struct state_reader *r, unsigned max, const char *why)
{
	uint32_t n = state_get_u32(r);

	if (n > max) {
		state_refuse(r, why);
		return 0;
	}
	return n;
}

static void check(const struct vm_config *c, struct state_reader *r)
{
	if (!c->name[0] || !c->kernel[0])
		state_refuse(r, "config record: no name or no kernel");
	if (c->memory_mib < VM_MIN_MEMORY_MIB || c->memory_mib > VM_MAX_MEMORY_MIB)
		state_refuse(r, "config record: memory out of range");
	if (c->vcpus < 1 || c->vcpus > VM_MAX_VCPUS)
		state_refuse(r, "config record: vcpus out of range");
	if (c->traps & ~(uint32_t)TRAP_ALL)
		state_refuse(r, "config record: unknown trap bits");
	if (c->pv & ~(uint32_t)PV_ALL)
		state_refuse(r, "config record: unknown pv feature bits");
}

int vm_record_load(struct vm_record *rec, struct state_reader *r)
{
	struct vm_config *c = &rec->cfg;

	memset(rec, 0, sizeof(*rec));
	get_string(r, c->name, sizeof(c->name));
	get_string(r, c->kernel, sizeof(c->kernel));
	get_string(r, c->ramdisk, sizeof(c->ramdisk));
	get_string(r, c->cmdline, sizeof(c->cmdline));
	c->memory_mib = state_get_u32(r);
	c->vcpus = state_get_u32(r);
	c->nmodules = get_count(r, VM_MAX_MODULES, "config record: too many modules");
	for (unsigned i = 0; i < c->nmodules; i++)
		get_string(r, c->modules[i], sizeof(c->modules[i]));
	c->on_poweroff = get_action(r);
	c->on_crash = get_action(r);
	uint8_t unbacked = state_get_u8(r);
	if (unbacked > VM_UNBACKED_CRASH)
		state_refuse(r, "config record: unknown on_unbacked");
	c->on_unbacked = (enum vm_unbacked)unbacked;
	c->cpus = state_get_u32(r);
	c->traps = state_get_u32(r);
	c->ndisks = get_count(r, VM_MAX_DISKS, "config record: too many disks");
	for (unsigned i = 0; i < c->ndisks; i++) {
		get_string(r, c->disks[i].target, sizeof(c->disks[i].target));
		c->disks[i].partition = state_get_bool(r);
		get_string(r, c->disks[i].vdev, sizeof(c->disks[i].vdev));
		c->disks[i].writable = state_get_bool(r);
	}
	c->nvifs = get_count(r, VM_MAX_VIFS, "config record: too many vifs");
	for (unsigned i = 0; i < c->nvifs; i++) {
		state_get_bytes(r, c->vifs[i].mac, MAC_BYTES);
		c->vifs[i].mac_given = state_get_bool(r);
		get_string(r, c->vifs[i].bridge, sizeof(c->vifs[i].bridge));
	}
	c->virtio_console = state_get_bool(r);
	c->pv = state_get_u32(r);
	uint8_t mode = state_get_u8(r);
	if (mode > TIMER_MODE_NO_MISSED_TICKS_PENDING)
		state_refuse(r, "config record: unknown timer_mode");
	c->timer_mode = (enum timer_mode)mode;
	c->autostart = state_get_bool(r);
	rec->clock_ns = state_get_u64(r);
	rec->start_epoch_ns = state_get_u64(r);
	rec->wall_clock_msr = state_get_u64(r);
	rec->wall_clock_version = state_get_u32(r);
	rec->pv_unhalt_known = state_get_bool(r);
	rec->lapic_moved_base = state_get_u64(r);
	if (!r->refused)
		check(c, r);
	return state_reader_done(r);
}
