# pgvisor — a bare-metal hypervisor for x86-64 VT-x.
#
#   make            hypervisor (build/pgvisor.elf), its UEFI loader
#                   (build/pgvisor.efi) and guests (build/guests/)
#   make guest-linux  Debian kernel + busybox initramfs (with the virtio
#                   modules) and ext4 disk images in build/guests/linux/
#   make FAULT_INJECT=1  also build/pgvisor-fi.elf, the test build with
#                   fault injection (fault= on its command line)
#   make iso        build/pgvisor.iso booting configs/$(DEMO)
#   make esp        build/pgvisor-esp.img: an EFI system partition, the same
#   make run        boot the demo in $(EMU) (bochs | qemu | kvm)
#   make test       unit tests (plain and ASan/UBSan), each fuzzer for
#                   $(FUZZ_CI_S) s, system tests
#   make fuzz       each libFuzzer harness (tests/fuzz/) for $(FUZZ_S) s;
#                   FUZZ_ONLY=fuzz_uart picks some
#   make lab        the Popek-Goldberg lab: build/lab/pg-table.md, pg-chart.svg
#   make bench      performance figures: build/bench/results.json, exit-cost.svg
#   make format     clang-format every C file in place

# Every CPU builds unless the command line says otherwise (make -jN).
MAKEFLAGS += -j$(shell nproc)

BUILD   := build
CC      := gcc
LD      := ld
EMU     ?= bochs
DEMO    ?= configs/demo/shell.cfg configs/demo/linux.cfg configs/demo/hello.cfg
RUN_MEM ?= 320
PYTHON  := /usr/bin/python3

WARN    := -Wall -Wextra -Werror
KCFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
           -mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-omit-frame-pointer \
           -fno-asynchronous-unwind-tables --param=min-pagesize=0 \
           -I. -isystem arch/x86/lib/include
KASFLAGS := -I. -g
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -T linker.ld

