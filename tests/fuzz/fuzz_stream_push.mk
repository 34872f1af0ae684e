FUZZERS += fuzz_stream_push
fuzz_stream_push_SRCS := tests/fuzz/fuzz_stream_push.c vmm/migrate/stream_push.c \
                         vmm/migrate/stream.c vmm/migrate/page_data.c vmm/dev/state_io.c \
                         arch/x86/lib/crc32c.c
fuzz_stream_push_SEEDS := $(BUILD)/fuzz/migration-stream.bin

$(BUILD)/fuzz/migration-stream.bin: tests/fuzz/seeds.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< migration-stream > $@
