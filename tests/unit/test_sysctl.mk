UNIT_TESTS += test_sysctl
test_sysctl_SRCS := tests/unit/test_sysctl.c vmm/dev/sysctl.c vmm/dev/iobus.c vmm/dev/state_io.c
