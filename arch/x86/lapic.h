/* The host's own local APIC (xAPIC mode, MMIO at its IA32_APIC_BASE),
 * used for the hypervisor's timer: when every vCPU waits, the CPU sleeps
 * in HLT until the next virtual-device deadline. */
#ifndef PGVISOR_LAPIC_H
#define PGVISOR_LAPIC_H

#include <stdint.h>

#define LAPIC_TIMER_VECTOR 0xef
#define LAPIC_KICK_VECTOR 0xf0 /* another CPU changed what this one should run */
#define LAPIC_SPURIOUS_VECTOR 0xff
/* The host devices' interrupts, routed through the I/O APIC. */
#define SERIAL_RX_VECTOR 0xe0 /* COM1 received data (drivers/serial_irq.c) */

/* Enables the local APIC of the calling CPU and installs the timer and
 * spurious-interrupt handlers. */
void lapic_init_cpu(void);
uint32_t lapic_id(void);
/* Raises LAPIC_TIMER_VECTOR at (or soon after) TSC value deadline; 0
 * cancels. Uses TSC-deadline mode where the CPU has it. */
void lapic_timer_arm(uint64_t tsc_deadline);
void lapic_eoi(void);
/* Inter-processor interrupts in xAPIC mode: -1 for an APIC ID above 255,
 * which only x2APIC mode can address. INIT and STARTUP (page = the start
 * address / 4096) are the MP initialization protocol (SDM Vol. 3 9.4.4). */
int lapic_send_init(uint32_t apic_id);
int lapic_send_startup(uint32_t apic_id, uint8_t page);
int lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* An NMI to one CPU: it arrives even with interrupts off and, in VMX
 * non-root operation with "NMI exiting", makes the guest exit. */
int lapic_send_nmi(uint32_t apic_id);
/* Sleeps with interrupts enabled until the next interrupt. */
void cpu_idle_until_interrupt(void);

#endif
