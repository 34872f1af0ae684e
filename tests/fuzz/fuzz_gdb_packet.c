/* libFuzzer harness: bytes from gdb on COM2 through the remote serial
 * protocol's framing (vmm/debug/gdb_packet.c) and the stub's commands
 * (vmm/debug/gdbstub.c) against a small target. The target checks what
 * the stub asks of it (threads in range, memory inside the packet limit)
 * and every byte the stub sends is framed again by a second receiver: an
 * acknowledgement or a well-formed packet, never garbage. Whenever the
 * stub has resumed the target, the next input byte stops it again. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/debug/gdb_packet.h"
#include "vmm/debug/gdbstub.h"

#define TARGET_THREADS 3
#define TARGET_BASE 0x1000u
#define TARGET_SIZE 0x2000u

struct target {
	struct gdb_regs regs[TARGET_THREADS];
	uint8_t mem[TARGET_SIZE];
	bool running;
	struct gdb_rx echo; /* what the stub sent, framed again */
};

static void check_thread(unsigned thread)
{
	if (thread < 1 || thread > TARGET_THREADS)
		abort();
}

static unsigned thread_count(void *t)
{
	(void)t;
	return TARGET_THREADS;
}

static bool read_regs(void *t, unsigned thread, struct gdb_regs *regs)
{
	check_thread(thread);
	*regs = ((struct target *)t)->regs[thread - 1];
	return true;
}

static bool write_regs(void *t, unsigned thread, const struct gdb_regs *regs)
{
	check_thread(thread);
	((struct target *)t)->regs[thread - 1] = *regs;
	return true;
}

static bool mapped(uint64_t addr, size_t len)
{
	if (len > GDB_PACKET_MAX)
		abort(); /* the stub bounds every access by its packet */
	return addr >= TARGET_BASE && addr - TARGET_BASE <= TARGET_SIZE &&
	       len <= TARGET_SIZE - (addr - TARGET_BASE);
}

static bool read_mem(void *t, unsigned thread, uint64_t addr, uint8_t *buf, size_t len)
{
	check_thread(thread);
	if (!mapped(addr, len))
		return false;
	memcpy(buf, ((struct target *)t)->mem + (addr - TARGET_BASE), len);
	return true;
}

static bool write_mem(void *t, unsigned thread, uint64_t addr, const uint8_t *buf, size_t len)
{
	check_thread(thread);
	if (!mapped(addr, len))
		return false;
	memcpy(((struct target *)t)->mem + (addr - TARGET_BASE), buf, len);
	return true;
}

static enum gdb_break_result breakpoint(void *t, enum gdb_break_kind kind, bool insert,
					uint64_t addr, uint64_t len)
{
	(void)t;
	(void)kind;
	(void)insert;
	return len > 8 ? GDB_BREAK_UNSUPPORTED
		       : (mapped(addr, 1) ? GDB_BREAK_OK : GDB_BREAK_FAILED);
}

static void resume(void *t, unsigned step_thread)
{
	if (step_thread)
		check_thread(step_thread);
	((struct target *)t)->running = true;
}

static void interrupt(void *t)
{
	(void)t;
}

static void detach(void *t)
{
	((struct target *)t)->running = false;
}

static void kill_target(void *t)
{
	((struct target *)t)->running = false;
}

static const struct gdb_target_ops ops = {
	.thread_count = thread_count,
	.read_regs = read_regs,
	.write_regs = write_regs,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.breakpoint = breakpoint,
	.resume = resume,
	.interrupt = interrupt,
	.detach = detach,
	.kill = kill_target,
};

/* Everything the stub sends is an acknowledgement or a whole packet. */
static void send(void *line, const char *bytes, size_t len)
{
	struct target *t = line;

	for (size_t i = 0; i < len; i++)
		if (gdb_rx_byte(&t->echo, (uint8_t)bytes[i]) == GDB_RX_BAD)
			abort();
	if (t->echo.state != GDB_RX_IDLE)
		abort(); /* a packet cut short */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct target target;
	static struct gdbstub stub;

	memset(&target, 0, sizeof(target));
	gdb_rx_reset(&target.echo);
	gdbstub_init(&stub, &ops, &target, send, &target);
	for (size_t i = 0; i < size; i++) {
		if (target.running) {
			/* The target stops: at a thread the byte picks. */
			target.running = false;
			gdbstub_stopped(&stub,
					&(struct gdb_stop){ .thread = 1u + data[i] % TARGET_THREADS,
							    .signal = GDB_SIGTRAP });
			continue;
		}
		gdbstub_receive(&stub, data[i]);
	}
	return 0;
}
