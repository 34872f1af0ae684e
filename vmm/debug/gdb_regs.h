/* The registers pgvisor's gdb stub shows, in the order of its "g" packet and
 * of its target description (gdb_target_xml): gdb's i386:x86-64 core
 * registers, the segment bases and the control registers. A 32-bit guest
 * is shown with the same 64-bit layout. gdb's core feature also names the
 * x87 and SSE registers; the stub places them after these (regnums
 * GDB_X87_FIRST on) and never sends them, so gdb shows them unavailable. */
#ifndef PGVISOR_GDB_REGS_H
#define PGVISOR_GDB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gdb_reg {
	GDB_RAX,
	GDB_RBX,
	GDB_RCX,
	GDB_RDX,
	GDB_RSI,
	GDB_RDI,
	GDB_RBP,
	GDB_RSP,
	GDB_R8,
	GDB_R9,
	GDB_R10,
	GDB_R11,
	GDB_R12,
	GDB_R13,
	GDB_R14,
	GDB_R15,
	GDB_RIP,
	GDB_EFLAGS,
	GDB_CS,
	GDB_SS,
	GDB_DS,
	GDB_ES,
	GDB_FS,
	GDB_GS,
	GDB_FS_BASE,
	GDB_GS_BASE,
	GDB_CR0,
	GDB_CR2,
	GDB_CR3,
	GDB_CR4,
	GDB_CR8,
	GDB_EFER,
	GDB_REG_COUNT
};

/* The x87 and SSE registers of gdb's core and sse features: numbered from
 * here, never transferred ("p" answers them as unavailable). */
#define GDB_X87_FIRST GDB_REG_COUNT
#define GDB_X87_ST_COUNT 8
#define GDB_X87_CONTROL_COUNT 8 /* fctrl fstat ftag fiseg fioff foseg fooff fop */
#define GDB_XMM_COUNT 16
/* xmm0-15 and mxcsr follow the x87 registers. */
#define GDB_UNAVAILABLE_COUNT (GDB_X87_ST_COUNT + GDB_X87_CONTROL_COUNT + GDB_XMM_COUNT + 1)
#define GDB_ALL_REG_COUNT (GDB_REG_COUNT + GDB_UNAVAILABLE_COUNT)

struct gdb_regs {
	uint64_t r[GDB_REG_COUNT]; /* 32-bit registers in the low half */
};

/* Bytes of register n in the protocol (0 for no such register). */
unsigned gdb_reg_size(unsigned n);
/* Hex digits of the whole "g" payload. */
size_t gdb_regs_hex_len(void);

/* Register n as little-endian hex (2 * gdb_reg_size(n) digits, 'x' for an
 * unavailable one) at out; returns the digits written, 0 for no such
 * register. */
size_t gdb_reg_to_hex(const struct gdb_regs *regs, unsigned n, char *out);
/* Parses exactly 2 * gdb_reg_size(n) digits of hex into register n; false
 * (regs unchanged) for a bad digit, a wrong length or an unavailable or
 * unknown register. */
bool gdb_reg_from_hex(struct gdb_regs *regs, unsigned n, const char *hex, size_t len);

/* The "g" payload (gdb_regs_hex_len() digits) and back ("G": the same
 * length, all or nothing). */
size_t gdb_regs_to_hex(const struct gdb_regs *regs, char *out);
bool gdb_regs_from_hex(struct gdb_regs *regs, const char *hex, size_t len);

/* The target description gdb reads with qXfer:features:read:target.xml. */
extern const char gdb_target_xml[];

#endif
