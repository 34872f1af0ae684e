FUZZERS += fuzz_vioapic
fuzz_vioapic_SRCS := tests/fuzz/fuzz_vioapic.c vmm/dev/vioapic.c vmm/dev/state_io.c
