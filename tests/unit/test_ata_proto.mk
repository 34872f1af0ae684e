UNIT_TESTS += test_ata_proto
test_ata_proto_SRCS := tests/unit/test_ata_proto.c drivers/storage/ata_proto.c
