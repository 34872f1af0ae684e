/* A software model of the VM-entry checks on the guest-state area (SDM
 * Vol. 3 26.3.1). When hardware refuses an entry it says only "invalid
 * guest state"; this names the rule. Reads fields through a callback so
 * the host unit tests can feed it any VMCS. */
#ifndef PGVISOR_VMCS_CHECK_H
#define PGVISOR_VMCS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vmx/vmx_caps.h"

typedef uint64_t (*vmcs_read_fn)(uint32_t field, void *ctx);

/* Returns 0 when every modelled check passes, else -1 with the first
 * failed rule in msg. */
int vmcs_check_guest_state(vmcs_read_fn read, void *ctx, const struct vmx_caps *caps, char *msg,
			   size_t msglen);

/* The one check on RIP (SDM 26.3.1.4): bits 63:32 zero unless the
 * guest enters 64-bit mode (IA-32e mode guest, CS.L). */
bool vmcs_guest_rip_ok(uint64_t entry_ctls, uint64_t cs_ar, uint64_t rip);

/* The VM-entry interruption information that injects hardware exception
 * vector, with its error code if has_error and the guest is in protected
 * mode: in real mode (CR0.PE = 0 under unrestricted guest) an exception
 * pushes none, and an entry asking for one fails as an invalid control
 * field (SDM Vol. 3 26.2.1.3). */
uint32_t vmcs_exception_info(unsigned vector, bool has_error, uint64_t guest_cr0);

#endif
