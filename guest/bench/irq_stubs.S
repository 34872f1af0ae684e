/* The bench guest's interrupt stubs: save the registers, call the C
 * handler, IRET. */
	.macro stub name, handler
	.globl \name
\name:
	pushal
	cld
	call \handler
	popal
	iret
	.endm

	.text
	.code32
	stub timer_stub, on_timer
	stub ping_stub, on_ping
	stub pong_stub, on_pong
	stub nic_stub, on_nic
