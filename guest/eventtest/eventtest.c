/* eventtest: how events reach a CPU, checked the same way bare and under
 * a hypervisor (Popek and Goldberg's equivalence): NMI blocking and the
 * one NMI latched while it lasts, an NMI whose delivery faults, hardware
 * breakpoints and watchpoints across instructions a hypervisor emulates,
 * single-stepping over those instructions, and RF in a fault's frame.
 * Two CPUs: the second sends NMIs to the first on request. One line per
 * check, "eventtest: ok NAME" or "eventtest: FAIL NAME (...)", then
 * "eventtest: N checks failed" and the exit code N. */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/ap_start.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/idt.h"
#include "guest/lib/lapic.h"
#include "guest/lib/runtime.h"
#include "guest/lib/string.h"

#define VEC_DB 1
#define VEC_NMI 2
#define VEC_GP 13
#define VEC_PF 14
#define WAIT_TICKS 200000000ull /* 4 s of guest time at 50 MHz */
#define SETTLE_TICKS 2000000ull /* time for NMIs in flight to land */
#define RFLAGS_TF (1u << 8)
#define RFLAGS_RF (1u << 16)
#define DR6_B0 (1u << 0)
#define DR6_B1 (1u << 1)
#define DR6_BS (1u << 14)
#define DR6_CLEAR 0xffff0ff0u
#define DR7_L0 (1u << 0)
#define DR7_L1 (1u << 2)
#define DR7_RW1_WRITE (1u << 20)
#define DR7_LEN1_4 (3u << 22)
#define DR7_RESET 0x400u
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define PDE_PS 0x080u
#define PAGE 4096u
#define LARGE_PAGE_SHIFT 22
#define GATE_SIZE 8
#define IDT_GATES 256
#define CPUID_CPU0 0 /* the boot CPU's APIC ID */
#define NMI_BURST 10
#define IPI_VECTOR 0x40
#define WAKE_TICKS 20000000ull /* how long the waker waits before its IPI */
#define MAX_DBS 4
#define BSP_DR0 0x11111110u
#define AP_DR0 0x22222220u
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff

/* The registers as the stubs in events.S leave them. */
struct frame {
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t eip, cs, eflags;
};

void nmi_stub(void), db_stub(void), ipi_stub(void), gp_stub(void), pf_stub(void);
void on_nmi(void);
void on_db(struct frame *f);
void on_ipi(struct frame *f);
void on_gp(uint32_t *eip_slot);
void on_pf(uint32_t cr2);
void step_cpuid(void), step_in(void), step_rdmsr(void), step_mmio(void), step_movss(void);
void step_sti_hlt(void);
extern char step_sti_hlt_at[], step_sti_hlt_end[];
extern char step_cpuid_end[], step_in_end[], step_rdmsr_end[], step_mmio_end[], step_movss_end[];
void bad_cr4_write(void);
extern char rf_resume[];
void bp_target(void);

const char program_name[] = "eventtest";

/* What the NMI handler does on its first NMI. */
enum nmi_action { NMI_COUNT, NMI_SELF_BURST, NMI_WAIT_FOR_AP };
static volatile enum nmi_action nmi_action;
static volatile uint32_t nmis, nmi_depth, nmi_nested;
/* What the second CPU is asked to do. */
enum ap_request { AP_IDLE, AP_TWO_NMIS, AP_WAKE_IPI, AP_OWN_DR0 };
static volatile enum ap_request ap_request;
static volatile uint32_t ap_sent;
static volatile uint32_t ap_stage, ap_dr0; /* AP_OWN_DR0's steps and result */
static volatile uint32_t aps_up;

static volatile uint32_t dbs, db_dr6, db_eip;
static volatile uint32_t db_eips[MAX_DBS], db_dr6s[MAX_DBS];
static volatile uint32_t db_keep_tf; /* #DBs that leave TF set */
static volatile uint32_t ipis, ipi_eip;
static volatile uint32_t gps, gp_eflags;
static volatile uint32_t pfs, pf_cr2;
static volatile uint32_t watched;

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table0[1024] __attribute__((aligned(4096)));
/* An IDT whose gates 0-2 end the first page and the rest begin the next:
 * the NMI gate can be made not present on its own. */
static uint8_t split_idt[2 * PAGE] __attribute__((aligned(4096)));

static int failures;

static void check(const char *name, bool ok, const char *fmt, uint32_t a, uint32_t b, uint32_t c)
{
	if (ok) {
		printf("eventtest: ok %s\n", name);
		return;
	}
	printf("eventtest: FAIL %s (", name);
	printf(fmt, a, b, c);
	printf(")\n");
	failures++;
}

