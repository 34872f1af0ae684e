/* hello: a guest that reports what it sees of the machine and checks that
 * CPUID, port I/O, MSRs and (under pgvisor) hypercalls behave as on bare
 * hardware. Every check prints "hello: check NAME ok|FAILED".
 *
 * Command line options: exit=N (exit code when all checks pass), halt
 * (stop with cli;hlt instead of powering off), spin=N (a CPU-bound loop
 * whose checksum is printed; with spin-sti the loop runs with interrupts
 * enabled, as an OS's idle-free work does), fill=0xPATTERN (write the 32-bit pattern to
 * all free RAM before the spin and check it is intact after: another VM
 * or the hypervisor must not change it), echo (print back every line
 * received on COM1 until "quit"), powerbutton (wait for the ACPI power
 * button, then power off through ACPI S5: pgvisor's PM block at 0x600, as
 * its FADT describes it; polled, without an SCI handler). */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/freemem.h"
#include "guest/lib/runtime.h"
#include "guest/lib/spin.h"
#include "guest/lib/string.h"
#include "vmm/abi/hypercall_abi.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_TSC_LEAF 0x15
#define CPUID_FREQUENCY_LEAF 0x16
#define UART_SCRATCH 0x3ff
/* COM3 scratch: no COM3 in Bochs or QEMU. (COM4 at 0x2e8 reads 0 in Bochs.) */
#define UNCLAIMED_PORT (0x3e8 + 7)
#define MSR_NONEXISTENT 0x12345678
#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define VECTOR_GP 13
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_IO 30
#define EXITS_PER_PROBE 16 /* K in "K exits raise the count by K" */
#define MAX_TEXT_LINE 72
#define MAX_ECHO_LINE 72
/* pgvisor's ACPI PM1 block (vmm/dev/acpi_pm.h; ACPI 6.4 Tables 4.11-4.13). */
#define PM1_STS 0x600
#define PM1_EN 0x602
#define PM1_CNT 0x604
#define PM1_PWRBTN 0x0100
#define PM1_SLP_TYP_S5 (5u << 10)
#define PM1_SLP_EN 0x2000
/* QEMU's TCG emulator neither faults on unknown MSRs nor implements
 * RDMSR of IA32_TSC (reads 0): those checks are skipped there. */
#define QEMU_TCG_SIGNATURE "TCGTCGTCGTCG"

const char program_name[] = "hello";

static unsigned checks_failed;

static void check(const char *name, bool ok)
{
	printf("hello: check %s %s\n", name, ok ? "ok" : "FAILED");
	if (!ok)
		checks_failed++;
}

static void skip(const char *name, const char *why)
{
	printf("hello: check %s skipped (%s)\n", name, why);
}

static uint32_t fnv1a(const uint8_t *data, uint32_t size)
{
	uint32_t hash = 0x811c9dc5;
	for (uint32_t i = 0; i < size; i++) {
		hash ^= data[i];
		hash *= 0x01000193;
	}
	return hash;
}

static bool is_text(const uint8_t *data, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		if ((data[i] < 0x20 || data[i] > 0x7e) && data[i] != '\n' && data[i] != '\r' &&
		    data[i] != '\t')
			return false;
	return size > 0;
}

static void report_modules(const struct boot_params *bp)
{
	printf("hello: modules %u\n", bp->nmodules);
	for (unsigned i = 0; i < bp->nmodules && i < BOOT_MAX_MODULES; i++) {
		const struct boot_module *m = &bp->modules[i];
		const uint8_t *data = (const uint8_t *)m->start;
		printf("hello: module %u name %s size %u fnv1a 0x%08x\n", i, m->name, m->size,
		       fnv1a(data, m->size));
		if (!is_text(data, m->size))
			continue;
		char line[MAX_TEXT_LINE + 1];
		unsigned len = 0;
		while (len < m->size && len < MAX_TEXT_LINE && data[len] != '\n' &&
		       data[len] != '\r')
			len++;
		memcpy(line, data, len);
		line[len] = '\0';
		printf("hello: module %u text %s\n", i, line);
	}
}

