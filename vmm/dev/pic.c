#include "vmm/dev/pic.h"

#include <string.h>

#include "vmm/dev/state_io.h"

/* Initialization command words (8259A data sheet, "Initialization Command
 * Words"): ICW1 is a write to the even port with D4 = 1; ICW2-ICW4 follow
 * on the odd port. */
#define ICW1_SELECT 0x10 /* D4: this is ICW1 */
#define ICW1_IC4 0x01	 /* ICW4 will be written */
#define ICW1_SNGL 0x02	 /* single 8259A: no ICW3 */
#define ICW1_LTIM 0x08	 /* level-triggered inputs */
#define ICW2_VECTOR 0xf8 /* T7-T3; IR number in the low bits */
#define ICW4_AEOI 0x02	 /* automatic EOI */
#define ICW4_SFNM 0x10	 /* special fully nested mode */
#define INIT_ICW2 2
#define INIT_ICW3 3
#define INIT_ICW4 4

/* Operation command words: OCW1 is any odd-port write outside the ICW
 * sequence (the IMR); on the even port D4 = 0 and D3 tells OCW2 (0) from
 * OCW3 (1). */
#define OCW3_SELECT 0x08
#define OCW2_LEVEL 0x07 /* L2-L0 */
#define OCW2_CMD 0xe0	/* R, SL, EOI */
#define OCW2_ROTATE_AEOI_CLEAR 0x00
#define OCW2_NONSPECIFIC_EOI 0x20
#define OCW2_NOP 0x40
#define OCW2_SPECIFIC_EOI 0x60
#define OCW2_ROTATE_AEOI_SET 0x80
#define OCW2_ROTATE_NONSPECIFIC_EOI 0xa0
#define OCW2_SET_PRIORITY 0xc0
#define OCW2_ROTATE_SPECIFIC_EOI 0xe0
#define OCW3_RIS 0x01  /* read ISR (with RR) rather than IRR */
#define OCW3_RR 0x02   /* read register command */
#define OCW3_POLL 0x04 /* P: the next read is a poll */
#define OCW3_SMM 0x20  /* special mask mode on (with ESMM) */
#define OCW3_ESMM 0x40 /* SMM is valid */

/* The poll word: I (an interrupt was pending) and W2-W0 (its level). */
#define POLL_INTERRUPT 0x80

#define IR7 7
#define NO_IRQ (-1)

/* PIIX4 data sheet, ELCR1 and ELCR2: IRQ 0, 1 and 2 (timer, keyboard,
 * cascade) and IRQ 8 and 13 (RTC, FPU error) are always edge-triggered. */
#define ELCR_MASTER_MASK 0xf8
#define ELCR_SLAVE_MASK 0xde

/* What firmware programs (IBM PC/AT BIOS): vectors 08h and 70h. */
#define FIRMWARE_MASTER_VECTOR 0x08
#define FIRMWARE_SLAVE_VECTOR 0x70
#define FIRMWARE_MASTER_IMR 0xfb /* all but the cascade */
#define FIRMWARE_SLAVE_IMR 0xff

static bool level_triggered(const struct pic_chip *c, unsigned ir)
{
	return c->level_all || (c->elcr & (1u << ir));
}

/* The highest-priority input in mask, or NO_IRQ. Priority runs from the
 * input after the lowest one around to the lowest (fixed: 0 highest, 7
 * lowest, until the guest rotates it). */
static int highest(const struct pic_chip *c, uint8_t mask)
{
	/* Rotated so that the highest-priority IR (lowest + 1) is bit 0:
	 * the first set bit is then the answer (one scan, no loop: this runs
	 * before every VM entry). */
	unsigned first = (c->lowest + 1) & 7;
	unsigned rotated = ((unsigned)mask >> first | (unsigned)mask << (8 - first)) & 0xff;

	if (!rotated)
		return NO_IRQ;
	return (int)((first + (unsigned)__builtin_ctz(rotated)) & 7);
}

static unsigned rank(const struct pic_chip *c, int ir)
{
	return ((unsigned)ir - c->lowest - 1) & 7; /* 0: highest priority */
}

