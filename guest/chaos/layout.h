/* The chaos guest's segment selectors, software vectors and the low
 * memory its real-mode and protected-mode phases use, shared by entry.S,
 * modes.S and the C code. */
#ifndef GUEST_CHAOS_LAYOUT_H
#define GUEST_CHAOS_LAYOUT_H

#define KERNEL_CODE_SEL 0x08
#define KERNEL_DATA_SEL 0x10
#define USER_DATA_SEL (0x18 | 3)
#define USER_CODE_SEL (0x20 | 3)
#define TSS_SEL 0x28
#define CODE32_SEL 0x38 /* 32-bit code: the Multiboot entry, compatibility and protected mode */
#define CODE16_SEL 0x40 /* 16-bit code based at MODE_AREA: the way into real mode */
#define DATA16_SEL 0x48 /* 16-bit data, 64 KiB: the way into real mode */
#define GDT_BYTES 80

/* INT USER_DONE_VECTOR ends a CPL-3 operation; chaos_call reports a
 * SYSCALL as SYSCALL_VECTOR (past the 256 interrupt vectors). */
#define USER_DONE_VECTOR 0x80
#define SYSCALL_VECTOR 0x100

/* chaos_int_stubs + INT_STUB_BYTES * n is "int $n; ret" (entry.S). */
#define INT_STUB_BYTES 8

/* The mode phases' 32 KiB below 1 MiB, above the AP's park area: real
 * mode reaches it as segment MODE_SEG. Offsets into it: */
#define MODE_AREA 0x20000
#define MODE_SEG (MODE_AREA >> 4)
#define MODE_CODE_OFF 0x0000 /* the real-mode code, copied from the image */
#define MODE_CODE_MAX 0x1000
#define MODE_IVT_OFF 0x1000	   /* the real-mode interrupt vector table */
#define MODE_SWITCH_IDT_OFF 0x1400 /* the NMI table of the switches (modes.S) */
#define SWITCH_IDT_BYTES 48
#define MODE_STATE_OFF 0x1800	  /* struct mode_state */
#define MODE_SCRIPT_OFF 0x2000	  /* struct mode_op[MODE_MAX_OPS] */
#define MODE_STACK_TOP_OFF 0x4000 /* the real-mode stack, below */
#define MODE_SCRATCH_OFF 0x4000	  /* what the phases' memory writes may hit */
#define MODE_SCRATCH_BYTES 0x4000
#define MODE_MAX_OPS 64

/* struct mode_state: words the phases share with C. */
#define MODE_STATE_COUNT 0   /* operations in the script */
#define MODE_STATE_INDEX 4   /* the one running */
#define MODE_STATE_EVENTS 8  /* exceptions and interrupts that ended one */
#define MODE_STATE_RESUME 12 /* the stack pointer an event goes back to */

/* struct mode_op: a kind and three operands, 1 << MODE_OP_SHIFT bytes. */
#define MODE_OP_SHIFT 4
#define MODE_OP_A 4
#define MODE_OP_B 8
#define MODE_OP_C 12

/* The kinds of mode operation (modes.c draws them, modes.S runs them). */
#define MOP_PORT_IN 0
#define MOP_PORT_OUT 1
#define MOP_CPUID 2
#define MOP_RDMSR 3
#define MOP_WRMSR 4
#define MOP_MEM_READ 5
#define MOP_MEM_WRITE 6
#define MOP_INT_N 7
#define MOP_CR0 8
#define MOP_CR4 9
#define MOP_HLT_IPI 10
#define MOP_KINDS 11

/* chaos_mode_phase's modes. */
#define MODE_PROTECTED 0
#define MODE_REAL 1

#endif
