UNIT_TESTS += test_ahci
test_ahci_SRCS := tests/unit/test_ahci.c drivers/storage/ahci_cmd.c
