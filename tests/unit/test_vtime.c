/* Unit tests for vmm/dev/vtime.c: nanoseconds <-> TSC conversions (a deadline
 * converted to a TSC value never fires before its time, and not a tick
 * later than needed), the VM clock read from the real TSC, the timer
 * registry, the earliest-deadline computation and the update of due
 * timers, with fake devices; time held still (delay_for_missed_ticks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "vmm/dev/vtime.h"

#define NS_PER_S 1000000000ull
#define TSC_HZ 3000000000ull /* a nominal 3 GHz for tests on the real TSC */

struct fake_timer {
	uint64_t next;	     /* what next_event returns */
	uint64_t after;	     /* next becomes this when updated */
	unsigned updates;    /* update calls */
	uint64_t update_now; /* the now of the last one */
	bool held;	     /* what held returns */
};

static struct vtime vt;
static struct fake_timer fakes[VTIME_MAX_TIMERS + 1];

static uint64_t fake_next(void *dev)
{
	return ((struct fake_timer *)dev)->next;
}

static void fake_update(void *dev, uint64_t now)
{
	struct fake_timer *f = dev;

	/* Only due timers are updated. */
	assert_true(f->next <= now);
	f->updates++;
	f->update_now = now;
	f->next = f->after;
}

static bool fake_held(void *dev)
{
	return ((struct fake_timer *)dev)->held;
}

static struct vtimer timer_of(struct fake_timer *f, uint64_t min_interval_ns)
{
	return (struct vtimer){ fake_next, fake_update, f, min_interval_ns, fake_held };
}

static int setup(void **state)
{
	(void)state;
	memset(&vt, 0, sizeof(vt));
	memset(fakes, 0, sizeof(fakes));
	for (unsigned i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		fakes[i].next = fakes[i].after = VTIME_NEVER;
	return 0;
}

/* What vtime_now_ns computes at a given TSC value. */
static uint64_t ns_at(const struct vtime *t, uint64_t tsc)
{
	return (uint64_t)((unsigned __int128)(tsc - t->start_tsc) * NS_PER_S / t->tsc_hz);
}

static void test_ns_to_tsc_exact(void **state)
{
	(void)state;
	vtime_init(&vt, 1000, TSC_HZ);
	assert_int_equal(vtime_ns_to_tsc(&vt, 0), 1000);
	assert_int_equal(vtime_ns_to_tsc(&vt, 1), 1003);
	assert_int_equal(vtime_ns_to_tsc(&vt, NS_PER_S), 1000 + TSC_HZ);
	vtime_init(&vt, 0, NS_PER_S); /* 1 GHz: one tick per ns */
	assert_int_equal(vtime_ns_to_tsc(&vt, 123456789), 123456789);
}

static void test_ns_to_tsc_rounds_up(void **state)
{
	(void)state;
	/* 33.333333 MHz: 30.00000003 ns a tick. */
	vtime_init(&vt, 500, 33333333);
	assert_int_equal(vtime_ns_to_tsc(&vt, 1), 501);
	assert_int_equal(vtime_ns_to_tsc(&vt, 30), 501);
	assert_int_equal(vtime_ns_to_tsc(&vt, 31), 502);
	/* 2.5 GHz: 0.4 ns a tick; 1 ns needs 3 ticks (1.2 ns), not 2 (0.8). */
	vtime_init(&vt, 0, 2500000000ull);
	assert_int_equal(vtime_ns_to_tsc(&vt, 1), 3);
	assert_int_equal(vtime_ns_to_tsc(&vt, 2), 5);
}

/* A VM restored from a machine up longer than this one: its origin lies
 * before TSC 0 (wrapped). Its clock reads on from the saved time, its
 * deadlines land where they should, one before TSC 0 is due at once. */
static void test_origin_before_tsc_zero(void **state)
{
	(void)state;
	vtime_init(&vt, 0, NS_PER_S);	/* 1 GHz: one tick per ns */
	vt.start_tsc = (uint64_t)-5000; /* guest time 0 at TSC -5000 */
	assert_int_equal(vtime_ns_to_tsc(&vt, 5000), 0);
	assert_int_equal(vtime_ns_to_tsc(&vt, 7000), 2000);
	assert_int_equal(vtime_ns_to_tsc(&vt, 100), 0); /* before TSC 0: now */
	vtime_hold(&vt, 3000);
	assert_int_equal(vtime_now_ns(&vt), 8000); /* held at TSC 3000 */
}

/* For many clock rates and times: the TSC value returned is the first at
 * which the VM clock has reached the deadline. */
static void test_ns_to_tsc_never_early(void **state)
{
	(void)state;
	static const uint64_t rates[] = { 1000000ull,	 33333333ull,	999999937ull,
					  1000000000ull, 1000000007ull, 2112345678ull,
					  2893437000ull, 3000000000ull, 5999999999ull };
	static const uint64_t starts[] = { 0, 123456789012345ull };

	for (unsigned r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		for (unsigned s = 0; s < 2; s++) {
			vtime_init(&vt, starts[s], rates[r]);
			uint64_t ns = 0;
			for (unsigned i = 0; i < 20000; i++) {
				uint64_t tsc = vtime_ns_to_tsc(&vt, ns);
				assert_true(tsc >= vt.start_tsc);
				assert_true(ns_at(&vt, tsc) >= ns);
				if (tsc > vt.start_tsc)
					assert_true(ns_at(&vt, tsc - 1) < ns);
				/* Irregular steps, then far deadlines (days, years). */
				ns += i < 10000 ? 1 + (i * 7919u) % 997 : ns / 1000 + 9973;
			}
			/* A year ahead. */
			ns = 365ull * 86400 * NS_PER_S + 1;
			uint64_t tsc = vtime_ns_to_tsc(&vt, ns);
			assert_true(ns_at(&vt, tsc) >= ns);
			assert_true(ns_at(&vt, tsc - 1) < ns);
		}
	}
}

static void test_now_ns_from_tsc(void **state)
{
	(void)state;
	/* Started 5 s (at the nominal rate) before now. */
	vtime_init(&vt, rdtsc() - 5 * TSC_HZ, TSC_HZ);
	uint64_t now = vtime_now_ns(&vt);
	assert_true(now >= 5 * NS_PER_S);
	assert_true(now < 6 * NS_PER_S); /* less than 3e9 TSC ticks since */

	/* Never goes backwards; the vclock devices read is the same clock. */
	vtime_init(&vt, rdtsc(), TSC_HZ);
	uint64_t last = 0;
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t t = (i & 1) ? vtime_now_ns(&vt) : vclock_now(&vt.clock);
		assert_true(t >= last);
		last = t;
	}
	assert_true(last < 60 * NS_PER_S);
}

