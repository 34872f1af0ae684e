/* The VM state stream (docs/STATE_STREAM.md), after Xen's libxc migration
 * stream v2: an image header (magic, version), then records of
 * {type, instance, length, CRC-32C} and a body padded to 8 bytes, ending
 * with an END record. A type with STREAM_OPTIONAL set may be skipped by a
 * reader that does not know it; an unknown mandatory type refuses the
 * stream. The writer fills a caller's buffer and never overruns it; the
 * reader checks every header, length, padding byte and checksum and
 * answers a bad stream with an error code and one line (why, where). */
#ifndef PGVISOR_MIGRATE_STREAM_H
#define PGVISOR_MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dev/state_io.h"

#define STREAM_MAGIC 0x4d52545354534750ull /* "PGSTSTRM", little-endian */
#define STREAM_VERSION 2u		   /* 2: records checked by CRC-32C (1: CRC-32) */
#define STREAM_HEADER_SIZE 16u
#define STREAM_RECORD_HEADER_SIZE 16u
#define STREAM_ALIGN 8u
#define STREAM_OPTIONAL 0x80000000u /* type bit: a reader may skip the record */

/* Record types (the instance field numbers vCPUs and devices of a kind). */
enum stream_type {
	STREAM_END = 0x00,
	STREAM_VM_CONFIG = 0x01,
	STREAM_VCPU = 0x02,
	STREAM_PAGE_DATA = 0x03,
	STREAM_DISK_DATA = 0x04, /* instance: the disk; a writable image's pages */
	STREAM_DEV_UART = 0x10,
	STREAM_DEV_PIC = 0x11,
	STREAM_DEV_PIT = 0x12,
	STREAM_DEV_RTC = 0x13,
	STREAM_DEV_ACPI_PM = 0x14,
	STREAM_DEV_HPET = 0x15,
	STREAM_DEV_VIOAPIC = 0x16,
	STREAM_DEV_VLAPIC = 0x17,
	STREAM_DEV_PCI_HOST = 0x18,
	STREAM_DEV_SYSCTL = 0x19,
	STREAM_DEV_VIRTIO_BLK = 0x1a,	  /* instance: the disk (cfg.disks) */
	STREAM_DEV_VIRTIO_CONSOLE = 0x1b, /* when cfg.virtio_console */
	STREAM_DEV_VIRTIO_NET = 0x1c,	  /* instance: the vif (cfg.vifs) */
};

enum stream_status {
	STREAM_OK = 0,
	STREAM_DONE = 1, /* the END record: nothing follows */
	STREAM_ERR_NO_SPACE = -1,
	STREAM_ERR_TRUNCATED = -2,
	STREAM_ERR_MAGIC = -3,
	STREAM_ERR_VERSION = -4,
	STREAM_ERR_CHECKSUM = -5,
	STREAM_ERR_UNKNOWN = -6, /* an unknown mandatory record */
	STREAM_ERR_MALFORMED = -7,
};

struct stream_writer {
	uint8_t *buf;
	size_t cap, len; /* len: the bytes of whole records written */
	uint64_t now_ns;
	int error; /* STREAM_OK or the first failure (sticky) */
	bool ended;
};

struct stream_reader {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t now_ns;
	int error;	 /* STREAM_OK or the first failure (sticky) */
	const char *why; /* one line for the error */
	size_t where;	 /* the byte offset it was found at */
};

/* A record the reader handed out: its body as a field reader. */
struct stream_record {
	uint32_t type, instance;
	struct state_reader body;
};

/* Writes the image header into buf[0..cap); now_ns: the VM clock. */
int stream_writer_init(struct stream_writer *sw, void *buf, size_t cap, uint64_t now_ns);
/* Opens a record: body writes its fields just past the record header. */
void stream_record_begin(struct stream_writer *sw, struct state_writer *body);
/* Seals the record that body filled: header, checksum, padding. */
int stream_record_end(struct stream_writer *sw, uint32_t type, uint32_t instance,
		      const struct state_writer *body);
/* Starts the buffer over: the bytes written so far were handed on (a
 * migration sends its stream a few records at a time). The stream's
 * header is not written again. */
void stream_writer_reset(struct stream_writer *sw);
/* Appends the END record; returns the stream's length, or an error. */
long stream_writer_finish(struct stream_writer *sw);

/* Checks the image header; now_ns: the destination VM's clock. */
int stream_reader_init(struct stream_reader *sr, const void *buf, size_t len, uint64_t now_ns);
/* The next record the caller must handle (unknown optional ones are
 * skipped): STREAM_OK with rec filled, STREAM_DONE at END, or an error. */
int stream_next(struct stream_reader *sr, struct stream_record *rec);
/* The record's body failed its device's load: refuses the stream with
 * the device's reason. */
int stream_refuse_record(struct stream_reader *sr, const struct stream_record *rec);
/* A record's whole size as its header (STREAM_RECORD_HEADER_SIZE bytes)
 * states it: the header and the body padded to STREAM_ALIGN. */
size_t stream_record_size(const uint8_t *hdr);
/* A name for a status, for messages. */
const char *stream_status_name(int status);

#endif
