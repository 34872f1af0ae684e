/* Unit tests for vmm/dev/vlapic.c: the local APIC of SDM Vol. 3 chapter 11 as
 * a guest sees it through xAPIC MMIO and x2APIC MSRs: reset state, IRR /
 * ISR / TMR with TPR and PPR, EOI (and its broadcast for level-triggered
 * vectors), IPIs, the IA32_APIC_BASE state machine, and the timer in
 * one-shot, periodic and TSC-deadline modes over a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/vlapic.h"

#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVT_CMCI 0x2f0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_SELF_IPI 0x3f0

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2MSR(reg) (0x800u + ((reg) >> 4))

#define LVT_MASKED 0x10000u
#define LVT_LEVEL 0x8000u
#define LVT_ONESHOT 0u
#define LVT_PERIODIC (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define LVT_EXTINT 0x700u
#define LVT_NMI 0x400u
#define SVR_ENABLE 0x100u

#define DIV_BY_1 0xb
#define DIV_BY_2 0x0
#define DIV_BY_16 0x3
#define DIV_BY_128 0xa

#define ESR_RECEIVE_ILLEGAL (1u << 6)
#define BASE (VLAPIC_MMIO_BASE)
#define NS_PER_TICK 10ull /* VLAPIC_TIMER_HZ is 100 MHz */

#define MAX_IPIS 8
#define MAX_EOIS 8

static struct vlapic lapic;
static uint64_t fake_now;
static struct vlapic_ipi ipis[MAX_IPIS];
static struct vlapic *ipi_from[MAX_IPIS];
static unsigned nipis;
static uint8_t eois[MAX_EOIS];
static unsigned neois;
static uint64_t last_tsc_to_ns_arg;
static int ops_ctx_token;
static unsigned nmoves;
static uint64_t moved_to;

static uint64_t fake_clock_now(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct vclock fake_clock = { fake_clock_now, NULL };

static void record_ipi(void *ctx, struct vlapic *from, const struct vlapic_ipi *ipi)
{
	assert_ptr_equal(ctx, &ops_ctx_token);
	assert_true(nipis < MAX_IPIS);
	ipi_from[nipis] = from;
	ipis[nipis++] = *ipi;
}

static void record_eoi(void *ctx, uint8_t vector)
{
	assert_ptr_equal(ctx, &ops_ctx_token);
	assert_true(neois < MAX_EOIS);
	eois[neois++] = vector;
}

static void record_move(void *ctx, struct vlapic *a)
{
	assert_ptr_equal(ctx, &ops_ctx_token);
	assert_ptr_equal(a, &lapic);
	nmoves++;
	moved_to = vlapic_mmio_base(a);
}

/* A guest TSC running at 2 GHz from time 0: two ticks per nanosecond. */
static uint64_t fake_tsc_to_ns(void *ctx, uint64_t guest_tsc)
{
	assert_ptr_equal(ctx, &lapic);
	last_tsc_to_ns_arg = guest_tsc;
	return guest_tsc / 2;
}

static uint32_t vapic_page[VLAPIC_PAGE_SIZE / 4] __attribute__((aligned(4096)));

static void reset(uint32_t id, bool bsp)
{
	fake_now = 0;
	nipis = 0;
	neois = 0;
	last_tsc_to_ns_arg = 0;
	nmoves = 0;
	moved_to = 0;
	memset(ipis, 0, sizeof(ipis));
	vlapic_init(&lapic, id, bsp, &fake_clock,
		    (struct vlapic_ops){ .send_ipi = record_ipi,
					 .eoi_level = record_eoi,
					 .base_moved = record_move,
					 .ctx = &ops_ctx_token },
		    vapic_page);
	lapic.tsc_to_ns = fake_tsc_to_ns;
	lapic.tsc_ctx = &lapic;
}

static int setup(void **state)
{
	(void)state;
	reset(0, true);
	return 0;
}

static uint32_t rd(unsigned reg)
{
	return (uint32_t)vlapic_mmio_read(&lapic, BASE + reg, 4);
}

static void wr(unsigned reg, uint32_t value)
{
	vlapic_mmio_write(&lapic, BASE + reg, 4, value);
}

static uint64_t msr_rd(uint32_t msr)
{
	uint64_t v = 0xdeadbeefull;

	assert_int_equal(vlapic_msr_read(&lapic, msr, &v), 0);
	return v;
}

static void msr_wr(uint32_t msr, uint64_t value)
{
	assert_int_equal(vlapic_msr_write(&lapic, msr, value), 0);
}

static int msr_rd_rc(uint32_t msr)
{
	uint64_t v;

	return vlapic_msr_read(&lapic, msr, &v);
}

static void sw_enable(void)
{
	wr(APIC_SVR, SVR_ENABLE | 0xff);
}

static void enter_x2apic(void)
{
	uint64_t base = msr_rd(MSR_APIC_BASE);

	msr_wr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	assert_true(vlapic_x2apic(&lapic));
}

/* The IRR/ISR/TMR register holding vector's bit, and the bit. */
static bool vec_bit(unsigned bank, uint8_t vector)
{
	return rd(bank + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

/* Delivers and acknowledges vector as the CPU would: it must be the one
 * the APIC offers. */
static void take(uint8_t vector)
{
	assert_int_equal(vlapic_pending_vector(&lapic), vector);
	vlapic_ack(&lapic, vector);
}

/* --- reset state and basic registers --------------------------------- */

static void test_reset_state_bsp(void **state)
{
	(void)state;
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfee00900ull);
	assert_true(vlapic_hw_enabled(&lapic));
	assert_false(vlapic_x2apic(&lapic));
	assert_int_equal(rd(APIC_ID), 0);
	assert_int_equal(rd(APIC_VERSION), 0x00050014);
	assert_int_equal(rd(APIC_SVR), 0xff);
	assert_int_equal(rd(APIC_TPR), 0);
	assert_int_equal(rd(APIC_PPR), 0);
	assert_int_equal(rd(APIC_LDR), 0);
	assert_int_equal(rd(APIC_DFR), 0xffffffff);
	assert_int_equal(rd(APIC_ESR), 0);
	static const unsigned lvts[] = { APIC_LVT_CMCI, APIC_LVT_TIMER, APIC_LVT_THERMAL,
					 APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1,
					 APIC_LVT_ERROR };
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		assert_int_equal(rd(lvts[i]), LVT_MASKED);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(rd(APIC_ISR + 0x10 * i), 0);
		assert_int_equal(rd(APIC_TMR + 0x10 * i), 0);
		assert_int_equal(rd(APIC_IRR + 0x10 * i), 0);
	}
	assert_int_equal(rd(APIC_TIMER_INITIAL), 0);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	assert_int_equal(rd(APIC_TIMER_DIVIDE), 0);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
}

static void test_reset_state_ap(void **state)
{
	(void)state;
	reset(3, false);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfee00000ull | APIC_BASE_EN);
	assert_int_equal(rd(APIC_ID), 3u << 24);
	assert_int_equal(rd(APIC_SVR), 0xff);
}

static void test_mmio_access_sizes(void **state)
{
	(void)state;
	reset(0xa5, true);
	/* Narrow reads within a register see its bytes from the one
	 * addressed (the MMIO emulator keeps the low size bytes). */
	assert_int_equal(vlapic_mmio_read(&lapic, BASE + APIC_ID + 3, 1) & 0xff, 0xa5);
	assert_int_equal(vlapic_mmio_read(&lapic, BASE + APIC_VERSION + 2, 2) & 0xffff, 0x0005);
	assert_int_equal(vlapic_mmio_read(&lapic, BASE + APIC_VERSION, 1) & 0xff, 0x14);
	/* The 12 bytes after each register read as zero. */
	assert_int_equal(vlapic_mmio_read(&lapic, BASE + APIC_VERSION + 4, 4), 0);
	/* Only aligned 32-bit writes reach a register. */
	vlapic_mmio_write(&lapic, BASE + APIC_TPR, 1, 0x30);
	vlapic_mmio_write(&lapic, BASE + APIC_TPR + 4, 4, 0x30);
	vlapic_mmio_write(&lapic, BASE + APIC_TPR, 8, 0x30);
	assert_int_equal(rd(APIC_TPR), 0);
	wr(APIC_TPR, 0x30);
	assert_int_equal(rd(APIC_TPR), 0x30);
}

