#include "vmm/vmx/trap_policy.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/lib/name_list.h"
#include "vmm/vmx/vmcs_fields.h"

struct trap_def {
	const char *name;
	uint32_t procbased, procbased2; /* the controls that make it exit */
};

/* SDM Vol. 3 25.6.2 (tables 25-6, 25-7). */
static const struct trap_def traps[TRAP_COUNT] = {
	[TRAP_DESCRIPTOR_TABLES] = { "descriptor-tables", 0, PROC2_DESCRIPTOR_TABLE_EXITING },
	[TRAP_RDTSC] = { "rdtsc", PROC_RDTSC_EXITING, 0 },
	[TRAP_CR3] = { "cr3", PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING, 0 },
	[TRAP_INVLPG] = { "invlpg", PROC_INVLPG_EXITING, 0 },
	[TRAP_DR] = { "dr", PROC_MOV_DR_EXITING, 0 },
	[TRAP_RDPMC] = { "rdpmc", PROC_RDPMC_EXITING, 0 },
	[TRAP_WBINVD] = { "wbinvd", 0, PROC2_WBINVD_EXITING },
	[TRAP_PAUSE] = { "pause", PROC_PAUSE_EXITING, 0 },
	[TRAP_MWAIT] = { "mwait", PROC_MWAIT_EXITING | PROC_MONITOR_EXITING, 0 },
	/* The guest may set CR4.UMIP where the CPU lacks it: SGDT, SIDT,
	 * SLDT and STR exit and fault at CPL > 0 (SDM Vol. 3 2.5). */
	[TRAP_UMIP] = { "umip", 0, PROC2_DESCRIPTOR_TABLE_EXITING },
};

static const struct {
	const char *name;
	uint32_t bits;
} presets[] = {
	{ "minimal", TRAP_PRESET_MINIMAL },
	{ "default", TRAP_PRESET_DEFAULT },
	{ "all", TRAP_PRESET_ALL },
};

const char *trap_name(enum trap t)
{
	return (unsigned)t < TRAP_COUNT ? traps[t].name : "?";
}

int trap_lookup(const char *name, uint32_t *bits)
{
	for (unsigned t = 0; t < TRAP_COUNT; t++) {
		if (!strcmp(name, traps[t].name)) {
			*bits = TRAP_BIT(t);
			return 0;
		}
	}
	for (unsigned p = 0; p < sizeof(presets) / sizeof(presets[0]); p++) {
		if (!strcmp(name, presets[p].name)) {
			*bits = presets[p].bits;
			return 0;
		}
	}
	return -1;
}

int trap_compute_controls(uint32_t want, const struct vmx_caps *caps, struct trap_controls *out,
			  char *err, size_t errlen)
{
	bool use_true = caps->basic & VMX_BASIC_TRUE_CTLS;
	uint64_t proc = use_true ? caps->true_procbased : caps->procbased;
	uint32_t allowed = (uint32_t)(proc >> 32);
	/* Secondary controls exist only when the primary ones can enable them. */
	uint32_t allowed2 =
		(allowed & PROC_ACTIVATE_SECONDARY) ? (uint32_t)(caps->procbased2 >> 32) : 0;

	*out = (struct trap_controls){ 0, 0 };
	for (unsigned t = 0; t < TRAP_COUNT; t++) {
		if (!(want & TRAP_BIT(t)))
			continue;
		const struct trap_def *d = &traps[t];
		if ((d->procbased & ~allowed) || (d->procbased2 & ~allowed2)) {
			snprintf(err, errlen,
				 "trap \"%s\" is impossible: this CPU's VT-x cannot %s", d->name,
				 d->procbased2 & ~allowed2 ? "set the secondary control"
							   : "set the processor-based control");
			return -1;
		}
		out->procbased |= d->procbased;
		out->procbased2 |= d->procbased2;
	}
	return 0;
}

/* Names that do not fit are left out. */
void trap_format(uint32_t set, char *buf, size_t len)
{
	const char *names[TRAP_COUNT];

	for (unsigned t = 0; t < TRAP_COUNT; t++)
		names[t] = set & TRAP_BIT(t) ? traps[t].name : NULL;
	name_list_format(buf, len, names, TRAP_COUNT, " ");
}
