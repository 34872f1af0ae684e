#include "vmm/dev/virtio/virtio_blk.h"

#include <stdio.h>
#include <string.h>

#include "drivers/console.h"

#define CLASS_STORAGE_SCSI 0x010000u /* what virtio-blk functions report */
#define REQUEST_QUEUE 0
#define HEADER_BYTES 16 /* struct virtio_blk_req: type, reserved, sector */
#define HDR_TYPE 0
#define HDR_SECTOR 8
#define STATUS_BYTES 1
#define SIZE_MAX_BYTES (1u << 20)
/* A request is a header, data segments and a status byte. */
#define SEG_MAX (VIRTQ_MAX_SEGS - 2)

/* struct virtio_blk_config (5.2.4), the fields offered. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_LEN 24

/* Whether [sector * 512, + len) lies in the disk, without overflow. */
static bool in_disk(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	uint64_t sectors = b->size / VIRTIO_BLK_SECTOR;

	return sector <= sectors && len % VIRTIO_BLK_SECTOR == 0 &&
	       len / VIRTIO_BLK_SECTOR <= sectors - sector;
}

/* One line for a request the machine's disk failed; the guest gets IOERR. */
static uint8_t device_failed(const struct virtio_blk *b, const char *what, uint64_t sector,
			     const char *why)
{
	kprintf("pgvisor: vm %s: %s (part:%s): %s at sector %llu failed: %s; IOERR to the "
		"guest\n",
		b->vm_name, b->name, b->store.part->name, what, (unsigned long long)sector, why);
	return VIRTIO_BLK_S_IOERR;
}

/* The guest's buffer at byte off of the chain's data segments (from the
 * first of segs) and how many bytes follow it in that segment. */
static uint8_t *piece_at(const struct virtq_seg *segs, unsigned n, uint64_t off, uint64_t *avail)
{
	for (unsigned i = 0; i < n; off -= segs[i].len, i++)
		if (off < segs[i].len) {
			*avail = segs[i].len - off;
			return segs[i].host + off;
		}
	*avail = 0;
	return NULL;
}

/* Moves len bytes between the partition, from sector, and the request's
 * buffers (in segments for a read, out segments after the header for a
 * write). Whole sectors that lie in one guest buffer go straight between
 * it and the driver, at most a bounce buffer's worth a call; a sector split
 * between two buffers goes through the bounce buffer. */
