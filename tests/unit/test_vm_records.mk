UNIT_TESTS += test_vm_records
test_vm_records_SRCS := tests/unit/test_vm_records.c vmm/migrate/vcpu_record.c \
	vmm/migrate/config_record.c vmm/migrate/page_data.c vmm/migrate/vm_stream_check.c \
	vmm/migrate/stream.c \
	vmm/dev/state_io.c arch/x86/lib/crc32c.c
