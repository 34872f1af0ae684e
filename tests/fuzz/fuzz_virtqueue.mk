FUZZERS += fuzz_virtqueue
fuzz_virtqueue_SRCS := tests/fuzz/fuzz_virtqueue.c vmm/dev/virtio/virtqueue.c