static bool wait_until(volatile uint32_t *v, uint32_t want)
{
	uint64_t end = rdtsc() + WAIT_TICKS;

	while (*v < want && rdtsc() < end)
		__asm__ volatile("pause");
	return *v >= want;
}

static void settle(void)
{
	uint64_t end = rdtsc() + SETTLE_TICKS;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

static void send_nmi(unsigned dest)
{
	lapic_send_ipi(dest, ICR_NMI | ICR_ASSERT);
}

void on_nmi(void)
{
	if (++nmi_depth > 1)
		nmi_nested = 1;
	uint32_t n = ++nmis;
	if (n == 1 && nmi_action == NMI_SELF_BURST) {
		for (int i = 0; i < NMI_BURST; i++)
			send_nmi(CPUID_CPU0);
	} else if (n == 1 && nmi_action == NMI_WAIT_FOR_AP) {
		ap_request = AP_TWO_NMIS;
		wait_until(&ap_sent, 1);
		settle();
	}
	nmi_depth--;
}

void on_db(struct frame *f)
{
	uint32_t dr6;

	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("mov %0, %%dr6" : : "r"(DR6_CLEAR));
	if (dbs < MAX_DBS) {
		db_dr6s[dbs] = dr6;
		db_eips[dbs] = f->eip;
	}
	if (!dbs) {
		db_dr6 = dr6;
		db_eip = f->eip;
	}
	/* Single-steps end here (but for the first db_keep_tf); an
	 * instruction breakpoint (a fault) is stepped over with RF (SDM Vol. 3
	 * 17.3.1.1). */
	if (dbs++ >= db_keep_tf)
		f->eflags &= ~RFLAGS_TF;
	if (dr6 & DR6_B0)
		f->eflags |= RFLAGS_RF;
}

void on_ipi(struct frame *f)
{
	if (!ipis++)
		ipi_eip = f->eip;
	lapic_eoi();
}

void on_gp(uint32_t *eip_slot)
{
	gps++;
	gp_eflags = eip_slot[2];
	eip_slot[0] = (uint32_t)rf_resume;
}

void on_pf(uint32_t cr2)
{
	pfs++;
	pf_cr2 = cr2;
	page_table0[cr2 >> 12] |= PTE_P;
	__asm__ volatile("invlpg (%0)" : : "r"(cr2) : "memory");
}

static void ap_main(uint32_t number)
{
	(void)number;
	idt_load();
	lapic_enable();
	__atomic_add_fetch(&aps_up, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		while (ap_request == AP_IDLE)
			__asm__ volatile("pause");
		if (ap_request == AP_TWO_NMIS) {
			send_nmi(CPUID_CPU0);
			send_nmi(CPUID_CPU0);
		} else if (ap_request == AP_OWN_DR0) {
			/* DR0 is each CPU's own: the boot CPU reads its own
			 * while this one holds another value. */
			__asm__ volatile("mov %0, %%dr0" : : "r"(AP_DR0));
			ap_stage = 1;
			wait_until(&ap_stage, 2);
			__asm__ volatile("mov %%dr0, %0" : "=r"(ap_dr0));
		} else {
			/* Until the boot CPU has woken (a missed IPI would leave
			 * it in HLT for good). */
			for (;;) {
				uint64_t end = rdtsc() + WAKE_TICKS;
				while (rdtsc() < end && !ipis)
					__asm__ volatile("pause");
				if (ipis)
					break;
				lapic_send_ipi(CPUID_CPU0, ICR_FIXED | ICR_ASSERT | IPI_VECTOR);
			}
		}
		ap_request = AP_IDLE;
		ap_sent = 1;
	}
}

static void nmi_round(enum nmi_action action)
{
	nmis = 0;
	nmi_nested = 0;
	ap_sent = 0;
	nmi_action = action;
	send_nmi(CPUID_CPU0);
	wait_until(&nmis, 2);
	settle();
}

/* Point 8: NMIs are blocked from delivery until the handler's IRET; one
 * more arriving meanwhile is latched, and only one (SDM Vol. 3 6.7.1). */
static void check_nmis(void)
{
	nmi_round(NMI_SELF_BURST);
	check("pending nmi", nmis == 2 && !nmi_nested, "%u NMIs, nested %u", nmis, nmi_nested, 0);
	nmi_round(NMI_WAIT_FOR_AP);
	check("multiple nmi", ap_sent && nmis == 2 && !nmi_nested, "%u NMIs, nested %u, sent %u",
	      nmis, nmi_nested, ap_sent);
}

/* Identity paging: 4 KiB pages below 4 MiB, 4 MiB pages above (the
 * local APIC uncached). */
static void paging_on(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		page_table0[i] = (i * PAGE) | PTE_P | PTE_RW;
	page_dir[0] = (uint32_t)page_table0 | PTE_P | PTE_RW;
	for (uint32_t i = 1; i < 1024; i++)
		page_dir[i] = (i << LARGE_PAGE_SHIFT) | PDE_PS | PTE_P | PTE_RW;
	page_dir[LAPIC_BASE >> LARGE_PAGE_SHIFT] |= PTE_PCD | PTE_PWT;
	uint32_t cr0, cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE));
	__asm__ volatile("mov %0, %%cr3" : : "r"(page_dir));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PG) : "memory");
}

