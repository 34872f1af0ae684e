FUZZERS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c vmm/load/config.c vmm/load/config_nested.c vmm/vmx/trap_policy.c
fuzz_config_SEEDS := $(wildcard configs/*.cfg configs/*/*.cfg)
fuzz_config_DICT := tests/fuzz/config.dict
