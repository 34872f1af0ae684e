UNIT_TESTS += test_placement
test_placement_SRCS := tests/unit/test_placement.c vmm/core/placement.c
