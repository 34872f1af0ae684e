UNIT_TESTS += test_hpet
test_hpet_SRCS := tests/unit/test_hpet.c vmm/dev/hpet.c vmm/dev/state_io.c
