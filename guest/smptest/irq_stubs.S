/* The smptest guest's interrupt stubs for the IPIs and NMIs it sends. */
	.text
	.code32
	.globl ipi_stub, nmi_stub
ipi_stub:
	pushal
	cld
	call on_ipi
	popal
	iret
nmi_stub:
	pushal
	cld
	call on_nmi
	popal
	iret
