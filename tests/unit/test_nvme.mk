UNIT_TESTS += test_nvme
test_nvme_SRCS := tests/unit/test_nvme.c drivers/storage/nvme_cmd.c drivers/storage/nvme_queue.c
