UNIT_TESTS += test_exit_trace
test_exit_trace_SRCS := tests/unit/test_exit_trace.c vmm/vm/exit_trace.c
