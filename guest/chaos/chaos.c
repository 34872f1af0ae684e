/* chaos: a guest that does, at random but reproducibly, what a hostile or
 * broken kernel might: every sensitive and privileged instruction with
 * random operands, at CPL 0 and CPL 3, port and memory accesses over the
 * whole machine, IPIs, INIT/SIPI to its second vCPU, INT n, garbage in
 * the rings of its virtio device (virtio_op.c). Exceptions end an
 * operation, not the guest (entry.S). Now and then (one draw in
 * PHASE_ONE_IN) it leaves long mode for a phase of 16 to 64 operations in
 * 32-bit protected mode with paging off or in real mode (modes.c,
 * modes.S), and comes back.
 *
 * Command line: seed=N (default 1), ops=N (default 100000, in all modes),
 * finale=triple (end in a triple fault instead of powering off), only=N
 * (run long-mode operation N of the table alone, for tracking one down;
 * no mode phases then).
 * Prints "chaos: N ops" every 100,000 operations and at the end
 * "chaos: seed S ops N digest D (long L, protected P, real R)", D a hash
 * of the operations chosen (not their results): the same seed and count
 * give the same digest; L, P, R the operations run in each mode. */
#include <stdint.h>

#include "guest/chaos/chaos.h"
#include "guest/chaos/layout.h"
#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/string.h"
#include "vmm/abi/hypercall_abi.h"

#define DEFAULT_OPS 100000
#define PROGRESS_EVERY 100000
#define NUM_VECTORS 256
#define FIRST_EXTERNAL_VECTOR 32
#define IDT_GATE_64_DPL3 0xee /* present, DPL 3, 64-bit interrupt gate */
#define TSS_TYPE_AVAILABLE_64 0x89
#define TSS_BYTES 104
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define FMASK_TF_IF_DF 0x700
#define STAR_KERNEL_CS_SHIFT 32
#define STAR_USER_BASE_SHIFT 48
#define USER_BASE_SEL 0x10 /* SYSRET: SS = this + 8, CS = this + 16 */
#define CPL3_ONE_IN 4	   /* about one operation in four runs at CPL 3 */
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define EXIT_UNEXPECTED 3
#define HLT_OPCODE 0xf4
#define REAL_MODE_IVT 0
#define PHASE_ONE_IN 512 /* a draw that is 0 modulo this starts a mode phase */
#define PHASE_MODE_SHIFT 9
#define PHASE_COUNT_SHIFT 10
#define PHASE_MIN_OPS 16
/* A mode operation's digest word: this + mode * MOP_KINDS + kind. */
#define MODE_DIGEST_BASE 0x100

struct idt_gate64 {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2, reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct table_register64 {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

const char program_name[] = "chaos";

static struct idt_gate64 idt[NUM_VECTORS] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
/* Shared with entry.S: where chaos_call resumes (0 outside an operation),
 * the event that ended the last operation, DR7 possibly armed, a CPL-3
 * operation that reached its end. */
volatile uint64_t chaos_resume_rsp, chaos_trap_vector;
volatile uint8_t chaos_dr7_armed, chaos_user_returned;
static uint64_t prng_state;
static uint64_t traps_by_vector[NUM_VECTORS + 1];
static uint64_t user_ops, user_completed;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* xorshift64* (Vigna): small, fast, and the same on every machine. */
static uint64_t prng_next(void)
{
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return prng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t digest_add(uint64_t digest, uint64_t word)
{
	for (unsigned i = 0; i < 8; i++) {
		digest ^= (word >> (8 * i)) & 0xff;
		digest *= FNV64_PRIME;
	}
	return digest;
}

static void power_off(int code)
{
	console_flush();
	outb(PORT_DEBUG_EXIT, (uint8_t)code);
	for (const char *s = "Shutdown"; *s; s++)
		outb(PORT_BOCHS_SHUTDOWN, (uint8_t)*s);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void chaos_unexpected_trap(uint64_t vector, const uint64_t *frame);
void chaos_unexpected_trap(uint64_t vector, const uint64_t *frame)
{
	printf("chaos: unexpected event %u outside an operation (frame %llx %llx)\n",
	       (unsigned)vector, (unsigned long long)frame[0], (unsigned long long)frame[1]);
	power_off(EXIT_UNEXPECTED);
}

static void machine_init(void)
{
	uint64_t tss_base = (uint64_t)&tss;

	for (unsigned v = 0; v < NUM_VECTORS; v++) {
		uint64_t h = (uint64_t)(chaos_vector_stubs + v * VECTOR_STUB_BYTES);
		idt[v] = (struct idt_gate64){
			(uint16_t)h,	     KERNEL_CODE_SEL,	  0, IDT_GATE_64_DPL3,
			(uint16_t)(h >> 16), (uint32_t)(h >> 32), 0
		};
	}
	struct table_register64 d = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));

	tss.rsp0 = (uint64_t)chaos_trap_stack_top;
	tss.iomap_base = TSS_BYTES; /* no I/O bitmap: CPL 3 port I/O faults */
	chaos_gdt[TSS_SEL / 8] = (TSS_BYTES - 1) | ((tss_base & 0xffffff) << 16) |
				 ((uint64_t)TSS_TYPE_AVAILABLE_64 << 40) |
				 (((tss_base >> 24) & 0xff) << 56);
	chaos_gdt[TSS_SEL / 8 + 1] = tss_base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));

