/* VPID for a nested guest (L2): the host VPIDs its translations are
 * tagged with, one per VPID of its guest hypervisor's (L1's) in a small
 * map per vCPU (vmm/nested/vpid_map.h), flushed when the SDM says L2's
 * cached translations go (28.3.3.1, 30.3 INVVPID), and L1's INVVPID
 * emulated on them. Used by the entry into L2 (exit_nested.c) and the
 * VMX instruction handlers (exit_vmx.c). */
#include "arch/x86/percpu.h"
#include "vmm/cpu/exit.h"
#include "vmm/nested/vpid_map.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_caps.h"

/* VPID for L2 (vmm/nested/vpid_map.h): each vCPU has a range of host
 * VPIDs above every VM's own (vm_vpid: 1 to MAX_VMS), apart from every
 * other vCPU's: one per entry of its map of L1's VPIDs, and one for L2
 * run without VPID in L1's controls (flushed at every entry). */
#define L2_VPID_BASE 0x8000u
#define L2_VPIDS_PER_VCPU (VPID_MAP_ENTRIES + 1)
#define L2_VPID_NONE VPID_MAP_ENTRIES /* the range's last */
#define VPID_LIMIT 0x10000u
_Static_assert(MAX_VMS < L2_VPID_BASE &&
		       L2_VPID_BASE + MAX_VMS * VM_MAX_VCPUS * L2_VPIDS_PER_VCPU <= VPID_LIMIT,
	       "L2 VPIDs fit 16 bits, apart from the VMs'");

static uint16_t l2_vpid_of(const struct vcpu *v, unsigned index)
{
	return (uint16_t)(L2_VPID_BASE + (v->vm->id * VM_MAX_VCPUS + v->id) * L2_VPIDS_PER_VCPU +
			  index);
}

uint16_t nested_l2_vpid(const struct vcpu *v)
{
	return v->nested.vpid02;
}

uint16_t vcpu_vpid(const struct vcpu *v)
{
	return v->nested.in_l2 ? nested_l2_vpid(v) : vm_vpid(v->vm);
}

/* L2's cached translations at its entry (SDM 28.3.3.1), and the host
 * VPID VMCS02 tags them with (n->vpid02). With VPID on the host, each of
 * L1's VPIDs has one of its own (the map's), so a switch between L1 and
 * L2, or between L1's VPIDs, keeps them all; one goes when its entry is
 * new (its last L1 VPID's evicted) or stale (L1's INVVPID, another host
 * CPU than last time). L2 run without VPID has its own, flushed at every
 * entry as the CPU flushes VPID 0's. Emptied shadow EPT tables: INVEPT of
 * their EPTP, which drops the combined translations of every VPID
 * (SDM 29.4.3.1). Without VPID on the host, the VM's at every entry. */
void nested_l2_flush(struct vcpu *v, uint64_t eptp, uint16_t vpid12, bool emptied)
{
	struct nested_vcpu *n = &v->nested;
	unsigned cpu = this_cpu()->index;

	/* The common case, L1 running the same L2 again: nothing to do. */
	if (vpid_map_same(&n->vpids, vpid12, cpu) && !emptied)
		return;
	if (!vmx_controls.vpid) {
		n->l2_flushes++;
		vmx_flush_guest(eptp, vm_vpid(v->vm));
		return;
	}
	bool moved = vpid_map_move(&n->vpids, cpu), flush = true;
	unsigned index = L2_VPID_NONE;
	if (vpid12)
		index = vpid_map_use(&n->vpids, vpid12, &flush);
	else
		vpid_map_no_vpid(&n->vpids);
	uint16_t vpid02 = l2_vpid_of(v, index);
	if (vpid02 != n->vpid02) {
		/* VMCS02 is current; one built anew gets it with its controls. */
		n->vpid02 = vpid02;
		vmwrite(VMCS_VPID, vpid02);
	}
	if (moved || emptied)
		vmx_flush_guest(eptp, n->vpid02);
	else if (flush)
		vmx_flush_vpid(n->vpid02);
	else
		return;
	n->l2_flushes++;
	n->vpid_flushes += index != L2_VPID_NONE;
}

/* L1's INVVPID (SDM 30.3), valid, on the host VPIDs of its VPIDs only:
 * individual-address on the host CPU that holds the translations, else
 * (or wider types) the entries made stale, flushed at their next use;
 * single-context retaining globals drops the globals too (an INVVPID may
 * drop more than it must). A VPID of L1's not in the map has no
 * translations left anywhere. */
void nested_invvpid(struct vcpu *v, unsigned type, uint16_t vpid12, uint64_t linear)
{
	struct vpid_map *m = &v->nested.vpids;

	if (!vmx_controls.vpid)
		return; /* every entry into L2 flushes */
	if (type == NESTED_INVVPID_ALL) {
		vpid_map_stale_all(m);
		return;
	}
	int index = vpid_map_find(m, vpid12);
	if (index < 0)
		return;
	if (type == NESTED_INVVPID_ADDRESS && m->on_cpu && m->cpu == this_cpu()->index &&
	    m->e[index].fresh) {
		vmx_invvpid_address(l2_vpid_of(v, (unsigned)index), linear);
		v->nested.vpid_address_flushes++;
		return;
	}
	vpid_map_stale(m, (unsigned)index);
}
