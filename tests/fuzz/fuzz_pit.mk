FUZZERS += fuzz_pit
fuzz_pit_SRCS := tests/fuzz/fuzz_pit.c tests/fuzz/fuzz_io.c vmm/dev/pit.c vmm/dev/iobus.c vmm/dev/state_io.c
