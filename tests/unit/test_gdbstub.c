/* Unit tests for vmm/debug/: the GDB remote protocol's framing
 * (gdb_packet.c), the register layout (gdb_regs.c) and the commands
 * (gdbstub.c) against a fake two-thread target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/debug/gdb_packet.h"
#include "vmm/debug/gdb_regs.h"
#include "vmm/debug/gdbstub.h"

/* --- a fake target: two threads, 64 KiB of memory at 0x10000 --- */

#define FAKE_BASE 0x10000u
#define FAKE_SIZE 0x10000u
#define FAKE_THREADS 2

struct fake {
	struct gdb_regs regs[FAKE_THREADS];
	uint8_t mem[FAKE_SIZE];
	unsigned resumes;
	unsigned step_thread;
	unsigned interrupts;
	unsigned detaches;
	unsigned kills;
	enum gdb_break_kind last_kind;
	bool last_insert;
	uint64_t last_addr;
	uint64_t last_len;
	char out[2 * GDB_PACKET_MAX + 16];
	size_t out_len;
};

static unsigned fake_thread_count(void *t)
{
	(void)t;
	return FAKE_THREADS;
}

static bool fake_read_regs(void *t, unsigned thread, struct gdb_regs *regs)
{
	*regs = ((struct fake *)t)->regs[thread - 1];
	return true;
}

static bool fake_write_regs(void *t, unsigned thread, const struct gdb_regs *regs)
{
	((struct fake *)t)->regs[thread - 1] = *regs;
	return true;
}

static bool fake_mapped(uint64_t addr, size_t len)
{
	return addr >= FAKE_BASE && addr - FAKE_BASE <= FAKE_SIZE &&
	       len <= FAKE_SIZE - (addr - FAKE_BASE);
}

static bool fake_read_mem(void *t, unsigned thread, uint64_t addr, uint8_t *buf, size_t len)
{
	(void)thread;
	if (!fake_mapped(addr, len))
		return false;
	memcpy(buf, ((struct fake *)t)->mem + (addr - FAKE_BASE), len);
	return true;
}

static bool fake_write_mem(void *t, unsigned thread, uint64_t addr, const uint8_t *buf, size_t len)
{
	(void)thread;
	if (!fake_mapped(addr, len))
		return false;
	memcpy(((struct fake *)t)->mem + (addr - FAKE_BASE), buf, len);
	return true;
}

static enum gdb_break_result fake_breakpoint(void *t, enum gdb_break_kind kind, bool insert,
					     uint64_t addr, uint64_t len)
{
	struct fake *f = t;

	f->last_kind = kind;
	f->last_insert = insert;
	f->last_addr = addr;
	f->last_len = len;
	if (kind == GDB_WATCH_READ)
		return GDB_BREAK_UNSUPPORTED;
	return fake_mapped(addr, 1) ? GDB_BREAK_OK : GDB_BREAK_FAILED;
}

static void fake_resume(void *t, unsigned step_thread)
{
	struct fake *f = t;

	f->resumes++;
	f->step_thread = step_thread;
}

static void fake_interrupt(void *t)
{
	((struct fake *)t)->interrupts++;
}

static void fake_detach(void *t)
{
	((struct fake *)t)->detaches++;
}

static void fake_kill(void *t)
{
	((struct fake *)t)->kills++;
}

static const struct gdb_target_ops fake_ops = {
	.thread_count = fake_thread_count,
	.read_regs = fake_read_regs,
	.write_regs = fake_write_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.breakpoint = fake_breakpoint,
	.resume = fake_resume,
	.interrupt = fake_interrupt,
	.detach = fake_detach,
	.kill = fake_kill,
};

static void fake_send(void *line, const char *bytes, size_t len)
{
	struct fake *f = line;

	assert_true(f->out_len + len < sizeof(f->out));
	memcpy(f->out + f->out_len, bytes, len);
	f->out_len += len;
	f->out[f->out_len] = '\0';
}

static struct fake fake;
static struct gdbstub stub;

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	gdbstub_init(&stub, &fake_ops, &fake, fake_send, &fake);
	return 0;
}

static void feed(const char *bytes)
{
	fake.out_len = 0;
	fake.out[0] = '\0';
	for (; *bytes; bytes++)
		gdbstub_receive(&stub, (uint8_t)*bytes);
}

