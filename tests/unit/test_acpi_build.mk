UNIT_TESTS += test_acpi_build
test_acpi_build_SRCS := tests/unit/test_acpi_build.c vmm/load/acpi_build.c vmm/load/errmsg.c
