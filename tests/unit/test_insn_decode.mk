UNIT_TESTS += test_insn_decode
test_insn_decode_SRCS := tests/unit/test_insn_decode.c vmm/cpu/insn_decode.c
