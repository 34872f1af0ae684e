UNIT_TESTS += test_crc32c
test_crc32c_SRCS := tests/unit/test_crc32c.c arch/x86/lib/crc32c.c
