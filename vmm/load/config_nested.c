#include "vmm/load/config_nested.h"

#include <string.h>

static const struct {
	const char *name;
	enum nested_profile profile;
} profiles[] = {
	{ "kvm", NESTED_PROFILE_KVM },
	{ "host", NESTED_PROFILE_HOST },
};

int config_nested_profile(const char *name, enum nested_profile *out)
{
	for (unsigned i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (strcmp(name, profiles[i].name) == 0) {
			*out = profiles[i].profile;
			return 0;
		}
	}
	return -1;
}
