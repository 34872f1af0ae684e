#include "vmm/dev/vlapic.h"

#include <string.h>

#include "vmm/dev/state_io.h"
#include "vmm/dev/vlapic_lvt.h"
#define REG_ID 0x20
#define REG_VERSION 0x30
#define REG_TPR VLAPIC_REG_TPR
#define REG_APR 0x90
#define REG_PPR 0xa0
#define REG_EOI 0xb0
#define REG_RRD 0xc0
#define REG_LDR 0xd0
#define REG_DFR 0xe0
#define REG_SVR 0xf0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_LVT_CMCI 0x2f0
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define REG_SELF_IPI 0x3f0 /* x2APIC only */
#define REG_LAST 0x3f0

/* Writable bits of each LVT (SDM figure 11-8): vector, mode, polarity,
 * trigger, mask, timer mode. */
#define LVT_WRITABLE 0x0007a7ffu
#define VERSION_VALUE 0x00050014u /* version 0x14, max LVT entry 5 */
#define SVR_ENABLE (1u << 8)
#define SVR_WRITABLE 0x13ffu
#define ICR_WRITABLE 0x000ccfffu
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_SHORTHAND_SHIFT 18
#define DFR_FLAT 0xffffffffu
#define APIC_BASE_ADDR_MASK 0xffffff000ull
#define APIC_BASE_RESERVED (~(APIC_BASE_ADDR_MASK | APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN))
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

static const uint32_t lvt_reset = LVT_MASKED;

static bool test_bit(const uint32_t *v, unsigned n)
{
	return v[n / 32] & (1u << (n % 32));
}

static void set_bit(uint32_t *v, unsigned n, bool on)
{
	if (on)
		v[n / 32] |= 1u << (n % 32);
	else
		v[n / 32] &= ~(1u << (n % 32));
}

/* The virtual-APIC page's copy of word i of the 256-bit register at
 * offset reg (its words lie 16 bytes apart, SDM 11.8.4). */
static void mirror_word(struct vlapic *a, unsigned reg, unsigned i, uint32_t value)
{
	a->vapic[(reg + 16 * i) / 4] = value;
}

/* Sets or clears vector n in the page's copy of IRR or ISR (reg): the
 * CPU's own while it delivers. */
static void page_set_vector(struct vlapic *a, unsigned reg, unsigned n, bool on)
{
	uint32_t *w = &a->vapic[(reg + 16 * (n / 32)) / 4];

	if (on)
		*w |= 1u << (n % 32);
	else
		*w &= ~(1u << (n % 32));
}

/* Sets or clears vector n in IRR or ISR (reg), keeping its summary (bit
 * i: word i != 0) and the page's copy. */
static void set_vector(struct vlapic *a, unsigned reg, unsigned n, bool on)
{
	uint32_t *v = reg == REG_IRR ? a->irr : a->isr;
	uint8_t *words = reg == REG_IRR ? &a->irr_words : &a->isr_words;

	set_bit(v, n, on);
	/* While the CPU delivers, the page's IRR is the CPU's (the model's
	 * holds what waits for vlapic_post_pending). */
	if (!a->cpu_delivers)
		mirror_word(a, reg, n / 32, v[n / 32]);
	if (v[n / 32])
		*words |= (uint8_t)(1u << (n / 32));
	else
		*words &= (uint8_t) ~(1u << (n / 32));
}

static int highest_vector(const uint32_t *v, uint8_t words)
{
	if (!words)
		return -1;
	int i = 31 - __builtin_clz(words);
	return i * 32 + 31 - __builtin_clz(v[i]);
}

/* The highest vector set in the page's copy of IRR or ISR (reg), or -1. */
static int page_highest(const struct vlapic *a, unsigned reg)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = a->vapic[(reg + 16 * (unsigned)i) / 4];
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* IRR: what the model holds, and while the CPU delivers what it was
 * handed in the page too. */
static int highest_irr(const struct vlapic *a)
{
	int v = highest_vector(a->irr, a->irr_words);

	if (a->cpu_delivers) {
		int p = page_highest(a, REG_IRR);
		if (p > v)
			v = p;
	}
	return v;
}

