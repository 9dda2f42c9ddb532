/* Bank holidays: the whole set replaced by an import, read by date. */
#include "store/holidays.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

enum otd_status store_holidays_replace(struct otd_conn *tx, const struct otd_holiday *list,
                                       size_t n, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx, "DELETE FROM holidays", err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "remove holidays", err);
	for(size_t i = 0; i < n; i++) {
		st = conn_prepare(tx, "INSERT INTO holidays(date, name) VALUES (?1, ?2)", err);
		if(!st)
			return OTD_EIO;
		db_bind_text(st, 1, list[i].date);
		db_bind_text(st, 2, list[i].name);
		rc = db_step(st);
		conn_done(st);
		if(rc != DB_DONE) {
			if((rc & 0xFF) == DB_CONSTRAINT)
				return otd_error_set(
				    err, OTD_ECONFLICT, "duplicate_holiday", "date",
				    "The holiday %s is listed twice, or its name is "
				    "empty or too long.",
				    list[i].date);
			return conn_fail(tx, rc, "save holiday", err);
		}
	}
	return OTD_OK;
}

enum otd_status store_holiday_list(struct otd_conn *c, const char *from_date, const char *to_date,
                                   struct otd_holiday **out, size_t *n, struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	/* Dates are "YYYY-MM-DD", so text order is date order. */
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT date, name FROM holidays WHERE (CAST(?1 AS TEXT) IS NULL OR "
	                 "date >= ?1) AND (CAST(?2 AS TEXT) IS NULL OR date <= ?2) ORDER BY date",
	                 err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, from_date);
	conn_bind_text(st, 2, to_date);
	struct otd_holiday *v = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(count == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof(*v));
		}
		snprintf(v[count].date, sizeof(v[count].date), "%s",
		         (const char *)db_column_text(st, 0));
		snprintf(v[count].name, sizeof(v[count].name), "%s",
		         (const char *)db_column_text(st, 1));
		count++;
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(v);
		return conn_fail(c, rc, "list holidays", err);
	}
	*out = v;
	*n = count;
	return OTD_OK;
}

enum otd_status store_is_holiday(struct otd_conn *c, const char *date, bool *holiday,
                                 struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT 1 FROM holidays WHERE date = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, date);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read holiday", err);
	*holiday = rc == DB_ROW;
	return OTD_OK;
}
