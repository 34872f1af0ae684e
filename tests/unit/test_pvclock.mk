UNIT_TESTS += test_pvclock
test_pvclock_SRCS := tests/unit/test_pvclock.c vmm/dev/pvclock.c
