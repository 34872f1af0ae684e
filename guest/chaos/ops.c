/* The chaos operations. Each takes its operands from four random words
 * and runs at CPL 0 or CPL 3 (chaos.c picks); any exception ends it
 * (entry.S). An operation that changes state the guest itself needs (a
 * control register, an MSR, the IDT) puts it back right after, so the
 * guest survives its own operations; what stays out is what would end
 * the VM for sure: INIT to its own vCPU, writes to its own RAM outside a
 * scratch buffer, the ports that power off or reset the machine, the
 * COM1 the results are printed on. */
#include <stdint.h>

#include "guest/chaos/chaos.h"
#include "guest/chaos/layout.h"
#include "guest/lib/string.h"
#include "vmm/abi/hypercall_abi.h"

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_FIRST 0x320
#define LAPIC_LVT_LAST 0x370
#define LAPIC_SVR_ENABLED_SPURIOUS_FF 0x1ff
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_WINDOW 0x10
#define HPET_BASE 0xfed00000ull

#define DELIVERY_MODE_SHIFT 8
#define DELIVERY_MODE_MASK 7u
#define DELIVERY_INIT 5u
#define DELIVERY_STARTUP 6u
#define ICR_ASSERT (1u << 14)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_ALL_BUT_SELF 3u
#define ICR_SELF (1u << 18)
#define ICR_DEST_SHIFT 24
#define AP_APIC_ID 1

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_ICR 0x830
#define MSR_KVM_FIRST_OLD 0x11
#define MSR_KVM_LAST_OLD 0x12
#define MSR_KVM_FIRST 0x4b564d00u
#define MSR_KVM_LAST 0x4b564dffu

#define CR4_SMEP_BIT 20
#define CR4_SMAP_BIT 21
#define CR3_PWT_BIT 3
#define CR3_RESERVED_FIRST_BIT 52
#define DR7_WRITABLE_MASK 0xffffffffull

#define PORT_COM1_FIRST 0x3f8
#define PORT_COM1_LAST 0x3ff
#define PORT_I8042_COMMAND 0x64
#define PORT_FAST_A20_RESET 0x92
#define PORT_RESET_CONTROL 0xcf9
#define PORT_ACPI_PM_FIRST 0x600
#define PORT_ACPI_PM_LAST 0x63f
#define DEBUG_EXIT_PORTS 4 /* QEMU's isa-debug-exit with iosize=4, as pgvisor has it */
#define NUM_PORTS 0x10000
#define SCRATCH_BYTES 65536
#define MAX_STRING_COUNT 64
#define HC_RANDOM_RANGE 16

/* --- the machine, as inline assembly ------------------------------------------ */

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint8_t scratch[SCRATCH_BYTES] __attribute__((aligned(4096)));
static uint64_t ram_end;
static uint64_t apic_base_at_start;

void ops_init(uint64_t end)
{
	ram_end = end;
	apic_base_at_start = rdmsr(MSR_APIC_BASE);
}