	wrmsr(MSR_STAR, ((uint64_t)USER_BASE_SEL << STAR_USER_BASE_SHIFT) |
				((uint64_t)KERNEL_CODE_SEL << STAR_KERNEL_CS_SHIFT));
	wrmsr(MSR_LSTAR, (uint64_t)chaos_syscall_entry);
	wrmsr(MSR_FMASK, FMASK_TF_IF_DF);

	/* Whatever page a SIPI names in the park area, the vCPU halts; so
	 * does any interrupt or NMI it takes in real mode (every IVT entry
	 * points at the park). */
	uintptr_t ivt_address = REAL_MODE_IVT;
	__asm__("" : "+r"(ivt_address)); /* address 0 is RAM here, not NULL */
	volatile uint32_t *ivt = (volatile uint32_t *)ivt_address;
	for (unsigned v = 0; v < NUM_VECTORS; v++)
		ivt[v] = (AP_PARK_ADDR >> 4) << 16; /* segment:offset = park:0 */
	memset((void *)(uintptr_t)AP_PARK_ADDR, HLT_OPCODE, AP_PARK_PAGES * 4096);
	memcpy((void *)(uintptr_t)AP_PARK_ADDR, chaos_ap_park_start,
	       (size_t)(chaos_ap_park_end - chaos_ap_park_start));
}

/* The largest end of usable RAM: what lies past it is no RAM of ours. */
static uint64_t ram_end_of(const struct boot_params *bp)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < bp->nusable && i < BOOT_MAX_RANGES; i++)
		if (bp->usable[i].end > end)
			end = bp->usable[i].end;
	return end;
}

struct op_call {
	const struct chaos_op *op;
	struct op_args args;
};

static void run_op(void *p)
{
	struct op_call *c = p;
	c->op->run(&c->args);
}

static void run_repair(void *p)
{
	((const struct chaos_op *)p)->repair();
}

static void end_interrupt(void *unused)
{
	(void)unused;
	chaos_end_interrupt();
}

/* An external interrupt ended a CPL-0 operation: vectors 32-255, not
 * from an INT n. (CPL 3 runs with IF clear, which POPF cannot change
 * there.) */
static bool ended_by_interrupt(const struct chaos_op *op)
{
	return !op->software_interrupts && chaos_trap_vector >= FIRST_EXTERNAL_VECTOR &&
	       chaos_trap_vector < NUM_VECTORS;
}

static void enter_user(void *p)
{
	chaos_user_returned = 0;
	chaos_enter_user(run_op, p);
}

/* The one operation that ends the VM on purpose: an empty IDT, then an
 * exception — its delivery faults twice over (SDM Vol. 3 6.15, #DF). */
static void finale_triple_fault(void)
{
	struct table_register64 empty = { 0, 0 };
	printf("chaos: finale: triple fault\n");
	console_flush();
	__asm__ volatile("lidt %0; int3" : : "m"(empty));
}

/* A long-mode operation, drawn from pick and the generator, at CPL 0 or
 * CPL 3; its choice goes into *digest. */
static void long_mode_op(uint64_t pick, uint64_t only, uint64_t *digest)
{
	struct op_call c;
	c.op = &chaos_ops[only < chaos_nops ? only : pick % chaos_nops];
	bool user = (pick >> 32) % CPL3_ONE_IN == 0;
	for (unsigned i = 0; i < 4; i++)
		c.args.r[i] = prng_next();
	*digest = digest_add(*digest, (pick % chaos_nops) << 1 | user);

	bool interrupted = false;
	if (user) {
		user_ops++;
		(void)chaos_call(enter_user, &c); /* returns only by an event */
		if (chaos_user_returned && chaos_trap_vector == USER_DONE_VECTOR)
			user_completed++;
		else
			traps_by_vector[chaos_trap_vector]++;
	} else if (chaos_call(run_op, &c)) {
		traps_by_vector[chaos_trap_vector]++;
		interrupted = ended_by_interrupt(c.op);
	}
	if (c.op->repair)
		(void)chaos_call(run_repair, (void *)c.op);
	if (interrupted)
		(void)chaos_call(end_interrupt, NULL);
}

