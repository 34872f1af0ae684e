/* The driver's view of a split virtqueue of QSIZE entries, written from
 * the virtio spec (2.7.5, 2.7.6, 2.7.8), not from the device code: what
 * the device-model unit tests put in guest RAM. Define QSIZE first. */
#ifndef TESTS_UNIT_VIRTIO_DRIVER_RINGS_H
#define TESTS_UNIT_VIRTIO_DRIVER_RINGS_H

#include <stdint.h>

struct drv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct drv_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
};

struct drv_used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[QSIZE];
};

#endif
