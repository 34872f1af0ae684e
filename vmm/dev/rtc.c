#include "vmm/dev/rtc.h"

#include <string.h>

#include "vmm/dev/state_io.h"

#define NS_PER_S 1000000000ll
#define SECS_PER_DAY 86400ll
#define SECS_PER_HOUR 3600
#define SECS_PER_MIN 60

/* Address map (MC146818A data sheet, "Address Map"). */
#define REG_SECONDS 0x00
#define REG_SECONDS_ALARM 0x01
#define REG_MINUTES 0x02
#define REG_MINUTES_ALARM 0x03
#define REG_HOURS 0x04
#define REG_HOURS_ALARM 0x05
#define REG_DAY_OF_WEEK 0x06
#define REG_DAY_OF_MONTH 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
/* IBM PC/AT CMOS layout. */
#define CMOS_EQUIPMENT 0x14
#define CMOS_BASE_MEM_LO 0x15 /* KiB below 1 MiB */
#define CMOS_BASE_MEM_HI 0x16
#define CMOS_EXT_MEM_LO 0x17 /* KiB above 1 MiB, at most 0xffff */
#define CMOS_EXT_MEM_HI 0x18
#define CMOS_EXT_MEM2_LO 0x30 /* the same, as POST found it */
#define CMOS_EXT_MEM2_HI 0x31
#define CMOS_CENTURY 0x32
#define CMOS_MEM_16M_LO 0x34 /* 64 KiB blocks from 16 MiB to 4 GiB */
#define CMOS_MEM_16M_HI 0x35
#define CMOS_MEM_4G_LO 0x5b /* 64 KiB blocks above 4 GiB, 24 bits */
#define CMOS_MEM_4G_MID 0x5c
#define CMOS_MEM_4G_HI 0x5d

#define INDEX_MASK 0x7f
#define INDEX_NMI_DISABLE 0x80
#define PORT_INDEX 0
#define READ_NOTHING 0xff /* the index port is write-only */

/* Register A: UIP, DV2-DV0 (divider), RS3-RS0 (rate). */
#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_32KHZ 0x20 /* 32.768 kHz time base, divider running */
#define A_RS_MASK 0x0f
/* Register B. */
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define B_DSE 0x01
/* Register C. */
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
/* Register D. */
#define D_VRT 0x80
/* Hours in 12-hour form: PM flag. Alarm "don't care": both top bits. */
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xc0

/* The time base: the divider chain ticks at 32.768 kHz. UIP is set for
 * the 244 us (8 ticks) before each update cycle; after the divider leaves
 * reset the first update comes half a second later. Rates 1 and 2 are the
 * same taps as 8 and 9 (data sheet, "Periodic Interrupt Rate"). */
#define TIME_BASE_HZ 32768ll
#define UIP_TICKS 8
#define FIRST_UPDATE_NS (NS_PER_S / 2)
#define RATE_LOW_TAPS 7

/* Firmware defaults: 32.768 kHz, 1024 Hz periodic rate; 24-hour BCD; the
 * equipment byte reports a math coprocessor (bit 1) and a VGA (bits 5-4
 * clear), no floppy. */
#define A_RS_1024HZ 0x06
#define DEFAULT_A (A_DV_32KHZ | A_RS_1024HZ)
#define DEFAULT_B B_24H
#define EQUIPMENT_FPU 0x02
#define BASE_MEM_KIB 640
#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define BLOCK_64K (64ull * KIB)
#define MAX_WORD 0xffffull
#define MAX_24BIT 0xffffffull

#define NEVER INT64_MAX

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static uint64_t now(const struct rtc *r)
{
	return vclock_now(r->clock);
}

