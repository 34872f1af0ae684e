UNIT_TESTS += test_vcpu_start
test_vcpu_start_SRCS := tests/unit/test_vcpu_start.c vmm/vm/vcpu_start.c
