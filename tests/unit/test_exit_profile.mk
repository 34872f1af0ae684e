UNIT_TESTS += test_exit_profile
test_exit_profile_SRCS := tests/unit/test_exit_profile.c vmm/vm/exit_profile.c
