/* The framebuffer console's bitmap font: printable ASCII, 8x16, generated
 * at build time by scripts/mkfont from a console-setup PSF font. */
#ifndef PGVISOR_FONT_H
#define PGVISOR_FONT_H

#include <stdint.h>

#define FONT_WIDTH 8
#define FONT_HEIGHT 16
#define FONT_FIRST 0x20 /* ' ' */
#define FONT_COUNT 95	/* ' ' ... '~' */

/* Row r of character c: font_glyphs[c - FONT_FIRST][r], bit 7 leftmost. */
extern const uint8_t font_glyphs[FONT_COUNT][FONT_HEIGHT];

#endif
