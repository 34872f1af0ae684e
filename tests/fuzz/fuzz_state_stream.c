/* libFuzzer harness: the state stream reader (vmm/migrate/stream.c) and
 * every device model's load. The first byte picks how the rest is used:
 *   0  a whole stream: each record it yields goes to its device's load;
 *   1  one device's record body, unchecked by any CRC (byte 1 picks the
 *      device), so the fuzzer reaches the loads' own checks;
 *   2  the same, XORed into a valid saved state of that device, so that
 *      mutations land on single fields of a body of the right length.
 * A device that accepted a state is then driven a little (register reads,
 * its timer's next event and update): an accepted state must be one the
 * model can run from. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/hpet.h"
#include "vmm/dev/iobus.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pit.h"
#include "vmm/dev/rtc.h"
#include "vmm/dev/state_io.h"
#include "vmm/dev/uart.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"
#include "vmm/migrate/stream.h"

#define DEVICES 8
#define BODY_MAX 8192
#define FUZZ_START_NS 3000000000ull

enum mode { MODE_STREAM, MODE_BODY, MODE_XOR, MODES };

static struct io_bus bus;
static struct uart uart;
static struct pic pic;
static struct pit pit;
static struct rtc rtc;
static struct acpi_pm pm;
static struct hpet hpet;
static struct vioapic ioapic;
static struct vlapic lapic;
static uint32_t vapic[VLAPIC_PAGE_SIZE / 4] __attribute__((aligned(4096)));

static void poweroff(void *ctx)
{
	(void)ctx;
}

static void deliver(void *ctx, const struct vioapic_msg *msg)
{
	(void)ctx;
	if (msg->mode > APIC_DM_EXTINT)
		abort();
}

static void devices_init(void)
{
	static const struct acpi_pm_callbacks cb = { .poweroff = poweroff };

	bus = (struct io_bus){ 0 };
	uart_init(&uart, "vm", NULL);
	uart_set_irq(&uart, &fuzz_virq, 4);
	pic_init(&pic);
	pit_init(&pit, &fuzz_clock, fuzz_virq);
	rtc_init(&rtc, &fuzz_clock, fuzz_virq, 1700000000, 64ull << 20);
	acpi_pm_init(&pm, &fuzz_clock, &fuzz_virq, ACPI_PM_SCI_IRQ, &cb);
	hpet_init(&hpet, &fuzz_clock, fuzz_virq, fuzz_virq, 0x00f00800u);
	vioapic_init(&ioapic, 2, deliver, NULL);
	vlapic_init(&lapic, 0, true, &fuzz_clock, (struct vlapic_ops){ 0 }, vapic);
	if (uart_attach(&uart, &bus, UART_COM1_BASE) || pic_attach(&pic, &bus) ||
	    pit_attach(&pit, &bus) || rtc_attach(&rtc, &bus) ||
	    acpi_pm_attach(&pm, &bus, ACPI_PM_BASE_DEFAULT))
		abort();
}

static void run_timer(struct vtimer t)
{
	uint64_t next = t.next_event(t.dev);

	fuzz_now_ns += 1000003;
	if (next != VTIME_NEVER && next > fuzz_now_ns && next - fuzz_now_ns < 10000000000ull)
		fuzz_now_ns = next;
	t.update(t.dev, fuzz_now_ns);
	(void)t.next_event(t.dev);
}

/* Drives device n a little after a load it accepted. */
static void exercise(unsigned n)
{
	switch (n) {
	case 0:
		for (uint16_t p = 0; p < UART_PORTS; p++)
			(void)io_bus_read(&bus, UART_COM1_BASE + p, 1);
		break;
	case 1:
		/* A level-triggered line in automatic EOI mode asks forever. */
		for (unsigned i = 0; i < PIC_IRQS && pic_has_interrupt(&pic); i++)
			if (pic_acknowledge(&pic) < 0)
				abort();
		(void)io_bus_read(&bus, PIC_MASTER_BASE, 1);
		(void)io_bus_read(&bus, PIC_SLAVE_BASE + 1, 1);
		break;
	case 2:
		for (uint16_t p = 0; p < PIT_PORTS - 1; p++)
			(void)io_bus_read(&bus, PIT_BASE + p, 1);
		(void)io_bus_read(&bus, PIT_PORT_B, 1);
		run_timer(pit_timer(&pit));
		break;
	case 3:
		for (uint8_t i = 0; i < 0x0e; i++) {
			io_bus_write(&bus, RTC_BASE, 1, i);
			(void)io_bus_read(&bus, RTC_BASE + 1, 1);
		}
		run_timer(rtc_timer(&rtc));
		break;
	case 4:
		for (uint16_t off = 0; off < ACPI_PM_PORTS; off += 2)
			(void)io_bus_read(&bus, ACPI_PM_BASE_DEFAULT + off, 2);
		break;
	case 5:
		for (uint64_t off = 0; off < 0x160; off += 8)
			(void)hpet_mmio_read(&hpet, HPET_MMIO_BASE + off, 8);
		run_timer(hpet_timer(&hpet));
		break;
	case 6:
		for (uint32_t idx = 0; idx < 0x40; idx++) {
			vioapic_mmio_write(&ioapic, VIOAPIC_MMIO_BASE, 4, idx);
			(void)vioapic_mmio_read(&ioapic, VIOAPIC_MMIO_BASE + 0x10, 4);
		}
		vioapic_eoi(&ioapic, 0x41);
		break;
	case 7: {
		struct vtimer t = { .next_event = vlapic_timer_next,
				    .update = vlapic_timer_update,
				    .dev = &lapic };
		for (uint64_t reg = 0x20; reg <= 0x3f0; reg += 0x10)
			(void)vlapic_mmio_read(&lapic, VLAPIC_MMIO_BASE + reg, 4);
		int v = vlapic_pending_vector(&lapic);
		if (v > 255)
			abort();
		if (v >= 0)
			vlapic_ack(&lapic, (uint8_t)v);
		vlapic_eoi(&lapic);
		(void)vlapic_tpr_threshold(&lapic);
		run_timer(t);
		break;
	}
	}
}

