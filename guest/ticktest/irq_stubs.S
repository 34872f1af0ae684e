/* The ticktest guest's IRQ 0 stub: save the registers, call the C
 * handler, IRET. */
#include "guest/lib/irq_stub.inc"

	.code32
	irq_stub pit_stub, on_pit
