UNIT_TESTS += test_gpt
test_gpt_SRCS := tests/unit/test_gpt.c drivers/storage/gpt.c drivers/storage/crc32.c
