/* pglab's machine: its own GDT (ring 0 and ring 3 segments, a TSS, an
 * LDT), an IDT whose exception handlers record the fault of the form being
 * run and resume after it, identity paging with 4 MiB user pages, and the
 * ring transitions (lab_asm.S). */
#ifndef PGLAB_LAB_H
#define PGLAB_LAB_H

#include <stdint.h>

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b /* GDT index 3, RPL 3 */
#define SEL_UDATA 0x23 /* GDT index 4, RPL 3 */
#define SEL_TSS 0x28
#define SEL_TSS2 0x30 /* a second descriptor of the same TSS, for LTR */
#define SEL_LDT 0x38
#define GDT_ENTRIES 8

#define VEC_RETURN_TO_KERNEL 0x80 /* DPL 3: ends a ring-3 run */
#define VEC_USER_INT 0x81	  /* DPL 3: INT n allowed at CPL 3 */
#define VEC_KERNEL_INT 0x82	  /* DPL 0: INT n from CPL 3 faults */
#define IDT_ENTRIES 0x83

#define NO_FAULT 0xffffffffu

/* What a form leaves: its registers after it ran (or at its fault). */
struct form_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, eflags;
};

/* Shared with lab_asm.S. */
extern void (*form_fn)(void);
extern struct form_regs form_out;
extern volatile uint32_t form_active;
extern volatile uint32_t form_vector, form_error;
extern uint8_t form_mem[16];

/* Runs form_fn at the current CPL, registers zeroed, and fills form_out
 * (a fault resumes here too, see lab_trap). */
void form_invoke(void);
/* Runs fn at CPL 3 and returns to CPL 0 when it returns. */
void lab_run_user(void (*fn)(void));
/* Entry points of the exception stubs, by vector, and of the gates. */
extern const uint32_t lab_trap_stubs[32];
void lab_gate_return(void);
void lab_gate_iret(void);

#endif