/* Sends data as a well-formed packet. */
static void command(const char *data)
{
	char framed[2 * GDB_PACKET_MAX + 8];
	size_t n = gdb_frame(data, strlen(data), framed, sizeof(framed) - 1);

	assert_true(n > 0);
	framed[n] = '\0';
	feed(framed);
}

/* The stub acknowledged and replied with exactly "$reply#cs". */
static void assert_reply(const char *want)
{
	char framed[2 * GDB_PACKET_MAX + 8];
	size_t n = gdb_frame(want, strlen(want), framed + 1, sizeof(framed) - 2);

	framed[0] = '+';
	framed[n + 1] = '\0';
	assert_string_equal(fake.out, framed);
}

/* --- framing --- */

static enum gdb_rx_result feed_rx(struct gdb_rx *rx, const char *bytes)
{
	enum gdb_rx_result r = GDB_RX_PENDING;

	for (; *bytes; bytes++)
		r = gdb_rx_byte(rx, (uint8_t)*bytes);
	return r;
}

static void test_rx_accepts_good_checksum(void **state)
{
	struct gdb_rx rx;

	(void)state;
	gdb_rx_reset(&rx);
	/* 'g' = 0x67 */
	assert_int_equal(feed_rx(&rx, "$g#67"), GDB_RX_PACKET);
	assert_int_equal(rx.len, 1);
	assert_string_equal(rx.data, "g");
	/* Upper-case checksum digits are fine too. */
	assert_int_equal(feed_rx(&rx, "$qC#B4"), GDB_RX_PACKET);
	assert_string_equal(rx.data, "qC");
}

static void test_rx_refuses_bad_checksum_and_recovers(void **state)
{
	struct gdb_rx rx;

	(void)state;
	gdb_rx_reset(&rx);
	assert_int_equal(feed_rx(&rx, "$g#68"), GDB_RX_BAD);
	assert_int_equal(feed_rx(&rx, "$g#6z"), GDB_RX_BAD);
	assert_int_equal(feed_rx(&rx, "$g#67"), GDB_RX_PACKET);
}

static void test_rx_unescapes(void **state)
{
	struct gdb_rx rx;

	(void)state;
	gdb_rx_reset(&rx);
	/* "}\x03" is '#' (0x23); the checksum counts the bytes as sent:
	 * 'X' 0x58 + '}' 0x7d + 0x03 = 0xd8. */
	assert_int_equal(feed_rx(&rx, "$X}\x03#d8"), GDB_RX_PACKET);
	assert_int_equal(rx.len, 2);
	assert_memory_equal(rx.data, "X#", 2);
}

static void test_rx_oversize_is_refused(void **state)
{
	static char big[GDB_PACKET_MAX + 16];
	struct gdb_rx rx;

	(void)state;
	gdb_rx_reset(&rx);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '$';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(feed_rx(&rx, big), GDB_RX_PENDING);
	/* 'a' * (GDB_PACKET_MAX + 14) mod 256, correct yet still refused. */
	char tail[8];
	snprintf(tail, sizeof(tail), "#%02x", (unsigned)(('a' * (sizeof(big) - 2)) & 0xff));
	assert_int_equal(feed_rx(&rx, tail), GDB_RX_BAD);
	assert_int_equal(feed_rx(&rx, "$g#67"), GDB_RX_PACKET);
}

static void test_rx_control_bytes_between_packets(void **state)
{
	struct gdb_rx rx;

	(void)state;
	gdb_rx_reset(&rx);
	assert_int_equal(gdb_rx_byte(&rx, GDB_INTERRUPT), GDB_RX_INTERRUPT);
	assert_int_equal(gdb_rx_byte(&rx, '+'), GDB_RX_ACK);
	assert_int_equal(gdb_rx_byte(&rx, '-'), GDB_RX_NAK);
	assert_int_equal(gdb_rx_byte(&rx, 'z'), GDB_RX_PENDING);
	/* Inside a packet 0x03 is data: no interrupt. */
	assert_int_equal(feed_rx(&rx, "$\x03"), GDB_RX_PENDING);
	/* A new '$' restarts the packet. */
	assert_int_equal(feed_rx(&rx, "$g#67"), GDB_RX_PACKET);
}

