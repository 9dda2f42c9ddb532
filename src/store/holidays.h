/* onthedot store: bank holidays, a set of local dates with names that an
 * import replaces whole (onthedot/holidays.h reads the file). */
#ifndef OTD_STORE_HOLIDAYS_H
#define OTD_STORE_HOLIDAYS_H

#include <stdbool.h>
#include <stddef.h>

#include "onthedot/holidays.h"
#include "onthedot/status.h"

struct otd_conn;

/* Inside write job tx, deletes every stored holiday and inserts list[0..n)
 * (dates "YYYY-MM-DD", distinct; names 1..200 characters). On failure the
 * failed job's changes are all undone (store_write_fn): OTD_ECONFLICT when a date is given twice
 * or a name does not fit, OTD_EIO otherwise. */
enum otd_status store_holidays_replace(struct otd_conn *tx, const struct otd_holiday *list,
                                       size_t n, struct otd_error *err);

/* The holidays from from_date to to_date, both included ("YYYY-MM-DD";
 * NULL for no bound), in date order, into *out (heap, the caller frees;
 * NULL when none) and *n. */
enum otd_status store_holiday_list(struct otd_conn *c, const char *from_date, const char *to_date,
                                   struct otd_holiday **out, size_t *n, struct otd_error *err);

/* Sets *holiday to whether date ("YYYY-MM-DD") is a stored holiday. */
enum otd_status store_is_holiday(struct otd_conn *c, const char *date, bool *holiday,
                                 struct otd_error *err);

#endif
