#include "drivers/fbcon.h"

#include <string.h>

#include "drivers/font.h"

/* Output before fbcon_init (the first lines) is kept and drawn then. */
#define FBCON_EARLY_BYTES 4096
#define FBCON_TAB 8
#define COLOUR_BITS 8
#define FG_LEVEL 0xaa /* VGA light grey on black */
#define BG_LEVEL 0x00

static struct boot_framebuffer fb;
static bool active;
static unsigned cols, rows, bytes_pp;
static unsigned row, col;
static uint32_t fg, bg;
static char *cells; /* rows x cols characters, row by row */
static char early[FBCON_EARLY_BYTES];
static unsigned early_len;

static uint32_t field(uint8_t level, uint8_t pos, uint8_t size)
{
	if (!size)
		return 0;
	if (size > COLOUR_BITS)
		return (uint32_t)level << (pos + size - COLOUR_BITS);
	return (uint32_t)(level >> (COLOUR_BITS - size)) << pos;
}

static uint32_t grey(uint8_t level)
{
	return field(level, fb.red_pos, fb.red_size) | field(level, fb.green_pos, fb.green_size) |
	       field(level, fb.blue_pos, fb.blue_size);
}

static void put_pixel(uint8_t *p, uint32_t value)
{
	for (unsigned i = 0; i < bytes_pp; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

static void draw_cell(unsigned r, unsigned c)
{
	unsigned char ch = (unsigned char)cells[r * cols + c];
	const uint8_t *glyph = font_glyphs['?' - FONT_FIRST];

	if (ch >= FONT_FIRST && ch < FONT_FIRST + FONT_COUNT)
		glyph = font_glyphs[ch - FONT_FIRST];
	for (unsigned y = 0; y < FONT_HEIGHT; y++) {
		uint8_t *line = (uint8_t *)fb.addr + (uint64_t)(r * FONT_HEIGHT + y) * fb.pitch +
				(uint64_t)c * FONT_WIDTH * bytes_pp;
		if (bytes_pp == sizeof(uint32_t)) {
			uint32_t *px = (uint32_t *)line;
			for (unsigned x = 0; x < FONT_WIDTH; x++)
				px[x] = glyph[y] & (0x80 >> x) ? fg : bg;
			continue;
		}
		for (unsigned x = 0; x < FONT_WIDTH; x++)
			put_pixel(line + x * bytes_pp, glyph[y] & (0x80 >> x) ? fg : bg);
	}
}

static void set_cell(unsigned r, unsigned c, char ch)
{
	if (cells[r * cols + c] == ch)
		return;
	cells[r * cols + c] = ch;
	draw_cell(r, c);
}

/* Moves every line up one; only cells that change are drawn again (no
 * framebuffer reads: they are slow on write-combined video memory). */
static void scroll(void)
{
	for (unsigned r = 0; r + 1 < rows; r++)
		for (unsigned c = 0; c < cols; c++)
			set_cell(r, c, cells[(r + 1) * cols + c]);
	for (unsigned c = 0; c < cols; c++)
		set_cell(rows - 1, c, ' ');
}

static void newline(void)
{
	col = 0;
	if (++row < rows)
		return;
	row = rows - 1;
	scroll();
}

static void draw_char(char c)
{
	if (c == '\n') {
		newline();
		return;
	}
	if (c == '\r')
		return;
	if (c == '\t') {
		do
			draw_char(' ');
		while (col % FBCON_TAB);
		return;
	}
	set_cell(row, col, c);
	if (++col == cols)
		newline();
}

void fbcon_putc(char c)
{
	if (active)
		draw_char(c);
	else if (early_len < sizeof(early))
		early[early_len++] = c;
}

bool fbcon_active(void)
{
	return active;
}

/* RGB with colour fields, 16, 24 or 32 bpp, room for one cell at least. */
static bool usable(const struct boot_framebuffer *f)
{
	return f->addr && f->type == BOOT_FB_TYPE_RGB &&
	       (f->bpp == 16 || f->bpp == 24 || f->bpp == 32) &&
	       (f->red_size | f->green_size | f->blue_size) && f->width >= FONT_WIDTH &&
	       f->height >= FONT_HEIGHT && f->pitch >= f->width * (f->bpp / 8u);
}

size_t fbcon_cells_size(const struct boot_framebuffer *info)
{
	if (!usable(info))
		return 0;
	return (size_t)(info->width / FONT_WIDTH) * (info->height / FONT_HEIGHT);
}

void fbcon_init(const struct boot_framebuffer *info, char *cell_buffer, size_t size)
{
	active = false;
	fb = *info;
	if (!usable(info) || !cell_buffer || size < fbcon_cells_size(info))
		return;
	cells = cell_buffer;
	bytes_pp = fb.bpp / 8;
	cols = fb.width / FONT_WIDTH;
	rows = fb.height / FONT_HEIGHT;
	fg = grey(FG_LEVEL);
	bg = grey(BG_LEVEL);
	/* Clear the whole screen: the firmware's text is still there. */
	for (unsigned y = 0; y < fb.height; y++)
		for (unsigned x = 0; x < fb.width; x++)
			put_pixel((uint8_t *)fb.addr + (uint64_t)y * fb.pitch + x * bytes_pp, bg);
	memset(cells, ' ', (size_t)rows * cols);
	row = col = 0;
	active = true;
	for (unsigned i = 0; i < early_len; i++)
		draw_char(early[i]);
	early_len = 0;
}
