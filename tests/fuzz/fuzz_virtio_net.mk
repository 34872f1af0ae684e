FUZZERS += fuzz_virtio_net
fuzz_virtio_net_SRCS := tests/fuzz/fuzz_virtio_net.c tests/fuzz/fuzz_pci.c tests/fuzz/fuzz_io.c \
                        vmm/dev/virtio/virtio_net.c vmm/dev/virtio/virtio_pci.c \
                        vmm/dev/virtio/virtqueue.c vmm/dev/pci_device.c vmm/dev/pci_host.c \
                        vmm/dev/iobus.c vmm/dev/mmio.c vmm/dev/net_switch.c vmm/dev/state_io.c
fuzz_virtio_net_SEEDS := $(BUILD)/fuzz/virtio-net.bin

$(BUILD)/fuzz/virtio-net.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< virtio-net > $@
