#include "vmm/vmx/vmcs_check.h"

#include <stdbool.h>
#include <stdio.h>

#include "vmm/vmx/vmcs_fields.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_RESERVED ~((1ull << 0) | EFER_LME | EFER_LMA | (1ull << 11))
#define RFLAGS_RESERVED_ZERO ((1ull << 3) | (1ull << 5) | (1ull << 15) | ~0x3fffffull)
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_VM (1ull << 17)
#define AR_TYPE(ar) ((ar)&0xf)
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_RESERVED 0xfffe0f00u
#define TYPE_ACCESSED 1u
#define TYPE_CODE 8u
#define TYPE_READABLE 2u
#define INTERRUPTIBILITY_RESERVED ~0x1full
#define RFLAGS_TF (1ull << 8)
#define DEBUGCTL_BTF (1ull << 1)
#define PENDING_DBG_BS (1ull << 14)
/* B0-B3, enabled breakpoint (12), BS (14), RTM (16) */
#define PENDING_DBG_RESERVED ~(0xfull | (1ull << 12) | PENDING_DBG_BS | (1ull << 16))

struct ctx {
	vmcs_read_fn read;
	void *c;
	char *msg;
	size_t len;
};

static uint64_t rd(struct ctx *x, uint32_t f)
{
	return x->read(f, x->c);
}

static int fail(struct ctx *x, const char *rule, uint64_t value)
{
	snprintf(x->msg, x->len, "%s (value %#llx; SDM 26.3.1)", rule, (unsigned long long)value);
	return -1;
}

static bool limit_granularity_ok(uint32_t limit, uint32_t ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & AR_G))
		return false;
	return !((limit >> 20) && !(ar & AR_G));
}

static const char *const seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };

static int check_segments(struct ctx *x, bool unrestricted, bool ia32e)
{
	for (unsigned i = 0; i < 8; i++) {
		uint32_t ar = (uint32_t)rd(x, VMCS_GUEST_ES_AR + 2 * i);
		uint32_t limit = (uint32_t)rd(x, VMCS_GUEST_ES_LIMIT + 2 * i);
		char rule[96];

		if (ar & AR_UNUSABLE) {
			if (i == 1 || i == 7) {
				snprintf(rule, sizeof(rule), "%s must be usable", seg_names[i]);
				return fail(x, rule, ar);
			}
			continue;
		}
		if (ar & AR_RESERVED) {
			snprintf(rule, sizeof(rule), "%s access rights: reserved bits set",
				 seg_names[i]);
			return fail(x, rule, ar);
		}
		if (!(ar & AR_P)) {
			snprintf(rule, sizeof(rule), "%s must be present", seg_names[i]);
			return fail(x, rule, ar);
		}
		if (!limit_granularity_ok(limit, ar)) {
			snprintf(rule, sizeof(rule), "%s limit and G bit disagree", seg_names[i]);
			return fail(x, rule, limit);
		}
		unsigned type = AR_TYPE(ar);
		bool s = ar & AR_S;
		bool type_ok;
		switch (i) {
		case 1: /* CS: accessed code, or accessed read/write data (unrestricted) */
			type_ok = s && ((type & (TYPE_CODE | TYPE_ACCESSED)) ==
						(TYPE_CODE | TYPE_ACCESSED) ||
					(unrestricted && type == 3));
			if (type_ok && ia32e && (ar & AR_L) && (ar & AR_DB)) {
				snprintf(rule, sizeof(rule),
					 "CS.L and CS.D both set in IA-32e mode");
				return fail(x, rule, ar);
			}
			break;
		case 2: /* SS: read/write accessed data */
			type_ok = s && (type == 3 || type == 7);
			break;
		case 6: /* LDTR */
			type_ok = !s && type == 2;
			break;
		case 7: /* TR: busy TSS (16-bit only outside IA-32e) */
			type_ok = !s && (type == 11 || (!ia32e && type == 3));
			break;
		default: /* data segments: accessed, code only if readable */
			type_ok = s && (type & TYPE_ACCESSED) &&
				  (!(type & TYPE_CODE) || (type & TYPE_READABLE));
			break;
		}
		if (!type_ok) {
			snprintf(rule, sizeof(rule), "%s has a type not allowed there",
				 seg_names[i]);
			return fail(x, rule, ar);
		}
	}
	return 0;
}

