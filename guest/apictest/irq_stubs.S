/* The apictest guest's interrupt stubs: save the registers, call the C
 * handler, IRET. */
#include "guest/lib/irq_stub.inc"

	.code32
	irq_stub lint0_stub, on_lint0
	irq_stub pic_stub, on_pic
	irq_stub ipi_stub, on_ipi
	irq_stub x2apic_stub, on_x2apic
	irq_stub hpet_stub, on_hpet
