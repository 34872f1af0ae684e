/* bench: pgvisor's performance figures, measured by the guest with RDTSC
 * (make bench, scripts/bench). Prints one JSON object a line between
 * "bench: begin" and "bench: end".
 *
 * Command line: "exits" (under pgvisor) measures exit round trips: each
 * kind runs `warmup` times, then `iters` times between two RDTSCs and two
 * HC_PROFILE_READs, whose difference is the hypervisor's share (less one
 * read's own cost, the "profile-read" line). "cpu" runs the CPU-bound
 * workloads (bare or under pgvisor), each timed by its own RDTSCs; hops=N
 * sets the memory walk's length. The IPI round trip needs a second vCPU.
 * "disk", "net-send" and "net-recv" (under pgvisor, with a virtio disk or
 * NIC) measure streaming I/O: guest/bench/io.c. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/bench/bench.h"
#include "guest/bench/io.h"
#include "guest/bench/workloads.h"
#include "guest/lib/ap_start.h"
#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"
#include "vmm/abi/hypercall_abi.h"

#define DEFAULT_ITERS 1000
#define DEFAULT_WARMUP 16
#define DEFAULT_HOPS 2000000
#define UART_THR 0x3f8
#define UART_SCRATCH 0x3ff
/* pgvisor's ACPI PM block starts at 0x600 (its FADT says so); the timer
 * is its register 8. */
#define PM_TIMER_PORT 0x608
#define MSR_IA32_MISC_ENABLE 0x1a0 /* emulated by pgvisor */
#define TIMER_VECTOR BENCH_TIMER_VECTOR
#define PING_VECTOR 0x31
#define PONG_VECTOR 0x32
#define LVT_ONE_SHOT 0
#define AP_WAIT_TICKS 500000000ull /* 10 s of guest time at 50 MHz */

const char program_name[] = "bench";

/* irq_stubs.S: save the registers, call on_*, IRET. */
void timer_stub(void);
void ping_stub(void);
void pong_stub(void);
void on_timer(void);
void on_ping(void);
void on_pong(void);

static volatile uint32_t timer_fired, pongs, ap_ready;
static struct hc_exit_profile before, after;

void on_timer(void)
{
	timer_fired++;
	lapic_eoi();
}

/* On the AP: answer the boot CPU. */
void on_ping(void)
{
	lapic_eoi();
	lapic_send_ipi(0, ICR_FIXED | ICR_ASSERT | PONG_VECTOR);
}

void on_pong(void)
{
	pongs++;
	lapic_eoi();
}

static void run_cpuid(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cpuid(0);
}

static void run_vmcall(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		hypercall(HC_VERSION, 0, 0, 0);
}

/* Carriage returns: a real UART sends them, pgvisor's console drops
 * them, so the figure is the THR path without flooding the console. */
static void run_out_thr(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		outb(UART_THR, '\r');
}

static void run_out_scratch(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		outb(UART_SCRATCH, (uint8_t)i);
}

static void run_in_pm_timer(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		inl(PM_TIMER_PORT);
}

static void run_rdmsr(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rdmsr(MSR_IA32_MISC_ENABLE);
}

static void run_wrmsr(uint32_t n)
{
	uint64_t value = rdmsr(MSR_IA32_MISC_ENABLE);

	for (uint32_t i = 0; i < n; i++)
		wrmsr(MSR_IA32_MISC_ENABLE, value);
}

static void run_mmio_read(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		(void)*lapic_reg(LAPIC_VERSION);
}

static void run_mmio_write(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		*lapic_reg(LAPIC_TPR) = 0;
}

/* One-shot LAPIC timer of one count, then HLT until it fires. STI's
 * interrupt shadow keeps the interrupt from arriving before the HLT. */
static void run_hlt_timer(uint32_t n)
{
	*lapic_reg(LAPIC_TIMER_DIVIDE) = LAPIC_DIVIDE_BY_1;
	*lapic_reg(LAPIC_LVT_TIMER) = LVT_ONE_SHOT | TIMER_VECTOR;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t fired = timer_fired;
		__asm__ volatile("cli");
		*lapic_reg(LAPIC_TIMER_INITIAL) = 1;
		while (timer_fired == fired)
			__asm__ volatile("sti; hlt; cli");
		__asm__ volatile("sti");
	}
}

/* A fixed IPI to the AP, whose handler sends one back; the boot CPU
 * waits for it in HLT. */
static void run_ipi(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t seen = pongs;
		__asm__ volatile("cli");
		lapic_send_ipi(1, ICR_FIXED | ICR_ASSERT | PING_VECTOR);
		while (pongs == seen)
			__asm__ volatile("sti; hlt; cli");
		__asm__ volatile("sti");
	}
}

static void ap_main(uint32_t number)
{
	(void)number;
	idt_load();
	lapic_enable();
	__atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("sti; hlt");
}

static bool start_ap(void)
{
	memcpy((void *)AP_TRAMP, ap_tramp_start, (uint32_t)(ap_tramp_end - ap_tramp_start));
	ap_entry = ap_main;
	lapic_send_ipi(1, ICR_INIT | ICR_ASSERT);
	lapic_send_ipi(1, ICR_STARTUP | ICR_ASSERT | (AP_TRAMP >> 12));
	uint64_t end = rdtsc() + AP_WAIT_TICKS;
	while (!__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE) && rdtsc() < end)
		__asm__ volatile("pause");
	return ap_ready;
}

