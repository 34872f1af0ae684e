/* The few ACPI facts the hypervisor needs from the firmware's tables. */
#ifndef PGVISOR_ACPI_H
#define PGVISOR_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_info {
	bool found;
	uint8_t revision;
	char oem_id[7];
	unsigned ntables;
	/* From the FADT and the DSDT's \_S5 package (ACPI 6.4 7.4.2). */
	uint16_t pm1a_cnt, pm1b_cnt;
	bool s5_valid;
	uint8_t slp_typa, slp_typb;
	uint32_t madt_lapic_count;
};

/* rsdp: physical address from the boot loader, or 0 to search the BIOS
 * areas (EBDA, 0xE0000-0xFFFFF). */
void acpi_init(uint64_t rsdp);
const struct acpi_info *acpi_get(void);
/* Finds the table with the given signature (checksum verified). */
const struct acpi_sdt_header *acpi_find_table(const char sig[4]);

#endif
