/* A virtual local APIC per vCPU (SDM Vol. 3 chapter 11): xAPIC registers
 * by MMIO at 0xFEE00000, x2APIC registers by MSR (0x800-0x8ff), the
 * IA32_APIC_BASE state machine (SDM 11.12.5), the timer in one-shot,
 * periodic and TSC-deadline modes, TPR/PPR, EOI and IPIs. Pure state: the
 * VM wires its callbacks (where IPIs go, EOI broadcast to the I/O APIC). */
#ifndef PGVISOR_VLAPIC_H
#define PGVISOR_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/tick_backlog.h"
#include "vmm/dev/vclock.h"

#define VLAPIC_MMIO_BASE 0xfee00000ull
#define VLAPIC_MMIO_SIZE 0x1000ull
#define VLAPIC_TIMER_HZ 100000000ull /* the fastest bus clock the timer counts */
#define VLAPIC_MIN_PERIOD_NS 50000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define X2APIC_MSR_FIRST 0x800
#define X2APIC_MSR_LAST 0x8ff
#define VLAPIC_PAGE_SIZE 4096u
#define VLAPIC_REG_TPR 0x80

/* ICR delivery modes (SDM 11.6.1) */
#define APIC_DM_FIXED 0
#define APIC_DM_LOWEST 1
#define APIC_DM_SMI 2
#define APIC_DM_NMI 4
#define APIC_DM_INIT 5
#define APIC_DM_STARTUP 6
#define APIC_DM_EXTINT 7

struct vlapic;

/* An interrupt command (ICR write): where it goes is the VM's business. */
struct vlapic_ipi {
	uint8_t vector;
	uint8_t mode;	   /* APIC_DM_* */
	uint8_t shorthand; /* 0 none, 1 self, 2 all incl. self, 3 all excl. self */
	bool logical;
	bool level_assert;
	uint32_t dest;
};

struct vlapic_ops {
	void (*send_ipi)(void *ctx, struct vlapic *from, const struct vlapic_ipi *ipi);
	/* A level-triggered interrupt was EOIed: the I/O APIC clears remote IRR. */
	void (*eoi_level)(void *ctx, uint8_t vector);
	/* IA32_APIC_BASE moved the xAPIC page: the VM decodes the new one
	 * (SDM 11.4.5). May be NULL. */
	void (*base_moved)(void *ctx, struct vlapic *a);
	void *ctx;
};

struct vlapic {
	uint32_t id;	     /* the xAPIC ID register: software may change it */
	uint32_t initial_id; /* CPUID's APIC ID: the x2APIC ID, read-only */
	uint64_t apic_base;  /* IA32_APIC_BASE */
	/* The virtual-APIC page (VLAPIC_PAGE_SIZE bytes, page-aligned): the
	 * registers a CPU with TPR shadow reads and writes without exits, at
	 * their xAPIC offsets (SDM Vol. 3 29.1). TPR lives only here, so the
	 * guest's CR8 and the model are one register; the others a guest may
	 * read without exits (APIC-register virtualization) are copied here
	 * whenever they change. */
	uint32_t *vapic;
	uint32_t svr, ldr, dfr, esr, icr_high;
	uint64_t icr_x2apic;
	uint32_t lvt[7]; /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
	uint32_t irr[8], isr[8], tmr[8];
	/* Bit i set: irr[i] (isr[i]) is not zero. The highest vector is then
	 * two bit scans: this runs before every VM entry. */
	uint8_t irr_words, isr_words;
	uint32_t timer_initial, timer_divide;
	uint64_t timer_hz;	   /* the bus clock the timer counts */
	uint64_t timer_start_ns;   /* when the current count was loaded */
	uint64_t timer_expiry_ns;  /* next interrupt, VTIME_NEVER when idle */
	struct tick_backlog ticks; /* periodic ticks not yet raised */
	uint64_t tsc_deadline;	   /* guest TSC value, 0 = disarmed */
	uint64_t tsc_offset;	   /* guest TSC = host TSC + this */
	const struct vclock *clock;
	uint64_t (*tsc_to_ns)(void *ctx, uint64_t guest_tsc);
	void *tsc_ctx;
	struct vlapic_ops ops;
	/* Virtual-interrupt delivery (vlapic_set_cpu_delivers): the CPU owns
	 * IRR and ISR in the page, irr[] holds vectors not yet handed to it;
	 * isr_changed: the model EOIed or acknowledged one there (SVI and RVI
	 * must follow). */
	bool cpu_delivers;
	bool isr_changed;
	/* NMIs accepted and not yet delivered: at most one being delivered
	 * and one latched behind it (vlapic_raise_nmi). */
	uint8_t nmi_pending;
	bool lint0_level; /* the LINT0 pin when last sampled */
};

