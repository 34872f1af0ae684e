UNIT_TESTS += test_byte_ring
test_byte_ring_SRCS := tests/unit/test_byte_ring.c
