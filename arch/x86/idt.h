/* The hypervisor's IDT. Exceptions in VMX root are bugs: each one prints a
 * register dump and stops the machine, never a silent reset. Vectors from
 * 32 up are routed to registered handlers (LAPIC timer, IPIs). */
#ifndef PGVISOR_IDT_H
#define PGVISOR_IDT_H

#include <stdint.h>

#define IDT_VECTORS 256

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(struct trap_frame *tf);

void idt_init(void);
/* Loads the (shared) IDT on the calling CPU. */
void idt_load(void);
void idt_set_handler(uint8_t vector, irq_handler_fn fn);
/* Runs the handler of an interrupt that was acknowledged on VM exit
 * (there is no trap frame: the handler gets NULL). */
void idt_run_handler(uint8_t vector);

#endif
