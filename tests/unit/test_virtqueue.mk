UNIT_TESTS += test_virtqueue
test_virtqueue_SRCS := tests/unit/test_virtqueue.c vmm/dev/virtio/virtqueue.c
