UNIT_TESTS += test_virtio_blk
test_virtio_blk_SRCS := tests/unit/test_virtio_blk.c vmm/dev/virtio/virtio_blk.c \
                        vmm/dev/virtio/virtio_pci.c vmm/dev/virtio/virtqueue.c vmm/dev/pci_device.c \
                        drivers/storage/partition.c drivers/storage/blockdev.c \
                        vmm/dev/state_io.c
