/* The public trust figures: promises kept, notice before delays,
 * compensation paid, feedback. Definitions in onthedot/trust.h. */
#include "store/trust.h"

#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

/* Every figure is read with one statement into one row or a few. */
static enum otd_status finish(struct otd_conn *c, struct otd_stmt *st, int rc, const char *what,
                              struct otd_error *err)
{
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, what, err);
	return OTD_OK;
}

enum otd_status store_trust_kept(struct otd_conn *c, struct otd_trust_period *p,
                                 struct otd_error *err)
{
	/* The arrival: arrived_at, or for "no access" the visitor's report
	 * at the door. Cancelled by the customer is not due; cancelled by us
	 * is due and has no arrival. */
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT w, count(*), coalesce(sum(CASE WHEN arr IS NOT NULL AND arr < we THEN 1 ELSE 0 "
	    "END), 0), coalesce(sum(CASE WHEN arr IS NOT NULL AND arr < ws THEN 1 ELSE 0 END), 0) "
	    "FROM (SELECT (a.window_end - a.window_start) / 60 AS w, a.window_start AS ws, "
	    "a.window_end AS we, coalesce(a.arrived_at, CASE WHEN a.status = 'no_access' THEN "
	    "(SELECT min(coalesce(e.claimed_at, e.received_at)) FROM appointment_events e WHERE "
	    "e.appointment_id = a.id AND e.kind = 'no_access') END) AS arr FROM appointments a "
	    "WHERE a.window_end >= ?1 AND a.window_end < ?2 AND NOT (a.status = 'cancelled' AND "
	    "a.cancelled_by = 'customer')) AS due GROUP BY w ORDER BY w",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, p->from);
	db_bind_int64(st, 2, p->to);
	int rc;
	while((rc = db_step(st)) == DB_ROW)
		otd_trust_add_kept(p, db_column_int(st, 0), db_column_int64(st, 1),
		                   db_column_int64(st, 2), db_column_int64(st, 3));
	return finish(c, st, rc, "count promises kept", err);
}

enum otd_status store_trust_notice(struct otd_conn *c, struct otd_trust_period *p,
                                   struct otd_error *err)
{
	/* The first delay message per appointment in the period (the outbox
	 * holds one row per channel; the earliest counts), the promise version
	 * it was about (from its event key "appt:ID:vN:EVENT": the digits up
	 * to the next ':', as PostgreSQL casts no trailing text), and that
	 * promise's window: the one a later reschedule moved away from (its
	 * event records from_start and from_end with the new version), or the
	 * appointment's own when it was not moved since. */
	struct otd_stmt *st = conn_prepare(
	    c,
	    "WITH d AS (SELECT appointment_id AS id, created_at AS told, event_key AS k, "
	    "row_number() OVER (PARTITION BY appointment_id ORDER BY created_at, id) AS rn FROM "
	    "outbox WHERE template IN ('apology', 'update', 'cannot_attend') AND (state <> "
	    "'cancelled' OR uncertain_at IS NOT NULL) AND appointment_id IS NOT NULL AND "
	    "created_at >= ?1 AND created_at < ?2), "
	    "f AS (SELECT id, told, CAST(substr(k, length('appt:' || id || ':v') + 1, "
	    "instr(substr(k, length('appt:' || id || ':v') + 1) || ':', ':') - 1) AS INTEGER) "
	    "AS v FROM d WHERE rn = 1) SELECT f.told, coalesce(json_extract(e.detail, "
	    "'$.from_start'), a.window_start), coalesce(json_extract(e.detail, '$.from_end'), "
	    "a.window_end) FROM f JOIN appointments a ON a.id = f.id LEFT JOIN appointment_events "
	    "e ON e.appointment_id = f.id AND e.kind = 'rescheduled' AND "
	    "json_extract(e.detail, '$.promise_version') = f.v + 1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, p->from);
	db_bind_int64(st, 2, p->to);
	int64_t *minutes = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		int64_t told = db_column_int64(st, 0);
		int64_t ws = db_column_int64(st, 1), we = db_column_int64(st, 2);
		if(told >= we)
			continue; /* after the window: a broken promise, not a delay told */
		if(n == cap) {
			cap = cap ? 2 * cap : 64;
			minutes = xrealloc(minutes, cap * sizeof(*minutes));
		}
		minutes[n++] = otd_trust_notice_minutes(ws, told);
		if(told < ws)
			p->told_before_start++;
	}
	enum otd_status s = finish(c, st, rc, "measure notice", err);
	if(s == OTD_OK) {
		p->delays = (int64_t)n;
		p->has_median = otd_trust_median(minutes, n, &p->median_notice_min);
	}
	free(minutes);
	return s;
}

enum otd_status store_trust_paid(struct otd_conn *c, struct otd_trust_period *p,
                                 struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT count(*), coalesce(sum(paid_minor), 0), "
	                                   "coalesce(min(currency), '') FROM guarantee_cases WHERE "
	                                   "state = 'paid' AND paid_at >= ?1 AND paid_at < ?2",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, p->from);
	db_bind_int64(st, 2, p->to);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		p->paid_cases = db_column_int64(st, 0);
		p->paid_minor = db_column_int64(st, 1);
		conn_column_copy(p->currency, sizeof(p->currency), st, 2);
	}
	return finish(c, st, rc, "sum compensation paid", err);
}

