/* A text console on a linear RGB framebuffer (GOP or the Multiboot2
 * framebuffer tag): the host console's output, for machines without a
 * serial port. Called with the console lock held. */
#ifndef PGVISOR_FBCON_H
#define PGVISOR_FBCON_H

#include <stdbool.h>
#include <stddef.h>

#include "boot/boot_info.h"

/* The bytes fbcon_init needs for the characters on fb's screen; 0 when
 * fb cannot hold a console. */
size_t fbcon_cells_size(const struct boot_framebuffer *fb);
/* Starts drawing on fb when it is an RGB framebuffer of 16, 24 or 32 bpp,
 * with what was written before, keeping the characters in cells (at least
 * fbcon_cells_size bytes); otherwise the console stays off. */
void fbcon_init(const struct boot_framebuffer *fb, char *cells, size_t size);
bool fbcon_active(void);
/* One character of console output ('\n' ends a line; '\r' is ignored). */
void fbcon_putc(char c);

#endif
