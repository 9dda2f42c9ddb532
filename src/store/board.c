/* The dispatch board's reads (board.h). */
#include "store/board.h"

#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

/* Whether the customer of appointment a was told their visit is at risk
 * or changed, about the promise as it stands: a message of that kind for
 * its current version that went out (or may have: uncertain). A failed or
 * cancelled one, or one still held back by quiet hours, told nobody. The
 * event key is "appt:<id>:v<promise version>:<event>", as the booking use
 * cases queue messages (app/booking.c). */
#define WARNED_SQL                                                                                 \
	"EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id AND o.template IN "          \
	"('apology', 'update', 'cannot_attend', 'disruption', 'visitor_changed') AND o.state IN "  \
	"('sending', 'sent', 'uncertain') AND o.event_key LIKE 'appt:' || a.id || ':v' || "        \
	"a.promise_version || ':%')"

static char *dup_or_empty(struct otd_stmt *st, int i)
{
	char *s = conn_column_dup(st, i);
	return s ? s : xstrdup("");
}

enum otd_status store_board_rows(struct otd_conn *c, const char *local_date, int64_t visitor_id,
                                 struct otd_board_row **out, size_t *n, struct otd_error *err)
{
	/* One statement for the whole day (the day's index), one for a
	 * visitor's (the route's index). The open case comes through the
	 * appointment's own key: "+g.state" keeps the planner off the state
	 * index, which would walk every open case of every day. */
#define BOARD_COLS                                                                                 \
	"SELECT a.id, a.visitor_id, a.reference, a.status, a.window_start, a.window_end, "         \
	"a.promise_version, a.risk, coalesce(a.p_late, 0), coalesce(a.expected_arrival, 0), "      \
	"coalesce(a.band_early, 0), coalesce(a.band_late, 0), coalesce(a.risk_reason, ''), "       \
	"a.risk_forced, coalesce(a.risk_changed_at, 0), coalesce(a.arrived_at, 0), "               \
	"coalesce(a.done_at, 0), d.lat, d.lon, c.name, c.phone, c.access_notes, d.line1, "         \
	"d.line2, d.town, d.postcode, t.name, " WARNED_SQL ", coalesce(g.id, 0), "                 \
	"coalesce(g.amount_minor, 0) FROM appointments a JOIN addresses d ON d.id = "              \
	"a.address_id JOIN customers c ON c.id = a.customer_id JOIN visit_types t ON t.id = "      \
	"a.visit_type_id LEFT JOIN guarantee_cases g ON g.id = (SELECT min(g2.id) FROM "           \
	"guarantee_cases g2 WHERE g2.appointment_id = a.id AND +g2.state = 'open') "
	struct otd_stmt *st = conn_prepare(
	    c,
	    visitor_id ? BOARD_COLS "WHERE a.visitor_id = ?2 AND a.local_date = ?1 AND a.status <> "
	                            "'cancelled' ORDER BY a.route_position IS NULL, "
	                            "a.route_position, a.window_start, a.id"
	               : BOARD_COLS "WHERE a.local_date = ?1 AND a.status <> 'cancelled' ORDER BY "
	                            "a.visitor_id, a.route_position IS NULL, a.route_position, "
	                            "a.window_start, a.id",
	    err);
#undef BOARD_COLS
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, local_date);
	if(visitor_id)
		db_bind_int64(st, 2, visitor_id);
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_board_row *r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->appointment_id = db_column_int64(st, 0);
		r->visitor_id = db_column_int64(st, 1);
		conn_column_copy(r->reference, sizeof(r->reference), st, 2);
		conn_column_copy(r->status, sizeof(r->status), st, 3);
		r->window_start = db_column_int64(st, 4);
		r->window_end = db_column_int64(st, 5);
		r->promise_version = db_column_int(st, 6);
		conn_column_copy(r->risk.risk, sizeof(r->risk.risk), st, 7);
		r->risk.p_late = db_column_double(st, 8);
		r->risk.expected_arrival = db_column_int64(st, 9);
		r->risk.band_early = db_column_int64(st, 10);
		r->risk.band_late = db_column_int64(st, 11);
		conn_column_copy(r->risk.reason, sizeof(r->risk.reason), st, 12);
		r->risk.forced = db_column_int(st, 13) != 0;
		r->risk.changed_at = db_column_int64(st, 14);
		r->arrived_at = db_column_int64(st, 15);
		r->done_at = db_column_int64(st, 16);
		r->lat = db_column_double(st, 17);
		r->lon = db_column_double(st, 18);
		r->customer_name = dup_or_empty(st, 19);
		r->phone = conn_column_dup(st, 20);
		r->access_notes = dup_or_empty(st, 21);
		r->line1 = dup_or_empty(st, 22);
		r->line2 = dup_or_empty(st, 23);
		r->town = dup_or_empty(st, 24);
		r->postcode = dup_or_empty(st, 25);
		r->visit_type = dup_or_empty(st, 26);
		r->warned = db_column_int(st, 27) != 0;
		r->case_id = db_column_int64(st, 28);
		r->case_amount = db_column_int64(st, 29);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		store_board_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "board rows", err);
	}
	return OTD_OK;
}

void store_board_rows_free(struct otd_board_row *rows, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		struct otd_board_row *r = &rows[i];
		free(r->customer_name);
		free(r->phone);
		free(r->access_notes);
		free(r->line1);
		free(r->line2);
		free(r->town);
		free(r->postcode);
		free(r->visit_type);
	}
	free(rows);
}

