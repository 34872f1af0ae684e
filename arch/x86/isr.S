/* Interrupt entry stubs: each pushes its vector (and a zero where the CPU
 * pushes no error code), then trap_common saves the GPRs as a struct
 * trap_frame and calls trap_dispatch(frame). */
#include "arch/x86/segments.h"

	.text
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp /* vector and error code */
	iretq

/* Vectors 8, 10-14, 17, 21, 29, 30 push an error code (SDM Vol. 3 6.13). */
.macro stub vec
	.balign 16
stub_\vec:
.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
.else
	pushq $0
.endif
	pushq $\vec
	jmp trap_common
.endm

.altmacro
.macro stubs from, to
	stub \from
.if \to-\from
	stubs %(\from+1), \to
.endif
.endm

	stubs 0, 63
	stubs 64, 127
	stubs 128, 191
	stubs 192, 255

.macro stubref vec
	.quad stub_\vec
.endm
.macro stubrefs from, to
	stubref \from
.if \to-\from
	stubrefs %(\from+1), \to
.endif
.endm

	.section .rodata
	.balign 8
	.globl trap_stub_table
trap_stub_table:
	stubrefs 0, 63
	stubrefs 64, 127
	stubrefs 128, 191
	stubrefs 192, 255