static inline volatile uint32_t *lapic(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

/* An INIT to its own vCPU would reset the guest mid-run, and a SIPI with
 * a random vector would start the second vCPU on whatever lies at that
 * page (op_init_sipi sends both, safely): such a command becomes a fixed
 * IPI with the same operands. */
static uint32_t no_init_sipi(uint32_t command)
{
	uint32_t mode = (command >> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK;
	if (mode == DELIVERY_INIT || mode == DELIVERY_STARTUP)
		command &= ~(DELIVERY_MODE_MASK << DELIVERY_MODE_SHIFT);
	return command;
}

/* --- CPUID, MSRs ------------------------------------------------------------------ */

static void op_cpuid(struct op_args *a)
{
	static const uint32_t bases[] = { 0, 0x40000000u, 0x40000100u, 0x80000000u };
	uint32_t leaf = (a->r[0] & 1) ? (uint32_t)a->r[1]
				      : bases[(a->r[1] >> 8) % 4] + (uint32_t)(a->r[1] & 0x1f);
	uint32_t eax = leaf, ebx, ecx = (a->r[2] & 1) ? (uint32_t)a->r[3] : (a->r[3] & 7), edx;
	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
}

/* Architectural MSRs (SDM Vol. 4 table 2-2) and the hypervisor ones. */
static const uint32_t arch_msrs[] = {
	0x0,	    0x1,	0x10,	    0x17,	0x1b,	    0x2a,	0x3a,
	0x3b,	    0x48,	0x49,	    0x79,	0x8b,	    0x9b,	0xc1,
	0xc2,	    0xce,	0xe7,	    0xe8,	0xfe,	    0x10a,	0x174,
	0x175,	    0x176,	0x179,	    0x17a,	0x186,	    0x187,	0x198,
	0x199,	    0x19a,	0x19b,	    0x19c,	0x1a0,	    0x1a2,	0x1d9,
	0x1f2,	    0x1f3,	0x200,	    0x201,	0x20f,	    0x250,	0x258,
	0x259,	    0x268,	0x277,	    0x2ff,	0x309,	    0x30a,	0x30b,
	0x38d,	    0x38e,	0x38f,	    0x390,	0x400,	    0x401,	0x402,
	0x480,	    0x481,	0x482,	    0x485,	0x48b,	    0x491,	0x4c1,
	0x600,	    0x6e0,	0x6a0,	    0x802,	0x803,	    0x808,	0x80b,
	0x80f,	    0x828,	0x830,	    0x832,	0x838,	    0x839,	0x83e,
	0x83f,	    0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100,
	0xc0000101, 0xc0000102, 0xc0000103, 0x40000000, 0x40000001, 0x11,	0x12,
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04,
};
#define NUM_ARCH_MSRS (sizeof(arch_msrs) / sizeof(arch_msrs[0]))

uint32_t pick_msr(uint64_t r)
{
	return (r & 1) ? (uint32_t)(r >> 32) : arch_msrs[(r >> 8) % NUM_ARCH_MSRS];
}

static void op_rdmsr(struct op_args *a)
{
	(void)rdmsr(pick_msr(a->r[0]));
}

/* MSRs no random value goes to: the APIC base and ICR (op_x2apic does
 * them), EFER (one bit at a time only: LME off would end long mode), and
 * KVM's clock and steal-time MSRs, whose values are addresses in RAM the
 * hypervisor then writes. */
bool msr_write_kept_out(uint32_t msr)
{
	return msr == MSR_APIC_BASE || msr == MSR_X2APIC_ICR ||
	       (msr >= MSR_KVM_FIRST_OLD && msr <= MSR_KVM_LAST_OLD) ||
	       (msr >= MSR_KVM_FIRST && msr <= MSR_KVM_LAST);
}

static void op_wrmsr(struct op_args *a)
{
	uint32_t msr = pick_msr(a->r[0]);
	if (msr_write_kept_out(msr))
		return;
	uint64_t old = rdmsr(msr);
	uint64_t v = (a->r[1] & 1) || msr == MSR_EFER ? old ^ (1ull << (a->r[2] % 64)) : a->r[3];
	wrmsr(msr, v);
	wrmsr(msr, old);
}

/* --- control and debug registers ---------------------------------------------- */

static void op_read_cr(struct op_args *a)
{
	uint64_t v;
	switch (a->r[0] % 5) {
	case 0:
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
		break;
	case 1:
		__asm__ volatile("mov %%cr2, %0" : "=r"(v));
		break;
	case 2:
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
		break;
	case 3:
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
		break;
	default:
		__asm__ volatile("mov %%cr8, %0" : "=r"(v));
		break;
	}
	(void)v;
}

/* CR0 with one bit flipped (PG or PE: #GP in long mode), then back. */
static void op_write_cr0(struct op_args *a)
{
	uint64_t old, v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(old));
	v = old ^ (1ull << (a->r[0] % 64));
	__asm__ volatile("mov %0, %%cr0; mov %1, %%cr0" : : "r"(v), "r"(old) : "memory");
}

/* CR3: the same tables with PWT/PCD or a reserved bit flipped. */
static void op_write_cr3(struct op_args *a)
{
	uint64_t old, v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(old));
	unsigned bit = (a->r[0] & 1) ? CR3_PWT_BIT + (a->r[1] & 1)
				     : CR3_RESERVED_FIRST_BIT + (unsigned)(a->r[1] % 12);
	v = old ^ (1ull << bit);
	__asm__ volatile("mov %0, %%cr3; mov %1, %%cr3" : : "r"(v), "r"(old) : "memory");
}

