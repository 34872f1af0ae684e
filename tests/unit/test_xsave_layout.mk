UNIT_TESTS += test_xsave_layout
test_xsave_layout_SRCS := tests/unit/test_xsave_layout.c vmm/cpu/xsave_layout.c