/* --- calendar (proleptic Gregorian, days since 1970-01-01) --------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

struct tod {
	int64_t year;
	unsigned month, day, wday, hour, min, sec;
};

static struct tod civil_from_seconds(int64_t s)
{
	struct tod t;
	int64_t days = floor_div(s, SECS_PER_DAY);
	unsigned secs = (unsigned)(s - days * SECS_PER_DAY);

	t.hour = secs / SECS_PER_HOUR;
	t.min = secs / SECS_PER_MIN % 60;
	t.sec = secs % 60;
	int64_t w = days + 4;				  /* 1970-01-01 was a Thursday */
	t.wday = (unsigned)(w - floor_div(w, 7) * 7) + 1; /* 1 = Sunday */
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	t.day = doy - (153 * mp + 2) / 5 + 1;
	t.month = mp < 10 ? mp + 3 : mp - 9;
	t.year = (int64_t)yoe + era * 400 + (t.month <= 2);
	return t;
}

/* --- register encodings -------------------------------------------------- */

static bool binary(const struct rtc *r)
{
	return r->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t encode(const struct rtc *r, unsigned v)
{
	return (uint8_t)(binary(r) ? v : (v / 10) << 4 | v % 10);
}

static unsigned decode(const struct rtc *r, uint8_t v)
{
	return binary(r) ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t encode_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return encode(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(encode(r, h12) | (h >= 12 ? HOUR_PM : 0));
}

static unsigned decode_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return decode(r, v);
	return decode(r, v & (uint8_t)~HOUR_PM) % 12 + ((v & HOUR_PM) ? 12 : 0);
}

static void store_time(struct rtc *r, int64_t s)
{
	struct tod t = civil_from_seconds(s);
	int64_t year = t.year < 0 ? 0 : t.year;

	r->cmos[REG_SECONDS] = encode(r, t.sec);
	r->cmos[REG_MINUTES] = encode(r, t.min);
	r->cmos[REG_HOURS] = encode_hour(r, t.hour);
	r->cmos[REG_DAY_OF_WEEK] = encode(r, t.wday);
	r->cmos[REG_DAY_OF_MONTH] = encode(r, t.day);
	r->cmos[REG_MONTH] = encode(r, t.month);
	r->cmos[REG_YEAR] = encode(r, (unsigned)(year % 100));
	r->cmos[CMOS_CENTURY] = encode(r, (unsigned)(year / 100 % 100));
}

/* The time the registers hold (day of week is not an input). */
static int64_t parse_time(const struct rtc *r)
{
	int64_t year = decode(r, r->cmos[CMOS_CENTURY]) * 100ll + decode(r, r->cmos[REG_YEAR]);
	int64_t days = days_from_civil(year, decode(r, r->cmos[REG_MONTH]),
				       decode(r, r->cmos[REG_DAY_OF_MONTH]));

	return days * SECS_PER_DAY + decode_hour(r, r->cmos[REG_HOURS]) * SECS_PER_HOUR +
	       decode(r, r->cmos[REG_MINUTES]) * SECS_PER_MIN + decode(r, r->cmos[REG_SECONDS]);
}

static bool is_time_register(unsigned index)
{
	return index == REG_SECONDS || index == REG_MINUTES || index == REG_HOURS ||
	       (index >= REG_DAY_OF_WEEK && index <= REG_YEAR) || index == CMOS_CENTURY;
}

/* --- the clock ----------------------------------------------------------- */

static bool divider_running(const struct rtc *r)
{
	return (r->cmos[REG_A] & A_DV_MASK) == A_DV_32KHZ;
}

/* Update cycles run: the divider runs and SET is clear. */
static bool clock_running(const struct rtc *r)
{
	return divider_running(r) && !(r->cmos[REG_B] & B_SET);
}

static int64_t since_chain(const struct rtc *r, uint64_t t)
{
	return (int64_t)t - r->chain_ns;
}

static int64_t seconds_at(const struct rtc *r, uint64_t t)
{
	return r->sec_at_chain + since_chain(r, t) / NS_PER_S;
}

/* Time-base ticks since the chain's update instant, and back (the first
 * nanosecond by which tick k has come), split to stay within 64 bits. */
static int64_t ticks_at(const struct rtc *r, uint64_t t)
{
	int64_t ns = since_chain(r, t);

	return ns / NS_PER_S * TIME_BASE_HZ + ns % NS_PER_S * TIME_BASE_HZ / NS_PER_S;
}

static int64_t tick_time(const struct rtc *r, int64_t k)
{
	return r->chain_ns + k / TIME_BASE_HZ * NS_PER_S +
	       (k % TIME_BASE_HZ * NS_PER_S + TIME_BASE_HZ - 1) / TIME_BASE_HZ;
}

/* Refreshes the time registers from the clock (while it runs). */
static void refresh(struct rtc *r, uint64_t t)
{
	if (clock_running(r))
		store_time(r, seconds_at(r, t));
}

/* The clock restarts from the registers, keeping the chain's phase: the
 * next update increments what the guest wrote. */
static void commit(struct rtc *r, uint64_t t)
{
	r->sec_at_chain = parse_time(r) - since_chain(r, t) / NS_PER_S;
}

static bool uip(const struct rtc *r, uint64_t t)
{
	return clock_running(r) && ticks_at(r, t) % TIME_BASE_HZ >= TIME_BASE_HZ - UIP_TICKS;
}

/* --- interrupt sources: the first event after time `after` ---------------- */

static int64_t periodic_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & A_RS_MASK;

	if (!rs)
		return 0;
	return 1ll << ((rs <= 2 ? rs + RATE_LOW_TAPS : rs) - 1);
}