enum otd_status store_trust_feedback(struct otd_conn *c, struct otd_trust_period *p,
                                     struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT count(*), coalesce(sum(CASE WHEN rating >= 4 THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN rating = 3 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN "
	    "rating <= 2 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN moderation IN "
	    "('published', 'redacted') THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN moderation "
	    "IN ('published', 'redacted') AND rating >= 4 THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN moderation IN ('published', 'redacted') AND rating <= 2 THEN 1 "
	    "ELSE 0 END), 0), coalesce(sum(CASE WHEN moderation = 'withheld' THEN 1 ELSE 0 END), "
	    "0), coalesce(sum(CASE WHEN moderation = 'pending' THEN 1 ELSE 0 END), 0) FROM "
	    "feedback WHERE created_at >= ?1 AND created_at < ?2",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, p->from);
	db_bind_int64(st, 2, p->to);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		p->feedback = db_column_int64(st, 0);
		p->good = db_column_int64(st, 1);
		p->neutral = db_column_int64(st, 2);
		p->bad = db_column_int64(st, 3);
		p->published = db_column_int64(st, 4);
		p->published_good = db_column_int64(st, 5);
		p->published_bad = db_column_int64(st, 6);
		p->withheld = db_column_int64(st, 7);
		p->pending = db_column_int64(st, 8);
	}
	return finish(c, st, rc, "count feedback", err);
}

enum otd_status store_trust_latest(struct otd_conn *c, struct otd_trust_comment *out, size_t max,
                                   size_t *n, struct otd_error *err)
{
	*n = 0;
	if(max > OTD_TRUST_LATEST_MAX)
		max = OTD_TRUST_LATEST_MAX;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT f.rating, f.moderation = 'redacted', f.created_at, t.name, "
	    "coalesce(f.published_comment, '') FROM feedback f JOIN appointments a ON a.id = "
	    "f.appointment_id JOIN visit_types t ON t.id = a.visit_type_id WHERE f.moderation IN "
	    "('published', 'redacted') ORDER BY f.id DESC LIMIT ?1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, (int64_t)max);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max) {
		struct otd_trust_comment *m = &out[(*n)++];
		memset(m, 0, sizeof(*m));
		m->rating = db_column_int(st, 0);
		m->redacted = db_column_int(st, 1) != 0;
		m->given_at = db_column_int64(st, 2);
		conn_column_copy(m->visit_type, sizeof(m->visit_type), st, 3);
		conn_column_copy(m->comment, sizeof(m->comment), st, 4);
	}
	return finish(c, st, rc, "read published feedback", err);
}
