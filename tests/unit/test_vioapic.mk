UNIT_TESTS += test_vioapic
test_vioapic_SRCS := tests/unit/test_vioapic.c vmm/dev/vioapic.c vmm/dev/state_io.c
