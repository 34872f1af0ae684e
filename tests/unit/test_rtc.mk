UNIT_TESTS += test_rtc
test_rtc_SRCS := tests/unit/test_rtc.c vmm/dev/rtc.c vmm/dev/iobus.c vmm/dev/state_io.c
