UNIT_TESTS += test_stream_push
test_stream_push_SRCS := tests/unit/test_stream_push.c vmm/migrate/stream_push.c \
	vmm/migrate/stream.c vmm/migrate/page_data.c vmm/migrate/migrate_policy.c \
	vmm/dev/state_io.c arch/x86/lib/crc32c.c
