/* SMS alphabets, units and segments (3GPP TS 23.038 section 6.2.1). */
#include "onthedot/sms.h"

#include <assert.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "onthedot/utf8.h"

/* The non-ASCII characters of the default alphabet, by code point. */
static const uint32_t gsm7_basic_extra[] = {
    0x00A1, /* ¡ */ 0x00A3, /* £ */ 0x00A4, /* ¤ */ 0x00A5, /* ¥ */ 0x00A7, /* § */
    0x00BF, /* ¿ */ 0x00C4, /* Ä */ 0x00C5, /* Å */ 0x00C6, /* Æ */ 0x00C7, /* Ç */
    0x00C9, /* É */ 0x00D1, /* Ñ */ 0x00D6, /* Ö */ 0x00D8, /* Ø */ 0x00DC, /* Ü */
    0x00DF, /* ß */ 0x00E0, /* à */ 0x00E4, /* ä */ 0x00E5, /* å */ 0x00E6, /* æ */
    0x00E8, /* è */ 0x00E9, /* é */ 0x00EC, /* ì */ 0x00F1, /* ñ */ 0x00F2, /* ò */
    0x00F6, /* ö */ 0x00F8, /* ø */ 0x00F9, /* ù */ 0x00FC, /* ü */ 0x0393, /* Γ */
    0x0394, /* Δ */ 0x0398, /* Θ */ 0x039B, /* Λ */ 0x039E, /* Ξ */ 0x03A0, /* Π */
    0x03A3, /* Σ */ 0x03A6, /* Φ */ 0x03A8, /* Ψ */ 0x03A9,                 /* Ω */
};

/* Septets a code point takes in GSM-7: 1 for the default alphabet, 2 for
 * the extension table (escape + character), 0 when it has no GSM-7 form. */
static int gsm7_width(uint32_t cp)
{
	if(cp < 0x80) {
		/* Printable ASCII is in the default alphabet except for the
		 * backtick, which GSM-7 lacks, and the eight below, which the
		 * extension table carries; of the controls only LF and CR are
		 * characters (form feed is an extension character). */
		if(cp == '\n' || cp == '\r')
			return 1;
		if(cp == '\f')
			return 2;
		if(cp < 0x20 || cp == 0x7F || cp == '`')
			return 0;
		if(strchr("^{}\\[~]|", (int)cp))
			return 2;
		return 1;
	}
	if(cp == 0x20AC) /* € */
		return 2;
	for(size_t i = 0; i < sizeof(gsm7_basic_extra) / sizeof(gsm7_basic_extra[0]); i++)
		if(gsm7_basic_extra[i] == cp)
			return 1;
	return 0;
}

/* The code point of the well-formed k-byte sequence at s. */
static uint32_t decode(const unsigned char *s, size_t k)
{
	static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	uint32_t cp = s[0] & lead_mask[k];
	for(size_t i = 1; i < k; i++)
		cp = (cp << 6) | (s[i] & 0x3Fu);
	return cp;
}

/* Walks utf8: false at the first ill-formed sequence (*bad its offset).
 * Otherwise *gsm7 says whether every character has a GSM-7 form. */
static bool scan(const unsigned char *s, size_t len, bool *gsm7, size_t *bad)
{
	*gsm7 = true;
	for(size_t i = 0; i < len;) {
		size_t k = otd_utf8_char(s + i, len - i);
		if(k == 0) {
			*bad = i;
			return false;
		}
		if(*gsm7 && gsm7_width(decode(s + i, k)) == 0)
			*gsm7 = false;
		i += k;
	}
	return true;
}

bool otd_sms_is_gsm7(const char *utf8)
{
	bool gsm7;
	size_t bad;
	assert(utf8);
	return scan((const unsigned char *)utf8, strlen(utf8), &gsm7, &bad) && gsm7;
}

enum otd_status otd_sms_info(const char *utf8, struct otd_sms_info *out, struct otd_error *err)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t len = strlen(utf8);
	bool gsm7;
	size_t bad = 0;
	memset(out, 0, sizeof(*out));
	/* Units are at most two per byte, so this keeps them in an int. */
	if(len > INT_MAX / 2)
		return otd_error_set(err, OTD_ETOOBIG, "text_too_long", "",
		                     "The text is too long for a text message (%zu bytes).", len);
	if(!scan(s, len, &gsm7, &bad))
		return otd_error_set(err, OTD_EINVAL, "invalid_utf8", "",
		                     "The text is not valid UTF-8 (at byte %zu).", bad);

	int single = gsm7 ? OTD_SMS_GSM7_SINGLE : OTD_SMS_UCS2_SINGLE;
	int part = gsm7 ? OTD_SMS_GSM7_PART : OTD_SMS_UCS2_PART;
	int units = 0, segments = 1, used = 0;
	for(size_t i = 0; i < len;) {
		size_t k = otd_utf8_char(s + i, len - i);
		uint32_t cp = decode(s + i, k);
		int w = gsm7 ? gsm7_width(cp) : (cp > 0xFFFF ? 2 : 1);
		/* Pack the parts as if split, a character never straddling
		 * two; used only matters once the text needs more than one. */
		if(used + w > part) {
			segments++;
			used = 0;
		}
		used += w;
		units += w;
		i += k;
	}
	if(units <= single)
		segments = 1;
	out->gsm7 = gsm7;
	out->units = units;
	out->segments = segments;
	return OTD_OK;
}
