FUZZERS += fuzz_bzimage
fuzz_bzimage_SRCS := tests/fuzz/fuzz_bzimage.c vmm/load/bzimage.c vmm/load/errmsg.c \
                     vmm/load/memmap.c
# A minimal header, and the Linux guest's kernel cut down when it is built.
FUZZ_KERNEL := $(wildcard $(BUILD)/guests/linux/vmlinuz)
fuzz_bzimage_SEEDS := $(BUILD)/fuzz/bzimage-minimal.bin \
                      $(if $(FUZZ_KERNEL),$(BUILD)/fuzz/bzimage-linux.bin)

$(BUILD)/fuzz/bzimage-minimal.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< bzimage > $@
$(BUILD)/fuzz/bzimage-linux.bin: tests/fuzz/seeds.py $(FUZZ_KERNEL)
	@mkdir -p $(dir $@)
	$(PYTHON) $< bzimage $(FUZZ_KERNEL) > $@
