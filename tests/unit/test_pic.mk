UNIT_TESTS += test_pic
test_pic_SRCS := tests/unit/test_pic.c vmm/dev_pic.c vmm/iobus.c