/* The request this chip would signal on INT, or NO_IRQ: the highest
 * unmasked request above every interrupt in service. In special mask mode
 * masked levels in service block nothing; in special fully nested mode a
 * slave in service does not block more requests from that slave (8259A
 * data sheet, "Special Mask Mode", "Special Fully Nest Mode"). */
static int chip_pending(const struct pic_chip *c, bool has_slave)
{
	int ir = highest(c, c->irr & ~c->imr);

	if (ir == NO_IRQ)
		return NO_IRQ;
	uint8_t blocking = c->special_mask ? c->isr & ~c->imr : c->isr;
	int in_service = highest(c, blocking);
	if (in_service == NO_IRQ || rank(c, ir) < rank(c, in_service))
		return ir;
	if (has_slave && c->fully_nested && ir == in_service && ir == PIC_CASCADE_IRQ)
		return ir;
	return NO_IRQ;
}

static bool cascaded(const struct pic *p)
{
	return !p->master.single;
}

static void chip_set_line(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = 1u << ir;

	if (level_triggered(c, ir)) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit; /* rising edge: latched until acknowledged */
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

/* The slave's INT output is the master's IR2 input, edge-triggered like
 * any other: a slave request withdrawn after IR2 latched it makes the INTA
 * answer with the slave's IR7 (spurious IRQ 15). */
static void update_cascade(struct pic *p)
{
	chip_set_line(&p->master, PIC_CASCADE_IRQ,
		      cascaded(p) && chip_pending(&p->slave, false) != NO_IRQ);
}

/* INTA (or a poll) of input ir: IRR -> ISR. An edge request is consumed;
 * a level request stays in IRR as long as its line is high. */
static void chip_ack(struct pic_chip *c, int ir)
{
	uint8_t bit = 1u << ir;

	if (!level_triggered(c, (unsigned)ir))
		c->irr &= (uint8_t)~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->lowest = (uint8_t)ir;
	} else {
		c->isr |= bit;
	}
}

/* ICW1 (8259A data sheet): the edge sense circuit is reset, the IMR is
 * cleared, IR7 gets the lowest priority, special mask mode is cleared and
 * status read is set to IRR; without IC4 all ICW4 functions are cleared.
 * The ISR is cleared too, as a re-initializing OS expects. */
static void write_icw1(struct pic_chip *c, uint8_t v)
{
	c->icw4_expected = v & ICW1_IC4;
	c->single = v & ICW1_SNGL;
	c->level_all = v & ICW1_LTIM;
	c->irr = c->lines & (c->level_all ? 0xff : c->elcr);
	c->isr = 0;
	c->imr = 0;
	c->lowest = IR7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_on_aeoi = false;
	if (!c->icw4_expected) {
		c->auto_eoi = false;
		c->fully_nested = false;
	}
	c->init_step = INIT_ICW2;
}

static void write_ocw2(struct pic_chip *c, uint8_t v)
{
	uint8_t level = v & OCW2_LEVEL;
	int ir;

	switch (v & OCW2_CMD) {
	case OCW2_NONSPECIFIC_EOI:
	case OCW2_ROTATE_NONSPECIFIC_EOI:
		ir = highest(c, c->isr);
		if (ir == NO_IRQ)
			break;
		c->isr &= (uint8_t) ~(1u << ir);
		if ((v & OCW2_CMD) == OCW2_ROTATE_NONSPECIFIC_EOI)
			c->lowest = (uint8_t)ir;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t) ~(1u << level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t) ~(1u << level);
		c->lowest = level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = level;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_on_aeoi = true;
		break;
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_on_aeoi = false;
		break;
	default: /* OCW2_NOP */
		break;
	}
}

static void write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	if (v & OCW3_POLL)
		c->poll = true;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
}

