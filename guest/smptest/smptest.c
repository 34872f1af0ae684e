/* smptest: a multi-vCPU guest. The boot CPU starts every AP with a single
 * INIT and a single SIPI broadcast (as QEMU's and kvm-unit-tests' kernels
 * do), then all CPUs add to one counter with locked instructions, and IPIs
 * go both ways: fixed to one CPU, fixed to all others (shorthand), to
 * self, and NMI; where the hypervisor offers KVM's paravirtual IPIs, one
 * hypercall to every AP, and where it offers PV unhalt, AP 1 waits in HLT
 * with interrupts off until the boot CPU kicks it. Command line: cpus=N
 * (the vCPUs the VM has), iters=N, kickhold=MS (how long AP 1 must stay
 * halted unkicked first; 1000 by default). Prints "smptest: all checks passed" and exits through
 * port 0xf4. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/ap_start.h"
#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"
#include "vmm/abi/hypercall_abi.h"
#include "vmm/abi/kvm_para.h"

#define MAX_CPUS 8
#define IPI_VECTOR 0x40
/* AP n sends vector 0x50 + n: IPIs of one vector pending together are one
 * interrupt. */
#define AP_VECTOR_BASE 0x50
#define NMI_VECTOR 2
#define ICR_MODE_INIT (5u << 8)
#define WAIT_TICKS 4000000000ull /* 80 s of guest time at 50 MHz */
#define WAIT_MS 80000ull

/* irq_stubs.S: save the registers, call on_ipi or on_nmi, IRET. */
void ipi_stub(void);
void nmi_stub(void);
void on_ipi(void);
void on_nmi(void);

const char program_name[] = "smptest";

static volatile uint32_t checked_in, finished, go;
static volatile uint32_t counter;
static volatile uint32_t ipis[MAX_CPUS], nmis[MAX_CPUS];
static volatile uint64_t ipi_arrival[MAX_CPUS];
static volatile uint32_t from_ap[MAX_CPUS];
/* PV unhalt: the boot CPU sets kick_phase; the AP with APIC ID 1 then says it is waiting
 * and halts with interrupts off until KVM_HC_KICK_CPU ends the HLT. */
static volatile uint32_t kick_phase, kick_waiting, kick_woken;
static uint32_t iterations;
static uint32_t kick_hold_ms;

/* The vector being handled: the highest in-service one (SDM Vol. 3 11.8.4). */
static int in_service(void)
{
	for (int r = 7; r >= 0; r--) {
		uint32_t bits = *lapic_reg(LAPIC_ISR + 0x10 * (unsigned)r);
		for (int b = 31; b >= 0; b--)
			if (bits & (1u << b))
				return r * 32 + b;
	}
	return -1;
}

void on_ipi(void)
{
	unsigned id = lapic_id();
	int vector = in_service();

	if (vector > AP_VECTOR_BASE && vector < AP_VECTOR_BASE + MAX_CPUS)
		from_ap[vector - AP_VECTOR_BASE] = 1;
	else if (id < MAX_CPUS) {
		ipi_arrival[id] = rdtsc();
		__atomic_add_fetch(&ipis[id], 1, __ATOMIC_SEQ_CST);
	}
	lapic_eoi();
}

void on_nmi(void)
{
	unsigned id = lapic_id();

	if (id < MAX_CPUS)
		__atomic_add_fetch(&nmis[id], 1, __ATOMIC_SEQ_CST);
}

static void idt_build(void)
{
	idt_set_gate(IPI_VECTOR, ipi_stub);
	for (unsigned n = 1; n < MAX_CPUS; n++)
		idt_set_gate(AP_VECTOR_BASE + n, ipi_stub);
	idt_set_gate(NMI_VECTOR, nmi_stub);
}

