/* Unit tests for the VM state stream (vmm/migrate/stream.c, the field
 * codec vmm/dev/state_io.c) and every device model's save/load: the
 * format's refusals (truncation, bit flips, version, unknown mandatory
 * records, bad padding, bytes after END, a writer that runs out of room)
 * and, per device, a round trip: a device driven into a non-trivial state
 * through its normal interface is saved, loaded into a fresh instance on a
 * clock that reads differently, and both then behave alike (the same
 * register reads, next timer event and interrupt lines); a corrupted
 * state is refused and leaves the device as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/lib/crc32c.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/hpet.h"
#include "vmm/dev/iobus.h"
#include "vmm/dev/mmio.h"
#include "vmm/dev/pci_host.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pit.h"
#include "vmm/dev/rtc.h"
#include "vmm/dev/state_io.h"
#include "vmm/dev/sysctl.h"
#include "vmm/dev/uart.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"
#include "vmm/migrate/stream.h"

#define NS_PER_S 1000000000ull
#define STREAM_BUF 16384
/* The destination's clock reads this much later than the source's. */
#define CLOCK_SHIFT (7 * NS_PER_S + 12345)
#define LINES 32

/* The UART's whole lines go to the host console: none are expected. */
void console_vm_line(const char *vm, const char *text, unsigned len);
void console_vm_line(const char *vm, const char *text, unsigned len)
{
	(void)vm;
	(void)text;
	(void)len;
	fail();
}

/* --- two clocks and two sets of interrupt lines: source (a), copy (b) */

static uint64_t now_a, now_b;

static uint64_t read_clock(void *ctx)
{
	return *(const uint64_t *)ctx;
}

static const struct vclock clock_a = { read_clock, &now_a };
static const struct vclock clock_b = { read_clock, &now_b };

struct lines {
	bool level[LINES];
	unsigned edges[LINES];
};
static struct lines lines_a, lines_b;

static void set_line(void *ctx, unsigned line, bool level)
{
	struct lines *l = ctx;

	assert_true(line < LINES);
	if (level && !l->level[line])
		l->edges[line]++;
	l->level[line] = level;
}

static const struct virq virq_a = { .set = set_line, .ctx = &lines_a };
static const struct virq virq_b = { .set = set_line, .ctx = &lines_b };

static void assert_same_lines(void)
{
	assert_memory_equal(lines_a.level, lines_b.level, sizeof(lines_a.level));
}

static void advance(uint64_t ns)
{
	now_a += ns;
	now_b += ns;
}

/* The next event of a timer on each clock, as time from its now. */
static void assert_same_next(struct vtimer ta, struct vtimer tb)
{
	uint64_t na = ta.next_event(ta.dev), nb = tb.next_event(tb.dev);

	if (na == VTIME_NEVER) {
		assert_int_equal(nb, VTIME_NEVER);
		return;
	}
	assert_int_not_equal(nb, VTIME_NEVER);
	assert_int_equal((int64_t)(na - now_a), (int64_t)(nb - now_b));
}

static void update_both(struct vtimer ta, struct vtimer tb)
{
	ta.update(ta.dev, now_a);
	tb.update(tb.dev, now_b);
}

/* --- a one-record stream: written at now_a, read back at now_b ------- */

static uint8_t stream_buf[STREAM_BUF];
static struct stream_writer sw;
static struct state_writer body_w;
static struct stream_reader sr;
static long stream_len;

static void setup_clocks(void)
{
	now_a = 5 * NS_PER_S + 777;
	now_b = now_a + CLOCK_SHIFT;
	memset(&lines_a, 0, sizeof(lines_a));
	memset(&lines_b, 0, sizeof(lines_b));
}

static struct state_writer *record_begin(void)
{
	assert_int_equal(stream_writer_init(&sw, stream_buf, sizeof(stream_buf), now_a), STREAM_OK);
	stream_record_begin(&sw, &body_w);
	return &body_w;
}

/* Seals the record, ends the stream and reads the record back. */
static struct state_reader *record_reopen(uint32_t type)
{
	static struct stream_record rec;

	assert_int_equal(stream_record_end(&sw, type, 0, &body_w), STREAM_OK);
	stream_len = stream_writer_finish(&sw);
	assert_true(stream_len > 0);
	assert_int_equal(stream_reader_init(&sr, stream_buf, (size_t)stream_len, now_b), STREAM_OK);
	assert_int_equal(stream_next(&sr, &rec), STREAM_OK);
	assert_int_equal(rec.type, type);
	return &rec.body;
}

static void expect_end(void)
{
	struct stream_record rec;

	assert_int_equal(stream_next(&sr, &rec), STREAM_DONE);
}

/* A saved body outside a stream, to corrupt field by field. */
static uint8_t raw[STREAM_BUF];
static size_t raw_len;

static struct state_writer *raw_begin(void)
{
	state_writer_init(&body_w, raw, sizeof(raw), now_a);
	return &body_w;
}

static struct state_reader *raw_reader(size_t len)
{
	static struct state_reader r;

	state_reader_init(&r, raw, len, now_b);
	return &r;
}

static void raw_end(void)
{
	assert_false(body_w.overflow);
	raw_len = body_w.len;
}

/* --- the format -------------------------------------------------------- */

/* A stream of two records (the second optional) and END. */
static long sample_stream(uint8_t *buf, size_t cap)
{
	struct stream_writer w;
	struct state_writer b;

	if (stream_writer_init(&w, buf, cap, now_a))
		return -1;
	stream_record_begin(&w, &b);
	state_put_u32(&b, 0x11223344);
	state_put_u8(&b, 7); /* 5 bytes: 3 of padding */
	stream_record_end(&w, STREAM_VM_CONFIG, 0, &b);
	stream_record_begin(&w, &b);
	state_put_u64(&b, 42);
	stream_record_end(&w, STREAM_DEV_PIC | STREAM_OPTIONAL, 3, &b);
	return stream_writer_finish(&w);
}

static int read_all(const uint8_t *buf, size_t len, unsigned *records)
{
	struct stream_reader r;
	struct stream_record rec;
	int st = stream_reader_init(&r, buf, len, now_b);

	*records = 0;
	while (st == STREAM_OK) {
		st = stream_next(&r, &rec);
		if (st == STREAM_OK)
			(*records)++;
	}
	if (st < 0) {
		assert_non_null(r.why);
		assert_int_equal(r.error, st);
	}
	return st;
}

