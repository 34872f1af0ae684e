FUZZERS += fuzz_control_request
fuzz_control_request_SRCS := tests/fuzz/fuzz_control_request.c vmm/console/json_request.c \
	vmm/console/control_request.c vmm/console/command_parse.c vmm/load/errmsg.c
fuzz_control_request_SEEDS := tests/fuzz/control_request.seed
fuzz_control_request_DICT := tests/fuzz/control.dict
