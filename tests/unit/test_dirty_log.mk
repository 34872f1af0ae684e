UNIT_TESTS += test_dirty_log
test_dirty_log_SRCS := tests/unit/test_dirty_log.c vmm/vmx/dirty_log.c vmm/vmx/ept.c \
	arch/x86/page_alloc.c
