#include "drivers/scancode.h"

#define BREAK_BIT 0x80
#define PREFIX_EXTENDED 0xe0
#define PREFIX_PAUSE 0xe1
#define PAUSE_TAIL 5 /* E1 1D 45 E1 9D C5: five bytes after the first */
#define SC_CTRL 0x1d
#define SC_SHIFT_LEFT 0x2a
#define SC_SHIFT_RIGHT 0x36
#define SC_CAPS 0x3a
#define SC_KEYS 0x54 /* codes below this have a character */
#define CTRL_MASK 0x1f
#define ASCII_ESC 0x1b
#define ASCII_DEL 0x7f

/* Make codes 0x00-0x53, unshifted and shifted (0: no character). */
static const char plain[SC_KEYS] = {
	0,	   ASCII_ESC, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-',  '=',
	ASCII_DEL, '\t',      'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[',  ']',
	'\r',	   0,	      'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
	0,	   '\\',      'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/', 0,    '*',
	0,	   ' ',	      0,   0,	0,   0,	  0,   0,   0,	 0,   0,   0,	0,    0,
	0,	   '7',	      '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0',  '.',
};
static const char shifted[SC_KEYS] = {
	0,	   ASCII_ESC, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+',
	ASCII_DEL, '\t',      'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}',
	'\r',	   0,	      'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~',
	0,	   '|',	      'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?', 0,   '*',
	0,	   ' ',	      0,   0,	0,   0,	  0,   0,   0,	 0,   0,   0,	0,   0,
	0,	   '7',	      '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0', '.',
};

/* Keys behind the 0xE0 prefix that type something. */
static const struct {
	uint8_t code;
	const char *text;
} extended_keys[] = {
	{ 0x1c, "\r" },	     /* keypad Enter */
	{ 0x35, "/" },	     /* keypad / */
	{ 0x48, "\x1b[A" },  /* up */
	{ 0x50, "\x1b[B" },  /* down */
	{ 0x4d, "\x1b[C" },  /* right */
	{ 0x4b, "\x1b[D" },  /* left */
	{ 0x47, "\x1b[H" },  /* home */
	{ 0x4f, "\x1b[F" },  /* end */
	{ 0x53, "\x1b[3~" }, /* delete */
};

static unsigned emit(const char *text, uint8_t out[SCANCODE_OUT_MAX])
{
	unsigned n = 0;

	while (text[n] && n < SCANCODE_OUT_MAX) {
		out[n] = (uint8_t)text[n];
		n++;
	}
	return n;
}

static unsigned extended_key(uint8_t make, uint8_t out[SCANCODE_OUT_MAX])
{
	for (unsigned i = 0; i < sizeof(extended_keys) / sizeof(extended_keys[0]); i++)
		if (extended_keys[i].code == make)
			return emit(extended_keys[i].text, out);
	return 0;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

unsigned scancode_feed(struct scancode_state *s, uint8_t code, uint8_t out[SCANCODE_OUT_MAX])
{
	if (s->swallow) {
		s->swallow--;
		return 0;
	}
	if (code == PREFIX_PAUSE) {
		s->swallow = PAUSE_TAIL;
		return 0;
	}
	if (code == PREFIX_EXTENDED) {
		s->extended = true;
		return 0;
	}
	bool extended = s->extended;
	bool released = code & BREAK_BIT;
	uint8_t make = code & ~BREAK_BIT;

	s->extended = false;
	if (make == SC_CTRL) {
		*(extended ? &s->ctrl_right : &s->ctrl_left) = !released;
		return 0;
	}
	/* E0 2A / E0 36 are the "fake shifts" some keys send around
	 * themselves: not the user's Shift. */
	if ((make == SC_SHIFT_LEFT || make == SC_SHIFT_RIGHT) && !extended) {
		*(make == SC_SHIFT_LEFT ? &s->shift_left : &s->shift_right) = !released;
		return 0;
	}
	if (released)
		return 0;
	if (make == SC_CAPS && !extended) {
		s->caps = !s->caps;
		return 0;
	}
	if (extended)
		return extended_key(make, out);
	if (make >= SC_KEYS || !plain[make])
		return 0;
	bool shift = s->shift_left || s->shift_right;
	char c = shift ? shifted[make] : plain[make];
	if (s->caps && is_letter(c))
		c = shift ? plain[make] : shifted[make];
	if ((s->ctrl_left || s->ctrl_right) && is_letter(c))
		c &= CTRL_MASK;
	out[0] = (uint8_t)c;
	return 1;
}
