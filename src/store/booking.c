/* Customers, appointments, holds, links, outbox and waitlist. */
#include "store/booking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

/* ---- customers --------------------------------------------------------- */

/* A contact is its phone and email together: a booking that gives the same
 * pair is the same contact (its name and access notes are updated); any
 * other pair is a new contact. Never matching on one of the two keeps a
 * booking from changing the phone or email of someone else's contact (and
 * with it where "send me a new link" sends their link). */
static const char sql_cust_pair[] =
    "SELECT id FROM customers WHERE phone IS ?1 AND email IS ?2 AND erased_at IS NULL "
    "ORDER BY id LIMIT 1";

enum otd_status store_customer_insert(struct otd_conn *tx, struct otd_customer *c, int64_t now,
                                      struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO customers(name, phone, email, access_notes, "
	                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, c->name);
	conn_bind_text(st, 2, c->phone[0] ? c->phone : NULL);
	conn_bind_text(st, 3, c->email[0] ? c->email : NULL);
	db_bind_text(st, 4, c->access_notes ? c->access_notes : "");
	db_bind_int64(st, 5, now);
	enum otd_status s = conn_step_done(tx, st, "save customer", err);
	if(s == OTD_OK)
		c->id = conn_last_id(tx);
	return s;
}

enum otd_status store_customer_upsert(struct otd_conn *tx, struct otd_customer *c, int64_t now,
                                      struct otd_error *err)
{
	int64_t id = 0;
	struct otd_stmt *st = conn_prepare(tx, sql_cust_pair, err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, c->phone[0] ? c->phone : NULL);
	conn_bind_text(st, 2, c->email[0] ? c->email : NULL);
	int rc = db_step(st);
	if(rc == DB_ROW)
		id = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(tx, rc, "find customer", err);
	if(!id)
		return store_customer_insert(tx, c, now, err);
	st = conn_prepare(tx, "UPDATE customers SET name = ?1, access_notes = ?2 WHERE id = ?3",
	                  err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, c->name);
	db_bind_text(st, 2, c->access_notes ? c->access_notes : "");
	db_bind_int64(st, 3, id);
	enum otd_status s = conn_step_done(tx, st, "save customer", err);
	if(s == OTD_OK)
		c->id = id;
	return s;
}

enum otd_status store_customer_get(struct otd_conn *c, int64_t id, struct otd_customer *out,
                                   struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT name, phone, email, access_notes FROM customers WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->id = id;
		out->name = conn_column_dup(st, 0);
		conn_column_copy(out->phone, sizeof(out->phone), st, 1);
		conn_column_copy(out->email, sizeof(out->email), st, 2);
		out->access_notes = conn_column_dup(st, 3);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "No such customer.");
	return conn_fail(c, rc, "read customer", err);
}

/* ---- appointments ------------------------------------------------------- */

enum otd_status store_appointment_insert(struct otd_conn *tx, struct otd_appointment *a,
                                         int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, promise_version, status, "
	    "consent_sms, consent_email, booked_by, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 'booked', ?9, ?10, ?11, ?12, ?12) "
	    "ON CONFLICT (reference) DO NOTHING",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, a->reference);
	db_bind_int64(st, 2, a->customer_id);
	db_bind_int64(st, 3, a->address_id);
	db_bind_int64(st, 4, a->visit_type_id);
	db_bind_int64(st, 5, a->visitor_id);
	db_bind_text(st, 6, a->local_date);
	db_bind_int64(st, 7, a->window_start);
	db_bind_int64(st, 8, a->window_end);
	db_bind_int(st, 9, a->consent_sms);
	db_bind_int(st, 10, a->consent_email);
	db_bind_text(st, 11, a->booked_by[0] ? a->booked_by : "customer");
	db_bind_int64(st, 12, now);
	int rc = db_step(st);
	conn_done(st);
	/* A reference taken inserts nothing (ON CONFLICT DO NOTHING): the
	 * caller draws another in the same transaction, which a failed
	 * statement would end under PostgreSQL. */
	if(rc == DB_CONSTRAINT_UNIQUE || (rc == DB_DONE && conn_changes(tx) == 0))
		return otd_error_set(err, OTD_ECONFLICT, "reference_taken", NULL,
		                     "The reference is taken.");
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "insert appointment", err);
	a->id = conn_last_id(tx);
	a->promise_version = 1;
	snprintf(a->status, sizeof(a->status), "booked");
	a->created_at = a->updated_at = now;
	return OTD_OK;
}

