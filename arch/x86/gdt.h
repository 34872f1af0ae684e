/* Per-CPU GDT and 64-bit TSS. The TSS matters to VMX: the host TR must be
 * a usable TSS (SDM Vol. 3 26.2.3), and the IST stacks let a double fault
 * or NMI run on a known-good stack. */
#ifndef PGVISOR_GDT_H
#define PGVISOR_GDT_H

#include <stdint.h>

#include "arch/x86/segments.h"

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_STACK_SIZE 8192
#define IST_STACKS_SIZE (2 * IST_STACK_SIZE) /* double fault, NMI */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct cpu_tables {
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
	/* IST_STACKS_SIZE bytes, 16-byte aligned: allocated for the CPUs
	 * there are rather than kept in the image for MAX_CPUS. */
	uint8_t *ist_stacks;
};

/* Builds and loads the GDT, reloads the segment registers, loads TR. */
void gdt_init_cpu(struct cpu_tables *t);

#endif
