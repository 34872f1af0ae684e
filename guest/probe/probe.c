/* probe: a guest that behaves as a hostile neighbour would, for the
 * isolation tests. Command line options (unknown ones are ignored), done
 * in this order whatever their order on the command line:
 *
 *   delay=N      spin N turns of an empty loop first, so that a neighbour
 *                VM started at the same time has filled its memory before
 *                the scan (tests check the order of the console lines).
 *   pattern=0xP  count the 4-byte-aligned words equal to P in all usable
 *                RAM, the probe's own image included: another VM's data
 *                must never show up here.
 *   write        write an address-dependent marker to every free word and
 *                read them all back: catches RAM shared with anyone else.
 *   ports        program ports that reset or reconfigure the real machine
 *                (PCI configuration, PIT, PIC, keyboard controller reset,
 *                PCI reset, fast reset). Only for runs under pgvisor: on
 *                bare hardware (or a bare emulator) this resets the machine.
 *   beyond       read the word just past the top of usable RAM: under
 *                pgvisor an EPT violation ends the VM before the second
 *                line is printed.
 */
#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/freemem.h"
#include "guest/lib/runtime.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_ENABLE (1u << 31)
#define PCI_BAR0 0x10 /* bus 0, device 0, function 0 */
#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_CH0_LOHI_RATE 0x34 /* channel 0, low then high byte, mode 2 */
#define PIT_FASTEST_DIVISOR 2  /* about 600 kHz of timer interrupts */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define KBC_COMMAND 0x64
#define KBC_PULSE_RESET 0xfe
#define PCI_RESET_CONTROL 0xcf9
#define PCI_RESET_SYS_CPU 0x06 /* system reset + reset CPU */
#define SYSTEM_CONTROL_A 0x92
#define FAST_RESET 0x01
#define MARKER_SALT 0xa5c3e10fu
#define EXIT_FAILED 1

const char program_name[] = "probe";

/* Hides value from the optimiser: what is derived from it can only be
 * computed after this point. */
static inline uint32_t opaque(uint32_t value)
{
	__asm__ volatile("" : "+r"(value) : : "memory");
	return value;
}

/* Counts the words in [start, start + 4 * words) equal to ~inverted. The
 * pattern itself lives only in a register, for the loop: were it in the
 * probe's memory (a variable, a stack slot) the scan would count it. */
static uint32_t count_pattern(uint32_t start, uint32_t words, uint32_t inverted)
{
	uint32_t count = 0;
	__asm__ volatile("notl %[pattern]\n"
			 "testl %[words], %[words]\n"
			 "jz 3f\n"
			 "1: cmpl %[pattern], (%[at])\n"
			 "jne 2f\n"
			 "incl %[count]\n"
			 "2: addl $4, %[at]\n"
			 "decl %[words]\n"
			 "jnz 1b\n"
			 "3: notl %[pattern]\n"
			 : [at] "+r"(start), [words] "+r"(words), [count] "+r"(count),
			   [pattern] "+r"(inverted)
			 :
			 : "cc", "memory");
	return count;
}

/* The command line holds the pattern as text; its value is kept inverted
 * from the moment it is parsed (see count_pattern) and turned back only
 * for the report after the scan, since printf's arguments go on the
 * stack. */
static void scan(const struct boot_params *bp, uint32_t inverted)
{
	uint64_t bytes = 0;
	uint32_t found = 0;
	for (unsigned i = 0; i < bp->nusable && i < BOOT_MAX_RANGES; i++) {
		uint64_t start = (bp->usable[i].start + 3) & ~3ull;
		uint64_t end = below_4g(bp->usable[i].end) & ~3ull;
		if (start >= end)
			continue;
		found += count_pattern((uint32_t)start, (uint32_t)((end - start) / 4), inverted);
		bytes += end - start;
	}
	printf("probe: scanned %u KiB, pattern 0x%08x found %u times\n", (uint32_t)(bytes >> 10),
	       ~opaque(inverted), found);
}

static uint32_t marker(uint32_t address)
{
	return address ^ MARKER_SALT;
}

/* All markers are written before any is read back, so two addresses that
 * reach the same memory show up as a wrong value. */
