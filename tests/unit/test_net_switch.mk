UNIT_TESTS += test_net_switch
test_net_switch_SRCS := tests/unit/test_net_switch.c vmm/dev/net_switch.c vmm/dev/net_uplink.c \
	drivers/net/netdev.c
