/* The simulator's reads (sim.h). */
#include "store/sim.h"

#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

/* Grows *rows (of size sz) to hold one more; returns the new slot, zeroed. */
static void *grow(void **rows, size_t *n, size_t *cap, size_t sz)
{
	if(*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*rows = xrealloc(*rows, *cap * sz);
	}
	void *r = (char *)*rows + (*n)++ * sz;
	memset(r, 0, sz);
	return r;
}

enum otd_status store_sim_appointments(struct otd_conn *c, struct otd_sim_appt **out, size_t *n,
                                       struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT id, customer_id, coalesce(visitor_id, 0), reference, local_date, window_start, "
	    "window_end, promise_version, status, coalesce(arrived_at, 0), coalesce(done_at, 0), "
	    "coalesce(cancelled_at, 0) FROM appointments ORDER BY id",
	    err);
	if(!st)
		return OTD_EIO;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		struct otd_sim_appt *a = grow((void **)out, n, &cap, sizeof(**out));
		a->id = db_column_int64(st, 0);
		a->customer_id = db_column_int64(st, 1);
		a->visitor_id = db_column_int64(st, 2);
		conn_column_copy(a->reference, sizeof(a->reference), st, 3);
		conn_column_copy(a->local_date, sizeof(a->local_date), st, 4);
		a->window_start = db_column_int64(st, 5);
		a->window_end = db_column_int64(st, 6);
		a->promise_version = db_column_int(st, 7);
		conn_column_copy(a->status, sizeof(a->status), st, 8);
		a->arrived_at = db_column_int64(st, 9);
		a->done_at = db_column_int64(st, 10);
		a->cancelled_at = db_column_int64(st, 11);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "simulated appointments", err);
	}
	return OTD_OK;
}

enum otd_status store_sim_events(struct otd_conn *c, struct otd_sim_event **out, size_t *n,
                                 struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT appointment_id, kind, received_at, detail FROM appointment_events WHERE kind "
	    "IN "
	    "('at_risk', 'apology', 'notice', 'reassigned', 'rescheduled') ORDER BY id",
	    err);
	if(!st)
		return OTD_EIO;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		struct otd_sim_event *e = grow((void **)out, n, &cap, sizeof(**out));
		e->appointment_id = db_column_int64(st, 0);
		conn_column_copy(e->kind, sizeof(e->kind), st, 1);
		e->at = db_column_int64(st, 2);
		e->detail = conn_column_dup(st, 3);
		if(!e->detail)
			e->detail = xstrdup("{}");
	}
	conn_done(st);
	if(rc != DB_DONE) {
		store_sim_events_free(*out, *n);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "simulated events", err);
	}
	return OTD_OK;
}

void store_sim_events_free(struct otd_sim_event *e, size_t n)
{
	for(size_t i = 0; i < n; i++)
		free(e[i].detail);
	free(e);
}

enum otd_status store_sim_messages_after(struct otd_conn *c, int64_t after_id,
                                         struct otd_sim_message **out, size_t *n, int64_t *last,
                                         struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	*last = after_id;
	/* An event key's rows are written together, in one transaction: the
	 * first row's id orders them. */
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT appointment_id, coalesce(customer_id, 0), "
	                 "event_key, template, min(created_at), "
	                 "count(*), min(id), max(id) FROM outbox WHERE id > ?1 AND "
	                 "appointment_id IS NOT NULL AND "
	                 "event_key IS NOT NULL GROUP BY event_key ORDER BY min(id)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, after_id);
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		struct otd_sim_message *m = grow((void **)out, n, &cap, sizeof(**out));
		m->appointment_id = db_column_int64(st, 0);
		m->customer_id = db_column_int64(st, 1);
		conn_column_copy(m->event_key, sizeof(m->event_key), st, 2);
		conn_column_copy(m->template, sizeof(m->template), st, 3);
		m->created_at = db_column_int64(st, 4);
		m->rows = db_column_int(st, 5);
		int64_t hi = db_column_int64(st, 7);
		if(hi > *last)
			*last = hi;
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "simulated messages", err);
	}
	return OTD_OK;
}

enum otd_status store_sim_messages(struct otd_conn *c, struct otd_sim_message **out, size_t *n,
                                   struct otd_error *err)
{
	int64_t last;
	return store_sim_messages_after(c, 0, out, n, &last, err);
}

enum otd_status store_sim_cases(struct otd_conn *c, struct otd_sim_case **out, size_t *n,
                                struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT appointment_id, promise_version, reason, state, "
	                 "amount_minor, currency FROM guarantee_cases ORDER BY id",
	                 err);
	if(!st)
		return OTD_EIO;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		struct otd_sim_case *g = grow((void **)out, n, &cap, sizeof(**out));
		g->appointment_id = db_column_int64(st, 0);
		g->promise_version = db_column_int(st, 1);
		conn_column_copy(g->reason, sizeof(g->reason), st, 2);
		conn_column_copy(g->state, sizeof(g->state), st, 3);
		g->amount_minor = db_column_int64(st, 4);
		conn_column_copy(g->currency, sizeof(g->currency), st, 5);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "simulated cases", err);
	}
	return OTD_OK;
}
