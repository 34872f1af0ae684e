/* The VMX capability MSRs of Bochs' corei7_haswell_4770 model, as
 * pgvisor reads them (/work/shared/notes/bochs-vmx.md): test data shared
 * by the unit tests of the capability checks and of nested VMX. */
#ifndef TESTS_UNIT_BOCHS_VMX_CAPS_H
#define TESTS_UNIT_BOCHS_VMX_CAPS_H

#include "vmm/vmx/vmx_caps.h"

static const struct vmx_caps bochs_haswell_caps = {
	.basic = 0x00d810000000002bull,
	.pinbased = 0x0000007f00000016ull,
	.procbased = 0xf7f9fffe0401e172ull,
	.exit = 0x007fffff00036dffull,
	.entry = 0x0000ffff000011ffull,
	.true_pinbased = 0x0000007f00000016ull,
	.true_procbased = 0xf7f9fffe04006172ull,
	.true_exit = 0x007fffff00036dfbull,
	.true_entry = 0x0000ffff000011fbull,
	.procbased2 = 0x00047fff00000000ull,
	.misc = 0x00000000200401e0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x001727ffull,
	.ept_vpid = 0x00000f0106334141ull,
	.vmcs_enum = 0x34,
	.vmfunc = 1,
};

#endif
