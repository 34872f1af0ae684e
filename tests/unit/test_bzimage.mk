UNIT_TESTS += test_bzimage
test_bzimage_SRCS := tests/unit/test_bzimage.c vmm/load/bzimage.c vmm/load/errmsg.c vmm/load/memmap.c
