/* Exception entry for vectors 0-31: every stub leaves the same frame
 * (struct trap_frame) for trap_dispatch. */

#include "guest/lib/exception_stubs.inc"

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

	exception_stubs trap_stub, trap_common
