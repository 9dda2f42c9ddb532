/* Health and metrics reads. */
#include "store/system.h"

#include "store/sql.h"

enum otd_status store_ping(struct otd_conn *c, struct otd_error *err)
{
	sqlite3_stmt *st = conn_prepare(c, "SELECT count(*) FROM skills WHERE id = 0", err);
	if(!st)
		return OTD_EIO;
	int rc = sqlite3_step(st);
	conn_done(st);
	if(rc != SQLITE_ROW)
		return conn_fail(c, rc, "health check", err);
	return OTD_OK;
}

enum otd_status store_outbox_depth(struct otd_conn *c, int64_t *pending, int64_t *uncertain,
                                   struct otd_error *err)
{
	sqlite3_stmt *st = conn_prepare(c,
	                                "SELECT coalesce(sum(state IN ('pending', 'sending')), 0), "
	                                "coalesce(sum(state = 'uncertain'), 0) FROM outbox "
	                                "WHERE state IN ('pending', 'sending', 'uncertain')",
	                                err);
	if(!st)
		return OTD_EIO;
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) {
		*pending = sqlite3_column_int64(st, 0);
		*uncertain = sqlite3_column_int64(st, 1);
	}
	conn_done(st);
	if(rc != SQLITE_ROW)
		return conn_fail(c, rc, "outbox depth", err);
	return OTD_OK;
}