static void test_registry(void **state)
{
	(void)state;
	vtime_init(&vt, 0, TSC_HZ);
	assert_int_equal(vt.ntimers, 0);
	assert_int_equal(vt.next_deadline_tsc, UINT64_MAX);
	for (unsigned i = 0; i < VTIME_MAX_TIMERS; i++)
		assert_int_equal(vtime_add_timer(&vt, timer_of(&fakes[i], 0)), 0);
	assert_int_equal(vt.ntimers, VTIME_MAX_TIMERS);
	assert_int_equal(vtime_add_timer(&vt, timer_of(&fakes[VTIME_MAX_TIMERS], 0)), -1);
	assert_int_equal(vt.ntimers, VTIME_MAX_TIMERS);
	/* The refused one is not consulted. */
	fakes[VTIME_MAX_TIMERS].next = 1;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, UINT64_MAX);
	/* The last accepted one is. */
	fakes[VTIME_MAX_TIMERS - 1].next = 1000;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, 3000);
}

static void test_reschedule_earliest(void **state)
{
	(void)state;
	vtime_init(&vt, 7000, TSC_HZ);
	fakes[0].next = 5 * NS_PER_S;
	vtime_add_timer(&vt, timer_of(&fakes[0], 0));
	/* Adding a timer computes the deadline. */
	assert_int_equal(vt.next_deadline_tsc, 7000 + 5 * TSC_HZ);
	fakes[1].next = VTIME_NEVER;
	vtime_add_timer(&vt, timer_of(&fakes[1], 0));
	fakes[2].next = 2 * NS_PER_S;
	vtime_add_timer(&vt, timer_of(&fakes[2], 0));
	assert_int_equal(vt.next_deadline_tsc, 7000 + 2 * TSC_HZ);
	/* A device reprogrammed earlier / later. */
	fakes[1].next = 1;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, 7000 + 3);
	fakes[1].next = VTIME_NEVER;
	fakes[2].next = 9 * NS_PER_S;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, 7000 + 5 * TSC_HZ);
	/* Nothing armed: UINT64_MAX, not a converted VTIME_NEVER. */
	fakes[0].next = fakes[2].next = VTIME_NEVER;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, UINT64_MAX);
	/* An event at time 0 is the start TSC. */
	fakes[2].next = 0;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, 7000);
}

