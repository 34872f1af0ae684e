UNIT_TESTS += test_madt
test_madt_SRCS := tests/unit/test_madt.c arch/x86/madt.c
