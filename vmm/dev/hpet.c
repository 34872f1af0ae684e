/* The HPET (see hpet.h). Register and bit names are those of the IA-PC
 * HPET specification 1.0a, section 2.3. */
#include "vmm/dev/hpet.h"

#include <string.h>

#include "vmm/dev/state_io.h"

#define REG_GCAP_ID 0x000
#define REG_GEN_CONF 0x010
#define REG_GINTR_STA 0x020
#define REG_MAIN_CNT 0x0f0
#define REG_TIMER_BASE 0x100
#define REG_TIMER_STRIDE 0x20
#define REG_TN_CONF 0x00
#define REG_TN_COMPARATOR 0x08
#define REG_TN_FSB_ROUTE 0x10

#define GEN_ENABLE_CNF (1ull << 0)
#define GEN_LEG_RT_CNF (1ull << 1)

#define TN_INT_TYPE_CNF (1ull << 1) /* 1: level-triggered */
#define TN_INT_ENB_CNF (1ull << 2)
#define TN_TYPE_CNF (1ull << 3) /* 1: periodic */
#define TN_PER_INT_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5) /* 1: 64-bit */
#define TN_VAL_SET_CNF (1ull << 6)
#define TN_32MODE_CNF (1ull << 8)
#define TN_INT_ROUTE_SHIFT 9
#define TN_INT_ROUTE_MASK (0x1full << TN_INT_ROUTE_SHIFT)
#define TN_INT_ROUTE_CAP_SHIFT 32
#define TN_WRITABLE (TN_INT_TYPE_CNF | TN_INT_ENB_CNF | TN_VAL_SET_CNF | TN_32MODE_CNF)
#define PERIODIC_TIMER 0 /* the one timer that can be periodic */

#define LOW_HALF 0xffffffffull
#define WRAP_32 (1ull << 32)

static struct hpet_timer *timer_at(struct hpet *h, unsigned n)
{
	return &h->timer[n];
}

static bool enabled(const struct hpet *h)
{
	return h->config & GEN_ENABLE_CNF;
}

static bool is_32bit(const struct hpet_timer *t)
{
	return t->config & TN_32MODE_CNF;
}

static bool is_periodic(const struct hpet_timer *t)
{
	return t->config & TN_TYPE_CNF;
}

static bool is_level(const struct hpet_timer *t)
{
	return t->config & TN_INT_TYPE_CNF;
}

static uint64_t counter_at(const struct hpet *h, uint64_t now)
{
	if (!enabled(h) || now < h->base_ns)
		return h->counter_base;
	return h->counter_base + (now - h->base_ns) / HPET_PERIOD_NS;
}

/* The guest time at which the counter reaches tick (while it runs). */
static uint64_t tick_time(const struct hpet *h, uint64_t tick)
{
	if (tick <= h->counter_base)
		return h->base_ns;
	uint64_t ticks = tick - h->counter_base;
	if (ticks > (VTIME_NEVER - 1 - h->base_ns) / HPET_PERIOD_NS)
		return VTIME_NEVER;
	return h->base_ns + ticks * HPET_PERIOD_NS;
}

/* The first counter value from cnt on at which timer t matches: its
 * comparator, or in 32-bit mode the next value whose low half equals it
 * (the counter's upper half is ignored, section 2.4.7). A 64-bit
 * comparator behind the counter matches only after the counter wraps:
 * centuries away at this rate. */
static uint64_t first_match(const struct hpet_timer *t, uint64_t cnt)
{
	if (!is_32bit(t))
		return t->comparator >= cnt ? t->comparator : HPET_NO_MATCH;
	uint64_t ahead = (uint32_t)((uint32_t)t->comparator - (uint32_t)cnt);
	return cnt + ahead < cnt ? HPET_NO_MATCH : cnt + ahead;
}

/* Which line timer n drives now: false when none. */
static bool route(const struct hpet *h, unsigned n, const struct virq **q, unsigned *line)
{
	unsigned pin = (unsigned)((h->timer[n].config & TN_INT_ROUTE_MASK) >> TN_INT_ROUTE_SHIFT);

	if ((h->config & GEN_LEG_RT_CNF) && n < 2) {
		*q = &h->legacy;
		*line = n == 0 ? HPET_LEGACY_IRQ_TIMER0 : HPET_LEGACY_IRQ_TIMER1;
		return true;
	}
	if (!(h->route_cap & (1u << pin)))
		return false;
	*q = &h->ioapic;
	*line = pin;
	return true;
}

