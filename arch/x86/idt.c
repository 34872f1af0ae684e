#include "arch/x86/idt.h"

#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/segments.h"
#include "drivers/console.h"

#define IDT_GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define EXCEPTION_VECTORS 32
#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

extern const uint64_t trap_stub_table[IDT_VECTORS];
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static irq_handler_fn handlers[IDT_VECTORS];

static const char *const exception_names[EXCEPTION_VECTORS] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor segment overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD exception",
	"#VE virtualization exception",
	"#CP control protection",
};

void idt_init(void)
{
	for (int v = 0; v < IDT_VECTORS; v++) {
		uint64_t a = trap_stub_table[v];
		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)a,
			.selector = SEL_KERNEL_CS,
			.type_attr = IDT_GATE_INTERRUPT,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32),
		};
	}
	idt[VEC_DOUBLE_FAULT].ist = IST_DOUBLE_FAULT;
	idt[VEC_NMI].ist = IST_NMI;
	idt_load();
}

void idt_load(void)
{
	struct descriptor_table_reg idtr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_set_handler(uint8_t vector, irq_handler_fn fn)
{
	handlers[vector] = fn;
}

void idt_run_handler(uint8_t vector)
{
	if (handlers[vector])
		handlers[vector](NULL);
	else
		kprintf("pgvisor: spurious host interrupt, vector %u\n", vector);
}

static __attribute__((noreturn)) void exception_dump(const struct trap_frame *tf)
{
	const char *name = tf->vector < EXCEPTION_VECTORS && exception_names[tf->vector]
				   ? exception_names[tf->vector]
				   : "unexpected interrupt";

	kprintf("pgvisor: CPU exception %llu (%s) error %#llx in the hypervisor\n",
		(unsigned long long)tf->vector, name, (unsigned long long)tf->error);
	kprintf("  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx\n",
		(unsigned long long)tf->rip, (unsigned long long)tf->cs,
		(unsigned long long)tf->rflags, (unsigned long long)tf->rsp,
		(unsigned long long)tf->ss);
	kprintf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (unsigned long long)tf->rax,
		(unsigned long long)tf->rbx, (unsigned long long)tf->rcx,
		(unsigned long long)tf->rdx);
	kprintf("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n", (unsigned long long)tf->rsi,
		(unsigned long long)tf->rdi, (unsigned long long)tf->rbp,
		(unsigned long long)tf->r8);
	kprintf("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n", (unsigned long long)tf->r9,
		(unsigned long long)tf->r10, (unsigned long long)tf->r11,
		(unsigned long long)tf->r12);
	kprintf("  r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)tf->r13,
		(unsigned long long)tf->r14, (unsigned long long)tf->r15);
	kprintf("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	panic("unhandled CPU exception %llu", (unsigned long long)tf->vector);
}

void trap_dispatch(struct trap_frame *tf);
void trap_dispatch(struct trap_frame *tf)
{
	irq_handler_fn fn = handlers[tf->vector & 0xff];

	if (fn) {
		fn(tf);
		return;
	}
	exception_dump(tf);
}
