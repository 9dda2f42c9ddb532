/* onthedot: validation and normalisation of values people type, pure.
 * Each function fills err naming field and returns OTD_EINVAL when the
 * value cannot be used. */
#ifndef ONTHEDOT_VALIDATE_H
#define ONTHEDOT_VALIDATE_H

#include <stddef.h>

#include "onthedot/model.h"
#include "onthedot/shift.h"
#include "onthedot/status.h"
#include "onthedot/tz.h"

/* Normalises a phone number to E.164 ("+441632960001") into out (at least
 * 17 bytes). Accepts spaces, dashes, dots and brackets; a leading 0 is a
 * national number of default_cc ("44"); "00" is an international prefix;
 * a "(0)" after the country code ("+44 (0)1632 ...") is left out.
 * 8 to 15 digits in all. */
enum otd_status otd_phone_normalise(const char *in, const char *default_cc, char *out, size_t size,
                                    const char *field, struct otd_error *err);

/* Checks an email address: 3 to 254 bytes, one '@', a dot in the domain,
 * no spaces or control characters. Lower-cases the domain into out. */
enum otd_status otd_email_normalise(const char *in, char *out, size_t size, const char *field,
                                    struct otd_error *err);

/* Checks a code (skills, visit types): 1 to 64 of a-z 0-9 '_' '-'. */
enum otd_status otd_code_validate(const char *code, const char *field, struct otd_error *err);

/* Checks free text: length in characters within [min, max], valid UTF-8
 * without control characters other than newline and tab (when multiline). */
enum otd_status otd_text_validate(const char *s, size_t min, size_t max, bool multiline,
                                  const char *field, struct otd_error *err);

/* Converts a stored shift into a rule for otd_shift_expand. exbuf must
 * hold s->n_exdates entries; the rule points into it. */
enum otd_status otd_shift_to_rule(const struct otd_shift *s, struct otd_shift_rule *rule,
                                  struct otd_civil *exbuf, struct otd_error *err);

/* Validates a visitor record (names, contact, base, skills, shifts in zone
 * tz). field names follow the API ("shifts[1].rrule"). */
enum otd_status otd_visitor_validate(const struct otd_visitor *v, const struct otd_tz *tz,
                                     struct otd_error *err);

/* Validates a visit type record. */
enum otd_status otd_visit_type_validate(const struct otd_visit_type *t, struct otd_error *err);

/* True when [start, end) lies inside one occurrence of one of the shifts,
 * expanded in tz. */
bool otd_window_in_shifts(const struct otd_shift *shifts, size_t n, const struct otd_tz *tz,
                          int64_t start, int64_t end);

#endif