static void test_frame_escapes(void **state)
{
	char out[32];
	size_t n;

	(void)state;
	n = gdb_frame("a$b", 3, out, sizeof(out));
	/* 'a' 0x61 + '}' 0x7d + 0x04 + 'b' 0x62 = 0x144 -> 0x44 */
	assert_int_equal(n, 8);
	assert_memory_equal(out,
			    "$a}\x04"
			    "b#44",
			    8);
	assert_int_equal(gdb_frame("abcdef", 6, out, 8), 0);
}

/* --- registers --- */

static void test_regs_layout(void **state)
{
	(void)state;
	assert_int_equal(gdb_reg_size(GDB_RAX), 8);
	assert_int_equal(gdb_reg_size(GDB_RIP), 8);
	assert_int_equal(gdb_reg_size(GDB_EFLAGS), 4);
	assert_int_equal(gdb_reg_size(GDB_GS), 4);
	assert_int_equal(gdb_reg_size(GDB_FS_BASE), 8);
	assert_int_equal(gdb_reg_size(GDB_EFER), 8);
	assert_int_equal(gdb_reg_size(GDB_X87_FIRST), 10);
	assert_int_equal(gdb_reg_size(GDB_ALL_REG_COUNT - 1), 4); /* mxcsr */
	assert_int_equal(gdb_reg_size(GDB_ALL_REG_COUNT), 0);
	/* 17 * 8 + 7 * 4 + 8 * 8 bytes. */
	assert_int_equal(gdb_regs_hex_len(), 2 * (17 * 8 + 7 * 4 + 8 * 8));
	/* The XML numbers what gdb_regs.h numbers. */
	assert_non_null(
		strstr(gdb_target_xml,
		       "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\" regnum=\"32\"/>"));
	assert_non_null(
		strstr(gdb_target_xml,
		       "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"24\"/>"));
	assert_non_null(strstr(gdb_target_xml, "<reg name=\"cr0\" bitsize=\"64\" type=\"int64\" "
					       "regnum=\"26\" group=\"system\"/>"));
	assert_non_null(strstr(gdb_target_xml, "<architecture>i386:x86-64</architecture>"));
}

static void test_regs_round_trip(void **state)
{
	static char hex[1024];
	struct gdb_regs a, b;

	(void)state;
	for (unsigned n = 0; n < GDB_REG_COUNT; n++) {
		a.r[n] = 0x0102030405060708ull * (n + 1);
		if (gdb_reg_size(n) == 4)
			a.r[n] &= 0xffffffffu; /* the protocol's width */
	}
	a.r[GDB_EFLAGS] = 0x246;
	a.r[GDB_CS] = 0x8;
	size_t len = gdb_regs_to_hex(&a, hex);
	assert_int_equal(len, gdb_regs_hex_len());
	/* Little-endian: rax = 0x0102030405060708. */
	assert_memory_equal(hex, "0807060504030201", 16);
	/* eflags follows rip: 17 registers of 16 digits. */
	assert_memory_equal(hex + 17 * 16, "46020000", 8);
	memset(&b, 0, sizeof(b));
	assert_true(gdb_regs_from_hex(&b, hex, len));
	assert_memory_equal(&a, &b, sizeof(a));
	/* Wrong length or a bad digit: nothing changes. */
	assert_false(gdb_regs_from_hex(&b, hex, len - 2));
	hex[3] = 'g';
	b.r[GDB_RAX] = 7;
	assert_false(gdb_regs_from_hex(&b, hex, len));
	assert_int_equal(b.r[GDB_RAX], 7);
	/* An x87 register reads as unavailable and cannot be written. */
	assert_int_equal(gdb_reg_to_hex(&a, GDB_X87_FIRST, hex), 20);
	assert_memory_equal(hex, "xxxxxxxxxxxxxxxxxxxx", 20);
	assert_false(gdb_reg_from_hex(&b, GDB_X87_FIRST, "00000000000000000000", 20));
}

/* --- commands --- */

static void test_malformed_packet_gets_nak_and_stub_survives(void **state)
{
	(void)state;
	feed("$g#00");
	assert_string_equal(fake.out, "-");
	command("qAttached");
	assert_reply("1");
	/* A NAK from gdb resends the last reply. */
	feed("-");
	assert_string_equal(fake.out, "$1#31");
}