static void test_id_tpr_svr(void **state)
{
	(void)state;
	wr(APIC_ID, 0x07123456);
	assert_int_equal(rd(APIC_ID), 0x07000000);
	assert_int_equal(lapic.id, 7);

	wr(APIC_TPR, 0x1234);
	assert_int_equal(rd(APIC_TPR), 0x34);

	/* Read-only registers ignore writes. */
	wr(APIC_VERSION, 0);
	assert_int_equal(rd(APIC_VERSION), 0x00050014);
	wr(APIC_PPR, 0xff);
	assert_int_equal(rd(APIC_PPR), 0x34);

	/* SVR: vector, enable, focus and EOI-suppression bits are writable. */
	wr(APIC_SVR, 0xffffffff);
	assert_int_equal(rd(APIC_SVR), 0x13ff);
	wr(APIC_SVR, 0x1ff);
	assert_int_equal(rd(APIC_SVR), 0x1ff);
}

static void test_software_disable_masks_lvts(void **state)
{
	(void)state;
	/* While software-disabled, an LVT cannot be unmasked. */
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	assert_int_equal(rd(APIC_LVT_LINT0), LVT_MASKED | LVT_EXTINT);

	sw_enable();
	wr(APIC_LVT_TIMER, 0x40);
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	wr(APIC_LVT_LINT1, LVT_NMI);
	wr(APIC_LVT_ERROR, 0xfe);
	wr(APIC_LVT_CMCI, 0x41);
	wr(APIC_LVT_THERMAL, 0x42);
	wr(APIC_LVT_PERF, 0x43);
	assert_int_equal(rd(APIC_LVT_TIMER), 0x40);
	assert_int_equal(rd(APIC_LVT_LINT0), LVT_EXTINT);
	assert_int_equal(rd(APIC_LVT_LINT1), LVT_NMI);
	assert_int_equal(rd(APIC_LVT_ERROR), 0xfe);
	assert_int_equal(rd(APIC_LVT_CMCI), 0x41);
	assert_int_equal(rd(APIC_LVT_THERMAL), 0x42);
	assert_int_equal(rd(APIC_LVT_PERF), 0x43);
	/* Delivery status (bit 12) and remote IRR (bit 14) are read-only. */
	wr(APIC_LVT_LINT1, LVT_NMI | 0x5000);
	assert_int_equal(rd(APIC_LVT_LINT1), LVT_NMI);

	/* Clearing the enable masks every LVT and keeps the rest of each. */
	wr(APIC_SVR, 0xff);
	assert_int_equal(rd(APIC_LVT_TIMER), LVT_MASKED | 0x40);
	assert_int_equal(rd(APIC_LVT_LINT0), LVT_MASKED | LVT_EXTINT);
	assert_int_equal(rd(APIC_LVT_LINT1), LVT_MASKED | LVT_NMI);
	assert_int_equal(rd(APIC_LVT_ERROR), LVT_MASKED | 0xfe);
	assert_int_equal(rd(APIC_LVT_CMCI), LVT_MASKED | 0x41);
	assert_int_equal(rd(APIC_LVT_THERMAL), LVT_MASKED | 0x42);
	assert_int_equal(rd(APIC_LVT_PERF), LVT_MASKED | 0x43);

	/* Enabling again does not unmask them. */
	sw_enable();
	assert_int_equal(rd(APIC_LVT_LINT0), LVT_MASKED | LVT_EXTINT);
}

static void test_ldr_dfr(void **state)
{
	(void)state;
	wr(APIC_LDR, 0x12345678);
	assert_int_equal(rd(APIC_LDR), 0x12000000);
	wr(APIC_DFR, 0); /* cluster model */
	assert_int_equal(rd(APIC_DFR), 0x0fffffff);
	wr(APIC_DFR, 0xf0000000); /* flat model */
	assert_int_equal(rd(APIC_DFR), 0xffffffff);
}

/* --- interrupt acceptance, priority, EOI -------------------------------- */

static void test_irr_isr_tmr(void **state)
{
	(void)state;
	vlapic_accept(&lapic, 0x41, true);
	vlapic_accept(&lapic, 0x30, false);
	assert_int_equal(rd(APIC_IRR + 0x20), 1u << 1);	 /* 0x41 = 2 * 32 + 1 */
	assert_int_equal(rd(APIC_IRR + 0x10), 1u << 16); /* 0x30 = 32 + 16 */
	assert_int_equal(rd(APIC_TMR + 0x20), 1u << 1);
	assert_int_equal(rd(APIC_TMR + 0x10), 0);
	assert_int_equal(rd(APIC_ISR + 0x20), 0);

	take(0x41);
	assert_false(vec_bit(APIC_IRR, 0x41));
	assert_true(vec_bit(APIC_ISR, 0x41));
	assert_int_equal(rd(APIC_PPR), 0x40);
	/* 0x30 is in a lower class than the one in service. */
	assert_int_equal(vlapic_pending_vector(&lapic), -1);

	/* A higher class interrupts the handler; EOI ends the highest. */
	vlapic_accept(&lapic, 0x61, false);
	take(0x61);
	assert_int_equal(rd(APIC_PPR), 0x60);
	wr(APIC_EOI, 0);
	assert_false(vec_bit(APIC_ISR, 0x61));
	assert_true(vec_bit(APIC_ISR, 0x41));
	assert_int_equal(neois, 0); /* 0x61 was edge-triggered */

	wr(APIC_EOI, 0);
	assert_false(vec_bit(APIC_ISR, 0x41));
	assert_int_equal(neois, 1); /* level-triggered: broadcast to the I/O APIC */
	assert_int_equal(eois[0], 0x41);
	assert_int_equal(rd(APIC_PPR), 0);

	take(0x30);
	wr(APIC_EOI, 0);
	assert_int_equal(neois, 1);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);

	/* EOI with nothing in service does nothing. */
	wr(APIC_EOI, 0);
	assert_int_equal(neois, 1);

	/* An edge after a level on the same vector clears its TMR bit. */
	vlapic_accept(&lapic, 0x41, true);
	vlapic_accept(&lapic, 0x41, false);
	assert_false(vec_bit(APIC_TMR, 0x41));
}

static void test_tpr_ppr_priority(void **state)
{
	(void)state;
	wr(APIC_TPR, 0x45);
	assert_int_equal(rd(APIC_PPR), 0x45);

	/* Same class as the TPR: held. */
	vlapic_accept(&lapic, 0x4f, false);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* A lower TPR subclass does not matter, only the class. */
	wr(APIC_TPR, 0x3f);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x4f);
	wr(APIC_TPR, 0x40);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);

	vlapic_accept(&lapic, 0x51, false);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x51);
	take(0x51);
	/* ISR class above the TPR's: PPR is the ISR class, subclass 0. */
	assert_int_equal(rd(APIC_PPR), 0x50);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* TPR above the ISR class: PPR is the whole TPR. */
	wr(APIC_TPR, 0x72);
	assert_int_equal(rd(APIC_PPR), 0x72);
	/* Equal classes: TPR again. */
	wr(APIC_TPR, 0x53);
	assert_int_equal(rd(APIC_PPR), 0x53);

	wr(APIC_EOI, 0);
	wr(APIC_TPR, 0);
	assert_int_equal(rd(APIC_PPR), 0);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x4f);

	/* Class 15 beats TPR 0xef. */
	wr(APIC_TPR, 0xef);
	vlapic_accept(&lapic, 0xf0, false);
	assert_int_equal(vlapic_pending_vector(&lapic), 0xf0);
	/* TPR 0xff holds everything. */
	wr(APIC_TPR, 0xff);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
}

static void test_illegal_vector(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 16; v++) {
		vlapic_accept(&lapic, (uint8_t)v, false);
		assert_int_equal(rd(APIC_IRR), 0);
	}
	assert_int_equal(rd(APIC_ESR), ESR_RECEIVE_ILLEGAL);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* A write clears the ESR. */
	wr(APIC_ESR, 0);
	assert_int_equal(rd(APIC_ESR), 0);
	vlapic_accept(&lapic, 16, false);
	assert_int_equal(rd(APIC_ESR), 0);
	assert_int_equal(rd(APIC_IRR), 1u << 16);
}

/* --- IPIs ------------------------------------------------------------ */

