/* onthedot request decoders: JSON bodies into domain records, strictly.
 * Separate from the handlers so the fuzz targets can drive them alone. */
#ifndef OTD_HTTP_DECODE_H
#define OTD_HTTP_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/model.h"
#include "onthedot/status.h"

/* Decodes a visitor body. create: name, role_title and base required;
 * otherwise every field is optional and *set receives the VISITOR_SET_*
 * bits of those given, and *confirm the "confirm_affected" flag. *out is
 * filled with heap copies (otd_visitor_cleanup frees them, also on error). */
enum otd_status visitor_decode(const json_t *body, bool create, struct otd_visitor *out,
                               unsigned *set, bool *confirm, struct otd_error *err);

/* Decodes a visit type body (create: code, name, skill, duration and
 * window required; otherwise partial with *set bits VISIT_TYPE_SET_*). */
enum otd_status visit_type_decode(const json_t *body, bool create, struct otd_visit_type *out,
                                  unsigned *set, struct otd_error *err);

/* Decodes {"confirm_affected": bool} (an empty body is allowed). */
enum otd_status confirm_decode(const json_t *body, bool *confirm, struct otd_error *err);

/* Decodes a sign-in body {"login", "password"}: login lower-cased into
 * login_out (OTD_LOGIN_MAX + 1 bytes), password into password_out
 * (password_size bytes). */
enum otd_status login_decode(const json_t *body, char *login_out, char *password_out,
                             size_t password_size, struct otd_error *err);

/* Decodes the virtual clock body: {"seconds": N} or {"to": RFC 3339}.
 * Exactly one is required; *to is 0 when seconds were given. */
enum otd_status clock_decode(const json_t *body, int64_t *seconds, int64_t *to,
                             struct otd_error *err);

/* Decodes a page cursor ("after") into the last id seen. */
enum otd_status cursor_decode(const char *cursor, int64_t *after);

/* Parses a positive decimal id without sign or leading zero. */
enum otd_status id_decode(const char *s, int64_t *id);

/* POST /api/v1/holds: {"address", "visit_type", "window_start", "link"?}. */
enum otd_status hold_decode(const json_t *body, int64_t *address, int64_t *visit_type,
                            int64_t *start, const char **link, struct otd_error *err);

/* POST /api/v1/appointments: the customer's details and consent. Strings
 * point into body. */
struct otd_booking_request;
enum otd_status booking_decode(const json_t *body, struct otd_booking_request *out,
                               struct otd_error *err);

/* Reschedule: exactly one of "hold" or "offer", and an optional reason. */
enum otd_status reschedule_decode(const json_t *body, const char **hold, int64_t *offer,
                                  const char **reason, struct otd_error *err);

/* A visitor's events: one event object, or {"events": [...]} with 1 to max
 * of them. *out (heap, *n entries) points into body for notes: keep body
 * until done. 400 naming the field (events[i].x) when malformed, 413 when
 * there are more than max. */
struct otd_vevent;
enum otd_status vevents_decode(const json_t *body, size_t max, struct otd_vevent **out, size_t *n,
                               struct otd_error *err);

#endif