static int64_t next_periodic(const struct rtc *r, uint64_t after)
{
	int64_t period = periodic_ticks(r);

	if (!period || !divider_running(r))
		return NEVER;
	return tick_time(r, (ticks_at(r, after) / period + 1) * period);
}

static int64_t next_update(const struct rtc *r, uint64_t after)
{
	if (!clock_running(r))
		return NEVER;
	return r->chain_ns + (since_chain(r, after) / NS_PER_S + 1) * NS_PER_S;
}

static int alarm_field(const struct rtc *r, unsigned index, unsigned limit)
{
	uint8_t v = r->cmos[index];

	if ((v & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return -1;
	unsigned d = index == REG_HOURS_ALARM ? decode_hour(r, v) : decode(r, v);
	return d < limit ? (int)d : (int)limit; /* out of range: never matches */
}

/* The first second >= s whose time of day matches the alarm registers
 * (data sheet, "Alarm"), or NEVER. Each step jumps to the next candidate
 * hour, minute or second; a match is at most a day and a few steps away. */
static int64_t next_alarm_second(const struct rtc *r, int64_t s)
{
	int ah = alarm_field(r, REG_HOURS_ALARM, 24);
	int am = alarm_field(r, REG_MINUTES_ALARM, 60);
	int as = alarm_field(r, REG_SECONDS_ALARM, 60);

	if (ah == 24 || am == 60 || as == 60)
		return NEVER;
	for (unsigned step = 0; step < 8; step++) {
		int64_t day = floor_div(s, SECS_PER_DAY) * SECS_PER_DAY;
		int h = (int)((s - day) / SECS_PER_HOUR);
		int m = (int)((s - day) / SECS_PER_MIN % 60);
		int sec = (int)((s - day) % 60);
		int64_t hour = day + h * SECS_PER_HOUR;
		if (ah >= 0 && h != ah)
			s = day + ah * SECS_PER_HOUR + (ah < h ? SECS_PER_DAY : 0);
		else if (am >= 0 && m != am)
			s = hour + am * SECS_PER_MIN + (am < m ? SECS_PER_HOUR : 0);
		else if (as >= 0 && sec != as)
			s = hour + m * SECS_PER_MIN + as + (as < sec ? SECS_PER_MIN : 0);
		else
			return s;
	}
	return NEVER;
}

/* The alarm matches at the update cycle that makes the time second s. */
static int64_t next_alarm(const struct rtc *r, uint64_t after)
{
	int64_t first = next_update(r, after);

	if (first == NEVER)
		return NEVER;
	int64_t s = next_alarm_second(r, seconds_at(r, (uint64_t)first));
	if (s == NEVER)
		return NEVER;
	return first + (s - seconds_at(r, (uint64_t)first)) * NS_PER_S;
}

static bool irqf(const struct rtc *r)
{
	uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C];

	return ((c & C_PF) && (b & B_PIE)) || ((c & C_AF) && (b & B_AIE)) ||
	       ((c & C_UF) && (b & B_UIE));
}

/* IRQ follows IRQF: asserted until register C is read or the enables
 * are cleared. */
static void update_irq(struct rtc *r)
{
	bool level = irqf(r);

	if (level == r->irq_asserted)
		return;
	r->irq_asserted = level;
	virq_set(&r->irq, RTC_IRQ, level);
}

/* Periodic interrupts that came due between a and b (a < b), while
 * enabled. */
static uint64_t periodic_between(const struct rtc *r, uint64_t a, uint64_t b)
{
	int64_t period = periodic_ticks(r);

	if (!period || !divider_running(r) || !(r->cmos[REG_B] & B_PIE))
		return 0;
	return (uint64_t)(ticks_at(r, b) / period - ticks_at(r, a) / period);
}

static uint64_t periodic_ns(const struct rtc *r)
{
	return (uint64_t)(periodic_ticks(r) * NS_PER_S / TIME_BASE_HZ);
}

/* An owed periodic interrupt goes out once the guest has read register C
 * since the last (vmm/dev/tick_backlog.h). */
static void raise_owed_periodic(struct rtc *r)
{
	if (tick_backlog_ready(&r->ticks, r->cmos[REG_C] & C_PF)) {
		r->ticks.owed--;
		r->cmos[REG_C] |= C_PF;
	}
}

/* Sets the flags of every event up to t: each flag is set whether or not
 * its interrupt is enabled. Periodic interrupts the guest has not yet
 * taken are owed, as the VM's timer mode says. */
static void sync(struct rtc *r, uint64_t t)
{
	if (t > r->synced_ns) {
		uint64_t due = periodic_between(r, r->synced_ns, t);
		if (due)
			tick_backlog_add(&r->ticks, due, periodic_ns(r));
		else if (next_periodic(r, r->synced_ns) <= (int64_t)t)
			r->cmos[REG_C] |= C_PF; /* PIE off: the flag alone */
		if (next_update(r, r->synced_ns) <= (int64_t)t)
			r->cmos[REG_C] |= C_UF;
		if (next_alarm(r, r->synced_ns) <= (int64_t)t)
			r->cmos[REG_C] |= C_AF;
		r->synced_ns = t;
	}
	raise_owed_periodic(r);
	update_irq(r);
}

/* --- ports ----------------------------------------------------------------- */

static uint8_t read_register(struct rtc *r, uint64_t t)
{
	uint8_t v;

	if (is_time_register(r->index))
		refresh(r, t);
	switch (r->index) {
	case REG_A:
		return (uint8_t)(r->cmos[REG_A] | (uip(r, t) ? A_UIP : 0));
	case REG_C:
		/* Reading C clears the flags and releases IRQ. */
		v = (uint8_t)(r->cmos[REG_C] | (irqf(r) ? C_IRQF : 0));
		r->cmos[REG_C] = 0;
		update_irq(r);
		/* The read acknowledges: the next owed one is a new edge. */
		raise_owed_periodic(r);
		update_irq(r);
		return v;
	default:
		return r->cmos[r->index];
	}
}

static void write_register(struct rtc *r, uint8_t v, uint64_t t)
{
	bool was_running = clock_running(r);
	bool divider_was_running = divider_running(r);

	refresh(r, t);
	switch (r->index) {
	case REG_A:
		if ((v ^ r->cmos[REG_A]) & A_RS_MASK)
			r->ticks.owed = 0; /* a new rate owes nothing of the old */
		r->cmos[REG_A] = v & (uint8_t)~A_UIP;
		if (!divider_was_running && divider_running(r))
			r->chain_ns = (int64_t)t + FIRST_UPDATE_NS - NS_PER_S;
		break;
	case REG_B:
		/* Setting SET clears UIE (data sheet, "Register B"). */
		r->cmos[REG_B] = (v & B_SET) ? v & (uint8_t)~B_UIE : v;
		if (!(v & B_PIE))
			r->ticks.owed = 0;
		break;
	case REG_C:
	case REG_D:
		return; /* read-only */
	default:
		r->cmos[r->index] = v;
		if (!is_time_register(r->index) || !was_running)
			return;
		commit(r, t);
		return;
	}
	if (!was_running && clock_running(r))
		commit(r, t);
	update_irq(r);
}

static uint32_t rtc_read(void *dev, uint16_t port, unsigned size)
{
	struct rtc *r = dev;
	uint64_t t = now(r);
	(void)size;

	if ((port & 1) == PORT_INDEX)
		return READ_NOTHING;
	sync(r, t);
	return read_register(r, t);
}

static void rtc_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct rtc *r = dev;
	uint64_t t = now(r);
	(void)size;

	if ((port & 1) == PORT_INDEX) {
		r->index = value & INDEX_MASK;
		r->nmi_masked = value & INDEX_NMI_DISABLE;
		return;
	}
	sync(r, t);
	write_register(r, (uint8_t)value, t);
}