/* ISR: the page's while the CPU delivers (it sets and clears the bits). */
static int highest_isr(const struct vlapic *a)
{
	return a->cpu_delivers ? page_highest(a, REG_ISR) : highest_vector(a->isr, a->isr_words);
}

static uint32_t reg_read(struct vlapic *a, unsigned reg);

/* Registers a CPU with APIC-register virtualization reads from the
 * virtual-APIC page without exits (SDM 29.4.2, 29.5), copied there after
 * every change; IRR, ISR and TMR are copied word by word as they change.
 * Not TPR (it lives there), nor PPR (a TPR write without exit changes
 * it) or the timer's current count, whose reads always exit. ICR high
 * (and ICR low, EOI: 0) are read from the page in xAPIC mode (the
 * APIC-access page, SDM 29.4.2). */
static const uint16_t mirrored_regs[] = {
	REG_ID,
	REG_VERSION,
	REG_LDR,
	REG_DFR,
	REG_SVR,
	REG_ESR,
	REG_ICR_HIGH,
	REG_LVT_CMCI,
	REG_LVT_TIMER,
	REG_LVT_TIMER + 0x10,
	REG_LVT_TIMER + 0x20,
	REG_LVT_TIMER + 0x30,
	REG_LVT_TIMER + 0x40,
	REG_LVT_TIMER + 0x50,
	REG_LVT_ERROR,
	REG_TIMER_INITIAL,
	REG_TIMER_DIVIDE,
};

static void mirror_registers(struct vlapic *a)
{
	for (unsigned i = 0; i < sizeof(mirrored_regs) / sizeof(mirrored_regs[0]); i++)
		a->vapic[mirrored_regs[i] / 4] = reg_read(a, mirrored_regs[i]);
}

static void reset_registers(struct vlapic *a)
{
	/* A reset brings back the initial APIC ID a guest may have changed. */
	a->id = a->initial_id;
	memset(a->vapic, 0, VLAPIC_PAGE_SIZE);
	a->svr = 0xff;
	a->ldr = 0;
	a->dfr = DFR_FLAT;
	a->esr = 0;
	a->icr_high = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = lvt_reset;
	memset(a->irr, 0, sizeof(a->irr));
	memset(a->isr, 0, sizeof(a->isr));
	a->irr_words = a->isr_words = 0;
	memset(a->tmr, 0, sizeof(a->tmr));
	a->timer_initial = 0;
	a->timer_divide = 0;
	a->timer_expiry_ns = VTIME_NEVER;
	a->ticks.owed = 0;
	a->tsc_deadline = 0;
	mirror_registers(a);
}

void vlapic_init(struct vlapic *a, uint32_t id, bool bsp, const struct vclock *clock,
		 struct vlapic_ops ops, uint32_t *vapic)
{
	memset(a, 0, sizeof(*a));
	a->vapic = vapic;
	a->initial_id = id;
	a->timer_hz = VLAPIC_TIMER_HZ;
	a->clock = clock;
	a->ops = ops;
	/* Firmware hands over the APIC enabled in xAPIC mode. */
	a->apic_base = VLAPIC_MMIO_BASE | APIC_BASE_EN | (bsp ? APIC_BASE_BSP : 0);
	reset_registers(a);
}

void vlapic_virtual_wire(struct vlapic *a)
{
	a->svr |= SVR_ENABLE;
	a->lvt[LVT_LINT0] = APIC_DM_EXTINT << LVT_MODE_SHIFT;
	a->lvt[LVT_LINT0 + 1] = APIC_DM_NMI << LVT_MODE_SHIFT;
	mirror_registers(a);
}

bool vlapic_hw_enabled(const struct vlapic *a)
{
	return a->apic_base & APIC_BASE_EN;
}

