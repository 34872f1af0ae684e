UNIT_TESTS += test_nested
test_nested_SRCS := tests/unit/test_nested.c vmm/nested/nested_caps.c vmm/nested/nested_vmcs.c \
                    vmm/nested/nested_vcpu.c vmm/nested/entry_check.c \
                    vmm/nested/host_state.c vmm/nested/l2_controls.c \
                    vmm/nested/shadow_ept.c vmm/nested/nested_ept.c vmm/nested/vmcs_shadowing.c vmm/nested/vmcs02_cache.c vmm/nested/vpid_map.c vmm/vmx/ept.c \
                    arch/x86/page_alloc.c