#define APPT_COLS                                                                              \
	"SELECT id, reference, customer_id, address_id, visit_type_id, coalesce(visitor_id, 0), "  \
	"local_date, window_start, window_end, promise_version, status, risk, "                    \
	"coalesce(route_position, -1), consent_sms, consent_email, booked_by, created_at, "        \
	"updated_at, coalesce(cancelled_at, 0), coalesce(cancelled_by, ''), "                      \
	"coalesce(cancel_notice_s, 0) FROM appointments "

static void read_appointment(struct otd_stmt *st, struct otd_appointment *a)
{
	memset(a, 0, sizeof(*a));
	a->id = db_column_int64(st, 0);
	conn_column_copy(a->reference, sizeof(a->reference), st, 1);
	a->customer_id = db_column_int64(st, 2);
	a->address_id = db_column_int64(st, 3);
	a->visit_type_id = db_column_int64(st, 4);
	a->visitor_id = db_column_int64(st, 5);
	conn_column_copy(a->local_date, sizeof(a->local_date), st, 6);
	a->window_start = db_column_int64(st, 7);
	a->window_end = db_column_int64(st, 8);
	a->promise_version = db_column_int(st, 9);
	conn_column_copy(a->status, sizeof(a->status), st, 10);
	conn_column_copy(a->risk, sizeof(a->risk), st, 11);
	a->route_position = db_column_int(st, 12);
	a->consent_sms = db_column_int(st, 13) != 0;
	a->consent_email = db_column_int(st, 14) != 0;
	conn_column_copy(a->booked_by, sizeof(a->booked_by), st, 15);
	a->created_at = db_column_int64(st, 16);
	a->updated_at = db_column_int64(st, 17);
	a->cancelled_at = db_column_int64(st, 18);
	conn_column_copy(a->cancelled_by, sizeof(a->cancelled_by), st, 19);
	a->cancel_notice_s = db_column_int64(st, 20);
}

static enum otd_status one_appointment(struct otd_conn *c, struct otd_stmt *st,
                                       struct otd_appointment *out, struct otd_error *err)
{
	int rc = db_step(st);
	if(rc == DB_ROW)
		read_appointment(st, out);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no such appointment.");
	return conn_fail(c, rc, "read appointment", err);
}

