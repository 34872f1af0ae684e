UNIT_TESTS += test_pit
test_pit_SRCS := tests/unit/test_pit.c vmm/dev/pit.c vmm/dev/iobus.c vmm/dev/state_io.c
