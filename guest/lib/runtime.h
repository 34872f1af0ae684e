/* What every guest program provides and gets: entry.S calls guest_start,
 * which catches exceptions (IDT), opens the console and runs main. */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdint.h>
#include <stdnoreturn.h>

/* Provided by the program: its name, used in messages ("hello"). */
extern const char program_name[];

/* Provided by the program: magic and info as the boot loader passed them
 * in EAX and EBX. The return value is the exit code for guest_exit. */
int main(uint32_t magic, uint32_t info);

/* Powers the machine off with code: port 0xf4 (pgvisor, QEMU's
 * isa-debug-exit), then Bochs' shutdown port, then halts for good. */
noreturn void guest_exit(int code);

/* One IDT for all CPUs: the exception gates, and interrupt gates a
 * program adds (handlers end with IRET). idt_load loads it on another CPU. */
void idt_set_gate(uint8_t vector, void (*handler)(void));
void idt_load(void);

/* cli; hlt forever. */
noreturn void halt_forever(void);

#endif
