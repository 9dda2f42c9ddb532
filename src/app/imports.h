/* onthedot imports: visitors, visit types and the gazetteer from CSV.
 * Each file is all or nothing: every row is checked first, bad rows are
 * reported with file, line and reason, and only a clean file is written,
 * in one transaction. */
#ifndef OTD_APP_IMPORTS_H
#define OTD_APP_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

#define OTD_IMPORT_MAX_BYTES ((size_t)512 << 20)
#define OTD_IMPORT_MAX_ERRORS 20

struct otd_import_report {
	size_t rows;
	size_t inserted;
	size_t updated;
	int64_t removed; /* gazetteer: addresses no longer listed and unused */
	int64_t retired; /* gazetteer: no longer listed but used by appointments */
	size_t bad_rows;
	char *problems; /* heap: one line per bad row (at most OTD_IMPORT_MAX_ERRORS) */
};

void otd_import_report_cleanup(struct otd_import_report *r);

/* Imports a gazetteer file (name is used in messages). A re-import updates
 * addresses by UPRN (or first line and postcode), adds new ones, deletes
 * those no longer listed unless an appointment or hold uses them (then
 * they are kept, retired). */
enum otd_status app_import_gazetteer(struct otd_app *app, const struct otd_principal *actor,
                                     const char *name, const char *data, size_t len,
                                     struct otd_import_report *r, struct otd_error *err);

/* Imports visit types, updating by code. */
enum otd_status app_import_visit_types(struct otd_app *app, const struct otd_principal *actor,
                                       const char *name, const char *data, size_t len,
                                       struct otd_import_report *r, struct otd_error *err);

/* Imports visitors, updating by email (their shifts are replaced). A
 * change that leaves a booked appointment outside the visitor's shifts is
 * refused (OTD_ECONFLICT, naming them) unless confirm_affected. */
enum otd_status app_import_visitors(struct otd_app *app, const struct otd_principal *actor,
                                    const char *name, const char *data, size_t len,
                                    bool confirm_affected, struct otd_import_report *r,
                                    struct otd_error *err);

#endif