static void cpu_setup(void)
{
	idt_load();
	lapic_enable();
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

static void ap_main(uint32_t number)
{
	cpu_setup();
	__atomic_add_fetch(&checked_in, 1, __ATOMIC_SEQ_CST);
	spin_for(&go, 1);
	add_to_counter();
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
	lapic_send_ipi(0, ICR_FIXED | ICR_ASSERT | (AP_VECTOR_BASE + number));
	/* Halted with interrupts on from here: woken by the boot CPU's IPIs. */
	for (;;) {
		__asm__ volatile("sti; hlt");
		if (lapic_id() == 1 && kick_phase && !kick_waiting) {
			kick_waiting = 1;
			/* As a PV spinlock waiter: only a kick (or an NMI) ends it. */
			__asm__ volatile("cli; hlt; sti");
			kick_woken = 1;
		}
	}
}

static int failures;

static void check(const char *name, bool ok)
{
	printf("smptest: check %s %s\n", name, ok ? "ok" : "FAILED");
	failures += !ok;
}

/* KVM_HC_SEND_IPI: one hypercall reaches every AP (APIC IDs 1..cpus-1, a
 * bitmap from ID 1) and counts them; an ID no vCPU has is skipped; only
 * fixed and NMI delivery are taken. */
static void check_pv_ipi(uint32_t cpus)
{
	if (!(kvm_features() & KVM_FEATURE_PV_SEND_IPI)) {
		printf("smptest: pv-ipi not offered\n");
		return;
	}
	uint32_t aps_and_one_more = (1u << cpus) - 1; /* IDs 1..cpus: cpus has no vCPU */
	int32_t sent = kvm_hypercall4(KVM_HC_SEND_IPI, aps_and_one_more, 0, 1, IPI_VECTOR);
	bool all = true;
	for (unsigned id = 1; id < cpus; id++)
		all &= spin_for(&ipis[id], 3);
	printf("smptest: pv-ipi sent to %d vCPUs\n", sent);
	check("pv-ipi", sent == (int32_t)cpus - 1 && all);
	check("pv-ipi-init-refused",
	      kvm_hypercall4(KVM_HC_SEND_IPI, 1, 0, 1, ICR_MODE_INIT) == HC_ERR_INVAL);
}

/* KVM_HC_KICK_CPU: AP 1 waits in HLT with interrupts off, which without
 * PV unhalt would end the VM; it stays halted until the boot CPU kicks it
 * (a kick that came before its HLT ends the HLT at once, as in KVM). */
static void check_pv_kick(uint32_t cpus)
{
	if (cpus < 2 || !(kvm_features() & KVM_FEATURE_PV_UNHALT)) {
		printf("smptest: pv-unhalt not offered\n");
		return;
	}
	kick_phase = 1;
	lapic_send_ipi(1, ICR_FIXED | ICR_ASSERT | IPI_VECTOR); /* out of its STI; HLT */
	bool waiting = spin_for(&kick_waiting, 1);
	/* kickhold ms of guest time unkicked: the HLT holds. */
	uint64_t end = rdtsc() + WAIT_TICKS / WAIT_MS * kick_hold_ms;
	while (rdtsc() < end)
		__asm__ volatile("pause");
	bool held = !kick_woken;
	int32_t ret = kvm_hypercall4(KVM_HC_KICK_CPU, 0, 1, 0, 0);
	bool woken = spin_for(&kick_woken, 1);
	printf("smptest: pv-kick: waiting %d, held unkicked %d, kick returned %d, woken %d\n",
	       waiting, held, ret, woken);
	check("pv-kick", waiting && held && ret == 0 && woken);
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	const char *opt;

	if (boot_params_parse(magic, info, &bp))
		bp.cmdline = "";
	uint32_t cpus = (opt = cmdline_option(bp.cmdline, "cpus")) ? parse_uint(opt) : 2;
	iterations = (opt = cmdline_option(bp.cmdline, "iters")) ? parse_uint(opt) : 100000;
	kick_hold_ms = (opt = cmdline_option(bp.cmdline, "kickhold")) ? parse_uint(opt) : 1000;
	if (cpus < 1 || cpus > MAX_CPUS) {
		printf("smptest: cpus=%u: must be 1 to %u\n", cpus, MAX_CPUS);
		return 1;
	}
	idt_build();
	cpu_setup();
	printf("smptest: starting %u APs with one INIT and one SIPI broadcast\n", cpus - 1);
	ap_entry = ap_main;
	memcpy((void *)AP_TRAMP, ap_tramp_start, (uint32_t)(ap_tramp_end - ap_tramp_start));
	lapic_send_ipi(0, ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF);
	lapic_send_ipi(0, ICR_STARTUP | ICR_ASSERT | ICR_ALL_BUT_SELF | (AP_TRAMP >> 12));
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

	/* One fixed IPI to each AP, halted in HLT: how long until it runs.
	 * Nothing interrupts the boot CPU when an AP took it: it spins (an AP
	 * on another host CPU runs while it waits; in HLT it would wait for
	 * good, as on hardware). */
	bool each = true;
	uint32_t total = 0; /* 32 bits: no 64-bit division in this runtime */
	for (unsigned id = 1; id < cpus; id++) {
		uint64_t sent = rdtsc();
		lapic_send_ipi(id, ICR_FIXED | ICR_ASSERT | IPI_VECTOR);
		each &= spin_for(&ipis[id], 1);
		total += (uint32_t)(ipi_arrival[id] - sent);
	}
	check("ipi-to-each-ap", each);
	if (cpus > 1)
		printf("smptest: an IPI reached a halted vCPU in %u TSC ticks on average\n",
		       total / (cpus - 1));
	lapic_send_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | IPI_VECTOR);
	bool all = true;
	for (unsigned id = 1; id < cpus; id++)
		all &= spin_for(&ipis[id], 2);
	check("ipi-all-but-self", all);
	lapic_send_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_SELF | IPI_VECTOR);
	check("ipi-self", wait_for(&ipis[0], 1));
	lapic_send_ipi(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
	bool nmi = true;
	for (unsigned id = 1; id < cpus; id++)
		nmi &= spin_for(&nmis[id], 1);
	check("nmi-all-but-self", nmi);
	check_pv_ipi(cpus);
	check_pv_kick(cpus);
	if (failures) {
		printf("smptest: %d checks failed\n", failures);
		return 1;
	}
	printf("smptest: all checks passed\n");
	return 0;
}
