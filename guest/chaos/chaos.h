/* The chaos guest: seeded random sensitive and privileged operations at
 * CPL 0 and CPL 3 (what and how: chaos.c, ops.c, entry.S). */
#ifndef GUEST_CHAOS_CHAOS_H
#define GUEST_CHAOS_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

/* What an operation is given: random words drawn before it runs, so the
 * sequence of draws does not depend on what the operation did. */
struct op_args {
	uint64_t r[4];
};

struct chaos_op {
	const char *name;
	void (*run)(struct op_args *a);
	/* Run at CPL 0 after the operation, whether it ended or faulted:
	 * puts back what a half-done operation may have left; or NULL. */
	void (*repair)(void);
	/* Ends in INT n itself: a vector of 32 or more is not an interrupt
	 * the local APIC delivered, and takes no EOI. */
	bool software_interrupts;
};

/* The operations (ops.c) and what they need to know of the machine. */
extern const struct chaos_op chaos_ops[];
extern const unsigned chaos_nops;
void ops_init(uint64_t ram_end);
void chaos_end_interrupt(void);

/* entry.S */
int chaos_call(void (*fn)(void *), void *arg);
void chaos_enter_user(void (*fn)(void *), void *arg);
void chaos_syscall_entry(void);
extern char chaos_vector_stubs[];
extern char chaos_int_stubs[];
extern char chaos_ap_park_start[], chaos_ap_park_end[];
extern uint64_t chaos_gdt[];
extern char chaos_trap_stack_top[];
extern volatile uint64_t chaos_resume_rsp, chaos_trap_vector;
extern volatile uint8_t chaos_dr7_armed, chaos_user_returned;

#define VECTOR_STUB_BYTES 16
#define INT_STUB_BYTES 8

/* The real-mode page the second vCPU is started at: its vector for SIPI. */
#define AP_PARK_ADDR 0x10000u
#define AP_PARK_PAGES 16 /* 0x10000-0x1ffff, all HLT: any SIPI vector there halts */

#endif
