UNIT_TESTS += test_vpid_map
test_vpid_map_SRCS := tests/unit/test_vpid_map.c vmm/nested/vpid_map.c