static void test_xapic_icr(void **state)
{
	(void)state;
	wr(APIC_ICR_HIGH, 0x0f123456);
	assert_int_equal(rd(APIC_ICR_HIGH), 0x0f000000);
	/* Fixed, logical, assert, vector 0x31, to logical destination 0x0f. */
	wr(APIC_ICR_LOW, 0x00004831);
	assert_int_equal(nipis, 1);
	assert_ptr_equal(ipi_from[0], &lapic);
	assert_int_equal(ipis[0].vector, 0x31);
	assert_int_equal(ipis[0].mode, APIC_DM_FIXED);
	assert_int_equal(ipis[0].shorthand, 0);
	assert_true(ipis[0].logical);
	assert_true(ipis[0].level_assert);
	assert_int_equal(ipis[0].dest, 0x0f);
	/* The send completes at once: delivery status reads idle. */
	assert_int_equal(rd(APIC_ICR_LOW) & (1u << 12), 0);

	/* INIT, then STARTUP to physical APIC 2 (Linux's wakeup_secondary). */
	wr(APIC_ICR_HIGH, 0x02000000);
	wr(APIC_ICR_LOW, 0x00004500);
	wr(APIC_ICR_LOW, 0x0000069a);
	assert_int_equal(nipis, 3);
	assert_int_equal(ipis[1].mode, APIC_DM_INIT);
	assert_false(ipis[1].logical);
	assert_int_equal(ipis[1].dest, 2);
	assert_int_equal(ipis[2].mode, APIC_DM_STARTUP);
	assert_int_equal(ipis[2].vector, 0x9a);
	assert_false(ipis[2].level_assert);
	assert_int_equal(ipis[2].dest, 2);

	/* NMI to all but self, fixed to self, lowest priority to all. */
	wr(APIC_ICR_LOW, (3u << 18) | 0x400);
	wr(APIC_ICR_LOW, (1u << 18) | 0x4055);
	wr(APIC_ICR_LOW, (2u << 18) | 0x4166);
	assert_int_equal(nipis, 6);
	assert_int_equal(ipis[3].shorthand, 3);
	assert_int_equal(ipis[3].mode, APIC_DM_NMI);
	assert_int_equal(ipis[4].shorthand, 1);
	assert_int_equal(ipis[4].vector, 0x55);
	assert_int_equal(ipis[4].mode, APIC_DM_FIXED);
	assert_int_equal(ipis[5].shorthand, 2);
	assert_int_equal(ipis[5].mode, APIC_DM_LOWEST);
	assert_int_equal(ipis[5].vector, 0x66);

	/* Nothing is delivered to this APIC by the send itself. */
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* Writing the high half sends nothing. */
	wr(APIC_ICR_HIGH, 0);
	assert_int_equal(nipis, 6);
	/* In xAPIC mode the SELF IPI offset is reserved. */
	wr(APIC_SELF_IPI, 0x77);
	assert_false(vec_bit(APIC_IRR, 0x77));
}

static void test_x2apic_icr_and_self_ipi(void **state)
{
	(void)state;
	enter_x2apic();
	/* One 64-bit write with a 32-bit destination. */
	msr_wr(X2MSR(APIC_ICR_LOW), (0x12345678ull << 32) | 0x4855);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].vector, 0x55);
	assert_int_equal(ipis[0].mode, APIC_DM_FIXED);
	assert_true(ipis[0].logical);
	assert_true(ipis[0].level_assert);
	assert_int_equal(ipis[0].shorthand, 0);
	assert_int_equal(ipis[0].dest, 0x12345678);
	msr_wr(X2MSR(APIC_ICR_LOW), (0xffffffffull << 32) | (3u << 18) | 0x4400);
	assert_int_equal(nipis, 2);
	assert_int_equal(ipis[1].mode, APIC_DM_NMI);
	assert_int_equal(ipis[1].shorthand, 3);
	assert_false(ipis[1].logical);
	assert_int_equal(ipis[1].dest, 0xffffffff);

	/* ICR high does not exist in x2APIC mode. */
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_ICR_HIGH), 1), -1);
	assert_int_equal(msr_rd_rc(X2MSR(APIC_ICR_HIGH)), -1);
	/* MMIO is dead: an ICR write there sends nothing. */
	wr(APIC_ICR_LOW, 0x4031);
	assert_int_equal(nipis, 2);

	/* SELF IPI (0x83F): a fixed edge interrupt to this APIC. */
	msr_wr(0x83f, 0x66);
	assert_int_equal(nipis, 2); /* not through the VM */
	assert_int_equal(msr_rd(X2MSR(APIC_IRR + 0x30)), 1u << 6);
	assert_int_equal(msr_rd(X2MSR(APIC_TMR + 0x30)), 0);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x66);
	/* It is write-only, and an illegal vector sets the ESR. */
	assert_int_equal(msr_rd_rc(0x83f), -1);
	msr_wr(0x83f, 5);
	assert_int_equal(msr_rd(X2MSR(APIC_ESR)), ESR_RECEIVE_ILLEGAL);

	/* SELF IPI MSR in xAPIC mode: #GP. */
	reset(0, true);
	assert_int_equal(vlapic_msr_write(&lapic, 0x83f, 0x66), -1);
	assert_false(vec_bit(APIC_IRR, 0x66));
}

/* --- IA32_APIC_BASE and x2APIC ----------------------------------------- */

static void test_apic_base_transitions(void **state)
{
	(void)state;
	const uint64_t xapic = 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP;
	const uint64_t x2apic = xapic | APIC_BASE_EXTD;
	const uint64_t disabled = 0xfee00000ull | APIC_BASE_BSP;

	/* EN=0 EXTD=1 is invalid. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, disabled | APIC_BASE_EXTD), -1);
	/* Reserved bits: bit 9, bits above MAXPHYADDR, bits 0-7. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, xapic | (1ull << 9)), -1);
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, xapic | (1ull << 63)), -1);
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, xapic | 1), -1);
	assert_int_equal(msr_rd(MSR_APIC_BASE), xapic);

	/* xAPIC -> x2APIC */
	msr_wr(MSR_APIC_BASE, x2apic);
	assert_int_equal(msr_rd(MSR_APIC_BASE), x2apic);
	assert_true(vlapic_x2apic(&lapic));
	assert_true(vlapic_hw_enabled(&lapic));
	/* Writing the same state again is fine. */
	msr_wr(MSR_APIC_BASE, x2apic);
	/* x2APIC -> xAPIC is not allowed. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, xapic), -1);
	assert_true(vlapic_x2apic(&lapic));
	/* x2APIC -> disabled */
	msr_wr(MSR_APIC_BASE, disabled);
	assert_false(vlapic_hw_enabled(&lapic));
	assert_false(vlapic_x2apic(&lapic));
	/* disabled -> x2APIC is not allowed. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR_APIC_BASE, x2apic), -1);
	assert_false(vlapic_hw_enabled(&lapic));
	/* disabled -> xAPIC -> x2APIC */
	msr_wr(MSR_APIC_BASE, xapic);
	assert_true(vlapic_hw_enabled(&lapic));
	assert_false(vlapic_x2apic(&lapic));
	msr_wr(MSR_APIC_BASE, x2apic);
	assert_true(vlapic_x2apic(&lapic));

	/* A relocated base is kept. */
	reset(0, true);
	msr_wr(MSR_APIC_BASE, 0xfec80000ull | APIC_BASE_EN);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfec80000ull | APIC_BASE_EN | APIC_BASE_BSP);
}

static void test_apic_base_bsp_read_only(void **state)
{
	(void)state;
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_EN);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP);

	reset(1, false);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP);
	assert_int_equal(msr_rd(MSR_APIC_BASE), 0xfee00000ull | APIC_BASE_EN);
}

