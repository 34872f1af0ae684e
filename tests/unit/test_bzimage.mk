UNIT_TESTS += test_bzimage
test_bzimage_SRCS := tests/unit/test_bzimage.c vmm/bzimage.c vmm/errmsg.c vmm/memmap.c
