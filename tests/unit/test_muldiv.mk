UNIT_TESTS += test_muldiv
test_muldiv_SRCS := tests/unit/test_muldiv.c