static bool interrupts_on(const struct hpet *h, const struct hpet_timer *t)
{
	return enabled(h) && (t->config & TN_INT_ENB_CNF);
}

/* A level-triggered timer holds its line while its status bit is set and
 * its interrupt enabled; anything else releases it (section 2.3.9.2.1). */
static void sync_line(struct hpet *h, unsigned n)
{
	struct hpet_timer *t = timer_at(h, n);
	const struct virq *q = NULL;
	unsigned line = 0;
	bool routed = route(h, n, &q, &line);
	bool want = routed && is_level(t) && (h->status & (1ull << n)) && interrupts_on(h, t);

	if (t->asserted && (!want || q != t->asserted_q || line != t->asserted_line)) {
		virq_set(t->asserted_q, t->asserted_line, false);
		t->asserted = false;
	}
	if (want && !t->asserted) {
		virq_set(q, line, true);
		t->asserted = true;
		t->asserted_q = q;
		t->asserted_line = line;
	}
}

static void sync_lines(struct hpet *h)
{
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		sync_line(h, n);
}

/* Timer n matched: a level-triggered timer sets its status bit (even with
 * its interrupt disabled, section 2.3.8), an edge-triggered one pulses. */
static void timer_fired(struct hpet *h, unsigned n)
{
	struct hpet_timer *t = timer_at(h, n);
	const struct virq *q;
	unsigned line;

	if (is_level(t)) {
		h->status |= 1ull << n;
		sync_line(h, n);
	} else if (interrupts_on(h, t) && route(h, n, &q, &line)) {
		virq_pulse(q, line);
	}
}

/* Brings timer n up to counter value cnt: at most one interrupt however
 * many matches passed; a periodic comparator moves past cnt by whole
 * periods, a 32-bit one-shot matches again when the low half comes round. */
static void run_timer(struct hpet *h, unsigned n, uint64_t cnt)
{
	struct hpet_timer *t = timer_at(h, n);

	if (t->next_tick == HPET_NO_MATCH || cnt < t->next_tick)
		return;
	if (is_periodic(t) && t->period) {
		uint64_t advance = ((cnt - t->next_tick) / t->period + 1) * t->period;
		t->next_tick = t->next_tick + advance < t->next_tick ? HPET_NO_MATCH
								     : t->next_tick + advance;
		t->comparator += advance;
		if (is_32bit(t))
			t->comparator &= LOW_HALF;
	} else if (is_32bit(t)) {
		t->next_tick += (((cnt - t->next_tick) >> 32) + 1) * WRAP_32;
	} else {
		t->next_tick = HPET_NO_MATCH;
	}
	timer_fired(h, n);
}

static void catch_up(struct hpet *h, uint64_t now)
{
	if (!enabled(h))
		return;
	uint64_t cnt = counter_at(h, now);
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		run_timer(h, n, cnt);
}

static void rearm_all(struct hpet *h, uint64_t cnt)
{
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		h->timer[n].next_tick = first_match(&h->timer[n], cnt);
}

static uint64_t timer_caps(const struct hpet *h, unsigned n)
{
	return (uint64_t)h->route_cap << TN_INT_ROUTE_CAP_SHIFT | TN_SIZE_CAP |
	       (n == PERIODIC_TIMER ? TN_PER_INT_CAP : 0);
}

static uint64_t read_reg(struct hpet *h, unsigned off, uint64_t now)
{
	switch (off) {
	case REG_GCAP_ID:
		return HPET_PERIOD_FS << 32 | HPET_BLOCK_ID;
	case REG_GEN_CONF:
		return h->config;
	case REG_GINTR_STA:
		return h->status;
	case REG_MAIN_CNT:
		return counter_at(h, now);
	}
	if (off < REG_TIMER_BASE || off >= REG_TIMER_BASE + HPET_TIMERS * REG_TIMER_STRIDE)
		return 0;
	unsigned n = (off - REG_TIMER_BASE) / REG_TIMER_STRIDE;
	const struct hpet_timer *t = timer_at(h, n);
	switch ((off - REG_TIMER_BASE) % REG_TIMER_STRIDE) {
	case REG_TN_CONF:
		return t->config | timer_caps(h, n);
	case REG_TN_COMPARATOR:
		return t->comparator;
	default:
		return 0; /* FSB route: no FSB delivery offered */
	}
}

