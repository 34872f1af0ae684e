/* Per-CPU hypervisor state, reached through the GS base so that every CPU
 * finds its own with one instruction. */
#ifndef PGVISOR_PERCPU_H
#define PGVISOR_PERCPU_H

#include <stdint.h>

#include "arch/x86/gdt.h"

#define MAX_CPUS 16

struct vcpu;

enum cpu_state {
	CPU_ABSENT,   /* no such CPU, or not (yet) started */
	CPU_STARTING, /* the AP runs its start code */
	CPU_ONLINE,   /* ready to run vCPUs */
	CPU_FAILED,   /* started but cannot run guests (no VT-x): left out */
};

struct cpu {
	struct cpu *self; /* at offset 0: %gs:0 yields the pointer */
	unsigned index;
	uint32_t apic_id;
	struct cpu_tables tables;
	struct vcpu *loaded_vcpu; /* whose VMCS is current on this CPU */
	struct vcpu *fpu_owner;	  /* whose FPU/SIMD state, lazy MSRs, CR2, DR0-3/DR6 are live */
	volatile enum cpu_state state;
	char why[120];		    /* why it is CPU_FAILED */
	volatile uint64_t kick_tsc; /* when it last took LAPIC_KICK_VECTOR */
	volatile uint64_t kicks;    /* how many it took */
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus; /* cpus[0 .. ncpus-1] were tried; index 0 is the boot CPU */

/* Points GS at c and loads its GDT, TSS (with ist_stacks, IST_STACKS_SIZE
 * bytes) and the IDT. */
void percpu_init(struct cpu *c, unsigned index, uint8_t *ist_stacks);

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

#endif