static void save(unsigned n, struct state_writer *w)
{
	switch (n) {
	case 0:
		uart_save(&uart, w);
		break;
	case 1:
		pic_save(&pic, w);
		break;
	case 2:
		pit_save(&pit, w);
		break;
	case 3:
		rtc_save(&rtc, w);
		break;
	case 4:
		acpi_pm_save(&pm, w);
		break;
	case 5:
		hpet_save(&hpet, w);
		break;
	case 6:
		vioapic_save(&ioapic, w);
		break;
	default:
		vlapic_save(&lapic, w);
		break;
	}
}

static int load(unsigned n, struct state_reader *r)
{
	switch (n) {
	case 0:
		return uart_load(&uart, r);
	case 1:
		return pic_load(&pic, r);
	case 2:
		return pit_load(&pit, r);
	case 3:
		return rtc_load(&rtc, r);
	case 4:
		return acpi_pm_load(&pm, r);
	case 5:
		return hpet_load(&hpet, r);
	case 6:
		return vioapic_load(&ioapic, r);
	default:
		return vlapic_load(&lapic, r);
	}
}

static void load_and_run(unsigned n, struct state_reader *r)
{
	if (load(n, r) == 0) {
		/* A state accepted once saves and loads again unchanged. */
		static uint8_t again[BODY_MAX];
		struct state_writer w;
		struct state_reader r2;

		state_writer_init(&w, again, sizeof(again), fuzz_now_ns);
		save(n, &w);
		if (w.overflow)
			abort();
		state_reader_init(&r2, again, w.len, fuzz_now_ns);
		if (load(n, &r2))
			abort();
		exercise(n);
	} else if (!r->refused) {
		abort(); /* a refusal always says why */
	}
}

static void run_stream(const uint8_t *data, size_t size)
{
	struct stream_reader sr;
	struct stream_record rec;

	if (stream_reader_init(&sr, data, size, fuzz_now_ns))
		return;
	for (;;) {
		int st = stream_next(&sr, &rec);

		if (st == STREAM_DONE)
			return;
		if (st < 0) {
			if (!sr.why || sr.error != st)
				abort();
			return;
		}
		if (rec.type >= STREAM_DEV_UART && rec.type <= STREAM_DEV_VLAPIC)
			load_and_run(rec.type - STREAM_DEV_UART, &rec.body);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t body[BODY_MAX];
	struct state_reader r;
	struct state_writer w;
	unsigned n;

	if (size < 2)
		return 0;
	fuzz_now_ns = FUZZ_START_NS;
	devices_init();
	switch (data[0] % MODES) {
	case MODE_STREAM:
		run_stream(data + 1, size - 1);
		break;
	case MODE_BODY: {
		/* A heap copy of exactly the body: any over-read is caught. */
		uint8_t *copy = fuzz_copy(data + 2, size - 2);
		state_reader_init(&r, copy, size - 2, fuzz_now_ns);
		load_and_run(data[1] % DEVICES, &r);
		free(copy);
		break;
	}
	case MODE_XOR:
		n = data[1] % DEVICES;
		state_writer_init(&w, body, sizeof(body), fuzz_now_ns);
		save(n, &w);
		for (size_t i = 2; i < size && i - 2 < w.len; i++)
			body[i - 2] ^= data[i];
		fuzz_now_ns += data[size - 1] * 1000003ull;
		state_reader_init(&r, body, w.len, fuzz_now_ns);
		load_and_run(n, &r);
		break;
	}
	return 0;
}
