UNIT_TESTS += test_image
test_image_SRCS := tests/unit/test_image.c vmm/load/image.c vmm/load/errmsg.c vmm/load/elf.c vmm/load/memmap.c \
                   vmm/load/multiboot1.c vmm/load/multiboot2.c
