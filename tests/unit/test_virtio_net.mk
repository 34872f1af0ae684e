UNIT_TESTS += test_virtio_net
test_virtio_net_SRCS := tests/unit/test_virtio_net.c vmm/dev/virtio/virtio_net.c \
	vmm/dev/virtio/virtio_pci.c vmm/dev/virtio/virtqueue.c vmm/dev/pci_device.c \
	vmm/dev/net_switch.c vmm/dev/state_io.c
