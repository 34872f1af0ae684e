UNIT_TESTS += test_pic
test_pic_SRCS := tests/unit/test_pic.c vmm/dev/pic.c vmm/dev/iobus.c vmm/dev/state_io.c