static void test_disable_resets_registers(void **state)
{
	(void)state;
	reset(5, true);
	sw_enable();
	wr(APIC_TPR, 0x20);
	wr(APIC_LDR, 0x01000000);
	wr(APIC_DFR, 0);
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	wr(APIC_LVT_TIMER, 0x40);
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_TIMER_INITIAL, 1000);
	vlapic_accept(&lapic, 0x50, true);
	take(0x50);
	vlapic_accept(&lapic, 0x60, false);
	vlapic_accept(&lapic, 3, false);
	wr(APIC_ID, 7u << 24);
	assert_int_not_equal(vlapic_timer_next(&lapic), VTIME_NEVER);

	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP);
	/* Nothing decodes the MMIO window while disabled: all ones. */
	assert_int_equal(rd(APIC_VERSION), 0xffffffff);
	wr(APIC_TPR, 0x30);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	/* Disabled, the 8259's INTR reaches the CPU directly. */
	assert_true(vlapic_accepts_pic(&lapic));

	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(rd(APIC_ID), 5u << 24); /* the initial ID is back */
	assert_int_equal(rd(APIC_TPR), 0);
	assert_int_equal(rd(APIC_SVR), 0xff);
	assert_int_equal(rd(APIC_LDR), 0);
	assert_int_equal(rd(APIC_DFR), 0xffffffff);
	assert_int_equal(rd(APIC_ESR), 0);
	assert_int_equal(rd(APIC_LVT_LINT0), LVT_MASKED);
	assert_int_equal(rd(APIC_LVT_TIMER), LVT_MASKED);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 0);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	assert_int_equal(rd(APIC_TIMER_DIVIDE), 0);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(rd(APIC_ISR + 0x10 * i), 0);
		assert_int_equal(rd(APIC_TMR + 0x10 * i), 0);
		assert_int_equal(rd(APIC_IRR + 0x10 * i), 0);
	}
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_false(vlapic_accepts_pic(&lapic));
	/* An EOI after the reset has nothing to end. */
	wr(APIC_EOI, 0);
	assert_int_equal(neois, 0);
}

static void test_x2apic_registers(void **state)
{
	(void)state;
	reset(0x23, true);
	/* x2APIC MSRs #GP in xAPIC mode. */
	assert_int_equal(msr_rd_rc(X2MSR(APIC_VERSION)), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_TPR), 0x20), -1);
	assert_int_equal(rd(APIC_TPR), 0);

	wr(APIC_TPR, 0x20);
	enter_x2apic();
	/* Register state carries over the switch. */
	assert_int_equal(msr_rd(X2MSR(APIC_TPR)), 0x20);
	/* 32-bit ID, LDR derived from it: cluster 2, bit 3. */
	assert_int_equal(msr_rd(X2MSR(APIC_ID)), 0x23);
	assert_int_equal(msr_rd(X2MSR(APIC_LDR)), 0x00020008);
	assert_int_equal(msr_rd(X2MSR(APIC_VERSION)), 0x00050014);
	assert_int_equal(msr_rd(X2MSR(APIC_SVR)), 0xff);
	/* ID and LDR are read-only. */
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_ID), 0x5), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_LDR), 0x5), -1);
	assert_int_equal(msr_rd(X2MSR(APIC_ID)), 0x23);
	assert_int_equal(msr_rd(X2MSR(APIC_LDR)), 0x00020008);
	/* DFR does not exist. */
	assert_int_equal(msr_rd_rc(X2MSR(APIC_DFR)), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_DFR), 0), -1);
	/* Nor does the MMIO window (SDM 11.12.2): reads all ones, writes
	 * vanish. */
	assert_int_equal(rd(APIC_VERSION), 0xffffffff);
	assert_int_equal(rd(APIC_TPR), 0xffffffff);
	wr(APIC_TPR, 0x40);
	wr(APIC_SVR, 0x1ff);
	assert_int_equal(msr_rd(X2MSR(APIC_TPR)), 0x20);
	assert_int_equal(msr_rd(X2MSR(APIC_SVR)), 0xff);

	/* 32-bit registers: reserved upper half #GP. */
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_TPR), 1ull << 32), -1);
	msr_wr(X2MSR(APIC_TPR), 0x30);
	assert_int_equal(msr_rd(X2MSR(APIC_TPR)), 0x30);
	assert_int_equal(msr_rd(X2MSR(APIC_PPR)), 0x30);
	/* Read-only registers #GP on write. */
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_PPR), 0), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_VERSION), 0), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_IRR), 0), -1);

	/* EOI is write-only and must be written with 0. */
	msr_wr(X2MSR(APIC_SVR), 0x1ff);
	vlapic_accept(&lapic, 0x91, true);
	take(0x91);
	assert_int_equal(msr_rd_rc(X2MSR(APIC_EOI)), -1);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_EOI), 1), -1);
	assert_int_equal(msr_rd(X2MSR(APIC_ISR + 0x40)), 1u << 17);
	msr_wr(X2MSR(APIC_EOI), 0);
	assert_int_equal(msr_rd(X2MSR(APIC_ISR + 0x40)), 0);
	assert_int_equal(neois, 1);
	assert_int_equal(eois[0], 0x91);

	/* LVTs through MSRs. */
	msr_wr(X2MSR(APIC_LVT_LINT0), LVT_EXTINT);
	assert_int_equal(msr_rd(X2MSR(APIC_LVT_LINT0)), LVT_EXTINT);
	assert_true(vlapic_accepts_pic(&lapic));

	/* Outside the x2APIC range. */
	assert_int_equal(msr_rd_rc(0x7ff), -1);
	assert_int_equal(msr_rd_rc(0x900), -1);

	/* Disabling leaves x2APIC; after re-enabling in xAPIC mode the LDR is
	 * the software one again. */
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(rd(APIC_LDR), 0);
	assert_int_equal(rd(APIC_ID), 0x23u << 24);
}

/* TPR lives in the virtual-APIC page, where a CPU with TPR shadow reads
 * and writes it (CR8, SDM 29.3): what the guest writes there is the
 * model's TPR, and the model's writes land there. */
static void test_tpr_in_virtual_apic_page(void **state)
{
	(void)state;
	assert_ptr_equal(lapic.vapic, vapic_page);
	wr(APIC_TPR, 0x1234);
	assert_int_equal(vapic_page[APIC_TPR / 4], 0x34);
	/* A guest MOV to CR8 of 6 leaves VTPR 0x60. */
	vapic_page[APIC_TPR / 4] = 0x60;
	assert_int_equal(vlapic_tpr(&lapic), 0x60);
	assert_int_equal(rd(APIC_TPR), 0x60);
	assert_int_equal(rd(APIC_PPR), 0x60);
	vlapic_set_tpr(&lapic, 0x1a5);
	assert_int_equal(vapic_page[APIC_TPR / 4], 0xa5);
	/* A reset clears the page. */
	vapic_page[0x300 / 4] = 0xdead;
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP);
	assert_int_equal(vapic_page[APIC_TPR / 4], 0);
	assert_int_equal(vapic_page[0x300 / 4], 0);
}

/* The registers a CPU with APIC-register virtualization reads without
 * exits are in the virtual-APIC page, in step with the model. */
static void test_registers_mirrored(void **state)
{
	(void)state;
	const unsigned regs[] = { APIC_ID,	  APIC_VERSION,	      APIC_LDR,
				  APIC_SVR,	  APIC_LVT_TIMER,     APIC_LVT_LINT0,
				  APIC_LVT_ERROR, APIC_TIMER_INITIAL, APIC_TIMER_DIVIDE };

	sw_enable();
	wr(APIC_LDR, 0x03000000);
	wr(APIC_LVT_TIMER, 0x20031);
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	wr(APIC_TIMER_DIVIDE, 0xb);
	wr(APIC_TIMER_INITIAL, 0x12345);
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(vapic_page[regs[i] / 4], rd(regs[i]));
	/* IRR, ISR and TMR word by word, as vectors come and go. */
	vlapic_accept(&lapic, 0x61, true);
	assert_int_equal(vapic_page[(APIC_IRR + 0x30) / 4], 1u << 1);
	assert_int_equal(vapic_page[(APIC_TMR + 0x30) / 4], 1u << 1);
	take(0x61);
	assert_int_equal(vapic_page[(APIC_IRR + 0x30) / 4], 0);
	assert_int_equal(vapic_page[(APIC_ISR + 0x30) / 4], 1u << 1);
	wr(APIC_EOI, 0);
	assert_int_equal(vapic_page[(APIC_ISR + 0x30) / 4], 0);
	/* An illegal vector sets ESR. */
	vlapic_accept(&lapic, 3, false);
	assert_int_equal(vapic_page[APIC_ESR / 4], rd(APIC_ESR));
	assert_int_not_equal(vapic_page[APIC_ESR / 4], 0);
	/* x2APIC mode: the IDs read as x2APIC IDs; the upper halves (what
	 * RDMSR returns in EDX) stay 0. */
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN | APIC_BASE_EXTD);
	assert_int_equal(vapic_page[APIC_ID / 4], msr_rd(X2MSR(APIC_ID)));
	assert_int_equal(vapic_page[APIC_LDR / 4], msr_rd(X2MSR(APIC_LDR)));
	for (unsigned reg = 0; reg < VLAPIC_PAGE_SIZE; reg += 16)
		assert_int_equal(vapic_page[reg / 4 + 1], 0);
}

