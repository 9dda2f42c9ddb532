/* Health and metrics reads. */
#include "store/system.h"

#include "store/sql.h"

enum otd_status store_ping(struct otd_conn *c, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT count(*) FROM skills WHERE id = 0", err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "health check", err);
	return OTD_OK;
}

enum otd_status store_outbox_depth(struct otd_conn *c, int64_t *pending, int64_t *uncertain,
                                   struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT coalesce(sum(state IN ('pending', 'sending')), 0), "
	                 "coalesce(sum(state = 'uncertain'), 0) FROM outbox "
	                 "WHERE state IN ('pending', 'sending', 'uncertain')",
	                 err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*pending = db_column_int64(st, 0);
		*uncertain = db_column_int64(st, 1);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "outbox depth", err);
	return OTD_OK;
}

enum otd_status store_ops_gauges(struct otd_conn *c, int64_t now, struct otd_ops_gauges *out,
                                 struct otd_error *err)
{
	*out = (struct otd_ops_gauges){0};
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT (SELECT coalesce(?1 - min(due_at), 0) FROM outbox "
	    "        WHERE state = 'pending' AND due_at <= ?1), "
	    "       (SELECT count(*) FROM appointments a "
	    "        WHERE a.local_date >= date(?1 - 86400, 'unixepoch') AND a.risk = 'at_risk' "
	    "        AND a.status IN ('booked', 'travelling') "
	    "        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id "
	    "                        AND o.template = 'apology' AND o.state = 'sent')), "
	    "       (SELECT count(*) FROM guarantee_cases WHERE state = 'open' "
	    "        AND deadline_at >= ?1 AND deadline_at < ?1 + 86400), "
	    "       (SELECT count(*) FROM guarantee_cases WHERE state = 'open' "
	    "        AND deadline_at < ?1)",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->oldest_due_age = db_column_int64(st, 0);
		out->at_risk_unmessaged = db_column_int64(st, 1);
		out->guarantee_due_24h = db_column_int64(st, 2);
		out->guarantee_overdue = db_column_int64(st, 3);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "operations gauges", err);
	return OTD_OK;
}
