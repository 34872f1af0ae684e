/* smptest: a multi-vCPU guest. The boot CPU starts every AP with a single
 * INIT and a single SIPI broadcast (as QEMU's and kvm-unit-tests' kernels
 * do), then all CPUs add to one counter with locked instructions, and IPIs
 * go both ways: fixed to one CPU, fixed to all others (shorthand), to
 * self, and NMI. Command line: cpus=N (the vCPUs the VM has), iters=N.
 * Prints "smptest: all checks passed" and exits through port 0xf4. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"

#define MAX_CPUS 8
#define LAPIC_BASE 0xfee00000u
#define REG_ID 0x20
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ISR 0x100 /* 8 registers, 0x10 apart */
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define SVR_ENABLE 0x100
#define SPURIOUS_VECTOR 0xff
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)
#define IPI_VECTOR 0x40
/* AP n sends vector 0x50 + n: IPIs of one vector pending together are one
 * interrupt. */
#define AP_VECTOR_BASE 0x50
#define NMI_VECTOR 2
#define AP_TRAMP 0x8000
#define IDT_ENTRIES 256
#define IDT_INTERRUPT_GATE_32 0x8e
#define CODE_SEL 0x08
#define WAIT_TICKS 4000000000ull /* 80 s of guest time at 50 MHz */

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t zero, type_attr;
	uint16_t offset_high;
} __attribute__((packed));