/* --- timer ----------------------------------------------------------------- */

static int64_t earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static uint64_t timer_next(void *dev)
{
	const struct rtc *r = dev;
	uint8_t b = r->cmos[REG_B];
	int64_t e = NEVER;

	/* Nothing new can be signalled while IRQ is held. */
	if (r->irq_asserted)
		return VTIME_NEVER;
	if (tick_backlog_ready(&r->ticks, r->cmos[REG_C] & C_PF))
		return r->synced_ns; /* an owed interrupt, due now */
	if (b & B_PIE)
		e = earliest(e, next_periodic(r, r->synced_ns));
	if (b & B_UIE)
		e = earliest(e, next_update(r, r->synced_ns));
	if (b & B_AIE)
		e = earliest(e, next_alarm(r, r->synced_ns));
	return e == NEVER ? VTIME_NEVER : (uint64_t)e;
}

static void timer_update(void *dev, uint64_t t)
{
	sync(dev, t);
}

/* --- set-up ---------------------------------------------------------------- */

static void put_word(struct rtc *r, unsigned lo, unsigned hi, uint64_t v)
{
	r->cmos[lo] = (uint8_t)v;
	r->cmos[hi] = (uint8_t)(v >> 8);
}

static uint64_t at_most(uint64_t v, uint64_t max)
{
	return v < max ? v : max;
}

