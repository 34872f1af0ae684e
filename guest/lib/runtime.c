#include "runtime.h"

#include "console.h"
#include "cpu.h"
#include "idt.h"
#include "vmm/abi/hypercall_abi.h"

#define NUM_EXCEPTIONS 32
#define IDT_ENTRIES 256
#define CODE_SEL 0x08
#define EXIT_UNEXPECTED_EXCEPTION 3

/* The stack as traps.S leaves it: pushal, then vector and error code, then
 * what the CPU pushed. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;
};

struct fixup_entry {
	uint32_t fault_eip, resume_eip;
};

extern const uint32_t trap_stubs[NUM_EXCEPTIONS];
extern const struct fixup_entry __fixup_start[], __fixup_end[];

static struct idt_gate idt[IDT_ENTRIES];

static void set_gate(unsigned vector, uint32_t handler)
{
	idt[vector] = idt_gate(handler, CODE_SEL, IDT_INTERRUPT_GATE_32);
}

void idt_set_gate(uint8_t vector, void (*handler)(void))
{
	set_gate(vector, (uint32_t)handler);
}

void idt_load(void)
{
	struct table_register d = { sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

static void idt_init(void)
{
	for (unsigned v = 0; v < NUM_EXCEPTIONS; v++)
		set_gate(v, trap_stubs[v]);
	idt_load();
}

/* Called by traps.S. A fault at an instruction listed in the fixup table
 * resumes at its recovery label with the vector in ESI; anything else is a
 * bug in the program and ends it. */
void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	for (const struct fixup_entry *e = __fixup_start; e < __fixup_end; e++) {
		if (e->fault_eip == f->eip) {
			f->eip = e->resume_eip;
			f->esi = f->vector;
			return;
		}
	}
	printf("\n%s: unexpected exception %u error %u at eip 0x%08x\n", program_name, f->vector,
	       f->error_code, f->eip);
	guest_exit(EXIT_UNEXPECTED_EXCEPTION);
}

noreturn void guest_start(uint32_t magic, uint32_t info);
noreturn void guest_start(uint32_t magic, uint32_t info)
{
	idt_init();
	console_init();
	guest_exit(main(magic, info));
}

noreturn void guest_exit(int code)
{
	console_flush();
	outb(PORT_DEBUG_EXIT, (uint8_t)code);
	for (const char *s = "Shutdown"; *s; s++)
		outb(PORT_BOCHS_SHUTDOWN, (uint8_t)*s);
	halt_forever();
}

noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