enum otd_status store_board_counts(struct otd_conn *c, const char *local_date,
                                   struct otd_board_counts *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT count(*), coalesce(sum(a.arrived_at IS NOT NULL AND a.arrived_at < "
	    "a.window_end), 0), coalesce(sum(" WARNED_SQL "), 0), (SELECT count(*) FROM "
	    "guarantee_cases WHERE state = 'open') FROM appointments a WHERE a.local_date = ?1 AND "
	    "a.status <> 'cancelled'",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, local_date);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->booked = db_column_int(st, 0);
		out->kept = db_column_int(st, 1);
		out->warned = db_column_int(st, 2);
		out->open_cases = db_column_int(st, 3);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "board counts", err);
	return OTD_OK;
}

enum otd_status store_appointment_messages(struct otd_conn *c, int64_t appointment_id,
                                           struct otd_message_row **out, size_t *n,
                                           struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT o.id, o.channel, o.template, o.state, o.attempts, o.created_at, o.due_at, "
	    "coalesce(o.sent_at, 0), coalesce(o.provider, ''), coalesce(o.last_error, ''), "
	    "coalesce(r.status, ''), coalesce(r.received_at, 0) FROM outbox o LEFT JOIN "
	    "delivery_receipts r ON r.id = (SELECT max(id) FROM delivery_receipts WHERE outbox_id "
	    "= "
	    "o.id) WHERE o.appointment_id = ?1 ORDER BY o.created_at, o.id",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_message_row *m = &(*out)[(*n)++];
		memset(m, 0, sizeof(*m));
		m->id = db_column_int64(st, 0);
		conn_column_copy(m->channel, sizeof(m->channel), st, 1);
		conn_column_copy(m->template_name, sizeof(m->template_name), st, 2);
		conn_column_copy(m->state, sizeof(m->state), st, 3);
		m->attempts = db_column_int(st, 4);
		m->created_at = db_column_int64(st, 5);
		m->due_at = db_column_int64(st, 6);
		m->sent_at = db_column_int64(st, 7);
		conn_column_copy(m->provider, sizeof(m->provider), st, 8);
		m->last_error = conn_column_dup(st, 9);
		m->receipt_status = conn_column_dup(st, 10);
		m->receipt_at = db_column_int64(st, 11);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		store_message_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "appointment messages", err);
	}
	return OTD_OK;
}

void store_message_rows_free(struct otd_message_row *rows, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		free(rows[i].last_error);
		free(rows[i].receipt_status);
	}
	free(rows);
}

enum otd_status store_inbox(struct otd_conn *c, size_t max, struct otd_inbox_item **out, size_t *n,
                            struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT * FROM (SELECT t.kind, t.id, t.appointment_id, a.reference, cu.name, cu.phone, "
	    "t.note, '', t.created_at FROM tasks t JOIN appointments a ON a.id = t.appointment_id "
	    "JOIN customers cu ON cu.id = a.customer_id WHERE t.state = 'open' ORDER BY "
	    "t.created_at, t.id LIMIT ?1) AS open_tasks UNION ALL SELECT * FROM (SELECT 'message', "
	    "m.id, "
	    "coalesce(m.appointment_id, 0), coalesce(a.reference, ''), coalesce(cu.name, ''), "
	    "m.sender, m.body, m.outcome, m.received_at FROM inbound_messages m LEFT JOIN "
	    "appointments a ON a.id = m.appointment_id LEFT JOIN customers cu ON cu.id = "
	    "m.customer_id WHERE m.state = 'open' AND m.outcome IN ('inbox', 'unknown_sender', "
	    "'offer_gone') ORDER BY m.received_at, m.id LIMIT ?1) AS open_messages",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, (int64_t)max);
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_inbox_item *m = &(*out)[(*n)++];
		memset(m, 0, sizeof(*m));
		conn_column_copy(m->kind, sizeof(m->kind), st, 0);
		m->id = db_column_int64(st, 1);
		m->appointment_id = db_column_int64(st, 2);
		conn_column_copy(m->reference, sizeof(m->reference), st, 3);
		m->customer_name = conn_column_dup(st, 4);
		m->phone = conn_column_dup(st, 5);
		m->text = conn_column_dup(st, 6);
		conn_column_copy(m->outcome, sizeof(m->outcome), st, 7);
		m->at = db_column_int64(st, 8);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		store_inbox_free(*out, *n);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "inbox", err);
	}
	return OTD_OK;
}

void store_inbox_free(struct otd_inbox_item *items, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		free(items[i].customer_name);
		free(items[i].phone);
		free(items[i].text);
	}
	free(items);
}

enum otd_status store_inbox_done(struct otd_conn *tx, bool message, int64_t id, int64_t now,
                                 struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    message
	        ? "UPDATE inbound_messages SET state = 'done' WHERE id = ?1 AND state = 'open' "
	          "AND outcome IN ('inbox', 'unknown_sender', 'offer_gone')"
	        : "UPDATE tasks SET state = 'done', done_at = ?2 WHERE id = ?1 AND state = 'open'",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	if(!message)
		db_bind_int64(st, 2, now);
	enum otd_status s = conn_step_done(tx, st, "inbox done", err);
	if(s)
		return s;
	if(conn_changes(tx) == 0)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no such open item in the inbox.");
	return OTD_OK;
}

enum otd_status store_messages_since(struct otd_conn *c, int64_t appointment_id,
                                     const char *event_part, int64_t since, int *count,
                                     struct otd_error *err)
{
	*count = 0;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT count(*) FROM outbox WHERE appointment_id = ?1 AND "
	                 "created_at >= ?2 AND instr(event_key, ?3) > 0",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, since);
	db_bind_text(st, 3, event_part);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*count = db_column_int(st, 0);
	conn_done(st);
	return rc == DB_ROW ? OTD_OK : conn_fail(c, rc, "recent messages", err);
}
