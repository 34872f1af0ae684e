FUZZERS += fuzz_vm_records
fuzz_vm_records_SRCS := tests/fuzz/fuzz_vm_records.c vmm/migrate/vcpu_record.c \
                        vmm/migrate/config_record.c vmm/migrate/page_data.c vmm/dev/state_io.c