/* APIC-write exits (the APIC-access page): the CPU has put the guest's
 * value in the page; the model acts on it as on an MMIO write and leaves
 * in the page what the register reads. */
static void cpu_writes(unsigned reg, uint32_t value)
{
	vapic_page[reg / 4] = value;
	vlapic_apic_write(&lapic, reg);
}

static void test_apic_write_exit(void **state)
{
	(void)state;
	cpu_writes(APIC_SVR, SVR_ENABLE | 0xff);
	assert_int_equal(rd(APIC_SVR), SVR_ENABLE | 0xff);
	/* A masked LVT stays masked while software-disabled: the page gets
	 * the model's value, not the guest's. */
	cpu_writes(APIC_SVR, 0xff);
	cpu_writes(APIC_LVT_TIMER, 0x41);
	assert_int_equal(vapic_page[APIC_LVT_TIMER / 4], 0x41 | LVT_MASKED);
	cpu_writes(APIC_SVR, SVR_ENABLE | 0xff);
	/* ICR high goes to the page alone (no exit); ICR low then sends
	 * the IPI to the page's destination and reads 0 after, as EOI. */
	vapic_page[APIC_ICR_HIGH / 4] = 0x01000000;
	cpu_writes(APIC_ICR_LOW, 0x4031);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].vector, 0x31);
	assert_int_equal(ipis[0].dest, 1);
	assert_int_equal(rd(APIC_ICR_HIGH), 0x01000000);
	assert_int_equal(vapic_page[APIC_ICR_LOW / 4], 0);
	/* An EOI ends the vector in service. */
	vlapic_accept(&lapic, 0x61, false);
	take(0x61);
	assert_true(vec_bit(APIC_ISR, 0x61));
	cpu_writes(APIC_EOI, 0);
	assert_false(vec_bit(APIC_ISR, 0x61));
	assert_int_equal(vapic_page[APIC_EOI / 4], 0);
	/* The timer's initial count starts it. */
	cpu_writes(APIC_TIMER_DIVIDE, DIV_BY_1);
	cpu_writes(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	cpu_writes(APIC_TIMER_INITIAL, 1000);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 1000);
	/* Misaligned offsets, the TPR and offsets past the page change
	 * nothing. */
	vapic_page[APIC_LDR / 4] = 0x05000000;
	vlapic_apic_write(&lapic, APIC_LDR + 4);
	vlapic_apic_write(&lapic, 0x1000);
	assert_int_equal(rd(APIC_LDR), 0);
	/* Not decoded (x2APIC mode): ignored. */
	enter_x2apic();
	vapic_page[APIC_ICR_LOW / 4] = 0x4032;
	vlapic_apic_write(&lapic, APIC_ICR_LOW);
	assert_int_equal(nipis, 1);
}

/* Virtual-interrupt delivery: the CPU owns IRR and ISR in the page;
 * accepted vectors wait in the model until they are posted there, and
 * the model's view (pending vector, PPR, register reads) is their union. */
static void test_cpu_delivers(void **state)
{
	(void)state;
	sw_enable();
	vlapic_accept(&lapic, 0x41, false);
	take(0x41); /* in service before the switch */
	vlapic_accept(&lapic, 0x52, true);
	vlapic_set_cpu_delivers(&lapic, true);
	/* Both now live in the page only. */
	assert_int_equal(vlapic_page_highest(&lapic, false), 0x52);
	assert_int_equal(vlapic_page_highest(&lapic, true), 0x41);
	assert_int_equal(vlapic_post_pending(&lapic), -1);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x52);
	/* An accepted vector waits in the model, not in the CPU's page. */
	vlapic_accept(&lapic, 0x63, false);
	assert_int_equal(vlapic_page_highest(&lapic, false), 0x52);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x63);
	assert_int_equal(rd(APIC_IRR + 0x30), 1u << 3);
	assert_int_equal(vlapic_post_pending(&lapic), 0x63);
	assert_int_equal(vlapic_page_highest(&lapic, false), 0x63);
	assert_int_equal(lapic.irr_words, 0);
	/* The CPU delivers 0x63 (IRR -> ISR in the page): PPR follows. */
	vapic_page[(APIC_IRR + 0x30) / 4] = 0;
	vapic_page[(APIC_ISR + 0x30) / 4] = 1u << 3;
	assert_int_equal(rd(APIC_PPR), 0x60);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* A model EOI (PV EOI) clears the page's ISR and asks for SVI. */
	vlapic_eoi(&lapic);
	assert_int_equal(vapic_page[(APIC_ISR + 0x30) / 4], 0);
	assert_true(lapic.isr_changed);
	assert_int_equal(vlapic_page_highest(&lapic, true), 0x41);
	/* The CPU's EOI of the level-triggered 0x52 reaches the I/O APIC. */
	neois = 0;
	vlapic_eoi_done(&lapic, 0x52);
	assert_int_equal(neois, 1);
	assert_int_equal(eois[0], 0x52);
	vlapic_eoi_done(&lapic, 0x41);
	assert_int_equal(neois, 1);
	assert_int_equal(vlapic_tmr_word(&lapic, 2), 1u << 18);
	/* Off again: the model takes IRR and ISR back. */
	vlapic_set_cpu_delivers(&lapic, false);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x52);
	assert_int_equal(rd(APIC_ISR + 0x20), 1u << 1);
	take(0x52);
	assert_int_equal(vapic_page[(APIC_ISR + 0x20) / 4], (1u << 1) | (1u << 18));
}

/* Virtual-interrupt delivery, a vector acknowledged by the model while
 * the CPU cannot deliver it (the vCPU runs its nested guest): from the
 * page's IRR, or the model's not yet posted, into the page's ISR; SVI
 * and RVI must follow (isr_changed). */
static void test_cpu_delivers_model_ack(void **state)
{
	(void)state;
	sw_enable();
	vlapic_set_cpu_delivers(&lapic, true);
	vlapic_accept(&lapic, 0x45, false);
	assert_int_equal(vlapic_post_pending(&lapic), 0x45);
	vlapic_accept(&lapic, 0x71, false); /* still the model's */
	assert_int_equal(vlapic_pending_vector(&lapic), 0x71);
	vlapic_ack(&lapic, 0x71);
	assert_true(lapic.isr_changed);
	assert_int_equal(lapic.irr_words, 0);
	assert_int_equal(vlapic_page_highest(&lapic, true), 0x71);
	assert_int_equal(vlapic_pending_vector(&lapic), -1); /* PPR 0x70 holds 0x45 */
	lapic.isr_changed = false;
	vlapic_eoi(&lapic);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x45);
	vlapic_ack(&lapic, 0x45);
	assert_int_equal(vlapic_page_highest(&lapic, false), -1);
	assert_int_equal(vlapic_page_highest(&lapic, true), 0x45);
	assert_int_equal(vapic_page[(APIC_ISR + 0x20) / 4], 1u << 5);
	assert_true(lapic.isr_changed);
}

/* The TPR threshold: the class of the highest request the TPR alone holds
 * back, never above TPR[7:4] (SDM 26.2.1.1), else 0. */
static void test_tpr_threshold(void **state)
{
	(void)state;
	assert_int_equal(vlapic_tpr_threshold(&lapic), 0);
	wr(APIC_TPR, 0x50);
	assert_int_equal(vlapic_tpr_threshold(&lapic), 0);
	vlapic_accept(&lapic, 0x3a, false);
	/* Held by the TPR: exit once the TPR drops below class 3. */
	assert_int_equal(vlapic_tpr_threshold(&lapic), 3);
	vlapic_accept(&lapic, 0x55, false);
	assert_int_equal(vlapic_tpr_threshold(&lapic), 5);
	/* Deliverable now: no threshold needed. */
	vlapic_accept(&lapic, 0x61, false);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x61);
	assert_int_equal(vlapic_tpr_threshold(&lapic), 0);
	take(0x61);
	assert_int_equal(vlapic_tpr_threshold(&lapic), 5);
	/* The guest lowers its TPR (CR8 = 4) below class 5: deliverable. */
	vapic_page[APIC_TPR / 4] = 0x40;
	assert_int_equal(vlapic_tpr_threshold(&lapic), 0);
}

