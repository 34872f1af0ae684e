FUZZERS += fuzz_mb2_info
fuzz_mb2_info_SRCS := tests/fuzz/fuzz_mb2_info.c boot/multiboot2_info.c boot/efi_memmap.c
fuzz_mb2_info_SEEDS := $(BUILD)/fuzz/mb2-info.bin

$(BUILD)/fuzz/mb2-info.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< mb2-info > $@