static void test_qsupported_and_unknown(void **state)
{
	(void)state;
	command("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	assert_reply("PacketSize=1000;qXfer:features:read+;vContSupported+;swbreak+;hwbreak+");
	command("vMustReplyEmpty");
	assert_reply("");
	command("!");
	assert_reply("");
	command("vCont?");
	assert_reply("vCont;c;C;s;S");
}

static void test_xfer_target_xml_in_pieces(void **state)
{
	static char got[8192];
	size_t total = strlen(gdb_target_xml), at = 0;

	(void)state;
	for (;;) {
		char q[64];

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,200", at);
		command(q);
		/* "+$" then 'm' or 'l' then data then "#cs". */
		size_t data_len = fake.out_len - 2 - 1 - 3;
		assert_true(data_len <= 0x200);
		memcpy(got + at, fake.out + 3, data_len);
		at += data_len;
		if (fake.out[2] == 'l')
			break;
		assert_int_equal(fake.out[2], 'm');
	}
	assert_int_equal(at, total);
	assert_memory_equal(got, gdb_target_xml, total);
	command("qXfer:features:read:other.xml:0,10");
	assert_reply("E00");
}

static void test_stop_reply_and_threads(void **state)
{
	(void)state;
	command("?");
	assert_reply("T05thread:1;");
	command("qfThreadInfo");
	assert_reply("m1,2");
	command("qsThreadInfo");
	assert_reply("l");
	command("T2");
	assert_reply("OK");
	command("T3");
	assert_reply("E01");
	command("Hg3");
	assert_reply("E01");
	command("Hg2");
	assert_reply("OK");
	command("Hc-1");
	assert_reply("OK");
	command("qC");
	assert_reply("QC1");
}

static void test_registers_per_thread(void **state)
{
	char r[1024];

	(void)state;
	fake.regs[1].r[GDB_RIP] = 0x100234;
	fake.regs[1].r[GDB_EFLAGS] = 0x202;
	command("Hg2");
	command("p10");
	assert_reply("3402100000000000");
	command("p11");
	assert_reply("02020000");
	command("p20"); /* st0 */
	assert_reply("xxxxxxxxxxxxxxxxxxxx");
	command("p99");
	assert_reply("E01");
	command("P0=efbeadde00000000");
	assert_reply("OK");
	assert_int_equal(fake.regs[1].r[GDB_RAX], 0xdeadbeef);
	assert_int_equal(fake.regs[0].r[GDB_RAX], 0);
	command("P0=efbe");
	assert_reply("E01");
	command("P20=00000000000000000000");
	assert_reply("E01");
	command("g");
	gdb_regs_to_hex(&fake.regs[1], r);
	r[gdb_regs_hex_len()] = '\0';
	assert_reply(r);
	/* G writes all of them. */
	fake.regs[0].r[GDB_R15] = 0x1515;
	gdb_regs_to_hex(&fake.regs[0], r + 1);
	r[0] = 'G';
	r[1 + gdb_regs_hex_len()] = '\0';
	command(r);
	assert_reply("OK");
	assert_int_equal(fake.regs[1].r[GDB_R15], 0x1515);
	command("Gabc");
	assert_reply("E01");
}

static void test_memory(void **state)
{
	(void)state;
	fake.mem[0x10] = 0xcc;
	fake.mem[0x11] = 0x5a;
	command("m10010,2");
	assert_reply("cc5a");
	command("M10012,3:010203");
	assert_reply("OK");
	assert_int_equal(fake.mem[0x14], 3);
	/* Unmapped, straddling the end, or over the bound. */
	command("m0,4");
	assert_reply("E14");
	command("m1fffe,4");
	assert_reply("E14");
	command("m10000,801");
	assert_reply("E01");
	command("m10000");
	assert_reply("E01");
	command("m10000,800");
	assert_int_equal(fake.out_len, 1 + 1 + 0x1000 + 3);
	command("M10012,3:0102");
	assert_reply("E01");
	command("M10012,1:zz");
	assert_reply("E01");
	command("M0,1:00");
	assert_reply("E14");
	/* 17 hex digits overflow a 64-bit address. */
	command("m10000000000000000,1");
	assert_reply("E01");
}

static void test_breakpoints(void **state)
{
	(void)state;
	command("Z0,10020,1");
	assert_reply("OK");
	assert_int_equal(fake.last_kind, GDB_BREAK_SOFTWARE);
	assert_true(fake.last_insert);
	assert_int_equal(fake.last_addr, 0x10020);
	command("z0,10020,1");
	assert_reply("OK");
	assert_false(fake.last_insert);
	command("Z2,10040,4");
	assert_reply("OK");
	assert_int_equal(fake.last_kind, GDB_WATCH_WRITE);
	assert_int_equal(fake.last_len, 4);
	command("Z3,10040,4");
	assert_reply("");
	command("Z1,0,1");
	assert_reply("E01");
	command("Z5,10040,4");
	assert_reply("E01");
	command("Z0,10020");
	assert_reply("E01");
}

static void test_continue_step_interrupt(void **state)
{
	(void)state;
	/* Ctrl-C while stopped: nothing. */
	feed("\x03");
	assert_int_equal(fake.interrupts, 0);
	command("c");
	assert_string_equal(fake.out, "+");
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.step_thread, 0);
	/* While running a packet gets an error, Ctrl-C the interrupt. */
	command("g");
	assert_reply("E01");
	feed("\x03");
	assert_int_equal(fake.interrupts, 1);
	fake.out_len = 0;
	gdbstub_stopped(&stub, &(struct gdb_stop){ .thread = 2, .signal = GDB_SIGINT });
	assert_string_equal(fake.out, "$T02thread:2;#d5");
	/* The stopped thread is now the register thread: s steps it. */
	command("s");
	assert_int_equal(fake.step_thread, 2);
	fake.out_len = 0;
	gdbstub_stopped(&stub, &(struct gdb_stop){ .thread = 2,
						   .signal = GDB_SIGTRAP,
						   .reason = GDB_STOP_WATCH,
						   .addr = 0x10040 });
	fake.out[fake.out_len - 3] = '\0';
	assert_string_equal(fake.out, "$T05thread:2;watch:10040;");
	command("vCont;s:1;c");
	assert_string_equal(fake.out, "+");
	assert_int_equal(fake.step_thread, 1);
	fake.out_len = 0;
	gdbstub_stopped(&stub, &(struct gdb_stop){ .thread = 1,
						   .signal = GDB_SIGTRAP,
						   .reason = GDB_STOP_SWBREAK });
	fake.out[fake.out_len - 3] = '\0';
	assert_string_equal(fake.out, "$T05thread:1;swbreak:;");
	command("vCont;c");
	assert_int_equal(fake.step_thread, 0);
	gdbstub_stopped(&stub, &(struct gdb_stop){ .thread = 1, .signal = GDB_SIGTRAP });
	/* Malformed vCont: two steppers, a bad thread, nothing at all. */
	unsigned resumes = fake.resumes;
	command("vCont;s:1;s:2");
	assert_reply("E01");
	command("vCont;c:7");
	assert_reply("E01");
	command("vCont");
	assert_reply("E01");
	command("vCont;x");
	assert_reply("E01");
	assert_int_equal(fake.resumes, resumes);
	command("c1234");
	assert_reply("E01");
}

