UNIT_TESTS += test_config
test_config_SRCS := tests/unit/test_config.c vmm/config.c vmm/trap_policy.c
