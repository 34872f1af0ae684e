/* The local APIC in xAPIC mode, by MMIO at its default base (SDM Vol. 3
 * 11.4.1), for guest programs with interrupts or several CPUs. */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdint.h>

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ISR 0x100 /* 8 registers, 0x10 apart */
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3e0

#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_SPURIOUS_VECTOR 0xff
#define LAPIC_DIVIDE_BY_1 0xb
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

static inline volatile uint32_t *lapic_reg(unsigned reg)
{
	return (volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline unsigned lapic_id(void)
{
	return *lapic_reg(LAPIC_ID) >> 24;
}

/* Software-enables this CPU's APIC (it may then accept interrupts). */
static inline void lapic_enable(void)
{
	*lapic_reg(LAPIC_SVR) = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR;
}

static inline void lapic_eoi(void)
{
	*lapic_reg(LAPIC_EOI) = 0;
}

static inline void lapic_send_ipi(unsigned dest, uint32_t command)
{
	*lapic_reg(LAPIC_ICR_HIGH) = dest << 24;
	*lapic_reg(LAPIC_ICR_LOW) = command;
}

#endif