static void test_update_only_due_timers(void **state)
{
	(void)state;
	/* The VM started 10 s ago (nominal rate). */
	vtime_init(&vt, rdtsc() - 10 * TSC_HZ, TSC_HZ);
	fakes[0].next = 5 * NS_PER_S; /* past: fires, then idle */
	fakes[0].after = VTIME_NEVER;
	fakes[1].next = 1000000 * NS_PER_S; /* far future */
	fakes[2].next = VTIME_NEVER;
	fakes[3].next = 0; /* past: fires, re-arms in the future */
	fakes[3].after = 2000 * NS_PER_S;
	for (unsigned i = 0; i < 4; i++)
		vtime_add_timer(&vt, timer_of(&fakes[i], 0));
	assert_int_equal(vt.next_deadline_tsc, vt.start_tsc);

	uint64_t before = vtime_now_ns(&vt);
	vtime_update(&vt);
	uint64_t after = vtime_now_ns(&vt);
	assert_int_equal(fakes[0].updates, 1);
	assert_int_equal(fakes[1].updates, 0);
	assert_int_equal(fakes[2].updates, 0);
	assert_int_equal(fakes[3].updates, 1);
	/* Updated with the current time. */
	assert_true(fakes[0].update_now >= before && fakes[0].update_now <= after);
	assert_int_equal(fakes[3].update_now, fakes[0].update_now);
	/* The deadline is recomputed from what the devices say now. */
	assert_int_equal(vt.next_deadline_tsc, vtime_ns_to_tsc(&vt, 2000 * NS_PER_S));

	/* Nothing due: nothing updated. */
	vtime_update(&vt);
	assert_int_equal(fakes[0].updates, 1);
	assert_int_equal(fakes[3].updates, 1);
	assert_int_equal(fakes[1].updates, 0);
}

/* A timer with a minimum interval is looked at no more often than that;
 * its events in between are coalesced into the next look. */
static void test_min_interval(void **state)
{
	(void)state;
	const uint64_t interval = 1000 * NS_PER_S; /* far longer than the test */

	vtime_init(&vt, rdtsc() - 10 * TSC_HZ, TSC_HZ);
	fakes[0].next = NS_PER_S;
	fakes[0].after = 2 * NS_PER_S; /* asks again right away (past) */
	fakes[1].next = NS_PER_S;
	fakes[1].after = 2 * NS_PER_S;
	vtime_add_timer(&vt, timer_of(&fakes[0], interval));
	vtime_add_timer(&vt, timer_of(&fakes[1], 0));
	/* Not updated since the start: the first look waits for the interval
	 * from time 0. */
	assert_int_equal(vt.next_deadline_tsc, vtime_ns_to_tsc(&vt, NS_PER_S));
	fakes[1].next = VTIME_NEVER;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, vtime_ns_to_tsc(&vt, interval));
	vtime_update(&vt);
	assert_int_equal(fakes[0].updates, 0);

	/* A timer with a small interval that has not been looked at yet. */
	setup(NULL);
	vtime_init(&vt, rdtsc() - 10 * TSC_HZ, TSC_HZ);
	fakes[0].next = NS_PER_S;
	fakes[0].after = 2 * NS_PER_S;
	vtime_add_timer(&vt, timer_of(&fakes[0], NS_PER_S / 50));
	assert_int_equal(vt.next_deadline_tsc, vtime_ns_to_tsc(&vt, NS_PER_S));
	vtime_update(&vt);
	assert_int_equal(fakes[0].updates, 1);
	uint64_t last = fakes[0].update_now;
	/* Due again (2 s is past), but looked at less than 20 ms ago: the
	 * deadline is the end of the interval, and an update now skips it. */
	assert_int_equal(vt.next_deadline_tsc, vtime_ns_to_tsc(&vt, last + NS_PER_S / 50));
	if (vtime_now_ns(&vt) < last + NS_PER_S / 100) {
		vtime_update(&vt);
		assert_int_equal(fakes[0].updates, 1);
	}
	/* Once the interval is over it is updated. */
	while (vtime_now_ns(&vt) < last + NS_PER_S / 50)
		;
	vtime_update(&vt);
	assert_int_equal(fakes[0].updates, 2);
	/* Idle timers are not pulled forward to the interval's end. */
	fakes[0].next = VTIME_NEVER;
	vtime_reschedule(&vt);
	assert_int_equal(vt.next_deadline_tsc, UINT64_MAX);
}

/* A timer holding owed ticks for the guest is looked at again when an
 * interrupt is injected; without one, an injection costs nothing. */