static void write_gen_conf(struct hpet *h, uint64_t value, uint64_t now)
{
	uint64_t next = value & (GEN_ENABLE_CNF | GEN_LEG_RT_CNF);

	/* Halted, the counter keeps its value; started, it counts on from
	 * there (section 2.3.5). */
	if ((h->config ^ next) & GEN_ENABLE_CNF) {
		h->counter_base = counter_at(h, now);
		h->base_ns = now;
	}
	h->config = next;
	sync_lines(h);
}

static void write_timer_conf(struct hpet *h, unsigned n, uint64_t value, uint64_t now)
{
	struct hpet_timer *t = timer_at(h, n);
	uint64_t writable = TN_WRITABLE | (n == PERIODIC_TIMER ? TN_TYPE_CNF : 0);
	uint64_t pin = (value & TN_INT_ROUTE_MASK) >> TN_INT_ROUTE_SHIFT;
	uint64_t config = value & writable;

	/* A route the timer cannot take is not taken: the old one reads back
	 * (section 2.3.8, Tn_INT_ROUTE_CNF). */
	config |= (h->route_cap & (1u << pin)) ? value & TN_INT_ROUTE_MASK
					       : t->config & TN_INT_ROUTE_MASK;
	t->config = config;
	if (is_32bit(t)) {
		t->comparator &= LOW_HALF;
		t->period &= LOW_HALF;
	}
	t->next_tick = first_match(t, counter_at(h, now));
	sync_line(h, n);
}

/* Section 2.3.9.2.2: in periodic mode a write sets the period, and the
 * comparator (the accumulator) too while Tn_VAL_SET_CNF is set, which the
 * write clears. A 32-bit timer ignores the upper half. */
static void write_comparator(struct hpet *h, unsigned n, uint64_t value, uint64_t mask,
			     uint64_t now)
{
	struct hpet_timer *t = timer_at(h, n);

	if (is_32bit(t))
		mask &= LOW_HALF;
	if (!is_periodic(t) || (t->config & TN_VAL_SET_CNF))
		t->comparator = (t->comparator & ~mask) | (value & mask);
	if (is_periodic(t))
		t->period = (t->period & ~mask) | (value & mask);
	t->config &= ~TN_VAL_SET_CNF;
	t->next_tick = first_match(t, counter_at(h, now));
}

/* value holds the bits written where mask is set. */
static void write_reg(struct hpet *h, unsigned off, uint64_t value, uint64_t mask, uint64_t now)
{
	uint64_t merged = (read_reg(h, off, now) & ~mask) | (value & mask);

	switch (off) {
	case REG_GEN_CONF:
		write_gen_conf(h, merged, now);
		return;
	case REG_GINTR_STA:
		h->status &= ~(value & mask);
		sync_lines(h);
		return;
	case REG_MAIN_CNT:
		/* Software should halt the counter first (section 2.3.7);
		 * a running one goes on from the new value. */
		h->counter_base = merged;
		h->base_ns = now;
		rearm_all(h, merged);
		return;
	}
	if (off < REG_TIMER_BASE || off >= REG_TIMER_BASE + HPET_TIMERS * REG_TIMER_STRIDE)
		return;
	unsigned n = (off - REG_TIMER_BASE) / REG_TIMER_STRIDE;
	switch ((off - REG_TIMER_BASE) % REG_TIMER_STRIDE) {
	case REG_TN_CONF:
		write_timer_conf(h, n, merged, now);
		break;
	case REG_TN_COMPARATOR:
		write_comparator(h, n, value, mask, now);
		break;
	default:
		break; /* FSB route */
	}
}

/* 32-bit accesses to either half and aligned 64-bit ones (section 2.3.1). */
static bool access_ok(unsigned off, unsigned size)
{
	return (size == 4 && !(off & 3)) || (size == 8 && !(off & 7));
}

uint64_t hpet_mmio_read(void *p, uint64_t addr, unsigned size)
{
	struct hpet *h = p;
	unsigned off = (unsigned)(addr & (HPET_MMIO_SIZE - 1));
	uint64_t now = vclock_now(h->clock);

	if (!access_ok(off, size))
		return 0;
	catch_up(h, now);
	uint64_t v = read_reg(h, off & ~7u, now);
	if (size == 8)
		return v;
	return off & 4 ? v >> 32 : v & LOW_HALF;
}

