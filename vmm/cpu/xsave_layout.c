#include "vmm/cpu/xsave_layout.h"

#define XSAVE_FIRST_EXTENDED 2 /* x87 and SSE live in the legacy region */
#define XSAVE_ALIGN 64u
#define COMPONENT_FLAG_ALIGN64 (1u << 1) /* CPUID 0xD.i ECX[1] */

void xsave_layout_init(struct xsave_layout *l, uint64_t host_xcr0, uint64_t allowed,
		       struct xsave_component_info (*component)(unsigned i))
{
	l->offered = host_xcr0 & allowed & ((1ull << XSAVE_FIRST_EXTENDED) - 1);
	l->align64 = 0;
	for (unsigned i = 0; i < XSAVE_COMPONENTS; i++) {
		l->size[i] = l->offset[i] = 0;
		if (i < XSAVE_FIRST_EXTENDED || !(host_xcr0 & allowed & (1ull << i)))
			continue;
		struct xsave_component_info c = component(i);
		/* A component the CPU does not describe cannot be laid out:
		 * offering it would make the guest's sizes disagree. */
		if (!c.size || c.offset < XSAVE_LEGACY_AND_HEADER)
			continue;
		l->size[i] = c.size;
		l->offset[i] = c.offset;
		if (c.flags & COMPONENT_FLAG_ALIGN64)
			l->align64 |= 1u << i;
		l->offered |= 1ull << i;
	}
}

uint32_t xsave_standard_size(const struct xsave_layout *l, uint64_t xcr0)
{
	uint32_t end = XSAVE_LEGACY_AND_HEADER;

	xcr0 &= l->offered;
	for (unsigned i = XSAVE_FIRST_EXTENDED; i < XSAVE_COMPONENTS; i++)
		if ((xcr0 & (1ull << i)) && l->offset[i] + l->size[i] > end)
			end = l->offset[i] + l->size[i];
	return end;
}

uint32_t xsave_compacted_size(const struct xsave_layout *l, uint64_t xfeatures)
{
	uint32_t size = XSAVE_LEGACY_AND_HEADER;

	xfeatures &= l->offered;
	for (unsigned i = XSAVE_FIRST_EXTENDED; i < XSAVE_COMPONENTS; i++) {
		if (!(xfeatures & (1ull << i)))
			continue;
		if (l->align64 & (1u << i))
			size = (size + XSAVE_ALIGN - 1) & ~(XSAVE_ALIGN - 1);
		size += l->size[i];
	}
	return size;
}
