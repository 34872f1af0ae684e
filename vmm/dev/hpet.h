/* The High Precision Event Timer (IA-PC HPET specification 1.0a), one per
 * VM: a 1 KiB register block at HPET_MMIO_BASE that the ACPI HPET table
 * names (vmm/load/acpi_build.c).
 *
 *   0x000        GCAP_ID     capabilities: period, vendor, timers, sizes
 *   0x010        GEN_CONF    ENABLE_CNF (the counter runs, timers
 *                            interrupt), LEG_RT_CNF (legacy replacement)
 *   0x020        GINTR_STA   level-triggered timers' status, write 1 to clear
 *   0x0f0        MAIN_CNT    the 64-bit main counter
 *   0x100+0x20N  Tn_CONF     timer N's configuration and capabilities
 *   0x108+0x20N  Tn_COMPARATOR
 *   0x110+0x20N  Tn_FSB_ROUTE (no FSB delivery is offered: reads 0)
 *
 * HPET_TIMERS comparators, 64-bit capable; timer 0 can be periodic, with
 * the "set accumulator" write (Tn_VAL_SET_CNF). The main counter counts
 * HPET_PERIOD_FS femtoseconds a tick from the VM's clock: 10 ns, as
 * QEMU's, so a counter value is the guest's nanoseconds divided by ten
 * exactly, and 100 MHz is a rate no PC guest finds too slow (the
 * specification allows periods up to 100 ns).
 *
 * Interrupts: in legacy replacement timer 0 drives ISA IRQ 0 and timer 1
 * ISA IRQ 8 (the caller then keeps the PIT's and RTC's interrupts off
 * those lines: hpet_legacy_replacement); otherwise timer N drives the
 * I/O APIC input its Tn_INT_ROUTE_CNF names, one of those the caller
 * allows (route_cap, Tn_INT_ROUTE_CAP). Edge-triggered timers pulse their
 * line at each match; level-triggered ones set their GINTR_STA bit and
 * hold the line until the guest clears it. Matches are computed from
 * guest time when looked at; the struct vtimer from hpet_timer() tells
 * the vCPU loop when an enabled timer's next match is due. Missed
 * periodic matches coalesce into one interrupt.
 *
 * Registers are read and written 32 or 64 bits at a time (a 32-bit
 * access to the upper half of a 64-bit register reaches that half);
 * other sizes, misaligned accesses and offsets with no register read 0
 * and drop writes, and read-only bits ignore writes. */
#ifndef PGVISOR_DEV_HPET_H
#define PGVISOR_DEV_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/vclock.h"
#include "vmm/dev/virq.h"

#define HPET_MMIO_BASE 0xfed00000ull
#define HPET_MMIO_SIZE 0x400ull
#define HPET_TIMERS 3
#define HPET_PERIOD_FS 10000000ull /* 10 ns */
#define HPET_PERIOD_NS 10ull
#define HPET_VENDOR_ID 0x8086u /* as the VM's PCI host bridge */
#define HPET_REV_ID 1u
/* GCAP_ID bits 31:0: the ACPI HPET table's Event Timer Block ID. */
#define HPET_CAP_LEG_RT (1u << 15)
#define HPET_CAP_COUNT_SIZE (1u << 13)
#define HPET_CAP_NUM_TIM_SHIFT 8
#define HPET_BLOCK_ID                                                                              \
	(HPET_VENDOR_ID << 16 | HPET_CAP_LEG_RT | HPET_CAP_COUNT_SIZE |                            \
	 (HPET_TIMERS - 1u) << HPET_CAP_NUM_TIM_SHIFT | HPET_REV_ID)
/* The ISA lines of legacy replacement (specification 2.3.9.2.2). */
#define HPET_LEGACY_IRQ_TIMER0 0
#define HPET_LEGACY_IRQ_TIMER1 8
#define HPET_NO_MATCH UINT64_MAX

struct hpet_timer {
	uint64_t config;     /* the writable bits of Tn_CONF */
	uint64_t comparator; /* the register: the next match */
	uint64_t period;     /* periodic: what each match adds */
	/* The main counter value of the next match, or HPET_NO_MATCH. */
	uint64_t next_tick;
	/* The line this level-triggered timer holds asserted, if any. */
	bool asserted;
	const struct virq *asserted_q;
	unsigned asserted_line;
};

struct hpet {
	uint64_t config; /* GEN_CONF */
	uint64_t status; /* GINTR_STA */
	/* The main counter was counter_base at guest time base_ns and, while
	 * ENABLE_CNF is set, counts from there. */
	uint64_t counter_base, base_ns;
	uint32_t route_cap;
	const struct vclock *clock;
	struct virq legacy; /* ISA lines, legacy replacement */
	struct virq ioapic; /* I/O APIC inputs */
	struct hpet_timer timer[HPET_TIMERS];
};

/* route_cap: the I/O APIC inputs (bit per input) timers may be routed to. */
void hpet_init(struct hpet *h, const struct vclock *clock, struct virq legacy, struct virq ioapic,
	       uint32_t route_cap);
/* Whether timers 0 and 1 replace the PIT's IRQ 0 and the RTC's IRQ 8. */
bool hpet_legacy_replacement(const struct hpet *h);
/* The enabled timers' matches as a timer source for the VM's vtime. */
struct vtimer hpet_timer(struct hpet *h);

uint64_t hpet_mmio_read(void *h, uint64_t addr, unsigned size);
void hpet_mmio_write(void *h, uint64_t addr, unsigned size, uint64_t value);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void hpet_save(const struct hpet *h, struct state_writer *w);
int hpet_load(struct hpet *h, struct state_reader *r);

#endif
