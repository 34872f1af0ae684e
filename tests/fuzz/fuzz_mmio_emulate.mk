FUZZERS += fuzz_mmio_emulate
fuzz_mmio_emulate_SRCS := tests/fuzz/fuzz_mmio_emulate.c vmm/cpu/mmio_emulate.c \
                          vmm/cpu/insn_decode.c vmm/dev/mmio.c
fuzz_mmio_emulate_DICT := tests/fuzz/insn.dict