static void test_interrupt_taken_reschedules_held(void **state)
{
	(void)state;
	vtime_init(&vt, 0, NS_PER_S);
	fakes[0].next = 5000;
	assert_int_equal(vtime_add_timer(&vt, timer_of(&fakes[0], 0)), 0);
	assert_int_equal(vt.held, 0);
	assert_int_equal(vt.next_deadline_tsc, 5000);
	/* Not held: what the device says now is not looked at. */
	fakes[0].next = 100;
	vtime_interrupt_taken(&vt);
	assert_int_equal(vt.next_deadline_tsc, 5000);
	/* Held: the injection lets it say "due now". */
	fakes[0].held = true;
	vtime_reschedule(&vt);
	assert_int_equal(vt.held, 1);
	fakes[0].next = 10;
	vtime_interrupt_taken(&vt);
	assert_int_equal(vt.next_deadline_tsc, 10);
}

/* While held the clock reads the moment it was held, however much the
 * TSC moves; released, it goes on from there. */
static void test_held_time_stands_still(void **state)
{
	(void)state;
	/* Started 10 s (at the nominal rate) before now. */
	uint64_t t0 = rdtsc() - 10 * TSC_HZ;
	vtime_init(&vt, t0, TSC_HZ);
	uint64_t hold_at = t0 + TSC_HZ / 1000; /* 1 ms in */
	vtime_hold(&vt, hold_at);
	assert_int_equal(vtime_now_ns(&vt), 1000000);
	/* A second hold does not move the moment. */
	vtime_hold(&vt, hold_at + 5000);
	assert_int_equal(vtime_now_ns(&vt), 1000000);
	uint64_t release_at = hold_at + TSC_HZ; /* a second later */
	assert_int_equal(vtime_release(&vt, release_at, true), TSC_HZ);
	assert_int_equal(vt.held_tsc, TSC_HZ);
	assert_int_equal(vtime_origin_tsc(&vt), t0 + TSC_HZ);
	/* Now the real TSC again, less the second held. */
	uint64_t before = rdtsc();
	uint64_t now = vtime_now_ns(&vt);
	uint64_t after = rdtsc();
	assert_true(now >= ns_at(&vt, before) - NS_PER_S);
	assert_true(now <= ns_at(&vt, after) - NS_PER_S);
	/* Not held: releasing changes nothing. */
	assert_int_equal(vtime_release(&vt, after, true), 0);
	assert_int_equal(vt.held_tsc, TSC_HZ);
}

/* A device's deadline, in guest nanoseconds, falls later on the host's
 * TSC by the time held. */
static void test_release_moves_deadlines(void **state)
{
	(void)state;
	vtime_init(&vt, 1000, TSC_HZ);
	fakes[0].next = 2 * NS_PER_S;
	assert_int_equal(vtime_add_timer(&vt, timer_of(&fakes[0], 0)), 0);
	assert_int_equal(vt.next_deadline_tsc, 1000 + 2 * TSC_HZ);
	vtime_hold(&vt, 1000 + TSC_HZ / 2);
	vtime_release(&vt, 1000 + TSC_HZ / 2 + 3 * TSC_HZ, true);
	assert_int_equal(vt.next_deadline_tsc, 1000 + 5 * TSC_HZ);
	assert_int_equal(vtime_ns_to_tsc(&vt, 0), 1000 + 3 * TSC_HZ);
}

/* A release that does not count (the gap was the hypervisor's own) lets
 * the time run on as if never held. */
static void test_release_without_count(void **state)
{
	(void)state;
	vtime_init(&vt, 1000, TSC_HZ);
	vtime_hold(&vt, 2000);
	assert_int_equal(vtime_release(&vt, 9000, false), 0);
	assert_int_equal(vt.held_tsc, 0);
	assert_int_equal(vt.held_since_tsc, 0);
	assert_int_equal(vtime_origin_tsc(&vt), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ns_to_tsc_exact, setup),
		cmocka_unit_test_setup(test_ns_to_tsc_rounds_up, setup),
		cmocka_unit_test_setup(test_origin_before_tsc_zero, setup),
		cmocka_unit_test_setup(test_ns_to_tsc_never_early, setup),
		cmocka_unit_test_setup(test_now_ns_from_tsc, setup),
		cmocka_unit_test_setup(test_registry, setup),
		cmocka_unit_test_setup(test_reschedule_earliest, setup),
		cmocka_unit_test_setup(test_update_only_due_timers, setup),
		cmocka_unit_test_setup(test_min_interval, setup),
		cmocka_unit_test_setup(test_interrupt_taken_reschedules_held, setup),
		cmocka_unit_test_setup(test_held_time_stands_still, setup),
		cmocka_unit_test_setup(test_release_moves_deadlines, setup),
		cmocka_unit_test_setup(test_release_without_count, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
