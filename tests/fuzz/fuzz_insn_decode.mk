FUZZERS += fuzz_insn_decode
fuzz_insn_decode_SRCS := tests/fuzz/fuzz_insn_decode.c vmm/cpu/insn_decode.c
fuzz_insn_decode_DICT := tests/fuzz/insn.dict
