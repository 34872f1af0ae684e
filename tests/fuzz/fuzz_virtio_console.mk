FUZZERS += fuzz_virtio_console
fuzz_virtio_console_SRCS := tests/fuzz/fuzz_virtio_console.c tests/fuzz/fuzz_pci.c \
                            tests/fuzz/fuzz_io.c vmm/dev/virtio/virtio_console.c \
                            vmm/dev/virtio/virtio_pci.c vmm/dev/virtio/virtqueue.c \
                            vmm/dev/pci_device.c vmm/dev/pci_host.c vmm/dev/iobus.c \
                            vmm/dev/mmio.c vmm/dev/line_out.c vmm/dev/state_io.c
fuzz_virtio_console_SEEDS := $(BUILD)/fuzz/virtio-console.bin

$(BUILD)/fuzz/virtio-console.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< virtio-console > $@
