/* libFuzzer harness: the local APIC (vmm/dev/vlapic.c) driven by a guest's
 * xAPIC MMIO and x2APIC/APIC-base/TSC-deadline MSR accesses, interrupts
 * arriving, the CPU taking and ending them, and time passing, each step
 * decoded from the input. */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/vlapic.h"

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define VECTORS 256
#define TSC_HZ 2000000000ull

enum step {
	STEP_MMIO_READ,
	STEP_MMIO_WRITE,
	STEP_MSR_READ,
	STEP_MSR_WRITE,
	STEP_ACCEPT,
	STEP_TAKE,
	STEP_EOI,
	STEP_LINT0,
	STEP_TIME,
	STEPS
};

static void send_ipi(void *ctx, struct vlapic *from, const struct vlapic_ipi *ipi)
{
	(void)ctx;
	(void)from;
	if (ipi->shorthand > 3 || ipi->mode > APIC_DM_EXTINT)
		abort();
}

static void eoi_level(void *ctx, uint8_t vector)
{
	(void)ctx;
	(void)vector;
}

static void base_moved(void *ctx, struct vlapic *a)
{
	(void)ctx;
	(void)a;
}

/* The guest TSC at 2 GHz from time 0. */
static uint64_t tsc_to_ns(void *ctx, uint64_t guest_tsc)
{
	(void)ctx;
	return guest_tsc / (TSC_HZ / 1000000000ull);
}

/* An x2APIC MSR most of the time, else the others the APIC owns or any. */
static uint32_t pick_msr(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	switch (b % 8) {
	case 0:
		return MSR_APIC_BASE;
	case 1:
		return MSR_TSC_DEADLINE;
	case 2:
		return fuzz_u32(in);
	default:
		return X2APIC_MSR_FIRST + fuzz_u8(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vlapic a;
	static uint32_t vapic[VLAPIC_PAGE_SIZE / 4] __attribute__((aligned(4096)));
	struct fuzz_in in = fuzz_in(data, size);
	uint64_t value;

	fuzz_now_ns = 0;
	vlapic_init(&a, 0, true, &fuzz_clock,
		    (struct vlapic_ops){ send_ipi, eoi_level, base_moved, NULL }, vapic);
	a.tsc_to_ns = tsc_to_ns;
	vlapic_set_tsc_hz(&a, TSC_HZ);
	if (fuzz_u8(&in) & 1)
		vlapic_virtual_wire(&a);
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		/* Within the page where IA32_APIC_BASE puts it now, as the MMIO
		 * bus routes accesses after base_moved. */
		case STEP_MMIO_READ: {
			uint32_t off = fuzz_u16(&in) % VLAPIC_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			if (off + s <= VLAPIC_MMIO_SIZE)
				vlapic_mmio_read(&a, vlapic_mmio_base(&a) + off, s);
			break;
		}
		case STEP_MMIO_WRITE: {
			uint32_t off = fuzz_u16(&in) % VLAPIC_MMIO_SIZE;
			unsigned s = fuzz_size(&in, 8);
			value = fuzz_u64(&in);
			if (off + s <= VLAPIC_MMIO_SIZE)
				vlapic_mmio_write(&a, vlapic_mmio_base(&a) + off, s, value);
			break;
		}
		case STEP_MSR_READ:
			vlapic_msr_read(&a, pick_msr(&in), &value);
			break;
		case STEP_MSR_WRITE: {
			uint32_t msr = pick_msr(&in);
			vlapic_msr_write(&a, msr, fuzz_u64(&in));
			break;
		}
		case STEP_ACCEPT: {
			uint8_t v = fuzz_u8(&in);
			vlapic_accept(&a, v, fuzz_u8(&in) & 1);
			break;
		}
		case STEP_TAKE: {
			int v = vlapic_pending_vector(&a);
			if (v >= VECTORS)
				abort();
			if (v >= 0)
				vlapic_ack(&a, (uint8_t)v);
			break;
		}
		case STEP_EOI:
			vlapic_eoi(&a);
			break;
		case STEP_LINT0:
			vlapic_lint0_sample(&a, fuzz_u8(&in) & 1);
			break;
		case STEP_TIME:
			fuzz_now_ns += fuzz_u32(&in);
			if (vlapic_timer_next(&a) <= fuzz_now_ns)
				vlapic_timer_update(&a, fuzz_now_ns);
			break;
		}
	}
	return 0;
}