enum otd_status store_appointment_get(struct otd_conn *c, int64_t id, struct otd_appointment *out,
                                      struct otd_error *err)
{
	static const char sql[] = APPT_COLS "WHERE id = ?1";
	struct otd_stmt *st = conn_prepare(c, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	return one_appointment(c, st, out, err);
}

enum otd_status store_appointment_by_reference(struct otd_conn *c, const char *reference,
                                               struct otd_appointment *out, struct otd_error *err)
{
	static const char sql[] = APPT_COLS "WHERE reference = ?1";
	struct otd_stmt *st = conn_prepare(c, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, reference);
	return one_appointment(c, st, out, err);
}

enum otd_status store_appointment_open_for(struct otd_conn *c, int64_t customer_id,
                                           int64_t visit_type_id, int64_t now,
                                           struct otd_appointment *out, struct otd_error *err)
{
	static const char sql[] = APPT_COLS
	    "WHERE customer_id = ?1 AND visit_type_id = ?2 AND status IN ('booked', "
	    "'travelling', 'arrived') AND window_end > ?3 ORDER BY window_start LIMIT 1";
	struct otd_stmt *st = conn_prepare(c, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	db_bind_int64(st, 2, visit_type_id);
	db_bind_int64(st, 3, now);
	enum otd_status s = one_appointment(c, st, out, err);
	if(s == OTD_ENOTFOUND)
		otd_error_clear(err);
	return s;
}

enum otd_status store_appointment_move(struct otd_conn *tx, int64_t id, int64_t visitor_id,
                                       const char *local_date, int64_t start, int64_t end,
                                       int promise_version, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE appointments SET visitor_id = ?2, local_date = ?3, "
	                 "window_start = ?4, window_end = ?5, promise_version = ?6, "
	                 "risk = 'ok', p_late = NULL, expected_arrival = NULL, band_early = NULL, "
	                 "band_late = NULL, risk_reason = NULL, risk_forced = 0, "
	                 "risk_changed_at = NULL, updated_at = max(?7, created_at) "
	                 "WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, visitor_id);
	db_bind_text(st, 3, local_date);
	db_bind_int64(st, 4, start);
	db_bind_int64(st, 5, end);
	db_bind_int(st, 6, promise_version);
	db_bind_int64(st, 7, now);
	return conn_step_done(tx, st, "move appointment", err);
}

enum otd_status store_appointment_cancel(struct otd_conn *tx, int64_t id, const char *by,
                                         const char *reason, int64_t notice_s, int64_t now,
                                         struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE appointments SET status = 'cancelled', cancelled_at = "
	                 "?2, cancelled_by = ?3, cancel_reason = ?4, cancel_notice_s = "
	                 "?5, route_position = NULL, updated_at = max(?2, created_at) "
	                 "WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, by);
	conn_bind_text(st, 4, reason && reason[0] ? reason : NULL);
	db_bind_int64(st, 5, notice_s);
	return conn_step_done(tx, st, "cancel appointment", err);
}

enum otd_status store_appointment_search(struct otd_conn *c, const struct otd_appointment_filter *f,
                                         int64_t **ids, size_t *n, struct otd_error *err)
{
	/* One statement for every filter combination: unused filters are NULL
	 * and drop out. The query matches a reference exactly, a postcode
	 * without spaces, a phone or email exactly, or a name by prefix. */
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT a.id FROM appointments a JOIN customers c ON c.id = a.customer_id "
	    "JOIN addresses d ON d.id = a.address_id WHERE a.id > ?1 "
	    "AND (CAST(?2 AS TEXT) IS NULL OR a.local_date = ?2) AND (?3 = 0 OR a.visitor_id = ?3) "
	    "AND (CAST(?4 AS TEXT) IS NULL OR a.status = ?4) "
	    "AND (CAST(?5 AS TEXT) IS NULL OR a.reference = upper(?5) OR d.postcode_norm = "
	    "upper(replace(?5, ' ', '')) OR c.phone = ?6 OR lower(c.email) = lower(?5) "
	    "OR lower(c.name) LIKE lower(?7) ESCAPE '\\') "
	    "ORDER BY a.id LIMIT ?8",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, f->after_id);
	conn_bind_text(st, 2, f->local_date);
	db_bind_int64(st, 3, f->visitor_id);
	conn_bind_text(st, 4, f->status);
	conn_bind_text(st, 5, f->query);
	conn_bind_text(st, 6, f->query);
	char *like = NULL;
	if(f->query) {
		/* A name prefix, with LIKE's own characters escaped. */
		struct otd_buf b;
		otd_buf_init(&b, 0);
		for(const char *p = f->query; *p; p++) {
			if(*p == '%' || *p == '_' || *p == '\\')
				otd_buf_append(&b, "\\", 1);
			otd_buf_append(&b, p, 1);
		}
		otd_buf_append(&b, "%", 1);
		like = otd_buf_steal(&b);
	}
	conn_bind_text(st, 7, like);
	db_bind_int(st, 8, f->limit);
	*ids = xcalloc((size_t)(f->limit > 0 ? f->limit : 1), sizeof(**ids));
	*n = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW)
		(*ids)[(*n)++] = db_column_int64(st, 0);
	conn_done(st);
	free(like);
	if(rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return conn_fail(c, rc, "search appointments", err);
	}
	return OTD_OK;
}