static void report_boot(uint32_t magic, const struct boot_params *bp)
{
	printf("hello: boot %s magic 0x%08x loader \"%s\"\n", bp->protocol, magic, bp->loader_name);
	printf("hello: cmdline \"%s\"\n", bp->cmdline);
	uint32_t low_kib = (uint32_t)(bp->usable_below_1m >> 10);
	uint32_t high_kib = (uint32_t)(bp->usable_above_1m >> 10);
	printf("hello: memory %u KiB usable (%u KiB below 1 MiB + %u KiB above) from %s\n",
	       low_kib + high_kib, low_kib, high_kib,
	       bp->have_memory_map ? "memory map" : "mem_lower/mem_upper");
	check("memory-found", high_kib > 0);
	report_modules(bp);
}

/* The 12 characters in a CPUID leaf's EBX, ECX, EDX; in vendor_order
 * (leaf 0) the order is EBX, EDX, ECX. */
static void cpuid_string(uint32_t leaf, bool vendor_order, char out[13])
{
	struct cpuid_regs r = cpuid(leaf);
	memcpy(out, &r.ebx, 4);
	memcpy(out + 4, vendor_order ? &r.edx : &r.ecx, 4);
	memcpy(out + 8, vendor_order ? &r.ecx : &r.edx, 4);
	out[12] = '\0';
}

