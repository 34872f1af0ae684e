#include "arch/x86/smp.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/fault_inject.h"
#include "arch/x86/fpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/lapic.h"
#include "arch/x86/madt.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp_trampoline.h"
#include "arch/x86/stack_canary.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"

#define AP_STACK_PAGES 4
/* Its stack, then its IST stacks. */
#define AP_PAGES (AP_STACK_PAGES + IST_STACKS_SIZE / PAGE_SIZE)
/* The waits of the MP initialization protocol (SDM Vol. 3 9.4.4.1):
 * 10 ms after INIT, 200 us after each SIPI; then the AP has this long to
 * reach its C code, and this long to set itself up. */
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define ANSWER_TIMEOUT_US 100000
#define SETUP_TIMEOUT_US 1000000
#define PING_COUNT 16
#define CPUID_1_EBX_LOGICAL_SHIFT 16
#define US_PER_S 1000000ull

static int (*volatile ap_prepare_fn)(char *why, size_t len);
static void (*volatile ap_work_fn)(void);
static volatile bool released;
static volatile unsigned aps_done;
static volatile bool ap_alive; /* the AP being started reached its C code */
static uint64_t ipi_latency;
static int64_t novtx_apic_id = -1;

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_hz() / US_PER_S * us;

	while (rdtsc() < end)
		cpu_relax();
}

static bool wait_until(volatile bool *flag, uint64_t us)
{
	uint64_t end = rdtsc() + tsc_hz() / US_PER_S * us;

	while (!*flag && rdtsc() < end)
		cpu_relax();
	return *flag;
}

