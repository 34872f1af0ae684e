UNIT_TESTS += test_gdbstub
test_gdbstub_SRCS := tests/unit/test_gdbstub.c vmm/debug/gdbstub.c vmm/debug/gdb_packet.c \
	vmm/debug/gdb_regs.c
