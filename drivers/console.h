/* The host console: every line goes to COM1, to the framebuffer console
 * (drivers/fbcon.c) when there is one and, when the emulator offers it, to
 * the port 0xE9 debug console. */
#ifndef PGVISOR_CONSOLE_H
#define PGVISOR_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

/* panic ends the machine with power_off_fn (the console knows no power
 * interface: arch/x86/power.c reaches ACPI, which prints here). */
void console_init(void (*power_off_fn)(void));
/* printf to the console; whole calls are never interleaved between CPUs. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vkprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Writes len bytes as one unit (no other output can come in between). */
void console_write(const char *s, size_t len);

/* Prints one line of a VM's console as "[vm] text". */
void console_vm_line(const char *vm, const char *text, unsigned len);

/* Prints "pgvisor: fatal: ...", the result line, and powers off (halts
 * when console_init was given no way to). */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
