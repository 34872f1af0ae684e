FUZZERS += fuzz_virtio_blk
fuzz_virtio_blk_SRCS := tests/fuzz/fuzz_virtio_blk.c tests/fuzz/fuzz_pci.c tests/fuzz/fuzz_io.c \
                        vmm/dev/virtio/virtio_blk.c vmm/dev/virtio/virtio_pci.c \
                        vmm/dev/virtio/virtqueue.c vmm/dev/pci_device.c vmm/dev/pci_host.c \
                        vmm/dev/iobus.c vmm/dev/mmio.c drivers/storage/partition.c \
                        drivers/storage/blockdev.c vmm/dev/state_io.c
fuzz_virtio_blk_SEEDS := $(BUILD)/fuzz/virtio-blk.bin

$(BUILD)/fuzz/virtio-blk.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< virtio-blk > $@
