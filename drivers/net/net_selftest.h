#ifndef PGVISOR_NET_SELFTEST_H
#define PGVISOR_NET_SELFTEST_H

#include <stdbool.h>

#define NET_SELFTEST_FRAMES 64

/* pgvisor's command line "selftest=net": every NIC pgvisor drives, put in
 * PHY loopback, sends NET_SELFTEST_FRAMES frames of different lengths and
 * must get each back intact, in order. One line a NIC
 * ("pgvisor: selftest: net nic0: link up, 64 frames looped back intact:
 * passed"). True when every NIC passed (and there is one). */
bool net_selftest(void);

#endif
