UNIT_TESTS += test_mmio
test_mmio_SRCS := tests/unit/test_mmio.c vmm/mmio.c vmm/mmio_emulate.c vmm/insn_decode.c
