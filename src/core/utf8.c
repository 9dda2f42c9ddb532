/* The UTF-8 decoder. */
#include "onthedot/utf8.h"

size_t otd_utf8_char(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;
	if(c < 0x80)
		return 1;
	if(c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if(c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if(c == 0xE0)
			lo = 0xA0;
		else if(c == 0xED)
			hi = 0x9F;
	} else if(c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if(c == 0xF0)
			lo = 0x90;
		else if(c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if(avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for(size_t i = 2; i < n; i++)
		if(p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}