static void test_accepts_pic(void **state)
{
	(void)state;
	/* Reset: LINT0 masked. */
	assert_false(vlapic_accepts_pic(&lapic));
	sw_enable();
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	assert_true(vlapic_accepts_pic(&lapic));
	wr(APIC_LVT_LINT0, LVT_EXTINT | LVT_MASKED);
	assert_false(vlapic_accepts_pic(&lapic));
	wr(APIC_LVT_LINT0, 0x30); /* fixed */
	assert_false(vlapic_accepts_pic(&lapic));
	wr(APIC_LVT_LINT0, LVT_NMI);
	assert_false(vlapic_accepts_pic(&lapic));
	wr(APIC_LVT_LINT0, LVT_EXTINT | LVT_LEVEL);
	assert_true(vlapic_accepts_pic(&lapic));
	/* Software disable masks LINT0. */
	wr(APIC_SVR, 0xff);
	assert_false(vlapic_accepts_pic(&lapic));
	/* Hardware disable: the PIC reaches the CPU directly. */
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP);
	assert_true(vlapic_accepts_pic(&lapic));
}

/* --- timer ------------------------------------------------------------ */

/* One-shot with initial count 1000 under each divider: expiry at exactly
 * 1000 * divisor bus ticks, the current count falling with time. */
static void oneshot_with_divider(uint32_t dcr, uint64_t divisor)
{
	const uint64_t start = 5000, period = 1000 * divisor * NS_PER_TICK;

	reset(0, true);
	sw_enable();
	fake_now = start;
	wr(APIC_TIMER_DIVIDE, dcr);
	assert_int_equal(rd(APIC_TIMER_DIVIDE), dcr);
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	wr(APIC_TIMER_INITIAL, 1000);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 1000);
	assert_int_equal(vlapic_timer_next(&lapic), start + period);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 1000);
	fake_now = start + period / 4;
	assert_int_equal(rd(APIC_TIMER_CURRENT), 750);
	fake_now = start + period / 2;
	assert_int_equal(rd(APIC_TIMER_CURRENT), 500);

	/* Not a nanosecond early. */
	fake_now = start + period - 1;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0); /* less than one tick left */
	assert_int_equal(vlapic_timer_next(&lapic), start + period);

	fake_now = start + period;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x40);
	assert_false(vec_bit(APIC_TMR, 0x40)); /* the timer is edge-triggered */
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 1000);

	/* Once only. */
	take(0x40);
	wr(APIC_EOI, 0);
	fake_now += 10 * period;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
}

static void test_timer_oneshot_dividers(void **state)
{
	(void)state;
	oneshot_with_divider(DIV_BY_1, 1);
	oneshot_with_divider(DIV_BY_2, 2);
	oneshot_with_divider(DIV_BY_16, 16);
	oneshot_with_divider(DIV_BY_128, 128);
	oneshot_with_divider(0x1, 4);
	oneshot_with_divider(0x2, 8);
	oneshot_with_divider(0x8, 32);
	oneshot_with_divider(0x9, 64);
}

static void test_timer_divide_register(void **state)
{
	(void)state;
	wr(APIC_TIMER_DIVIDE, 0xffffffff);
	assert_int_equal(rd(APIC_TIMER_DIVIDE), 0xb); /* bit 2 is reserved */
	wr(APIC_TIMER_DIVIDE, 0x4);
	assert_int_equal(rd(APIC_TIMER_DIVIDE), 0);
}

static void test_timer_rearm_and_stop(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_LVT_TIMER, 0x40);
	wr(APIC_TIMER_INITIAL, 100);
	assert_int_equal(vlapic_timer_next(&lapic), 1000);
	/* Writing the initial count restarts the count from now. */
	fake_now = 700;
	wr(APIC_TIMER_INITIAL, 100);
	assert_int_equal(vlapic_timer_next(&lapic), 1700);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 100);
	/* Zero stops it. */
	wr(APIC_TIMER_INITIAL, 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	fake_now = 5000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* Unmasking or changing the vector in the same mode keeps it armed. */
	wr(APIC_TIMER_INITIAL, 100);
	wr(APIC_LVT_TIMER, 0x41 | LVT_MASKED);
	wr(APIC_LVT_TIMER, 0x42);
	assert_int_equal(vlapic_timer_next(&lapic), 6000);
	fake_now = 6000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x42);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	const uint64_t p = 100000; /* 5000 ticks * 2 * 10 ns */

	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_2);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 5000);
	assert_int_equal(vlapic_timer_next(&lapic), p);

	for (uint64_t n = 1; n <= 5; n++) {
		fake_now = n * p - 1;
		vlapic_timer_update(&lapic, fake_now);
		assert_int_equal(vlapic_pending_vector(&lapic), -1);
		assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
		fake_now = n * p;
		vlapic_timer_update(&lapic, fake_now);
		take(0x40);
		wr(APIC_EOI, 0);
		/* Reloaded: the next one a period later, full count. */
		assert_int_equal(vlapic_timer_next(&lapic), (n + 1) * p);
		assert_int_equal(rd(APIC_TIMER_CURRENT), 5000);
		fake_now = n * p + p / 2;
		assert_int_equal(rd(APIC_TIMER_CURRENT), 2500);
	}

	/* A long gap (the vCPU was descheduled) with no_missed_ticks_pending:
	 * one interrupt, and the next deadline on the original grid, not a
	 * period after now. */
	vlapic_set_timer_mode(&lapic, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	fake_now = 10 * p + p / 2;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x40);
	assert_int_equal(vlapic_timer_next(&lapic), 11 * p);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 2500);
	take(0x40);
	wr(APIC_EOI, 0);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* An update before the next grid point does nothing. */
	fake_now = 11 * p - 1;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	/* A gap ending exactly on a grid point schedules the next one. */
	fake_now = 20 * p;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x40);
	assert_int_equal(vlapic_timer_next(&lapic), 21 * p);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 5000);
}

/* Takes the timer's interrupts as a guest does, each acknowledged and
 * ended before the vCPU loop looks at the timer again; returns how many
 * came by now. */
static unsigned take_timer_ticks(void)
{
	unsigned n = 0;

	while (vlapic_timer_next(&lapic) <= fake_now) {
		vlapic_timer_update(&lapic, fake_now);
		take(0x40);
		assert_int_equal(vlapic_pending_vector(&lapic), -1); /* one at a time */
		wr(APIC_EOI, 0);
		n++;
	}
	return n;
}

/* no_delay_for_missed_ticks, the default: the periods the vCPU missed are
 * owed, one raised each time the guest has acknowledged the last. */
static void test_timer_periodic_catch_up(void **state)
{
	(void)state;
	const uint64_t p = 100000;

	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_2);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 5000);
	fake_now = 10 * p + p / 2;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x40);
	/* Still in the IRR: held, the next look is the next grid point. */
	assert_true(vlapic_timer_held(&lapic));
	assert_int_equal(vlapic_timer_next(&lapic), 11 * p);
	vlapic_timer_update(&lapic, fake_now);
	take(0x40);
	assert_false(vlapic_timer_held(&lapic));
	assert_true(vlapic_timer_next(&lapic) <= fake_now);
	wr(APIC_EOI, 0);
	assert_int_equal(take_timer_ticks(), 9);
	assert_int_equal(vlapic_timer_next(&lapic), 11 * p);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 2500); /* the count keeps real time */

	/* Five seconds away: one second of ticks comes back (10,000). */
	fake_now = 5 * TICK_BACKLOG_NS_PER_S + 11 * p;
	assert_int_equal(take_timer_ticks(), TICK_BACKLOG_NS_PER_S / p);
	/* A new initial count owes nothing. */
	fake_now += 10 * p;
	vlapic_timer_update(&lapic, fake_now);
	assert_true(vlapic_timer_held(&lapic));
	wr(APIC_TIMER_INITIAL, 5000);
	take(0x40);
	wr(APIC_EOI, 0);
	assert_false(vlapic_timer_held(&lapic));
	assert_int_equal(vlapic_timer_next(&lapic), fake_now + p);

	/* Masked through a gap: those ticks are lost, none come after. */
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC | LVT_MASKED);
	fake_now += 10 * p;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	assert_int_equal(take_timer_ticks(), 0);
}

