/* onthedot: UTF-8, the one decoder every module uses. */
#ifndef ONTHEDOT_UTF8_H
#define ONTHEDOT_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the well-formed UTF-8 sequence at s, of which n >= 1
 * bytes are available, or 0 when it is not one. The ranges are those of
 * the Unicode Standard, table 3-7 "Well-Formed UTF-8 Byte Sequences": no
 * overlong forms (C0, C1, E0 80..9F, F0 80..8F), no surrogates (ED
 * A0..BF), nothing above U+10FFFF (F4 90.., F5..FF). */
size_t otd_utf8_char(const unsigned char *s, size_t n);

#endif
