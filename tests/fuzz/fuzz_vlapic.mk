FUZZERS += fuzz_vlapic
fuzz_vlapic_SRCS := tests/fuzz/fuzz_vlapic.c vmm/dev/vlapic.c vmm/dev/vlapic_timer.c vmm/dev/state_io.c
