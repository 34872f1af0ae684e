UNIT_TESTS += test_selftest
test_selftest_SRCS := tests/unit/test_selftest.c drivers/selftest.c arch/x86/lib/cmdline.c
