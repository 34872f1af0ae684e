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

#define PCI_WINDOW_BASE 0xc0000000ull
#define PCI_MMCONFIG_BASE 0xe0000000ull
#define FOUR_GIB 0x100000000ull
#define MSR_EFER 0xc0000080

/* The operations (ops.c) and what they need to know of the machine. */
extern const struct chaos_op chaos_ops[];
extern const unsigned chaos_nops;
void ops_init(uint64_t ram_end);
void chaos_end_interrupt(void);
/* Their operands, shared with the mode phases: an MSR index, whether an
 * MSR or a port takes no random writes, an address somewhere interesting
 * (any RAM for reads; for writes only ops.c's scratch), a value with any
 * INIT taken out where a write of it would send one. */
uint32_t pick_msr(uint64_t r);
bool msr_write_kept_out(uint32_t msr);
bool port_range_kept_out(uint16_t port, unsigned width);
uint64_t pick_address(uint64_t r, bool write);
uint64_t safe_value(uint64_t addr, uint64_t v);

/* The mode phases (modes.c, modes.S): real mode and 32-bit protected
 * mode. */
struct mode_counts {
	uint64_t ops, events, phases;
};
extern struct mode_counts mode_counts[2]; /* by MODE_PROTECTED, MODE_REAL */
void modes_init(uint64_t ram_end);
/* Makes operation i of the script (below MODE_MAX_OPS) from a's random
 * words; returns its kind (MOP_*). */
unsigned mode_script_op(unsigned i, const struct op_args *a);
/* Runs the script's first count operations in mode. */
void mode_run(unsigned mode, unsigned count);
void chaos_mode_phase(unsigned mode); /* modes.S */

/* The virtio operation (virtio_op.c). */
void virtio_op_init(uint64_t ram_end);
void op_virtio(struct op_args *a);

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

/* The real-mode page the second vCPU is started at: its vector for SIPI. */
#define AP_PARK_ADDR 0x10000u
#define AP_PARK_PAGES 16 /* 0x10000-0x1ffff, all HLT: any SIPI vector there halts */

#endif