/* ---- routes -------------------------------------------------------------- */

enum otd_status store_route_items(struct otd_conn *c, int64_t visitor_id, const char *local_date,
                                  int64_t now, struct otd_route_item **out, size_t *n,
                                  struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT 0, a.id, 0, d.lat, d.lon, a.window_start, a.window_end, t.duration_median_min, "
	    "t.duration_spread, coalesce(a.route_position, -1), a.route_position IS NULL, 0, "
	    "a.visit_type_id FROM appointments a "
	    "JOIN addresses d ON d.id = a.address_id JOIN visit_types t ON t.id = a.visit_type_id "
	    "WHERE a.visitor_id = ?1 AND a.local_date = ?2 AND a.status IN ('booked', "
	    "'travelling', 'arrived') "
	    "UNION ALL "
	    "SELECT 1, h.id, coalesce(h.for_appointment, 0), d.lat, d.lon, h.window_start, "
	    "h.window_end, t.duration_median_min, t.duration_spread, coalesce(h.route_position, "
	    "-1), "
	    "h.route_position IS NULL, h.expires_at, h.visit_type_id FROM holds h JOIN addresses d "
	    "ON d.id = h.address_id JOIN visit_types t ON t.id = "
	    "h.visit_type_id WHERE h.visitor_id = ?1 AND h.local_date = ?2 AND h.expires_at > ?3",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_text(st, 2, local_date);
	db_bind_int64(st, 3, now);
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_route_item *it = &(*out)[(*n)++];
		it->kind = db_column_int(st, 0) ? OTD_ITEM_HOLD : OTD_ITEM_VISIT;
		it->id = db_column_int64(st, 1);
		it->for_appointment = db_column_int64(st, 2);
		it->lat = db_column_double(st, 3);
		it->lon = db_column_double(st, 4);
		it->window_start = db_column_int64(st, 5);
		it->window_end = db_column_int64(st, 6);
		it->median_min = db_column_double(st, 7);
		it->spread = db_column_double(st, 8);
		it->route_position = db_column_int(st, 9);
		it->expires_at = db_column_int64(st, 11);
		it->visit_type_id = db_column_int64(st, 12);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "load route", err);
	}
	/* Sorted here, not by an ORDER BY: over a UNION ALL SQLite sorts each
	 * half in a temporary b-tree of its own, opened and freed on every call,
	 * and this runs inside every hold's and booking's write job. */
	if(*n > 1)
		qsort(*out, *n, sizeof(**out), store_route_item_cmp);
	return OTD_OK;
}

