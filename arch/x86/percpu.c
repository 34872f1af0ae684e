#include "arch/x86/percpu.h"

#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/msr.h"

struct cpu cpus[MAX_CPUS];
unsigned ncpus = 1;

void percpu_init(struct cpu *c, unsigned index, uint8_t *ist_stacks)
{
	c->self = c;
	c->index = index;
	c->tables.ist_stacks = ist_stacks;
	gdt_init_cpu(&c->tables);
	/* After the GDT load: reloading GS would clear the base. */
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)c);
	idt_load();
}
