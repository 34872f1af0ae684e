FUZZERS += fuzz_efi_memmap
fuzz_efi_memmap_SRCS := tests/fuzz/fuzz_efi_memmap.c boot/efi_memmap.c
fuzz_efi_memmap_SEEDS := $(BUILD)/fuzz/efi-memmap.bin

$(BUILD)/fuzz/efi-memmap.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< efi-memmap > $@
