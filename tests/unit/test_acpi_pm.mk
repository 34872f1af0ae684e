UNIT_TESTS += test_acpi_pm
test_acpi_pm_SRCS := tests/unit/test_acpi_pm.c vmm/dev/acpi_pm.c vmm/dev/iobus.c vmm/dev/state_io.c
