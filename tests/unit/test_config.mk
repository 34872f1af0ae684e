UNIT_TESTS += test_config
test_config_SRCS := tests/unit/test_config.c vmm/load/config.c vmm/load/config_nested.c vmm/vmx/trap_policy.c
