# Guest programs: freestanding 32-bit i386 ELF files that boot the
# Multiboot way, under GRUB or pgvisor. Included by the top Makefile.

GUEST_BUILD := $(BUILD)/guests
GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -m32 -march=i686 -ffreestanding -fno-pic -fno-pie \
                -fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only -I.
GUEST_ASFLAGS := -m32 -I. -g
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
                 -T guest/lib/guest.ld

# The Multiboot header objects are linked into each program, one or the
# other, so the same code boots both ways.
GUEST_HEADERS := guest/lib/mb1_header.S guest/lib/mb2_header.S
GUEST_LIB_SRC := $(filter-out $(GUEST_HEADERS),$(wildcard guest/lib/*.c guest/lib/*.S))
guest_obj = $(patsubst %,$(GUEST_BUILD)/obj/%.o,$(1))
GUEST_LIB_OBJ := $(call guest_obj,$(GUEST_LIB_SRC))
GUEST_MB1 := $(call guest_obj,guest/lib/mb1_header.S)
GUEST_MB2 := $(call guest_obj,guest/lib/mb2_header.S)
GUEST_ELFS := $(GUEST_BUILD)/hello.elf $(GUEST_BUILD)/hello-mb1.elf $(GUEST_BUILD)/oob.elf \
              $(GUEST_BUILD)/probe.elf $(GUEST_BUILD)/smptest.elf

guests: $(GUEST_ELFS)

$(GUEST_BUILD)/obj/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/obj/%.S.o: %.S | deps
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

# $(call guest_link,MULTIBOOT_HEADER_OBJ,PROGRAM_OBJS)
define guest_link
	$(LD) $(GUEST_LDFLAGS) -o $@ $(1) $(2) $(GUEST_LIB_OBJ)
endef

$(GUEST_BUILD)/hello.elf: $(GUEST_MB2) $(call guest_obj,guest/hello/hello.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/hello/hello.c))
	grub-file --is-x86-multiboot2 $@

$(GUEST_BUILD)/hello-mb1.elf: $(GUEST_MB1) $(call guest_obj,guest/hello/hello.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB1),$(call guest_obj,guest/hello/hello.c))
	grub-file --is-x86-multiboot $@

$(GUEST_BUILD)/oob.elf: $(GUEST_MB2) $(call guest_obj,guest/oob/oob.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/oob/oob.c))
	grub-file --is-x86-multiboot2 $@

$(GUEST_BUILD)/probe.elf: $(GUEST_MB2) $(call guest_obj,guest/probe/probe.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/probe/probe.c))
	grub-file --is-x86-multiboot2 $@

SMPTEST_OBJ := $(call guest_obj,guest/smptest/smptest.c guest/smptest/irq_stubs.S)
$(GUEST_BUILD)/smptest.elf: $(GUEST_MB2) $(SMPTEST_OBJ) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(SMPTEST_OBJ))
	grub-file --is-x86-multiboot2 $@

-include $(patsubst %.o,%.d,$(GUEST_LIB_OBJ) $(GUEST_MB1) $(GUEST_MB2) \
	$(call guest_obj,guest/hello/hello.c guest/oob/oob.c guest/probe/probe.c) $(SMPTEST_OBJ))

# Memory outside RAM and the TSC MSRs (guest/memtest, tests/system/test_unbacked.py).
$(GUEST_BUILD)/memtest.elf: $(GUEST_MB2) $(call guest_obj,guest/memtest/memtest.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/memtest/memtest.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/memtest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/memtest/memtest.c))

# The Popek-Goldberg lab suite (guest/pglab).
PGLAB_SRC := guest/pglab/pglab.c guest/pglab/forms.c guest/pglab/forms.S guest/pglab/lab_asm.S
$(GUEST_BUILD)/pglab.elf: $(GUEST_MB2) $(call guest_obj,$(PGLAB_SRC)) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,$(PGLAB_SRC)))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/pglab.elf
-include $(patsubst %.o,%.d,$(call guest_obj,$(PGLAB_SRC)))

# The benchmark guest (guest/bench, make bench).
BENCH_SRC := guest/bench/bench.c guest/bench/io.c guest/bench/workloads.c guest/bench/irq_stubs.S
$(GUEST_BUILD)/bench.elf: $(GUEST_MB2) $(call guest_obj,$(BENCH_SRC)) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,$(BENCH_SRC)))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/bench.elf
-include $(patsubst %.o,%.d,$(call guest_obj,$(BENCH_SRC)))

# The hostile virtio driver (guest/vqhostile, tests/system/test_virtio_hostile.py).
$(GUEST_BUILD)/vqhostile.elf: $(GUEST_MB2) $(call guest_obj,guest/vqhostile/vqhostile.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/vqhostile/vqhostile.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/vqhostile.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/vqhostile/vqhostile.c))

# NMIs, debug registers and single-stepping (guest/eventtest, tests/system/test_events.py).
EVENTTEST_SRC := guest/eventtest/eventtest.c guest/eventtest/events.S
$(GUEST_BUILD)/eventtest.elf: $(GUEST_MB2) $(call guest_obj,$(EVENTTEST_SRC)) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,$(EVENTTEST_SRC)))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/eventtest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,$(EVENTTEST_SRC)))

# Periodic ticks against the TSC on a shared CPU (guest/ticktest, tests/system/test_timer_mode.py).
TICKTEST_SRC := guest/ticktest/ticktest.c guest/ticktest/irq_stubs.S
$(GUEST_BUILD)/ticktest.elf: $(GUEST_MB2) $(call guest_obj,$(TICKTEST_SRC)) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,$(TICKTEST_SRC)))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/ticktest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,$(TICKTEST_SRC)))

# The local APIC and HLT equivalence checks (guest/apictest, tests/system/test_apic.py).
APICTEST_SRC := guest/apictest/apictest.c guest/apictest/irq_stubs.S
$(GUEST_BUILD)/apictest.elf: $(GUEST_MB2) $(call guest_obj,$(APICTEST_SRC)) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,$(APICTEST_SRC)))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/apictest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,$(APICTEST_SRC)))

# The gdb stub's test guest (guest/gdbtest, tests/system/test_gdb.py).
$(GUEST_BUILD)/gdbtest.elf: $(GUEST_MB2) $(call guest_obj,guest/gdbtest/gdbtest.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/gdbtest/gdbtest.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/gdbtest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/gdbtest/gdbtest.c))

# The guest hypervisor that checks nested VMX (guest/vmxtest, tests/system/test_nested.py).
$(GUEST_BUILD)/vmxtest.elf: $(GUEST_MB2) $(call guest_obj,guest/vmxtest/vmxtest.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/vmxtest/vmxtest.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/vmxtest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/vmxtest/vmxtest.c))

# The chaos guest (guest/chaos, tests/system/test_chaos.py): 64-bit, so it
# builds the guest/lib files it uses a second time, for x86-64.
CHAOS_CFLAGS := -std=c11 -O2 -g $(WARN) -m64 -ffreestanding -fno-pic -fno-pie -mno-red-zone \
                -fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only -I.
CHAOS_SRC := guest/chaos/entry.S guest/chaos/modes.S guest/chaos/chaos.c guest/chaos/ops.c \
             guest/chaos/modes.c guest/chaos/virtio_op.c guest/lib/console.c guest/lib/string.c \
             guest/lib/bootinfo.c guest/lib/virtio.c guest/lib/mb2_header.S
CHAOS_OBJ := $(patsubst %,$(GUEST_BUILD)/obj64/%.o,$(CHAOS_SRC))

$(GUEST_BUILD)/obj64/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CHAOS_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/obj64/%.S.o: %.S | deps
	@mkdir -p $(dir $@)
	$(CC) -m64 -I. -g -MMD -MP -c $< -o $@

$(GUEST_BUILD)/chaos.elf: $(CHAOS_OBJ) guest/chaos/chaos.ld
	$(LD) -m elf_x86_64 -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
		-T guest/chaos/chaos.ld -o $@ $(CHAOS_OBJ)
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/chaos.elf
-include $(patsubst %.o,%.d,$(CHAOS_OBJ))

# The chaos guest's neighbour (guest/checker, tests/system/test_chaos.py).
$(GUEST_BUILD)/checker.elf: $(GUEST_MB2) $(call guest_obj,guest/checker/checker.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/checker/checker.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/checker.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/checker/checker.c))

# The save/restore test guest (guest/dirtytest, tests/system/test_save_restore.py).
$(GUEST_BUILD)/dirtytest.elf: $(GUEST_MB2) $(call guest_obj,guest/dirtytest/dirtytest.c) $(GUEST_LIB_OBJ) guest/lib/guest.ld
	$(call guest_link,$(GUEST_MB2),$(call guest_obj,guest/dirtytest/dirtytest.c))
	grub-file --is-x86-multiboot2 $@
guests: $(GUEST_BUILD)/dirtytest.elf
-include $(patsubst %.o,%.d,$(call guest_obj,guest/dirtytest/dirtytest.c))
