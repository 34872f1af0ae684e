/* memtest: what a program sees of memory with nothing behind it and of the
 * TSC MSRs, checked against the bare machine (issue 16, points 12-14).
 * One line per check, "memtest: ok ..." or "memtest: FAIL ...", then
 * "memtest: all checks passed" or "memtest: N checks failed".
 *
 *   unbacked  reads past the top of RAM, in the PCI hole and in the
 *             firmware range; writes there must be dropped. A bare machine
 *             answers all-ones where nothing decodes the address (ROM
 *             contents in the firmware range). It also shows what answers
 *             where a PC's HPET is (all-ones when there is none).
 *   tsc_aux   IA32_TSC_AUX is writable, bits 63:32 are reserved (#GP),
 *             and RDTSCP and RDPID return it (SDM Vol. 2 RDTSCP, RDPID).
 *   tsc       WRMSR IA32_TIME_STAMP_COUNTER sets the TSC (SDM Vol. 3
 *             18.17), and IA32_TSC_ADJUST moves with it where offered.
 *   xss       IA32_XSS exists where XSAVES does (CPUID.(0xD,1):EAX[3]);
 *             a bit of a state component not in CPUID.(0xD,1):EDX:ECX
 *             is #GP (SDM Vol. 1 13.3, Vol. 4).
 */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/check.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/runtime.h"

#define PCI_HOLE_ADDR 0xc0000000u /* above any RAM a test VM has, below the PCI window */
#define HPET_ADDR 0xfed00000u	  /* where a PC's HPET usually is */
#define FIRMWARE_ADDR 0xff000000u /* the firmware range below 4 GiB */
#define ALL_ONES 0xffffffffu
#define BYTE_MERGE_SEED 0x12345600u /* AL is loaded, the rest of EAX kept */
#define BYTE_MERGE_WANT 0x123456ffu

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_ADJUST 0x3b
#define MSR_IA32_TSC_AUX 0xc0000103u
#define MSR_IA32_XSS 0xda0
#define CPUID_XSAVE 0xd
#define CPUID_0D_1_EAX_XSAVES (1u << 3)
#define XSS_PT (1ull << 8) /* Intel PT's state, a supervisor component */
#define CPUID_EXT1 0x80000001u
#define CPUID_EXT1_EDX_RDTSCP (1u << 27)
#define CPUID_7_EBX_TSC_ADJUST (1u << 1)
#define CPUID_7_ECX_RDPID (1u << 22)
#define VEC_GP 13
#define TSC_AUX_VALUE 0x5a5u
#define TSC_AUX_RESERVED (1ull << 32)
/* The TSC values written: far above and below what it reads now. */
#define TSC_HIGH (1ull << 40)
#define TSC_LOW 1000000ull
/* Ticks a WRMSR and the RDTSC after it may take, exits included. */
#define TSC_WINDOW 50000000ull
#define EXIT_FAILED 1

const char program_name[] = "memtest";

static uint32_t read32(uint32_t addr)
{
	return *(volatile uint32_t *)addr;
}

static void write32(uint32_t addr, uint32_t value)
{
	*(volatile uint32_t *)addr = value;
}

/* MOV AL, [addr]: only the low byte of EAX is loaded. */
static uint32_t read8_merged(uint32_t addr)
{
	uint32_t eax = BYTE_MERGE_SEED;

	__asm__ volatile("movb (%1), %%al" : "+a"(eax) : "r"(addr) : "memory");
	return eax;
}

static uint32_t read16(uint32_t addr)
{
	return *(volatile uint16_t *)addr;
}

/* A read where nothing decodes the address: all-ones at each size. */
static void unbacked_read(const char *what, uint32_t addr)
{
	uint32_t v32 = read32(addr), v16 = read16(addr), v8 = read8_merged(addr);

	check(v32 == ALL_ONES && v16 == 0xffff && v8 == BYTE_MERGE_WANT,
	      "read %s at 0x%08x: 0x%08x, 16-bit 0x%04x, 8-bit into eax 0x%08x", what, addr, v32,
	      v16, v8);
}

static void unbacked(const struct boot_params *bp)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < bp->nusable && i < BOOT_MAX_RANGES; i++)
		if (bp->usable[i].end > top)
			top = bp->usable[i].end;
	if (top < PCI_HOLE_ADDR) {
		unbacked_read("above RAM", (uint32_t)top);
		write32((uint32_t)top, 0);
		check(read32((uint32_t)top) == ALL_ONES, "write above RAM at 0x%08x dropped",
		      (uint32_t)top);
		unbacked_read("in the PCI hole", PCI_HOLE_ADDR);
	}
	uint32_t hpet = read32(HPET_ADDR);
	check(true, "read hpet at 0x%08x: 0x%08x (%s)", HPET_ADDR, hpet,
	      hpet == ALL_ONES ? "none" : "present");
	uint32_t rom = read32(FIRMWARE_ADDR);
	write32(FIRMWARE_ADDR, ~rom);
	uint32_t after = read32(FIRMWARE_ADDR);
	check(after == rom, "write firmware at 0x%08x dropped: 0x%08x before, 0x%08x after",
	      FIRMWARE_ADDR, rom, after);
}

