FUZZERS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c $(CONFIG_SRCS)
fuzz_config_SEEDS := $(wildcard configs/*.cfg configs/*/*.cfg)
fuzz_config_DICT := tests/fuzz/config.dict