static int64_t option_value(const char *cmdline, const char *key)
{
	const char *p = strstr(cmdline, key);
	int64_t v = 0;

	if (!p || p[strlen(key)] < '0' || p[strlen(key)] > '9')
		return -1;
	for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

void smp_parse_options(const char *cmdline, struct smp_options *o)
{
	o->hide_apic_id = option_value(cmdline, "smp-test-hide=");
	o->mute_apic_id = option_value(cmdline, "smp-test-mute=");
	o->novtx_apic_id = option_value(cmdline, "smp-test-novtx=");
}

static void kick_interrupt(struct trap_frame *tf)
{
	struct cpu *c = this_cpu();

	(void)tf;
	c->kick_tsc = rdtsc();
	c->kicks++;
	lapic_eoi();
}

/* Runs on the AP, on its own stack, with the boot CPU's page tables. */
static __attribute__((noreturn)) void ap_main(struct cpu *c)
{
	char why[sizeof(c->why)];

	ap_alive = true;
	percpu_init(c, c->index, c->tables.ist_stacks);
	lapic_init_cpu();
	fpu_init_cpu();
	c->apic_id = lapic_id();
	if (c->apic_id == novtx_apic_id) {
		snprintf(why, sizeof(why), "VT-x turned off for this test (smp-test-novtx)");
		memcpy(c->why, why, sizeof(why));
		c->state = CPU_FAILED;
		cpu_halt_forever();
	}
	if (ap_prepare_fn(why, sizeof(why))) {
		memcpy(c->why, why, sizeof(why));
		c->state = CPU_FAILED;
		cpu_halt_forever();
	}
	c->state = CPU_ONLINE;
	/* Kicks (the boot CPU's latency pings, then smp_release) wake it. */
	while (!released) {
		cpu_idle_until_interrupt();
		/* Test build: fault=apdead:N stops answering once timed. */
		if (fault_ap_dead(c->index) && c->kicks >= PING_COUNT)
			cpu_halt_forever();
	}
	/* Left out while it did not answer (check_aps_answer): no run
	 * queue and no VMs here. */
	if (c->state != CPU_ONLINE)
		cpu_halt_forever();
	ap_work_fn();
	__atomic_add_fetch(&aps_done, 1, __ATOMIC_RELEASE);
	smp_kick(0);
	cpu_halt_forever();
}

/* INIT-SIPI-SIPI to one AP; waits until it is online or has failed. */
static void start_ap(struct cpu *c, const struct smp_options *o)
{
	struct ap_params *params = (struct ap_params *)(AP_TRAMPOLINE_BASE + (ap_trampoline_params -
									      ap_trampoline_start));
	void *stack = page_alloc(AP_PAGES);

	if (!stack) {
		kprintf("pgvisor: smp: CPU %u (APIC ID %u): out of memory for its stack; left "
			"out\n",
			c->index, c->apic_id);
		return;
	}
	*params = (struct ap_params){
		.cr3 = read_cr3(),
		.stack = (uint64_t)stack + AP_STACK_PAGES * PAGE_SIZE,
		.entry = (uint64_t)ap_main,
		.arg = (uint64_t)c,
	};
	c->tables.ist_stacks = (uint8_t *)stack + AP_STACK_PAGES * PAGE_SIZE;
	ap_alive = false;
	c->state = CPU_STARTING;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (lapic_send_init(c->apic_id)) {
		kprintf("pgvisor: smp: CPU %u (APIC ID %u): beyond xAPIC's 255 IDs; left out\n",
			c->index, c->apic_id);
		c->state = CPU_ABSENT;
		page_free(stack, AP_PAGES);
		return;
	}
	delay_us(INIT_DELAY_US);
	if (c->apic_id != o->mute_apic_id) {
		/* The second SIPI is for a CPU that missed the first; one that
		 * already runs ignores it (it is no longer waiting for SIPI). */
		for (int i = 0; i < 2 && !ap_alive; i++) {
			lapic_send_startup(c->apic_id, AP_TRAMPOLINE_BASE >> 12);
			delay_us(SIPI_DELAY_US);
		}
	}
	if (!wait_until(&ap_alive, ANSWER_TIMEOUT_US)) {
		/* INIT again parks it in wait-for-SIPI: a late start must not
		 * run on parameters meant for the next AP. */
		lapic_send_init(c->apic_id);
		kprintf("pgvisor: smp: CPU %u (APIC ID %u) did not answer INIT-SIPI-SIPI; left "
			"out\n",
			c->index, c->apic_id);
		c->state = CPU_ABSENT;
		page_free(stack, AP_PAGES);
		return;
	}
	uint64_t end = rdtsc() + tsc_hz() / US_PER_S * SETUP_TIMEOUT_US;
	while (c->state == CPU_STARTING && rdtsc() < end)
		cpu_relax();
	if (c->state == CPU_FAILED) {
		kprintf("pgvisor: smp: CPU %u (APIC ID %u) cannot run guests: %s; left out\n",
			c->index, c->apic_id, c->why);
	} else if (c->state != CPU_ONLINE) {
		kprintf("pgvisor: smp: CPU %u (APIC ID %u) did not finish its set-up; left out\n",
			c->index, c->apic_id);
		c->state = CPU_ABSENT;
	} else {
		/* Kept for good from here on: watch the bottom of its stacks. */
		stack_canary_plant(stack, c->index, "stack");
		stack_canary_plant(c->tables.ist_stacks, c->index, "#DF stack");
		stack_canary_plant(c->tables.ist_stacks + IST_STACK_SIZE, c->index, "NMI stack");
	}
}

/* IPIs from here to one idle AP, timed by its handler (the TSCs of the
 * CPUs run in step). */
static uint64_t measure_ipi(unsigned index)
{
	struct cpu *c = &cpus[index];
	uint64_t total = 0;

	for (int i = 0; i < PING_COUNT; i++) {
		uint64_t before = c->kicks;
		uint64_t sent = rdtsc();
		lapic_send_ipi(c->apic_id, LAPIC_KICK_VECTOR);
		while (c->kicks == before)
			cpu_relax();
		total += c->kick_tsc - sent;
	}
	return total / PING_COUNT;
}

/* Just before VMs are placed, each AP must still answer a kick: one that
 * started but stopped answering since (hung with interrupts off, or the
 * test build's fault=apdead) is left out, and the VMs go to the others. */
static void check_aps_answer(void)
{
	for (unsigned i = 1; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		if (c->state != CPU_ONLINE)
			continue;
		uint64_t before = c->kicks;
		uint64_t end = rdtsc() + tsc_hz() / US_PER_S * ANSWER_TIMEOUT_US;
		smp_kick(i);
		while (c->kicks == before && rdtsc() < end)
			cpu_relax();
		if (c->kicks != before)
			continue;
		c->state = CPU_ABSENT;
		kprintf("pgvisor: smp: CPU %u (APIC ID %u) stopped answering after its start; left "
			"out\n",
			c->index, c->apic_id);
	}
}

static unsigned madt_cpus_read(const struct smp_options *o, struct madt_cpus *m)
{
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");

	if (!madt || madt_parse(madt, madt->length, m)) {
		kprintf("pgvisor: smp: no usable MADT: running on the boot CPU only\n");
		return 0;
	}
	unsigned listed = m->count < MADT_MAX_CPUS ? m->count : MADT_MAX_CPUS, kept = 0;
	for (unsigned i = 0; i < listed; i++)
		if (m->apic_id[i] != o->hide_apic_id)
			m->apic_id[kept++] = m->apic_id[i];
	m->count = kept;
	return kept;
}

unsigned smp_start_aps(const struct smp_options *o, int (*ap_prepare)(char *why, size_t len),
		       void (*ap_work)(void))
{
	struct madt_cpus m;
	unsigned listed = madt_cpus_read(o, &m);
	uint32_t bsp = lapic_id();
	/* CPUID.1:EBX[23:16]: logical processor IDs in this package. */
	unsigned package = (cpuid(1, 0).ebx >> CPUID_1_EBX_LOGICAL_SHIFT) & 0xff;

	cpus[0].apic_id = bsp;
	cpus[0].state = CPU_ONLINE;
	idt_set_handler(LAPIC_KICK_VECTOR, kick_interrupt);
	ap_prepare_fn = ap_prepare;
	ap_work_fn = ap_work;
	novtx_apic_id = o->novtx_apic_id;
	if (listed && listed < package)
		kprintf("pgvisor: smp: the MADT lists %u CPU%s, CPUID allows up to %u in this "
			"package: any CPU the MADT leaves out is not used\n",
			listed, listed == 1 ? "" : "s", package);
	memcpy((void *)AP_TRAMPOLINE_BASE, ap_trampoline_start,
	       (size_t)(ap_trampoline_end - ap_trampoline_start));
	for (unsigned i = 0; i < listed; i++) {
		if (m.apic_id[i] == bsp)
			continue;
		if (ncpus == MAX_CPUS) {
			kprintf("pgvisor: smp: more than %d CPUs: APIC ID %u and later left out\n",
				MAX_CPUS, m.apic_id[i]);
			break;
		}
		struct cpu *c = &cpus[ncpus];
		c->index = ncpus++;
		c->apic_id = m.apic_id[i];
		start_ap(c, o);
	}
	uint64_t sum = 0;
	unsigned measured = 0;
	for (unsigned i = 1; i < ncpus; i++) {
		if (cpus[i].state != CPU_ONLINE)
			continue;
		sum += measure_ipi(i);
		measured++;
	}
	ipi_latency = measured ? sum / measured : 0;
	check_aps_answer();
	char line[120];
	int n = snprintf(line, sizeof(line), "pgvisor: smp: %u of %u CPUs online",
			 smp_online_count(), listed > 1 ? listed : 1);
	if (ipi_latency && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n,
			 ", an IPI reaches an idle CPU in %llu TSC ticks",
			 (unsigned long long)ipi_latency);
	kprintf("%s\n", line); /* one call: a whole line */
	return smp_online_count();
}

void smp_release(void)
{
	__atomic_store_n(&released, true, __ATOMIC_RELEASE);
	for (unsigned i = 1; i < ncpus; i++)
		if (cpus[i].state == CPU_ONLINE)
			smp_kick(i);
}

void smp_wait_aps_done(void)
{
	unsigned expected = smp_online_count() - 1;

	/* Each AP kicks this CPU when it is done; a kick that comes before the
	 * HLT stays pending until the STI of cpu_idle_until_interrupt. */
	while (__atomic_load_n(&aps_done, __ATOMIC_ACQUIRE) < expected)
		cpu_idle_until_interrupt();
}

void smp_kick(unsigned index)
{
	if (index < ncpus && index != this_cpu()->index && cpus[index].state == CPU_ONLINE)
		lapic_send_ipi(cpus[index].apic_id, LAPIC_KICK_VECTOR);
}

bool cpu_is_online(unsigned index)
{
	return index < ncpus && cpus[index].state == CPU_ONLINE;
}

unsigned smp_online_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ncpus; i++)
		n += cpus[i].state == CPU_ONLINE;
	return n;
}

uint64_t smp_ipi_latency(void)
{
	return ipi_latency;
}