static uint8_t part_transfer(struct virtio_blk *b, const struct virtq_req *r, uint64_t sector,
			     uint64_t len, bool write)
{
	const struct virtq_seg *segs = write ? r->seg : r->seg + r->nout;
	unsigned nsegs = write ? r->nout : r->nin;
	uint64_t skip = write ? HEADER_BYTES : 0;
	char why[120];

	for (uint64_t pos = 0; pos < len;) {
		uint64_t avail, at = sector + pos / VIRTIO_BLK_SECTOR;
		uint8_t *buf = piece_at(segs, nsegs, skip + pos, &avail);
		uint64_t n = avail < len - pos ? avail : len - pos;
		int failed;

		n = n < VIRTIO_BLK_BOUNCE_BYTES ? n : VIRTIO_BLK_BOUNCE_BYTES;
		n -= n % VIRTIO_BLK_SECTOR;
		if (n) {
			uint32_t count = (uint32_t)(n / VIRTIO_BLK_SECTOR);
			failed = write ? partition_write(b->store.part, at, count, buf, why,
							 sizeof(why))
				       : partition_read(b->store.part, at, count, buf, why,
							sizeof(why));
		} else if (write) {
			n = VIRTIO_BLK_SECTOR;
			virtq_copy_from(r, skip + pos, b->store.bounce, n);
			failed = partition_write(b->store.part, at, 1, b->store.bounce, why,
						 sizeof(why));
		} else {
			n = VIRTIO_BLK_SECTOR;
			failed = partition_read(b->store.part, at, 1, b->store.bounce, why,
						sizeof(why));
			if (!failed)
				virtq_copy_to(r, pos, b->store.bounce, n);
		}
		if (failed)
			return device_failed(b, write ? "write" : "read", at, why);
		pos += n;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_read(struct virtio_blk *b, const struct virtq_req *r, uint64_t sector,
		       uint32_t *written)
{
	uint64_t len = r->in_len - STATUS_BYTES;
	uint8_t status;

	if (!in_disk(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (b->store.part) {
		if ((status = part_transfer(b, r, sector, len, false)) != VIRTIO_BLK_S_OK)
			return status;
		*written = (uint32_t)len;
	} else {
		*written = (uint32_t)virtq_copy_to(
			r, 0, b->store.image + sector * VIRTIO_BLK_SECTOR, len);
	}
	b->stats.reads++;
	b->stats.bytes_read += len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct virtio_blk *b, const struct virtq_req *r, uint64_t sector)
{
	uint64_t len = r->out_len - HEADER_BYTES;
	uint8_t status;

	if (!b->writable || !in_disk(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (b->store.part) {
		if ((status = part_transfer(b, r, sector, len, true)) != VIRTIO_BLK_S_OK)
			return status;
	} else {
		virtq_copy_from(r, HEADER_BYTES, b->store.image + sector * VIRTIO_BLK_SECTOR, len);
	}
	b->stats.writes++;
	b->stats.bytes_written += len;
	return VIRTIO_BLK_S_OK;
}

/* Writes were handed to the device as they came; a flush empties its write
 * cache (an image in memory has none: once copied, a write is as durable as
 * that disk gets). */
static uint8_t do_flush(struct virtio_blk *b)
{
	char why[120];

	b->stats.flushes++;
	if (b->store.part && partition_flush(b->store.part, why, sizeof(why)))
		return device_failed(b, "flush", 0, why);
	return VIRTIO_BLK_S_OK;
}

/* Serves one request; returns the bytes written into its buffers. */
static uint32_t serve(struct virtio_blk *b, const struct virtq_req *r)
{
	uint8_t hdr[HEADER_BYTES], status;
	uint32_t written = 0;

	virtq_copy_from(r, 0, hdr, HEADER_BYTES);
	uint32_t type = pci_get_le(hdr + HDR_TYPE, 4);
	uint64_t sector = (uint64_t)pci_get_le(hdr + HDR_SECTOR + 4, 4) << 32 |
			  pci_get_le(hdr + HDR_SECTOR, 4);

	switch (type) {
	case VIRTIO_BLK_T_IN:
		status = do_read(b, r, sector, &written);
		break;
	case VIRTIO_BLK_T_OUT:
		status = do_write(b, r, sector);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = do_flush(b);
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = (uint32_t)virtq_copy_to(r, 0, b->serial,
						  r->in_len - STATUS_BYTES < VIRTIO_BLK_ID_BYTES
							  ? r->in_len - STATUS_BYTES
							  : VIRTIO_BLK_ID_BYTES);
		status = VIRTIO_BLK_S_OK;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status != VIRTIO_BLK_S_OK)
		b->stats.errors++;
	/* The status is the last byte the device writes (5.2.6). */
	virtq_copy_to(r, r->in_len - STATUS_BYTES, &status, STATUS_BYTES);
	return written + STATUS_BYTES;
}

static void blk_notify(struct virtio_dev *v, unsigned qi)
{
	struct virtio_blk *b = v->backend;
	struct virtq *q = &v->vq[qi];
	bool pushed = false;

	while (virtio_pop(v, qi, &b->req)) {
		if (b->req.out_len < HEADER_BYTES || b->req.in_len < STATUS_BYTES) {
			virtio_needs_reset(v, "request without its header or status byte");
			break;
		}
		virtq_push(q, b->req.head, serve(b, &b->req));
		pushed = true;
	}
	if (pushed)
		virtio_queue_interrupt(v, qi);
}

static const struct virtio_dev_ops blk_ops = {
	.notify = blk_notify,
};

int virtio_blk_init(struct virtio_blk *b, const char *vm_name, const char *vdev,
		    const struct virtio_blk_store *store, bool writable, uint8_t *ram,
		    uint64_t ram_size)
{
	uint64_t features =
		VIRTIO_FEATURE(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
		VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH);
	uint8_t *cfg;

	if (!writable)
		features |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "virtio-blk %s", vdev);
	snprintf(b->serial, sizeof(b->serial), "pgvisor-%s-%s", vm_name, vdev);
	b->vm_name = vm_name;
	b->store = *store;
	b->size = store->size - store->size % VIRTIO_BLK_SECTOR;
	b->writable = writable;
	if (virtio_dev_init(&b->dev, vm_name, b->name, VIRTIO_ID_BLOCK, CLASS_STORAGE_SCSI, 1,
			    features, CFG_LEN, ram, ram_size, &blk_ops, b))
		return -1;
	cfg = b->dev.config;
	pci_put_le(cfg + CFG_CAPACITY, 4, (uint32_t)(b->size / VIRTIO_BLK_SECTOR));
	pci_put_le(cfg + CFG_CAPACITY + 4, 4, (uint32_t)(b->size / VIRTIO_BLK_SECTOR >> 32));
	pci_put_le(cfg + CFG_SIZE_MAX, 4, SIZE_MAX_BYTES);
	pci_put_le(cfg + CFG_SEG_MAX, 4, SEG_MAX);
	pci_put_le(cfg + CFG_BLK_SIZE, 4, VIRTIO_BLK_SECTOR);
	return 0;
}

void virtio_blk_save(const struct virtio_blk *b, struct state_writer *w)
{
	virtio_dev_save(&b->dev, w);
}

int virtio_blk_load(struct virtio_blk *b, struct state_reader *r)
{
	if (virtio_dev_load(&b->dev, r) || state_reader_done(r))
		return -1;
	virtio_dev_load_commit(&b->dev);
	return 0;
}