int store_route_item_cmp(const void *a, const void *b)
{
	/* The order a route is kept in: positioned first (a NULL position
	 * reads as -1), then position, window start, id. */
	const struct otd_route_item *x = a, *y = b;
	bool xn = x->route_position < 0, yn = y->route_position < 0;
	if(xn != yn)
		return xn ? 1 : -1;
	if(x->route_position != y->route_position)
		return x->route_position < y->route_position ? -1 : 1;
	if(x->window_start != y->window_start)
		return x->window_start < y->window_start ? -1 : 1;
	if(x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

enum otd_status store_route_order(struct otd_conn *tx, const struct otd_route_item *items,
                                  size_t n, struct otd_error *err)
{
	for(size_t i = 0; i < n; i++) {
		struct otd_stmt *st =
		    conn_prepare(tx,
		                 items[i].kind == OTD_ITEM_VISIT
		                     ? "UPDATE appointments SET route_position = ?2 WHERE id = ?1"
		                     : "UPDATE holds SET route_position = ?2 WHERE id = ?1",
		                 err);
		if(!st)
			return OTD_EIO;
		db_bind_int64(st, 1, items[i].id);
		db_bind_int(st, 2, items[i].route_position);
		enum otd_status s = conn_step_done(tx, st, "order route", err);
		if(s)
			return s;
	}
	return OTD_OK;
}

/* ---- holds ------------------------------------------------------------- */

#define HOLD_COLS                                                                                  \
	"SELECT id, visitor_id, visit_type_id, address_id, local_date, window_start, "             \
	"window_end, client_key, coalesce(for_appointment, 0), purpose, created_at, expires_at "

static void read_hold(struct otd_stmt *st, struct otd_hold *out)
{
	memset(out, 0, sizeof(*out));
	out->id = db_column_int64(st, 0);
	out->visitor_id = db_column_int64(st, 1);
	out->visit_type_id = db_column_int64(st, 2);
	out->address_id = db_column_int64(st, 3);
	conn_column_copy(out->local_date, sizeof(out->local_date), st, 4);
	out->window_start = db_column_int64(st, 5);
	out->window_end = db_column_int64(st, 6);
	conn_column_copy(out->client_key, sizeof(out->client_key), st, 7);
	out->for_appointment = db_column_int64(st, 8);
	conn_column_copy(out->purpose, sizeof(out->purpose), st, 9);
	out->created_at = db_column_int64(st, 10);
	out->expires_at = db_column_int64(st, 11);
}

enum otd_status store_hold_insert(struct otd_conn *tx, struct otd_hold *h,
                                  const unsigned char hash[32], struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, window_start, "
	    "window_end, client_key, token_hash, for_appointment, purpose, created_at, expires_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, h->visitor_id);
	db_bind_int64(st, 2, h->visit_type_id);
	db_bind_int64(st, 3, h->address_id);
	db_bind_text(st, 4, h->local_date);
	db_bind_int64(st, 5, h->window_start);
	db_bind_int64(st, 6, h->window_end);
	db_bind_text(st, 7, h->client_key);
	db_bind_blob(st, 8, hash, 32);
	if(h->for_appointment)
		db_bind_int64(st, 9, h->for_appointment);
	else
		db_bind_null(st, 9);
	db_bind_text(st, 10, h->purpose[0] ? h->purpose : "booking");
	db_bind_int64(st, 11, h->created_at);
	db_bind_int64(st, 12, h->expires_at);
	enum otd_status s = conn_step_done(tx, st, "insert hold", err);
	if(s == OTD_OK)
		h->id = conn_last_id(tx);
	return s;
}

enum otd_status store_hold_by_hash(struct otd_conn *c, const unsigned char hash[32], int64_t now,
                                   struct otd_hold *out, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, HOLD_COLS "FROM holds WHERE token_hash = ?1 AND expires_at > ?2", err);
	if(!st)
		return OTD_EIO;
	db_bind_blob(st, 1, hash, 32);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW)
		read_hold(st, out);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "hold_expired", "hold",
		                     "This window is no longer held for you (it expired); choose a "
		                     "window again.");
	return conn_fail(c, rc, "read hold", err);
}

enum otd_status store_hold_delete(struct otd_conn *tx, int64_t id, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx, "DELETE FROM holds WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	return conn_step_done(tx, st, "delete hold", err);
}

enum otd_status store_holds_drop_offers(struct otd_conn *tx, int64_t appointment_id,
                                        const char *purpose, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx, "DELETE FROM holds WHERE for_appointment = ?1 AND purpose = ?2", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_text(st, 2, purpose);
	return conn_step_done(tx, st, "drop offers", err);
}

enum otd_status store_holds_live(struct otd_conn *c, const char *client_key, int64_t now,
                                 int64_t *n, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT count(*) FROM holds WHERE client_key = ?1 AND expires_at > ?2", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, client_key);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*n = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "count holds", err);
	return OTD_OK;
}