# Every C and assembly file of the hypervisor, one concept each.
KSRC := $(wildcard boot/*.c boot/*.S arch/x86/*.c arch/x86/*.S arch/x86/lib/*.c \
                   drivers/*.c drivers/*/*.c vmm/*.c vmm/*/*.c vmm/*/*/*.c vmm/*/*.S)
KOBJ := $(patsubst %,$(BUILD)/k/%.o,$(KSRC)) $(BUILD)/k/font.c.o

all: deps $(BUILD)/pgvisor.elf $(BUILD)/pgvisor.efi guests

# The framebuffer console's font, generated from a console-setup PSF font.
FONT_PSF := /usr/share/consolefonts/Uni2-VGA16.psf.gz
$(BUILD)/gen/font.c: scripts/mkfont scripts/psf.py | deps
	@mkdir -p $(dir $@)
	scripts/mkfont $(FONT_PSF) $@
$(BUILD)/k/font.c.o: $(BUILD)/gen/font.c
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# Installs missing Debian packages once per checkout (see scripts/deps.sh).
deps: $(BUILD)/.deps-ok
$(BUILD)/.deps-ok: scripts/deps.sh
	@mkdir -p $(BUILD)
	scripts/deps.sh
	@touch $@

$(BUILD)/k/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.S.o: %.S | deps
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

# libgcc supplies the 128-bit division the time conversions use.
LIBGCC := $(shell $(CC) -print-libgcc-file-name)
$(BUILD)/pgvisor.elf: $(KOBJ) linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KOBJ) $(LIBGCC)
	grub-file --is-x86-multiboot2 $@

# The test build with fault injection (arch/x86/fault_inject.h): the same
# sources with -DFAULT_INJECT, in build/k-fi/, linked as build/pgvisor-fi.elf.
# make FAULT_INJECT=1 builds it too; a normal build has none of it.
KOBJ_FI := $(patsubst %,$(BUILD)/k-fi/%.o,$(KSRC)) $(BUILD)/k/font.c.o
$(BUILD)/k-fi/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -DFAULT_INJECT -MMD -MP -c $< -o $@
$(BUILD)/k-fi/%.S.o: %.S | deps
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -DFAULT_INJECT -MMD -MP -c $< -o $@
$(BUILD)/pgvisor-fi.elf: $(KOBJ_FI) linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KOBJ_FI) $(LIBGCC)
	grub-file --is-x86-multiboot2 $@
ifeq ($(FAULT_INJECT),1)
all: $(BUILD)/pgvisor-fi.elf
endif

# The UEFI loader (boot/efi/): a gnu-efi application, linked as a PIC shared
# object with gnu-efi's crt0 and linker script, then turned into PE/COFF.
# It embeds build/pgvisor.elf and shares the config parser, the EFI memory
# map conversion and the freestanding libc with the hypervisor.
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
ECFLAGS  := -std=c11 -O2 $(WARN) -ffreestanding -fno-stack-protector -fno-stack-check -fpic \
            -fshort-wchar -mno-red-zone -mgeneral-regs-only -maccumulate-outgoing-args \
            -DGNU_EFI_USE_MS_ABI -I. -I$(BUILD)/efi -isystem arch/x86/lib/include \
            -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64
# The VM config reader, also built into the EFI loader, unit tests and fuzzers.
CONFIG_SRCS := vmm/load/config.c vmm/load/config_devices.c vmm/load/config_path.c \
               vmm/load/config_nested.c vmm/vmx/trap_policy.c arch/x86/lib/fnv1a.c
ESRC := $(wildcard boot/efi/*.c) boot/efi_memmap.c $(CONFIG_SRCS) \
        arch/x86/lib/format.c arch/x86/lib/string.c
EOBJ := $(patsubst %,$(BUILD)/efi/%.o,$(ESRC)) $(BUILD)/efi/boot/efi/kernel_blob.S.o

# The hypervisor's 64-bit entry for the loader, and the image it embeds.
$(BUILD)/efi/kernel_entry.h: $(BUILD)/pgvisor.elf
	@mkdir -p $(dir $@)
	echo "#define KERNEL_EFI_ENTRY 0x$$(nm $< | awk '$$3 == "efi_entry64" { print $$1 }')ull" > $@
$(BUILD)/efi/pgvisor-stripped.elf: $(BUILD)/pgvisor.elf
	@mkdir -p $(dir $@)
	objcopy --strip-debug $< $@
$(BUILD)/efi/boot/efi/loader.c.o: $(BUILD)/efi/kernel_entry.h
$(BUILD)/efi/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ECFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/efi/boot/efi/kernel_blob.S.o: boot/efi/kernel_blob.S $(BUILD)/efi/pgvisor-stripped.elf
	@mkdir -p $(dir $@)
	$(CC) -c -DKERNEL_ELF='"$(BUILD)/efi/pgvisor-stripped.elf"' $< -o $@
$(BUILD)/efi/pgvisor.so: $(EOBJ)
	$(LD) -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined -T $(EFI_LIB)/elf_x86_64_efi.lds \
	      -o $@ $(EFI_LIB)/crt0-efi-x86_64.o $(EOBJ) $(EFI_LIB)/libgnuefi.a
$(BUILD)/pgvisor.efi: $(BUILD)/efi/pgvisor.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .reloc \
	        --target efi-app-x86_64 --subsystem=10 $< $@

include guest/guest.mk
include guest/linux/linux.mk

# Host unit tests: each tests/unit/NAME.mk adds NAME to UNIT_TESTS and lists
# NAME_SRCS (the test and the hypervisor files it exercises). Every test is
# built twice: plain and with ASan/UBSan.
include $(wildcard tests/unit/*.mk)
HCFLAGS := -std=c11 -O1 -g $(WARN) -I. -D_DEFAULT_SOURCE -DHOST_TEST
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
define unit_test
$(BUILD)/tests/plain/$(1): $$($(1)_SRCS) | deps
	@mkdir -p $$(dir $$@)
	$(CC) $(HCFLAGS) -MMD -MP -o $$@ $$($(1)_SRCS) -lcmocka
$(BUILD)/tests/asan/$(1): $$($(1)_SRCS) | deps
	@mkdir -p $$(dir $$@)
	$(CC) $(HCFLAGS) $(SANITIZE) -MMD -MP -o $$@ $$($(1)_SRCS) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test,$(t))))
UNIT_BINS := $(foreach t,$(UNIT_TESTS),$(BUILD)/tests/plain/$(t) $(BUILD)/tests/asan/$(t))
unit-tests: $(UNIT_BINS)

# libFuzzer harnesses: each tests/fuzz/NAME.mk adds NAME to FUZZERS, lists
# NAME_SRCS (the harness and the hypervisor files it drives) and may name
# NAME_SEEDS (project files that seed its corpus) and NAME_DICT. Built with
# Debian's clang, ASan and UBSan, like the unit tests with -DHOST_TEST.
# scripts/runtests runs build/fuzz/NAME over build/fuzz/NAME.corpus (which
# grows from run to run) and build/fuzz/NAME.seeds, with NAME.dict.
include $(wildcard tests/fuzz/*.mk)
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -I. -D_DEFAULT_SOURCE -DHOST_TEST \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SUPPORT := tests/fuzz/fuzz_support.c
FUZZ_CI_S ?= 6
FUZZ_S ?= 600
FUZZ_ONLY ?= $(FUZZERS)
define fuzzer
$(BUILD)/fuzz/$(1): $$($(1)_SRCS) $(FUZZ_SUPPORT) | deps
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -o $$@ $$($(1)_SRCS) $(FUZZ_SUPPORT)
$(BUILD)/fuzz/$(1).seeds.ok: $$($(1)_SEEDS)
	rm -rf $(BUILD)/fuzz/$(1).seeds && mkdir -p $(BUILD)/fuzz/$(1).seeds
	for f in $$^; do cp $$$$f $(BUILD)/fuzz/$(1).seeds/$$$$(echo $$$$f | tr / _); done
	touch $$@
$(BUILD)/fuzz/$(1).dict: $$($(1)_DICT)
	@mkdir -p $$(dir $$@)
	cat /dev/null $$^ > $$@
$(1): $(BUILD)/fuzz/$(1) $(BUILD)/fuzz/$(1).seeds.ok $(BUILD)/fuzz/$(1).dict
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzzer,$(f))))
FUZZ_BINS := $(foreach f,$(FUZZERS),$(BUILD)/fuzz/$(f))
fuzzers: $(FUZZERS)
fuzz: $(FUZZ_ONLY)
	$(PYTHON) scripts/runtests --no-system --fuzz-seconds $(FUZZ_S) \
	          $(foreach f,$(FUZZ_ONLY),--fuzzer $(BUILD)/fuzz/$(f))

iso: $(BUILD)/pgvisor.iso
$(BUILD)/pgvisor.iso: all guest-linux $(DEMO)
	scripts/mkiso $@ $(DEMO)

# A disk image with an EFI system partition: pgvisor.efi and the demo.
esp: $(BUILD)/pgvisor-esp.img
$(BUILD)/pgvisor-esp.img: all guest-linux $(DEMO)
	scripts/mkesp $@ $(DEMO)

RUN_TIMEOUT ?= 1800
run: $(BUILD)/pgvisor.iso
	scripts/run --emu $(EMU) --mem $(RUN_MEM) --timeout $(RUN_TIMEOUT) $(BUILD)/pgvisor.iso

test: all unit-tests fuzzers check-format check-layers
	$(PYTHON) scripts/runtests --fuzz-seconds $(FUZZ_CI_S) \
	          $(foreach b,$(FUZZ_BINS),--fuzzer $(b)) $(UNIT_BINS)

# The Popek-Goldberg lab (scripts/lab): guest/pglab bare and under each
# trap preset in Bochs.
lab: all
	$(PYTHON) scripts/lab --out $(BUILD)/lab

# Performance figures (scripts/bench): exit costs, slowdown against bare,
# footprint and, after make guest-linux, the Linux boot; in Bochs.
bench: all
	$(PYTHON) scripts/bench --out $(BUILD)/bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# Every #include goes down the layers (scripts/check-layers), never in a circle.
check-layers:
	$(PYTHON) scripts/check-layers

clean:
	rm -rf $(BUILD)

.PHONY: all deps guests iso esp run test unit-tests fuzzers fuzz $(FUZZERS) format check-format check-layers clean lab bench
-include $(KOBJ:.o=.d) $(KOBJ_FI:.o=.d) $(EOBJ:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_BINS:=.d)
