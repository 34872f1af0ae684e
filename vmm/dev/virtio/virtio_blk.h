/* virtio-blk (virtio 1.2, 5.2): one disk of a VM, backed by an image in
 * hypervisor memory. A writable disk is the VM's own copy of its image: its
 * writes last as long as the VM (restarts included) and are gone when it is
 * destroyed. A read-only disk reads the boot file itself.
 *
 * Requests complete while the notifying exit is handled: the data is
 * copied between the image and the guest's buffers, the status written,
 * the chain returned, and the driver interrupted if it asked to be. */
#ifndef PGVISOR_VIRTIO_BLK_H
#define PGVISOR_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/virtio/virtio_pci.h"

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_NAME_MAX 24

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

/* Request types and statuses (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, errors;
	uint64_t bytes_read, bytes_written;
};

struct virtio_blk {
	struct virtio_dev dev;
	char name[VIRTIO_BLK_NAME_MAX]; /* "virtio-blk vda" */
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	uint8_t *image;
	uint64_t size; /* bytes: a whole number of sectors is offered */
	bool writable;
	struct virtio_blk_stats stats;
	struct virtq_req req; /* the request being served */
};

/* Sets up a fresh virtio-blk device over image (size bytes) for the VM
 * named vm_name whose RAM is ram. vdev names it ("vda"); the serial GET_ID
 * returns is "pgvisor-VM-VDEV". 0 or -1. */
int virtio_blk_init(struct virtio_blk *b, const char *vm_name, const char *vdev, uint8_t *image,
		    uint64_t size, bool writable, uint8_t *ram, uint64_t ram_size);

#endif
