/* The guarantee ledger. */
#include "store/guarantees.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

#define CASE_COLUMNS                                                                               \
	"g.id, g.appointment_id, a.reference, g.promise_version, g.reason, g.rule_set, "           \
	"g.rule_version, g.amount_minor, g.currency, g.breached_at, g.deadline_at, g.state, "      \
	"coalesce(g.exempt_reason, ''), coalesce(g.exempt_note, ''), coalesce(g.paid_at, 0), "     \
	"coalesce(g.paid_minor, 0), g.penalty_minor, coalesce(g.notice_s, -1), g.created_at "

static void read_case(struct otd_stmt *st, struct otd_case *c)
{
	memset(c, 0, sizeof(*c));
	c->id = db_column_int64(st, 0);
	c->appointment_id = db_column_int64(st, 1);
	conn_column_copy(c->reference, sizeof(c->reference), st, 2);
	c->promise_version = db_column_int(st, 3);
	conn_column_copy(c->reason, sizeof(c->reason), st, 4);
	conn_column_copy(c->rule_set, sizeof(c->rule_set), st, 5);
	conn_column_copy(c->rule_version, sizeof(c->rule_version), st, 6);
	c->amount_minor = db_column_int64(st, 7);
	conn_column_copy(c->currency, sizeof(c->currency), st, 8);
	c->breached_at = db_column_int64(st, 9);
	c->deadline_at = db_column_int64(st, 10);
	conn_column_copy(c->state, sizeof(c->state), st, 11);
	conn_column_copy(c->exempt_reason, sizeof(c->exempt_reason), st, 12);
	conn_column_copy(c->exempt_note, sizeof(c->exempt_note), st, 13);
	c->paid_at = db_column_int64(st, 14);
	c->paid_minor = db_column_int64(st, 15);
	c->penalty_minor = db_column_int64(st, 16);
	c->notice_s = db_column_int64(st, 17);
	c->created_at = db_column_int64(st, 18);
}

enum otd_status store_case_open(struct otd_conn *tx, const struct otd_case *c,
                                const char *exempt_reason, const char *exempt_note, int64_t *id,
                                bool *created, struct otd_error *err)
{
	*created = false;
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	    "rule_version, amount_minor, currency, breached_at, deadline_at, state, exempt_reason, "
	    "exempt_note, notice_s, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE "
	    "WHEN CAST(?10 AS TEXT) IS NULL THEN 'open' ELSE 'exempt' END, ?10, ?11, ?12, ?13) ON CONFLICT "
	    "(appointment_id, promise_version, reason) DO NOTHING",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, c->appointment_id);
	db_bind_int(st, 2, c->promise_version);
	conn_bind_text(st, 3, c->reason);
	conn_bind_text(st, 4, c->rule_set);
	conn_bind_text(st, 5, c->rule_version);
	db_bind_int64(st, 6, c->amount_minor);
	conn_bind_text(st, 7, c->currency);
	db_bind_int64(st, 8, c->breached_at);
	db_bind_int64(st, 9, c->deadline_at);
	conn_bind_text(st, 10, exempt_reason);
	conn_bind_text(st, 11, exempt_note);
	if(c->notice_s >= 0)
		db_bind_int64(st, 12, c->notice_s);
	db_bind_int64(st, 13, c->created_at);
	enum otd_status s = conn_step_done(tx, st, "open a guarantee case", err);
	if(s)
		return s;
	*created = conn_changes(tx) > 0;
	if(*created) {
		*id = conn_last_id(tx);
		return OTD_OK;
	}
	st = conn_prepare(tx,
	                  "SELECT id FROM guarantee_cases WHERE appointment_id = ?1 AND "
	                  "promise_version = ?2 AND reason = ?3",
	                  err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, c->appointment_id);
	db_bind_int(st, 2, c->promise_version);
	conn_bind_text(st, 3, c->reason);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(tx, rc, "find the guarantee case", err);
	return OTD_OK;
}

enum otd_status store_case_get(struct otd_conn *c, int64_t id, struct otd_case *out,
                               struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT " CASE_COLUMNS
	                                   "FROM guarantee_cases g JOIN appointments a ON a.id = "
	                                   "g.appointment_id WHERE g.id = ?1",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		read_case(st, out);
	conn_done(st);
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no guarantee case %lld.", (long long)id);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "read a guarantee case", err);
	return OTD_OK;
}

