UNIT_TESTS += test_virtio_console
test_virtio_console_SRCS := tests/unit/test_virtio_console.c vmm/dev/virtio/virtio_console.c \
	vmm/dev/virtio/virtio_pci.c vmm/dev/virtio/virtqueue.c vmm/dev/pci_device.c \
	vmm/dev/line_out.c vmm/dev/state_io.c
