#include "vmm/dev/pit.h"

#include <string.h>

#include "vmm/dev/state_io.h"

#define NS_PER_S 1000000000ull

/* Control word (8254 data sheet, "Control Word Format"), port 0x43. */
#define PORT_CONTROL 3
#define CW_BCD 0x01
#define CW_MODE_SHIFT 1
#define CW_MODE_MASK 0x07
#define CW_RW_SHIFT 4
#define CW_RW_MASK 0x03
#define CW_SC_SHIFT 6
#define CW_SC_READ_BACK 3
#define RW_LATCH 0 /* counter latch command */
#define RW_LSB 1
#define RW_MSB 2
#define RW_LSB_MSB 3

/* Read-back command ("Read-Back Command"): the bits select counters, and
 * COUNT/STATUS are active low. */
#define RB_COUNTER0 0x02
#define RB_NO_STATUS 0x10
#define RB_NO_COUNT 0x20

/* Status byte ("Status Byte"): OUTPUT, NULL COUNT, RW1-RW0, M2-M0, BCD. */
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40

/* Port 0x61 (PIIX4 NMI Status and Control): the bits that are timers'. */
#define PORT_B_GATE2 0x01   /* timer 2 GATE */
#define PORT_B_SPEAKER 0x02 /* speaker data enable */
#define PORT_B_REFRESH 0x10 /* toggles on each refresh request */
#define PORT_B_OUT2 0x20    /* timer 2 OUT */

/* The PC/AT BIOS runs counter 1 in mode 2 with a count of 18: a refresh
 * request every 15.08 us, each flipping the refresh toggle. */
#define REFRESH_CLOCKS 18

#define BINARY_MODULUS 65536u
#define BCD_MODULUS 10000u
#define NO_EDGE UINT64_MAX
#define READ_NOTHING 0xff /* the control port is write-only */

/* 64-bit conversions between guest nanoseconds and PIT clocks, split at
 * whole seconds so that nothing overflows. */
