/* Unit tests for vmm/vm/exit_profile.c: the port/MSR key table (counts,
 * collisions, overflow into "other"), the top-N ranking, adding vCPU
 * profiles into a VM's, and the hypercall export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/vm/exit_profile.h"

static struct exit_profile a, b;

static uint64_t count_of(const struct key_counts *k, uint32_t key)
{
	for (unsigned s = 0; s < PROFILE_KEY_SLOTS; s++)
		if (k->count[s] && k->key[s] == key)
			return k->count[s];
	return 0;
}

static void test_counts_each_key(void **state)
{
	(void)state;
	profile_reset(&a);
	for (uint32_t port = 0x3f8; port < 0x400; port++)
		for (uint32_t i = 0; i <= port - 0x3f8; i++)
			profile_count_key(&a.ports, port);
	for (uint32_t port = 0x3f8; port < 0x400; port++)
		assert_int_equal(count_of(&a.ports, port), port - 0x3f8 + 1);
	assert_int_equal(a.ports.other, 0);
}

static void test_overflow_goes_to_other(void **state)
{
	uint64_t total = 0;

	(void)state;
	profile_reset(&a);
	/* More distinct keys than slots: every count lands somewhere. */
	for (uint32_t key = 0; key < 3 * PROFILE_KEY_SLOTS; key++)
		profile_count_key(&a.msrs, key);
	for (unsigned s = 0; s < PROFILE_KEY_SLOTS; s++)
		total += a.msrs.count[s];
	assert_true(a.msrs.other > 0);
	assert_int_equal(total + a.msrs.other, 3 * PROFILE_KEY_SLOTS);
	/* A key already in the table keeps counting there. */
	for (unsigned s = 0; s < PROFILE_KEY_SLOTS; s++) {
		if (!a.msrs.count[s])
			continue;
		uint32_t key = a.msrs.key[s];
		profile_count_key(&a.msrs, key);
		assert_int_equal(count_of(&a.msrs, key), 2);
		break;
	}
}

static void test_top_keys_ranked(void **state)
{
	uint32_t keys[3];
	uint64_t counts[3];
	static const uint32_t order[] = { 0x70, 0x3f8, 0x40, 0x71, 0x61, 0x3fd };
	static const unsigned times[] = { 1, 9, 4, 4, 2, 7 };

	(void)state;
	profile_reset(&a);
	for (unsigned i = 0; i < 6; i++)
		for (unsigned t = 0; t < times[i]; t++)
			profile_count_key(&a.ports, order[i]);
	assert_int_equal(profile_top_keys(&a.ports, keys, counts, 3), 3);
	assert_int_equal(keys[0], 0x3f8);
	assert_int_equal(counts[0], 9);
	assert_int_equal(keys[1], 0x3fd);
	assert_int_equal(counts[1], 7);
	assert_int_equal(keys[2], 0x40); /* ties: the lower key first */
	assert_int_equal(counts[2], 4);

	profile_reset(&a);
	profile_count_key(&a.ports, 0x80);
	assert_int_equal(profile_top_keys(&a.ports, keys, counts, 3), 1);
	assert_int_equal(keys[0], 0x80);
	profile_reset(&a);
	assert_int_equal(profile_top_keys(&a.ports, keys, counts, 3), 0);
}

static void test_add_and_export(void **state)
{
	static struct exit_profile sum;
	struct hc_exit_profile out;

	(void)state;
	profile_reset(&a);
	profile_reset(&b);
	a.count[EXIT_CPUID] = 3;
	a.ticks[EXIT_CPUID] = 600;
	a.timed[EXIT_CPUID] = 3;
	a.guest_ticks = 1000;
	profile_count_key(&a.ports, 0x3f8);
	b.unusual = 1; /* a failed entry */
	b.count[EXIT_IO_INSTRUCTION] = 2;
	b.ticks[EXIT_IO_INSTRUCTION] = 900;
	b.timed[EXIT_IO_INSTRUCTION] = 1;
	b.guest_ticks = 50;
	profile_count_key(&b.ports, 0x3f8);
	profile_count_key(&b.ports, 0x3f8);
	profile_count_key(&b.msrs, 0x6e0);

	profile_reset(&sum);
	profile_add(&sum, &a);
	profile_add(&sum, &b);
	assert_int_equal(profile_total(&sum), 6);
	assert_int_equal(sum.count[EXIT_CPUID], 3);
	assert_int_equal(sum.count[EXIT_IO_INSTRUCTION], 2);
	assert_int_equal(sum.guest_ticks, 1050);
	assert_int_equal(profile_root_ticks(&sum), 1500);
	assert_int_equal(count_of(&sum.ports, 0x3f8), 3);

	profile_export(&sum, &out);
	assert_int_equal(out.version, HC_PROFILE_VERSION);
	assert_int_equal(out.total_exits, 6);
	assert_int_equal(out.root_ticks, 1500);
	assert_int_equal(out.timed_exits, 4);
	assert_int_equal(out.count[EXIT_CPUID], 3);
	assert_int_equal(out.ticks[EXIT_IO_INSTRUCTION], 900);
	assert_int_equal(out.timed[EXIT_IO_INSTRUCTION], 1);
	assert_int_equal(out.nports, 1);
	assert_int_equal(out.port[0], 0x3f8);
	assert_int_equal(out.port_count[0], 3);
	assert_int_equal(out.nmsrs, 1);
	assert_int_equal(out.msr[0], 0x6e0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_each_key),
		cmocka_unit_test(test_overflow_goes_to_other),
		cmocka_unit_test(test_top_keys_ranked),
		cmocka_unit_test(test_add_and_export),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
