UNIT_TESTS += test_ept
test_ept_SRCS := tests/unit/test_ept.c vmm/ept.c vmm/page_alloc.c
