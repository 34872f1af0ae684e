UNIT_TESTS += test_fbcon
test_fbcon_SRCS := tests/unit/test_fbcon.c drivers/fbcon.c $(BUILD)/gen/font.c
