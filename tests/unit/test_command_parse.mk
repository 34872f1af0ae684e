UNIT_TESTS += test_command_parse
test_command_parse_SRCS := tests/unit/test_command_parse.c vmm/console/command_parse.c vmm/load/errmsg.c