/* CR4 with one bit flipped, but not SMEP or SMAP: the guest's pages are
 * all user pages, so either would fault every fetch and access. */
static void op_write_cr4(struct op_args *a)
{
	uint64_t old, v;
	unsigned bit = (unsigned)(a->r[0] % 64);
	if (bit == CR4_SMEP_BIT || bit == CR4_SMAP_BIT)
		return;
	__asm__ volatile("mov %%cr4, %0" : "=r"(old));
	v = old ^ (1ull << bit);
	__asm__ volatile("mov %0, %%cr4; mov %1, %%cr4" : : "r"(v), "r"(old) : "memory");
}

static void op_write_cr8(struct op_args *a)
{
	uint64_t v = (a->r[0] & 1) ? a->r[1] : (a->r[1] & 0xf), zero = 0;
	__asm__ volatile("mov %0, %%cr8; mov %1, %%cr8" : : "r"(v), "r"(zero));
}

static void op_debug_registers(struct op_args *a)
{
	uint64_t v = a->r[1];
	switch (a->r[0] % 12) {
	case 0:
		__asm__ volatile("mov %0, %%dr0" : : "r"(v));
		break;
	case 1:
		__asm__ volatile("mov %0, %%dr1" : : "r"(v));
		break;
	case 2:
		__asm__ volatile("mov %0, %%dr2" : : "r"(v));
		break;
	case 3:
		__asm__ volatile("mov %0, %%dr3" : : "r"(v));
		break;
	case 4:
		__asm__ volatile("mov %0, %%dr6" : : "r"(v));
		break;
	case 5: {
		/* Breakpoints armed for one instruction; the trap path disarms
		 * them should one fire (or GD make the disarming fault). */
		uint64_t zero = 0, dr7 = (a->r[2] & 1) ? v : (v & DR7_WRITABLE_MASK);
		chaos_dr7_armed = 1;
		__asm__ volatile("mov %0, %%dr7; mov %1, %%dr7" : : "r"(dr7), "r"(zero));
		chaos_dr7_armed = 0;
		break;
	}
	case 6:
		__asm__ volatile("mov %%dr0, %0" : "=r"(v));
		break;
	case 7:
		__asm__ volatile("mov %%dr3, %0" : "=r"(v));
		break;
	case 8:
		__asm__ volatile("mov %%dr6, %0" : "=r"(v));
		break;
	case 9:
		__asm__ volatile("mov %%dr7, %0" : "=r"(v));
		break;
	case 10: /* DR4 and DR5: aliases of DR6/DR7, #UD with CR4.DE */
		__asm__ volatile("mov %%dr4, %0" : "=r"(v));
		break;
	default: {
		/* DR5 is DR7 while CR4.DE is clear. */
		uint64_t zero = 0;
		chaos_dr7_armed = 1;
		__asm__ volatile("mov %0, %%dr5; mov %1, %%dr7" : : "r"(v), "r"(zero));
		chaos_dr7_armed = 0;
		break;
	}
	}
}

static void op_xsetbv(struct op_args *a)
{
	uint32_t lo, hi, index = (a->r[0] & 1) ? (uint32_t)a->r[1] : (uint32_t)(a->r[1] & 1);
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t v = (a->r[2] & 1) ? a->r[3] : (a->r[3] & 0x2ff);
	__asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
	__asm__ volatile("xsetbv" : : "c"(0), "a"(lo), "d"(hi));
}

