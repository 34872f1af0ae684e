/* The ACPI fixed hardware of a VM (ACPI 6.4 chapter 4, "ACPI Hardware
 * Specification": the PM1 event and control registers and the power
 * management timer), in one block of I/O ports that the FADT points at
 * (vmm/load/acpi_build.c):
 *
 *   base + 0  PM1a_STS  16 bits, write 1 to clear   } PM1a_EVT_BLK, 4 bytes
 *   base + 2  PM1a_EN   16 bits                      }
 *   base + 4  PM1a_CNT  16 bits                        PM1a_CNT_BLK, 2 bytes
 *   base + 8  PM_TMR    24-bit 3.579545 MHz counter    PM_TMR_BLK, 4 bytes
 *
 * The platform has no SMI: SCI_EN always reads 1 (the OS finds the
 * hardware in ACPI mode, FADT SMI_CMD = 0). Writing PM1a_CNT with SLP_EN
 * and SLP_TYP = ACPI_PM_SLP_TYP_S5 (the value of the DSDT's \_S5 package)
 * powers the VM off through a callback; other sleep states are reported to
 * the caller and otherwise ignored. A power button press sets PWRBTN_STS and
 * raises the SCI (level-triggered, ISA IRQ 9) while PWRBTN_EN is set.
 * TMR_STS follows the counter for OSes that poll it, but raises no SCI
 * (Linux never sets TMR_EN). */
#ifndef PGVISOR_DEV_ACPI_PM_H
#define PGVISOR_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/vclock.h"
#include "vmm/dev/virq.h"

#define ACPI_PM_BASE_DEFAULT 0x600
#define ACPI_PM1_EVT_OFFSET 0
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_OFFSET 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_OFFSET 8
#define ACPI_PM_TMR_LEN 4
#define ACPI_PM_PORTS 12

#define ACPI_PM_SCI_IRQ 9
#define ACPI_PM_TIMER_HZ 3579545ull
#define ACPI_PM_TIMER_MASK 0xffffffu /* 24 bits: FADT TMR_VAL_EXT clear */
/* SLP_TYP of \_S5 (the DSDT's package and this model agree on it). */
#define ACPI_PM_SLP_TYP_S5 5

/* PM1 status and enable bits (ACPI 6.4 Tables 4.11 and 4.12). */
#define ACPI_PM1_TMR 0x0001u /* TMR_STS / TMR_EN */
#define ACPI_PM1_GBL 0x0020u
#define ACPI_PM1_PWRBTN 0x0100u
#define ACPI_PM1_SLPBTN 0x0200u
#define ACPI_PM1_RTC 0x0400u
#define ACPI_PM1_WAK_STS 0x8000u
/* PM1 control bits (Table 4.13). */
#define ACPI_PM1_SCI_EN 0x0001u
#define ACPI_PM1_BM_RLD 0x0002u
#define ACPI_PM1_GBL_RLS 0x0004u
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK 0x1c00u
#define ACPI_PM1_SLP_EN 0x2000u

struct acpi_pm_callbacks {
	void (*poweroff)(void *ctx); /* SLP_EN with \_S5's SLP_TYP; required */
	void (*ignored_sleep)(void *ctx, unsigned slp_typ); /* any other SLP_TYP; may be NULL */
	void *ctx;
};

struct acpi_pm {
	uint16_t base;
	const struct vclock *clock;
	const struct virq *irq;
	unsigned sci_line;
	struct acpi_pm_callbacks cb;
	uint16_t sts; /* PM1a_STS but TMR_STS, which follows the counter */
	uint16_t en;
	uint16_t cnt;	    /* the stored PM1a_CNT bits: BM_RLD, SLP_TYP */
	uint64_t tmr_epoch; /* timer ticks >> 23 when TMR_STS was last cleared */
	bool sci_level;
};

void acpi_pm_init(struct acpi_pm *pm, const struct vclock *clock, const struct virq *irq,
		  unsigned sci_line, const struct acpi_pm_callbacks *cb);
/* Claims ports [base, base + ACPI_PM_PORTS). Returns 0, or -1 when the
 * range is taken. */
int acpi_pm_attach(struct acpi_pm *pm, struct io_bus *bus, uint16_t base);
/* The PM timer now: ticks of 3.579545 MHz since the VM started, 24 bits. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);
/* The fixed-feature power button was pressed: PWRBTN_STS, and the SCI
 * while PWRBTN_EN is set. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void acpi_pm_save(const struct acpi_pm *pm, struct state_writer *w);
int acpi_pm_load(struct acpi_pm *pm, struct state_reader *r);

#endif