bool vlapic_x2apic(const struct vlapic *a)
{
	return (a->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

uint32_t vlapic_id(const struct vlapic *a)
{
	return vlapic_x2apic(a) ? a->initial_id : a->id;
}

uint64_t vlapic_mmio_base(const struct vlapic *a)
{
	return a->apic_base & APIC_BASE_ADDR_MASK;
}

void vlapic_set_tsc_hz(struct vlapic *a, uint64_t tsc_hz)
{
	if (!tsc_hz)
		return;
	a->timer_hz = tsc_hz / ((tsc_hz + VLAPIC_TIMER_HZ - 1) / VLAPIC_TIMER_HZ);
}

static uint32_t ppr(const struct vlapic *a)
{
	int isrv = highest_isr(a);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	uint32_t tpr = vlapic_tpr(a);

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

void vlapic_set_tpr(struct vlapic *a, uint32_t tpr)
{
	/* Bits 31:8 of the page's TPR are reserved, kept 0 (SDM 29.1.1). */
	a->vapic[REG_TPR / 4] = tpr & 0xff;
}

unsigned vlapic_tpr_threshold(const struct vlapic *a)
{
	int v = highest_irr(a);
	unsigned irr_class = v < 0 ? 0 : (unsigned)v >> 4;

	return irr_class <= vlapic_tpr(a) >> 4 ? irr_class : 0;
}

int vlapic_pending_vector(const struct vlapic *a)
{
	int v = highest_irr(a);

	if (v < 0 || !vlapic_hw_enabled(a))
		return -1;
	return ((uint32_t)v & 0xf0) > (ppr(a) & 0xf0) ? v : -1;
}

void vlapic_accept(struct vlapic *a, uint8_t vector, bool level)
{
	if (vector < 16) {
		a->esr |= 1u << 6; /* received illegal vector */
		a->vapic[REG_ESR / 4] = a->esr;
		return;
	}
	set_vector(a, REG_IRR, vector, true);
	set_bit(a->tmr, vector, level);
	mirror_word(a, REG_TMR, vector / 32, a->tmr[vector / 32]);
}

void vlapic_ack(struct vlapic *a, uint8_t vector)
{
	set_vector(a, REG_IRR, vector, false);
	if (a->cpu_delivers) {
		/* Acknowledged by the model while the CPU cannot deliver it (its
		 * nested guest runs): IRR to ISR in the page, as the CPU's
		 * delivery would (SDM 29.2.2); RVI and SVI must follow. */
		page_set_vector(a, REG_IRR, vector, false);
		page_set_vector(a, REG_ISR, vector, true);
		a->isr_changed = true;
		return;
	}
	set_vector(a, REG_ISR, vector, true);
}

bool vlapic_accepts_pic(const struct vlapic *a)
{
	uint32_t lint0 = a->lvt[LVT_LINT0];

	if (!vlapic_hw_enabled(a))
		return true;
	return !(lint0 & LVT_MASKED) &&
	       ((lint0 >> LVT_MODE_SHIFT) & LVT_MODE_MASK) == APIC_DM_EXTINT;
}

bool vlapic_lint0_fixed(const struct vlapic *a)
{
	uint32_t lint0 = a->lvt[LVT_LINT0];

	return vlapic_hw_enabled(a) && !(lint0 & LVT_MASKED) &&
	       ((lint0 >> LVT_MODE_SHIFT) & LVT_MODE_MASK) == APIC_DM_FIXED;
}

void vlapic_lint0_sample(struct vlapic *a, bool level)
{
	bool rising = level && !a->lint0_level;

	a->lint0_level = level;
	if (rising && vlapic_lint0_fixed(a))
		vlapic_accept(a, (uint8_t)(a->lvt[LVT_LINT0] & LVT_VECTOR_MASK), false);
}

bool vlapic_level_triggered(const struct vlapic *a, uint8_t vector)
{
	return test_bit(a->tmr, vector);
}

void vlapic_eoi(struct vlapic *a)
{
	int v = highest_isr(a);

	if (v < 0)
		return;
	if (a->cpu_delivers) {
		page_set_vector(a, REG_ISR, (unsigned)v, false);
		a->isr_changed = true; /* SVI must follow */
	} else {
		set_vector(a, REG_ISR, (unsigned)v, false);
	}
	vlapic_eoi_done(a, (uint8_t)v);
}

void vlapic_eoi_done(struct vlapic *a, uint8_t vector)
{
	if (test_bit(a->tmr, vector) && a->ops.eoi_level)
		a->ops.eoi_level(a->ops.ctx, vector);
}

void vlapic_set_cpu_delivers(struct vlapic *a, bool on)
{
	if (on == a->cpu_delivers)
		return;
	if (on) {
		/* The page holds copies of both: it becomes their only home,
		 * the model's IRR the vectors still to be handed over. */
		memset(a->irr, 0, sizeof(a->irr));
		memset(a->isr, 0, sizeof(a->isr));
		a->irr_words = a->isr_words = 0;
	} else {
		for (unsigned i = 0; i < 8; i++) {
			uint32_t irr = a->irr[i] | a->vapic[(REG_IRR + 16 * i) / 4];
			a->irr[i] = irr;
			a->isr[i] = a->vapic[(REG_ISR + 16 * i) / 4];
			mirror_word(a, REG_IRR, i, irr);
			a->irr_words = (uint8_t)(a->irr_words | (irr ? 1u << i : 0));
			a->isr_words = (uint8_t)(a->isr_words | (a->isr[i] ? 1u << i : 0));
		}
	}
	a->cpu_delivers = on;
	a->isr_changed = false;
}

int vlapic_post_pending(struct vlapic *a)
{
	int highest = highest_vector(a->irr, a->irr_words);

	for (unsigned i = 0; a->irr_words && i < 8; i++) {
		a->vapic[(REG_IRR + 16 * i) / 4] |= a->irr[i];
		a->irr[i] = 0;
	}
	a->irr_words = 0;
	return highest;
}

int vlapic_page_highest(const struct vlapic *a, bool isr)
{
	return page_highest(a, isr ? REG_ISR : REG_IRR);
}

bool vlapic_requested(const struct vlapic *a, uint8_t vector)
{
	return test_bit(a->irr, vector);
}

uint32_t vlapic_tmr_word(const struct vlapic *a, unsigned i)
{
	return a->tmr[i];
}

/* --- registers ---------------------------------------------------------- */

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static uint32_t reg_read(struct vlapic *a, unsigned reg)
{
	switch (reg) {
	case REG_ID:
		return vlapic_x2apic(a) ? a->initial_id : a->id << 24;
	case REG_VERSION:
		return VERSION_VALUE;
	case REG_TPR:
		return vlapic_tpr(a);
	case REG_APR:
		return 0;
	case REG_PPR:
		return ppr(a);
	case REG_LDR:
		return vlapic_x2apic(a) ? x2apic_ldr(a->initial_id) : a->ldr;
	case REG_DFR:
		return a->dfr;
	case REG_SVR:
		return a->svr;
	case REG_ESR:
		return a->esr;
	case REG_ICR_LOW:
		return 0; /* delivery status idle: IPIs are delivered at once */
	case REG_ICR_HIGH:
		return a->icr_high;
	case REG_TIMER_INITIAL:
		return a->timer_initial;
	case REG_TIMER_CURRENT:
		return vlapic_timer_count(a);
	case REG_TIMER_DIVIDE:
		return a->timer_divide;
	default:
		break;
	}
	if (a->cpu_delivers &&
	    ((reg >= REG_ISR && reg < REG_ISR + 0x80) || (reg >= REG_IRR && reg < REG_IRR + 0x80)))
		return a->vapic[reg / 4] | (reg >= REG_IRR ? a->irr[(reg - REG_IRR) / 16] : 0);
	if (reg >= REG_ISR && reg < REG_ISR + 0x80)
		return a->isr[(reg - REG_ISR) / 16];
	if (reg >= REG_TMR && reg < REG_TMR + 0x80)
		return a->tmr[(reg - REG_TMR) / 16];
	if (reg >= REG_IRR && reg < REG_IRR + 0x80)
		return a->irr[(reg - REG_IRR) / 16];
	if (reg == REG_LVT_CMCI)
		return a->lvt[LVT_CMCI];
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
		return a->lvt[1 + (reg - REG_LVT_TIMER) / 16];
	return 0;
}

static void send_ipi(struct vlapic *a, uint32_t low, uint32_t dest)
{
	struct vlapic_ipi ipi = {
		.vector = (uint8_t)low,
		.mode = (uint8_t)((low >> LVT_MODE_SHIFT) & LVT_MODE_MASK),
		.shorthand = (uint8_t)((low >> ICR_SHORTHAND_SHIFT) & 3),
		.logical = low & ICR_DEST_LOGICAL,
		.level_assert = low & ICR_LEVEL_ASSERT,
		.dest = dest,
	};

	if (a->ops.send_ipi)
		a->ops.send_ipi(a->ops.ctx, a, &ipi);
}

static void write_lvt(struct vlapic *a, unsigned index, uint32_t value)
{
	uint32_t old_mode = vlapic_timer_mode(a);

	/* While software-disabled, every LVT stays masked (SDM 11.4.7.2). */
	if (!(a->svr & SVR_ENABLE))
		value |= LVT_MASKED;
	a->lvt[index] = value & LVT_WRITABLE;
	/* Only a switch to or from TSC-deadline mode disarms the timer (SDM
	 * 11.5.4.1): between one-shot and periodic the count goes on, and
	 * what happens at zero is decided by the mode then. */
	if (index == LVT_TIMER && vlapic_timer_mode(a) != old_mode &&
	    (vlapic_timer_mode(a) == TIMER_TSC_DEADLINE || old_mode == TIMER_TSC_DEADLINE)) {
		a->timer_initial = 0;
		a->timer_expiry_ns = VTIME_NEVER;
		a->tsc_deadline = 0;
	}
}

/* Returns false for a write that must fault (x2APIC) or is ignored. */
static bool reg_write_model(struct vlapic *a, unsigned reg, uint32_t value)
{
	switch (reg) {
	case REG_ID:
		if (!vlapic_x2apic(a))
			a->id = value >> 24;
		return !vlapic_x2apic(a);
	case REG_TPR:
		vlapic_set_tpr(a, value);
		return true;
	case REG_EOI:
		vlapic_eoi(a);
		return true;
	case REG_LDR:
		if (vlapic_x2apic(a))
			return false; /* read-only in x2APIC mode */
		a->ldr = value & 0xff000000u;
		return true;
	case REG_DFR:
		if (vlapic_x2apic(a))
			return false;
		a->dfr = value | 0x0fffffffu;
		return true;
	case REG_SVR:
		a->svr = value & SVR_WRITABLE;
		if (!(a->svr & SVR_ENABLE))
			for (int i = 0; i < LVT_COUNT; i++)
				a->lvt[i] |= LVT_MASKED;
		return true;
	case REG_ESR:
		a->esr = 0;
		return true;
	case REG_ICR_LOW:
		/* With the APIC-access page the CPU writes ICR high into the
		 * page alone, without an exit (SDM 29.4.3.2): the page's copy
		 * is the register. */
		a->icr_high = a->vapic[REG_ICR_HIGH / 4] & 0xff000000u;
		send_ipi(a, value & ICR_WRITABLE, a->icr_high >> 24);
		return true;
	case REG_ICR_HIGH:
		if (vlapic_x2apic(a))
			return false;
		a->icr_high = value & 0xff000000u;
		return true;
	case REG_TIMER_INITIAL:
		if (vlapic_timer_mode(a) == TIMER_TSC_DEADLINE)
			return true; /* ignored in TSC-deadline mode */
		a->timer_initial = value;
		vlapic_timer_start(a);
		return true;
	case REG_TIMER_DIVIDE:
		a->timer_divide = value & 0xb;
		return true;
	case REG_SELF_IPI:
		if (!vlapic_x2apic(a))
			return false;
		vlapic_accept(a, (uint8_t)value, false);
		return true;
	default:
		break;
	}
	if (reg == REG_LVT_CMCI) {
		write_lvt(a, LVT_CMCI, value);
		return true;
	}
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR && !(reg & 0xf)) {
		write_lvt(a, 1 + (reg - REG_LVT_TIMER) / 16, value);
		return true;
	}
	return false; /* read-only or reserved */
}

static bool reg_write(struct vlapic *a, unsigned reg, uint32_t value)
{
	if (!reg_write_model(a, reg, value))
		return false;
	switch (reg) {
	case REG_TPR: /* lives in the page */
	case REG_EOI: /* ISR is copied as it changes */
	case REG_ICR_LOW:
	case REG_SELF_IPI:
		break;
	case REG_SVR: /* may mask every LVT */
		mirror_registers(a);
		break;
	case REG_LVT_TIMER: /* may stop the timer (initial count 0) */
		a->vapic[REG_LVT_TIMER / 4] = reg_read(a, REG_LVT_TIMER);
		a->vapic[REG_TIMER_INITIAL / 4] = a->timer_initial;
		break;
	default: /* the register written, alone */
		a->vapic[reg / 4] = reg_read(a, reg);
		break;
	}
	return true;
}

/* The xAPIC page answers at the APIC's base while the APIC is enabled in
 * xAPIC mode; disabled, in x2APIC mode (SDM 11.12.2) or elsewhere, the
 * address decodes to nothing. */
static bool mmio_decoded(const struct vlapic *a, uint64_t addr)
{
	return vlapic_hw_enabled(a) && !vlapic_x2apic(a) &&
	       (addr & ~(VLAPIC_MMIO_SIZE - 1)) == vlapic_mmio_base(a);
}

uint64_t vlapic_mmio_read(void *p, uint64_t addr, unsigned size)
{
	struct vlapic *a = p;
	unsigned off = (unsigned)(addr & (VLAPIC_MMIO_SIZE - 1));

	/* Nothing decodes the address: the bus reads all ones. */
	if (!mmio_decoded(a, addr))
		return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
	/* Registers are 32 bits at 16-byte strides. */
	if ((off & 0xf) + size > 4)
		return 0;
	return reg_read(a, off & ~0xfu) >> (8 * (off & 3));
}

void vlapic_mmio_write(void *p, uint64_t addr, unsigned size, uint64_t value)
{
	struct vlapic *a = p;
	unsigned off = (unsigned)(addr & (VLAPIC_MMIO_SIZE - 1));

	if (!mmio_decoded(a, addr) || (off & 0xf) || size != 4)
		return; /* only aligned 32-bit writes reach APIC registers */
	if (off == REG_SELF_IPI)
		return; /* SELF IPI exists only in x2APIC mode */
	reg_write(a, off, (uint32_t)value);
}

void vlapic_apic_write(struct vlapic *a, unsigned offset)
{
	unsigned reg = offset & ~0xfu;

	/* Only whole registers are written through (SDM 29.4.3.2: an APIC-
	 * write exit follows an aligned 32-bit write), and the TPR never
	 * exits this way. */
	if ((offset & 0xf) || reg > REG_LAST || reg == REG_TPR ||
	    !mmio_decoded(a, vlapic_mmio_base(a)))
		return;
	uint32_t value = a->vapic[reg / 4];
	reg_write(a, reg, value);
	/* The CPU left the guest's value in the page: it must read what the
	 * register holds (ICR low and EOI read 0, as through MMIO). */
	a->vapic[reg / 4] = reg_read(a, reg);
}

static int write_apic_base(struct vlapic *a, uint64_t value)
{
	uint64_t old = a->apic_base;
	bool en = value & APIC_BASE_EN, extd = value & APIC_BASE_EXTD;
	bool was_x2 = vlapic_x2apic(a);

	/* The transitions SDM 11.12.5 allows; anything else is #GP. */
	if ((value & APIC_BASE_RESERVED) || (!en && extd) || (was_x2 && en && !extd) ||
	    (!(old & APIC_BASE_EN) && en && extd))
		return -1;
	a->apic_base = (value & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if (!en) {
		/* Disabling resets the APIC to its power-up state, the
		 * initial ID included. */
		reset_registers(a);
	} else if (extd && !was_x2) {
		a->ldr = x2apic_ldr(a->initial_id);
	}
	mirror_registers(a); /* the IDs and LDR read differently in x2APIC mode */
	if (((old ^ a->apic_base) & APIC_BASE_ADDR_MASK) && a->ops.base_moved)
		a->ops.base_moved(a->ops.ctx, a);
	return 0;
}

int vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *value)
{
	if (msr == MSR_APIC_BASE) {
		*value = a->apic_base;
		return 0;
	}
	if (msr == MSR_TSC_DEADLINE) {
		*value = vlapic_timer_mode(a) == TIMER_TSC_DEADLINE ? a->tsc_deadline : 0;
		return 0;
	}
	if (!vlapic_x2apic(a) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -1;
	unsigned reg = (msr - X2APIC_MSR_FIRST) << 4;
	if (reg == REG_ICR_LOW) {
		/* x2APIC's ICR reads back as written (delivery is immediate). */
		*value = a->icr_x2apic;
		return 0;
	}
	/* Registers x2APIC does not have (SDM table 11-6). */
	if (reg == REG_DFR || reg == REG_ICR_HIGH || reg == REG_EOI || reg == REG_SELF_IPI ||
	    reg == REG_APR || reg == REG_RRD || reg > REG_LAST)
		return -1;
	*value = reg_read(a, reg);
	return 0;
}

int vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t value)
{
	if (msr == MSR_APIC_BASE)
		return write_apic_base(a, value);
	if (msr == MSR_TSC_DEADLINE) {
		if (vlapic_timer_mode(a) == TIMER_TSC_DEADLINE)
			a->tsc_deadline = value;
		return 0;
	}
	if (!vlapic_x2apic(a) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -1;
	unsigned reg = (msr - X2APIC_MSR_FIRST) << 4;
	if (reg == REG_ICR_LOW) {
		a->icr_x2apic = value & (((uint64_t)0xffffffff << 32) | ICR_WRITABLE);
		send_ipi(a, (uint32_t)value & ICR_WRITABLE, (uint32_t)(value >> 32));
		return 0;
	}
	/* Reserved bits of 32-bit registers must be zero in x2APIC mode. */
	if (value >> 32)
		return -1;
	if (reg == REG_EOI && value)
		return -1;
	return reg_write(a, reg, (uint32_t)value) ? 0 : -1;
}

/* --- saved state -------------------------------------------------------- */

#define VECTOR_WORDS 8
#define TIMER_DIVIDE_BITS 0xbu
#define ICR_HIGH_DEST 0xff000000u
#define DFR_MODEL 0xf0000000u
#define ESR_BITS 0xffu

/* IRR and ISR as the guest sees them: while the CPU delivers, the page
 * holds them (and the model's IRR what is still to be handed over). */
static void architectural_vectors(const struct vlapic *a, uint32_t *irr, uint32_t *isr)
{
	for (unsigned i = 0; i < VECTOR_WORDS; i++) {
		irr[i] = a->irr[i];
		isr[i] = a->isr[i];
		if (a->cpu_delivers) {
			irr[i] |= a->vapic[(REG_IRR + 16 * i) / 4];
			isr[i] = a->vapic[(REG_ISR + 16 * i) / 4];
		}
	}
}

void vlapic_save(const struct vlapic *a, struct state_writer *w)
{
	uint32_t irr[VECTOR_WORDS], isr[VECTOR_WORDS];

	architectural_vectors(a, irr, isr);
	state_put_u32(w, a->initial_id);
	state_put_u32(w, a->id);
	state_put_u64(w, a->apic_base);
	state_put_u8(w, (uint8_t)vlapic_tpr(a));
	state_put_u32(w, a->svr);
	state_put_u32(w, a->ldr);
	state_put_u32(w, a->dfr);
	state_put_u32(w, a->esr);
	state_put_u32(w, a->icr_high);
	state_put_u64(w, a->icr_x2apic);
	for (unsigned i = 0; i < LVT_COUNT; i++)
		state_put_u32(w, a->lvt[i]);
	for (unsigned i = 0; i < VECTOR_WORDS; i++) {
		state_put_u32(w, irr[i]);
		state_put_u32(w, isr[i]);
		state_put_u32(w, a->tmr[i]);
	}
	state_put_u32(w, a->timer_initial);
	state_put_u32(w, a->timer_divide);
	state_put_u64(w, a->timer_hz);
	state_put_time(w, a->timer_start_ns);
	state_put_time(w, a->timer_expiry_ns);
	state_put_u32(w, a->ticks.owed);
	state_put_u64(w, a->tsc_deadline);
	state_put_u8(w, a->nmi_pending);
	state_put_bool(w, a->lint0_level);
}

static void check_loaded(const struct vlapic *a, struct state_reader *r)
{
	if (a->apic_base & APIC_BASE_RESERVED)
		state_refuse(r, "vLAPIC IA32_APIC_BASE reserved bits set");
	/* x2APIC enabled with the APIC disabled is invalid (SDM 11.12.5). */
	if ((a->apic_base & APIC_BASE_EXTD) && !(a->apic_base & APIC_BASE_EN))
		state_refuse(r, "vLAPIC in x2APIC mode while disabled");
	if ((a->svr & ~SVR_WRITABLE) || (a->esr & ~ESR_BITS) || (a->icr_high & ~ICR_HIGH_DEST) ||
	    (a->dfr | DFR_MODEL) != DFR_FLAT || (a->timer_divide & ~TIMER_DIVIDE_BITS))
		state_refuse(r, "vLAPIC register with reserved bits set");
	for (unsigned i = 0; i < LVT_COUNT; i++)
		if (a->lvt[i] & ~LVT_WRITABLE)
			state_refuse(r, "vLAPIC LVT entry with reserved bits set");
	if (!a->timer_hz || a->timer_hz > VLAPIC_TIMER_HZ)
		state_refuse(r, "vLAPIC timer clock out of range");
	if (a->nmi_pending > VLAPIC_NMI_PENDING_MAX)
		state_refuse(r, "vLAPIC holds more NMIs than a CPU latches");
	if (a->ticks.owed > tick_backlog_cap(VLAPIC_MIN_PERIOD_NS))
		state_refuse(r, "vLAPIC owes more ticks than its timer mode keeps");
}

/* Into the vLAPIC of the vCPU with the same initial APIC ID. Whether the
 * CPU delivers interrupts is this host's choice: the vectors are loaded
 * into the model and handed to the page as vlapic_set_cpu_delivers does. */
int vlapic_load(struct vlapic *a, struct state_reader *r)
{
	struct vlapic loaded = *a;
	bool delivers = a->cpu_delivers;
	uint8_t tpr;

	if (state_get_u32(r) != a->initial_id)
		state_refuse(r, "vLAPIC state of another APIC ID");
	loaded.id = state_get_u32(r);
	loaded.apic_base = state_get_u64(r);
	tpr = state_get_u8(r);
	loaded.svr = state_get_u32(r);
	loaded.ldr = state_get_u32(r);
	loaded.dfr = state_get_u32(r);
	loaded.esr = state_get_u32(r);
	loaded.icr_high = state_get_u32(r);
	loaded.icr_x2apic = state_get_u64(r);
	for (unsigned i = 0; i < LVT_COUNT; i++)
		loaded.lvt[i] = state_get_u32(r);
	for (unsigned i = 0; i < VECTOR_WORDS; i++) {
		loaded.irr[i] = state_get_u32(r);
		loaded.isr[i] = state_get_u32(r);
		loaded.tmr[i] = state_get_u32(r);
	}
	loaded.timer_initial = state_get_u32(r);
	loaded.timer_divide = state_get_u32(r);
	loaded.timer_hz = state_get_u64(r);
	loaded.timer_start_ns = state_get_past_time(r);
	loaded.timer_expiry_ns = state_get_time(r);
	loaded.ticks.owed = state_get_u32(r);
	loaded.tsc_deadline = state_get_u64(r);
	loaded.nmi_pending = state_get_u8(r);
	loaded.lint0_level = state_get_bool(r);
	check_loaded(&loaded, r);
	if (state_reader_done(r))
		return -1;
	loaded.cpu_delivers = false;
	loaded.isr_changed = false;
	loaded.irr_words = loaded.isr_words = 0;
	*a = loaded;
	memset(a->vapic, 0, VLAPIC_PAGE_SIZE);
	a->vapic[REG_TPR / 4] = tpr;
	for (unsigned i = 0; i < VECTOR_WORDS; i++) {
		mirror_word(a, REG_IRR, i, a->irr[i]);
		mirror_word(a, REG_ISR, i, a->isr[i]);
		mirror_word(a, REG_TMR, i, a->tmr[i]);
		a->irr_words = (uint8_t)(a->irr_words | (a->irr[i] ? 1u << i : 0));
		a->isr_words = (uint8_t)(a->isr_words | (a->isr[i] ? 1u << i : 0));
	}
	mirror_registers(a);
	vlapic_set_cpu_delivers(a, delivers);
	return 0;
}