enum otd_status store_cases_of_appointment(struct otd_conn *c, int64_t appointment_id,
                                           struct otd_case *out, size_t max, size_t *n,
                                           struct otd_error *err)
{
	*n = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT " CASE_COLUMNS "FROM guarantee_cases g JOIN appointments a ON a.id = "
	    "g.appointment_id WHERE g.appointment_id = ?1 ORDER BY g.id",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max)
		read_case(st, &out[(*n)++]);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read the guarantee cases of an appointment", err);
	return OTD_OK;
}

enum otd_status store_cases_list(struct otd_conn *c, const struct otd_case_filter *f,
                                 struct otd_case **out, size_t *n, int64_t *next,
                                 struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	*next = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT " CASE_COLUMNS "FROM guarantee_cases g JOIN appointments a ON a.id = "
	    "g.appointment_id WHERE g.id > ?1 AND (?2 = '' OR g.state = ?2) AND (?3 = '' OR (?3 = "
	    "'passed' AND g.state = 'open' AND g.deadline_at < ?4) OR (?3 = 'near' AND g.state = "
	    "'open' AND g.deadline_at >= ?4 AND g.deadline_at < ?4 + ?5)) AND (?7 = 0 OR "
	    "(g.breached_at >= ?6 AND g.breached_at < ?7)) ORDER BY g.id LIMIT ?8",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, f->after_id);
	conn_bind_text(st, 2, f->state ? f->state : "");
	conn_bind_text(st, 3, f->deadline ? f->deadline : "");
	db_bind_int64(st, 4, f->now);
	db_bind_int64(st, 5, f->near_s);
	db_bind_int64(st, 6, f->from);
	db_bind_int64(st, 7, f->to);
	db_bind_int(st, 8, f->limit + 1);
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == (size_t)f->limit) {
			*next = (*out)[*n - 1].id;
			break;
		}
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_case(st, &(*out)[(*n)++]);
	}
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "list guarantee cases", err);
	}
	return OTD_OK;
}

static enum otd_status settle(struct otd_conn *tx, struct otd_stmt *st, int64_t id,
                              struct otd_error *err)
{
	enum otd_status s = conn_step_done(tx, st, "settle a guarantee case", err);
	if(s == OTD_OK && conn_changes(tx) == 0) {
		struct otd_case c;
		s = store_case_get(tx, id, &c, err);
		if(s == OTD_OK)
			s = otd_error_set(err, OTD_ESTATE, "case_settled", NULL,
			                  "Case %lld is already %s.", (long long)id, c.state);
	}
	return s;
}

enum otd_status store_case_pay(struct otd_conn *tx, int64_t id, int64_t paid_at, int64_t paid_minor,
                               int64_t penalty_minor, int64_t user_id, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE guarantee_cases SET state = 'paid', paid_at = ?2, "
	                 "paid_minor = ?3, penalty_minor = ?4, settled_by = ?5 WHERE "
	                 "id = ?1 AND state = 'open'",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, paid_at);
	db_bind_int64(st, 3, paid_minor);
	db_bind_int64(st, 4, penalty_minor);
	if(user_id)
		db_bind_int64(st, 5, user_id);
	return settle(tx, st, id, err);
}

enum otd_status store_case_exempt(struct otd_conn *tx, int64_t id, const char *reason,
                                  const char *note, int64_t user_id, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE guarantee_cases SET state = 'exempt', exempt_reason "
	                 "= ?2, exempt_note = ?3, settled_by = ?4 WHERE id = ?1 AND "
	                 "state = 'open'",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	conn_bind_text(st, 2, reason);
	conn_bind_text(st, 3, note);
	if(user_id)
		db_bind_int64(st, 4, user_id);
	return settle(tx, st, id, err);
}

static enum otd_status exists(struct otd_conn *c, struct otd_stmt *st, bool *has, const char *what,
                              struct otd_error *err)
{
	int rc = db_step(st);
	*has = rc == DB_ROW;
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, what, err);
	return OTD_OK;
}

enum otd_status store_appointment_has_event(struct otd_conn *c, int64_t appointment_id,
                                            const char *kind, bool *has, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT 1 FROM appointment_events WHERE appointment_id = ?1 AND kind = ?2 LIMIT 1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	conn_bind_text(st, 2, kind);
	return exists(c, st, has, "look for evidence", err);
}

enum otd_status store_appointment_disrupted(struct otd_conn *c, int64_t appointment_id,
                                            bool *disrupted, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT 1 FROM disruption_appointments WHERE appointment_id = ?1 LIMIT 1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	return exists(c, st, disrupted, "look for a disruption", err);
}

