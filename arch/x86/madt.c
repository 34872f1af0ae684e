#include "arch/x86/madt.h"

#include <stdbool.h>
#include <string.h>

#define MADT_HEADER_SIZE 44 /* SDT header, local APIC address, flags */
#define MADT_TYPE_LAPIC 0   /* ACPI 6.4 5.2.12.2 */
#define MADT_LAPIC_SIZE 8
#define MADT_TYPE_X2APIC 9 /* ACPI 6.4 5.2.12.12 */
#define MADT_X2APIC_SIZE 16
#define MADT_ENABLED 1u	       /* flags bit 0 */
#define MADT_ONLINE_CAPABLE 2u /* flags bit 1: may be enabled later */
#define LAPIC_ID_NONE 0xff     /* a type-0 entry with ID 0xFF is a placeholder */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

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
