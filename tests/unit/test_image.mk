UNIT_TESTS += test_image
test_image_SRCS := tests/unit/test_image.c vmm/image.c vmm/errmsg.c vmm/elf.c vmm/memmap.c \
                   vmm/multiboot1.c vmm/multiboot2.c
