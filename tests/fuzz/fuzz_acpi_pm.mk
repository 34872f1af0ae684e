FUZZERS += fuzz_acpi_pm
fuzz_acpi_pm_SRCS := tests/fuzz/fuzz_acpi_pm.c tests/fuzz/fuzz_io.c vmm/dev/acpi_pm.c vmm/dev/state_io.c \
                     vmm/dev/iobus.c