static uint64_t ns_to_clocks(uint64_t ns)
{
	return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The first nanosecond by which `clocks` clocks have passed. */
static uint64_t clocks_to_ns(uint64_t clocks)
{
	return clocks / PIT_HZ * NS_PER_S + (clocks % PIT_HZ * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static uint64_t now(const struct pit *p)
{
	return vclock_now(p->clock);
}

static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? BCD_MODULUS : BINARY_MODULUS;
}

/* The count register as a number of clocks: 0 is the maximum count. */
static uint32_t decode_count(const struct pit_channel *c)
{
	uint32_t v = c->count_reg;

	if (c->bcd)
		v = (v >> 12) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
	return v ? v : modulus(c);
}

static uint16_t encode_count(const struct pit_channel *c, uint32_t v)
{
	if (!c->bcd)
		return (uint16_t)v;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Clocks counted since the count was loaded. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t t)
{
	return c->ticks_before + (c->running ? ns_to_clocks(t - c->start_ns) : 0);
}

/* Mode 3 (8254 data sheet, "Mode 3"): the counting element goes down by
 * two each clock through each half period. With an odd count N the high
 * half is (N + 1) / 2 clocks: N is loaded, decremented by one, then by
 * two; the low half is (N - 1) / 2 clocks: N is loaded, decremented by
 * three, then by two. */
static uint32_t square_wave_count(uint32_t n, uint32_t phase)
{
	uint32_t high = (n + 1) / 2;
	bool in_high = phase < high;
	uint32_t q = in_high ? phase : phase - high;

	if (!q)
		return n;
	if (!(n & 1))
		return n - 2 * q;
	return in_high ? n + 1 - 2 * q : n - 1 - 2 * q;
}

static uint32_t current_count(const struct pit_channel *c, uint64_t t)
{
	uint32_t m = modulus(c);

	if (!c->counting)
		return c->n % m;
	uint64_t d = elapsed(c, t);
	switch (c->mode) {
	case 2:
		return (c->n - (uint32_t)(d % c->n)) % m;
	case 3:
		return square_wave_count(c->n, (uint32_t)(d % c->n)) % m;
	default:
		/* Modes 0, 1, 4, 5 count on through zero, wrapping. */
		return (c->n + m - (uint32_t)(d % m)) % m;
	}
}

/* The OUT pin. After a control word OUT is low in mode 0 and high in the
 * others; GATE low forces it high in modes 2 and 3. */
static bool out_level(const struct pit_channel *c, uint64_t t)
{
	if (!c->counting)
		return c->mode != 0;
	uint64_t d = elapsed(c, t);
	switch (c->mode) {
	case 0: /* high at terminal count */
	case 1: /* low from the trigger to terminal count */
		return d >= c->n;
	case 2: /* low for the one clock at count 1 */
		return !c->gate || d % c->n != c->n - 1;
	case 3: /* high for the first half of each period */
		return !c->gate || d % c->n < (c->n + 1) / 2;
	default: /* 4, 5: low for the one clock at count 0 */
		return d != c->n;
	}
}

/* The clock of OUT's next rising edge after those delivered, or NO_EDGE:
 * the end of each period in modes 2 and 3, terminal count in modes 0
 * and 1, the end of the strobe in modes 4 and 5. */
static uint64_t next_edge(const struct pit_channel *c)
{
	uint64_t edge;

	if (!c->running)
		return NO_EDGE;
	switch (c->mode) {
	case 2:
	case 3:
		return (c->irq_tick / c->n + 1) * c->n;
	case 0:
	case 1:
		edge = c->n;
		break;
	default:
		edge = (uint64_t)c->n + 1;
		break;
	}
	return c->irq_tick < edge ? edge : NO_EDGE;
}

/* The counting element takes the count register and starts (when GATE
 * allows; modes 1 and 5 start here on a GATE trigger only). The load clock
 * of the data sheet is not modelled: counting starts at the write. */
static void start_counting(struct pit_channel *c, uint64_t t)
{
	c->n = decode_count(c);
	c->null_count = false;
	c->counting = true;
	c->running = c->gate;
	c->start_ns = t;
	c->ticks_before = 0;
	c->irq_tick = 0;
}

static void count_written(struct pit_channel *c, uint64_t t)
{
	c->has_count = true;
	c->null_count = true;
	/* A new count restarts modes 0, 2, 3 and 4 (the data sheet defers it
	 * to the end of the period in modes 2 and 3: not modelled); in modes
	 * 1 and 5 it waits for the next trigger. */
	if (c->mode != 1 && c->mode != 5)
		start_counting(c, t);
}

static void write_counter(struct pit_channel *c, uint8_t v, uint64_t t)
{
	switch (c->access) {
	case RW_LSB:
		c->count_reg = v;
		break;
	case RW_MSB:
		c->count_reg = (uint16_t)(v << 8);
		break;
	default: /* RW_LSB_MSB */
		if (!c->write_msb_next) {
			c->lsb_written = v;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops counting and
			 * sets OUT low at once. */
			if (c->mode == 0)
				c->counting = c->running = false;
			return;
		}
		c->write_msb_next = false;
		c->count_reg = (uint16_t)(c->lsb_written | v << 8);
		break;
	}
	count_written(c, t);
}

static void latch_count(struct pit_channel *c, uint64_t t)
{
	/* A second latch before the count is read is ignored. */
	if (c->latch_left)
		return;
	c->latch = encode_count(c, current_count(c, t));
	c->latch_left = c->access == RW_LSB_MSB ? 2 : 1;
}

static void latch_status(struct pit_channel *c, uint64_t t)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((out_level(c, t) ? STATUS_OUT : 0) |
			      (c->null_count ? STATUS_NULL_COUNT : 0) | c->access << CW_RW_SHIFT |
			      c->mode << CW_MODE_SHIFT | (c->bcd ? CW_BCD : 0));
	c->status_latched = true;
}

static uint8_t byte_of(uint16_t v, bool msb)
{
	return (uint8_t)(msb ? v >> 8 : v);
}

static uint8_t read_counter(struct pit_channel *c, uint64_t t)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_left) {
		bool msb = c->access == RW_MSB || (c->access == RW_LSB_MSB && c->latch_left == 1);
		c->latch_left--;
		return byte_of(c->latch, msb);
	}
	uint16_t v = encode_count(c, current_count(c, t));
	if (c->access != RW_LSB_MSB)
		return byte_of(v, c->access == RW_MSB);
	bool msb = c->read_msb_next;
	c->read_msb_next = !msb;
	return byte_of(v, msb);
}

