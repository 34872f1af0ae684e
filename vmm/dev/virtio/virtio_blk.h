/* virtio-blk (virtio 1.2, 5.2): one disk of a VM, backed by an image in
 * hypervisor memory or by a partition of a disk pgvisor drives.
 *
 * An image disk: a writable one is the VM's own copy of its image, whose
 * writes last as long as the VM (restarts included) and are gone when it is
 * destroyed; a read-only one reads the boot file itself.
 *
 * A partition disk ("part:NAME"): sectors go to the machine's disk through
 * its driver, by way of a bounce buffer, before the request completes, so
 * writes reach the device in the order the guest issued them; a FLUSH
 * completes only once the device has flushed its write cache. A device
 * error or timeout fails that request with IOERR and one console line.
 *
 * Requests complete while the notifying exit is handled: the data is
 * moved between the store and the guest's buffers, the status written,
 * the chain returned, and the driver interrupted if it asked to be. */
#ifndef PGVISOR_VIRTIO_BLK_H
#define PGVISOR_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/storage/partition.h"
#include "vmm/dev/virtio/virtio_pci.h"

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_NAME_MAX 24
/* A partition disk moves at most this much a driver call. */
#define VIRTIO_BLK_BOUNCE_BYTES (64u * 1024)

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

/* Where a disk's sectors live: image, or part with its bounce buffer
 * (VIRTIO_BLK_BOUNCE_BYTES). */
struct virtio_blk_store {
	uint8_t *image;
	struct partition *part;
	uint8_t *bounce;
	uint64_t size; /* bytes */
};

struct virtio_blk {
	struct virtio_dev dev;
	char name[VIRTIO_BLK_NAME_MAX]; /* "virtio-blk vda" */
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	const char *vm_name;
	struct virtio_blk_store store;
	uint64_t size; /* bytes: a whole number of sectors is offered */
	bool writable;
	struct virtio_blk_stats stats;
	struct virtq_req req; /* the request being served */
};

/* Sets up a fresh virtio-blk device over store for the VM named vm_name
 * whose RAM is ram. vdev names it ("vda"); the serial GET_ID returns is
 * "pgvisor-VM-VDEV". 0 or -1. */
int virtio_blk_init(struct virtio_blk *b, const char *vm_name, const char *vdev,
		    const struct virtio_blk_store *store, bool writable, uint8_t *ram,
		    uint64_t ram_size);

/* The device's state-stream record (docs/STATE_STREAM.md): the
 * transport's state (virtio_dev_save) and nothing more. Requests complete
 * within the exit of the notification that posted them, so none is in
 * flight at a save (virtio_dev_load refuses a live queue with chains
 * taken and not returned); the disk's sectors are the store's, which a
 * writable image carries in disk-data records of its own. */
void virtio_blk_save(const struct virtio_blk *b, struct state_writer *w);
int virtio_blk_load(struct virtio_blk *b, struct state_reader *r);

#endif
