/* libFuzzer harness: the ACPI PM1 event and control blocks and PM timer
 * (vmm/dev/acpi_pm.c) driven by a guest's port accesses, the power button
 * and time passing, each step decoded from the input. */
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/acpi_pm.h"

enum step { STEP_IN, STEP_OUT, STEP_TIME, STEP_POWER_BUTTON, STEPS };

static void ignore(void *ctx)
{
	(void)ctx;
}

static void ignore_sleep(void *ctx, unsigned slp_typ)
{
	(void)ctx;
	(void)slp_typ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_ports ports[] = { { ACPI_PM_BASE_DEFAULT, ACPI_PM_PORTS } };
	static const struct acpi_pm_callbacks cb = { ignore, ignore_sleep, NULL };
	static struct io_bus bus;
	static struct acpi_pm pm;
	struct fuzz_in in = fuzz_in(data, size);

	memset(&bus, 0, sizeof(bus));
	fuzz_now_ns = 0;
	acpi_pm_init(&pm, &fuzz_clock, &fuzz_virq, ACPI_PM_SCI_IRQ, &cb);
	if (acpi_pm_attach(&pm, &bus, ACPI_PM_BASE_DEFAULT))
		return 0;
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_IN:
			fuzz_io_access(&in, &bus, ports, 1, false);
			break;
		case STEP_OUT:
			fuzz_io_access(&in, &bus, ports, 1, true);
			break;
		case STEP_TIME:
			fuzz_now_ns += fuzz_u32(&in);
			acpi_pm_timer(&pm);
			break;
		case STEP_POWER_BUTTON:
			acpi_pm_power_button(&pm);
			break;
		}
	}
	return 0;
}
