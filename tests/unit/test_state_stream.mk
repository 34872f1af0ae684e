UNIT_TESTS += test_state_stream
test_state_stream_SRCS := tests/unit/test_state_stream.c vmm/migrate/stream.c vmm/dev/state_io.c \
	arch/x86/lib/crc32c.c vmm/dev/uart.c vmm/dev/line_out.c vmm/dev/iobus.c vmm/dev/pic.c \
	vmm/dev/pit.c vmm/dev/rtc.c vmm/dev/acpi_pm.c vmm/dev/hpet.c vmm/dev/vioapic.c \
	vmm/dev/vlapic.c vmm/dev/vlapic_timer.c vmm/dev/pci_host.c vmm/dev/pci_device.c vmm/dev/mmio.c vmm/dev/sysctl.c
