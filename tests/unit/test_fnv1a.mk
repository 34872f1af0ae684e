UNIT_TESTS += test_fnv1a
test_fnv1a_SRCS := tests/unit/test_fnv1a.c arch/x86/lib/fnv1a.c
