/* Unit tests for the test build's fault injection: the fault= parser
 * (arch/x86/fault_inject.c) and the page allocator's failing allocation
 * (arch/x86/page_alloc.c), both compiled here with FAULT_INJECT. */
#define FAULT_INJECT 1

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/fault_inject.c"
#include "arch/x86/page_alloc.c"

#define ARENA_SIZE (1u << 20)

static char printed[4][200];
static unsigned nprinted;

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (nprinted < 4)
		vsnprintf(printed[nprinted++], sizeof(printed[0]), fmt, ap);
	va_end(ap);
}

static int start(const char *spec, char *why)
{
	nprinted = 0;
	return fault_inject_start(spec, why, 160);
}

static void test_kinds_are_parsed(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(start("entry:ent,noexit:spin,apdead:1,devtimeout:ata0", why), 0);
	assert_true(fault_ap_dead(1));
	assert_false(fault_ap_dead(2));
	assert_true(fault_device_times_out("ata0"));
	assert_true(fault_device_times_out("ata0"));
	assert_false(fault_device_times_out("ata1"));
	assert_false(fault_take(FAULT_ENTRY, "spin"));
	assert_true(fault_take(FAULT_ENTRY, "ent"));
	/* One-shot: a restarted VM enters normally. */
	assert_false(fault_take(FAULT_ENTRY, "ent"));
	assert_true(fault_take(FAULT_NOEXIT, "spin"));
}

static void test_disk_times_out_from_its_nth_command(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(start("devtimeout:ata1:3", why), 0);
	assert_false(fault_device_times_out("ata1"));
	assert_false(fault_device_times_out("ata0"));
	assert_false(fault_device_times_out("ata1"));
	assert_true(fault_device_times_out("ata1"));
	assert_true(fault_device_times_out("ata1"));
}

static void test_malformed_specs_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"entry",
		"entry:",
		"bogus:1",
		"alloc:0",
		"alloc:x",
		"alloc:1:",
		"alloc:sweep:",
		"apdead:0",
		"apdead:one",
		"entry:a,,b",
		"noexit:0123456789012345678901234567890123",
		"alloc:99999999999",
		"devtimeout:ata0:",
		"devtimeout:ata0:0",
		"devtimeout::1",
	};
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(start(bad[i], why), -1);
		assert_true(why[0] != '\0');
	}
	/* A refused spec takes nothing, not even its good items. */
	assert_int_equal(start("apdead:3", why), 0);
	assert_int_equal(start("apdead:2,bogus:1", why), -1);
	assert_true(fault_ap_dead(3));
	assert_false(fault_ap_dead(2));
}

static void test_too_many_faults_are_refused(void **state)
{
	char spec[FAULT_MAX * 10 + 20] = "", why[160];

	(void)state;
	for (int i = 0; i <= FAULT_MAX; i++)
		strcat(spec, i ? ",apdead:1" : "apdead:1");
	assert_int_equal(start(spec, why), -1);
	assert_non_null(strstr(why, "more than"));
}

static uint8_t *arena_setup(void)
{
	uint8_t *arena = aligned_alloc(ARENA_SIZE, ARENA_SIZE);

	assert_non_null(arena);
	page_alloc_reset();
	page_alloc_add((uint64_t)(uintptr_t)arena, ARENA_SIZE);
	return arena;
}

static void test_nth_allocation_of_a_creation_fails(void **state)
{
	char why[160];
	uint8_t *arena = arena_setup();

	(void)state;
	assert_int_equal(start("alloc:3:b", why), 0);
	/* Outside a creation nothing is counted. */
	assert_non_null(page_alloc(1));
	fault_alloc_begin("a");
	for (int i = 0; i < 4; i++)
		assert_non_null(page_alloc(1));
	fault_alloc_end();
	assert_string_equal(printed[0],
			    "pgvisor: fault: vm a: its creation made 4 page allocations\n");
	fault_alloc_begin("b");
	assert_non_null(page_alloc(1));
	assert_non_null(page_alloc(1));
	uint64_t before = page_alloc_free_bytes();
	assert_null(page_alloc(1));
	assert_int_equal(page_alloc_free_bytes(), before); /* nothing taken */
	assert_non_null(page_alloc(1));
	fault_alloc_end();
	assert_string_equal(printed[1], "pgvisor: fault: vm b: page allocation 3 of its creation "
					"failed (injected)\n");
	/* Spent: b created again succeeds. */
	fault_alloc_begin("b");
	for (int i = 0; i < 4; i++)
		assert_non_null(page_alloc(1));
	fault_alloc_end();
	free(arena);
}

static void test_first_vm_and_sweep(void **state)
{
	char why[160];
	uint8_t *arena = arena_setup();

	(void)state;
	/* alloc:N without a VM: the first VM created, whatever its name. */
	assert_int_equal(start("alloc:1", why), 0);
	fault_alloc_begin("first");
	assert_null(page_alloc(1));
	fault_alloc_end();
	fault_alloc_begin("second");
	assert_non_null(page_alloc(1));
	fault_alloc_end();
	/* alloc:sweep:fa: fa<k> fails its kth; other names and fa0 never. */
	assert_int_equal(start("alloc:sweep:fa", why), 0);
	for (unsigned k = 1; k <= 3; k++) {
		fault_alloc_begin(k == 1 ? "fa1" : k == 2 ? "fa2" : "fa3");
		for (unsigned i = 1; i <= 4; i++) {
			void *p = page_alloc(1);
			if (i == k)
				assert_null(p);
			else
				assert_non_null(p);
		}
		fault_alloc_end();
	}
	fault_alloc_begin("fa0");
	assert_non_null(page_alloc(1));
	fault_alloc_end();
	fault_alloc_begin("fab");
	assert_non_null(page_alloc(1));
	fault_alloc_end();
	free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_are_parsed),
		cmocka_unit_test(test_disk_times_out_from_its_nth_command),
		cmocka_unit_test(test_malformed_specs_are_refused),
		cmocka_unit_test(test_too_many_faults_are_refused),
		cmocka_unit_test(test_nth_allocation_of_a_creation_fails),
		cmocka_unit_test(test_first_vm_and_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
