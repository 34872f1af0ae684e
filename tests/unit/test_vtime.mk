UNIT_TESTS += test_vtime
test_vtime_SRCS := tests/unit/test_vtime.c vmm/dev/vtime.c