/* no_missed_ticks_pending: nothing is owed; the late tick is raised once. */
static void test_timer_periodic_missed_dropped(void **state)
{
	(void)state;
	const uint64_t p = 100000;

	vlapic_set_timer_mode(&lapic, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_2);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 5000);
	fake_now = 10 * p + p / 2;
	assert_int_equal(take_timer_ticks(), 1);
	assert_false(vlapic_timer_held(&lapic));
	assert_int_equal(vlapic_timer_next(&lapic), 11 * p);
}

/* A periodic timer faster than VLAPIC_MIN_PERIOD_NS runs at that period;
 * a one-shot keeps its exact time. */
static void test_timer_periodic_min_period(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_2);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 50); /* 1 us asked */
	assert_int_equal(vlapic_timer_next(&lapic), VLAPIC_MIN_PERIOD_NS);
	fake_now = VLAPIC_MIN_PERIOD_NS;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x40);
	assert_int_equal(vlapic_timer_next(&lapic), 2 * VLAPIC_MIN_PERIOD_NS);

	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	wr(APIC_TIMER_INITIAL, 50);
	assert_int_equal(vlapic_timer_next(&lapic), VLAPIC_MIN_PERIOD_NS + 1000);
}

/* The current count never exceeds the initial count (SDM 11.5.4: it
 * counts down from the initial count), clamped period or not. */
static void test_timer_periodic_min_period_current_count(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_2);
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 50);
	for (fake_now = 0; fake_now < 2 * VLAPIC_MIN_PERIOD_NS; fake_now += 1000)
		assert_in_range(rd(APIC_TIMER_CURRENT), 0, 50);
}

static void test_timer_masked(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_LVT_TIMER, 0x40 | LVT_MASKED);
	wr(APIC_TIMER_INITIAL, 100);
	/* The count runs while masked (Linux calibrates this way). */
	fake_now = 500;
	assert_int_equal(rd(APIC_TIMER_CURRENT), 50);
	fake_now = 1000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(rd(APIC_IRR + 0x20), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);

	/* Periodic and masked: no interrupts, but it keeps counting. */
	wr(APIC_LVT_TIMER, 0x40 | LVT_MASKED | LVT_PERIODIC);
	wr(APIC_TIMER_INITIAL, 10000); /* 100 us */
	fake_now = 101000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(vlapic_timer_next(&lapic), 201000);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 10000);

	/* Software-disabled: the LVT is masked whatever is written. */
	reset(0, true);
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_LVT_TIMER, 0x40);
	wr(APIC_TIMER_INITIAL, 100);
	fake_now = 1000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
}

static void test_timer_tsc_deadline(void **state)
{
	(void)state;
	sw_enable();
	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	msr_wr(MSR_TSC_DEADLINE, 4000);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);

	wr(APIC_LVT_TIMER, 0x50 | LVT_TSC_DEADLINE);
	assert_int_equal(rd(APIC_LVT_TIMER), 0x50 | LVT_TSC_DEADLINE);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER); /* 0: disarmed */
	/* The initial count is ignored in this mode. */
	wr(APIC_TIMER_INITIAL, 100);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 0);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);

	msr_wr(MSR_TSC_DEADLINE, 20000);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 20000);
	assert_int_equal(vlapic_timer_next(&lapic), 10000); /* through tsc_to_ns */
	assert_int_equal(last_tsc_to_ns_arg, 20000);
	fake_now = 9999;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 20000);
	fake_now = 10000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x50);
	/* Firing disarms: the MSR reads 0. */
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	take(0x50);
	wr(APIC_EOI, 0);

	/* Rewriting moves the deadline; writing 0 disarms. */
	msr_wr(MSR_TSC_DEADLINE, 30000);
	msr_wr(MSR_TSC_DEADLINE, 40000);
	assert_int_equal(vlapic_timer_next(&lapic), 20000);
	msr_wr(MSR_TSC_DEADLINE, 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	fake_now = 50000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);

	/* A deadline already past fires at the next update. */
	msr_wr(MSR_TSC_DEADLINE, 2);
	assert_int_equal(vlapic_timer_next(&lapic), 1);
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x50);
	take(0x50);
	wr(APIC_EOI, 0);

	/* Masked: the deadline passes, disarms, and nothing is raised. */
	wr(APIC_LVT_TIMER, 0x50 | LVT_TSC_DEADLINE | LVT_MASKED);
	msr_wr(MSR_TSC_DEADLINE, 2 * 60000);
	fake_now = 60000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);

	/* Without a tsc_to_ns callback the deadline never comes. */
	lapic.tsc_to_ns = NULL;
	msr_wr(MSR_TSC_DEADLINE, 2);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
}

/* One-shot <-> periodic keeps TMICT and the running count (SDM 11.5.4.1):
 * the mode at zero decides between a reload and a stop. */
static void test_timer_mode_change_keeps_count(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	wr(APIC_TIMER_INITIAL, 10000); /* 100 us */
	fake_now = 60000;
	assert_int_equal(rd(APIC_TIMER_CURRENT), 4000);
	/* one-shot -> periodic: the count goes on, then reloads. */
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 10000);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 4000);
	assert_int_equal(vlapic_timer_next(&lapic), 100000);
	fake_now = 100000;
	vlapic_timer_update(&lapic, fake_now);
	take(0x40);
	wr(APIC_EOI, 0);
	assert_int_equal(vlapic_timer_next(&lapic), 200000);
	fake_now = 110000;
	assert_int_equal(rd(APIC_TIMER_CURRENT), 9000);
	/* periodic -> one-shot: down to 0, and it stays there. */
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 10000);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 9000);
	fake_now = 200000;
	vlapic_timer_update(&lapic, fake_now);
	take(0x40);
	wr(APIC_EOI, 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	fake_now = 400000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	/* An expired one-shot made periodic stays at zero. */
	wr(APIC_LVT_TIMER, 0x40 | LVT_PERIODIC);
	assert_int_equal(rd(APIC_TIMER_CURRENT), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 10000);
}

/* Only a switch to or from TSC-deadline mode disarms the timer. */
static void test_timer_mode_change_tsc_deadline_disarms(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	fake_now = 5000;

	/* one-shot -> TSC-deadline */
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	wr(APIC_TIMER_INITIAL, 100);
	assert_int_equal(vlapic_timer_next(&lapic), 6000);
	wr(APIC_LVT_TIMER, 0x40 | LVT_TSC_DEADLINE);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	assert_int_equal(rd(APIC_TIMER_INITIAL), 0);
	fake_now = 7000;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);

	/* TSC-deadline -> one-shot: the deadline is dropped. */
	msr_wr(MSR_TSC_DEADLINE, 20000);
	assert_int_equal(vlapic_timer_next(&lapic), 10000);
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
	wr(APIC_LVT_TIMER, 0x40 | LVT_TSC_DEADLINE);
	assert_int_equal(msr_rd(MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_next(&lapic), VTIME_NEVER);
}

/* The bus clock is never faster than the TSC: with a 50 MHz TSC a count
 * of 0x10000 at divide-by-1 lasts 0x10000 TSC ticks. */
static void test_timer_clock_no_faster_than_tsc(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_TIMER_DIVIDE, DIV_BY_1);
	wr(APIC_LVT_TIMER, 0x40 | LVT_ONESHOT);
	vlapic_set_tsc_hz(&lapic, 50000000);
	wr(APIC_TIMER_INITIAL, 0x10000);
	assert_int_equal(vlapic_timer_next(&lapic), 0x10000ull * 20);
	/* A 3 GHz TSC: the bus runs at 3 GHz / 30 = 100 MHz. */
	vlapic_set_tsc_hz(&lapic, 3000000000ull);
	wr(APIC_TIMER_INITIAL, 1000);
	assert_int_equal(vlapic_timer_next(&lapic), 1000 * NS_PER_TICK);
	/* 2.5 GHz: 2.5 GHz / 25. */
	vlapic_set_tsc_hz(&lapic, 2500000000ull);
	wr(APIC_TIMER_INITIAL, 1000);
	assert_int_equal(vlapic_timer_next(&lapic), 1000 * NS_PER_TICK);
}