static void set_memory_sizes(struct rtc *r, uint64_t ram)
{
	uint64_t below_4g = at_most(ram, 4 * GIB);
	uint64_t above_4g = ram - below_4g;

	put_word(r, CMOS_BASE_MEM_LO, CMOS_BASE_MEM_HI, at_most(ram / KIB, BASE_MEM_KIB));
	uint64_t ext_kib = ram > MIB ? at_most((ram - MIB) / KIB, MAX_WORD) : 0;
	put_word(r, CMOS_EXT_MEM_LO, CMOS_EXT_MEM_HI, ext_kib);
	put_word(r, CMOS_EXT_MEM2_LO, CMOS_EXT_MEM2_HI, ext_kib);
	uint64_t blocks_16m = below_4g > 16 * MIB ? (below_4g - 16 * MIB) / BLOCK_64K : 0;
	put_word(r, CMOS_MEM_16M_LO, CMOS_MEM_16M_HI, at_most(blocks_16m, MAX_WORD));
	uint64_t blocks_4g = at_most(above_4g / BLOCK_64K, MAX_24BIT);
	r->cmos[CMOS_MEM_4G_LO] = (uint8_t)blocks_4g;
	r->cmos[CMOS_MEM_4G_MID] = (uint8_t)(blocks_4g >> 8);
	r->cmos[CMOS_MEM_4G_HI] = (uint8_t)(blocks_4g >> 16);
}