static void chip_write(struct pic_chip *c, bool odd, uint8_t v)
{
	if (!odd) {
		if (v & ICW1_SELECT)
			write_icw1(c, v);
		else if (v & OCW3_SELECT)
			write_ocw3(c, v);
		else
			write_ocw2(c, v);
		return;
	}
	switch (c->init_step) {
	case INIT_ICW2:
		c->vector_base = v & ICW2_VECTOR;
		c->init_step = c->single ? (c->icw4_expected ? INIT_ICW4 : 0) : INIT_ICW3;
		break;
	case INIT_ICW3:
		c->icw3 = v;
		c->init_step = c->icw4_expected ? INIT_ICW4 : 0;
		break;
	case INIT_ICW4:
		/* µPM (8086 mode) is assumed; BUF and M/S only matter to the
		 * bus wiring. */
		c->auto_eoi = v & ICW4_AEOI;
		c->fully_nested = v & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = v; /* OCW1 */
		break;
	}
}

/* Poll command (8259A data sheet, "The Poll Command"): the read acts as an
 * INTA for this chip and returns I and the level. */
static uint8_t chip_poll(struct pic_chip *c, bool has_slave)
{
	int ir = chip_pending(c, has_slave);

	c->poll = false;
	if (ir == NO_IRQ)
		return 0;
	chip_ack(c, ir);
	return (uint8_t)(POLL_INTERRUPT | (unsigned)ir);
}

static uint8_t chip_read(struct pic_chip *c, bool odd, bool has_slave)
{
	if (c->poll)
		return chip_poll(c, has_slave);
	if (odd)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static uint32_t master_read(void *dev, uint16_t port, unsigned size)
{
	struct pic *p = dev;
	(void)size;

	uint8_t v = chip_read(&p->master, port & 1, cascaded(p));
	update_cascade(p);
	return v;
}

static void master_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pic *p = dev;
	(void)size;

	chip_write(&p->master, port & 1, (uint8_t)value);
	update_cascade(p);
}

static uint32_t slave_read(void *dev, uint16_t port, unsigned size)
{
	struct pic *p = dev;
	(void)size;

	uint8_t v = chip_read(&p->slave, port & 1, false);
	update_cascade(p);
	return v;
}

static void slave_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pic *p = dev;
	(void)size;

	chip_write(&p->slave, port & 1, (uint8_t)value);
	update_cascade(p);
}

static uint32_t elcr_read(void *dev, uint16_t port, unsigned size)
{
	struct pic *p = dev;
	(void)size;

	return (port & 1) ? p->slave.elcr : p->master.elcr;
}

static void elcr_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pic *p = dev;
	struct pic_chip *c = (port & 1) ? &p->slave : &p->master;
	(void)size;

	c->elcr = (uint8_t)value & c->elcr_mask;
	/* A level-triggered input requests exactly while its line is high. */
	uint8_t level = c->level_all ? 0xff : c->elcr;
	c->irr = (uint8_t)((c->irr & ~level) | (c->lines & level));
	update_cascade(p);
}

void pic_init(struct pic *p)
{
	memset(p, 0, sizeof(*p));
	p->master.vector_base = FIRMWARE_MASTER_VECTOR;
	p->master.icw3 = 1u << PIC_CASCADE_IRQ;
	p->master.imr = FIRMWARE_MASTER_IMR;
	p->master.lowest = IR7;
	p->master.elcr_mask = ELCR_MASTER_MASK;
	p->slave.vector_base = FIRMWARE_SLAVE_VECTOR;
	p->slave.icw3 = PIC_CASCADE_IRQ;
	p->slave.imr = FIRMWARE_SLAVE_IMR;
	p->slave.lowest = IR7;
	p->slave.elcr_mask = ELCR_SLAVE_MASK;
}

int pic_attach(struct pic *p, struct io_bus *bus)
{
	if (io_bus_register(bus, PIC_MASTER_BASE, 2, master_read, master_write, p, "pic-master") ||
	    io_bus_register(bus, PIC_SLAVE_BASE, 2, slave_read, slave_write, p, "pic-slave"))
		return -1;
	return io_bus_register(bus, PIC_ELCR_BASE, 2, elcr_read, elcr_write, p, "elcr");
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq >= PIC_IRQS || irq == PIC_CASCADE_IRQ)
		return;
	if (irq < 8) {
		chip_set_line(&p->master, irq, level);
		return;
	}
	chip_set_line(&p->slave, irq - 8, level);
	update_cascade(p);
}

