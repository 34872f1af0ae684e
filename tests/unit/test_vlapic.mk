UNIT_TESTS += test_vlapic
test_vlapic_SRCS := tests/unit/test_vlapic.c vmm/dev/vlapic.c vmm/dev/vlapic_timer.c vmm/dev/state_io.c
