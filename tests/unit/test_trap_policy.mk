UNIT_TESTS += test_trap_policy
test_trap_policy_SRCS := tests/unit/test_trap_policy.c vmm/vmx/trap_policy.c