static bool write_all(const struct boot_params *bp)
{
	struct free_ranges fr;
	if (free_ranges_find(bp, &fr) != 0) {
		printf("probe: write FAILED: the memory map does not say what is free\n");
		return false;
	}
	for (unsigned i = 0; i < fr.n; i++)
		for (uint32_t a = (uint32_t)fr.range[i].start; a != (uint32_t)fr.range[i].end;
		     a += 4)
			*(volatile uint32_t *)a = marker(a);
	for (unsigned i = 0; i < fr.n; i++) {
		for (uint32_t a = (uint32_t)fr.range[i].start; a != (uint32_t)fr.range[i].end;
		     a += 4) {
			uint32_t found = *(volatile uint32_t *)a;
			if (found != marker(a)) {
				printf("probe: write FAILED at 0x%08x: read 0x%08x, wrote 0x%08x\n",
				       a, found, marker(a));
				return false;
			}
		}
	}
	printf("probe: wrote and verified %u KiB\n", (uint32_t)(fr.bytes >> 10));
	return true;
}

/* What a guest trying to take the machine would do. Under pgvisor every
 * port exits to the hypervisor, which must keep all of these off the real
 * hardware. Never run this bare: the keyboard controller pulse, the
 * 0xcf9 write and the 0x92 write each reset the machine. */
static void hostile_ports(void)
{
	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | PCI_BAR0);
	outl(PCI_CONFIG_DATA, 0xffffffffu);
	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | PCI_BAR0);
	printf("probe: pci bus 0 device 0 bar0 reads 0x%08x after writing all-ones\n",
	       inl(PCI_CONFIG_DATA));
	printf("probe: port pci-config done\n");

	outb(PIT_COMMAND, PIT_CH0_LOHI_RATE);
	outb(PIT_CHANNEL0, PIT_FASTEST_DIVISOR & 0xff);
	outb(PIT_CHANNEL0, PIT_FASTEST_DIVISOR >> 8);
	printf("probe: port pit done\n");

	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	printf("probe: port pic-mask done\n");

	outb(KBC_COMMAND, KBC_PULSE_RESET);
	printf("probe: port kbc-reset done\n");

	outb(PCI_RESET_CONTROL, PCI_RESET_SYS_CPU);
	printf("probe: port pci-reset done\n");

	outb(SYSTEM_CONTROL_A, inb(SYSTEM_CONTROL_A) | FAST_RESET);
	printf("probe: port fast-reset done\n");

	printf("probe: hostile ports done\n");
}

static void read_beyond(const struct boot_params *bp)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < bp->nusable && i < BOOT_MAX_RANGES; i++)
		if (bp->usable[i].end > top)
			top = bp->usable[i].end;
	if (top + 4 > 0x100000000ull) {
		printf("probe: beyond skipped: usable RAM reaches 4 GiB\n");
		return;
	}
	printf("probe: reading beyond RAM at 0x%08x\n", (uint32_t)top);
	uint32_t value = *(volatile uint32_t *)(uint32_t)top;
	printf("probe: beyond RAM read 0x%08x\n", value);
}

static void delay(uint32_t turns)
{
	for (uint32_t i = 0; i < turns; i++)
		__asm__ volatile(""); /* keeps the loop */
	printf("probe: delayed %u turns\n", turns);
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	if (boot_params_parse(magic, info, &bp) != 0) {
		printf("probe: not booted by a Multiboot loader (magic 0x%08x)\n", magic);
		return EXIT_FAILED;
	}
	if (!bp.have_memory_map) {
		printf("probe: no memory map\n");
		return EXIT_FAILED;
	}
	const char *delay_option = cmdline_option(bp.cmdline, "delay");
	if (delay_option)
		delay(parse_uint(delay_option));
	const char *pattern = cmdline_option(bp.cmdline, "pattern");
	if (pattern)
		scan(&bp, opaque(~parse_uint(pattern)));
	if (cmdline_option(bp.cmdline, "write") && !write_all(&bp))
		return EXIT_FAILED;
	if (cmdline_option(bp.cmdline, "ports"))
		hostile_ports();
	if (cmdline_option(bp.cmdline, "beyond"))
		read_beyond(&bp);
	return 0;
}