static void test_stream_round_trip(void **state)
{
	struct stream_reader r;
	struct stream_record rec;
	(void)state;

	setup_clocks();
	stream_len = sample_stream(stream_buf, sizeof(stream_buf));
	/* Header 16, record 16 + 8, record 16 + 8, END 16. */
	assert_int_equal(stream_len, 80);
	assert_int_equal(stream_len % STREAM_ALIGN, 0);
	assert_int_equal(stream_reader_init(&r, stream_buf, (size_t)stream_len, now_b), STREAM_OK);
	assert_int_equal(stream_next(&r, &rec), STREAM_OK);
	assert_int_equal(rec.type, STREAM_VM_CONFIG);
	assert_int_equal(state_get_u32(&rec.body), 0x11223344);
	assert_int_equal(state_get_u8(&rec.body), 7);
	assert_int_equal(state_reader_done(&rec.body), 0);
	assert_int_equal(stream_next(&r, &rec), STREAM_OK);
	assert_int_equal(rec.type, STREAM_DEV_PIC); /* the optional bit is the reader's */
	assert_int_equal(rec.instance, 3);
	assert_int_equal(state_get_u64(&rec.body), 42);
	assert_int_equal(stream_next(&r, &rec), STREAM_DONE);
}

static void test_writer_never_overruns(void **state)
{
	static uint8_t buf[256];
	(void)state;

	setup_clocks();
	long full = sample_stream(buf, sizeof(buf));
	assert_true(full > 0);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(buf, 0xa5, sizeof(buf));
		assert_true(sample_stream(buf, cap) < 0);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xa5);
	}
	assert_int_equal(sample_stream(buf, (size_t)full), full);
}

static void test_every_truncation_refused(void **state)
{
	unsigned n;
	(void)state;

	setup_clocks();
	stream_len = sample_stream(stream_buf, sizeof(stream_buf));
	for (long len = 0; len < stream_len; len++)
		assert_int_equal(read_all(stream_buf, (size_t)len, &n), STREAM_ERR_TRUNCATED);
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_DONE);
	assert_int_equal(n, 2);
}

static void test_every_bit_flip_refused(void **state)
{
	unsigned n;
	(void)state;

	setup_clocks();
	stream_len = sample_stream(stream_buf, sizeof(stream_buf));
	for (long bit = 0; bit < stream_len * 8; bit++) {
		stream_buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(read_all(stream_buf, (size_t)stream_len, &n) < 0);
		stream_buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* The header's parts name their own error. */
	stream_buf[0] ^= 1;
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_ERR_MAGIC);
	stream_buf[0] ^= 1;
	stream_buf[8] = STREAM_VERSION + 1;
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_ERR_VERSION);
	stream_buf[8] = STREAM_VERSION;
	stream_buf[16 + 12] ^= 0x80; /* the first record's CRC */
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_ERR_CHECKSUM);
	assert_string_equal(stream_status_name(STREAM_ERR_CHECKSUM), "checksum mismatch");
}

/* A record of type with an empty body, then END. */
static long one_record(uint32_t type, bool nonzero_padding)
{
	struct stream_writer w;
	struct state_writer b;

	stream_writer_init(&w, stream_buf, sizeof(stream_buf), now_a);
	stream_record_begin(&w, &b);
	state_put_u8(&b, 1);
	stream_record_end(&w, type, 0, &b);
	if (nonzero_padding) {
		/* Pad byte set, and the CRC still right: only the padding is bad. */
		stream_buf[STREAM_HEADER_SIZE + STREAM_RECORD_HEADER_SIZE + 1] = 1;
	}
	return stream_writer_finish(&w);
}

static void test_unknown_records(void **state)
{
	unsigned n;
	(void)state;

	setup_clocks();
	stream_len = one_record(0x7777 | STREAM_OPTIONAL, false);
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_DONE);
	assert_int_equal(n, 0); /* skipped */
	stream_len = one_record(0x7777, false);
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_ERR_UNKNOWN);
	stream_len = one_record(STREAM_VCPU, true);
	assert_int_equal(read_all(stream_buf, (size_t)stream_len, &n), STREAM_ERR_MALFORMED);
}

/* The record header as docs/STATE_STREAM.md gives it: the CRC field is
 * the CRC-32C (version 2) of the type, instance and length and the body. */
static void test_record_checksum_is_crc32c(void **state)
{
	const uint8_t *hdr = stream_buf + STREAM_HEADER_SIZE;
	const uint8_t body = 1;
	uint32_t field;
	(void)state;

	setup_clocks();
	stream_len = one_record(0x7777 | STREAM_OPTIONAL, false);
	assert_int_equal(stream_buf[8], 2);
	memcpy(&field, hdr + 12, sizeof(field)); /* little-endian host */
	assert_int_equal(field, crc32c(crc32c(CRC32C_INIT, hdr, 12), &body, 1));
	assert_int_not_equal(field, crc32c(CRC32C_INIT, hdr, 12));
}

/* The writer writes every byte up to the stream's length, padding
 * included: a save's buffer need not be zeroed first (mem_image.c). */
static void test_writer_writes_every_byte(void **state)
{
	static uint8_t clean[STREAM_BUF], dirty[STREAM_BUF];
	(void)state;

	setup_clocks();
	memset(dirty, 0xa5, sizeof(dirty));
	long len = sample_stream(clean, sizeof(clean));
	assert_true(len > 0);
	assert_int_equal(sample_stream(dirty, sizeof(dirty)), len);
	assert_memory_equal(clean, dirty, (size_t)len);
}

static void test_end_must_be_last_and_empty(void **state)
{
	unsigned n;
	(void)state;

	setup_clocks();
	stream_len = sample_stream(stream_buf, sizeof(stream_buf));
	memset(stream_buf + stream_len, 0, 8);
	assert_int_equal(read_all(stream_buf, (size_t)stream_len + 8, &n), STREAM_ERR_MALFORMED);

	struct stream_writer w;
	struct state_writer b;
	stream_writer_init(&w, stream_buf, sizeof(stream_buf), now_a);
	stream_record_begin(&w, &b);
	state_put_u64(&b, 1);
	stream_record_end(&w, STREAM_END, 0, &b);
	assert_int_equal(read_all(stream_buf, w.len, &n), STREAM_ERR_MALFORMED);
	/* Nothing can be written after END. */
	w.len = STREAM_HEADER_SIZE;
	assert_true(stream_writer_finish(&w) > 0);
	stream_record_begin(&w, &b);
	assert_int_equal(stream_record_end(&w, STREAM_VCPU, 0, &b), STREAM_ERR_NO_SPACE);
}