enum otd_status store_cases_report(struct otd_conn *c, int64_t from, int64_t to,
                                   struct otd_case_report *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT count(*), coalesce(sum(state <> 'exempt'), 0), coalesce(sum(state = 'exempt'), "
	    "0), coalesce(sum(state = 'open'), 0), coalesce(sum(state = 'paid'), 0), "
	    "coalesce(sum(state = 'paid' AND paid_at > deadline_at), 0), coalesce(sum(CASE WHEN "
	    "state <> 'exempt' THEN amount_minor ELSE 0 END), 0), coalesce(sum(CASE WHEN state = "
	    "'paid' THEN paid_minor ELSE 0 END), 0), coalesce(sum(CASE WHEN state = 'paid' THEN "
	    "penalty_minor ELSE 0 END), 0), coalesce(min(currency), '') FROM guarantee_cases WHERE "
	    "breached_at >= ?1 AND breached_at < ?2",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, from);
	db_bind_int64(st, 2, to);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->cases = db_column_int64(st, 0);
		out->breaches = db_column_int64(st, 1);
		out->exempt = db_column_int64(st, 2);
		out->open = db_column_int64(st, 3);
		out->paid = db_column_int64(st, 4);
		out->paid_late = db_column_int64(st, 5);
		out->owed_minor = db_column_int64(st, 6);
		out->paid_minor = db_column_int64(st, 7);
		out->penalty_minor = db_column_int64(st, 8);
		conn_column_copy(out->currency, sizeof(out->currency), st, 9);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "report guarantee cases", err);
	return OTD_OK;
}

enum otd_status store_case_evidence(struct otd_conn *c, int64_t appointment_id, char **json,
                                    struct otd_error *err)
{
	*json = NULL;
	/* Events (times, actor, position, detail), then messages with their
	 * reports, in time order. */
	static const char lite_sql[] =
	    "SELECT json_group_array(json(x)) FROM (SELECT json_object('kind', 'event', 'what', "
	    "kind, 'at', coalesce(claimed_at, received_at), 'received_at', received_at, 'actor', "
	    "actor_kind, 'lat', lat, 'lon', lon, 'accuracy_m', accuracy_m, 'detail', json(detail)) "
	    "AS x, coalesce(claimed_at, received_at) AS t, 0 AS ord, id FROM appointment_events "
	    "WHERE "
	    "appointment_id = ?1 UNION ALL SELECT json_object('kind', 'message', 'what', template, "
	    "'channel', channel, 'at', coalesce(sent_at, created_at), 'state', state, 'provider', "
	    "provider, 'provider_id', provider_id, 'uncertain', uncertain_at IS NOT NULL, 'body', "
	    "CASE WHEN state IN ('sent', 'failed') THEN json(payload) END, 'reports', (SELECT "
	    "json_group_array(json_object('at', r.received_at, "
	    "'status', r.status, 'provider', r.provider)) FROM delivery_receipts r WHERE "
	    "r.outbox_id = o.id)), coalesce(sent_at, created_at), 1, id FROM outbox o WHERE "
	    "appointment_id = ?1 ORDER BY t, ord, id)";
	/* The same in PostgreSQL's JSON functions (an empty list is [] in
	 * both, and booleans are true or false in both). */
	static const char pg_sql[] =
	    "SELECT coalesce(json_agg(x ORDER BY t, ord, id), '[]'::json) FROM (SELECT "
	    "json_build_object('kind', 'event', 'what', kind, 'at', coalesce(claimed_at, "
	    "received_at), 'received_at', received_at, 'actor', actor_kind, 'lat', lat, 'lon', "
	    "lon, "
	    "'accuracy_m', accuracy_m, 'detail', CAST(detail AS json)) AS x, coalesce(claimed_at, "
	    "received_at) AS t, 0 AS ord, id FROM appointment_events WHERE appointment_id = ?1 "
	    "UNION ALL SELECT json_build_object('kind', 'message', 'what', template, 'channel', "
	    "channel, 'at', coalesce(sent_at, created_at), 'state', state, 'provider', provider, "
	    "'provider_id', provider_id, 'uncertain', uncertain_at IS NOT NULL, 'body', CASE WHEN "
	    "state IN ('sent', 'failed') THEN CAST(payload AS json) END, 'reports', (SELECT "
	    "coalesce(json_agg(json_build_object('at', r.received_at, 'status', r.status, "
	    "'provider', r.provider)), '[]'::json) FROM delivery_receipts r WHERE r.outbox_id = "
	    "o.id)), coalesce(sent_at, created_at), 1, id FROM outbox o WHERE appointment_id = ?1) "
	    "AS evidence";
	struct otd_stmt *st = conn_prepare(c, conn_is_pg(c) ? pg_sql : lite_sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*json = conn_column_dup(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "gather evidence", err);
	return OTD_OK;
}