struct idt_descriptor {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

extern char ap_tramp_start[], ap_tramp_end[], ipi_stub[], nmi_stub[];
void ap_main(uint32_t number);
void on_ipi(void);
void on_nmi(void);

const char program_name[] = "smptest";

static struct idt_gate idt[IDT_ENTRIES];
static struct idt_descriptor idtr;
static volatile uint32_t checked_in, finished, go;
static volatile uint32_t counter;
static volatile uint32_t ipis[MAX_CPUS], nmis[MAX_CPUS];
static volatile uint64_t ipi_arrival[MAX_CPUS];
static volatile uint32_t from_ap[MAX_CPUS];
static uint32_t iterations;

static volatile uint32_t *lapic_reg(unsigned reg)
{
	return (volatile uint32_t *)(LAPIC_BASE + reg);
}

static unsigned my_id(void)
{
	return *lapic_reg(REG_ID) >> 24;
}

static void send_ipi(unsigned dest, uint32_t command)
{
	*lapic_reg(REG_ICR_HIGH) = dest << 24;
	*lapic_reg(REG_ICR_LOW) = command;
}

/* The vector being handled: the highest in-service one (SDM Vol. 3 11.8.4). */
static int in_service(void)
{
	for (int r = 7; r >= 0; r--) {
		uint32_t bits = *lapic_reg(REG_ISR + 0x10 * (unsigned)r);
		for (int b = 31; b >= 0; b--)
			if (bits & (1u << b))
				return r * 32 + b;
	}
	return -1;
}

void on_ipi(void)
{
	unsigned id = my_id();
	int vector = in_service();

	if (vector > AP_VECTOR_BASE && vector < AP_VECTOR_BASE + MAX_CPUS)
		from_ap[vector - AP_VECTOR_BASE] = 1;
	else if (id < MAX_CPUS) {
		ipi_arrival[id] = rdtsc();
		__atomic_add_fetch(&ipis[id], 1, __ATOMIC_SEQ_CST);
	}
	*lapic_reg(REG_EOI) = 0;
}

void on_nmi(void)
{
	unsigned id = my_id();

	if (id < MAX_CPUS)
		__atomic_add_fetch(&nmis[id], 1, __ATOMIC_SEQ_CST);
}

static void set_gate(unsigned vector, const void *handler)
{
	uint32_t a = (uint32_t)handler;

	idt[vector] = (struct idt_gate){ (uint16_t)a, CODE_SEL, 0, IDT_INTERRUPT_GATE_32,
					 (uint16_t)(a >> 16) };
}

/* The runtime's exception gates, plus the IPI and NMI ones. */
static void idt_build(void)
{
	struct idt_descriptor old;

	__asm__ volatile("sidt %0" : "=m"(old));
	memcpy(idt, (const void *)old.base, old.limit + 1u);
	set_gate(IPI_VECTOR, ipi_stub);
	for (unsigned n = 1; n < MAX_CPUS; n++)
		set_gate(AP_VECTOR_BASE + n, ipi_stub);
	set_gate(NMI_VECTOR, nmi_stub);
	idtr = (struct idt_descriptor){ sizeof(idt) - 1, (uint32_t)idt };
}

static void cpu_setup(void)
{
	__asm__ volatile("lidt %0" : : "m"(idtr));
	*lapic_reg(REG_SVR) = SVR_ENABLE | SPURIOUS_VECTOR;
}

static void add_to_counter(void)
{
	for (uint32_t i = 0; i < iterations; i++)
		__asm__ volatile("lock incl %0" : "+m"(counter));
}

/* Sleeps in HLT until *v reaches want (or a long time passed). */
static bool wait_for(volatile uint32_t *v, uint32_t want)
{
	uint64_t end = rdtsc() + WAIT_TICKS;

	__asm__ volatile("cli");
	while (*v < want && rdtsc() < end)
		__asm__ volatile("sti; hlt; cli");
	__asm__ volatile("sti");
	return *v >= want;
}

static bool spin_for(volatile uint32_t *v, uint32_t want)
{
	uint64_t end = rdtsc() + WAIT_TICKS;

	while (*v < want && rdtsc() < end)
		__asm__ volatile("pause");
	return *v >= want;
}

void ap_main(uint32_t number)
{
	cpu_setup();
	__atomic_add_fetch(&checked_in, 1, __ATOMIC_SEQ_CST);
	spin_for(&go, 1);
	add_to_counter();
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
	send_ipi(0, ICR_FIXED | ICR_ASSERT | (AP_VECTOR_BASE + number));
	/* Halted with interrupts on from here: woken by the boot CPU's IPIs. */
	for (;;)
		__asm__ volatile("sti; hlt");
}

static int failures;

static void check(const char *name, bool ok)
{
	printf("smptest: check %s %s\n", name, ok ? "ok" : "FAILED");
	failures += !ok;
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	const char *opt;

	if (boot_params_parse(magic, info, &bp))
		bp.cmdline = "";
	uint32_t cpus = (opt = cmdline_option(bp.cmdline, "cpus")) ? parse_uint(opt) : 2;
	iterations = (opt = cmdline_option(bp.cmdline, "iters")) ? parse_uint(opt) : 100000;
	if (cpus < 1 || cpus > MAX_CPUS) {
		printf("smptest: cpus=%u: must be 1 to %u\n", cpus, MAX_CPUS);
		return 1;
	}
	idt_build();
	cpu_setup();
	printf("smptest: starting %u APs with one INIT and one SIPI broadcast\n", cpus - 1);
	memcpy((void *)AP_TRAMP, ap_tramp_start, (uint32_t)(ap_tramp_end - ap_tramp_start));
	send_ipi(0, ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF);
	send_ipi(0, ICR_STARTUP | ICR_ASSERT | ICR_ALL_BUT_SELF | (AP_TRAMP >> 12));
	check("aps-started", spin_for(&checked_in, cpus - 1));
	printf("smptest: %u CPUs online\n", checked_in + 1);

	go = 1;
	add_to_counter();
	check("aps-finished", spin_for(&finished, cpus - 1));
	printf("smptest: counter %u expected %u\n", counter, cpus * iterations);
	check("locked-counter", counter == cpus * iterations);
	bool from_all = true;
	for (unsigned n = 1; n < cpus; n++)
		from_all &= wait_for(&from_ap[n], 1);
	check("ipi-from-each-ap", from_all);

	/* One fixed IPI to each AP, halted in HLT: how long until it runs. */
	bool each = true;
	uint32_t total = 0; /* 32 bits: no 64-bit division in this runtime */
	for (unsigned id = 1; id < cpus; id++) {
		uint64_t sent = rdtsc();
		send_ipi(id, ICR_FIXED | ICR_ASSERT | IPI_VECTOR);
		each &= wait_for(&ipis[id], 1);
		total += (uint32_t)(ipi_arrival[id] - sent);
	}
	check("ipi-to-each-ap", each);
	if (cpus > 1)
		printf("smptest: an IPI reached a halted vCPU in %u TSC ticks on average\n",
		       total / (cpus - 1));
	send_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | IPI_VECTOR);
	bool all = true;
	for (unsigned id = 1; id < cpus; id++)
		all &= wait_for(&ipis[id], 2);
	check("ipi-all-but-self", all);
	send_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_SELF | IPI_VECTOR);
	check("ipi-self", wait_for(&ipis[0], 1));
	send_ipi(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
	bool nmi = true;
	for (unsigned id = 1; id < cpus; id++)
		nmi &= wait_for(&nmis[id], 1);
	check("nmi-all-but-self", nmi);
	if (failures) {
		printf("smptest: %d checks failed\n", failures);
		return 1;
	}
	printf("smptest: all checks passed\n");
	return 0;
}
