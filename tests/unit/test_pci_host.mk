UNIT_TESTS += test_pci_host
test_pci_host_SRCS := tests/unit/test_pci_host.c vmm/dev/pci_host.c vmm/dev/pci_device.c \
                      vmm/dev/iobus.c vmm/dev/mmio.c vmm/dev/state_io.c
