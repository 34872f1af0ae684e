UNIT_TESTS += test_scancode
test_scancode_SRCS := tests/unit/test_scancode.c drivers/scancode.c
