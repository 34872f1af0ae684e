/* Unit tests for vmm/vmx/vmcs_check.c: a fake VMCS holding the guest state
 * vmm/cpu/vmcs.c writes for a 32-bit protected-mode Multiboot entry, first as
 * is, then with one rule broken at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/vmx/vmcs_check.h"
#include "vmm/vmx/vmcs_fields.h"

#define MAX_FIELDS 96

struct fake_vmcs {
	struct {
		uint32_t field;
		uint64_t value;
	} f[MAX_FIELDS];
	unsigned n;
	unsigned reads_of_unset; /* fields read that were never written */
};

static void vmcs_set(struct fake_vmcs *v, uint32_t field, uint64_t value)
{
	for (unsigned i = 0; i < v->n; i++) {
		if (v->f[i].field == field) {
			v->f[i].value = value;
			return;
		}
	}
	assert_true(v->n < MAX_FIELDS);
	v->f[v->n].field = field;
	v->f[v->n].value = value;
	v->n++;
}

static uint64_t vmcs_get(const struct fake_vmcs *v, uint32_t field)
{
	for (unsigned i = 0; i < v->n; i++)
		if (v->f[i].field == field)
			return v->f[i].value;
	fail_msg("field %#x not in the fake VMCS", field);
	return 0;
}

static uint64_t fake_read(uint32_t field, void *ctx)
{
	struct fake_vmcs *v = ctx;

	for (unsigned i = 0; i < v->n; i++)
		if (v->f[i].field == field)
			return v->f[i].value;
	/* A real VMCS field nobody wrote reads as 0. */
	v->reads_of_unset++;
	return 0;
}

/* Bochs corei7_haswell_4770 fixed-bit MSRs. */
static const struct vmx_caps caps = {
	.basic = 0x00d810000000002bull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x001727ffull,
	.misc = 0x00000000200401e0ull,
};

#define AR_CODE32 0xc09b
#define AR_DATA32 0xc093
#define AR_TSS32_BUSY 0x008b

static void write_segment(struct fake_vmcs *v, unsigned idx, uint16_t sel, uint32_t limit,
			  uint32_t ar)
{
	vmcs_set(v, VMCS_GUEST_ES_SEL + 2 * idx, sel);
	vmcs_set(v, VMCS_GUEST_ES_LIMIT + 2 * idx, limit);
	vmcs_set(v, VMCS_GUEST_ES_AR + 2 * idx, ar);
	vmcs_set(v, VMCS_GUEST_ES_BASE + 2 * idx, 0);
}

enum { ES, CS, SS, DS, FS, GS, LDTR, TR };

