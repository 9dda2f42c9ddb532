/* onthedot: SMS encoding facts for a UTF-8 text, pure.
 *
 * DESIGN.md (Messaging): SMS switches to UCS-2 when the text is not GSM-7.
 * A gateway bills and splits by segments, so the outbox and the dispatcher
 * screens need to know, before sending, which alphabet a text needs, how
 * many units it takes and how many segments it becomes. The alphabet is
 * 3GPP TS 23.038 section 6.2.1 (the GSM 7-bit default alphabet and its
 * extension table); segment sizes follow from the 140-octet user data less
 * the 6-octet concatenation header of 3GPP TS 23.040 section 9.2.3.24.1. */
#ifndef ONTHEDOT_SMS_H
#define ONTHEDOT_SMS_H

#include <stdbool.h>

#include "onthedot/status.h"

/* Units that fit one unsplit message, and one part of a split message. */
#define OTD_SMS_GSM7_SINGLE 160
#define OTD_SMS_GSM7_PART 153
#define OTD_SMS_UCS2_SINGLE 70
#define OTD_SMS_UCS2_PART 67

/* True when utf8 (NUL-terminated) is well-formed UTF-8 and every character
 * is in the GSM 7-bit default alphabet or its extension table (form feed,
 * ^ { } \ [ ~ ] | and the euro sign). The empty text is GSM-7. Invalid
 * UTF-8 gives false. Characters merely resembling GSM ones (e with
 * diaeresis, c with cedilla, a backtick, a tab) are not GSM-7. */
bool otd_sms_is_gsm7(const char *utf8);

struct otd_sms_info {
	bool gsm7;    /* the text can go as GSM-7; otherwise it needs UCS-2 */
	int units;    /* GSM-7: septets (extension characters 2); UCS-2: UTF-16 code units */
	int segments; /* messages the gateway sends: at least 1 */
};

/* Fills *out for the NUL-terminated text utf8: the alphabet, the units it
 * takes in that alphabet and the segments it becomes. GSM-7 fits 160
 * septets in one message, else 153 per part; UCS-2 70 code units in one,
 * else 67 per part. An extension character's escape pair and a surrogate
 * pair are never split between parts, so a part may carry one unit fewer.
 * The empty text is 0 units in 1 segment.
 * Fails with OTD_EINVAL (err code "invalid_utf8", field "") when utf8 is
 * not well-formed UTF-8, and OTD_ETOOBIG ("text_too_long") when the text
 * is longer than INT_MAX / 2 bytes; *out is then zeroed. err may be NULL. */
enum otd_status otd_sms_info(const char *utf8, struct otd_sms_info *out, struct otd_error *err);

#endif
