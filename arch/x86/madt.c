#include "arch/x86/madt.h"

#include <stdbool.h>
#include <string.h>

#define MADT_HEADER_SIZE 44 /* SDT header, local APIC address, flags */
#define MADT_TYPE_LAPIC 0   /* ACPI 6.4 5.2.12.2 */
#define MADT_LAPIC_SIZE 8
#define MADT_TYPE_X2APIC 9 /* ACPI 6.4 5.2.12.12 */
#define MADT_X2APIC_SIZE 16
#define MADT_TYPE_IOAPIC 1 /* ACPI 6.4 5.2.12.3 */
#define MADT_IOAPIC_SIZE 12
#define MADT_TYPE_OVERRIDE 2 /* ACPI 6.4 5.2.12.5 */
#define MADT_OVERRIDE_SIZE 10
#define MADT_BUS_ISA 0
/* MPS INTI flags (ACPI 6.4 Table 5.50): 00 in a field means "as the bus
 * says", which for ISA is active high, edge triggered. */
#define INTI_POLARITY_MASK 0x3u
#define INTI_ACTIVE_LOW 0x3u
#define INTI_TRIGGER_SHIFT 2
#define INTI_LEVEL 0x3u
#define MADT_ENABLED 1u	       /* flags bit 0 */
#define MADT_ONLINE_CAPABLE 2u /* flags bit 1: may be enabled later */
#define LAPIC_ID_NONE 0xff     /* a type-0 entry with ID 0xFF is a placeholder */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void add(struct madt_cpus *out, uint32_t id, uint32_t flags)
{
	/* Online-capable CPUs are hot-plug slots: nothing is there now. */
	if (!(flags & MADT_ENABLED)) {
		out->disabled++;
		return;
	}
	for (unsigned i = 0; i < out->count && i < MADT_MAX_CPUS; i++)
		if (out->apic_id[i] == id)
			return;
	if (out->count < MADT_MAX_CPUS)
		out->apic_id[out->count] = id;
	out->count++;
}

int madt_parse(const void *madt, size_t len, struct madt_cpus *out)
{
	const uint8_t *t = madt;

	memset(out, 0, sizeof(*out));
	if (len < MADT_HEADER_SIZE)
		return -1;
	for (size_t off = MADT_HEADER_SIZE; off + 2 <= len;) {
		uint8_t type = t[off], elen = t[off + 1];
		if (elen < 2 || off + elen > len)
			return -1;
		if (type == MADT_TYPE_LAPIC && elen >= MADT_LAPIC_SIZE &&
		    t[off + 3] != LAPIC_ID_NONE)
			add(out, t[off + 3], rd32(t + off + 4));
		else if (type == MADT_TYPE_X2APIC && elen >= MADT_X2APIC_SIZE)
			add(out, rd32(t + off + 4), rd32(t + off + 8));
		off += elen;
	}
	return 0;
}

static void add_override(struct madt_irqs *out, const uint8_t *e)
{
	uint8_t irq = e[3];
	uint16_t flags = rd16(e + 8);

	if (e[2] != MADT_BUS_ISA || irq >= MADT_ISA_IRQS)
		return;
	out->isa[irq] = (struct madt_isa_irq){
		.gsi = rd32(e + 4),
		.active_low = (flags & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW,
		.level = ((flags >> INTI_TRIGGER_SHIFT) & INTI_POLARITY_MASK) == INTI_LEVEL,
	};
}

int madt_parse_irqs(const void *madt, size_t len, struct madt_irqs *out)
{
	const uint8_t *t = madt;

	memset(out, 0, sizeof(*out));
	for (unsigned irq = 0; irq < MADT_ISA_IRQS; irq++)
		out->isa[irq].gsi = irq;
	if (len < MADT_HEADER_SIZE)
		return -1;
	for (size_t off = MADT_HEADER_SIZE; off + 2 <= len;) {
		const uint8_t *e = t + off;
		if (e[1] < 2 || off + e[1] > len)
			return -1;
		if (e[0] == MADT_TYPE_IOAPIC && e[1] >= MADT_IOAPIC_SIZE &&
		    out->ioapic_count < MADT_MAX_IOAPICS)
			out->ioapic[out->ioapic_count++] = (struct madt_ioapic){
				.id = e[2], .address = rd32(e + 4), .gsi_base = rd32(e + 8)
			};
		else if (e[0] == MADT_TYPE_OVERRIDE && e[1] >= MADT_OVERRIDE_SIZE)
			add_override(out, e);
		off += e[1];
	}
	return 0;
}