/* A mode phase, drawn from pick: its mode, up to left operations from
 * the generator (their kinds go into *digest), run. Returns how many. */
static unsigned mode_phase(uint64_t pick, uint64_t left, uint64_t *digest)
{
	unsigned mode = (pick >> PHASE_MODE_SHIFT) & 1 ? MODE_REAL : MODE_PROTECTED;
	unsigned count = PHASE_MIN_OPS + (unsigned)((pick >> PHASE_COUNT_SHIFT) %
						    (MODE_MAX_OPS - PHASE_MIN_OPS + 1));
	if (count > left)
		count = (unsigned)left;
	for (unsigned i = 0; i < count; i++) {
		struct op_args a;
		for (unsigned j = 0; j < 4; j++)
			a.r[j] = prng_next();
		*digest = digest_add(*digest,
				     MODE_DIGEST_BASE + mode * MOP_KINDS + mode_script_op(i, &a));
	}
	mode_run(mode, count);
	/* The last HLT operation's interrupt is in service still. */
	(void)chaos_call(end_interrupt, NULL);
	return count;
}

static uint64_t option(const char *cmdline, const char *key, uint64_t fallback)
{
	const char *v = cmdline_option(cmdline, key);
	return v && *v ? parse_uint(v) : fallback;
}

int chaos_main(uint32_t magic, uint32_t info);
int chaos_main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;

	console_init();
	if (boot_params_parse(magic, info, &bp)) {
		printf("chaos: not started by a Multiboot loader (magic %x)\n", magic);
		power_off(EXIT_UNEXPECTED);
	}
	uint64_t seed = option(bp.cmdline, "seed", 1);
	uint64_t nops = option(bp.cmdline, "ops", DEFAULT_OPS);
	const char *finale = cmdline_option(bp.cmdline, "finale");
	uint64_t only = option(bp.cmdline, "only", chaos_nops);
	uint64_t ram_end = ram_end_of(&bp);

	machine_init();
	ops_init(ram_end);
	modes_init(ram_end);
	virtio_op_init(ram_end);
	printf("chaos: seed %llu ops %llu ram %llu KiB, %u operations\n", (unsigned long long)seed,
	       (unsigned long long)nops, (unsigned long long)(ram_end >> 10), chaos_nops);

	/* xorshift must not start at 0. */
	prng_state = digest_add(FNV64_OFFSET, seed) | 1;
	uint64_t digest = FNV64_OFFSET, long_ops = 0;
	for (uint64_t n = 0; n < nops;) {
		uint64_t pick = prng_next(), before = n;
		if (only >= chaos_nops && pick % PHASE_ONE_IN == 0) {
			n += mode_phase(pick, nops - n, &digest);
		} else {
			long_mode_op(pick, only, &digest);
			n++;
			long_ops++;
		}
		if (n / PROGRESS_EVERY != before / PROGRESS_EVERY)
			printf("chaos: %llu ops\n",
			       (unsigned long long)(n / PROGRESS_EVERY * PROGRESS_EVERY));
	}

	uint64_t traps = 0;
	for (unsigned v = 0; v <= NUM_VECTORS; v++)
		traps += traps_by_vector[v];
	printf("chaos: events %llu (#GP %llu, #UD %llu, #PF %llu, #DB %llu); CPL 3 ops %llu, "
	       "%llu ran to their end\n",
	       (unsigned long long)traps, (unsigned long long)traps_by_vector[13],
	       (unsigned long long)traps_by_vector[6], (unsigned long long)traps_by_vector[14],
	       (unsigned long long)traps_by_vector[1], (unsigned long long)user_ops,
	       (unsigned long long)user_completed);
	const struct mode_counts *pm = &mode_counts[MODE_PROTECTED], *rm = &mode_counts[MODE_REAL];
	printf("chaos: protected mode: %llu phases, %llu events; real mode: %llu phases, %llu "
	       "events\n",
	       (unsigned long long)pm->phases, (unsigned long long)pm->events,
	       (unsigned long long)rm->phases, (unsigned long long)rm->events);
	printf("chaos: seed %llu ops %llu digest %016llx (long %llu, protected %llu, real %llu)\n",
	       (unsigned long long)seed, (unsigned long long)nops, (unsigned long long)digest,
	       (unsigned long long)long_ops, (unsigned long long)pm->ops,
	       (unsigned long long)rm->ops);
	if (finale && strncmp(finale, "triple", 6) == 0 && (finale[6] == ' ' || !finale[6]))
		finale_triple_fault();
	power_off(0);
	return 0;
}
