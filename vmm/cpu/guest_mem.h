/* Access to a VM's memory from the hypervisor: guest-physical reads and
 * writes bounded by its RAM, and translation of guest-linear addresses
 * through the guest's own page tables (SDM Vol. 3 4.3-4.5), for exits that
 * report a linear address (string I/O, instruction fetch). Nothing here
 * trusts a guest value: every address and length is checked. */
#ifndef PGVISOR_GUEST_MEM_H
#define PGVISOR_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* 0, or -1 when any byte of [gpa, gpa + len) is outside the VM's RAM. */
int guest_phys_read(struct vm *vm, uint64_t gpa, void *buf, size_t len);
int guest_phys_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len);
/* Where [gpa, gpa + len) lies in hypervisor memory, or NULL when any of
 * it is outside the VM's RAM: for records the hypervisor and the guest
 * both update in place (atomically where they race). */
void *guest_phys_ptr(struct vm *vm, uint64_t gpa, size_t len);
/* The same for a record the hypervisor writes through the pointer: its
 * frames are marked in the VM's dirty log (a live migration's), as
 * guest_phys_write marks what it writes. */
void *guest_phys_ptr_for_write(struct vm *vm, uint64_t gpa, size_t len);

/* Why a translation failed: the guest gets #PF (with this error code) or
 * the table walk left the VM's RAM. */
enum gva_fault { GVA_OK, GVA_PAGE_FAULT, GVA_BAD_TABLE };

/* What a guest-linear translation depends on: a copy that outlives the
 * VMCS being current (the gdb stub walks a stopped vCPU's tables from
 * another CPU). */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t pdpte[4]; /* PAE without long mode: loaded on entry (SDM 26.3.2.4) */
	bool user;	   /* CPL 3: user-mode access checks */
};

/* The paging state of the current VMCS's guest. */
void guest_paging_read(struct guest_paging *p);
/* Translates a guest-linear address with paging state p (off, 32-bit,
 * PAE, 4-level). write selects the access checked; on GVA_PAGE_FAULT
 * *pf_error is the #PF error code to inject. */
enum gva_fault guest_paging_walk(struct vm *vm, const struct guest_paging *p, uint64_t gva,
				 bool write, uint64_t *gpa, uint32_t *pf_error);
/* The same with the paging state in the current VMCS. */
enum gva_fault guest_linear_to_phys(struct vcpu *v, uint64_t gva, bool write, uint64_t *gpa,
				    uint32_t *pf_error);

#endif
