/* The GDB remote serial protocol's commands for one debugged target (a VM,
 * its vCPUs the threads), independent of how the target stops and runs:
 * gdb_target.c drives a VM through struct gdb_target_ops, the unit tests a
 * fake. Bytes come in through gdbstub_receive; replies leave through the
 * send callback. */
#ifndef PGVISOR_GDBSTUB_H
#define PGVISOR_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/debug/gdb_packet.h"
#include "vmm/debug/gdb_regs.h"

/* The most memory one "m" or "M" moves: a reply of two hex digits a byte
 * must fit a packet. */
#define GDB_MEM_MAX (GDB_PACKET_MAX / 2)
#define GDB_SIGTRAP 5
#define GDB_SIGINT 2

enum gdb_break_kind {
	GDB_BREAK_SOFTWARE, /* Z0: INT3 in guest memory */
	GDB_BREAK_HARDWARE, /* Z1: a debug-register execute breakpoint */
	GDB_WATCH_WRITE,    /* Z2 */
	GDB_WATCH_READ,	    /* Z3 (x86 has no read-only watch: refused) */
	GDB_WATCH_ACCESS,   /* Z4: read or write */
	GDB_BREAK_KIND_COUNT,
};

enum gdb_break_result {
	GDB_BREAK_OK,
	GDB_BREAK_UNSUPPORTED, /* answered "": gdb falls back or says so */
	GDB_BREAK_FAILED,      /* E01: no room, unmapped, bad length */
};

/* Why the target stopped, for the stop reply. */
enum gdb_stop_reason {
	GDB_STOP_SIGNAL,  /* attach, step, interrupt: just the signal */
	GDB_STOP_SWBREAK, /* a Z0 breakpoint */
	GDB_STOP_HWBREAK, /* a Z1 breakpoint */
	GDB_STOP_WATCH,	  /* a Z2 watchpoint at addr */
	GDB_STOP_AWATCH,  /* a Z4 watchpoint at addr */
};

struct gdb_stop {
	unsigned thread; /* 1-based: vCPU id + 1 */
	unsigned signal;
	enum gdb_stop_reason reason;
	uint64_t addr;
};

/* Threads are numbered 1..thread_count (gdb reserves 0 and -1). Every
 * callback may assume the target is stopped unless it says otherwise. */
struct gdb_target_ops {
	unsigned (*thread_count)(void *target);
	bool (*read_regs)(void *target, unsigned thread, struct gdb_regs *regs);
	bool (*write_regs)(void *target, unsigned thread, const struct gdb_regs *regs);
	/* Guest-virtual addresses, as the thread sees them; false when any byte
	 * is unmapped. */
	bool (*read_mem)(void *target, unsigned thread, uint64_t addr, uint8_t *buf, size_t len);
	bool (*write_mem)(void *target, unsigned thread, uint64_t addr, const uint8_t *buf,
			  size_t len);
	enum gdb_break_result (*breakpoint)(void *target, enum gdb_break_kind kind, bool insert,
					    uint64_t addr, uint64_t len);
	/* Runs the target: every thread continues, or step_thread (non-zero)
	 * executes one instruction while the others stay stopped. The target
	 * calls gdbstub_stopped when it stops again. */
	void (*resume)(void *target, unsigned step_thread);
	/* While running: stop every thread (then gdbstub_stopped, SIGINT). */
	void (*interrupt)(void *target);
	/* Remove every breakpoint and watchpoint and let the target run on. */
	void (*detach)(void *target);
	void (*kill)(void *target);
};

struct gdbstub {
	const struct gdb_target_ops *ops;
	void *target;
	void (*send)(void *line, const char *bytes, size_t len);
	void *line;
	struct gdb_rx rx;
	bool running;
	unsigned regs_thread; /* "Hg": the thread g/G/p/P/m/M use */
	struct gdb_stop last_stop;
	size_t last_len; /* of last_frame, sent again on a NAK */
	char reply[GDB_PACKET_MAX + 1];
	char last_frame[2 * GDB_PACKET_MAX + 4];
};

/* A stopped target (as at attach): the stub waits for gdb. */
void gdbstub_init(struct gdbstub *stub, const struct gdb_target_ops *ops, void *target,
		  void (*send)(void *line, const char *bytes, size_t len), void *line);
void gdbstub_receive(struct gdbstub *stub, uint8_t byte);
/* The target stopped after resume or interrupt: tell gdb. */
void gdbstub_stopped(struct gdbstub *stub, const struct gdb_stop *stop);

#endif