/* --- TLB, time, hypercalls, descriptor tables ------------------------------------ */

static void op_invlpg_invpcid(struct op_args *a)
{
	if (a->r[0] & 1) {
		__asm__ volatile("invlpg (%0)" : : "r"(a->r[1]) : "memory");
		return;
	}
	struct {
		uint64_t pcid, address;
	} desc = { a->r[2] & ((a->r[0] & 2) ? ~0ull : 0xfff), a->r[3] };
	__asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"(a->r[1] % 6) : "memory");
}

static void op_time(struct op_args *a)
{
	uint32_t lo, hi, aux;
	switch (a->r[0] % 3) {
	case 0:
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		break;
	case 1:
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		break;
	default:
		__asm__ volatile("rdpmc"
				 : "=a"(lo), "=d"(hi)
				 : "c"((a->r[1] & 1) ? (uint32_t)a->r[2]
						     : (uint32_t)(a->r[2] & 0x4000000f)));
		break;
	}
}

/* VMCALL with random numbers and arguments; not HC_CONSOLE_PUTC (its
 * characters would land in the middle of the guest's own lines), and
 * HC_PROFILE_READ only into the scratch buffer. */
static void op_vmcall(struct op_args *a)
{
	uint64_t nr = (a->r[0] & 1) ? a->r[1] : a->r[1] % HC_RANDOM_RANGE;
	uint64_t b = a->r[2], c = a->r[3], d = a->r[0] >> 8, s = a->r[1] >> 8;
	if (nr == HC_CONSOLE_PUTC)
		return;
	if (nr == HC_PROFILE_READ) {
		b = (uint64_t)scratch;
		c = c % SCRATCH_BYTES;
	}
	__asm__ volatile("vmcall" : "+a"(nr), "+b"(b), "+c"(c), "+d"(d), "+S"(s) : : "memory");
}

struct table_register64 {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void op_descriptor_tables(struct op_args *a)
{
	struct table_register64 junk = { (uint16_t)a->r[1], a->r[2] }, gdt, idt;
	uint16_t sel = (uint16_t)a->r[3];
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdt), "=m"(idt));
	switch (a->r[0] % 6) {
	case 0:
		__asm__ volatile("lgdt %0; lgdt %1" : : "m"(junk), "m"(gdt));
		break;
	case 1:
		__asm__ volatile("lidt %0; lidt %1" : : "m"(junk), "m"(idt));
		break;
	case 2:
		__asm__ volatile("ltr %0" : : "r"(sel));
		break;
	case 3:
		__asm__ volatile("lldt %0; lldt %1" : : "r"(sel), "r"((uint16_t)0));
		break;
	case 4: {
		uint16_t ldt, tr, msw;
		__asm__ volatile("sldt %0; str %1; smsw %2" : "=r"(ldt), "=r"(tr), "=r"(msw));
		break;
	}
	default: {
		uint32_t ar, limit;
		__asm__ volatile("lar %2, %0; lsl %2, %1; verr %w2; verw %w2"
				 : "=r"(ar), "=r"(limit)
				 : "r"((uint32_t)sel)
				 : "cc");
		break;
	}
	}
}

/* Instructions pgvisor must refuse, trap or pass: the VMX set (#UD), cache
 * control, MONITOR/MWAIT, and friends. */