static void tsc_aux(void)
{
	if (!(cpuid(CPUID_EXT1).edx & CPUID_EXT1_EDX_RDTSCP)) {
		printf("memtest: skip tsc_aux: no RDTSCP\n");
		return;
	}
	int gp = wrmsr_safe(MSR_IA32_TSC_AUX, TSC_AUX_VALUE);
	check(gp == 0, "wrmsr tsc_aux 0x%x (vector %d)", TSC_AUX_VALUE, gp);
	uint64_t value = 0;
	gp = rdmsr_safe(MSR_IA32_TSC_AUX, &value);
	check(gp == 0 && value == TSC_AUX_VALUE, "rdmsr tsc_aux 0x%llx (vector %d)", value, gp);
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	check(aux == TSC_AUX_VALUE, "rdtscp ecx 0x%x", aux);
	if (cpuid(7).ecx & CPUID_7_ECX_RDPID) {
		uint32_t pid;
		__asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0xf8" : "=a"(pid)); /* rdpid %eax */
		check(pid == TSC_AUX_VALUE, "rdpid 0x%x", pid);
	} else {
		printf("memtest: skip rdpid: not offered\n");
	}
	gp = wrmsr_safe(MSR_IA32_TSC_AUX, TSC_AUX_RESERVED | TSC_AUX_VALUE);
	rdmsr_safe(MSR_IA32_TSC_AUX, &value);
	check(gp == VEC_GP && value == TSC_AUX_VALUE,
	      "wrmsr tsc_aux with bit 32 set: vector %d, tsc_aux 0x%llx", gp, value);
}

/* Writes target to the TSC and checks the next RDTSC, and TSC_ADJUST when
 * offered: it moves by what the write moved the TSC (SDM Vol. 3 18.17.3). */
static void tsc_write(uint64_t target, bool adjust)
{
	uint64_t adj_before = 0, adj_after = 0;

	if (adjust)
		rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj_before);
	uint64_t before = rdtsc();
	int gp = wrmsr_safe(MSR_IA32_TSC, target);
	uint64_t now = rdtsc();
	check(gp == 0 && now >= target && now - target < TSC_WINDOW,
	      "wrmsr tsc 0x%llx (vector %d): rdtsc then 0x%llx", target, gp, now);
	if (!adjust)
		return;
	rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj_after);
	/* moved by target - (the TSC at the write), which lies in [before, now] */
	uint64_t moved = adj_after - adj_before, least = target - now, most = target - before;
	check(moved - least <= most - least, "tsc_adjust moved by 0x%llx", moved);
}

static void tsc(void)
{
	bool adjust = cpuid(7).ebx & CPUID_7_EBX_TSC_ADJUST;

	if (!adjust)
		printf("memtest: skip tsc_adjust: not offered\n");
	tsc_write(TSC_HIGH, adjust);
	tsc_write(TSC_LOW, adjust);
}

static void xss(void)
{
	struct cpuid_regs r = cpuid_subleaf(CPUID_XSAVE, 1);
	uint64_t supervisor = (uint64_t)r.edx << 32 | r.ecx;
	uint64_t value = ~0ull;
	int gp = rdmsr_safe(MSR_IA32_XSS, &value);

	if (!(r.eax & CPUID_0D_1_EAX_XSAVES)) {
		check(gp == VEC_GP, "rdmsr xss without xsaves: vector %d", gp);
		return;
	}
	check(gp == 0 && !(value & ~supervisor), "rdmsr xss 0x%llx (vector %d), components 0x%llx",
	      value, gp, supervisor);
	gp = wrmsr_safe(MSR_IA32_XSS, 0);
	check(gp == 0, "wrmsr xss 0 (vector %d)", gp);
	if (!(supervisor & XSS_PT)) {
		gp = wrmsr_safe(MSR_IA32_XSS, XSS_PT);
		rdmsr_safe(MSR_IA32_XSS, &value);
		check(gp == VEC_GP && value == 0,
		      "wrmsr xss of a component not offered: vector %d, "
		      "xss 0x%llx",
		      gp, value);
	}
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	if (boot_params_parse(magic, info, &bp) != 0 || !bp.have_memory_map) {
		printf("memtest: no Multiboot memory map (magic 0x%08x)\n", magic);
		return EXIT_FAILED;
	}
	/* The TSC first: with on_unbacked = "crash" the VM ends at the first
	 * unbacked read. */
	tsc_aux();
	tsc();
	xss();
	unbacked(&bp);
	return checks_verdict();
}
