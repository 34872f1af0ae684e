#include "drivers/console.h"

#include <stdbool.h>
#include <stdio.h>

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "drivers/fbcon.h"
#include "drivers/serial.h"
#include "vmm/abi/hypercall_abi.h"

/* Bochs' port_e9_hack and QEMU's debugcon read back 0xE9 from the port. */
#define E9_READBACK 0xe9
#define KPRINTF_BUF 512

static struct spinlock console_lock;
static bool e9_present;
static void (*end_machine)(void);

void console_init(void (*power_off_fn)(void))
{
	end_machine = power_off_fn;
	serial_init();
	e9_present = inb(PORT_E9_CONSOLE) == E9_READBACK;
}

static void emit(char c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
	/* The e9 mirror goes to the emulator's own log, not a terminal. */
	if (e9_present)
		outb(PORT_E9_CONSOLE, (uint8_t)c);
	fbcon_putc(c);
}

void console_write(const char *s, size_t len)
{
	spin_lock(&console_lock);
	for (size_t i = 0; i < len; i++)
		emit(s[i]);
	spin_unlock(&console_lock);
}

void console_vm_line(const char *vm, const char *text, unsigned len)
{
	char buf[KPRINTF_BUF];
	int n = snprintf(buf, sizeof(buf), "[%s] %.*s\n", vm, (int)len, text);

	if (n > 0)
		console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void vkprintf(const char *fmt, va_list ap)
{
	char buf[KPRINTF_BUF];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	kprintf("pgvisor: fatal: ");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf("\npgvisor: result: fatal\n");
	if (end_machine)
		end_machine();
	cpu_halt_forever();
}