static void test_field_reader_refusals(void **state)
{
	struct state_writer w;
	struct state_reader r;
	uint8_t buf[16];
	(void)state;

	state_writer_init(&w, buf, 3, 100);
	state_put_u32(&w, 1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);

	buf[0] = 2;
	state_reader_init(&r, buf, 1, 0);
	state_get_bool(&r);
	assert_int_equal(state_reader_done(&r), -1);
	assert_string_equal(r.refused, "state flag neither 0 nor 1");

	/* Times move to the reader's clock; a time before its zero is refused. */
	state_writer_init(&w, buf, sizeof(buf), 1000);
	state_put_time(&w, 400);
	state_put_time(&w, VTIME_NEVER);
	state_reader_init(&r, buf, w.len, 5000);
	assert_int_equal(state_get_time(&r), 4400);
	assert_int_equal(state_get_time(&r), VTIME_NEVER);
	assert_int_equal(state_reader_done(&r), 0);
	state_reader_init(&r, buf, 8, 599);
	state_get_time(&r);
	assert_int_equal(state_reader_done(&r), -1);
	state_reader_init(&r, buf, 8, 600);
	assert_int_equal(state_get_time(&r), 0);
	assert_int_equal(state_reader_done(&r), 0);
}

/* --- UART ---------------------------------------------------------------- */

#define COM1 UART_COM1_BASE
#define UART_LINE 4

static void uart_pair(struct uart *a, struct io_bus *bus_a, struct uart *b, struct io_bus *bus_b)
{
	*bus_a = (struct io_bus){ 0 };
	*bus_b = (struct io_bus){ 0 };
	uart_init(a, "vm", NULL);
	uart_set_irq(a, &virq_a, UART_LINE);
	assert_int_equal(uart_attach(a, bus_a, COM1), 0);
	uart_init(b, "vm", NULL);
	uart_set_irq(b, &virq_b, UART_LINE);
	assert_int_equal(uart_attach(b, bus_b, COM1), 0);
}

static void uart_drive(struct io_bus *bus, struct uart *u)
{
	io_bus_write(bus, COM1 + 3, 1, 0x80); /* DLAB */
	io_bus_write(bus, COM1 + 0, 1, 0x0c);
	io_bus_write(bus, COM1 + 1, 1, 0x00);
	io_bus_write(bus, COM1 + 3, 1, 0x03);
	io_bus_write(bus, COM1 + 2, 1, 0x01);
	io_bus_write(bus, COM1 + 4, 1, 0x0b); /* DTR, RTS, OUT2 */
	io_bus_write(bus, COM1 + 7, 1, 0x5a);
	io_bus_write(bus, COM1 + 1, 1, 0x01); /* RDA interrupt */
	for (const char *s = "xyz"; *s; s++)
		assert_true(uart_receive(u, (uint8_t)*s));
	assert_int_equal(io_bus_read(bus, COM1, 1), 'x'); /* the FIFO now starts at 1 */
	for (const char *s = "hel"; *s; s++)
		io_bus_write(bus, COM1, 1, (uint8_t)*s);
}

static void test_uart_round_trip(void **state)
{
	static struct uart a, b;
	static struct io_bus bus_a, bus_b;
	static const uint16_t regs[] = { 5, 2, 1, 3, 4, 7, 6, 0, 5, 0, 5, 0, 5, 2 };
	(void)state;

	setup_clocks();
	uart_pair(&a, &bus_a, &b, &bus_b);
	uart_drive(&bus_a, &a);
	assert_true(lines_a.level[UART_LINE]);
	uart_save(&a, record_begin());
	assert_int_equal(uart_load(&b, record_reopen(STREAM_DEV_UART)), 0);
	expect_end();
	assert_same_lines();
	assert_int_equal(b.out.len, 3);
	assert_memory_equal(b.out.line, "hel", 3);
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(io_bus_read(&bus_a, COM1 + regs[i], 1),
				 io_bus_read(&bus_b, COM1 + regs[i], 1));
	assert_same_lines();
	assert_false(lines_b.level[UART_LINE]); /* the FIFO drained: y, z */
	/* The divisor latch came across. */
	io_bus_write(&bus_b, COM1 + 3, 1, 0x83);
	assert_int_equal(io_bus_read(&bus_b, COM1, 1), 0x0c);
}

static void test_uart_refusals(void **state)
{
	static struct uart a, b, before;
	static struct io_bus bus_a, bus_b;
	(void)state;

	setup_clocks();
	uart_pair(&a, &bus_a, &b, &bus_b);
	uart_drive(&bus_a, &a);
	uart_save(&a, raw_begin());
	raw_end();
	before = b;
	raw[0] = 0xff; /* IER reserved bits */
	assert_int_equal(uart_load(&b, raw_reader(raw_len)), -1);
	raw[0] = 0x01;
	raw[16] = UART_RX_FIFO + 1; /* the FIFO count, after 7 registers, a flag, 8 bytes */
	assert_int_equal(uart_load(&b, raw_reader(raw_len)), -1);
	raw[16] = 2;
	assert_int_equal(uart_load(&b, raw_reader(raw_len - 1)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
	assert_int_equal(uart_load(&b, raw_reader(raw_len)), 0);
}

/* --- PIC ----------------------------------------------------------------- */

static void pic_program(struct io_bus *bus, uint16_t base, uint8_t vector, uint8_t icw3)
{
	io_bus_write(bus, base, 1, 0x11); /* ICW1: ICW4 needed, cascade */
	io_bus_write(bus, base + 1, 1, vector);
	io_bus_write(bus, base + 1, 1, icw3);
	io_bus_write(bus, base + 1, 1, 0x01); /* ICW4: 8086 */
}

static void pic_drive(struct pic *p, struct io_bus *bus)
{
	pic_program(bus, PIC_MASTER_BASE, 0x20, 0x04);
	pic_program(bus, PIC_SLAVE_BASE, 0x28, 0x02);
	io_bus_write(bus, PIC_MASTER_BASE + 1, 1, 0xf8); /* IRQ 0, 1, 2 open */
	io_bus_write(bus, PIC_SLAVE_BASE + 1, 1, 0xfd);	 /* IRQ 9 open */
	io_bus_write(bus, PIC_ELCR_BASE + 1, 1, 0x02);	 /* IRQ 9 level */
	pic_set_irq(p, 1, true);
	assert_int_equal(pic_acknowledge(p), 0x21); /* IRQ 1 in service */
	pic_set_irq(p, 9, true);
	pic_set_irq(p, 0, true);
	pic_set_irq(p, 0, false);
	io_bus_write(bus, PIC_MASTER_BASE, 1, 0x0b); /* OCW3: read ISR */
}

static void test_pic_round_trip(void **state)
{
	static struct pic a, b;
	static struct io_bus bus_a, bus_b;
	static const uint16_t ports[] = {
		PIC_MASTER_BASE,    PIC_MASTER_BASE + 1, PIC_SLAVE_BASE,
		PIC_SLAVE_BASE + 1, PIC_ELCR_BASE,	 PIC_ELCR_BASE + 1
	};
	(void)state;

	setup_clocks();
	pic_init(&a);
	pic_init(&b);
	assert_int_equal(pic_attach(&a, &bus_a), 0);
	assert_int_equal(pic_attach(&b, &bus_b), 0);
	pic_drive(&a, &bus_a);
	pic_save(&a, record_begin());
	assert_int_equal(pic_load(&b, record_reopen(STREAM_DEV_PIC)), 0);
	expect_end();
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		assert_int_equal(io_bus_read(&bus_a, ports[i], 1),
				 io_bus_read(&bus_b, ports[i], 1));
	assert_int_equal(io_bus_read(&bus_b, PIC_MASTER_BASE, 1), 0x02); /* ISR: IRQ 1 */
	/* The same interrupts come out in the same order. */
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pic_has_interrupt(&a), pic_has_interrupt(&b));
		if (!pic_has_interrupt(&a))
			break;
		assert_int_equal(pic_acknowledge(&a), pic_acknowledge(&b));
		io_bus_write(&bus_a, PIC_MASTER_BASE, 1, 0x20); /* EOI */
		io_bus_write(&bus_b, PIC_MASTER_BASE, 1, 0x20);
	}
}

