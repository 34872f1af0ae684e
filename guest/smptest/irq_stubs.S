/* The smptest guest's interrupt stubs for the IPIs and NMIs it sends. */
#include "guest/lib/irq_stub.inc"

	.code32
	irq_stub ipi_stub, on_ipi
	irq_stub nmi_stub, on_nmi
