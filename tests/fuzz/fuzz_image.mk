FUZZERS += fuzz_image
fuzz_image_SRCS := tests/fuzz/fuzz_image.c vmm/load/image.c vmm/load/errmsg.c vmm/load/elf.c \
                   vmm/load/memmap.c vmm/load/multiboot1.c vmm/load/multiboot2.c
# The guests pgvisor ships, Multiboot 1 and 2 ELF files.
fuzz_image_SEEDS := $(BUILD)/guests/hello.elf $(BUILD)/guests/hello-mb1.elf \
                    $(BUILD)/guests/memtest.elf $(BUILD)/guests/oob.elf