void rtc_init(struct rtc *r, const struct vclock *clock, struct virq irq, uint64_t epoch_seconds,
	      uint64_t ram_bytes)
{
	memset(r, 0, sizeof(*r));
	r->clock = clock;
	r->irq = irq;
	r->sec_at_chain = (int64_t)epoch_seconds;
	r->cmos[REG_A] = DEFAULT_A;
	r->cmos[REG_B] = DEFAULT_B;
	r->cmos[REG_D] = D_VRT;
	r->cmos[CMOS_EQUIPMENT] = EQUIPMENT_FPU;
	set_memory_sizes(r, ram_bytes);
	store_time(r, r->sec_at_chain);
}

void rtc_set_timer_mode(struct rtc *r, enum timer_mode mode)
{
	r->ticks.mode = mode;
}

int rtc_attach(struct rtc *r, struct io_bus *bus)
{
	return io_bus_register(bus, RTC_BASE, RTC_PORTS, rtc_read, rtc_write, r, "rtc");
}

struct vtimer rtc_timer(struct rtc *r)
{
	return (struct vtimer){ .next_event = timer_next, .update = timer_update, .dev = r };
}

/* A second's worth of the fastest periodic rate (8192 Hz): the most ticks
 * any timer mode keeps owed (tick_backlog.h). */
#define RTC_MAX_OWED 8192u
/* Seconds from 1970 beyond any date the registers hold (years to 9999,
 * with the century byte), both ways. */
#define RTC_MAX_SECONDS (1ll << 40)

void rtc_save(const struct rtc *r, struct state_writer *w)
{
	state_put_bytes(w, r->cmos, sizeof(r->cmos));
	state_put_u8(w, r->index);
	state_put_bool(w, r->nmi_masked);
	/* chain_ns may lie before the clock's zero (a guest that set the
	 * time): a signed offset from now. */
	state_put_u64(w, (uint64_t)(r->chain_ns - (int64_t)w->now_ns));
	state_put_u64(w, (uint64_t)r->sec_at_chain);
	state_put_time(w, r->synced_ns);
	state_put_u32(w, r->ticks.owed);
}

int rtc_load(struct rtc *r, struct state_reader *rd)
{
	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t index;
	bool nmi_masked;
	int64_t chain_off, sec_at_chain;
	uint64_t synced_ns;
	uint32_t owed;

	state_get_bytes(rd, cmos, sizeof(cmos));
	index = state_get_u8(rd);
	nmi_masked = state_get_bool(rd);
	chain_off = (int64_t)state_get_u64(rd);
	sec_at_chain = (int64_t)state_get_u64(rd);
	synced_ns = state_get_past_time(rd);
	owed = state_get_u32(rd);
	if (index & ~INDEX_MASK)
		state_refuse(rd, "RTC index beyond CMOS");
	if (owed > RTC_MAX_OWED)
		state_refuse(rd, "RTC owes more ticks than its timer mode keeps");
	/* The model sets the chain's instant at most a second from a guest
	 * time it has seen (write_register): no later than a second from
	 * now, no earlier than a second before the clock's zero. */
	if (rd->now_ns > INT64_MAX / 2 || chain_off > (int64_t)NS_PER_S ||
	    chain_off < -(int64_t)rd->now_ns - (int64_t)NS_PER_S)
		state_refuse(rd, "RTC divider chain time out of range");
	if (sec_at_chain > RTC_MAX_SECONDS || sec_at_chain < -RTC_MAX_SECONDS)
		state_refuse(rd, "RTC time of day beyond the registers' years");
	if (state_reader_done(rd))
		return -1;
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->index = index;
	r->nmi_masked = nmi_masked;
	r->chain_ns = (int64_t)rd->now_ns + chain_off;
	r->sec_at_chain = sec_at_chain;
	r->synced_ns = synced_ns;
	r->ticks.owed = owed;
	update_irq(r);
	return 0;
}
