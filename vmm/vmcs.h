/* Building a vCPU's VMCS: execution controls, host state and the initial
 * guest state. */
#ifndef PGVISOR_VMCS_H
#define PGVISOR_VMCS_H

#include "vmm/image.h"
#include "vmm/vcpu.h"

/* Allocates (once) and fills the VMCS of v for a guest entering at entry in
 * 32-bit protected mode with paging off (the Multiboot machine state), and
 * leaves it current on this CPU. Returns 0 or -1 with err filled. */
int vmcs_setup(struct vcpu *v, const struct image_entry *entry, char *err, unsigned errlen);

/* The guest CPL (SS.DPL; SDM 25.4.1). */
unsigned vmcs_guest_cpl(void);
/* Advances the guest RIP past the instruction that exited and clears the
 * STI/MOV-SS blocking it may have had (SDM 27.2.5). */
void vmcs_skip_instruction(void);
/* Queues a hardware exception for the next VM entry (SDM 26.6). */
void vmcs_inject_exception(unsigned vector, bool has_error, uint32_t error);

#define VEC_UD 6
#define VEC_GP 13

#endif
