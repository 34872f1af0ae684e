/* The XSAVE state components a guest is offered (CPUID leaf 0xD) and the
 * sizes that follow from them, kept consistent with each other (SDM Vol. 1
 * 13.2, 13.4.3; Vol. 2A, CPUID leaf 0DH). The host's leaf is the source of
 * each component's size and offset, but its totals are not passed on:
 * pgvisor offers fewer components than the CPU has (none whose feature
 * flag it hides, none it cannot describe: a component with size 0), and a
 * CPU model may report totals that disagree with its own components
 * (Bochs' Ice Lake gives the standard size for the compacted one, which
 * Linux 6.1 checks with a WARNING at boot). Pure: unit-tested on the host. */
#ifndef PGVISOR_CPU_XSAVE_LAYOUT_H
#define PGVISOR_CPU_XSAVE_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

/* User state components 0..XSAVE_COMPONENTS-1 (XCR0's low half). */
#define XSAVE_COMPONENTS 32
/* The legacy region and the XSAVE header (SDM Vol. 1 13.4). */
#define XSAVE_LEGACY_AND_HEADER 576u

struct xsave_layout {
	uint64_t offered; /* XCR0 bits a guest may set */
	uint32_t size[XSAVE_COMPONENTS], offset[XSAVE_COMPONENTS];
	uint32_t align64; /* bit i: component i is 64-byte aligned when compacted */
};

/* A host CPUID 0xD subleaf: EAX size, EBX offset, ECX flags. */
struct xsave_component_info {
	uint32_t size, offset, flags;
};

/* host_xcr0: the CPU's supported XCR0 bits (CPUID 0xD.0 EDX:EAX);
 * allowed: those pgvisor may offer; component(i) reads subleaf i. */
void xsave_layout_init(struct xsave_layout *l, uint64_t host_xcr0, uint64_t allowed,
		       struct xsave_component_info (*component)(unsigned i));
/* Bytes XSAVE writes for xcr0 in the standard format: the end of the
 * highest component (CPUID 0xD.0 EBX for the XCR0 set, ECX for all). */
uint32_t xsave_standard_size(const struct xsave_layout *l, uint64_t xcr0);
/* Bytes XSAVEC writes for xfeatures in the compacted format: components
 * packed in order, each 64-byte aligned if its flag says so (CPUID
 * 0xD.1 EBX, for XCR0 | IA32_XSS). */
uint32_t xsave_compacted_size(const struct xsave_layout *l, uint64_t xfeatures);

#endif
