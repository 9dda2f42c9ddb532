/* onthedot: the rows of the import files, decoded and checked, pure.
 *
 * Each parser takes a CSV row and the column indexes that
 * otd_csv_header produced for its header (the *_COLUMNS tables, required
 * columns first), and fills a record or err (field = the column name).
 * The caller adds the file name and line number to the message. */
#ifndef ONTHEDOT_IMPORT_H
#define ONTHEDOT_IMPORT_H

#include <stddef.h>

#include "onthedot/csv.h"
#include "onthedot/model.h"
#include "onthedot/status.h"

/* gazetteer: uprn (optional), line1, line2 (opt), town (opt), postcode,
 * latitude, longitude. */
extern const char *const OTD_GAZETTEER_COLUMNS[];
#define OTD_GAZETTEER_REQUIRED 4
#define OTD_GAZETTEER_COUNT 7

/* Fills *out (heap strings; otd_address_cleanup frees them, also on
 * error): trims fields, normalises the postcode (upper case, single
 * spaces; norm without spaces), builds match_key, checks coordinates. */
enum otd_status otd_gazetteer_row(const struct otd_csv_row *row, const int *idx,
                                  struct otd_address *out, struct otd_error *err);

/* Normalises a postcode into display (upper case, single spaces) and norm
 * (no spaces) forms, each at least 11 bytes. OTD_EINVAL when it is not 2
 * to 10 letters, digits and spaces. */
enum otd_status otd_postcode_normalise(const char *in, char *display, char *norm,
                                       struct otd_error *err);

/* visit types: code, name, skill, duration_median_minutes, window_minutes,
 * duration_spread (optional). */
extern const char *const OTD_VISIT_TYPE_COLUMNS[];
#define OTD_VISIT_TYPE_REQUIRED 5
#define OTD_VISIT_TYPE_COUNT 6

enum otd_status otd_visit_type_row(const struct otd_csv_row *row, const int *idx,
                                   struct otd_visit_type *out, struct otd_error *err);

/* visitors: email, name, role_title, base_lat, base_lon, then optional
 * phone, skills (separated by spaces or ';'), shift_start (local
 * YYYY-MM-DDTHH:MM), shift_minutes, shift_rrule, shift_exdates (dates
 * separated by spaces or ';'). A row may carry one shift; further rows
 * with the same email add shifts to that visitor. *has_shift says whether
 * this row had one (shift_start, shift_minutes and shift_rrule all given;
 * some but not all is an error). */
extern const char *const OTD_VISITOR_COLUMNS[];
#define OTD_VISITOR_REQUIRED 5
#define OTD_VISITOR_COUNT 11

enum otd_status otd_visitor_row(const struct otd_csv_row *row, const int *idx,
                                struct otd_visitor *out, struct otd_shift *shift, bool *has_shift,
                                struct otd_error *err);

#endif
