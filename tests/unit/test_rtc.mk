UNIT_TESTS += test_rtc
test_rtc_SRCS := tests/unit/test_rtc.c vmm/dev_rtc.c vmm/iobus.c