static void paging_off(void)
{
	uint32_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~CR0_PG) : "memory");
}

/* Point 11: the NMI's gate lies in a page that is not present. Its
 * delivery raises #PF, which is delivered; the NMI itself is consumed (a
 * bare Bochs drops it: an external event is not restarted), and the #PF
 * handler's IRET ends the NMI blocking, so the next NMI arrives. */
static void check_nmi_delivery_fault(void)
{
	struct table_register old, split;
	uint8_t *second = split_idt + PAGE;
	uint32_t gates_in_first = VEC_NMI + 1;

	__asm__ volatile("sidt %0" : "=m"(old));
	split.base = (uint32_t)second - gates_in_first * GATE_SIZE;
	split.limit = IDT_GATES * GATE_SIZE - 1;
	memcpy((void *)split.base, (void *)old.base, IDT_GATES * GATE_SIZE);
	((struct idt_gate *)split.base)[VEC_PF] =
		idt_gate((uint32_t)pf_stub, 0x08, IDT_INTERRUPT_GATE_32);
	paging_on();
	__asm__ volatile("lidt %0" : : "m"(split));
	page_table0[(uint32_t)split_idt >> 12] &= ~PTE_P;
	__asm__ volatile("invlpg (%0)" : : "r"(split_idt) : "memory");
	pfs = 0;
	nmis = 0;
	nmi_action = NMI_COUNT;
	send_nmi(CPUID_CPU0);
	wait_until(&pfs, 1);
	settle();
	uint32_t faulted = pfs, cr2 = pf_cr2, lost = nmis;
	send_nmi(CPUID_CPU0);
	wait_until(&nmis, 1);
	settle();
	__asm__ volatile("lidt %0" : : "m"(old));
	paging_off();
	check("nmi whose delivery faults",
	      faulted == 1 && cr2 >> 12 == (uint32_t)split_idt >> 12 && lost == 0,
	      "%u #PF at %x, %u NMIs", faulted, cr2, lost);
	check("next nmi after the #pf handler", nmis == 1 && pfs == 1, "%u NMIs, %u #PFs", nmis,
	      pfs, 0);
}

static void set_dr7(uint32_t v)
{
	__asm__ volatile("mov %0, %%dr7" : : "r"(v));
}

static void cpuid0(void)
{
	(void)cpuid(0);
}

/* Point 16: breakpoints armed with MOV DR stay armed across instructions
 * a hypervisor emulates (CPUID here). */
static void check_breakpoints(void)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(DR6_CLEAR));
	__asm__ volatile("mov %0, %%dr0" : : "r"((uint32_t)bp_target));
	set_dr7(DR7_RESET | DR7_L0);
	dbs = 0;
	cpuid0();
	bp_target();
	uint32_t first = dbs, dr6 = db_dr6, eip = db_eip;
	cpuid0();
	bp_target();
	set_dr7(DR7_RESET);
	check("hw breakpoint after an exit",
	      first == 1 && dbs == 2 && (dr6 & DR6_B0) && eip == (uint32_t)bp_target,
	      "#DBs %u then %u, dr6 %x", first, dbs, dr6);

	__asm__ volatile("mov %0, %%dr1" : : "r"((uint32_t)&watched));
	set_dr7(DR7_RESET | DR7_L1 | DR7_RW1_WRITE | DR7_LEN1_4);
	dbs = 0;
	cpuid0();
	watched = 1;
	set_dr7(DR7_RESET);
	check("hw watchpoint after an exit, dr6.bs clear",
	      dbs == 1 && (db_dr6 & DR6_B1) && !(db_dr6 & DR6_BS), "#DBs %u, dr6 %x", dbs, db_dr6,
	      0);
}

