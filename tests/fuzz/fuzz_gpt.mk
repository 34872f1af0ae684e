FUZZERS += fuzz_gpt
fuzz_gpt_SRCS := tests/fuzz/fuzz_gpt.c drivers/storage/gpt.c drivers/storage/crc32.c
fuzz_gpt_SEEDS := $(BUILD)/fuzz/gpt.bin

# A disk as scripts/mkdisk writes one, cut to its table: the rest reads as
# zeros in the harness.
$(BUILD)/fuzz/gpt.bin: tests/fuzz/seeds.py scripts/mkdisk
	@mkdir -p $(dir $@)
	scripts/mkdisk --esp boot $(BUILD)/fuzz/gpt.img boot:64K scratch:256K data:64K
	$(PYTHON) $< gpt $(BUILD)/fuzz/gpt.img > $@
