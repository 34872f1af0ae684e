UNIT_TESTS += test_iobus
test_iobus_SRCS := tests/unit/test_iobus.c vmm/dev/iobus.c