void profile_read(struct hc_exit_profile *p)
{
	if (hypercall(HC_PROFILE_READ, (uint32_t)(uintptr_t)p, sizeof(*p), 0)) {
		printf("bench: HC_PROFILE_READ failed\n");
		guest_exit(1);
	}
}

void print_profile_delta(const struct hc_exit_profile *b, const struct hc_exit_profile *a)
{
	printf(",\"exits\":%llu,\"hv_ticks\":%llu,\"guest_ticks\":%llu,\"reasons\":{",
	       a->total_exits - b->total_exits, a->root_ticks - b->root_ticks,
	       a->guest_ticks - b->guest_ticks);
	const char *sep = "";
	for (unsigned r = 0; r < HC_PROFILE_REASONS; r++) {
		if (a->count[r] == b->count[r] && a->ticks[r] == b->ticks[r])
			continue;
		printf("%s\"%u\":[%llu,%llu,%llu]", sep, r, a->count[r] - b->count[r],
		       a->timed[r] - b->timed[r], a->ticks[r] - b->ticks[r]);
		sep = ",";
	}
	printf("}");
}

/* Two reads in a row: what one read adds to every difference. */
void print_profile_read_cost(void)
{
	profile_read(&before);
	profile_read(&after);
	printf("{\"bench\":\"profile-read\",\"iters\":1,\"ticks\":0");
	print_profile_delta(&before, &after);
	printf("}\n");
}

static void measure(const char *name, void (*run)(uint32_t), uint32_t iters, uint32_t warmup)
{
	run(warmup);
	profile_read(&before);
	uint64_t t0 = rdtsc();
	run(iters);
	uint64_t t1 = rdtsc();
	profile_read(&after);
	printf("{\"bench\":\"%s\",\"iters\":%u,\"ticks\":%llu", name, iters, t1 - t0);
	print_profile_delta(&before, &after);
	printf("}\n");
}

static void run_exits(uint32_t iters, uint32_t warmup)
{
	static const struct {
		const char *name;
		void (*run)(uint32_t);
	} kinds[] = {
		{ "cpuid", run_cpuid },
		{ "vmcall", run_vmcall },
		{ "out-uart-thr", run_out_thr },
		{ "out-uart-scratch", run_out_scratch },
		{ "in-pm-timer", run_in_pm_timer },
		{ "rdmsr", run_rdmsr },
		{ "wrmsr", run_wrmsr },
		{ "mmio-lapic-read", run_mmio_read },
		{ "mmio-lapic-write", run_mmio_write },
		{ "hlt-timer", run_hlt_timer },
	};

	print_profile_read_cost();
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		measure(kinds[i].name, kinds[i].run, iters, warmup);
	if (start_ap())
		measure("ipi", run_ipi, iters, warmup);
	else
		printf("{\"bench\":\"ipi\",\"skipped\":\"no second vCPU\"}\n");
}

static void run_workload(const char *name, uint32_t (*work)(uint32_t), uint32_t arg, bool profiled)
{
	if (profiled)
		profile_read(&before);
	uint64_t t0 = rdtsc();
	uint32_t result = work(arg);
	uint64_t t1 = rdtsc();
	if (profiled)
		profile_read(&after);
	printf("{\"workload\":\"%s\",\"ticks\":%llu,\"result\":%u", name, t1 - t0, result);
	if (profiled)
		print_profile_delta(&before, &after);
	printf("}\n");
}

static uint32_t sieve(uint32_t unused)
{
	(void)unused;
	return workload_sieve();
}

static uint32_t compress(uint32_t unused)
{
	(void)unused;
	return workload_compress();
}

static uint32_t option(const char *cmdline, const char *key, uint32_t fallback)
{
	const char *value = cmdline_option(cmdline, key);
	return value ? parse_uint(value) : fallback;
}

static const struct {
	const char *name;
	int (*run)(const char *cmdline);
} io_modes[] = {
	{ "disk", run_disk },
	{ "net-send", run_net_send },
	{ "net-recv", run_net_recv },
};

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp))
		bp.cmdline = "";
	bool under_pgvisor = hypervisor_present();
	idt_set_gate(TIMER_VECTOR, timer_stub);
	idt_set_gate(PING_VECTOR, ping_stub);
	idt_set_gate(PONG_VECTOR, pong_stub);
	idt_set_gate(BENCH_NIC_VECTOR, nic_stub);
	lapic_enable();

	printf("bench: begin\n");
	printf("{\"under_pgvisor\":%s}\n", under_pgvisor ? "true" : "false");
	if (cmdline_option(bp.cmdline, "exits")) {
		if (under_pgvisor)
			run_exits(option(bp.cmdline, "iters", DEFAULT_ITERS),
				  option(bp.cmdline, "warmup", DEFAULT_WARMUP));
		else
			printf("bench: exits need pgvisor (VMCALL is #UD on bare hardware)\n");
	}
	if (cmdline_option(bp.cmdline, "cpu")) {
		run_workload("sieve", sieve, 0, under_pgvisor);
		run_workload("compress", compress, 0, under_pgvisor);
		run_workload("walk", workload_walk, option(bp.cmdline, "hops", DEFAULT_HOPS),
			     under_pgvisor);
	}
	int status = 0;
	for (unsigned i = 0; i < sizeof(io_modes) / sizeof(io_modes[0]); i++) {
		if (!cmdline_option(bp.cmdline, io_modes[i].name))
			continue;
		if (under_pgvisor) {
			status |= io_modes[i].run(bp.cmdline);
		} else {
			printf("bench: %s needs pgvisor's virtio devices\n", io_modes[i].name);
			status = 1;
		}
	}
	printf("bench: end\n");
	return status;
}