/* The most NMIs a vCPU holds: one to deliver now and one the CPU latches
 * while NMIs are blocked (SDM Vol. 3 6.7.1); interrupts.c trims them to
 * one when the guest is in its NMI handler. */
#define VLAPIC_NMI_PENDING_MAX 2

/* An NMI arrived (ICR, LINT1): a third before delivery is one of these. */
static inline void vlapic_raise_nmi(struct vlapic *a)
{
	if (a->nmi_pending < VLAPIC_NMI_PENDING_MAX)
		a->nmi_pending++;
}

/* vapic: the vCPU's virtual-APIC page, which the vLAPIC keeps (and clears
 * at every reset). */
void vlapic_init(struct vlapic *a, uint32_t id, bool bsp, const struct vclock *clock,
		 struct vlapic_ops ops, uint32_t *vapic);
/* What PC firmware leaves on the boot CPU: APIC software-enabled, LINT0
 * in ExtINT mode (the 8259 reaches the CPU), LINT1 as NMI. */
void vlapic_virtual_wire(struct vlapic *a);
bool vlapic_hw_enabled(const struct vlapic *a);
bool vlapic_x2apic(const struct vlapic *a);
/* The ID IPIs and the I/O APIC address: the x2APIC ID in x2APIC mode, the
 * xAPIC ID register otherwise. */
uint32_t vlapic_id(const struct vlapic *a);
/* The guest-physical page of the xAPIC registers (IA32_APIC_BASE). */
uint64_t vlapic_mmio_base(const struct vlapic *a);
/* The timer counts a bus clock no faster than the TSC, as on real CPUs:
 * VLAPIC_TIMER_HZ, or tsc_hz divided by the smallest whole number that
 * brings it down to that. A guest calibrating one against the other then
 * finds a TSC-to-bus ratio of at least 1. */
void vlapic_set_tsc_hz(struct vlapic *a, uint64_t tsc_hz);

uint64_t vlapic_mmio_read(void *a, uint64_t addr, unsigned size);
void vlapic_mmio_write(void *a, uint64_t addr, unsigned size, uint64_t value);
/* An APIC-write exit (SDM 29.4.3.3): the guest's write of the register at
 * offset already lies in the virtual-APIC page; the model takes it from
 * there, acts on it as on an MMIO write, and puts back what the register
 * then reads. ICR high writes never exit: an ICR low write takes the
 * destination from the page. */
void vlapic_apic_write(struct vlapic *a, unsigned offset);
/* x2APIC registers, IA32_APIC_BASE and IA32_TSC_DEADLINE: 0, or -1 when
 * the access must raise #GP. */
int vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *value);
int vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t value);

/* An interrupt arrives (from the I/O APIC, an IPI or the LAPIC itself). */
void vlapic_accept(struct vlapic *a, uint8_t vector, bool level);
/* The task priority (TPR, bits 7:0), as the guest last set it by MMIO,
 * x2APIC MSR or CR8 (CR8 is TPR[7:4], SDM 10.8.6.1). */
