UNIT_TESTS += test_nested_ept
test_nested_ept_SRCS := tests/unit/test_nested_ept.c vmm/nested/nested_ept.c \
                        vmm/nested/shadow_ept.c vmm/vmx/ept.c arch/x86/page_alloc.c
