FUZZERS += fuzz_hpet
fuzz_hpet_SRCS := tests/fuzz/fuzz_hpet.c tests/fuzz/fuzz_io.c vmm/dev/hpet.c vmm/dev/iobus.c vmm/dev/state_io.c
