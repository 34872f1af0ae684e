/* The PC's real-time clock and CMOS RAM (Motorola MC146818A data sheet):
 * index port 0x70 (bit 7 masks NMI), data port 0x71, 128 bytes. Registers
 * 0-9 hold the time and the alarm in BCD or binary, 12- or 24-hour form
 * (register B), with the IBM PC/AT century byte at 0x32; registers A-D
 * control the divider, the periodic rate, the interrupts and their flags.
 * The rest is NVRAM, preset with what firmware leaves there: the
 * equipment byte and the memory sizes.
 *
 * The time of day is epoch_seconds at guest time 0 plus the guest time
 * since; a guest that sets the clock (SET, or the divider held in reset)
 * moves that offset. The periodic, alarm and update-ended interrupts raise
 * ISA IRQ 8 and hold it until register C is read, as the chip's IRQ pin
 * does; that read is the guest's acknowledgement, after which an owed
 * periodic interrupt (one the guest missed) is raised. Flags are computed
 * from guest time when looked at; the struct vtimer from rtc_timer() tells
 * the vCPU loop when an enabled interrupt is due. */
#ifndef PGVISOR_DEV_RTC_H
#define PGVISOR_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/tick_backlog.h"
#include "vmm/dev/vclock.h"
#include "vmm/dev/virq.h"

#define RTC_BASE 0x70
#define RTC_PORTS 2
#define RTC_IRQ 8
#define RTC_CMOS_SIZE 128

struct rtc {
	uint8_t cmos[RTC_CMOS_SIZE]; /* the time registers as of the last look */
	uint8_t index;
	bool nmi_masked;      /* port 0x70 bit 7 */
	int64_t chain_ns;     /* an update instant of the divider chain */
	int64_t sec_at_chain; /* the time of day (epoch seconds) from then */
	uint64_t synced_ns;   /* register C is up to date until then */
	bool irq_asserted;
	struct tick_backlog ticks; /* periodic interrupts not yet raised */
	const struct vclock *clock;
	struct virq irq;
};

/* epoch_seconds: the time of day at guest time 0 (seconds since
 * 1970-01-01 00:00:00); ram_bytes: the VM's RAM, contiguous from 0 (see
 * vmm/load/memmap.h), for the memory-size bytes. */
void rtc_init(struct rtc *r, const struct vclock *clock, struct virq irq, uint64_t epoch_seconds,
	      uint64_t ram_bytes);
/* What happens to periodic interrupts the guest missed (default: each is
 * raised after the guest read register C for the last). */
void rtc_set_timer_mode(struct rtc *r, enum timer_mode mode);
/* Registers 0x70-0x71: 0, or -1. */
int rtc_attach(struct rtc *r, struct io_bus *bus);
/* The enabled interrupts as a timer source for the VM's vtime. */
struct vtimer rtc_timer(struct rtc *r);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void rtc_save(const struct rtc *r, struct state_writer *w);
int rtc_load(struct rtc *r, struct state_reader *rd);

#endif
