#include "arch/x86/tsc.h"

#include "arch/x86/cpu.h"

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_ONESHOT_LOHI 0xb0 /* channel 2, lo/hi byte, mode 0 */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define CALIBRATE_MS 20
#define FALLBACK_HZ 1000000000ull
#define TSC_AGREE_PERCENT 2

static uint64_t hz, enumerated_hz;

static uint64_t calibrate_with_pit(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
	uint8_t b = inb(PORT_B);

	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2));
	outb(PIT_CMD, PIT_CMD_CH2_ONESHOT_LOHI);
	outb(PIT_CH2_DATA, (uint8_t)count);
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	uint64_t start = rdtsc();
	/* OUT2 goes high when the count reaches zero; bound the wait in case
	 * there is no PIT at all. */
	for (uint64_t spins = 0; !(inb(PORT_B) & PORT_B_OUT2); spins++)
		if (spins > 100000000ull)
			return 0;
	uint64_t ticks = rdtsc() - start;
	outb(PORT_B, b);
	return ticks * (1000 / CALIBRATE_MS);
}

/* The rate leaf 0x15 states: crystal Hz times the TSC/crystal ratio. */
static uint64_t rate_from_cpuid(void)
{
	if (cpuid(0, 0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	return r.eax && r.ebx && r.ecx ? (uint64_t)r.ecx * r.ebx / r.eax : 0;
}

void tsc_calibrate(void)
{
	uint64_t measured = calibrate_with_pit();

	enumerated_hz = rate_from_cpuid();
	if (enumerated_hz &&
	    (!measured || (enumerated_hz * 100 >= measured * (100 - TSC_AGREE_PERCENT) &&
			   enumerated_hz * 100 <= measured * (100 + TSC_AGREE_PERCENT))))
		hz = enumerated_hz;
	else
		hz = measured ? measured : FALLBACK_HZ;
}

uint64_t tsc_hz(void)
{
	return hz;
}

uint64_t tsc_enumerated_hz(void)
{
	return enumerated_hz;
}
