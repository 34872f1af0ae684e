/* The ACPI tables a VM's firmware would provide (ACPI 6.4 chapter 5),
 * generated into guest memory:
 *
 *   RSDP   revision 2, at the start of the area, and a copy in the BIOS
 *          area where an OS scans for it (section 5.2.5.1)
 *   XSDT   and RSDT: FADT, MADT, HPET (when configured)
 *   FADT   revision 6.4: full (not hardware-reduced) ACPI with the fixed
 *          registers of vmm/dev/acpi_pm.h, no SMI (SCI_EN already set),
 *          reset register = port 0xCF9 value 6, century register 0x32
 *   FACS
 *   DSDT   hand-assembled AML: \_S5 (SLP_TYP ACPI_PM_SLP_TYP_S5) and the
 *          PCI root bridge \_SB.PCI0 (bus 0-255, I/O 0-0xCF7, 0xD00-0xFFFF)
 *   MADT   local APIC at 0xFEE00000, one enabled local APIC per vCPU (IDs
 *          0..ncpus-1), the I/O APIC (ID ncpus, 0xFEC00000, GSI base 0),
 *          IRQ0 -> GSI 2 and the SCI level/active-high, LINT1 = NMI
 *   HPET   when hpet_base is set
 *
 * All tables are 16-byte aligned (the FACS 64-byte) and checksummed, and
 * below 4 GiB (the RSDT and the FADT's 32-bit fields point at them). */
#ifndef PGVISOR_ACPI_BUILD_H
#define PGVISOR_ACPI_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The I/O APIC ID follows the CPUs' APIC IDs and has 4 bits (82093AA
 * IOAPICID register). */
#define ACPI_MAX_CPUS 15
#define ACPI_RSDP_SIZE 36
/* Where the OS scans for the RSDP: the BIOS ROM area, on 16-byte
 * boundaries (section 5.2.5.1). */
#define ACPI_BIOS_RSDP_START 0xe0000ull
#define ACPI_BIOS_RSDP_END 0x100000ull
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06
#define ACPI_CENTURY_CMOS_INDEX 0x32

struct acpi_config {
	unsigned ncpus;		/* 1..ACPI_MAX_CPUS */
	uint16_t pm_base;	/* the dev_acpi_pm.h port block */
	uint8_t sci_irq;	/* ISA IRQ of the SCI, identity-mapped to its GSI */
	bool has_8042;		/* IAPC_BOOT_ARCH 8042 flag: a keyboard controller */
	uint64_t hpet_base;	/* 0: no HPET table */
	uint32_t hpet_block_id; /* the HPET's GCAP_ID bits 31:0 */
	/* The BIOS-area copy of the RSDP: guest-physical address (16-byte
	 * aligned, in [ACPI_BIOS_RSDP_START, ACPI_BIOS_RSDP_END)) and the host
	 * address of the ACPI_RSDP_SIZE bytes there; 0 / NULL for none. */
	uint64_t bios_rsdp_gpa;
	uint8_t *bios_rsdp;
};

/* Bytes acpi_build() uses at gpa_base for cfg (0 when cfg is invalid). */
size_t acpi_build_size(const struct acpi_config *cfg);

/* Writes the tables into [gpa_base, gpa_base + space), whose host address
 * is mem (gpa_base 16-byte aligned), and the RSDP copy into cfg->bios_rsdp;
 * returns the RSDP's guest-physical address (gpa_base) in *rsdp_gpa. On
 * error (too little space, a bad config) returns -1 with one line in err,
 * having written nothing. */
int acpi_build(uint8_t *mem, uint64_t gpa_base, size_t space, const struct acpi_config *cfg,
	       uint64_t *rsdp_gpa, char *err, size_t errlen);

#endif
