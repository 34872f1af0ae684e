UNIT_TESTS += test_fault_inject
# fault_inject.c and page_alloc.c are included by the test itself, which
# defines FAULT_INJECT before them (a normal build has neither hook).
test_fault_inject_SRCS := tests/unit/test_fault_inject.c
