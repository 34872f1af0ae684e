/* The config keys of nested VMX (vmm/nested/):
 *
 *   nested = 1                 # 0 (default): VMX hidden from the guest
 *   nested_profile = "kvm"     # "kvm" (default) or "host": which of the
 *                              # host's VMX features the guest's CPU offers
 */
#ifndef PGVISOR_CONFIG_NESTED_H
#define PGVISOR_CONFIG_NESTED_H

#include "vmm/nested/nested_caps.h"

/* The profile named name; -1 for an unknown name. */
int config_nested_profile(const char *name, enum nested_profile *out);

#endif
