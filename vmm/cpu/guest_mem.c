#include "vmm/cpu/guest_mem.h"

#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PF_ERR_PRESENT (1u << 0)
#define PF_ERR_WRITE (1u << 1)
#define PF_ERR_USER (1u << 2)

static bool in_ram(const struct vm *vm, uint64_t gpa, size_t len)
{
	return gpa < vm->ram.size && len <= vm->ram.size - gpa;
}

int guest_phys_read(struct vm *vm, uint64_t gpa, void *buf, size_t len)
{
	if (!in_ram(vm, gpa, len))
		return -1;
	memcpy(buf, vm->ram.host + gpa, len);
	return 0;
}

void *guest_phys_ptr(struct vm *vm, uint64_t gpa, size_t len)
{
	return in_ram(vm, gpa, len) ? vm->ram.host + gpa : NULL;
}

int guest_phys_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	if (!in_ram(vm, gpa, len))
		return -1;
	memcpy(vm->ram.host + gpa, buf, len);
	dirty_log_note(&vm->dirty, gpa, len);
	return 0;
}

void *guest_phys_ptr_for_write(struct vm *vm, uint64_t gpa, size_t len)
{
	if (!in_ram(vm, gpa, len))
		return NULL;
	/* Marked before the write: both happen on this CPU before the log
	 * is next taken. */
	dirty_log_note(&vm->dirty, gpa, len);
	return vm->ram.host + gpa;
}

static int read_entry(struct vm *vm, uint64_t gpa, bool wide, uint64_t *e)
{
	if (wide)
		return guest_phys_read(vm, gpa, e, 8);
	uint32_t e32;
	if (guest_phys_read(vm, gpa, &e32, 4))
		return -1;
	*e = e32;
	return 0;
}

void guest_paging_read(struct guest_paging *p)
{
	p->cr0 = vmread(VMCS_GUEST_CR0);
	p->cr3 = vmread(VMCS_GUEST_CR3);
	p->cr4 = vmread(VMCS_GUEST_CR4);
	p->efer = vmread(VMCS_GUEST_IA32_EFER);
	p->user = vmcs_guest_cpl() == 3;
	if ((p->cr0 & CR0_PG) && !(p->efer & EFER_LMA) && (p->cr4 & CR4_PAE))
		for (unsigned i = 0; i < 4; i++)
			p->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + 2 * i);
}

enum gva_fault guest_linear_to_phys(struct vcpu *v, uint64_t gva, bool write, uint64_t *gpa,
				    uint32_t *pf_error)
{
	struct guest_paging p;

	guest_paging_read(&p);
	return guest_paging_walk(v->vm, &p, gva, write, gpa, pf_error);
}

enum gva_fault guest_paging_walk(struct vm *vm, const struct guest_paging *p, uint64_t gva,
				 bool write, uint64_t *gpa, uint32_t *pf_error)
{
	uint64_t cr0 = p->cr0, cr4 = p->cr4;
	uint64_t efer = p->efer;
	bool user = p->user;
	uint32_t err = (write ? PF_ERR_WRITE : 0) | (user ? PF_ERR_USER : 0);
	int levels;
	bool wide = true;
	uint64_t table = p->cr3 & PTE_ADDR_MASK;

	if (!(cr0 & CR0_PG)) {
		*gpa = gva & 0xffffffffull;
		return GVA_OK;
	}
	if (efer & EFER_LMA) {
		levels = 4;
	} else if (cr4 & CR4_PAE) {
		/* The four PDPTEs were loaded into the VMCS on entry (SDM 26.3.2.4). */
		uint64_t pdpte = p->pdpte[(gva >> 30) & 3];
		if (!(pdpte & PTE_P)) {
			*pf_error = err;
			return GVA_PAGE_FAULT;
		}
		table = pdpte & PTE_ADDR_MASK;
		levels = 2;
		gva &= 0xffffffffull;
	} else {
		levels = 2;
		wide = false;
		table = p->cr3 & 0xfffff000ull;
		gva &= 0xffffffffull;
	}

	bool writable = true, user_ok = true;
	for (int level = levels; level >= 1; level--) {
		unsigned shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		unsigned mask = wide ? 0x1ff : 0x3ff;
		uint64_t e;
		if (read_entry(vm, table + ((gva >> shift) & mask) * (wide ? 8 : 4), wide, &e))
			return GVA_BAD_TABLE;
		if (!(e & PTE_P)) {
			*pf_error = err;
			return GVA_PAGE_FAULT;
		}
		writable &= !!(e & PTE_W);
		user_ok &= !!(e & PTE_U);
		bool large = level > 1 && (e & PTE_PS) && (wide || (cr4 & (1ull << 4) /* PSE */));
		if (level == 1 || large) {
			uint64_t size = 1ull << shift;
			bool wp = cr0 & CR0_WP;
			if ((user && !user_ok) || (write && !writable && (user || wp))) {
				*pf_error = err | PF_ERR_PRESENT;
				return GVA_PAGE_FAULT;
			}
			uint64_t base = e & PTE_ADDR_MASK;
			if (!wide && large) /* PSE-36: bits 20:13 are address bits 39:32 */
				base = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32;
			*gpa = (base & ~(size - 1)) | (gva & (size - 1));
			return GVA_OK;
		}
		table = e & (wide ? PTE_ADDR_MASK : 0xfffff000ull);
	}
	return GVA_BAD_TABLE;
}
