UNIT_TESTS += test_efi_memmap
test_efi_memmap_SRCS := tests/unit/test_efi_memmap.c boot/efi_memmap.c