static void write_control(struct pit *p, uint8_t v, uint64_t t)
{
	unsigned sc = v >> CW_SC_SHIFT;

	if (sc == CW_SC_READ_BACK) {
		for (unsigned i = 0; i < PIT_CHANNELS; i++) {
			if (!(v & (RB_COUNTER0 << i)))
				continue;
			if (!(v & RB_NO_COUNT))
				latch_count(&p->ch[i], t);
			if (!(v & RB_NO_STATUS))
				latch_status(&p->ch[i], t);
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	unsigned rw = (v >> CW_RW_SHIFT) & CW_RW_MASK;
	if (rw == RW_LATCH) {
		latch_count(c, t);
		return;
	}
	/* A new program for counter 0 owes nothing of the old one. */
	if (sc == 0)
		p->ticks.owed = 0;
	unsigned mode = (v >> CW_MODE_SHIFT) & CW_MODE_MASK;
	c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* X10 = 2, X11 = 3 */
	c->access = (uint8_t)rw;
	c->bcd = v & CW_BCD;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->latch_left = 0;
	c->status_latched = false;
	c->has_count = false;
	c->null_count = true;
	c->counting = false;
	c->running = false;
}

/* GATE (8254 data sheet, "Gate"): level-sensitive in modes 0, 2, 3 and 4
 * (low suspends counting); a rising edge reloads in modes 2 and 3 and
 * triggers modes 1 and 5. */
static void set_gate(struct pit_channel *c, bool level, uint64_t t)
{
	if (level == c->gate)
		return;
	c->gate = level;
	if (c->mode == 1 || c->mode == 5) {
		if (level && c->has_count)
			start_counting(c, t);
		return;
	}
	if (!c->counting)
		return;
	if (!level) {
		c->ticks_before = elapsed(c, t);
		c->running = false;
	} else if (c->mode == 2 || c->mode == 3) {
		start_counting(c, t);
	} else {
		c->start_ns = t;
		c->running = true;
	}
}

static uint32_t pit_read(void *dev, uint16_t port, unsigned size)
{
	struct pit *p = dev;
	unsigned i = port - PIT_BASE;
	(void)size;

	if (i == PORT_CONTROL)
		return READ_NOTHING;
	return read_counter(&p->ch[i], now(p));
}

static void pit_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pit *p = dev;
	unsigned i = port - PIT_BASE;
	(void)size;

	if (i == PORT_CONTROL) {
		write_control(p, (uint8_t)value, now(p));
		return;
	}
	if (i == 0)
		p->ticks.owed = 0;
	write_counter(&p->ch[i], (uint8_t)value, now(p));
}

static uint32_t port_b_read(void *dev, uint16_t port, unsigned size)
{
	struct pit *p = dev;
	uint64_t t = now(p);
	(void)port;
	(void)size;

	return (p->ch[2].gate ? PORT_B_GATE2 : 0) | (p->speaker_data ? PORT_B_SPEAKER : 0) |
	       ((ns_to_clocks(t) / REFRESH_CLOCKS) & 1 ? PORT_B_REFRESH : 0) |
	       (out_level(&p->ch[2], t) ? PORT_B_OUT2 : 0);
}

static void port_b_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pit *p = dev;
	(void)port;
	(void)size;

	p->speaker_data = value & PORT_B_SPEAKER;
	set_gate(&p->ch[2], value & PORT_B_GATE2, now(p));
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static bool irq_waiting(const struct pit *p)
{
	return virq_waiting(&p->irq, PIT_IRQ);
}

static uint64_t timer_next(void *dev)
{
	const struct pit *p = dev;
	const struct pit_channel *c = &p->ch[0];
	uint64_t edge = next_edge(c);

	/* An owed edge the guest may take now is due now: the last edge
	 * counted is in the past. */
	if (periodic(c) && c->running && tick_backlog_ready(&p->ticks, irq_waiting(p)))
		edge = c->irq_tick;
	if (edge == NO_EDGE)
		return VTIME_NEVER;
	return c->start_ns + clocks_to_ns(edge > c->ticks_before ? edge - c->ticks_before : 0);
}

static bool timer_held(void *dev)
{
	const struct pit *p = dev;

	return periodic(&p->ch[0]) && tick_backlog_held(&p->ticks, irq_waiting(p));
}

/* The periodic modes count every rising edge up to t as owed, and raise
 * one when the timer mode allows (tick_backlog.h); the one-shot modes'
 * single edge is raised when it comes. */
static void timer_update(void *dev, uint64_t t)
{
	struct pit *p = dev;
	struct pit_channel *c = &p->ch[0];
	uint64_t edge = next_edge(c);
	uint64_t d = elapsed(c, t);

	if (periodic(c) && c->running) {
		if (edge != NO_EDGE && d >= edge) {
			uint64_t edges = d / c->n - c->irq_tick / c->n;
			c->irq_tick = d / c->n * c->n;
			tick_backlog_add(&p->ticks, edges, clocks_to_ns(c->n));
		}
		/* Masked everywhere: the edges are lost, as on the board
		 * (the PIC's IRR still latches one). */
		if (p->ticks.owed && virq_masked(&p->irq, PIT_IRQ)) {
			p->ticks.owed = 0;
			virq_pulse(&p->irq, PIT_IRQ);
		} else if (tick_backlog_ready(&p->ticks, irq_waiting(p))) {
			p->ticks.owed--;
			virq_pulse(&p->irq, PIT_IRQ);
		}
		return;
	}
	if (edge == NO_EDGE || d < edge)
		return;
	virq_pulse(&p->irq, PIT_IRQ);
	c->irq_tick = edge;
}

void pit_init(struct pit *p, const struct vclock *clock, struct virq irq)
{
	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->irq = irq;
	for (unsigned i = 0; i < PIT_CHANNELS; i++) {
		p->ch[i].n = BINARY_MODULUS;
		p->ch[i].access = RW_LSB_MSB;
		p->ch[i].null_count = true;
	}
	/* GATE 0 and 1 are tied high on the board. */
	p->ch[0].gate = true;
	p->ch[1].gate = true;
}

void pit_set_timer_mode(struct pit *p, enum timer_mode mode)
{
	p->ticks.mode = mode;
}

int pit_attach(struct pit *p, struct io_bus *bus)
{
	if (io_bus_register(bus, PIT_BASE, PIT_PORTS, pit_read, pit_write, p, "pit"))
		return -1;
	return io_bus_register(bus, PIT_PORT_B, 1, port_b_read, port_b_write, p, "port-b");
}

struct vtimer pit_timer(struct pit *p)
{
	return (struct vtimer){
		.next_event = timer_next, .update = timer_update, .held = timer_held, .dev = p
	};
}

#define PIT_MODES 6

static void channel_save(const struct pit_channel *c, struct state_writer *w)
{
	state_put_u8(w, c->mode);
	state_put_u8(w, c->access);
	state_put_bool(w, c->bcd);
	state_put_bool(w, c->gate);
	state_put_u16(w, c->count_reg);
	state_put_u8(w, c->lsb_written);
	state_put_bool(w, c->write_msb_next);
	state_put_bool(w, c->read_msb_next);
	state_put_bool(w, c->has_count);
	state_put_bool(w, c->null_count);
	state_put_bool(w, c->counting);
	state_put_bool(w, c->running);
	state_put_u32(w, c->n);
	state_put_time(w, c->start_ns);
	state_put_u64(w, c->ticks_before);
	state_put_u16(w, c->latch);
	state_put_u8(w, c->latch_left);
	state_put_u8(w, c->status);
	state_put_bool(w, c->status_latched);
	state_put_u64(w, c->irq_tick);
}

static void channel_load(struct pit_channel *c, struct state_reader *r)
{
	c->mode = state_get_u8(r);
	c->access = state_get_u8(r);
	c->bcd = state_get_bool(r);
	c->gate = state_get_bool(r);
	c->count_reg = state_get_u16(r);
	c->lsb_written = state_get_u8(r);
	c->write_msb_next = state_get_bool(r);
	c->read_msb_next = state_get_bool(r);
	c->has_count = state_get_bool(r);
	c->null_count = state_get_bool(r);
	c->counting = state_get_bool(r);
	c->running = state_get_bool(r);
	c->n = state_get_u32(r);
	c->start_ns = state_get_past_time(r);
	c->ticks_before = state_get_u64(r);
	c->latch = state_get_u16(r);
	c->latch_left = state_get_u8(r);
	c->status = state_get_u8(r);
	c->status_latched = state_get_bool(r);
	c->irq_tick = state_get_u64(r);
	if (c->mode >= PIT_MODES || c->access < RW_LSB || c->access > RW_LSB_MSB)
		state_refuse(r, "PIT counter mode or access out of range");
	/* The count the counting element holds: 1 to the modulus. */
	if (c->n < 1 || c->n > modulus(c))
		state_refuse(r, "PIT count out of range");
	if (c->latch_left > (c->access == RW_LSB_MSB ? 2 : 1))
		state_refuse(r, "PIT latched bytes over the access width");
}

void pit_save(const struct pit *p, struct state_writer *w)
{
	for (unsigned i = 0; i < PIT_CHANNELS; i++)
		channel_save(&p->ch[i], w);
	state_put_bool(w, p->speaker_data);
	state_put_u32(w, p->ticks.owed);
}

int pit_load(struct pit *p, struct state_reader *r)
{
	struct pit_channel ch[PIT_CHANNELS];
	bool speaker_data;
	uint32_t owed;

	for (unsigned i = 0; i < PIT_CHANNELS; i++)
		channel_load(&ch[i], r);
	speaker_data = state_get_bool(r);
	owed = state_get_u32(r);
	/* GATE 0 and 1 are tied high on the board. */
	if (!ch[0].gate || !ch[1].gate)
		state_refuse(r, "PIT gate of counter 0 or 1 low");
	if (owed > tick_backlog_cap(clocks_to_ns(ch[0].n)))
		state_refuse(r, "PIT owes more ticks than its timer mode keeps");
	if (state_reader_done(r))
		return -1;
	memcpy(p->ch, ch, sizeof(ch));
	p->speaker_data = speaker_data;
	p->ticks.owed = owed;
	return 0;
}
