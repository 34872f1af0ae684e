/* The helpers and host fakes of fuzz_support.h. */
#include "tests/fuzz/fuzz_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GUARD_PAGE 4096u
#define MAX_GUARDED 4 /* distinct guest RAM sizes one harness uses */
#define ANY_PORT_ONE_IN 16

uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) | fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | (uint64_t)fuzz_u32(in) << 32;
}

unsigned fuzz_size(struct fuzz_in *in, unsigned max)
{
	return 1u << (fuzz_u8(in) % (max == 8 ? 4 : 3));
}

uint16_t fuzz_port(struct fuzz_in *in, const struct fuzz_ports *ranges, unsigned n)
{
	uint8_t pick = fuzz_u8(in);

	if (pick % ANY_PORT_ONE_IN == 0)
		return fuzz_u16(in);
	const struct fuzz_ports *r = &ranges[(pick / ANY_PORT_ONE_IN) % n];
	return (uint16_t)(r->base + fuzz_u8(in) % r->count);
}

uint8_t *fuzz_copy(const void *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		abort();
	memcpy(copy, data, size);
	return copy;
}

char *fuzz_text(const void *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

static struct {
	uint8_t *mem;
	size_t size;
} guarded[MAX_GUARDED];

uint8_t *fuzz_guarded(size_t size)
{
	unsigned i;

	for (i = 0; i < MAX_GUARDED && guarded[i].mem; i++)
		if (guarded[i].size == size)
			return guarded[i].mem;
	if (i == MAX_GUARDED || size % GUARD_PAGE)
		abort();
	uint8_t *m =
		mmap(NULL, size + 2 * GUARD_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + GUARD_PAGE, size, PROT_READ | PROT_WRITE))
		abort();
	guarded[i].mem = m + GUARD_PAGE;
	guarded[i].size = size;
	return guarded[i].mem;
}

void fuzz_guarded_clear(uint8_t *mem, size_t size)
{
	if (madvise(mem, size, MADV_DONTNEED))
		abort();
}

uint64_t fuzz_now_ns;

static uint64_t fuzz_clock_now(void *ctx)
{
	(void)ctx;
	return fuzz_now_ns;
}

const struct vclock fuzz_clock = { fuzz_clock_now, NULL };

uint32_t fuzz_irq_levels;

static void fuzz_irq_set(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	if (line >= 32)
		abort(); /* a model named a line that does not exist */
	if (level)
		fuzz_irq_levels |= 1u << line;
	else
		fuzz_irq_levels &= ~(1u << line);
}

const struct virq fuzz_virq = { .set = fuzz_irq_set };

/* The host console (drivers/console.h) that line_out and the device models'
 * error lines print to: a harness has no console, but what is printed must
 * be readable, so it is scanned to its end. */
void console_vm_line(const char *vm, const char *text, unsigned len);
static volatile size_t console_sink;

void console_vm_line(const char *vm, const char *text, unsigned len)
{
	size_t n = strlen(vm);

	for (unsigned i = 0; i < len; i++)
		n += (unsigned char)text[i];
	console_sink = n;
}

void kprintf(const char *fmt, ...);
void kprintf(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}
