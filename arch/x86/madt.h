/* What the firmware lists in the ACPI MADT (ACPI 6.4 5.2.12): the
 * processors (Processor Local APIC entries, type 0, and, for APIC IDs above
 * 254, Processor Local x2APIC entries, type 9), and the interrupt routing
 * (I/O APIC entries, type 1, and Interrupt Source Overrides, type 2). */
#ifndef PGVISOR_MADT_H
#define PGVISOR_MADT_H

#include <stdbool.h>
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

#define MADT_MAX_IOAPICS 8
#define MADT_ISA_IRQS 16

struct madt_ioapic {
	uint8_t id;
	uint32_t address;  /* its registers' physical address */
	uint32_t gsi_base; /* the global system interrupt of its first input */
};

/* Where an ISA IRQ arrives: GSI = the IRQ, active high, edge, unless an
 * override says otherwise (ACPI 6.4 5.2.12.5). */
struct madt_isa_irq {
	uint32_t gsi;
	bool active_low;
	bool level;
};

struct madt_irqs {
	unsigned ioapic_count; /* at most MADT_MAX_IOAPICS kept */
	struct madt_ioapic ioapic[MADT_MAX_IOAPICS];
	struct madt_isa_irq isa[MADT_ISA_IRQS];
};

/* Parses the I/O APICs and ISA overrides of a whole MADT (len bytes).
 * Returns -1 when the table is too short to hold its entries. */
int madt_parse_irqs(const void *madt, size_t len, struct madt_irqs *out);

#endif
