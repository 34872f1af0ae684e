FUZZERS += fuzz_gdb_packet
fuzz_gdb_packet_SRCS := tests/fuzz/fuzz_gdb_packet.c vmm/debug/gdbstub.c vmm/debug/gdb_packet.c \
	vmm/debug/gdb_regs.c
fuzz_gdb_packet_SEEDS := tests/fuzz/gdb_session.seed
fuzz_gdb_packet_DICT := tests/fuzz/gdb.dict