static inline uint32_t vlapic_tpr(const struct vlapic *a)
{
	return a->vapic[VLAPIC_REG_TPR / 4] & 0xff;
}
void vlapic_set_tpr(struct vlapic *a, uint32_t tpr);
/* The TPR threshold a CPU with TPR shadow needs (SDM 29.1.2): the
 * priority class of the highest requested vector when the TPR alone holds
 * it back, so that the guest lowering its TPR below that class exits and
 * the interrupt is delivered; 0 otherwise. Never above TPR[7:4], as VM
 * entry requires (SDM 26.2.1.1). */
unsigned vlapic_tpr_threshold(const struct vlapic *a);
/* The highest vector the CPU would take now, or -1 (SDM 11.8.3). */
int vlapic_pending_vector(const struct vlapic *a);
/* vector is in the IRR: accepted, not yet taken by the CPU. */
bool vlapic_requested(const struct vlapic *a, uint8_t vector);
/* The CPU took vector: IRR -> ISR (the page's while the CPU delivers:
 * isr_changed then, RVI and SVI must follow). */
void vlapic_ack(struct vlapic *a, uint8_t vector);
/* End of interrupt: the highest in-service vector leaves ISR (a level-
 * triggered one is EOIed at the I/O APIC too). An EOI write does this,
 * and so does pgvisor for a guest that signalled it through PV EOI. */
void vlapic_eoi(struct vlapic *a);
/* The CPU EOIed vector itself (virtual-interrupt delivery's EOI-induced
 * exit, SDM 29.1.4): a level-triggered one is EOIed at the I/O APIC. */
void vlapic_eoi_done(struct vlapic *a, uint8_t vector);
/* Virtual-interrupt delivery on or off for this vLAPIC (SDM 29.2): while
 * on, the CPU takes vectors from the page's IRR into its ISR and EOIs
 * them there; accepted vectors wait in the model until
 * vlapic_post_pending hands them over (on the vCPU's CPU, before entry). */
void vlapic_set_cpu_delivers(struct vlapic *a, bool on);
/* Moves the vectors accepted since into the page's IRR; returns the
 * highest of them, or -1 (none). */
int vlapic_post_pending(struct vlapic *a);
/* The highest vector in the page's IRR (RVI) or ISR (SVI), or -1. */
int vlapic_page_highest(const struct vlapic *a, bool isr);
/* Word i (vectors 32i..32i+31) of TMR: the level-triggered vectors. */
uint32_t vlapic_tmr_word(const struct vlapic *a, unsigned i);
/* Vector was accepted level-triggered (TMR). */
bool vlapic_level_triggered(const struct vlapic *a, uint8_t vector);
/* True when LINT0 passes the 8259's interrupts (ExtINT, unmasked) or the
 * APIC is disabled and the INTR pin reaches the CPU directly. */
bool vlapic_accepts_pic(const struct vlapic *a);
/* True when LINT0 is an unmasked fixed interrupt (SDM 11.5.1): the 8259's
 * INTR then raises LINT0's vector, with no acknowledge cycle. */
bool vlapic_lint0_fixed(const struct vlapic *a);
/* The level of the LINT0 pin now: a rising edge in fixed mode raises
 * LINT0's vector. */
void vlapic_lint0_sample(struct vlapic *a, bool level);

/* The timer as a struct vtimer source. */
uint64_t vlapic_timer_next(void *a);
void vlapic_timer_update(void *a, uint64_t now_ns);
/* The periodic timer holds owed ticks until its vector leaves the IRR. */
bool vlapic_timer_held(void *a);
/* What happens to periodic ticks the guest missed (default: caught up). */
void vlapic_set_timer_mode(struct vlapic *a, enum timer_mode mode);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void vlapic_save(const struct vlapic *a, struct state_writer *w);
int vlapic_load(struct vlapic *a, struct state_reader *r);

#endif
