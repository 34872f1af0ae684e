/* Protected-mode (32-bit) IDT gates and the operand of LGDT/LIDT/SGDT/SIDT
 * (SDM Vol. 3 3.5.1, 6.11). */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

#define IDT_INTERRUPT_GATE_32 0x8e /* present, DPL 0 */
#define IDT_GATE_DPL3 0x60	   /* reachable by INT n from CPL 3 */

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_high;
} __attribute__((packed));

/* Limit and linear base of the GDT or the IDT. */
struct table_register {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static inline struct idt_gate idt_gate(uint32_t handler, uint16_t selector, uint8_t type_attr)
{
	return (struct idt_gate){ (uint16_t)handler, selector, 0, type_attr,
				  (uint16_t)(handler >> 16) };
}

#endif