void hpet_mmio_write(void *p, uint64_t addr, unsigned size, uint64_t value)
{
	struct hpet *h = p;
	unsigned off = (unsigned)(addr & (HPET_MMIO_SIZE - 1));
	uint64_t now = vclock_now(h->clock);
	uint64_t mask = ~0ull;

	if (!access_ok(off, size))
		return;
	if (size == 4) {
		mask = off & 4 ? ~LOW_HALF : LOW_HALF;
		value = off & 4 ? (value & LOW_HALF) << 32 : value & LOW_HALF;
	}
	catch_up(h, now);
	write_reg(h, off & ~7u, value, mask, now);
}

bool hpet_legacy_replacement(const struct hpet *h)
{
	return h->config & GEN_LEG_RT_CNF;
}

static uint64_t timer_next(void *dev)
{
	const struct hpet *h = dev;
	uint64_t next = VTIME_NEVER;

	if (!enabled(h))
		return VTIME_NEVER;
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		const struct hpet_timer *t = &h->timer[n];
		if (!(t->config & TN_INT_ENB_CNF) || t->next_tick == HPET_NO_MATCH)
			continue;
		uint64_t when = tick_time(h, t->next_tick);
		if (when < next)
			next = when;
	}
	return next;
}

static void timer_update(void *dev, uint64_t now)
{
	catch_up(dev, now);
}

struct vtimer hpet_timer(struct hpet *h)
{
	return (struct vtimer){ .next_event = timer_next, .update = timer_update, .dev = h };
}

void hpet_init(struct hpet *h, const struct vclock *clock, struct virq legacy, struct virq ioapic,
	       uint32_t route_cap)
{
	memset(h, 0, sizeof(*h));
	h->clock = clock;
	h->legacy = legacy;
	h->ioapic = ioapic;
	h->route_cap = route_cap;
	/* Comparators reset to all ones (as QEMU's): no match for ages. */
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		h->timer[n].comparator = ~0ull;
		h->timer[n].next_tick = HPET_NO_MATCH;
	}
}

#define GEN_CONF_WRITABLE (GEN_ENABLE_CNF | GEN_LEG_RT_CNF)
#define STATUS_BITS ((1ull << HPET_TIMERS) - 1)

void hpet_save(const struct hpet *h, struct state_writer *w)
{
	state_put_u64(w, h->config);
	state_put_u64(w, h->status);
	state_put_u64(w, h->counter_base);
	state_put_time(w, h->base_ns);
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		const struct hpet_timer *t = &h->timer[n];

		state_put_u64(w, t->config);
		state_put_u64(w, t->comparator);
		state_put_u64(w, t->period);
		state_put_u64(w, t->next_tick);
	}
}

/* The line a level-triggered timer holds is not saved: it follows from
 * GINTR_STA and the configuration (sync_lines). */
int hpet_load(struct hpet *h, struct state_reader *r)
{
	struct hpet loaded = *h;

	loaded.config = state_get_u64(r);
	loaded.status = state_get_u64(r);
	loaded.counter_base = state_get_u64(r);
	loaded.base_ns = state_get_past_time(r);
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		struct hpet_timer *t = &loaded.timer[n];
		uint64_t writable =
			TN_WRITABLE | TN_INT_ROUTE_MASK | (n == PERIODIC_TIMER ? TN_TYPE_CNF : 0);

		t->config = state_get_u64(r);
		t->comparator = state_get_u64(r);
		t->period = state_get_u64(r);
		t->next_tick = state_get_u64(r);
		if (t->config & ~writable)
			state_refuse(r, "HPET timer configuration bit not writable");
		if (is_32bit(t) && (t->comparator > LOW_HALF || t->period > LOW_HALF))
			state_refuse(r, "HPET 32-bit timer with a 64-bit comparator");
	}
	if (loaded.config & ~GEN_CONF_WRITABLE)
		state_refuse(r, "HPET general configuration bit not writable");
	if (loaded.status & ~STATUS_BITS)
		state_refuse(r, "HPET interrupt status of a timer it lacks");
	if (state_reader_done(r))
		return -1;
	/* loaded keeps the lines h holds now; sync_lines moves them. */
	*h = loaded;
	sync_lines(h);
	return 0;
}
