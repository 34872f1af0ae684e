UNIT_TESTS += test_boot_conf
test_boot_conf_SRCS := tests/unit/test_boot_conf.c boot/efi/boot_conf.c vmm/load/config.c vmm/load/config_nested.c vmm/vmx/trap_policy.c