enum otd_status store_holds_expire(struct otd_conn *tx, int64_t now, int64_t keep, int64_t *n,
                                   struct otd_error *err)
{
	/* A waitlist offer that lapsed leaves the customer waiting again. */
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE waitlist SET state = 'waiting', offered_hold = NULL, "
	                 "updated_at = max(?1, created_at) WHERE state = 'offered' AND "
	                 "offered_hold IN (SELECT id FROM holds WHERE expires_at <= ?1)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	enum otd_status s = conn_step_done(tx, st, "expire offers", err);
	if(s)
		return s;
	st = conn_prepare(tx, "DELETE FROM holds WHERE expires_at <= ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now - keep);
	s = conn_step_done(tx, st, "expire holds", err);
	if(s == OTD_OK)
		*n = conn_changes(tx);
	return s;
}

enum otd_status store_hold_offers(struct otd_conn *c, int64_t appointment_id, int64_t now,
                                  struct otd_hold *out, size_t max, size_t *n,
                                  struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT id, visitor_id, visit_type_id, address_id, local_date, window_start, "
	    "window_end, "
	    "purpose, created_at, expires_at FROM holds WHERE for_appointment = ?1 AND expires_at "
	    "> "
	    "?2 AND purpose IN ('waitlist_offer', 'apology_offer') ORDER BY window_start",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, now);
	*n = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max) {
		struct otd_hold *h = &out[(*n)++];
		memset(h, 0, sizeof(*h));
		h->id = db_column_int64(st, 0);
		h->visitor_id = db_column_int64(st, 1);
		h->visit_type_id = db_column_int64(st, 2);
		h->address_id = db_column_int64(st, 3);
		conn_column_copy(h->local_date, sizeof(h->local_date), st, 4);
		h->window_start = db_column_int64(st, 5);
		h->window_end = db_column_int64(st, 6);
		conn_column_copy(h->purpose, sizeof(h->purpose), st, 7);
		h->created_at = db_column_int64(st, 8);
		h->expires_at = db_column_int64(st, 9);
		h->for_appointment = appointment_id;
	}
	conn_done(st);
	if(rc != DB_DONE && rc != DB_ROW)
		return conn_fail(c, rc, "read offers", err);
	return OTD_OK;
}

enum otd_status store_hold_get(struct otd_conn *c, int64_t id, int64_t now, struct otd_hold *out,
                               struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, HOLD_COLS "FROM holds WHERE id = ?1 AND expires_at > ?2", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW)
		read_hold(st, out);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "hold_expired", "hold",
		                     "This window is no longer held for you (it expired).");
	return conn_fail(c, rc, "read hold", err);
}

/* ---- links --------------------------------------------------------------- */

enum otd_status store_link_insert(struct otd_conn *tx, int64_t appointment_id,
                                  const unsigned char hash[32], int64_t now, int64_t expires_at,
                                  struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO appointment_links(appointment_id, token_hash, "
	                 "created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_blob(st, 2, hash, 32);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, expires_at > now ? expires_at : now + 1);
	return conn_step_done(tx, st, "insert link", err);
}

enum otd_status store_link_lookup(struct otd_conn *c, const unsigned char hash[32], int64_t now,
                                  int64_t *appointment_id, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT appointment_id FROM appointment_links WHERE "
	                 "token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_blob(st, 1, hash, 32);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*appointment_id = db_column_int64(st, 0);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(c, rc, "read link", err);
}

enum otd_status store_links_revoke(struct otd_conn *tx, int64_t appointment_id, int64_t now,
                                   struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx,
	                                   "UPDATE appointment_links SET revoked_at = ?2 WHERE "
	                                   "appointment_id = ?1 AND revoked_at IS NULL",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, now);
	return conn_step_done(tx, st, "revoke links", err);
}

