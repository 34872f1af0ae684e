/* The apictest guest's interrupt stubs: save the registers, call the C
 * handler, IRET. */
	.text
	.code32
	.globl lint0_stub, pic_stub, ipi_stub
lint0_stub:
	pushal
	cld
	call on_lint0
	popal
	iret
pic_stub:
	pushal
	cld
	call on_pic
	popal
	iret
ipi_stub:
	pushal
	cld
	call on_ipi
	popal
	iret
