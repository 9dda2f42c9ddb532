/* onthedot bank holidays: the import (the whole set replaced, all or
 * nothing, audited) and the dates the slot offer and notice rules skip. */
#ifndef OTD_APP_HOLIDAYS_H
#define OTD_APP_HOLIDAYS_H

#include <stddef.h>

#include "app/app.h"

/* Parses data[0..len) as an iCalendar file of holidays (onthedot/holidays.h
 * says what is read) and, when every event is good, replaces the stored
 * set with it in one write job, with an audit entry ("import.holidays":
 * file name, count, first and last date, how many were replaced). name is
 * the file's name for messages. *count gets the number of dates stored.
 * Any problem stores nothing and fails with the parser's status (OTD_EINVAL
 * "bad_holidays", OTD_ETOOBIG "too_many_holidays"), the message starting
 * "NAME: " and ending "nothing was imported"; store failures as
 * store_write. */
enum otd_status app_import_holidays(struct otd_app *app, const struct otd_principal *actor,
                                    const char *name, const char *data, size_t len, size_t *count,
                                    struct otd_error *err);

/* The holiday dates from `from` to `to`, both included ("YYYY-MM-DD" in the
 * organisation's zone), in order, into *dates (heap, the caller frees; NULL
 * when none) and *n. OTD_EINVAL (code "bad_date", field "from" or "to")
 * when a date is malformed or from is after to. */
enum otd_status app_holidays_between(struct otd_app *app, const char *from, const char *to,
                                     char (**dates)[11], size_t *n, struct otd_error *err);

#endif
