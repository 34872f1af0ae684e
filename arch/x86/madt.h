/* The processors the firmware lists in the ACPI MADT (ACPI 6.4 5.2.12):
 * Processor Local APIC entries (type 0) and, for APIC IDs above 254,
 * Processor Local x2APIC entries (type 9). */
#ifndef PGVISOR_MADT_H
#define PGVISOR_MADT_H

#include <stddef.h>
#include <stdint.h>

#define MADT_MAX_CPUS 64

struct madt_cpus {
	unsigned count;	   /* usable processors found (at most MADT_MAX_CPUS kept) */
	unsigned disabled; /* entries neither enabled nor online-capable */
	uint32_t apic_id[MADT_MAX_CPUS];
};

/* Parses a whole MADT (header included, len bytes). An APIC ID listed
 * twice (a type 0 and a type 9 entry for one CPU) counts once. Returns -1
 * when the table is too short to hold its entries. */
int madt_parse(const void *madt, size_t len, struct madt_cpus *out);

#endif
