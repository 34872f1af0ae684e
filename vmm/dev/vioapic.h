/* A virtual I/O APIC (Intel 82093AA data sheet): 24 redirection entries
 * at 0xFEC00000, edge and level triggering with remote IRR, delivery to
 * local APICs through a callback the VM provides. */
#ifndef PGVISOR_VIOAPIC_H
#define PGVISOR_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VIOAPIC_MMIO_BASE 0xfec00000ull
#define VIOAPIC_MMIO_SIZE 0x1000ull
#define VIOAPIC_PINS 24

struct vioapic_msg {
	uint8_t vector;
	uint8_t mode; /* APIC_DM_* of vmm/dev/vlapic.h */
	bool logical;
	bool level;
	uint8_t dest;
};

struct vioapic {
	uint32_t id;
	uint32_t select;
	uint64_t redir[VIOAPIC_PINS];
	uint32_t pin_level; /* current input line levels, bit per pin */
	void (*deliver)(void *ctx, const struct vioapic_msg *msg);
	void *ctx;
};

void vioapic_init(struct vioapic *io, uint32_t id,
		  void (*deliver)(void *ctx, const struct vioapic_msg *msg), void *ctx);
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* A local APIC EOIed a level-triggered vector: clear remote IRR of the
 * entries using it and resend if their line is still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
/* The vector pin delivers, or -1 while it is masked (or out of range). */
int vioapic_pin_vector(const struct vioapic *io, unsigned pin);
uint64_t vioapic_mmio_read(void *io, uint64_t addr, unsigned size);
void vioapic_mmio_write(void *io, uint64_t addr, unsigned size, uint64_t value);

/* The device's architectural state as fields of a state record
 * (vmm/dev/state_io.h, docs/STATE_STREAM.md); load refuses (-1, the
 * reader says why) a state no real device could hold and then changes
 * nothing. */
struct state_writer;
struct state_reader;
void vioapic_save(const struct vioapic *io, struct state_writer *w);
int vioapic_load(struct vioapic *io, struct state_reader *r);

#endif
