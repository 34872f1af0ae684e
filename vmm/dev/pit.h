/* The PC's interval timer (Intel 8254 data sheet, order no. 231164) at
 * 0x40-0x43, and the timer bits of port 0x61 (NMI Status and Control,
 * Intel 82371AB PIIX4 data sheet 4.1.9 / the PC/AT's port B).
 *
 * Three counters clocked at 1.193182 MHz, modes 0-5, binary or BCD,
 * LSB/MSB/LSB-then-MSB access, counter latch and read-back commands. As
 * on a PC board: counter 0's GATE is tied high and its OUT is ISA IRQ 0;
 * counter 1 (DRAM refresh) has no consumer but the refresh toggle of port
 * 0x61, which is derived from time; counter 2's GATE is port 0x61 bit 0
 * and its OUT reads back on bit 5.
 *
 * Counts are computed from guest time on every read: nothing ticks. The
 * rising edges of counter 0's OUT are pulses on IRQ 0, delivered through
 * the struct vtimer from pit_timer(), which the vCPU loop polls (after a
 * write to the PIT the VM reschedules its timers). Edges of the periodic
 * modes (2, 3) that come due before the guest took the last one are
 * counted and delivered by the VM's timer_mode (tick_backlog.h). */
#ifndef PGVISOR_DEV_PIT_H
#define PGVISOR_DEV_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/tick_backlog.h"
#include "vmm/dev/vclock.h"
#include "vmm/dev/virq.h"

#define PIT_BASE 0x40
#define PIT_PORTS 4
#define PIT_PORT_B 0x61
#define PIT_HZ 1193182ull
#define PIT_CHANNELS 3
#define PIT_IRQ 0

struct pit_channel {
	uint8_t mode;	       /* 0-5 */
	uint8_t access;	       /* RW1-RW0 of the control word */
	bool bcd;	       /* BCD counting (modulus 10000) */
	bool gate;	       /* the GATE input */
	uint16_t count_reg;    /* CR: the count as written */
	uint8_t lsb_written;   /* the first byte of an LSB-then-MSB count */
	bool write_msb_next;   /* the second byte of the count is next */
	bool read_msb_next;    /* the MSB of an unlatched count is next */
	bool has_count;	       /* a count was written since the control word */
	bool null_count;       /* CR written but not yet loaded (status bit 6) */
	bool counting;	       /* the counting element holds a count */
	bool running;	       /* ... and is counting now */
	uint32_t n;	       /* the count loaded, 1-65536 (1-10000 in BCD) */
	uint64_t start_ns;     /* when it last started running */
	uint64_t ticks_before; /* clocks counted before start_ns */
	uint16_t latch;	       /* the output latch */
	uint8_t latch_left;    /* bytes of the latched count not yet read */
	uint8_t status;
	bool status_latched;
	uint64_t irq_tick; /* OUT rising edges up to this clock delivered */
};

struct pit {
	struct pit_channel ch[PIT_CHANNELS];
	bool speaker_data;	   /* port 0x61 bit 1 */
	struct tick_backlog ticks; /* counter 0's periodic edges not yet raised */
	const struct vclock *clock;
	struct virq irq;
};

void pit_init(struct pit *p, const struct vclock *clock, struct virq irq);
/* What happens to IRQ 0 edges the guest missed (default: caught up). */
void pit_set_timer_mode(struct pit *p, enum timer_mode mode);
/* Registers 0x40-0x43 and 0x61: 0, or -1. */
int pit_attach(struct pit *p, struct io_bus *bus);
/* Counter 0's OUT edges as a timer source for the VM's vtime. */
struct vtimer pit_timer(struct pit *p);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void pit_save(const struct pit *p, struct state_writer *w);
int pit_load(struct pit *p, struct state_reader *r);

#endif
