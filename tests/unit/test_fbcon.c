/* Unit tests for drivers/fbcon.c on a framebuffer in host memory: text is
 * read back by matching the pixels against the font. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/fbcon.h"
#include "drivers/font.h"

#define COLS 8
#define ROWS 3
#define WIDTH (COLS * FONT_WIDTH + 3) /* a partial cell is left alone */
#define HEIGHT (ROWS * FONT_HEIGHT)
#define PITCH_PAD 16
#define FG_GREY 0xaa

static uint8_t pixels[HEIGHT][(WIDTH + PITCH_PAD) * 4];
static struct boot_framebuffer fb;
static char cells[ROWS * COLS];

static void screen(unsigned bpp, uint8_t red_pos, uint8_t green_pos, uint8_t blue_pos, uint8_t size)
{
	memset(pixels, 0x55, sizeof(pixels)); /* the firmware's leftovers */
	fb = (struct boot_framebuffer){
		.addr = (uint64_t)(uintptr_t)pixels,
		.pitch = sizeof(pixels[0]),
		.width = WIDTH,
		.height = HEIGHT,
		.bpp = (uint8_t)bpp,
		.type = BOOT_FB_TYPE_RGB,
		.red_pos = red_pos,
		.red_size = size,
		.green_pos = green_pos,
		.green_size = size,
		.blue_pos = blue_pos,
		.blue_size = size,
	};
}

static void puts_fb(const char *s)
{
	while (*s)
		fbcon_putc(*s++);
}

static uint32_t pixel(unsigned x, unsigned y)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < fb.bpp / 8u; i++)
		v |= (uint32_t)pixels[y][x * (fb.bpp / 8u) + i] << (8 * i);
	return v;
}

/* The character in a cell, '\0' when the pixels are no glyph. */
static char cell(unsigned r, unsigned c)
{
	for (unsigned g = 0; g < FONT_COUNT; g++) {
		bool match = true;
		for (unsigned y = 0; y < FONT_HEIGHT && match; y++)
			for (unsigned x = 0; x < FONT_WIDTH && match; x++) {
				bool lit = pixel(c * FONT_WIDTH + x, r * FONT_HEIGHT + y) != 0;
				match = lit == !!(font_glyphs[g][y] & (0x80 >> x));
			}
		if (match)
			return (char)(FONT_FIRST + g);
	}
	return '\0';
}

static void assert_row(unsigned r, const char *text)
{
	for (unsigned c = 0; c < COLS; c++)
		assert_int_equal(cell(r, c), c < strlen(text) ? text[c] : ' ');
}

/* What was printed before the framebuffer was known appears at init. */
static void test_early_output_and_clear(void **state)
{
	(void)state;
	puts_fb("early\n");
	screen(32, 16, 8, 0, 8);
	fbcon_init(&fb, cells, sizeof(cells));
	assert_true(fbcon_active());
	assert_row(0, "early");
	assert_row(1, "");
	/* The whole screen was cleared, the partial cell too. */
	assert_int_equal(pixel(WIDTH - 1, HEIGHT - 1), 0);
	/* Light grey in every colour field (BGRX: blue at bits 0-7). */
	assert_int_equal(pixel(2, FONT_HEIGHT + 7), 0); /* an empty cell */
	uint32_t lit = 0;
	for (unsigned x = 0; x < FONT_WIDTH; x++)
		lit |= pixel(x, FONT_HEIGHT / 2);
	assert_int_equal(lit, FG_GREY << 16 | FG_GREY << 8 | FG_GREY);
}

static void test_wrap_scroll_tab(void **state)
{
	(void)state;
	screen(32, 0, 8, 16, 8);
	fbcon_init(&fb, cells, sizeof(cells));
	puts_fb("a\rb\tc\n12345678X\nlast");
	/* '\r' is ignored, a tab goes to the next multiple of 8, a full row
	 * wraps, the fourth row scrolls the first away. */
	assert_row(0, "12345678");
	assert_row(1, "X");
	assert_row(2, "last");
	puts_fb("\n~\x01");
	assert_row(0, "X");
	assert_row(1, "last");
	assert_row(2, "~?"); /* no glyph: '?' */
}

static void test_24_and_16_bpp(void **state)
{
	(void)state;
	screen(24, 16, 8, 0, 8);
	fbcon_init(&fb, cells, sizeof(cells));
	puts_fb("|");
	assert_row(0, "|");
	assert_int_equal(pixels[FONT_HEIGHT / 2][3 * 3], FG_GREY);

	screen(16, 11, 5, 0, 5);
	fb.green_size = 6;
	fbcon_init(&fb, cells, sizeof(cells));
	puts_fb("|=");
	assert_row(0, "|=");
	assert_int_equal(pixel(3, FONT_HEIGHT / 2),
			 (FG_GREY >> 3) << 11 | (FG_GREY >> 2) << 5 | (FG_GREY >> 3));
}

static void test_unusable_framebuffers(void **state)
{
	(void)state;
	screen(8, 0, 0, 0, 0); /* indexed colour */
	fb.type = 0;
	fbcon_init(&fb, cells, sizeof(cells));
	assert_false(fbcon_active());
	screen(32, 0, 0, 0, 0); /* no colour fields */
	fbcon_init(&fb, cells, sizeof(cells));
	assert_false(fbcon_active());
	screen(32, 16, 8, 0, 8);
	fb.pitch = WIDTH; /* shorter than a line */
	fbcon_init(&fb, cells, sizeof(cells));
	assert_false(fbcon_active());
	screen(32, 16, 8, 0, 8);
	fb.addr = 0;
	fbcon_init(&fb, cells, sizeof(cells));
	assert_false(fbcon_active());
	/* Nothing was drawn. */
	assert_int_equal(pixels[0][0], 0x55);
}

/* The caller provides the character cells: a partial cell needs none, a
 * buffer too small leaves the console off. */
static void test_cells_from_the_caller(void **state)
{
	(void)state;
	screen(32, 16, 8, 0, 8);
	assert_int_equal(fbcon_cells_size(&fb), ROWS * COLS);
	fbcon_init(&fb, cells, sizeof(cells) - 1);
	assert_false(fbcon_active());
	fbcon_init(&fb, NULL, 0);
	assert_false(fbcon_active());
	fb.type = 0;
	assert_int_equal(fbcon_cells_size(&fb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_output_and_clear),
		cmocka_unit_test(test_wrap_scroll_tab),
		cmocka_unit_test(test_24_and_16_bpp),
		cmocka_unit_test(test_unusable_framebuffers),
		cmocka_unit_test(test_cells_from_the_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
