UNIT_TESTS += test_multiboot2_info
test_multiboot2_info_SRCS := tests/unit/test_multiboot2_info.c boot/multiboot2_info.c \
                             boot/efi_memmap.c
