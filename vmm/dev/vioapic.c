#include "vmm/dev/vioapic.h"

#include <string.h>

#include "vmm/dev/state_io.h"

#define REG_SELECT 0x00
#define REG_WINDOW 0x10
#define REG_EOI 0x40 /* version 0x20 I/O APICs */
#define IDX_ID 0x00
#define IDX_VERSION 0x01
#define IDX_ARB 0x02
#define IDX_REDIR 0x10
#define VERSION_VALUE ((uint32_t)(VIOAPIC_PINS - 1) << 16 | 0x20)
#define RTE_VECTOR_MASK 0xffull
#define RTE_MODE_SHIFT 8
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_DELIVERY_PENDING (1ull << 12)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST_SHIFT 56
#define RTE_READ_ONLY (RTE_DELIVERY_PENDING | RTE_REMOTE_IRR)

void vioapic_init(struct vioapic *io, uint32_t id,
		  void (*deliver)(void *ctx, const struct vioapic_msg *msg), void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->id = id;
	io->deliver = deliver;
	io->ctx = ctx;
	for (int i = 0; i < VIOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

static void send(struct vioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	struct vioapic_msg msg = {
		.vector = (uint8_t)(e & RTE_VECTOR_MASK),
		.mode = (uint8_t)((e >> RTE_MODE_SHIFT) & 7),
		.logical = e & RTE_DEST_LOGICAL,
		.level = e & RTE_LEVEL,
		.dest = (uint8_t)(e >> RTE_DEST_SHIFT),
	};

	if (msg.level)
		io->redir[pin] |= RTE_REMOTE_IRR;
	io->deliver(io->ctx, &msg);
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	if (pin >= VIOAPIC_PINS)
		return;
	bool was = io->pin_level & (1u << pin);
	uint64_t e = io->redir[pin];

	if (level)
		io->pin_level |= 1u << pin;
	else
		io->pin_level &= ~(1u << pin);
	if (!level || (e & RTE_MASKED))
		return;
	/* Edge: only a rising edge counts. Level: send while asserted unless
	 * the last message is not yet EOIed (remote IRR). */
	if (e & RTE_LEVEL) {
		if (!(e & RTE_REMOTE_IRR))
			send(io, pin);
	} else if (!was) {
		send(io, pin);
	}
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if (!(e & RTE_REMOTE_IRR) || (e & RTE_VECTOR_MASK) != vector)
			continue;
		io->redir[pin] &= ~RTE_REMOTE_IRR;
		if ((io->pin_level & (1u << pin)) && !(e & RTE_MASKED) && (e & RTE_LEVEL))
			send(io, pin);
	}
}

static uint32_t read_register(const struct vioapic *io)
{
	uint32_t idx = io->select;

	if (idx == IDX_ID || idx == IDX_ARB)
		return io->id << 24;
	if (idx == IDX_VERSION)
		return VERSION_VALUE;
	if (idx >= IDX_REDIR && idx < IDX_REDIR + 2 * VIOAPIC_PINS) {
		uint64_t e = io->redir[(idx - IDX_REDIR) / 2];
		return (idx & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void write_register(struct vioapic *io, uint32_t value)
{
	uint32_t idx = io->select;

	if (idx == IDX_ID) {
		io->id = (value >> 24) & 0xf;
		return;
	}
	if (idx < IDX_REDIR || idx >= IDX_REDIR + 2 * VIOAPIC_PINS)
		return;
	unsigned pin = (idx - IDX_REDIR) / 2;
	uint64_t e = io->redir[pin];
	if (idx & 1)
		e = (e & 0xffffffffull) | ((uint64_t)value << 32);
	else
		e = (e & (0xffffffff00000000ull | RTE_READ_ONLY)) | (value & ~RTE_READ_ONLY);
	io->redir[pin] = e;
	/* Unmasking a level-triggered pin whose line is asserted sends it. */
	if ((io->pin_level & (1u << pin)) && (e & RTE_LEVEL) && !(e & RTE_MASKED) &&
	    !(e & RTE_REMOTE_IRR))
		send(io, pin);
}

uint64_t vioapic_mmio_read(void *p, uint64_t addr, unsigned size)
{
	struct vioapic *io = p;
	unsigned off = (unsigned)(addr & (VIOAPIC_MMIO_SIZE - 1));

	(void)size;
	if (off == REG_SELECT)
		return io->select;
	if (off == REG_WINDOW)
		return read_register(io);
	return 0;
}

void vioapic_mmio_write(void *p, uint64_t addr, unsigned size, uint64_t value)
{
	struct vioapic *io = p;
	unsigned off = (unsigned)(addr & (VIOAPIC_MMIO_SIZE - 1));

	(void)size;
	if (off == REG_SELECT)
		io->select = (uint32_t)value & 0xff;
	else if (off == REG_WINDOW)
		write_register(io, (uint32_t)value);
	else if (off == REG_EOI)
		vioapic_eoi(io, (uint8_t)value);
}

int vioapic_pin_vector(const struct vioapic *io, unsigned pin)
{
	if (pin >= VIOAPIC_PINS || (io->redir[pin] & RTE_MASKED))
		return -1;
	return (int)(io->redir[pin] & RTE_VECTOR_MASK);
}

void vioapic_save(const struct vioapic *io, struct state_writer *w)
{
	state_put_u32(w, io->id);
	state_put_u32(w, io->select);
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		state_put_u64(w, io->redir[i]);
	state_put_u32(w, io->pin_level);
}

int vioapic_load(struct vioapic *io, struct state_reader *r)
{
	uint32_t id = state_get_u32(r), select = state_get_u32(r), pin_level;
	uint64_t redir[VIOAPIC_PINS];

	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		redir[i] = state_get_u64(r);
	pin_level = state_get_u32(r);
	if (select > 0xff)
		state_refuse(r, "I/O APIC register select over 8 bits");
	if (pin_level >> VIOAPIC_PINS)
		state_refuse(r, "I/O APIC input level on a pin it lacks");
	if (state_reader_done(r))
		return -1;
	io->id = id;
	io->select = select;
	memcpy(io->redir, redir, sizeof(redir));
	io->pin_level = pin_level;
	return 0;
}