bool pic_has_interrupt(const struct pic *p)
{
	return chip_pending(&p->master, cascaded(p)) != NO_IRQ;
}

int pic_acknowledge(struct pic *p)
{
	int ir = chip_pending(&p->master, cascaded(p));

	if (ir == NO_IRQ)
		return p->master.vector_base + IR7; /* spurious IRQ 7 */
	chip_ack(&p->master, ir);
	if (ir != PIC_CASCADE_IRQ || !cascaded(p))
		return p->master.vector_base + ir;
	int sir = chip_pending(&p->slave, false);
	int vector = p->slave.vector_base + IR7; /* spurious IRQ 15 */
	if (sir != NO_IRQ) {
		chip_ack(&p->slave, sir);
		vector = p->slave.vector_base + sir;
	}
	/* The slave's INT falls at the end of its INTA sequence: a request
	 * it still has makes a new edge on IR2. */
	chip_set_line(&p->master, PIC_CASCADE_IRQ, false);
	update_cascade(p);
	return vector;
}

bool pic_line_masked(const struct pic *p, unsigned irq)
{
	const struct pic_chip *c = irq < 8 ? &p->master : &p->slave;

	if (irq >= PIC_IRQS || (c->imr & (1u << (irq & 7))))
		return true;
	return irq >= 8 && (p->master.imr & (1u << PIC_CASCADE_IRQ));
}

bool pic_line_waiting(const struct pic *p, unsigned irq)
{
	const struct pic_chip *c = irq < 8 ? &p->master : &p->slave;

	return !pic_line_masked(p, irq) && (c->irr & (1u << (irq & 7)));
}

static void chip_save(const struct pic_chip *c, struct state_writer *w)
{
	const bool flags[] = { c->icw4_expected, c->single,	  c->level_all,
			       c->auto_eoi,	 c->fully_nested, c->rotate_on_aeoi,
			       c->special_mask,	 c->read_isr,	  c->poll };

	state_put_u8(w, c->irr);
	state_put_u8(w, c->isr);
	state_put_u8(w, c->imr);
	state_put_u8(w, c->lines);
	state_put_u8(w, c->elcr);
	state_put_u8(w, c->vector_base);
	state_put_u8(w, c->icw3);
	state_put_u8(w, c->lowest);
	state_put_u8(w, c->init_step);
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		state_put_bool(w, flags[i]);
}

/* Into *c, which starts as the chip now (elcr_mask is the board's). */
static void chip_load(struct pic_chip *c, struct state_reader *r)
{
	bool *flags[] = { &c->icw4_expected, &c->single,       &c->level_all,
			  &c->auto_eoi,	     &c->fully_nested, &c->rotate_on_aeoi,
			  &c->special_mask,  &c->read_isr,     &c->poll };

	c->irr = state_get_u8(r);
	c->isr = state_get_u8(r);
	c->imr = state_get_u8(r);
	c->lines = state_get_u8(r);
	c->elcr = state_get_u8(r);
	c->vector_base = state_get_u8(r);
	c->icw3 = state_get_u8(r);
	c->lowest = state_get_u8(r);
	c->init_step = state_get_u8(r);
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		*flags[i] = state_get_bool(r);
	if (c->elcr & ~c->elcr_mask)
		state_refuse(r, "PIC ELCR bit on a line that cannot be level-triggered");
	if (c->lowest > IR7)
		state_refuse(r, "PIC lowest priority not an input");
	if (c->init_step == 1 || c->init_step > INIT_ICW4)
		state_refuse(r, "PIC initialization step out of range");
}

void pic_save(const struct pic *p, struct state_writer *w)
{
	chip_save(&p->master, w);
	chip_save(&p->slave, w);
}

int pic_load(struct pic *p, struct state_reader *r)
{
	struct pic loaded = *p;

	chip_load(&loaded.master, r);
	chip_load(&loaded.slave, r);
	if (state_reader_done(r))
		return -1;
	*p = loaded;
	update_cascade(p);
	return 0;
}
