# pgvisor — a bare-metal hypervisor for x86-64 VT-x.
#
#   make            hypervisor (build/pgvisor.elf) and guests (build/guests/)
#   make guest-linux  Debian kernel + busybox initramfs in build/guests/linux/
#   make iso        build/pgvisor.iso booting configs/$(DEMO)
#   make run        boot the demo in $(EMU) (bochs | qemu | kvm)
#   make test       unit tests (plain and ASan/UBSan) + system tests
#   make lab        the Popek-Goldberg lab: build/lab/pg-table.md, pg-chart.svg
#   make bench      performance figures: build/bench/results.json, exit-cost.svg
#   make format     clang-format every C file in place

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
                   drivers/*.c vmm/*.c vmm/*.S)
KOBJ := $(patsubst %,$(BUILD)/k/%.o,$(KSRC))

all: deps $(BUILD)/pgvisor.elf guests

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

iso: $(BUILD)/pgvisor.iso
$(BUILD)/pgvisor.iso: all guest-linux $(DEMO)
	scripts/mkiso $@ $(DEMO)

RUN_TIMEOUT ?= 1800
run: $(BUILD)/pgvisor.iso
	scripts/run --emu $(EMU) --mem $(RUN_MEM) --timeout $(RUN_TIMEOUT) $(BUILD)/pgvisor.iso

test: all unit-tests check-format
	$(PYTHON) scripts/runtests $(UNIT_BINS)

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

clean:
	rm -rf $(BUILD)

.PHONY: all deps guests iso run test unit-tests format check-format clean lab bench
-include $(KOBJ:.o=.d) $(UNIT_BINS:=.d)