/* --- decoding, IDs, relocation, LINT0 ------------------------------------ */

/* The xAPIC page is decoded only enabled, in xAPIC mode, at the base. */
static void test_mmio_undecoded_reads_all_ones(void **state)
{
	(void)state;
	sw_enable();
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_VERSION, 4), 0xffffffff);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_VERSION, 2), 0xffff);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_VERSION, 8), ~0ull);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP);
	assert_int_equal(rd(APIC_TPR), 0xffffffff);
	assert_int_equal(vlapic_mmio_read(&lapic, BASE + APIC_VERSION, 1), 0xff);
	wr(APIC_SVR, 0x1ff); /* vanishes */
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(rd(APIC_SVR), 0xff);
}

/* The x2APIC ID is CPUID's initial ID, read-only, whatever software wrote
 * to the xAPIC ID; a reset brings the initial xAPIC ID back. */
static void test_x2apic_id_is_the_initial_id(void **state)
{
	(void)state;
	reset(3, false);
	wr(APIC_ID, 4u << 24);
	assert_int_equal(rd(APIC_ID), 4u << 24);
	assert_int_equal(vlapic_id(&lapic), 4);
	enter_x2apic();
	assert_int_equal(msr_rd(X2MSR(APIC_ID)), 3);
	assert_int_equal(vlapic_id(&lapic), 3);
	assert_int_equal(msr_rd(X2MSR(APIC_LDR)), 0x00000008);
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_ID), 4), -1);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_EN);
	assert_int_equal(rd(APIC_ID), 3u << 24);
	assert_int_equal(vlapic_id(&lapic), 3);
}

/* A new base moves the registers there and tells the VM, once per move. */
static void test_relocation(void **state)
{
	(void)state;
	sw_enable();
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(nmoves, 0);
	msr_wr(MSR_APIC_BASE, 0xfed40000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(nmoves, 1);
	assert_int_equal(moved_to, 0xfed40000ull);
	assert_int_equal(vlapic_mmio_base(&lapic), 0xfed40000ull);
	vlapic_mmio_write(&lapic, 0xfed40000ull + APIC_TPR, 4, 0x20);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_TPR, 4), 0x20);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_VERSION, 4), 0x00050014);
	/* The old page decodes to nothing. */
	assert_int_equal(rd(APIC_TPR), 0xffffffff);
	wr(APIC_TPR, 0x30);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xfed40000ull + APIC_TPR, 4), 0x20);
	msr_wr(MSR_APIC_BASE, 0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN);
	assert_int_equal(nmoves, 2);
	assert_int_equal(moved_to, 0xfee00000ull);
	assert_int_equal(rd(APIC_TPR), 0x20);
}

/* LINT0 as a fixed interrupt: a rising edge of the 8259's INTR raises the
 * LVT's vector; a high level raises nothing more. */
static void test_lint0_fixed(void **state)
{
	(void)state;
	sw_enable();
	wr(APIC_LVT_LINT0, 0x50);
	assert_true(vlapic_lint0_fixed(&lapic));
	assert_false(vlapic_accepts_pic(&lapic));
	vlapic_lint0_sample(&lapic, true);
	take(0x50);
	wr(APIC_EOI, 0);
	vlapic_lint0_sample(&lapic, true);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
	vlapic_lint0_sample(&lapic, false);
	vlapic_lint0_sample(&lapic, true);
	assert_int_equal(vlapic_pending_vector(&lapic), 0x50);
	take(0x50);
	wr(APIC_EOI, 0);
	/* Masked, ExtINT or NMI: not a fixed interrupt. */
	wr(APIC_LVT_LINT0, 0x50 | LVT_MASKED);
	assert_false(vlapic_lint0_fixed(&lapic));
	wr(APIC_LVT_LINT0, LVT_EXTINT);
	assert_false(vlapic_lint0_fixed(&lapic));
	wr(APIC_LVT_LINT0, LVT_NMI);
	assert_false(vlapic_lint0_fixed(&lapic));
	vlapic_lint0_sample(&lapic, false);
	vlapic_lint0_sample(&lapic, true);
	assert_int_equal(vlapic_pending_vector(&lapic), -1);
}

static void test_timer_x2apic_msrs(void **state)
{
	(void)state;
	enter_x2apic();
	msr_wr(X2MSR(APIC_SVR), 0x1ff);
	msr_wr(X2MSR(APIC_TIMER_DIVIDE), DIV_BY_16);
	msr_wr(X2MSR(APIC_LVT_TIMER), 0xec);
	msr_wr(X2MSR(APIC_TIMER_INITIAL), 10);
	assert_int_equal(msr_rd(X2MSR(APIC_TIMER_INITIAL)), 10);
	assert_int_equal(vlapic_timer_next(&lapic), 1600);
	fake_now = 800;
	assert_int_equal(msr_rd(X2MSR(APIC_TIMER_CURRENT)), 5);
	/* The current count is read-only. */
	assert_int_equal(vlapic_msr_write(&lapic, X2MSR(APIC_TIMER_CURRENT), 1), -1);
	fake_now = 1600;
	vlapic_timer_update(&lapic, fake_now);
	assert_int_equal(vlapic_pending_vector(&lapic), 0xec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state_bsp, setup),
		cmocka_unit_test_setup(test_reset_state_ap, setup),
		cmocka_unit_test_setup(test_mmio_access_sizes, setup),
		cmocka_unit_test_setup(test_id_tpr_svr, setup),
		cmocka_unit_test_setup(test_software_disable_masks_lvts, setup),
		cmocka_unit_test_setup(test_ldr_dfr, setup),
		cmocka_unit_test_setup(test_irr_isr_tmr, setup),
		cmocka_unit_test_setup(test_tpr_ppr_priority, setup),
		cmocka_unit_test_setup(test_illegal_vector, setup),
		cmocka_unit_test_setup(test_xapic_icr, setup),
		cmocka_unit_test_setup(test_x2apic_icr_and_self_ipi, setup),
		cmocka_unit_test_setup(test_apic_base_transitions, setup),
		cmocka_unit_test_setup(test_apic_base_bsp_read_only, setup),
		cmocka_unit_test_setup(test_disable_resets_registers, setup),
		cmocka_unit_test_setup(test_x2apic_registers, setup),
		cmocka_unit_test_setup(test_accepts_pic, setup),
		cmocka_unit_test_setup(test_timer_oneshot_dividers, setup),
		cmocka_unit_test_setup(test_timer_divide_register, setup),
		cmocka_unit_test_setup(test_timer_rearm_and_stop, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_periodic_catch_up, setup),
		cmocka_unit_test_setup(test_timer_periodic_missed_dropped, setup),
		cmocka_unit_test_setup(test_timer_periodic_min_period, setup),
		cmocka_unit_test_setup(test_timer_periodic_min_period_current_count, setup),
		cmocka_unit_test_setup(test_timer_masked, setup),
		cmocka_unit_test_setup(test_timer_tsc_deadline, setup),
		cmocka_unit_test_setup(test_timer_mode_change_keeps_count, setup),
		cmocka_unit_test_setup(test_timer_mode_change_tsc_deadline_disarms, setup),
		cmocka_unit_test_setup(test_timer_clock_no_faster_than_tsc, setup),
		cmocka_unit_test_setup(test_mmio_undecoded_reads_all_ones, setup),
		cmocka_unit_test_setup(test_x2apic_id_is_the_initial_id, setup),
		cmocka_unit_test_setup(test_relocation, setup),
		cmocka_unit_test_setup(test_lint0_fixed, setup),
		cmocka_unit_test_setup(test_timer_x2apic_msrs, setup),
		cmocka_unit_test_setup(test_tpr_in_virtual_apic_page, setup),
		cmocka_unit_test_setup(test_tpr_threshold, setup),
		cmocka_unit_test_setup(test_registers_mirrored, setup),
		cmocka_unit_test_setup(test_cpu_delivers, setup),
		cmocka_unit_test_setup(test_cpu_delivers_model_ack, setup),
		cmocka_unit_test_setup(test_apic_write_exit, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
