/* Exception entry stubs for vectors 0-31. Each pushes a zero error code
 * where the CPU pushes none, then the vector, so trap_dispatch sees one
 * frame layout (struct trap_frame). */

	.macro trap_stub vector, has_error_code
	.globl trap_stub_\vector
trap_stub_\vector:
	.if \has_error_code == 0
	pushl $0
	.endif
	pushl $\vector
	jmp trap_common
	.endm

	.text
	.code32
trap_common:
	pushal
	pushl %esp		/* struct trap_frame * */
	call trap_dispatch
	addl $4, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iret

	trap_stub 0, 0
	trap_stub 1, 0
	trap_stub 2, 0
	trap_stub 3, 0
	trap_stub 4, 0
	trap_stub 5, 0
	trap_stub 6, 0
	trap_stub 7, 0
	trap_stub 8, 1
	trap_stub 9, 0
	trap_stub 10, 1
	trap_stub 11, 1
	trap_stub 12, 1
	trap_stub 13, 1
	trap_stub 14, 1
	trap_stub 15, 0
	trap_stub 16, 0
	trap_stub 17, 1
	trap_stub 18, 0
	trap_stub 19, 0
	trap_stub 20, 0
	trap_stub 21, 1
	trap_stub 22, 0
	trap_stub 23, 0
	trap_stub 24, 0
	trap_stub 25, 0
	trap_stub 26, 0
	trap_stub 27, 0
	trap_stub 28, 0
	trap_stub 29, 1
	trap_stub 30, 1
	trap_stub 31, 0

	/* Their addresses, indexed by vector, for the IDT set-up. */
	.section .rodata
	.align 4
	.globl trap_stubs
trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_stub_\v
	.endr