/* Point 16: DR0-DR3 belong to each CPU, whichever shares a host CPU. */
static void check_own_dr0(void)
{
	uint32_t mine;

	__asm__ volatile("mov %0, %%dr0" : : "r"(BSP_DR0));
	ap_stage = 0;
	ap_sent = 0;
	ap_request = AP_OWN_DR0;
	wait_until(&ap_stage, 1);
	settle();
	__asm__ volatile("mov %%dr0, %0" : "=r"(mine));
	ap_stage = 2;
	wait_until(&ap_sent, 1);
	check("dr0 of each cpu", mine == BSP_DR0 && ap_dr0 == AP_DR0, "dr0 %x here, %x there", mine,
	      ap_dr0, 0);
}

/* Point 17: a single-step trap follows each instruction, emulated or not:
 * #DB with DR6.BS, pointing right after it. */
static void check_step(const char *name, void (*seq)(void), const char *end)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(DR6_CLEAR));
	dbs = 0;
	seq();
	check(name, dbs == 1 && db_eip == (uint32_t)end && (db_dr6 & DR6_BS),
	      "#DBs %u at %x, dr6 %x", dbs, db_eip, db_dr6);
}

/* Point 17 with HLT, which pgvisor completes when an interrupt wakes the
 * vCPU: STI steps to HLT, HLT's step comes before the waking interrupt. */
static void check_step_hlt(void)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(DR6_CLEAR));
	dbs = 0;
	ipis = 0;
	ap_sent = 0;
	db_keep_tf = 1;
	ap_request = AP_WAKE_IPI;
	step_sti_hlt();
	wait_until(&ap_sent, 1);
	db_keep_tf = 0;
	check("single-step sti; hlt",
	      dbs == 2 && db_eips[0] == (uint32_t)step_sti_hlt_at &&
		      db_eips[1] == (uint32_t)step_sti_hlt_end && (db_dr6s[1] & DR6_BS) &&
		      ipis == 1 && ipi_eip == (uint32_t)step_sti_hlt_end,
	      "#DBs at %x and %x, dr6 %x", db_eips[0], db_eips[1], db_dr6s[1]);
	if (ipis != 1 || ipi_eip != (uint32_t)step_sti_hlt_end)
		printf("eventtest: (%u IPIs, the first at %x)\n", ipis, ipi_eip);
}

/* Point 18: faults push EFLAGS with RF set (SDM Vol. 3 17.3.1.1). */
static void check_fault_rf(void)
{
	idt_set_gate(VEC_GP, gp_stub);
	gps = 0;
	bad_cr4_write();
	check("#gp rflags.rf", gps == 1 && (gp_eflags & RFLAGS_RF), "#GPs %u, eflags %x", gps,
	      gp_eflags, 0);
}

int main(uint32_t magic, uint32_t info)
{
	(void)magic;
	(void)info;
	/* Only the local APIC interrupts: the firmware's 8259 timer would
	 * arrive on an exception vector. */
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	idt_set_gate(VEC_NMI, nmi_stub);
	idt_set_gate(VEC_DB, db_stub);
	idt_set_gate(IPI_VECTOR, ipi_stub);
	idt_load();
	lapic_enable();
	ap_entry = ap_main;
	memcpy((void *)AP_TRAMP, ap_tramp_start, (uint32_t)(ap_tramp_end - ap_tramp_start));
	lapic_send_ipi(0, ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF);
	/* INIT-SIPI-SIPI: a second SIPI only if the first was missed (SDM
	 * Vol. 3 9.4.4.1). */
	for (int sipi = 0; sipi < 2 && !aps_up; sipi++) {
		lapic_send_ipi(0, ICR_STARTUP | ICR_ASSERT | ICR_ALL_BUT_SELF | (AP_TRAMP >> 12));
		wait_until(&aps_up, 1);
	}
	check("second cpu", aps_up == 1, "%u up", aps_up, 0, 0);

	check_nmis();
	check_nmi_delivery_fault();
	check_breakpoints();
	check_own_dr0();
	check_step("single-step cpuid", step_cpuid, step_cpuid_end);
	check_step("single-step port in", step_in, step_in_end);
	check_step("single-step rdmsr", step_rdmsr, step_rdmsr_end);
	check_step("single-step mmio read", step_mmio, step_mmio_end);
	check_step("single-step mov ss; cpuid", step_movss, step_movss_end);
	check_step_hlt();
	check_fault_rf();
	printf("eventtest: %d checks failed\n", failures);
	return failures;
}
