/* Hexadecimal digits, read and written: the config parser's MAC
 * addresses, the console's numbers and the gdb stub's packets share them. */
#ifndef PGVISOR_LIB_HEX_H
#define PGVISOR_LIB_HEX_H

/* The value of hex digit c (either case), or -1 when c is not one. */
static inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The lower-case digit of v's low four bits. */
static inline char hex_char(unsigned v)
{
	return "0123456789abcdef"[v & 0xf];
}

#endif
