/* The fields of a device's saved state (docs/STATE_STREAM.md): a bounded
 * writer and a checked reader of fixed-width little-endian values, which
 * vmm/migrate/stream.c frames into records. A device's *_save writes its
 * architectural state field by field through a struct state_writer and its
 * *_load reads them back through a struct state_reader, refusing (with one
 * reason) whatever no real device could hold.
 *
 * Both are sticky: past the end, a writer stops writing and a reader
 * returns zeros, and the first problem is kept; callers check once. Times
 * travel as signed offsets from the clock's now at save, so that a device
 * resumes on another clock as it left off (state_put_time). */
#ifndef PGVISOR_DEV_STATE_IO_H
#define PGVISOR_DEV_STATE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;	 /* a value did not fit: the record is incomplete */
	uint64_t now_ns; /* the device's clock at save */
};

struct state_reader {
	const uint8_t *buf;
	size_t len, pos;
	const char *refused; /* NULL, or why the state was refused */
	uint64_t now_ns;     /* the device's clock at load */
};

void state_writer_init(struct state_writer *w, void *buf, size_t cap, uint64_t now_ns);
void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bool(struct state_writer *w, bool v);
void state_put_bytes(struct state_writer *w, const void *p, size_t n);
/* A guest time (ns on the device's clock) or VTIME_NEVER, as its offset
 * from now_ns. */
void state_put_time(struct state_writer *w, uint64_t t);

void state_reader_init(struct state_reader *r, const void *buf, size_t len, uint64_t now_ns);
uint8_t state_get_u8(struct state_reader *r);
uint16_t state_get_u16(struct state_reader *r);
uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
/* A bool field: 0 or 1, anything else refuses the state. */
bool state_get_bool(struct state_reader *r);
void state_get_bytes(struct state_reader *r, void *p, size_t n);
/* A time written by state_put_time, moved onto this clock; one that would
 * fall before its zero is refused. */
uint64_t state_get_time(struct state_reader *r);
/* A time that has come (an instant a device recorded as it happened):
 * VTIME_NEVER or one after the clock's now is refused. */
uint64_t state_get_past_time(struct state_reader *r);
/* Marks the state refused for why (the first reason is kept). */
void state_refuse(struct state_reader *r, const char *why);
/* 0 when every field was there, the record held nothing more and nothing
 * was refused; -1 otherwise (r->refused says why). */
int state_reader_done(struct state_reader *r);

#endif
