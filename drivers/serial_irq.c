#include "drivers/serial_irq.h"

#include "arch/x86/idt.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/lapic.h"
#include "drivers/serial.h"

static void rx_interrupt(struct trap_frame *tf)
{
	(void)tf;
	serial_rx_interrupt();
	lapic_eoi();
}

bool serial_irq_start(void)
{
	if (!serial_present() ||
	    !ioapic_route_isa_irq(SERIAL_COM1_IRQ, SERIAL_RX_VECTOR, lapic_id()))
		return false;
	idt_set_handler(SERIAL_RX_VECTOR, rx_interrupt);
	serial_rx_interrupts_enable();
	return true;
}
