FUZZERS += fuzz_rtc
fuzz_rtc_SRCS := tests/fuzz/fuzz_rtc.c tests/fuzz/fuzz_io.c vmm/dev/rtc.c vmm/dev/iobus.c vmm/dev/state_io.c
