UNIT_TESTS += test_control_json
test_control_json_SRCS := tests/unit/test_control_json.c vmm/console/json_writer.c \
	vmm/console/json_request.c vmm/console/control_request.c vmm/console/command_parse.c vmm/load/errmsg.c