/* The interruptibility state against the event being injected, and the
 * pending debug exceptions against single-stepping (SDM 26.3.1.5). */
static int check_event_state(struct ctx *x, uint64_t intr, uint64_t activity, uint64_t rflags)
{
	uint32_t inject = (uint32_t)rd(x, VMCS_ENTRY_INTR_INFO);
	bool nmi = (inject & INTR_INFO_VALID) && (inject & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI;

	if (nmi && (intr & INTERRUPTIBILITY_MOV_SS))
		return fail(x, "an NMI is injected into blocking by MOV SS", intr);
	if (nmi && (rd(x, VMCS_PIN_BASED_CTLS) & PIN_VIRTUAL_NMIS) && (intr & INTERRUPTIBILITY_NMI))
		return fail(x, "an NMI is injected into virtual-NMI blocking", intr);

	uint64_t pending = rd(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	if (pending & PENDING_DBG_RESERVED)
		return fail(x, "pending debug exceptions reserved bits set", pending);
	/* Where the step's trap is held back (STI, MOV SS, HLT), BS says
	 * whether one is owed: exactly when TF single-steps. */
	if ((intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) || activity == ACTIVITY_HLT) {
		bool stepping =
			(rflags & RFLAGS_TF) && !(rd(x, VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		if (stepping != !!(pending & PENDING_DBG_BS))
			return fail(x,
				    "pending debug exceptions BS must match RFLAGS.TF (and not "
				    "DEBUGCTL.BTF) under STI/MOV-SS blocking or HLT",
				    pending);
	}
	return 0;
}

int vmcs_check_guest_state(vmcs_read_fn read, void *c, const struct vmx_caps *caps, char *msg,
			   size_t msglen)
{
	struct ctx x = { read, c, msg, msglen };
	uint64_t proc2 = rd(&x, VMCS_PROC_BASED_CTLS2);
	uint64_t proc = rd(&x, VMCS_PROC_BASED_CTLS);
	bool unrestricted = (proc & PROC_ACTIVATE_SECONDARY) && (proc2 & PROC2_UNRESTRICTED_GUEST);
	uint64_t entry = rd(&x, VMCS_ENTRY_CTLS);
	bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
	uint64_t cr0 = rd(&x, VMCS_GUEST_CR0), cr4 = rd(&x, VMCS_GUEST_CR4);
	uint64_t fixed0 = caps->cr0_fixed0 & ~(unrestricted ? (CR0_PE | CR0_PG) : 0);

	if ((cr0 & fixed0) != fixed0 || (cr0 & ~caps->cr0_fixed1))
		return fail(&x, "guest CR0 violates IA32_VMX_CR0_FIXED0/FIXED1", cr0);
	if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
		return fail(&x, "guest CR0.PG is set but CR0.PE is clear", cr0);
	if ((cr4 & caps->cr4_fixed0) != caps->cr4_fixed0 || (cr4 & ~caps->cr4_fixed1))
		return fail(&x, "guest CR4 violates IA32_VMX_CR4_FIXED0/FIXED1", cr4);
	if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
		return fail(&x, "IA-32e mode guest needs CR0.PG and CR4.PAE", cr4);
	if (!ia32e && (cr4 & CR4_PCIDE))
		return fail(&x, "CR4.PCIDE set outside IA-32e mode", cr4);
	if ((entry & ENTRY_LOAD_DEBUG_CONTROLS) && (rd(&x, VMCS_GUEST_DR7) >> 32))
		return fail(&x, "guest DR7 bits 63:32 must be zero", rd(&x, VMCS_GUEST_DR7));
	if (entry & ENTRY_LOAD_IA32_EFER) {
		uint64_t efer = rd(&x, VMCS_GUEST_IA32_EFER);
		if (efer & EFER_RESERVED)
			return fail(&x, "guest IA32_EFER reserved bits set", efer);
		if (!!(efer & EFER_LMA) != ia32e)
			return fail(&x, "guest EFER.LMA differs from the IA-32e mode entry control",
				    efer);
		if ((cr0 & CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME))
			return fail(&x, "guest EFER.LMA differs from EFER.LME with paging on",
				    efer);
	}

	int r = check_segments(&x, unrestricted, ia32e);
	if (r)
		return r;
	uint32_t cs_ar = (uint32_t)rd(&x, VMCS_GUEST_CS_AR);
	uint32_t ss_ar = (uint32_t)rd(&x, VMCS_GUEST_SS_AR);
	if (!unrestricted && AR_DPL(ss_ar) != (rd(&x, VMCS_GUEST_SS_SEL) & 3))
		return fail(&x, "SS.DPL must equal the RPL of the SS selector", ss_ar);
	if ((!(cr0 & CR0_PE) || AR_TYPE(cs_ar) == 3) && AR_DPL(ss_ar) != 0)
		return fail(&x, "SS.DPL must be 0 in real mode or with a data-type CS", ss_ar);
	if (AR_TYPE(cs_ar) == 3 && AR_DPL(cs_ar) != 0)
		return fail(&x, "a data-type CS must have DPL 0", cs_ar);
	if (rd(&x, VMCS_GUEST_GDTR_LIMIT) >> 16 || rd(&x, VMCS_GUEST_IDTR_LIMIT) >> 16)
		return fail(&x, "GDTR/IDTR limit above 0xffff", rd(&x, VMCS_GUEST_GDTR_LIMIT));

	uint64_t rip = rd(&x, VMCS_GUEST_RIP);
	if (!vmcs_guest_rip_ok(entry, cs_ar, rip))
		return fail(&x, "RIP bits 63:32 must be zero outside 64-bit mode", rip);
	uint64_t rflags = rd(&x, VMCS_GUEST_RFLAGS);
	if ((rflags & RFLAGS_RESERVED_ZERO) || !(rflags & RFLAGS_FIXED1))
		return fail(&x, "guest RFLAGS reserved bits wrong", rflags);
	if ((ia32e || !(cr0 & CR0_PE)) && (rflags & RFLAGS_VM))
		return fail(&x, "RFLAGS.VM set in IA-32e mode or real mode", rflags);

	uint64_t activity = rd(&x, VMCS_GUEST_ACTIVITY_STATE);
	if (activity > ACTIVITY_WAIT_FOR_SIPI)
		return fail(&x, "activity state out of range", activity);
	if (activity == ACTIVITY_HLT && AR_DPL(ss_ar) != 0)
		return fail(&x, "HLT activity state needs SS.DPL 0", ss_ar);
	uint64_t intr = rd(&x, VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & INTERRUPTIBILITY_RESERVED)
		return fail(&x, "interruptibility-state reserved bits set", intr);
	if ((intr & INTERRUPTIBILITY_STI) && (intr & INTERRUPTIBILITY_MOV_SS))
		return fail(&x, "blocking by STI and by MOV SS both set", intr);
	r = check_event_state(&x, intr, activity, rflags);
	if (r)
		return r;
	if (rd(&x, VMCS_LINK_POINTER) != ~0ull)
		return fail(&x, "VMCS link pointer must be all ones (no shadow VMCS)",
			    rd(&x, VMCS_LINK_POINTER));
	return 0;
}

bool vmcs_guest_rip_ok(uint64_t entry_ctls, uint64_t cs_ar, uint64_t rip)
{
	return ((entry_ctls & ENTRY_IA32E_MODE_GUEST) && (cs_ar & AR_L)) || !(rip >> 32);
}

uint32_t vmcs_exception_info(unsigned vector, bool has_error, uint64_t guest_cr0)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | (vector & INTR_INFO_VECTOR_MASK);
	if (has_error && (guest_cr0 & CR0_PE))
		info |= INTR_INFO_DELIVER_ERROR_CODE;
	return info;
}
