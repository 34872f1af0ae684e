UNIT_TESTS += test_boot_conf
test_boot_conf_SRCS := tests/unit/test_boot_conf.c boot/efi/boot_conf.c $(CONFIG_SRCS)
