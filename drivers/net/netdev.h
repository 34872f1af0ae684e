/* An Ethernet controller pgvisor drives itself, whatever the chip: frames
 * sent and received by polling, never by interrupts. Drivers fill in a
 * struct netdev and register it; what lies above (a bridge's uplink, the
 * self-test) goes through the netdev_* calls, which serialize callers on
 * different CPUs (one lock for sending, one for receiving) and count. */
#ifndef PGVISOR_NETDEV_H
#define PGVISOR_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"

#define NETDEV_NAME_MAX 8
#define NETDEV_MAX 4
#define NETDEV_MAC_LEN 6

struct netdev;

struct netdev_ops {
	/* Queues one frame (without its FCS, which the controller appends):
	 * 0, or -1 when the transmit ring is full or len is out of range. */
	int (*transmit)(struct netdev *d, const void *frame, size_t len);
	/* Copies the next received frame into buf: its length, or 0 when
	 * none waits. Broken frames are counted and skipped. */
	size_t (*receive)(struct netdev *d, void *buf, size_t cap);
	bool (*link_up)(struct netdev *d);
	/* Frames sent come straight back (PHY loopback) or go out again. */
	int (*set_loopback)(struct netdev *d, bool on);
};

struct netdev_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_busy; /* refused: the transmit ring was full */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_errors; /* the controller flagged them, or they spanned buffers */
	uint64_t rx_missed; /* the controller had no free buffer for them */
};

struct netdev {
	char name[NETDEV_NAME_MAX]; /* "nic0", given by netdev_register */
	uint8_t mac[NETDEV_MAC_LEN];
	const struct netdev_ops *ops;
	void *priv; /* the driver's */
	struct spinlock tx_lock, rx_lock;
	struct netdev_stats stats; /* the driver counts under those locks */
};

/* Names d (nic0, nic1, ... in order) and adds it to the controllers
 * pgvisor drives, printing one line; -1 when there are too many. */
int netdev_register(struct netdev *d);
unsigned netdev_count(void);
struct netdev *netdev_get(unsigned i);
struct netdev *netdev_find(const char *name);

/* The driver's operations under the matching lock. */
int netdev_transmit(struct netdev *d, const void *frame, size_t len);
size_t netdev_receive(struct netdev *d, void *buf, size_t cap);
bool netdev_link_up(struct netdev *d);
int netdev_set_loopback(struct netdev *d, bool on);

#endif
