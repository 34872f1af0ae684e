UNIT_TESTS += test_cmdline
test_cmdline_SRCS := tests/unit/test_cmdline.c arch/x86/lib/cmdline.c
