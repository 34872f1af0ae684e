/* ticktest: counts the PIT's periodic interrupts (IRQ 0 through the PIC,
 * 1193182 / 1193 Hz) over a span of its own TSC, busy all the while, so
 * that a VM sharing its CPU takes turns with it (tests/system/
 * test_timer_mode.py). Prints
 *   "ticktest: ticks K tsc T"
 * K interrupts while the TSC advanced T ticks, counted from the first
 * interrupt. With timer_mode = "no_delay_for_missed_ticks" K matches T
 * times the PIT's rate however long the vCPU was descheduled; with
 * "no_missed_ticks_pending" the ticks missed meanwhile are lost; with
 * "delay_for_missed_ticks" none come due while it waits (its TSC stops
 * too), so K matches T to a tick.
 *
 * Command line: span=N, the span in TSC ticks (default 250,000,000: 5 s
 * in Bochs at ips=50000000, whose TSC counts one tick per instruction). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/runtime.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT 0x11
#define PIC_ICW3_SLAVE_ON_IR2 0x04
#define PIC_ICW4_8086 0x01
#define PIC_ONLY_IRQ0 0xfe
#define PIC_ALL_MASKED 0xff
#define PIC_EOI 0x20
#define PIC_VECTOR_BASE 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_RATE_GENERATOR 0x34 /* channel 0, lobyte/hibyte, mode 2 */
#define PIT_DIVISOR 1193	/* 1000.15 Hz */
#define DEFAULT_SPAN_TSC 250000000u

void pit_stub(void);
void on_pit(void);

const char program_name[] = "ticktest";

static volatile uint32_t ticks;

void on_pit(void)
{
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

static void pic_init_irq0_only(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC1_DATA, PIC_ICW3_SLAVE_ON_IR2);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ALL_MASKED);
	outb(PIC1_DATA, PIC_ONLY_IRQ0);
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	const char *span_arg = NULL;

	if (boot_params_parse(magic, info, &bp) == 0)
		span_arg = cmdline_option(bp.cmdline, "span");
	uint64_t span = span_arg ? parse_uint(span_arg) : DEFAULT_SPAN_TSC;

	idt_set_gate(PIC_VECTOR_BASE, pit_stub);
	pic_init_irq0_only();
	outb(PIT_CMD, PIT_RATE_GENERATOR);
	outb(PIT_CH0, PIT_DIVISOR & 0xff);
	outb(PIT_CH0, PIT_DIVISOR >> 8);
	__asm__ volatile("sti");
	/* Start on an interrupt, so that the span holds whole periods. */
	uint32_t first = ticks;
	while (ticks == first)
		__asm__ volatile("pause");
	uint64_t start = rdtsc();
	uint32_t start_ticks = ticks;
	uint64_t now;
	do
		now = rdtsc();
	while (now - start < span);
	uint32_t counted = ticks - start_ticks;
	__asm__ volatile("cli");
	printf("ticktest: ticks %u tsc %llu\n", counted, (unsigned long long)(now - start));
	return 0;
}
