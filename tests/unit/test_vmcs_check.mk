UNIT_TESTS += test_vmcs_check
test_vmcs_check_SRCS := tests/unit/test_vmcs_check.c vmm/vmx/vmcs_check.c