/* What vmm/cpu/vmcs.c writes for a Multiboot entry under unrestricted guest. */
static void valid_state(struct fake_vmcs *v)
{
	memset(v, 0, sizeof(*v));
	vmcs_set(v, VMCS_PIN_BASED_CTLS, 0x7f); /* with virtual NMIs */
	vmcs_set(v, VMCS_PROC_BASED_CTLS,
		 0x04006172 | PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
			 PROC_ACTIVATE_SECONDARY);
	vmcs_set(v, VMCS_PROC_BASED_CTLS2,
		 PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID);
	vmcs_set(v, VMCS_EXIT_CTLS,
		 0x36dfb | EXIT_SAVE_DEBUG_CONTROLS | (1u << 9) | (1u << 15) | (3u << 20));
	vmcs_set(v, VMCS_ENTRY_CTLS, 0x11fb | ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_EFER);
	vmcs_set(v, VMCS_ENTRY_INTR_INFO, 0);
	vmcs_set(v, VMCS_GUEST_CR0, 0x31); /* PE | ET | NE, paging off */
	vmcs_set(v, VMCS_GUEST_CR3, 0);
	vmcs_set(v, VMCS_GUEST_CR4, 0x2000); /* VMXE */
	write_segment(v, CS, 0x08, 0xffffffff, AR_CODE32);
	write_segment(v, SS, 0x10, 0xffffffff, AR_DATA32);
	write_segment(v, DS, 0x10, 0xffffffff, AR_DATA32);
	write_segment(v, ES, 0x10, 0xffffffff, AR_DATA32);
	write_segment(v, FS, 0x10, 0xffffffff, AR_DATA32);
	write_segment(v, GS, 0x10, 0xffffffff, AR_DATA32);
	write_segment(v, LDTR, 0, 0, AR_UNUSABLE);
	write_segment(v, TR, 0, 0x67, AR_TSS32_BUSY);
	vmcs_set(v, VMCS_GUEST_GDTR_BASE, 0);
	vmcs_set(v, VMCS_GUEST_GDTR_LIMIT, 0);
	vmcs_set(v, VMCS_GUEST_IDTR_BASE, 0);
	vmcs_set(v, VMCS_GUEST_IDTR_LIMIT, 0);
	vmcs_set(v, VMCS_GUEST_RIP, 0x100000);
	vmcs_set(v, VMCS_GUEST_RSP, 0);
	vmcs_set(v, VMCS_GUEST_RFLAGS, 0x2);
	vmcs_set(v, VMCS_GUEST_DR7, 0x400);
	vmcs_set(v, VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_set(v, VMCS_GUEST_IA32_EFER, 0);
	vmcs_set(v, VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_set(v, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_set(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_set(v, VMCS_LINK_POINTER, ~0ull);
}

/* A valid 64-bit guest: IA-32e entry with EFER.LMA/LME, PG and PAE, CS.L,
 * RIP above 4 GiB. */
static void make_ia32e(struct fake_vmcs *v)
{
	vmcs_set(v, VMCS_ENTRY_CTLS, 0x11fb | ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST);
	vmcs_set(v, VMCS_GUEST_IA32_EFER, (1u << 8) | (1u << 10));
	vmcs_set(v, VMCS_GUEST_CR0, 0x80000031);
	vmcs_set(v, VMCS_GUEST_CR4, 0x2020);
	write_segment(v, CS, 0x08, 0xffffffff, 0xa09b);
	vmcs_set(v, VMCS_GUEST_RIP, 0xffffffff80001000ull);
}

static int check(struct fake_vmcs *v, char *msg, size_t len)
{
	strcpy(msg, "untouched");
	return vmcs_check_guest_state(fake_read, v, &caps, msg, len);
}

static void test_valid_state_passes(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[256];

	valid_state(&v);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("valid state rejected: %s", msg);
	assert_int_equal(v.reads_of_unset, 0);
}

static void test_other_valid_states_pass(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[256];

	/* Real mode (unrestricted guest): CR0 without PE, data-type code
	 * segments are fine for CS with DPL 0. */
	valid_state(&v);
	vmcs_set(&v, VMCS_GUEST_CR0, 0x30);
	write_segment(&v, CS, 0xf000, 0xffff, 0x93);
	write_segment(&v, SS, 0, 0xffff, 0x93);
	write_segment(&v, TR, 0, 0xffff, 0x8b);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("real-mode state rejected: %s", msg);

	valid_state(&v);
	make_ia32e(&v);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("64-bit state rejected: %s", msg);

	/* HLT activity state with SS.DPL 0; STI blocking alone; unusable data
	 * segments. */
	valid_state(&v);
	vmcs_set(&v, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vmcs_set(&v, VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
	vmcs_set(&v, VMCS_GUEST_RFLAGS, 0x202);
	write_segment(&v, FS, 0, 0, AR_UNUSABLE);
	write_segment(&v, GS, 0, 0, AR_UNUSABLE | 0xff00); /* garbage ignored when unusable */
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("HLT state rejected: %s", msg);

	/* An NMI injected after its handler's IRET; an instruction pgvisor
	 * completed under MOV-SS blocking with TF: the step's trap pending. */
	valid_state(&v);
	vmcs_set(&v, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
	vmcs_set(&v, VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
	vmcs_set(&v, VMCS_GUEST_RFLAGS, 0x202);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("NMI injection rejected: %s", msg);
	valid_state(&v);
	vmcs_set(&v, VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS);
	vmcs_set(&v, VMCS_GUEST_RFLAGS, 0x102);
	vmcs_set(&v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("single-step under MOV SS rejected: %s", msg);
	/* BTF: TF traps branches only, so no step is owed. */
	vmcs_set(&v, VMCS_GUEST_IA32_DEBUGCTL, 2);
	vmcs_set(&v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("branch-stepping under MOV SS rejected: %s", msg);
}

struct broken {
	const char *what;
	uint32_t field;
	uint64_t value;
	uint32_t field2; /* 0: none */
	uint64_t value2;
	const char *needle; /* the rule the message must name */
};

static const struct broken broken_states[] = {
	{ "CR4 without VMXE", VMCS_GUEST_CR4, 0, 0, 0, "CR4" },
	{ "CR4 bit above FIXED1", VMCS_GUEST_CR4, 0x2000 | (1u << 23), 0, 0, "CR4" },
	{ "CR0 without NE", VMCS_GUEST_CR0, 0x11, 0, 0, "CR0" },
	{ "CR0 bit 32", VMCS_GUEST_CR0, 0x100000031ull, 0, 0, "CR0" },
	{ "CR0.PG without PE", VMCS_GUEST_CR0, 0x80000030, 0, 0, "CR0.PG" },
	{ "CS unusable", VMCS_GUEST_CS_AR, AR_UNUSABLE, 0, 0, "CS must be usable" },
	{ "TR unusable", VMCS_GUEST_TR_AR, AR_UNUSABLE, 0, 0, "TR must be usable" },
	{ "TR type 9 (available TSS)", VMCS_GUEST_TR_AR, 0x89, 0, 0, "TR has a type" },
	{ "TR with S set", VMCS_GUEST_TR_AR, 0x9b, 0, 0, "TR has a type" },
	{ "SS type 11 (code)", VMCS_GUEST_SS_AR, 0xc09b, 0, 0, "SS has a type" },
	{ "CS type 3 with DPL 3", VMCS_GUEST_CS_AR, 0xc0f3, 0, 0, "data-type CS" },
	{ "CS non-accessed code", VMCS_GUEST_CS_AR, 0xc09a, 0, 0, "CS has a type" },
	{ "DS execute-only code", VMCS_GUEST_DS_AR, 0xc099, 0, 0, "DS has a type" },
	{ "ES not accessed", VMCS_GUEST_ES_AR, 0xc092, 0, 0, "ES has a type" },
	{ "LDTR usable type 3", VMCS_GUEST_LDTR_AR, 0x83, 0, 0, "LDTR has a type" },
	{ "DS not present", VMCS_GUEST_DS_AR, 0xc013, 0, 0, "DS must be present" },
	{ "FS reserved AR bit 8", VMCS_GUEST_FS_AR, 0xc193, 0, 0, "FS access rights" },
	{ "GS limit 4G with G clear", VMCS_GUEST_GS_AR, 0x4093, 0, 0, "GS limit and G" },
	{ "CS limit 0xfffff000 + G", VMCS_GUEST_CS_LIMIT, 0xfffff000, 0, 0, "CS limit and G" },
	{ "TR limit 0x67 with G set", VMCS_GUEST_TR_AR, 0x808b, 0, 0, "TR limit and G" },
	{ "RFLAGS bit 1 clear", VMCS_GUEST_RFLAGS, 0, 0, 0, "RFLAGS" },
	{ "RFLAGS bit 3 set", VMCS_GUEST_RFLAGS, 0xa, 0, 0, "RFLAGS" },
	{ "RFLAGS bit 22 set", VMCS_GUEST_RFLAGS, 0x400002, 0, 0, "RFLAGS" },
	{ "RIP above 4 GiB in 32-bit mode", VMCS_GUEST_RIP, 0x100000000ull, 0, 0, "RIP" },
	{ "EFER.LMA without IA-32e entry", VMCS_GUEST_IA32_EFER, (1u << 8) | (1u << 10), 0, 0,
	  "EFER.LMA differs from the IA-32e" },
	{ "EFER reserved bit", VMCS_GUEST_IA32_EFER, 1u << 9, 0, 0, "IA32_EFER reserved" },
	{ "IA-32e entry without paging", VMCS_ENTRY_CTLS,
	  0x11fb | ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST, VMCS_GUEST_IA32_EFER,
	  (1u << 8) | (1u << 10), "IA-32e mode guest needs CR0.PG" },
	{ "CR4.PCIDE outside IA-32e", VMCS_GUEST_CR4, 0x2000 | (1u << 17), 0, 0, "PCIDE" },
	{ "DR7 high bits", VMCS_GUEST_DR7, 1ull << 32, VMCS_ENTRY_CTLS,
	  0x11fb | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_DEBUG_CONTROLS, "DR7" },
	{ "activity state 5", VMCS_GUEST_ACTIVITY_STATE, 5, 0, 0, "activity state" },
	{ "HLT with SS.DPL 3", VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT, VMCS_GUEST_SS_AR, 0xc0f3,
	  "HLT activity state needs SS.DPL 0" },
	{ "STI and MOV-SS blocking", VMCS_GUEST_INTERRUPTIBILITY,
	  INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS, 0, 0, "STI and by MOV SS" },
	{ "interruptibility reserved bit", VMCS_GUEST_INTERRUPTIBILITY, 1u << 5, 0, 0,
	  "interruptibility-state reserved" },
	{ "link pointer 0", VMCS_LINK_POINTER, 0, 0, 0, "link pointer" },
	{ "NMI injected into MOV-SS blocking", VMCS_ENTRY_INTR_INFO,
	  INTR_INFO_VALID | INTR_TYPE_NMI | 2, VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS,
	  "blocking by MOV SS" },
	{ "NMI injected into NMI blocking", VMCS_ENTRY_INTR_INFO,
	  INTR_INFO_VALID | INTR_TYPE_NMI | 2, VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_NMI,
	  "virtual-NMI blocking" },
	{ "pending debug reserved bit 4", VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4, 0, 0,
	  "pending debug exceptions reserved" },
	{ "TF under STI blocking without BS", VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI,
	  VMCS_GUEST_RFLAGS, 0x302, "BS must match RFLAGS.TF" },
	{ "BS in HLT without TF", VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT,
	  VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14, "BS must match RFLAGS.TF" },
	{ "GDTR limit above 0xffff", VMCS_GUEST_GDTR_LIMIT, 0x10000, 0, 0, "GDTR/IDTR limit" },
	{ "RFLAGS.VM in real mode", VMCS_GUEST_RFLAGS, 0x20002, VMCS_GUEST_CR0, 0x30, "RFLAGS.VM" },
};

/* Broken starting from a valid 64-bit (IA-32e) state. */
static const struct broken broken_states_64[] = {
	{ "CS.L and CS.D in IA-32e", VMCS_GUEST_CS_AR, 0xe09b, 0, 0, "CS.L and CS.D" },
	{ "IA-32e without CR4.PAE", VMCS_GUEST_CR4, 0x2000, 0, 0, "CR4.PAE" },
	{ "EFER.LME clear with paging", VMCS_GUEST_IA32_EFER, 1u << 10, 0, 0,
	  "EFER.LMA differs from EFER.LME" },
	{ "TR 16-bit busy TSS in IA-32e", VMCS_GUEST_TR_AR, 0x83, 0, 0, "TR has a type" },
	{ "RIP above 4 GiB in compatibility mode", VMCS_GUEST_CS_AR, 0xc09b, 0, 0, "RIP" },
};

static void check_broken(const struct broken *b, bool ia32e)
{
	struct fake_vmcs v;
	char msg[256];

	valid_state(&v);
	if (ia32e)
		make_ia32e(&v);
	(void)vmcs_get(&v, b->field); /* must break a field that exists */
	vmcs_set(&v, b->field, b->value);
	if (b->field2)
		vmcs_set(&v, b->field2, b->value2);
	int rc = check(&v, msg, sizeof(msg));
	if (rc != -1)
		fail_msg("%s: accepted (rc %d)", b->what, rc);
	if (!strstr(msg, b->needle))
		fail_msg("%s: message \"%s\" does not name \"%s\"", b->what, msg, b->needle);
	if (!strstr(msg, "SDM 26.3.1"))
		fail_msg("%s: message \"%s\" cites no SDM section", b->what, msg);
}

static void test_broken_states(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(broken_states) / sizeof(broken_states[0]); i++)
		check_broken(&broken_states[i], false);
}

static void test_broken_states_64(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(broken_states_64) / sizeof(broken_states_64[0]); i++)
		check_broken(&broken_states_64[i], true);
}

static void test_failure_reports_value(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[256];

	valid_state(&v);
	vmcs_set(&v, VMCS_GUEST_RIP, 0x123456789ull);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "0x123456789"));

	valid_state(&v);
	vmcs_set(&v, VMCS_GUEST_TR_AR, 0x89);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "0x89"));
}

static void test_restricted_guest(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[256];

	/* Without unrestricted guest CR0.PE and PG are checked against
	 * FIXED0 (0x80000021): the Multiboot state (paging off) fails. */
	valid_state(&v);
	vmcs_set(&v, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "CR0"));

	/* Likewise when the secondary controls are not activated at all. */
	valid_state(&v);
	vmcs_set(&v, VMCS_PROC_BASED_CTLS, 0x04006172 | PROC_HLT_EXITING);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "CR0"));

	/* With paging on it gets as far as SS.DPL vs. the selector's RPL. */
	valid_state(&v);
	vmcs_set(&v, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT);
	vmcs_set(&v, VMCS_GUEST_CR0, 0x80000031);
	vmcs_set(&v, VMCS_GUEST_SS_SEL, 0x13);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "SS.DPL must equal the RPL"));
	vmcs_set(&v, VMCS_GUEST_SS_SEL, 0x10);
	if (check(&v, msg, sizeof(msg)) != 0)
		fail_msg("paged restricted state rejected: %s", msg);
}

