UNIT_TESTS += test_mmio
test_mmio_SRCS := tests/unit/test_mmio.c vmm/dev/mmio.c vmm/cpu/mmio_emulate.c vmm/cpu/insn_decode.c
