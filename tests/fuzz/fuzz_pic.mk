FUZZERS += fuzz_pic
fuzz_pic_SRCS := tests/fuzz/fuzz_pic.c tests/fuzz/fuzz_io.c vmm/dev/pic.c vmm/dev/iobus.c vmm/dev/state_io.c