static void test_ss_dpl_with_data_type_cs(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[256];

	/* SDM 26.3.1.2, SS: "The DPL must be 0 either if the Type in the
	 * access-rights field for CS is 3 or if bit 0 in the CR0 field
	 * (corresponding to CR0.PE) is 0." Protected mode, data-type CS
	 * (DPL 0, allowed under unrestricted guest), SS.DPL 3. */
	valid_state(&v);
	write_segment(&v, CS, 0x08, 0xffffffff, 0xc093);
	write_segment(&v, SS, 0x13, 0xffffffff, 0xc0f3);
	assert_int_equal(check(&v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "SS.DPL"));
}

static void test_small_message_buffer(void **state)
{
	(void)state;
	struct fake_vmcs v;
	char msg[16];

	valid_state(&v);
	vmcs_set(&v, VMCS_LINK_POINTER, 0);
	memset(msg, 'x', sizeof(msg));
	assert_int_equal(vmcs_check_guest_state(fake_read, &v, &caps, msg, sizeof(msg)), -1);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
}

/* SDM 26.2.1.3: an injected #GP delivers its error code in protected
 * mode, and in real mode (unrestricted guest, CR0.PE = 0) none: asking
 * for one there made VMRESUME fail (the chaos guest's real-mode WRMSR to
 * an MSR that does not exist). Vectors without an error code never get
 * the bit. */
static void test_exception_info_error_code(void **state)
{
	(void)state;
	const uint64_t protected_cr0 = 0x80000031, real_cr0 = 0x30;
	const uint32_t gp = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | 13;

	assert_int_equal(vmcs_exception_info(13, true, protected_cr0),
			 gp | INTR_INFO_DELIVER_ERROR_CODE);
	assert_int_equal(vmcs_exception_info(13, true, real_cr0), gp);
	assert_int_equal(vmcs_exception_info(6, false, protected_cr0),
			 INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_state_passes),
		cmocka_unit_test(test_other_valid_states_pass),
		cmocka_unit_test(test_broken_states),
		cmocka_unit_test(test_broken_states_64),
		cmocka_unit_test(test_failure_reports_value),
		cmocka_unit_test(test_restricted_guest),
		cmocka_unit_test(test_ss_dpl_with_data_type_cs),
		cmocka_unit_test(test_small_message_buffer),
		cmocka_unit_test(test_exception_info_error_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