static void op_misc_instructions(struct op_args *a)
{
	uint64_t v = a->r[1];
	switch (a->r[0] % 16) {
	case 0:
		__asm__ volatile("vmxon %0" : : "m"(v));
		break;
	case 1:
		__asm__ volatile("vmptrld %0" : : "m"(v));
		break;
	case 2:
		__asm__ volatile("vmclear %0" : : "m"(v));
		break;
	case 3:
		__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(a->r[2]));
		break;
	case 4:
		__asm__ volatile("vmwrite %0, %1" : : "r"(v), "r"(a->r[2]));
		break;
	case 5:
		__asm__ volatile("vmlaunch; vmresume; vmxoff");
		break;
	case 6:
		__asm__ volatile("invept %0, %1" : : "m"(scratch), "r"(a->r[2] % 4));
		break;
	case 7:
		__asm__ volatile("invvpid %0, %1" : : "m"(scratch), "r"(a->r[2] % 4));
		break;
	case 8:
		__asm__ volatile("wbinvd");
		break;
	case 9:
		__asm__ volatile("invd");
		break;
	case 10:
		/* MWAIT after a write to the monitored line: it must not sleep
		 * for good. */
		__asm__ volatile("monitor; movb $1, (%0); mwait"
				 :
				 : "a"(scratch), "c"(0), "d"(0)
				 : "memory");
		break;
	case 11:
		__asm__ volatile("clts; lmsw %w0" : : "r"((uint32_t)v));
		break;
	case 12: {
		uint64_t flags = v & ~(1ull << 14); /* NT: kept clear, IRETQ faults on it */
		__asm__ volatile("pushfq; push %0; popfq; popfq" : : "r"(flags) : "cc", "memory");
		break;
	}
	case 13:
		__asm__ volatile("swapgs; swapgs");
		break;
	case 14:
		__asm__ volatile("syscall" : : : "rcx", "r11", "memory");
		break;
	default:
		__asm__ volatile("ud2");
		break;
	}
}

/* --- ports ------------------------------------------------------------------------- */

/* Writes that would end the VM or garble its console: the reset and
 * power-off ports, the ACPI PM block, COM1. */
static bool port_write_kept_out(uint16_t port)
{
	return (port >= PORT_DEBUG_EXIT && port < PORT_DEBUG_EXIT + DEBUG_EXIT_PORTS) ||
	       port == PORT_BOCHS_SHUTDOWN || port == PORT_I8042_COMMAND ||
	       port == PORT_FAST_A20_RESET ||
	       (port >= PORT_RESET_CONTROL - 3 && port <= PORT_RESET_CONTROL) ||
	       (port >= PORT_ACPI_PM_FIRST && port <= PORT_ACPI_PM_LAST) ||
	       (port >= PORT_COM1_FIRST && port <= PORT_COM1_LAST) || port == PORT_E9_CONSOLE;
}

bool port_range_kept_out(uint16_t port, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		if (port_write_kept_out((uint16_t)(port + i)))
			return true;
	return false;
}

static void op_port_in(struct op_args *a)
{
	uint16_t port = (uint16_t)(a->r[0] % NUM_PORTS);
	uint32_t v;
	switch (a->r[1] % 3) {
	case 0:
		__asm__ volatile("inb %w1, %b0" : "=a"(v) : "d"(port));
		break;
	case 1:
		__asm__ volatile("inw %w1, %w0" : "=a"(v) : "d"(port));
		break;
	default:
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "d"(port));
		break;
	}
}

static void op_port_out(struct op_args *a)
{
	uint16_t port = (uint16_t)(a->r[0] % NUM_PORTS);
	uint32_t v = (uint32_t)a->r[2];
	unsigned kind = a->r[1] % 3;
	if (port_range_kept_out(port, 1u << kind))
		return;
	switch (kind) {
	case 0:
		__asm__ volatile("outb %b0, %w1" : : "a"(v), "d"(port));
		break;
	case 1:
		__asm__ volatile("outw %w0, %w1" : : "a"(v), "d"(port));
		break;
	default:
		__asm__ volatile("outl %0, %w1" : : "a"(v), "d"(port));
		break;
	}
}

