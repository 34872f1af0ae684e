/* The mode phases' C half: the tables the switches and each mode's
 * handlers need, built once, and the script of operations, drawn from
 * random words with the care ops.c takes in long mode (no INIT, no writes
 * to the guest's own RAM but a scratch area, no random writes to the
 * ports and MSRs that would end the VM); modes.S runs it. */
#include <stddef.h>
#include <stdint.h>

#include "guest/chaos/chaos.h"
#include "guest/chaos/layout.h"
#include "guest/lib/string.h"

#define NUM_VECTORS 256
#define NMI_VECTOR 2
#define GATE32_INTERRUPT 0x8e00u /* present, DPL 0, 32-bit interrupt gate: the high word's type */
#define GATE64_INTERRUPT 0x8eull /* the same, 64-bit */
#define GATE64_TYPE_SHIFT 40
#define GATE_SELECTOR_SHIFT 16
#define GATE64_OFFSET_MID_SHIFT 48
#define NUM_PORTS 0x10000
#define WIDTHS 3	      /* 8, 16, 32 bits */
#define CR0_FLIPPABLE_FIRST 1 /* bits 1-30: neither PE (0) nor PG (31) */
#define CR0_FLIPPABLE_BITS 30
#define CR4_BITS 32
#define CPUID_SMALL_LEAVES 0x20
#define CPUID_EXTENDED 0x80000000u
#define CPUID_SUBLEAVES 8
#define FIRST_IPI_VECTOR 32
#define SCRATCH_ALIGN_MASK (~7u)

struct mode_op {
	uint32_t kind, a, b, c;
};
_Static_assert(sizeof(struct mode_op) == 1u << MODE_OP_SHIFT, "modes.S indexes the script so");
_Static_assert(offsetof(struct mode_op, a) == MODE_OP_A &&
		       offsetof(struct mode_op, b) == MODE_OP_B &&
		       offsetof(struct mode_op, c) == MODE_OP_C,
	       "modes.S reads the operands there");

/* modes.S */
extern char chaos_rm_start[], chaos_rm_trap[], chaos_rm_nmi_return[], chaos_rm_end[];
extern char chaos_pm_trap[], chaos_pm_nmi_return[], chaos_lm_nmi_return[];
extern uint64_t chaos_idt32[NUM_VECTORS];

struct mode_counts mode_counts[2];
static uint64_t ram_end;

static void *mode_area(uint32_t offset)
{
	return (void *)(uintptr_t)(MODE_AREA + offset);
}

static volatile uint32_t *mode_state(unsigned field)
{
	return (volatile uint32_t *)mode_area(MODE_STATE_OFF + field);
}

/* A real-mode vector (offset, then segment) to a handler of the copied
 * real-mode code. */
static uint32_t real_vector(const char *handler)
{
	return (uint32_t)MODE_SEG << 16 | (uint32_t)(handler - chaos_rm_start + MODE_CODE_OFF);
}

static uint64_t gate32(const char *handler)
{
	uint32_t offset = (uint32_t)(uintptr_t)handler;
	return (uint64_t)((offset & 0xffff0000u) | GATE32_INTERRUPT) << 32 |
	       (uint32_t)CODE32_SEL << GATE_SELECTOR_SHIFT | (offset & 0xffff);
}

void modes_init(uint64_t end)
{
	ram_end = end;
	/* chaos.ld keeps the real-mode code within MODE_CODE_MAX. */
	memcpy(mode_area(MODE_CODE_OFF), chaos_rm_start, (size_t)(chaos_rm_end - chaos_rm_start));
	uint32_t *ivt = mode_area(MODE_IVT_OFF);
	for (unsigned v = 0; v < NUM_VECTORS; v++) {
		ivt[v] = real_vector(chaos_rm_trap);
		chaos_idt32[v] = gate32(chaos_pm_trap);
	}

	/* The switches' table: vector 2 as an IVT entry, a 32-bit gate and
	 * a 64-bit gate, at the three places the modes look for it. */
	uint8_t *sw = mode_area(MODE_SWITCH_IDT_OFF);
	uint64_t lm = (uintptr_t)chaos_lm_nmi_return;
	memset(sw, 0, SWITCH_IDT_BYTES);
	((uint32_t *)sw)[NMI_VECTOR] = real_vector(chaos_rm_nmi_return);
	((uint64_t *)sw)[NMI_VECTOR] = gate32(chaos_pm_nmi_return);
	((uint64_t *)sw)[2 * NMI_VECTOR] = (lm & 0xffff) |
					   (uint64_t)KERNEL_CODE_SEL << GATE_SELECTOR_SHIFT |
					   GATE64_INTERRUPT << GATE64_TYPE_SHIFT |
					   ((lm >> 16) & 0xffff) << GATE64_OFFSET_MID_SHIFT;
	((uint64_t *)sw)[2 * NMI_VECTOR + 1] = lm >> 32;
}