static void test_pic_refusals(void **state)
{
	static struct pic a, b, before;
	static struct io_bus bus_a;
	(void)state;

	setup_clocks();
	pic_init(&a);
	pic_init(&b);
	bus_a = (struct io_bus){ 0 };
	assert_int_equal(pic_attach(&a, &bus_a), 0);
	pic_drive(&a, &bus_a);
	pic_save(&a, raw_begin());
	raw_end();
	before = b;
	raw[4] = 0x01; /* the master's ELCR on IRQ 0, which cannot be level */
	assert_int_equal(pic_load(&b, raw_reader(raw_len)), -1);
	raw[4] = 0;
	raw[7] = 9; /* lowest priority input 9 */
	assert_int_equal(pic_load(&b, raw_reader(raw_len)), -1);
	raw[7] = 7;
	raw[8] = 1; /* initialization step 1 does not exist */
	assert_int_equal(pic_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
	raw[8] = 0;
	assert_int_equal(pic_load(&b, raw_reader(raw_len)), 0);
}

/* --- PIT ----------------------------------------------------------------- */

static void test_pit_round_trip(void **state)
{
	static struct pit a, b;
	static struct io_bus bus_a, bus_b;
	(void)state;

	setup_clocks();
	bus_a = (struct io_bus){ 0 };
	bus_b = (struct io_bus){ 0 };
	pit_init(&a, &clock_a, virq_a);
	pit_init(&b, &clock_b, virq_b);
	assert_int_equal(pit_attach(&a, &bus_a), 0);
	assert_int_equal(pit_attach(&b, &bus_b), 0);
	struct vtimer ta = pit_timer(&a), tb = pit_timer(&b);

	io_bus_write(&bus_a, PIT_BASE + 3, 1, 0x34); /* counter 0: mode 2, LSB then MSB */
	io_bus_write(&bus_a, PIT_BASE, 1, 0xa9);
	io_bus_write(&bus_a, PIT_BASE, 1, 0x04);     /* 1193: ~1 kHz */
	io_bus_write(&bus_a, PIT_PORT_B, 1, 0x03);   /* gate 2 on, speaker */
	io_bus_write(&bus_a, PIT_BASE + 3, 1, 0xb0); /* counter 2: mode 0 */
	io_bus_write(&bus_a, PIT_BASE + 2, 1, 0x00);
	io_bus_write(&bus_a, PIT_BASE + 2, 1, 0x80);
	advance(2500000);
	ta.update(ta.dev, now_a);
	io_bus_write(&bus_a, PIT_BASE + 3, 1, 0x80); /* latch counter 2 */
	(void)io_bus_read(&bus_a, PIT_BASE + 2, 1);  /* its LSB: the MSB waits */
	advance(1000);

	unsigned edges_at_save = lines_a.edges[PIT_IRQ];

	assert_true(edges_at_save > 0);
	pit_save(&a, record_begin());
	assert_int_equal(pit_load(&b, record_reopen(STREAM_DEV_PIT)), 0);
	expect_end();
	assert_same_next(ta, tb);
	assert_int_equal(io_bus_read(&bus_a, PIT_BASE + 2, 1),
			 io_bus_read(&bus_b, PIT_BASE + 2, 1));
	for (unsigned step = 0; step < 5; step++) {
		advance(333333);
		update_both(ta, tb);
		assert_same_next(ta, tb);
		assert_int_equal(lines_a.edges[PIT_IRQ] - edges_at_save, lines_b.edges[PIT_IRQ]);
		io_bus_write(&bus_a, PIT_BASE + 3, 1, 0x00); /* latch counter 0 */
		io_bus_write(&bus_b, PIT_BASE + 3, 1, 0x00);
		for (unsigned i = 0; i < 2; i++)
			assert_int_equal(io_bus_read(&bus_a, PIT_BASE, 1),
					 io_bus_read(&bus_b, PIT_BASE, 1));
		assert_int_equal(io_bus_read(&bus_a, PIT_PORT_B, 1) & ~0x10u,
				 io_bus_read(&bus_b, PIT_PORT_B, 1) & ~0x10u);
	}
}

static void test_pit_refusals(void **state)
{
	static struct pit a, b, before;
	static struct io_bus bus_a;
	(void)state;

	setup_clocks();
	bus_a = (struct io_bus){ 0 };
	pit_init(&a, &clock_a, virq_a);
	pit_init(&b, &clock_b, virq_b);
	assert_int_equal(pit_attach(&a, &bus_a), 0);
	pit_save(&a, raw_begin());
	raw_end();
	before = b;
	raw[0] = 6; /* counter 0's mode */
	assert_int_equal(pit_load(&b, raw_reader(raw_len)), -1);
	raw[0] = 2;
	raw[3] = 0; /* counter 0's GATE, tied high */
	assert_int_equal(pit_load(&b, raw_reader(raw_len)), -1);
	raw[3] = 1;
	raw[15] = 0; /* counter 0's count (bytes 13-16): 0 */
	assert_int_equal(pit_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
	raw[15] = 1; /* 65536 */
	assert_int_equal(pit_load(&b, raw_reader(raw_len)), 0);
}

/* --- RTC ----------------------------------------------------------------- */

static uint8_t cmos_read(struct io_bus *bus, uint8_t index)
{
	io_bus_write(bus, RTC_BASE, 1, index);
	return (uint8_t)io_bus_read(bus, RTC_BASE + 1, 1);
}

static void test_rtc_round_trip(void **state)
{
	static struct rtc a, b;
	static struct io_bus bus_a, bus_b;
	(void)state;

	setup_clocks();
	bus_a = (struct io_bus){ 0 };
	bus_b = (struct io_bus){ 0 };
	rtc_init(&a, &clock_a, virq_a, 1700000000, 64ull << 20);
	rtc_init(&b, &clock_b, virq_b, 1, 1ull << 20);
	assert_int_equal(rtc_attach(&a, &bus_a), 0);
	assert_int_equal(rtc_attach(&b, &bus_b), 0);
	struct vtimer ta = rtc_timer(&a), tb = rtc_timer(&b);

	io_bus_write(&bus_a, RTC_BASE, 1, 0x0a);
	io_bus_write(&bus_a, RTC_BASE + 1, 1, 0x26); /* 1024 Hz periodic */
	io_bus_write(&bus_a, RTC_BASE, 1, 0x0b);
	io_bus_write(&bus_a, RTC_BASE + 1, 1, 0x42); /* PIE, 24-hour, BCD */
	io_bus_write(&bus_a, RTC_BASE, 1, 0x40);
	io_bus_write(&bus_a, RTC_BASE + 1, 1, 0x99); /* NVRAM */
	advance(3 * NS_PER_S / 2 + 100);
	ta.update(ta.dev, now_a);
	assert_true(lines_a.level[RTC_IRQ]);

	rtc_save(&a, record_begin());
	assert_int_equal(rtc_load(&b, record_reopen(STREAM_DEV_RTC)), 0);
	expect_end();
	assert_same_lines();
	assert_same_next(ta, tb);
	for (unsigned step = 0; step < 4; step++) {
		for (uint8_t i = 0; i < 0x0e; i++)
			assert_int_equal(cmos_read(&bus_a, i), cmos_read(&bus_b, i));
		assert_int_equal(cmos_read(&bus_a, 0x40), 0x99);
		assert_int_equal(cmos_read(&bus_b, 0x40), 0x99);
		/* 64 MiB came with the CMOS, not from b's own 1 MiB. */
		assert_int_equal(cmos_read(&bus_a, 0x35), cmos_read(&bus_b, 0x35));
		assert_same_lines();
		advance(NS_PER_S / 3);
		update_both(ta, tb);
		assert_same_next(ta, tb);
		assert_same_lines();
	}
}

static void test_rtc_refusals(void **state)
{
	static struct rtc a, b, before;
	(void)state;

	setup_clocks();
	rtc_init(&a, &clock_a, virq_a, 1700000000, 64ull << 20);
	rtc_init(&b, &clock_b, virq_b, 1, 1ull << 20);
	rtc_save(&a, raw_begin());
	raw_end();
	before = b;
	raw[RTC_CMOS_SIZE] = 0x80; /* index past the CMOS */
	assert_int_equal(rtc_load(&b, raw_reader(raw_len)), -1);
	raw[RTC_CMOS_SIZE] = 0;
	raw[raw_len - 1] = 0x7f; /* periodic interrupts owed: billions */
	assert_int_equal(rtc_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
	raw[raw_len - 1] = 0;
	assert_int_equal(rtc_load(&b, raw_reader(raw_len)), 0);
}

/* --- ACPI PM ------------------------------------------------------------- */

static void poweroff(void *ctx)
{
	(void)ctx;
	fail();
}

static void test_acpi_pm_round_trip(void **state)
{
	static struct acpi_pm a, b;
	static struct io_bus bus_a, bus_b;
	static const struct acpi_pm_callbacks cb = { .poweroff = poweroff };
	const uint16_t base = ACPI_PM_BASE_DEFAULT;
	(void)state;

	setup_clocks();
	now_b = now_a; /* the PM timer counts guest time since start */
	bus_a = (struct io_bus){ 0 };
	bus_b = (struct io_bus){ 0 };
	acpi_pm_init(&a, &clock_a, &virq_a, ACPI_PM_SCI_IRQ, &cb);
	acpi_pm_init(&b, &clock_b, &virq_b, ACPI_PM_SCI_IRQ, &cb);
	assert_int_equal(acpi_pm_attach(&a, &bus_a, base), 0);
	assert_int_equal(acpi_pm_attach(&b, &bus_b, base), 0);
	io_bus_write(&bus_a, base + 2, 2, ACPI_PM1_PWRBTN);
	io_bus_write(&bus_a, base + 4, 2, 3u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_BM_RLD);
	acpi_pm_power_button(&a);
	assert_true(lines_a.level[ACPI_PM_SCI_IRQ]);

	acpi_pm_save(&a, record_begin());
	assert_int_equal(acpi_pm_load(&b, record_reopen(STREAM_DEV_ACPI_PM)), 0);
	expect_end();
	assert_same_lines();
	for (unsigned off = 0; off < ACPI_PM_PORTS; off += 2)
		assert_int_equal(io_bus_read(&bus_a, base + off, 2),
				 io_bus_read(&bus_b, base + off, 2));
	io_bus_write(&bus_a, base, 2, ACPI_PM1_PWRBTN);
	io_bus_write(&bus_b, base, 2, ACPI_PM1_PWRBTN);
	assert_false(lines_b.level[ACPI_PM_SCI_IRQ]);
	assert_same_lines();

	struct acpi_pm before = b;
	acpi_pm_save(&a, raw_begin());
	raw_end();
	raw[0] = ACPI_PM1_TMR; /* TMR_STS follows the counter */
	assert_int_equal(acpi_pm_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
}

/* --- HPET ---------------------------------------------------------------- */

#define HPET_PIN 11
#define HPET_ROUTE_CAP (1u << HPET_PIN)
#define HPET_GEN_CONF 0x010
#define HPET_GINTR_STA 0x020
#define HPET_MAIN_CNT 0x0f0
#define HPET_TN_CONF(n) (0x100 + 0x20 * (n))
#define HPET_TN_CMP(n) (0x108 + 0x20 * (n))
#define HPET_INT_LEVEL 0x2u
#define HPET_INT_ENB 0x4u
#define HPET_PERIODIC 0x8u
#define HPET_VAL_SET 0x40u

static uint64_t hpet_rd(struct hpet *h, unsigned off)
{
	return hpet_mmio_read(h, HPET_MMIO_BASE + off, 8);
}

static void hpet_wr(struct hpet *h, unsigned off, uint64_t v)
{
	hpet_mmio_write(h, HPET_MMIO_BASE + off, 8, v);
}

static void test_hpet_round_trip(void **state)
{
	static struct hpet a, b;
	static const unsigned regs[] = { HPET_GEN_CONF,	  HPET_GINTR_STA,  HPET_MAIN_CNT,
					 HPET_TN_CONF(0), HPET_TN_CMP(0),  HPET_TN_CONF(1),
					 HPET_TN_CMP(1),  HPET_TN_CONF(2), HPET_TN_CMP(2) };
	(void)state;

	setup_clocks();
	hpet_init(&a, &clock_a, virq_a, virq_a, HPET_ROUTE_CAP);
	hpet_init(&b, &clock_b, virq_b, virq_b, HPET_ROUTE_CAP);
	struct vtimer ta = hpet_timer(&a), tb = hpet_timer(&b);

	/* Timer 0 periodic every 1 ms, timer 1 level-triggered one-shot. */
	hpet_wr(&a, HPET_TN_CONF(0),
		HPET_INT_ENB | HPET_PERIODIC | HPET_VAL_SET | (uint64_t)HPET_PIN << 9);
	hpet_wr(&a, HPET_TN_CMP(0), 100000);
	hpet_wr(&a, HPET_TN_CMP(0), 100000);
	hpet_wr(&a, HPET_TN_CONF(1), HPET_INT_ENB | HPET_INT_LEVEL | (uint64_t)HPET_PIN << 9);
	hpet_wr(&a, HPET_TN_CMP(1), 50000);
	hpet_wr(&a, HPET_GEN_CONF, 1);
	advance(2500000);
	ta.update(ta.dev, now_a);
	assert_true(lines_a.level[HPET_PIN]); /* timer 1 holds it */

	unsigned edges_at_save = lines_a.edges[HPET_PIN];
	hpet_save(&a, record_begin());
	assert_int_equal(hpet_load(&b, record_reopen(STREAM_DEV_HPET)), 0);
	expect_end();
	assert_same_lines();
	assert_same_next(ta, tb);
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(hpet_rd(&a, regs[i]), hpet_rd(&b, regs[i]));
	/* The guest clears timer 1's status: both lines drop, and timer 0's
	 * periodic interrupts go on alike. */
	hpet_wr(&a, HPET_GINTR_STA, 2);
	hpet_wr(&b, HPET_GINTR_STA, 2);
	assert_false(lines_b.level[HPET_PIN]);
	/* b's line rose once at load, for the level timer a had raised. */
	unsigned edges_b_at_load = lines_b.edges[HPET_PIN];
	for (unsigned step = 0; step < 5; step++) {
		advance(700000);
		update_both(ta, tb);
		assert_same_next(ta, tb);
		assert_int_equal(lines_a.edges[HPET_PIN] - edges_at_save,
				 lines_b.edges[HPET_PIN] - edges_b_at_load);
		assert_int_equal(hpet_rd(&a, HPET_MAIN_CNT), hpet_rd(&b, HPET_MAIN_CNT));
	}
	assert_true(lines_b.edges[HPET_PIN] - edges_b_at_load >= 3);

	struct hpet before = b;
	hpet_save(&a, raw_begin());
	raw_end();
	raw[8] = 0x10; /* GINTR_STA of timer 4, which does not exist */
	assert_int_equal(hpet_load(&b, raw_reader(raw_len)), -1);
	raw[8] = 0;
	raw[0] = 0x04; /* GEN_CONF bit 2 */
	assert_int_equal(hpet_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
}

/* --- vIOAPIC ------------------------------------------------------------- */

struct msgs {
	unsigned n;
	struct vioapic_msg last;
};
static struct msgs msgs_a, msgs_b;

static void deliver(void *ctx, const struct vioapic_msg *msg)
{
	struct msgs *m = ctx;

	m->n++;
	m->last = *msg;
}

static uint32_t ioapic_reg(struct vioapic *io, uint32_t idx)
{
	vioapic_mmio_write(io, VIOAPIC_MMIO_BASE, 4, idx);
	return (uint32_t)vioapic_mmio_read(io, VIOAPIC_MMIO_BASE + 0x10, 4);
}

static void ioapic_set(struct vioapic *io, uint32_t idx, uint32_t v)
{
	vioapic_mmio_write(io, VIOAPIC_MMIO_BASE, 4, idx);
	vioapic_mmio_write(io, VIOAPIC_MMIO_BASE + 0x10, 4, v);
}

static void test_vioapic_round_trip(void **state)
{
	static struct vioapic a, b;
	(void)state;

	setup_clocks();
	memset(&msgs_a, 0, sizeof(msgs_a));
	memset(&msgs_b, 0, sizeof(msgs_b));
	vioapic_init(&a, 2, deliver, &msgs_a);
	vioapic_init(&b, 2, deliver, &msgs_b);
	ioapic_set(&a, 0x10 + 2 * 10 + 1, 0x01000000);
	ioapic_set(&a, 0x10 + 2 * 10, 0x8000 | 0x41); /* level, vector 0x41 */
	ioapic_set(&a, 0x10 + 2 * 4, 0x33);	      /* edge, vector 0x33 */
	vioapic_set_irq(&a, 10, true);
	assert_int_equal(msgs_a.n, 1);
	ioapic_set(&a, 0x0, 0x05000000); /* the ID, and IOREGSEL left on it */

	vioapic_save(&a, record_begin());
	assert_int_equal(vioapic_load(&b, record_reopen(STREAM_DEV_VIOAPIC)), 0);
	expect_end();
	assert_int_equal(msgs_b.n, 0);
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_MMIO_BASE, 4),
			 vioapic_mmio_read(&b, VIOAPIC_MMIO_BASE, 4));
	for (uint32_t idx = 0; idx < 0x10 + 2 * VIOAPIC_PINS; idx++)
		assert_int_equal(ioapic_reg(&a, idx), ioapic_reg(&b, idx));
	/* Remote IRR came across: the EOI resends the still-high line. */
	vioapic_eoi(&b, 0x41);
	assert_int_equal(msgs_b.n, 1);
	assert_int_equal(msgs_b.last.vector, 0x41);
	assert_true(msgs_b.last.level);
	assert_int_equal(msgs_b.last.dest, 1);
	vioapic_set_irq(&b, 4, true);
	assert_int_equal(msgs_b.last.vector, 0x33);

	struct vioapic before = b;
	vioapic_save(&a, raw_begin());
	raw_end();
	raw[raw_len - 1] = 0x80; /* input level of pin 31 */
	assert_int_equal(vioapic_load(&b, raw_reader(raw_len)), -1);
	raw[raw_len - 1] = 0;
	raw[5] = 1; /* IOREGSEL 0x100 */
	assert_int_equal(vioapic_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
}

/* --- vLAPIC -------------------------------------------------------------- */

#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LAPIC_TIMER_PERIODIC (1u << 17)

static uint32_t vapic_a[VLAPIC_PAGE_SIZE / 4] __attribute__((aligned(4096)));
static uint32_t vapic_b[VLAPIC_PAGE_SIZE / 4] __attribute__((aligned(4096)));
static unsigned eois_a, eois_b;

static void eoi_a(void *ctx, uint8_t vector)
{
	(void)ctx;
	(void)vector;
	eois_a++;
}

static void eoi_b(void *ctx, uint8_t vector)
{
	(void)ctx;
	(void)vector;
	eois_b++;
}

static uint32_t lapic_rd(struct vlapic *l, unsigned reg)
{
	return (uint32_t)vlapic_mmio_read(l, VLAPIC_MMIO_BASE + reg, 4);
}

static void lapic_wr(struct vlapic *l, unsigned reg, uint32_t v)
{
	vlapic_mmio_write(l, VLAPIC_MMIO_BASE + reg, 4, v);
}

static struct vtimer lapic_timer(struct vlapic *l)
{
	return (struct vtimer){ .next_event = vlapic_timer_next,
				.update = vlapic_timer_update,
				.held = vlapic_timer_held,
				.dev = l };
}

static void lapic_pair(struct vlapic *a, struct vlapic *b)
{
	vlapic_init(a, 1, false, &clock_a, (struct vlapic_ops){ .eoi_level = eoi_a }, vapic_a);
	vlapic_init(b, 1, false, &clock_b, (struct vlapic_ops){ .eoi_level = eoi_b }, vapic_b);
	eois_a = eois_b = 0;
}

static void lapic_drive(struct vlapic *a)
{
	lapic_wr(a, LAPIC_SVR, 0x1ff);
	lapic_wr(a, LAPIC_TIMER_DIVIDE, 0x3); /* divide by 16 */
	lapic_wr(a, LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | 0xef);
	lapic_wr(a, LAPIC_TIMER_INITIAL, 100000); /* 16 ms at 100 MHz / 16 */
	vlapic_accept(a, 0x51, true);
	vlapic_ack(a, 0x51); /* level-triggered, in service */
	vlapic_accept(a, 0x31, false);
	vlapic_accept(a, 0x61, false);
	lapic_wr(a, LAPIC_TPR, 0x40);
	vlapic_raise_nmi(a);
	advance(5000000);
}

static void test_vlapic_round_trip(void **state)
{
	static struct vlapic a, b;
	(void)state;

	setup_clocks();
	lapic_pair(&a, &b);
	struct vtimer ta = lapic_timer(&a), tb = lapic_timer(&b);
	lapic_drive(&a);

	vlapic_save(&a, record_begin());
	assert_int_equal(vlapic_load(&b, record_reopen(STREAM_DEV_VLAPIC)), 0);
	expect_end();
	assert_same_next(ta, tb);
	assert_int_equal(b.nmi_pending, 1);
	assert_int_equal(vlapic_tpr(&b), 0x40);
	for (unsigned reg = 0x20; reg <= 0x3e0; reg += 0x10)
		assert_int_equal(lapic_rd(&a, reg), lapic_rd(&b, reg));
	assert_memory_equal(vapic_a, vapic_b, VLAPIC_PAGE_SIZE);
	assert_int_equal(vlapic_pending_vector(&a), vlapic_pending_vector(&b));
	assert_int_equal(vlapic_pending_vector(&b), 0x61);
	/* The level-triggered vector in service reaches the I/O APIC. */
	lapic_wr(&a, LAPIC_EOI, 0);
	lapic_wr(&b, LAPIC_EOI, 0);
	assert_int_equal(eois_b, 1);
	assert_int_equal(eois_a, eois_b);
	for (unsigned step = 0; step < 4; step++) {
		advance(7000000);
		update_both(ta, tb);
		assert_same_next(ta, tb);
		assert_int_equal(vlapic_pending_vector(&a), vlapic_pending_vector(&b));
		assert_int_equal(vlapic_requested(&b, 0xef), vlapic_requested(&a, 0xef));
		assert_int_equal(lapic_rd(&a, 0x390), lapic_rd(&b, 0x390)); /* current count */
	}
	assert_true(vlapic_requested(&b, 0xef));
}

static void test_vlapic_refusals(void **state)
{
	static struct vlapic a, b, before;
	(void)state;

	setup_clocks();
	lapic_pair(&a, &b);
	lapic_drive(&a);
	vlapic_save(&a, raw_begin());
	raw_end();
	before = b;
	raw[0] = 2; /* another vCPU's APIC */
	assert_int_equal(vlapic_load(&b, raw_reader(raw_len)), -1);
	raw[0] = 1;
	raw[raw_len - 2] = VLAPIC_NMI_PENDING_MAX + 1;
	assert_int_equal(vlapic_load(&b, raw_reader(raw_len)), -1);
	raw[raw_len - 2] = 1;
	raw[8 + 1] = 0x04; /* IA32_APIC_BASE: x2APIC without EN */
	assert_int_equal(vlapic_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
	raw[8 + 1] = 0x08;
	assert_int_equal(vlapic_load(&b, raw_reader(raw_len)), 0);
}

/* --- the PCI host bridge and the system control ports ------------------ */

#define PCI_ADDRESS_PORT 0xcf8
#define PCI_DATA_PORT 0xcfc
#define PCI_ENABLE 0x80000000u
#define PCI_COMMAND_REG 0x04
#define KBC_DATA 0x60
#define KBC_COMMAND 0x64
#define PORT_A 0x92

/* The bridge's command register cleared, the latency timer set, and the
 * address latch left on the latency register: a copy reads the same. */
static void test_pci_host_round_trip(void **state)
{
	static struct pci_host a, b;
	static struct io_bus io_a, io_b;
	static struct mmio_bus mmio_a, mmio_b;
	(void)state;

	setup_clocks();
	pci_host_init(&a);
	pci_host_init(&b);
	assert_int_equal(pci_host_attach(&a, &io_a, &mmio_a), 0);
	assert_int_equal(pci_host_attach(&b, &io_b, &mmio_b), 0);
	io_bus_write(&io_a, PCI_ADDRESS_PORT, 4, PCI_ENABLE | PCI_COMMAND_REG);
	io_bus_write(&io_a, PCI_DATA_PORT, 2, 0);
	io_bus_write(&io_a, PCI_ADDRESS_PORT, 4, PCI_ENABLE | 0x0c);
	io_bus_write(&io_a, PCI_DATA_PORT + 1, 1, 0x40); /* latency timer */
	pci_host_save(&a, record_begin());
	assert_int_equal(pci_host_load(&b, record_reopen(STREAM_DEV_PCI_HOST)), 0);
	expect_end();
	assert_int_equal(io_bus_read(&io_b, PCI_ADDRESS_PORT, 4), PCI_ENABLE | 0x0c);
	assert_int_equal(io_bus_read(&io_b, PCI_DATA_PORT, 4),
			 io_bus_read(&io_a, PCI_DATA_PORT, 4));
	io_bus_write(&io_b, PCI_ADDRESS_PORT, 4, PCI_ENABLE | PCI_COMMAND_REG);
	assert_int_equal(io_bus_read(&io_b, PCI_DATA_PORT, 2), 0);

	/* Bits the registers do not keep: refused, the bridge unchanged. */
	raw_begin();
	state_put_u32(&body_w, 0x3); /* CONFIG_ADDRESS bits 1:0 */
	state_put_u8(&body_w, 0);
	state_put_u8(&body_w, 0);
	raw_end();
	assert_int_equal(pci_host_load(&b, raw_reader(raw_len)), -1);
	raw_begin();
	state_put_u32(&body_w, 0);
	state_put_u8(&body_w, 0x01); /* I/O only is kept; bit 0 is not */
	state_put_u8(&body_w, 0);
	raw_end();
	assert_int_equal(pci_host_load(&b, raw_reader(raw_len)), -1);
	assert_int_equal(io_bus_read(&io_b, PCI_DATA_PORT, 2), 0);
}

static void no_reset(void *ctx)
{
	(void)ctx;
}

/* A20 off through port 0x92, and the keyboard controller mid-command
 * (0xD1 written, its data byte not yet) with the command byte waiting to
 * be read: the copy answers the same and takes the data byte. */
static void test_sysctl_round_trip(void **state)
{
	static struct sysctl a, b, before;
	static struct io_bus bus_a, bus_b;
	(void)state;

	setup_clocks();
	sysctl_init(&a, no_reset, NULL);
	sysctl_init(&b, no_reset, NULL);
	assert_int_equal(sysctl_attach(&a, &bus_a), 0);
	assert_int_equal(sysctl_attach(&b, &bus_b), 0);
	io_bus_write(&bus_a, PORT_A, 1, 0);
	io_bus_write(&bus_a, KBC_COMMAND, 1, 0x20); /* read the command byte */
	io_bus_write(&bus_a, KBC_COMMAND, 1, 0xd1); /* write the output port: data next */
	sysctl_save(&a, record_begin());
	assert_int_equal(sysctl_load(&b, record_reopen(STREAM_DEV_SYSCTL)), 0);
	expect_end();
	assert_int_equal(io_bus_read(&bus_b, PORT_A, 1), io_bus_read(&bus_a, PORT_A, 1));
	assert_int_equal(io_bus_read(&bus_b, KBC_COMMAND, 1), io_bus_read(&bus_a, KBC_COMMAND, 1));
	assert_int_equal(io_bus_read(&bus_b, KBC_DATA, 1), io_bus_read(&bus_a, KBC_DATA, 1));
	io_bus_write(&bus_a, KBC_DATA, 1, 0x01); /* A20 off through the output port */
	io_bus_write(&bus_b, KBC_DATA, 1, 0x01);
	assert_int_equal(sysctl_a20_enabled(&b), sysctl_a20_enabled(&a));
	assert_false(sysctl_a20_enabled(&b));

	/* A pending command that takes no data, an AUX byte with none
	 * waiting: refused, the controller as it was. */
	before = b;
	raw_begin();
	sysctl_save(&a, &body_w);
	raw_end();
	raw[8] = 0x20; /* pending_command: a read, which takes no data */
	assert_int_equal(sysctl_load(&b, raw_reader(raw_len)), -1);
	raw_begin();
	sysctl_save(&a, &body_w);
	raw_end();
	raw[5] = 0; /* output_full off */
	raw[6] = 1; /* output_aux on */
	assert_int_equal(sysctl_load(&b, raw_reader(raw_len)), -1);
	assert_memory_equal(&b, &before, sizeof(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_round_trip),
		cmocka_unit_test(test_writer_never_overruns),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_unknown_records),
		cmocka_unit_test(test_record_checksum_is_crc32c),
		cmocka_unit_test(test_writer_writes_every_byte),
		cmocka_unit_test(test_end_must_be_last_and_empty),
		cmocka_unit_test(test_field_reader_refusals),
		cmocka_unit_test(test_uart_round_trip),
		cmocka_unit_test(test_uart_refusals),
		cmocka_unit_test(test_pic_round_trip),
		cmocka_unit_test(test_pic_refusals),
		cmocka_unit_test(test_pit_round_trip),
		cmocka_unit_test(test_pit_refusals),
		cmocka_unit_test(test_rtc_round_trip),
		cmocka_unit_test(test_rtc_refusals),
		cmocka_unit_test(test_acpi_pm_round_trip),
		cmocka_unit_test(test_hpet_round_trip),
		cmocka_unit_test(test_vioapic_round_trip),
		cmocka_unit_test(test_vlapic_round_trip),
		cmocka_unit_test(test_vlapic_refusals),
		cmocka_unit_test(test_pci_host_round_trip),
		cmocka_unit_test(test_sysctl_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
