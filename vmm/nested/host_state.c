#include "vmm/nested/host_state.h"

#include "arch/x86/msr.h"
#include "vmm/vmx/vmcs_fields.h"

/* Segment access rights loaded on a VM exit (SDM 27.5.2): CS execute/read
 * accessed code with L = host address-space size and D = !L; the data
 * segments read/write accessed, 32-bit, 4 KiB granular; TR a busy 32/64-bit
 * TSS; a null selector makes its segment unusable. */
#define AR_CS_64 0xa09bull
#define AR_CS_32 0xc09bull
#define AR_DATA 0xc093ull
#define AR_TSS_BUSY 0x8bull
#define LIMIT_FLAT 0xffffffffull
#define LIMIT_TSS 0x67ull
#define LIMIT_TABLE 0xffffull
#define DR7_INIT 0x400ull
#define RFLAGS_INIT 0x2ull
/* The limit, access-rights and base fields of a segment lie at fixed
 * distances from its selector field (SDM appendix B). */
#define LIMIT_FROM_SEL 0x4000u
#define AR_FROM_SEL 0x4014u
#define BASE_FROM_SEL 0x6006u

struct list {
	struct nested_field_value *out;
	unsigned n;
};

static void put(struct list *l, uint32_t field, uint64_t value)
{
	if (l->n < NESTED_HOST_STATE_MAX)
		l->out[l->n++] = (struct nested_field_value){ field, value };
}

static void segment(struct list *l, uint32_t guest_sel, uint64_t sel, uint64_t base, uint64_t limit,
		    uint64_t ar)
{
	put(l, guest_sel, sel);
	put(l, guest_sel + LIMIT_FROM_SEL, limit);
	put(l, guest_sel + AR_FROM_SEL, ar);
	put(l, guest_sel + BASE_FROM_SEL, base);
}

bool nested_host_64bit(const struct nested_vmcs *vmcs)
{
	return nested_vmcs_get(vmcs, VMCS_EXIT_CTLS) & EXIT_HOST_ADDRESS_SPACE_SIZE;
}

unsigned nested_host_state(const struct nested_vmcs *vmcs, uint64_t efer,
			   struct nested_field_value *out)
{
	struct list l = { out, 0 };
	uint32_t exit = (uint32_t)nested_vmcs_get(vmcs, VMCS_EXIT_CTLS);
	bool wide = nested_host_64bit(vmcs);
	static const uint32_t data_sels[] = { VMCS_HOST_ES_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL,
					      VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL };
	static const uint32_t guest_sels[] = { VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL,
					       VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL,
					       VMCS_GUEST_GS_SEL };

	put(&l, VMCS_GUEST_CR3, nested_vmcs_get(vmcs, VMCS_HOST_CR3));
	put(&l, VMCS_GUEST_DR7, DR7_INIT);
	put(&l, VMCS_GUEST_IA32_DEBUGCTL, 0);
	put(&l, VMCS_GUEST_SYSENTER_CS, nested_vmcs_get(vmcs, VMCS_HOST_SYSENTER_CS));
	put(&l, VMCS_GUEST_SYSENTER_ESP, nested_vmcs_get(vmcs, VMCS_HOST_SYSENTER_ESP));
	put(&l, VMCS_GUEST_SYSENTER_EIP, nested_vmcs_get(vmcs, VMCS_HOST_SYSENTER_EIP));
	if (exit & EXIT_LOAD_IA32_EFER)
		efer = nested_vmcs_get(vmcs, VMCS_HOST_IA32_EFER);
	else if (wide)
		efer |= EFER_LMA | EFER_LME;
	else
		efer &= ~(EFER_LMA | EFER_LME);
	put(&l, VMCS_GUEST_IA32_EFER, efer);
	if (exit & EXIT_LOAD_IA32_PAT)
		put(&l, VMCS_GUEST_IA32_PAT, nested_vmcs_get(vmcs, VMCS_HOST_IA32_PAT));

	segment(&l, VMCS_GUEST_CS_SEL, nested_vmcs_get(vmcs, VMCS_HOST_CS_SEL), 0, LIMIT_FLAT,
		wide ? AR_CS_64 : AR_CS_32);
	for (unsigned i = 0; i < sizeof(data_sels) / sizeof(data_sels[0]); i++) {
		uint64_t sel = nested_vmcs_get(vmcs, data_sels[i]);
		uint64_t base = 0;
		if (data_sels[i] == VMCS_HOST_FS_SEL)
			base = nested_vmcs_get(vmcs, VMCS_HOST_FS_BASE);
		else if (data_sels[i] == VMCS_HOST_GS_SEL)
			base = nested_vmcs_get(vmcs, VMCS_HOST_GS_BASE);
		segment(&l, guest_sels[i], sel, base, LIMIT_FLAT,
			sel ? AR_DATA : AR_DATA | AR_UNUSABLE);
	}
	segment(&l, VMCS_GUEST_TR_SEL, nested_vmcs_get(vmcs, VMCS_HOST_TR_SEL),
		nested_vmcs_get(vmcs, VMCS_HOST_TR_BASE), LIMIT_TSS, AR_TSS_BUSY);
	segment(&l, VMCS_GUEST_LDTR_SEL, 0, 0, 0, AR_UNUSABLE);
	put(&l, VMCS_GUEST_GDTR_BASE, nested_vmcs_get(vmcs, VMCS_HOST_GDTR_BASE));
	put(&l, VMCS_GUEST_GDTR_LIMIT, LIMIT_TABLE);
	put(&l, VMCS_GUEST_IDTR_BASE, nested_vmcs_get(vmcs, VMCS_HOST_IDTR_BASE));
	put(&l, VMCS_GUEST_IDTR_LIMIT, LIMIT_TABLE);

	put(&l, VMCS_GUEST_RSP, nested_vmcs_get(vmcs, VMCS_HOST_RSP));
	put(&l, VMCS_GUEST_RIP, nested_vmcs_get(vmcs, VMCS_HOST_RIP));
	put(&l, VMCS_GUEST_RFLAGS, RFLAGS_INIT);
	put(&l, VMCS_GUEST_INTERRUPTIBILITY, 0);
	put(&l, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	put(&l, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	return l.n;
}

void nested_host_load_build(struct nested_host_load *h, const struct nested_vmcs *vmcs,
			    uint64_t efer, bool pat)
{
	unsigned n = nested_host_state(vmcs, efer, h->f);

	h->n = 0;
	for (unsigned i = 0; i < n; i++)
		if (pat || h->f[i].field != VMCS_GUEST_IA32_PAT)
			h->f[h->n++] = h->f[i];
	h->cr0 = nested_vmcs_get(vmcs, VMCS_HOST_CR0);
	h->cr3 = nested_vmcs_get(vmcs, VMCS_HOST_CR3);
	h->cr4 = nested_vmcs_get(vmcs, VMCS_HOST_CR4);
	h->wide = nested_host_64bit(vmcs);
	h->msr_load = nested_vmcs_get(vmcs, VMCS_EXIT_MSR_LOAD_COUNT) != 0;
}