static bool all_printable(const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* CPUID 0x15 and 0x16 where offered (CPUs that have them): the TSC as
 * crystal * EBX / EAX, computed as Linux does (crystal kHz times the
 * ratio), and the base and bus MHz, against the timing leaf's kHz. */
static void check_tsc_leaves(uint32_t max_leaf, uint32_t tsc_khz, uint32_t bus_khz)
{
	if (max_leaf < CPUID_TSC_LEAF) {
		printf("hello: cpuid tsc leaf not offered\n");
		return;
	}
	struct cpuid_regs c = cpuid(CPUID_TSC_LEAF);
	uint32_t khz = c.eax ? c.ecx / 1000 * c.ebx / c.eax : 0;
	uint32_t off = khz > tsc_khz ? khz - tsc_khz : tsc_khz - khz;
	printf("hello: cpuid tsc leaf crystal %u Hz ratio %u/%u: tsc %u kHz\n", c.ecx, c.ebx, c.eax,
	       khz);
	/* The crystal's kHz are whole: the TSC's may be off by the ratio. */
	check("cpuid-tsc-leaf", khz && off <= c.ebx / c.eax && c.ecx / 1000 == bus_khz);
	if (max_leaf < CPUID_FREQUENCY_LEAF)
		return;
	struct cpuid_regs f = cpuid(CPUID_FREQUENCY_LEAF);
	printf("hello: cpuid frequency leaf base %u MHz max %u MHz bus %u MHz\n", f.eax, f.ebx,
	       f.ecx);
	check("cpuid-frequency-leaf",
	      f.eax == tsc_khz / 1000 && f.ebx == f.eax && f.ecx == bus_khz / 1000);
}

/* Returns whether the machine is QEMU TCG (by its hypervisor signature). */
static bool check_cpuid(bool under_pgvisor)
{
	char vendor[13];
	cpuid_string(0, true, vendor);
	uint32_t max_leaf = cpuid(0).eax;
	printf("hello: cpuid vendor \"%s\" max leaf 0x%x\n", vendor, max_leaf);
	check("cpuid-vendor", all_printable(vendor, 12) && max_leaf >= 1);

	uint32_t ecx = cpuid(1).ecx;
	printf("hello: cpuid hypervisor-bit %u vmx-bit %u\n",
	       (ecx & CPUID_1_ECX_HYPERVISOR) ? 1 : 0, (ecx & CPUID_1_ECX_VMX) ? 1 : 0);
	char signature[13] = "";
	if (ecx & CPUID_1_ECX_HYPERVISOR) {
		cpuid_string(PGVISOR_CPUID_SIGNATURE_LEAF, false, signature);
		if (!all_printable(signature, 12))
			signature[0] = '\0';
		printf("hello: cpuid hypervisor signature \"%s\" max leaf 0x%x\n", signature,
		       cpuid(PGVISOR_CPUID_SIGNATURE_LEAF).eax);
	}
	printf("hello: pgvisor %s\n", under_pgvisor ? "present" : "absent");
	if (under_pgvisor) {
		check("vmx-hidden", !(ecx & CPUID_1_ECX_VMX));
		/* The timing leaf: the TSC and the APIC timer's bus clock, the
		 * bus never the faster. */
		struct cpuid_regs t = cpuid(PGVISOR_CPUID_TIMING_LEAF);
		printf("hello: cpuid timing tsc %u kHz bus %u kHz\n", t.eax, t.ebx);
		check("cpuid-timing", t.eax && t.ebx && t.ebx <= t.eax);
		check_tsc_leaves(max_leaf, t.eax, t.ebx);
	}
	return memcmp(signature, QEMU_TCG_SIGNATURE, 12) == 0;
}

static void check_ports(void)
{
	static const uint8_t patterns[] = { 0x00, 0x55, 0xaa, 0xff, 0x5a, 0xa5 };
	bool ok = true;
	for (unsigned i = 0; i < sizeof(patterns); i++) {
		outb(UART_SCRATCH, patterns[i]);
		uint8_t got = inb(UART_SCRATCH);
		if (got != patterns[i]) {
			printf("hello: uart scratch wrote 0x%02x read 0x%02x\n", patterns[i], got);
			ok = false;
		}
	}
	check("uart-scratch", ok);

	uint8_t unclaimed = inb(UNCLAIMED_PORT);
	printf("hello: port 0x%x reads 0x%02x\n", UNCLAIMED_PORT, unclaimed);
	check("unclaimed-port", unclaimed == 0xff);
}

static void check_msrs(bool qemu_tcg)
{
	uint64_t value = 0;
	int read_vector = rdmsr_safe(MSR_NONEXISTENT, &value);
	int write_vector = wrmsr_safe(MSR_NONEXISTENT, 0);
	printf("hello: msr 0x%x read raised vector %d, write vector %d\n", MSR_NONEXISTENT,
	       read_vector, write_vector);
	if (qemu_tcg) {
		skip("msr-read-nonexistent-gp", "QEMU TCG does not fault");
		skip("msr-write-nonexistent-gp", "QEMU TCG does not fault");
	} else {
		check("msr-read-nonexistent-gp", read_vector == VECTOR_GP);
		check("msr-write-nonexistent-gp", write_vector == VECTOR_GP);
	}

	uint64_t saved = rdmsr(MSR_IA32_SYSENTER_CS);
	wrmsr(MSR_IA32_SYSENTER_CS, 0x1234);
	uint64_t readback = rdmsr(MSR_IA32_SYSENTER_CS);
	wrmsr(MSR_IA32_SYSENTER_CS, saved);
	check("msr-sysenter-cs", readback == 0x1234 && rdmsr(MSR_IA32_SYSENTER_CS) == saved);

	/* IA32_TSC and RDTSC read the same counter: interleaved reads never go
	 * back, and it moves. */
	if (qemu_tcg) {
		skip("tsc-monotonic", "QEMU TCG reads IA32_TSC as 0");
		return;
	}
	uint64_t first = rdmsr(MSR_IA32_TSC), previous = first;
	bool monotonic = true;
	for (int i = 0; i < 8; i++) {
		uint64_t now = (i & 1) ? rdtsc() : rdmsr(MSR_IA32_TSC);
		if (now < previous)
			monotonic = false;
		previous = now;
	}
	printf("hello: tsc 0x%llx -> 0x%llx\n", first, previous);
	check("tsc-monotonic", monotonic && previous > first);
}

static uint32_t exit_count(uint32_t reason)
{
	return (uint32_t)hypercall(HC_EXIT_COUNT, reason, 0, 0);
}

/* Only under pgvisor: VMCALL is #UD elsewhere. Nothing in between two
 * exit_count reads may print, since console output is port I/O. */
static void check_hypercalls(void)
{
	int32_t version = hypercall(HC_VERSION, 0, 0, 0);
	printf("hello: hypercall version %d\n", version);
	check("hc-version", version == HC_ABI_VERSION);
	int32_t unknown = hypercall(0x7777, 0, 0, 0);
	printf("hello: hypercall 0x7777 returned %d\n", unknown);
	check("hc-unknown", unknown == HC_ERR_UNKNOWN);

	uint32_t before = exit_count(EXIT_REASON_CPUID);
	for (int i = 0; i < EXITS_PER_PROBE; i++)
		cpuid(0);
	uint32_t cpuid_delta = exit_count(EXIT_REASON_CPUID) - before;

	before = exit_count(EXIT_REASON_IO);
	for (int i = 0; i < EXITS_PER_PROBE; i++)
		inb(UART_SCRATCH);
	uint32_t io_delta = exit_count(EXIT_REASON_IO) - before;

	before = exit_count(EXIT_REASON_VMCALL);
	uint32_t vmcalls = exit_count(EXIT_REASON_VMCALL);

	printf("hello: exits cpuid+%u io+%u vmcall=%u\n", cpuid_delta, io_delta, vmcalls);
	check("exit-count-cpuid", cpuid_delta == EXITS_PER_PROBE);
	check("exit-count-io", io_delta == EXITS_PER_PROBE);
	check("exit-count-vmcall", vmcalls - before == 1);
}

/* The exit profile: between two reads, K CPUIDs are K CPUID exits and
 * the second read is the one VMCALL (a timer exit may come in between,
 * and a CPUID exit that ends a slice is counted but not timed). Bad
 * buffers are refused. */
static void check_profile(void)
{
	static struct hc_exit_profile before, after;

	int32_t first = hypercall(HC_PROFILE_READ, (uint32_t)(uintptr_t)&before, sizeof(before), 0);
	for (int i = 0; i < EXITS_PER_PROBE; i++)
		cpuid(0);
	int32_t second = hypercall(HC_PROFILE_READ, (uint32_t)(uintptr_t)&after, sizeof(after), 0);
	int32_t short_buffer = hypercall(HC_PROFILE_READ, (uint32_t)(uintptr_t)&after, 8, 0);
	int32_t outside = hypercall(HC_PROFILE_READ, 0xfffff000u, sizeof(after), 0);
	/* 32-bit arithmetic: the guest has no libgcc for 64-bit division,
	 * and K exits take far fewer than 2^32 ticks. */
	uint32_t cpuids =
		(uint32_t)(after.count[EXIT_REASON_CPUID] - before.count[EXIT_REASON_CPUID]);
	uint32_t vmcalls =
		(uint32_t)(after.count[EXIT_REASON_VMCALL] - before.count[EXIT_REASON_VMCALL]);
	uint32_t timed =
		(uint32_t)(after.timed[EXIT_REASON_CPUID] - before.timed[EXIT_REASON_CPUID]);
	uint32_t ticks =
		(uint32_t)(after.ticks[EXIT_REASON_CPUID] - before.ticks[EXIT_REASON_CPUID]);
	uint32_t per_exit = timed ? ticks / timed : 0;
	printf("hello: profile cpuid+%u timed+%u ticks/exit=%u vmcall+%u total=%llu\n", cpuids,
	       timed, per_exit, vmcalls, after.total_exits);
	check("profile-calls", first == 0 && second == 0 && after.version == HC_PROFILE_VERSION);
	check("profile-cpuid",
	      cpuids == EXITS_PER_PROBE && timed > 0 && timed <= EXITS_PER_PROBE && per_exit > 0);
	check("profile-vmcall", vmcalls == 1 && after.total_exits > before.total_exits);
	check("profile-bad-buffer", short_buffer == HC_ERR_INVAL && outside == HC_ERR_INVAL);
}

static void fill(const struct free_ranges *fr, uint32_t pattern)
{
	for (unsigned i = 0; i < fr->n; i++) {
		volatile uint32_t *word = (volatile uint32_t *)(uint32_t)fr->range[i].start;
		for (uint32_t n = (uint32_t)((fr->range[i].end - fr->range[i].start) / 4); n; n--)
			*word++ = pattern;
	}
	/* Tells a test from when on other VMs can look for the pattern. */
	printf("hello: fill 0x%08x written over %u KiB\n", pattern, (uint32_t)(fr->bytes >> 10));
}

static void check_fill(const struct free_ranges *fr, uint32_t pattern)
{
	uint32_t kib = (uint32_t)(fr->bytes >> 10);
	for (unsigned i = 0; i < fr->n; i++) {
		volatile uint32_t *word = (volatile uint32_t *)(uint32_t)fr->range[i].start;
		for (uint32_t n = (uint32_t)((fr->range[i].end - fr->range[i].start) / 4); n;
		     n--, word++) {
			uint32_t found = *word;
			if (found != pattern) {
				printf("hello: fill 0x%08x over %u KiB FAILED at 0x%08x (read "
				       "0x%08x)\n",
				       pattern, kib, (uint32_t)word, found);
				checks_failed++;
				return;
			}
		}
	}
	printf("hello: fill 0x%08x over %u KiB verified ok\n", pattern, kib);
}

/* Prints line with bytes outside printable ASCII, and the backslash, as
 * C escapes, so a script can tell exactly which bytes arrived. */
static void print_echo(const char *line, unsigned len)
{
	printf("hello: echo ");
	for (unsigned i = 0; i < len; i++) {
		uint8_t c = (uint8_t)line[i];
		if (c == '\\')
			printf("\\\\");
		else if (c < 0x20 || c > 0x7e)
			printf("\\x%02x", c);
		else
			console_putc((char)c);
	}
	console_putc('\n');
}

/* Whole lines only: characters are not echoed as they come, so the host
 * console shows one "hello: echo" line per line sent. A line ends at CR
 * or LF; empty lines (the LF of a CR LF) and bytes past MAX_ECHO_LINE are
 * dropped. */
static void echo_lines(void)
{
	char line[MAX_ECHO_LINE];
	unsigned len = 0;
	printf("hello: echo ready (\"quit\" ends)\n");
	for (;;) {
		char c = console_getc();
		if (c != '\r' && c != '\n') {
			if (len < MAX_ECHO_LINE)
				line[len++] = c;
			continue;
		}
		if (len == 0)
			continue;
		if (len == 4 && memcmp(line, "quit", 4) == 0)
			return;
		print_echo(line, len);
		len = 0;
	}
}

/* Enables the power button event and waits for it, as an OS's SCI handler
 * would see it, then powers off the way the DSDT's \_S5 says. */
static void wait_for_power_button(void)
{
	outw(PM1_EN, PM1_PWRBTN);
	printf("hello: waiting for the power button\n");
	while (!(inw(PM1_STS) & PM1_PWRBTN))
		__asm__ volatile("pause");
	outw(PM1_STS, PM1_PWRBTN); /* write 1 to clear */
	printf("hello: power button pressed; powering off\n");
	console_flush();
	outw(PM1_CNT, PM1_SLP_TYP_S5 | PM1_SLP_EN);
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	bool booted_by_multiboot = boot_params_parse(magic, info, &bp) == 0;
	check("boot-magic", booted_by_multiboot);
	if (booted_by_multiboot)
		report_boot(magic, &bp);
	else
		bp.cmdline = "";

	bool under_pgvisor = hypervisor_present();
	bool qemu_tcg = check_cpuid(under_pgvisor);
	check_ports();
	check_msrs(qemu_tcg);
	if (under_pgvisor) {
		check_hypercalls();
		check_profile();
	}

	/* Filled before the spin and checked after, so the pattern stays in
	 * RAM while other VMs run. */
	const char *fill_option = cmdline_option(bp.cmdline, "fill");
	struct free_ranges free_ram;
	bool filled = false;
	if (fill_option) {
		filled = free_ranges_find(&bp, &free_ram) == 0;
		check("fill-memory-map", filled);
		if (filled)
			fill(&free_ram, parse_uint(fill_option));
	}

	const char *spin_option = cmdline_option(bp.cmdline, "spin");
	if (spin_option) {
		uint32_t iterations = parse_uint(spin_option);
		/* Nothing raises an interrupt for hello: IF = 1 only changes
		 * how the CPU (and Bochs) may take host interrupts meanwhile. */
		bool sti = cmdline_option(bp.cmdline, "spin-sti") != 0;
		if (sti)
			__asm__ volatile("sti" ::: "memory");
		uint32_t sum = spin(iterations);
		if (sti)
			__asm__ volatile("cli" ::: "memory");
		printf("hello: spin %u checksum 0x%08x\n", iterations, sum);
	}
	if (filled)
		check_fill(&free_ram, parse_uint(fill_option));

	if (checks_failed)
		printf("hello: %u checks FAILED\n", checks_failed);
	else
		printf("hello: all checks passed\n");

	if (cmdline_option(bp.cmdline, "echo"))
		echo_lines();
	if (cmdline_option(bp.cmdline, "powerbutton"))
		wait_for_power_button();

	if (cmdline_option(bp.cmdline, "halt")) {
		printf("hello: halting\n");
		console_flush();
		halt_forever();
	}
	if (checks_failed)
		return 1;
	const char *exit_option = cmdline_option(bp.cmdline, "exit");
	return exit_option ? (int)parse_uint(exit_option) : 0;
}