static void test_detach_and_kill(void **state)
{
	(void)state;
	command("D");
	assert_reply("OK");
	assert_int_equal(fake.detaches, 1);
	setup(NULL);
	command("k");
	assert_string_equal(fake.out, "+");
	assert_int_equal(fake.kills, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_accepts_good_checksum),
		cmocka_unit_test(test_rx_refuses_bad_checksum_and_recovers),
		cmocka_unit_test(test_rx_unescapes),
		cmocka_unit_test(test_rx_oversize_is_refused),
		cmocka_unit_test(test_rx_control_bytes_between_packets),
		cmocka_unit_test(test_frame_escapes),
		cmocka_unit_test(test_regs_layout),
		cmocka_unit_test(test_regs_round_trip),
		cmocka_unit_test_setup(test_malformed_packet_gets_nak_and_stub_survives, setup),
		cmocka_unit_test_setup(test_qsupported_and_unknown, setup),
		cmocka_unit_test_setup(test_xfer_target_xml_in_pieces, setup),
		cmocka_unit_test_setup(test_stop_reply_and_threads, setup),
		cmocka_unit_test_setup(test_registers_per_thread, setup),
		cmocka_unit_test_setup(test_memory, setup),
		cmocka_unit_test_setup(test_breakpoints, setup),
		cmocka_unit_test_setup(test_continue_step_interrupt, setup),
		cmocka_unit_test_setup(test_detach_and_kill, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
