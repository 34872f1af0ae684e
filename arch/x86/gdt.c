#include "arch/x86/gdt.h"

#include <string.h>

#include "arch/x86/cpu.h"

#define TSS_TYPE_AVAILABLE 0x9
#define DESC_PRESENT (1ull << 47)

static void set_tss_descriptor(uint64_t *slot, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		  ((uint64_t)TSS_TYPE_AVAILABLE << 40) | DESC_PRESENT |
		  ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	slot[1] = base >> 32;
}

void gdt_init_cpu(struct cpu_tables *t)
{
	memset(&t->tss, 0, sizeof(t->tss));
	t->tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)t->ist_stacks + IST_STACK_SIZE;
	t->tss.ist[IST_NMI - 1] = (uint64_t)t->ist_stacks + 2 * IST_STACK_SIZE;
	t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */

	t->gdt[0] = 0;
	t->gdt[SEL_KERNEL_CS / 8] = GDT_CODE64_DESC;
	t->gdt[SEL_KERNEL_DS / 8] = GDT_DATA_DESC;
	set_tss_descriptor(&t->gdt[SEL_TSS / 8], &t->tss);

	struct descriptor_table_reg gdtr = { sizeof(t->gdt) - 1, (uint64_t)t->gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(SEL_KERNEL_CS), "r"(SEL_KERNEL_DS), "r"(SEL_TSS)
			 : "rax", "memory");
}
