UNIT_TESTS += test_ept
test_ept_SRCS := tests/unit/test_ept.c vmm/vmx/ept.c arch/x86/page_alloc.c
