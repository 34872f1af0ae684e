/* The ACPI PM register block (see dev_acpi_pm.h). Accesses of any size
 * are split into bytes of the 12-byte block, read from one snapshot so a
 * 32-bit timer read cannot tear. */
#include "vmm/dev/acpi_pm.h"

#include <stddef.h>

#include "arch/x86/muldiv.h"
#include "vmm/dev/state_io.h"

#define NS_PER_S 1000000000ull
/* TMR_STS: set whenever bit 23 of the 24-bit counter changes. */
#define TMR_CARRY_SHIFT 23
#define PM1_STS_OFFSET 0
#define PM1_EN_OFFSET 2
/* Enable bits that hold what is written; the others read 0. */
#define PM1_EN_WRITABLE                                                                            \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
/* Control bits that hold what is written; SLP_EN and GBL_RLS are
 * write-only and read 0, SCI_EN is fixed at 1. */
#define PM1_CNT_WRITABLE (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

/* Ticks of the 3.579545 MHz clock since the VM started. */
static uint64_t timer_ticks(const struct acpi_pm *pm)
{
	return mul_div_u64(vclock_now(pm->clock), ACPI_PM_TIMER_HZ, NS_PER_S);
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	return (uint32_t)(timer_ticks(pm) & ACPI_PM_TIMER_MASK);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		virq_set(pm->irq, pm->sci_line, level);
	}
}

void acpi_pm_init(struct acpi_pm *pm, const struct vclock *clock, const struct virq *irq,
		  unsigned sci_line, const struct acpi_pm_callbacks *cb)
{
	pm->clock = clock;
	pm->irq = irq;
	pm->sci_line = sci_line;
	pm->cb = *cb;
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = 0;
	pm->tmr_epoch = 0;
	pm->sci_level = false;
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->sts |= ACPI_PM1_PWRBTN;
	update_sci(pm);
}

static uint32_t pm_read(void *dev, uint16_t port, unsigned size)
{
	struct acpi_pm *pm = dev;
	uint64_t ticks = timer_ticks(pm);

	/* The common case, which an OS using the PM timer as its clock
	 * does thousands of times a second. */
	if (port == pm->base + ACPI_PM_TMR_OFFSET && size == 4)
		return (uint32_t)(ticks & ACPI_PM_TIMER_MASK);
	uint16_t sts = pm->sts;
	uint8_t regs[ACPI_PM_PORTS] = { 0 };
	uint32_t v = 0;

	if (ticks >> TMR_CARRY_SHIFT != pm->tmr_epoch)
		sts |= ACPI_PM1_TMR;
	regs[PM1_STS_OFFSET] = (uint8_t)sts;
	regs[PM1_STS_OFFSET + 1] = (uint8_t)(sts >> 8);
	regs[PM1_EN_OFFSET] = (uint8_t)pm->en;
	regs[PM1_EN_OFFSET + 1] = (uint8_t)(pm->en >> 8);
	regs[ACPI_PM1_CNT_OFFSET] = (uint8_t)(pm->cnt | ACPI_PM1_SCI_EN);
	regs[ACPI_PM1_CNT_OFFSET + 1] = (uint8_t)(pm->cnt >> 8);
	for (unsigned i = 0; i < 4; i++)
		regs[ACPI_PM_TMR_OFFSET + i] = (uint8_t)((ticks & ACPI_PM_TIMER_MASK) >> (8 * i));

	/* Bytes past the block (an access straddling its end) read as an
	 * empty bus does. */
	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(port - pm->base) + i;
		v |= (uint32_t)(off < ACPI_PM_PORTS ? regs[off] : 0xff) << (8 * i);
	}
	return v;
}

/* PM1a_CNT's high byte holds SLP_TYP and SLP_EN: a sleep request is
 * complete in it. */
static void write_cnt_byte(struct acpi_pm *pm, unsigned shift, uint8_t b)
{
	uint16_t v = (uint16_t)(b << shift);
	uint16_t keep = (uint16_t) ~(0xffu << shift);

	pm->cnt = (uint16_t)((pm->cnt & keep) | (v & PM1_CNT_WRITABLE));
	if (v & ACPI_PM1_SLP_EN) {
		unsigned typ = (pm->cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
		if (typ == ACPI_PM_SLP_TYP_S5)
			pm->cb.poweroff(pm->cb.ctx);
		else if (pm->cb.ignored_sleep)
			pm->cb.ignored_sleep(pm->cb.ctx, typ);
	}
}

static void pm_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct acpi_pm *pm = dev;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(port - pm->base) + i;
		uint8_t b = (uint8_t)(value >> (8 * i));
		unsigned shift = 8 * (off & 1);
		switch (off & ~1u) {
		case PM1_STS_OFFSET:
			/* Write 1 to clear; clearing TMR_STS restarts its
			 * carry detection from the counter's current half. */
			pm->sts &= (uint16_t) ~(b << shift);
			if (shift == 0 && (b & ACPI_PM1_TMR))
				pm->tmr_epoch = timer_ticks(pm) >> TMR_CARRY_SHIFT;
			break;
		case PM1_EN_OFFSET:
			pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) |
					    ((unsigned)(b << shift) & PM1_EN_WRITABLE));
			break;
		case ACPI_PM1_CNT_OFFSET:
			write_cnt_byte(pm, shift, b);
			break;
		default: /* the timer is read-only; past the block: nothing */
			break;
		}
	}
	update_sci(pm);
}

int acpi_pm_attach(struct acpi_pm *pm, struct io_bus *bus, uint16_t base)
{
	pm->base = base;
	return io_bus_register(bus, base, ACPI_PM_PORTS, pm_read, pm_write, pm, "acpi-pm");
}

/* The stored status bits: TMR_STS follows the counter. */
#define PM1_STS_STORED                                                                             \
	(ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC | ACPI_PM1_WAK_STS)

void acpi_pm_save(const struct acpi_pm *pm, struct state_writer *w)
{
	state_put_u16(w, pm->sts);
	state_put_u16(w, pm->en);
	state_put_u16(w, pm->cnt);
	state_put_u64(w, pm->tmr_epoch);
}

int acpi_pm_load(struct acpi_pm *pm, struct state_reader *r)
{
	uint16_t sts = state_get_u16(r), en = state_get_u16(r), cnt = state_get_u16(r);
	uint64_t tmr_epoch = state_get_u64(r);

	if (sts & ~PM1_STS_STORED)
		state_refuse(r, "ACPI PM1 status bit the model never sets");
	if (cnt & ~PM1_CNT_WRITABLE)
		state_refuse(r, "ACPI PM1 control bit the model never stores");
	if (state_reader_done(r))
		return -1;
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt;
	pm->tmr_epoch = tmr_epoch;
	update_sci(pm);
	return 0;
}
