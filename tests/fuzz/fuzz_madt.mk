FUZZERS += fuzz_madt
fuzz_madt_SRCS := tests/fuzz/fuzz_madt.c arch/x86/madt.c
fuzz_madt_SEEDS := $(BUILD)/fuzz/madt.bin

$(BUILD)/fuzz/madt.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< madt > $@