enum otd_status store_links_expire_at(struct otd_conn *tx, int64_t appointment_id,
                                      int64_t expires_at, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE appointment_links SET expires_at = max(?2, created_at "
	                 "+ 1) WHERE appointment_id = ?1 AND revoked_at IS NULL",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, expires_at);
	return conn_step_done(tx, st, "move link expiry", err);
}

/* ---- outbox -------------------------------------------------------------- */

enum otd_status store_outbox_insert(struct otd_conn *tx, struct otd_outbox_row *row, int64_t now,
                                    struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO outbox(idem_key, appointment_id, customer_id, "
	                 "channel, template, payload, due_at, created_at, event_key, "
	                 "fallback_of, recipient) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	                 "?10, ?11)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, row->idem_key);
	if(row->appointment_id)
		db_bind_int64(st, 2, row->appointment_id);
	else
		db_bind_null(st, 2);
	if(row->customer_id)
		db_bind_int64(st, 3, row->customer_id);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, row->channel);
	db_bind_text(st, 5, row->template);
	db_bind_text(st, 6, row->payload);
	db_bind_int64(st, 7, row->due_at);
	db_bind_int64(st, 8, now);
	conn_bind_text(st, 9, row->event_key);
	if(row->fallback_of)
		db_bind_int64(st, 10, row->fallback_of);
	conn_bind_text(st, 11, row->recipient);
	enum otd_status s = conn_step_done(tx, st, "queue message", err);
	if(s == OTD_OK) {
		row->id = conn_last_id(tx);
		tx->outbox_dirty = true;
	}
	return s;
}

/* ---- waitlist ------------------------------------------------------------ */

enum otd_status store_waitlist_set(struct otd_conn *tx, int64_t appointment_id, bool on,
                                   int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    on ? "INSERT INTO waitlist(appointment_id, created_at, updated_at) VALUES (?1, ?2, ?2) "
	         "ON CONFLICT (appointment_id) DO UPDATE SET state = 'waiting', offered_hold = "
	         "NULL, "
	         "updated_at = max(?2, waitlist.created_at) WHERE waitlist.state <> 'waiting'"
	       : "UPDATE waitlist SET state = 'withdrawn', updated_at = max(?2, created_at) WHERE "
	         "appointment_id = ?1 AND state IN ('waiting', 'offered')",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, now);
	return conn_step_done(tx, st, "waitlist", err);
}

enum otd_status store_waitlist_done(struct otd_conn *tx, int64_t appointment_id, int64_t now,
                                    struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE waitlist SET state = 'done', offered_hold = NULL, "
	                 "updated_at = max(?2, created_at) WHERE appointment_id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, now);
	return conn_step_done(tx, st, "waitlist done", err);
}

enum otd_status store_waitlist_waiting(struct otd_conn *c, int64_t **ids, size_t *n,
                                       struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT appointment_id FROM waitlist WHERE state = 'waiting' ORDER BY created_at, id",
	    err);
	if(!st)
		return OTD_EIO;
	*ids = NULL;
	*n = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = db_column_int64(st, 0);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return conn_fail(c, rc, "read waitlist", err);
	}
	return OTD_OK;
}

enum otd_status store_waitlist_offered(struct otd_conn *tx, int64_t appointment_id,
                                       int64_t hold_id, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE waitlist SET state = 'offered', offered_hold = ?2, "
	                 "updated_at = max(?3, created_at) WHERE appointment_id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, hold_id);
	db_bind_int64(st, 3, now);
	return conn_step_done(tx, st, "waitlist offer", err);
}

enum otd_status store_waitlist_state(struct otd_conn *c, int64_t appointment_id, char *state,
                                     size_t size, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, "SELECT state FROM waitlist WHERE appointment_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		conn_column_copy(state, size, st, 0);
	else
		snprintf(state, size, "none");
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "waitlist state", err);
	return OTD_OK;
}