/* pick_address's choice, within the 4 GiB paging-off modes reach, with
 * its writes to the guest's RAM sent to the mode scratch area. */
static uint32_t mode_address(uint64_t r, bool write)
{
	uint64_t addr = pick_address(r, write);
	if (write && (addr >= FOUR_GIB || addr < ram_end))
		return MODE_AREA + MODE_SCRATCH_OFF +
		       ((uint32_t)(r >> 8) % MODE_SCRATCH_BYTES & SCRATCH_ALIGN_MASK);
	return (uint32_t)addr;
}

unsigned mode_script_op(unsigned i, const struct op_args *a)
{
	uint64_t r1 = a->r[1], r2 = a->r[2], r3 = a->r[3];
	struct mode_op o = { (uint32_t)(a->r[0] % MOP_KINDS), 0, 0, 0 };

	switch (o.kind) {
	case MOP_PORT_IN:
	case MOP_PORT_OUT:
		o.a = (uint32_t)(r1 % NUM_PORTS);
		o.b = (uint32_t)(r2 % WIDTHS);
		o.c = (uint32_t)r3;
		if (o.kind == MOP_PORT_OUT && port_range_kept_out((uint16_t)o.a, 1u << o.b))
			o.kind = MOP_PORT_IN;
		break;
	case MOP_CPUID:
		o.a = (r1 & 1) ? (uint32_t)r2
			       : (uint32_t)(r2 % CPUID_SMALL_LEAVES) |
					 ((r2 >> 32) & 1 ? CPUID_EXTENDED : 0);
		o.b = (r3 & 1) ? (uint32_t)(r3 >> 32) : (uint32_t)((r3 >> 1) % CPUID_SUBLEAVES);
		break;
	case MOP_RDMSR:
		o.a = pick_msr(r1);
		break;
	case MOP_WRMSR: {
		/* As op_wrmsr: EFER one bit at a time. */
		o.a = pick_msr(r1);
		uint64_t flip = (r2 & 1) || o.a == MSR_EFER ? 1ull << (r3 % 64) : r3;
		o.b = (uint32_t)flip;
		o.c = (uint32_t)(flip >> 32);
		if (msr_write_kept_out(o.a))
			o.kind = MOP_RDMSR;
		break;
	}
	case MOP_MEM_READ:
		o.a = mode_address(r1, false);
		o.b = (uint32_t)(r2 % WIDTHS);
		break;
	case MOP_MEM_WRITE:
		o.a = mode_address(r1, true);
		o.b = (uint32_t)(r2 % WIDTHS);
		o.c = (uint32_t)safe_value(o.a, r3);
		break;
	case MOP_INT_N:
		o.a = (uint32_t)(r1 % NUM_VECTORS);
		break;
	case MOP_CR0:
		o.a = 1u << (CR0_FLIPPABLE_FIRST + r1 % CR0_FLIPPABLE_BITS);
		break;
	case MOP_CR4:
		o.a = 1u << (r1 % CR4_BITS);
		break;
	default: /* MOP_HLT_IPI */
		o.a = FIRST_IPI_VECTOR + (uint32_t)(r1 % (NUM_VECTORS - FIRST_IPI_VECTOR));
		break;
	}
	((struct mode_op *)mode_area(MODE_SCRIPT_OFF))[i] = o;
	return o.kind;
}

void mode_run(unsigned mode, unsigned count)
{
	*mode_state(MODE_STATE_COUNT) = count;
	*mode_state(MODE_STATE_EVENTS) = 0;
	chaos_mode_phase(mode);
	/* What the script got through, by modes.S's own count. */
	mode_counts[mode].ops += *mode_state(MODE_STATE_INDEX);
	mode_counts[mode].events += *mode_state(MODE_STATE_EVENTS);
	mode_counts[mode].phases++;
}
