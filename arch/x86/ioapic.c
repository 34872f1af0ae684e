/* I/O APIC programming through its index/data window (the 82093AA
 * datasheet's IOREGSEL at +0x00 and IOWIN at +0x10; the layout every I/O
 * APIC since keeps). */
#include "arch/x86/ioapic.h"

#include "arch/x86/acpi.h"
#include "arch/x86/madt.h"
#include "drivers/console.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VERSION 0x01
#define VERSION_MAX_ENTRY_SHIFT 16
#define REG_REDIRECTION 0x10 /* + 2 x input: the low half, then the high */
/* Redirection entry bits (82093AA 3.2.4). */
#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_LEVEL (1u << 15)
#define RTE_DEST_SHIFT 24 /* of the high half: physical destination */
#define XAPIC_MAX_ID 0xff

static uint32_t ioapic_read(uint32_t base, uint8_t reg)
{
	volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)base;

	r[IOREGSEL / 4] = reg;
	return r[IOWIN / 4];
}

static void ioapic_write(uint32_t base, uint8_t reg, uint32_t value)
{
	volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)base;

	r[IOREGSEL / 4] = reg;
	r[IOWIN / 4] = value;
}

bool ioapic_route_isa_irq(unsigned irq, uint8_t vector, uint32_t apic_id)
{
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	struct madt_irqs m;

	if (!madt || madt_parse_irqs(madt, madt->length, &m) || irq >= MADT_ISA_IRQS ||
	    apic_id > XAPIC_MAX_ID) {
		kprintf("pgvisor: no usable MADT: IRQ %u is polled\n", irq);
		return false;
	}
	const struct madt_isa_irq *src = &m.isa[irq];
	for (unsigned i = 0; i < m.ioapic_count; i++) {
		uint32_t base = m.ioapic[i].address;
		if (src->gsi < m.ioapic[i].gsi_base)
			continue;
		uint32_t input = src->gsi - m.ioapic[i].gsi_base;
		uint32_t max_entry =
			(ioapic_read(base, REG_VERSION) >> VERSION_MAX_ENTRY_SHIFT) & 0xff;
		if (input > max_entry)
			continue;
		uint8_t reg = (uint8_t)(REG_REDIRECTION + 2 * input);
		/* The destination before the unmasking low half. */
		ioapic_write(base, reg + 1, apic_id << RTE_DEST_SHIFT);
		ioapic_write(base, reg,
			     vector | (src->active_low ? RTE_ACTIVE_LOW : 0) |
				     (src->level ? RTE_LEVEL : 0));
		return true;
	}
	kprintf("pgvisor: no I/O APIC takes IRQ %u (GSI %u): it is polled\n", irq, src->gsi);
	return false;
}