/* REP INS into / REP OUTS from the scratch buffer, random counts. */
static void op_port_string(struct op_args *a)
{
	uint16_t port = (uint16_t)(a->r[0] % NUM_PORTS);
	uint64_t count = a->r[1] % MAX_STRING_COUNT;
	void *buf = scratch + (a->r[2] % (SCRATCH_BYTES / 2));
	bool out = a->r[3] & 1;
	unsigned width = 1u << ((a->r[3] >> 1) % 3);
	if (out && port_range_kept_out(port, width))
		return;
	switch ((a->r[3] >> 1) % 3 + (out ? 3 : 0)) {
	case 0:
		__asm__ volatile("rep insb" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	case 1:
		__asm__ volatile("rep insw" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	case 2:
		__asm__ volatile("rep insl" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	case 3:
		__asm__ volatile("rep outsb" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	case 4:
		__asm__ volatile("rep outsw" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	default:
		__asm__ volatile("rep outsl" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
		break;
	}
}

/* --- memory -------------------------------------------------------------------- */

/* A guest-physical address somewhere interesting: a device window, past
 * RAM, for reads anywhere in RAM or 4 GiB, for writes the scratch buffer;
 * or an address past the 4 GiB the page tables map. Outside RAM it is
 * 8-aligned: pgvisor ends a VM whose access runs over a device's end
 * (one clear line, by design), which would cut the run short. */
uint64_t pick_address(uint64_t r, bool write)
{
	uint64_t off = (r >> 8) & ~7ull;
	switch (r % 8) {
	case 0:
		return LAPIC_BASE + (off & 0xfff);
	case 1:
		return IOAPIC_BASE + (off & 0xfff);
	case 2:
		return HPET_BASE + (off & 0x3ff);
	case 3:
		return PCI_MMCONFIG_BASE + (off & 0x0fffffff);
	case 4:
		return PCI_WINDOW_BASE + (off & 0x3fffffff);
	case 5:
		return ram_end + off % (PCI_WINDOW_BASE - ram_end - 8);
	case 6:
		return write ? (uint64_t)scratch + (off & (SCRATCH_BYTES - 1)) : off % ram_end;
	default:
		return (off & 1) || write ? off | FOUR_GIB : off % FOUR_GIB;
	}
}

/* Keeps INIT out of the LAPIC's ICR and LVTs and the I/O APIC's
 * redirection entries (its window takes whatever IOREGSEL selected). */
static bool is_lapic_init_register(uint64_t addr)
{
	uint64_t reg = (addr - LAPIC_BASE) & ~3ull;
	return addr >= LAPIC_BASE && addr < LAPIC_BASE + 0x1000 &&
	       (reg == LAPIC_ICR_LOW || (reg >= LAPIC_LVT_FIRST && reg <= LAPIC_LVT_LAST + 0xc));
}

uint64_t safe_value(uint64_t addr, uint64_t v)
{
	if (is_lapic_init_register(addr) ||
	    (addr >= IOAPIC_BASE + IOAPIC_WINDOW - 3 && addr < IOAPIC_BASE + 0x1000))
		for (unsigned shift = 0; shift < 64; shift += 8)
			if (((v >> (shift + DELIVERY_MODE_SHIFT)) & DELIVERY_MODE_MASK) ==
			    DELIVERY_INIT)
				v &= ~((uint64_t)DELIVERY_MODE_MASK
				       << (shift + DELIVERY_MODE_SHIFT));
	return v;
}

static void op_memory_read(struct op_args *a)
{
	uint64_t addr = pick_address(a->r[0], false), v = 0;
	switch (a->r[1] % 8) {
	case 0:
		__asm__ volatile("movb (%1), %b0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 1:
		__asm__ volatile("movw (%1), %w0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 2:
		__asm__ volatile("movl (%1), %k0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 3:
		__asm__ volatile("movq (%1), %0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 4:
		__asm__ volatile("movzbl (%1), %k0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 5:
		__asm__ volatile("movswq (%1), %0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 6:
		__asm__ volatile("cmpl %k0, (%1)" : : "r"(v), "r"(addr) : "cc", "memory");
		break;
	default:
		__asm__ volatile("testq %0, (%1)" : : "r"(v), "r"(addr) : "cc", "memory");
		break;
	}
}

static void op_memory_write(struct op_args *a)
{
	uint64_t addr = pick_address(a->r[0], true);
	uint64_t v = safe_value(addr, a->r[2]);
	if (is_lapic_init_register(addr) && (a->r[1] % 8) >= 4)
		return; /* read-modify-write could bring INIT back */
	switch (a->r[1] % 8) {
	case 0:
		__asm__ volatile("movb %b0, (%1)" : : "r"(v), "r"(addr) : "memory");
		break;
	case 1:
		__asm__ volatile("movw %w0, (%1)" : : "r"(v), "r"(addr) : "memory");
		break;
	case 2:
		__asm__ volatile("movl %k0, (%1)" : : "r"(v), "r"(addr) : "memory");
		break;
	case 3:
		__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
		break;
	case 4:
		__asm__ volatile("addl %k0, (%1)" : : "r"(v), "r"(addr) : "cc", "memory");
		break;
	case 5:
		__asm__ volatile("orq %0, (%1)" : : "r"(v), "r"(addr) : "cc", "memory");
		break;
	case 6:
		__asm__ volatile("xchgl %k0, (%1)" : "+r"(v) : "r"(addr) : "memory");
		break;
	default:
		__asm__ volatile("andw %w0, (%1)" : : "r"(v), "r"(addr) : "cc", "memory");
		break;
	}
}

/* --- interrupts ---------------------------------------------------------------- */

/* A random IPI through the xAPIC ICR: bad vectors (0-15), absent or
 * broadcast destinations, every delivery mode but INIT to itself. */
static void op_ipi_xapic(struct op_args *a)
{
	uint32_t command = no_init_sipi((uint32_t)a->r[0] & 0x000cffff);
	*lapic(LAPIC_ICR_HIGH) = (uint32_t)a->r[1];
	*lapic(LAPIC_ICR_LOW) = command;
}

/* The same through x2APIC (SDM Vol. 3 10.12): switch, random x2APIC MSR
 * traffic, an IPI, and back to xAPIC by way of disabled (the only legal
 * way down, 10.12.5). Half the time, the x2APIC MSR alone, in xAPIC
 * mode (#GP): the mode switches are the dearest exits chaos makes. */
static void op_x2apic(struct op_args *a)
{
	uint32_t msr = MSR_X2APIC_FIRST + (uint32_t)(a->r[1] % 0x40);
	if (a->r[0] >> 63) {
		(void)rdmsr(msr);
		return;
	}
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	if (a->r[2] & 1)
		(void)rdmsr(msr);
	else if (msr != MSR_X2APIC_ICR)
		wrmsr(msr, safe_value(LAPIC_BASE + (msr - MSR_X2APIC_FIRST) * 16, a->r[3]));
	uint64_t command =
		no_init_sipi((uint32_t)a->r[0] & 0x000cffff) | (a->r[3] & ~0xffffffffull);
	wrmsr(MSR_X2APIC_ICR, command);
}

/* Back to the xAPIC at its base, whatever op_x2apic got to. */
static void repair_apic_base(void)
{
	if (rdmsr(MSR_APIC_BASE) == apic_base_at_start)
		return;
	wrmsr(MSR_APIC_BASE, apic_base_at_start & ~(APIC_BASE_ENABLE | APIC_BASE_X2APIC));
	wrmsr(MSR_APIC_BASE, apic_base_at_start);
}

/* INIT, then SIPIs with vectors in the all-HLT park area, to the second
 * vCPU (physical destination 1, or all-but-self). */
static void op_init_sipi(struct op_args *a)
{
	uint32_t dest = (a->r[0] & 1) ? 0 : ICR_ALL_BUT_SELF << ICR_SHORTHAND_SHIFT;
	uint32_t vector = (AP_PARK_ADDR >> 12) + (uint32_t)(a->r[1] % AP_PARK_PAGES);
	*lapic(LAPIC_ICR_HIGH) = AP_APIC_ID << ICR_DEST_SHIFT;
	if (a->r[2] & 1)
		*lapic(LAPIC_ICR_LOW) = dest | ICR_ASSERT | DELIVERY_INIT << DELIVERY_MODE_SHIFT;
	for (unsigned i = 0; i < (a->r[3] % 3); i++)
		*lapic(LAPIC_ICR_LOW) =
			dest | ICR_ASSERT | DELIVERY_STARTUP << DELIVERY_MODE_SHIFT | vector;
}

/* HLT with an interrupt pending: a self-IPI, then STI; HLT. The APIC is
 * first made able to take it (enabled, TPR 0; nothing stays in service:
 * chaos_end_interrupt ends each interrupt an operation takes), or the
 * HLT would be for good. */
static void op_hlt_pending(struct op_args *a)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if ((base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) != APIC_BASE_ENABLE)
		return;
	*lapic(LAPIC_SVR) = LAPIC_SVR_ENABLED_SPURIOUS_FF;
	*lapic(LAPIC_TPR) = 0;
	uint32_t vector = 32 + (uint32_t)(a->r[0] % 224);
	*lapic(LAPIC_ICR_LOW) = ICR_SELF | vector;
	__asm__ volatile("sti; hlt; cli" : : : "memory");
	/* Not reached when the interrupt came: its handler ends the op. */
}

/* An interrupt that ended an operation (the HLT's, or one a POPF let in)
 * is in service until an EOI, and would hold back every later one of
 * its priority class or lower. */
void chaos_end_interrupt(void)
{
	if ((rdmsr(MSR_APIC_BASE) & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) == APIC_BASE_ENABLE)
		*lapic(LAPIC_EOI) = 0;
}

/* INT n for every n (the gates are DPL 3, so CPL 3 reaches them too). */
static void op_int_n(struct op_args *a)
{
	void (*stub)(void) = (void (*)(void))(chaos_int_stubs + (a->r[0] % 256) * INT_STUB_BYTES);
	stub();
}

const struct chaos_op chaos_ops[] = {
	{ .name = "cpuid", .run = op_cpuid },
	{ .name = "rdmsr", .run = op_rdmsr },
	{ .name = "wrmsr", .run = op_wrmsr },
	{ .name = "read-cr", .run = op_read_cr },
	{ .name = "write-cr0", .run = op_write_cr0 },
	{ .name = "write-cr3", .run = op_write_cr3 },
	{ .name = "write-cr4", .run = op_write_cr4 },
	{ .name = "write-cr8", .run = op_write_cr8 },
	{ .name = "debug-registers", .run = op_debug_registers },
	{ .name = "xsetbv", .run = op_xsetbv },
	{ .name = "invlpg-invpcid", .run = op_invlpg_invpcid },
	{ .name = "time", .run = op_time },
	{ .name = "vmcall", .run = op_vmcall },
	{ .name = "descriptor-tables", .run = op_descriptor_tables },
	{ .name = "misc-instructions", .run = op_misc_instructions },
	{ .name = "port-in", .run = op_port_in },
	{ .name = "port-out", .run = op_port_out },
	{ .name = "port-string", .run = op_port_string },
	{ .name = "memory-read", .run = op_memory_read },
	{ .name = "memory-write", .run = op_memory_write },
	{ .name = "ipi-xapic", .run = op_ipi_xapic },
	{ .name = "x2apic", .run = op_x2apic, .repair = repair_apic_base },
	{ .name = "init-sipi", .run = op_init_sipi },
	{ .name = "hlt-pending", .run = op_hlt_pending },
	{ .name = "int-n", .run = op_int_n, .software_interrupts = true },
	{ .name = "virtio", .run = op_virtio },
};
const unsigned chaos_nops = sizeof(chaos_ops) / sizeof(chaos_ops[0]);
