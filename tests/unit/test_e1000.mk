UNIT_TESTS += test_e1000
test_e1000_SRCS := tests/unit/test_e1000.c drivers/net/e1000.c
