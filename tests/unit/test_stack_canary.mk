UNIT_TESTS += test_stack_canary
test_stack_canary_SRCS := tests/unit/test_stack_canary.c arch/x86/stack_canary.c
