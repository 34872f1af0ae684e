/* The PC's two cascaded interrupt controllers (Intel 8259A data sheet,
 * order no. 231468): the master at 0x20-0x21 takes ISA IRQ 0-7, the slave at
 * 0xA0-0xA1 takes IRQ 8-15 and drives the master's IR2. Plus the PIIX's
 * Edge/Level Control Registers at 0x4D0-0x4D1 (Intel 82371AB PIIX4 data
 * sheet, 4.1.12 ELCR1/ELCR2), which make single lines level-triggered.
 *
 * The VM drives the input lines with pic_set_irq(); the vCPU loop asks
 * pic_has_interrupt() (the master's INT output, the CPU's INTR pin) and
 * runs the INTA cycle with pic_acknowledge() when the CPU takes the
 * interrupt. Pure state: no host hardware is touched. */
#ifndef PGVISOR_DEV_PIC_H
#define PGVISOR_DEV_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xa0
#define PIC_ELCR_BASE 0x4d0
#define PIC_IRQS 16
#define PIC_CASCADE_IRQ 2 /* the master's input the slave drives */

/* One 8259A. */
struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;	     /* the IR input levels */
	uint8_t elcr;	     /* level-triggered inputs (ELCR) */
	uint8_t elcr_mask;   /* the inputs the ELCR may make level-triggered */
	uint8_t vector_base; /* ICW2, T7-T3 */
	uint8_t icw3;	     /* master: slave inputs; slave: its ID */
	uint8_t lowest;	     /* the input with the lowest priority */
	uint8_t init_step;   /* next ICW expected, 0: initialized */
	bool icw4_expected;  /* ICW1 IC4 */
	bool single;	     /* ICW1 SNGL: no ICW3 */
	bool level_all;	     /* ICW1 LTIM */
	bool auto_eoi;	     /* ICW4 AEOI */
	bool fully_nested;   /* ICW4 SFNM */
	bool rotate_on_aeoi; /* OCW2 rotate in automatic EOI mode */
	bool special_mask;   /* OCW3 SMM */
	bool read_isr;	     /* OCW3 RIS: the even port reads ISR, not IRR */
	bool poll;	     /* OCW3 P: the next read is a poll */
};

struct pic {
	struct pic_chip master, slave;
};

/* The state firmware leaves: vectors 0x08 and 0x70, the slave on IR2,
 * normal EOI, every input masked but the cascade. */
void pic_init(struct pic *p);
/* Registers 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1: 0, or -1. */
int pic_attach(struct pic *p, struct io_bus *bus);
/* Drives ISA line irq (0-15; 2 is the cascade and is ignored). */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
/* The master has an unmasked request, which pic_has_interrupt may still
 * find blocked: a quick test for the run loop (nothing to do without). */
static inline bool pic_requesting(const struct pic *p)
{
	return (p->master.irr & ~p->master.imr) != 0;
}
/* ISA line irq's request waits in its chip's IRR, unmasked there (and, for
 * the slave, at the master's cascade input): no INTA has taken it yet. */
bool pic_line_waiting(const struct pic *p, unsigned irq);
/* ISA line irq is masked in its chip (or the slave at the cascade). */
bool pic_line_masked(const struct pic *p, unsigned irq);
/* The master's INT output: an unmasked request with a priority above every
 * interrupt in service. */
bool pic_has_interrupt(const struct pic *p);
/* The INTA cycle: the vector of the highest-priority request, whose IRR bit
 * moves to ISR (cleared at once in automatic EOI mode). With no request
 * left, the vector of IR7 (spurious IRQ 7, or 15 from the slave) and no
 * ISR bit set, as on hardware. */
int pic_acknowledge(struct pic *p);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void pic_save(const struct pic *p, struct state_writer *w);
int pic_load(struct pic *p, struct state_reader *r);

#endif
