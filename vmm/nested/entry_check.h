/* The checks VMLAUNCH and VMRESUME make on a guest hypervisor's VMCS
 * before entering its guest: the VMX controls (SDM Vol. 3 26.2.1,
 * VM-instruction error 7) and the host-state area (26.2.2 and 26.2.3,
 * error 8), against the virtual CPU's capability MSRs. */
#ifndef PGVISOR_NESTED_ENTRY_CHECK_H
#define PGVISOR_NESTED_ENTRY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/nested/nested_caps.h"
#include "vmm/nested/nested_vmcs.h"

struct nested_entry_env {
	const struct nested_caps *caps;
	unsigned pa_bits; /* the guest's physical-address width (CPUID 0x80000008) */
	bool long_mode;	  /* the guest hypervisor runs with IA32_EFER.LMA = 1 */
};

/* Each returns 0 when every modelled check passes, else -1 with the
 * first failed rule in msg. */
int nested_check_controls(const struct nested_vmcs *vmcs, const struct nested_entry_env *env,
			  char *msg, size_t msglen);
int nested_check_host_state(const struct nested_vmcs *vmcs, const struct nested_entry_env *env,
			    char *msg, size_t msglen);

/* An EPT pointer VM entry and INVEPT accept (SDM 26.2.1.1): a memory
 * type and walk length the capabilities offer, no reserved bit. */
bool nested_eptp_valid(const struct nested_entry_env *env, uint64_t eptp);

#endif
