/* Live tracking queries. */
#include "store/tracking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

enum otd_status store_visitor_day_get(struct otd_conn *c, int64_t visitor_id,
                                      const char *local_date, struct otd_visitor_day *out,
                                      struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->visitor_id = visitor_id;
	snprintf(out->local_date, sizeof(out->local_date), "%s", local_date);
	snprintf(out->state, sizeof(out->state), "not_started");
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT state, coalesce(appointment_id, 0), since, from_lat, "
	                 "from_lon, late_s, coalesce(last_event_at, 0), "
	                 "coalesce(unavailable_reason, ''), silent, break_taken, pos_lat, "
	                 "pos_lon, coalesce(pos_at, 0), coalesce(last_status_at, 0), "
	                 "coalesce(projected_at, 0) FROM "
	                 "visitor_days "
	                 "WHERE visitor_id = ?1 AND local_date = ?2",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_text(st, 2, local_date);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		conn_column_copy(out->state, sizeof(out->state), st, 0);
		out->appointment_id = db_column_int64(st, 1);
		out->since = db_column_int64(st, 2);
		out->has_from = !db_column_is_null(st, 3);
		out->from_lat = db_column_double(st, 3);
		out->from_lon = db_column_double(st, 4);
		out->late_s = db_column_int64(st, 5);
		out->last_event_at = db_column_int64(st, 6);
		conn_column_copy(out->unavailable_reason, sizeof(out->unavailable_reason), st, 7);
		out->silent = db_column_int(st, 8) != 0;
		out->break_taken = db_column_int(st, 9) != 0;
		out->pos_at = db_column_int64(st, 12);
		out->pos_lat = db_column_double(st, 10);
		out->pos_lon = db_column_double(st, 11);
		out->last_status_at = db_column_int64(st, 13);
		out->projected_at = db_column_int64(st, 14);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(c, rc, "read visitor day", err);
}

enum otd_status store_visitor_day_put(struct otd_conn *tx, const struct otd_visitor_day *d,
                                      int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO visitor_days(visitor_id, local_date, state, appointment_id, since, "
	    "from_lat, "
	    "from_lon, late_s, last_event_at, unavailable_reason, silent, updated_at, break_taken, "
	    "pos_lat, pos_lon, pos_at, last_status_at, projected_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT (visitor_id, "
	    "local_date) DO UPDATE "
	    "SET state = excluded.state, appointment_id = excluded.appointment_id, since = "
	    "excluded.since, from_lat = excluded.from_lat, from_lon = excluded.from_lon, late_s = "
	    "excluded.late_s, last_event_at = excluded.last_event_at, unavailable_reason = "
	    "excluded.unavailable_reason, silent = excluded.silent, updated_at = "
	    "excluded.updated_at, "
	    "break_taken = excluded.break_taken, pos_lat = excluded.pos_lat, pos_lon = "
	    "excluded.pos_lon, pos_at = excluded.pos_at, last_status_at = excluded.last_status_at, "
	    "projected_at = excluded.projected_at",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, d->visitor_id);
	db_bind_text(st, 2, d->local_date);
	db_bind_text(st, 3, d->state);
	if(d->appointment_id)
		db_bind_int64(st, 4, d->appointment_id);
	else
		db_bind_null(st, 4);
	db_bind_int64(st, 5, d->since);
	if(d->has_from) {
		db_bind_double(st, 6, d->from_lat);
		db_bind_double(st, 7, d->from_lon);
	} else {
		db_bind_null(st, 6);
		db_bind_null(st, 7);
	}
	db_bind_int64(st, 8, d->late_s);
	if(d->last_event_at)
		db_bind_int64(st, 9, d->last_event_at);
	else
		db_bind_null(st, 9);
	conn_bind_text(st, 10, d->unavailable_reason[0] ? d->unavailable_reason : NULL);
	db_bind_int(st, 11, d->silent ? 1 : 0);
	db_bind_int64(st, 12, now);
	db_bind_int(st, 13, d->break_taken ? 1 : 0);
	if(d->pos_at) {
		db_bind_double(st, 14, d->pos_lat);
		db_bind_double(st, 15, d->pos_lon);
		db_bind_int64(st, 16, d->pos_at);
	} else {
		db_bind_null(st, 14);
		db_bind_null(st, 15);
		db_bind_null(st, 16);
	}
	if(d->last_status_at)
		db_bind_int64(st, 17, d->last_status_at);
	else
		db_bind_null(st, 17);
	if(d->projected_at)
		db_bind_int64(st, 18, d->projected_at);
	else
		db_bind_null(st, 18);
	return conn_step_done(tx, st, "save visitor day", err);
}

enum otd_status store_active_visitors(struct otd_conn *c, const char *local_date, int64_t **ids,
                                      size_t *n, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT DISTINCT visitor_id FROM appointments WHERE local_date "
	                 "= ?1 AND status IN ('booked', 'travelling', 'arrived') ORDER "
	                 "BY visitor_id",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, local_date);
	*ids = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 64;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = db_column_int64(st, 0);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return conn_fail(c, rc, "active visitors", err);
	}
	return OTD_OK;
}

enum otd_status store_client_event_seen(struct otd_conn *c, int64_t visitor_id,
                                        const char *client_id, bool *seen,
                                        struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT EXISTS (SELECT 1 FROM visitor_events WHERE visitor_id = "
	                 "?1 AND client_event_id = ?2) OR EXISTS (SELECT 1 FROM "
	                 "visitor_positions WHERE visitor_id = ?1 AND client_event_id = "
	                 "?2)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_text(st, 2, client_id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*seen = db_column_int(st, 0) != 0;
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "client event", err);
	return OTD_OK;
}

enum otd_status store_visitor_event_insert(struct otd_conn *tx,
                                           const struct otd_visitor_event_row *e,
                                           struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO visitor_events(visitor_id, local_date, kind, appointment_id, received_at, "
	    "claimed_at, actor_kind, actor_id, client_event_id, lat, lon, accuracy_m, detail) "
	    "VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, e->visitor_id);
	db_bind_text(st, 2, e->local_date);
	db_bind_text(st, 3, e->kind);
	if(e->appointment_id)
		db_bind_int64(st, 4, e->appointment_id);
	else
		db_bind_null(st, 4);
	db_bind_int64(st, 5, e->received_at);
	db_bind_int64(st, 6, e->claimed_at);
	db_bind_text(st, 7, e->actor_kind);
	if(e->actor_id)
		db_bind_int64(st, 8, e->actor_id);
	else
		db_bind_null(st, 8);
	conn_bind_text(st, 9, e->client_id);
	if(e->has_position) {
		db_bind_double(st, 10, e->lat);
		db_bind_double(st, 11, e->lon);
		if(e->accuracy >= 0)
			db_bind_double(st, 12, e->accuracy);
		else
			db_bind_null(st, 12);
	} else {
		db_bind_null(st, 10);
		db_bind_null(st, 11);
		db_bind_null(st, 12);
	}
	db_bind_text(st, 13, e->detail ? e->detail : "{}");
	return conn_step_done(tx, st, "keep visitor event", err);
}

enum otd_status store_position_insert(struct otd_conn *tx, int64_t visitor_id, int64_t at,
                                      int64_t received_at, double lat, double lon, double accuracy,
                                      const char *client_id, bool *inserted, struct otd_error *err)
{
	*inserted = false;
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO visitor_positions(visitor_id, at, lat, lon, accuracy_m, client_event_id, "
	    "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (visitor_id, "
	    "client_event_id) WHERE client_event_id IS NOT NULL DO NOTHING",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_int64(st, 2, at);
	db_bind_double(st, 3, lat);
	db_bind_double(st, 4, lon);
	if(accuracy >= 0)
		db_bind_double(st, 5, accuracy);
	else
		db_bind_null(st, 5);
	conn_bind_text(st, 6, client_id);
	db_bind_int64(st, 7, received_at);
	enum otd_status s = conn_step_done(tx, st, "keep position", err);
	if(s == OTD_OK)
		*inserted = conn_changes(tx) > 0;
	return s;
}

enum otd_status store_appointment_status(struct otd_conn *tx, int64_t id, const char *status,
                                         int64_t arrived_at, int64_t done_at, int64_t now,
                                         struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "UPDATE appointments SET status = ?2, arrived_at = CASE WHEN ?3 > 0 THEN ?3 ELSE "
	    "arrived_at END, done_at = CASE WHEN ?4 > 0 THEN ?4 ELSE done_at END, updated_at = "
	    "max(?5, created_at) WHERE id = ?1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, status);
	db_bind_int64(st, 3, arrived_at);
	db_bind_int64(st, 4, done_at);
	db_bind_int64(st, 5, now);
	return conn_step_done(tx, st, "set appointment status", err);
}

static void read_risk(struct otd_stmt *st, int i, struct otd_appointment_risk *r)
{
	memset(r, 0, sizeof(*r));
	conn_column_copy(r->risk, sizeof(r->risk), st, i);
	r->p_late = db_column_double(st, i + 1);
	r->expected_arrival = db_column_int64(st, i + 2);
	r->band_early = db_column_int64(st, i + 3);
	r->band_late = db_column_int64(st, i + 4);
	conn_column_copy(r->reason, sizeof(r->reason), st, i + 5);
	r->forced = db_column_int(st, i + 6) != 0;
	r->changed_at = db_column_int64(st, i + 7);
}

#define RISK_COLS                                                                                  \
	"risk, coalesce(p_late, 0), coalesce(expected_arrival, 0), coalesce(band_early, 0), "      \
	"coalesce(band_late, 0), coalesce(risk_reason, ''), risk_forced, "                         \
	"coalesce(risk_changed_at, 0)"

enum otd_status store_appointment_risk_get(struct otd_conn *c, int64_t id,
                                           struct otd_appointment_risk *out,
                                           struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, "SELECT " RISK_COLS " FROM appointments WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		read_risk(st, 0, out);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "No such appointment.");
	return conn_fail(c, rc, "read risk", err);
}

enum otd_status store_appointment_risk_put(struct otd_conn *tx, int64_t id,
                                           const struct otd_appointment_risk *r, int64_t now,
                                           struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx,
	                                   "UPDATE appointments SET risk = ?2, p_late = ?3, "
	                                   "expected_arrival = ?4, band_early = ?5, "
	                                   "band_late = ?6, risk_reason = ?7, risk_forced = ?8, "
	                                   "risk_changed_at = ?9, updated_at = "
	                                   "max(?10, created_at) WHERE id = ?1",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, r->risk);
	db_bind_double(st, 3, r->p_late < 0 ? 0 : r->p_late > 1 ? 1 : r->p_late);
	db_bind_int64(st, 4, r->expected_arrival);
	db_bind_int64(st, 5, r->band_early);
	db_bind_int64(st, 6, r->band_late);
	conn_bind_text(st, 7, r->reason[0] ? r->reason : NULL);
	db_bind_int(st, 8, r->forced ? 1 : 0);
	if(r->changed_at)
		db_bind_int64(st, 9, r->changed_at);
	else
		db_bind_null(st, 9);
	db_bind_int64(st, 10, now);
	return conn_step_done(tx, st, "save risk", err);
}

enum otd_status store_day_stops(struct otd_conn *c, int64_t visitor_id, const char *local_date,
                                struct otd_day_stop **out, size_t *n, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT a.id, a.reference, a.status, d.lat, d.lon, a.window_start, a.window_end, "
	    "a.visit_type_id, t.duration_median_min, t.duration_spread, coalesce(a.arrived_at, 0), "
	    "coalesce(a.done_at, 0), " RISK_COLS " FROM appointments a JOIN addresses d ON d.id = "
	    "a.address_id JOIN visit_types t ON t.id = a.visit_type_id WHERE a.visitor_id = ?1 AND "
	    "a.local_date = ?2 AND a.status <> 'cancelled' ORDER BY a.route_position IS NULL, "
	    "a.route_position, a.window_start, a.id",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_text(st, 2, local_date);
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_day_stop *s = &(*out)[(*n)++];
		memset(s, 0, sizeof(*s));
		s->appointment_id = db_column_int64(st, 0);
		conn_column_copy(s->reference, sizeof(s->reference), st, 1);
		conn_column_copy(s->status, sizeof(s->status), st, 2);
		s->lat = db_column_double(st, 3);
		s->lon = db_column_double(st, 4);
		s->window_start = db_column_int64(st, 5);
		s->window_end = db_column_int64(st, 6);
		s->visit_type_id = db_column_int64(st, 7);
		s->median_min = db_column_double(st, 8);
		s->spread = db_column_double(st, 9);
		s->arrived_at = db_column_int64(st, 10);
		s->done_at = db_column_int64(st, 11);
		read_risk(st, 12, &s->risk);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "day stops", err);
	}
	return OTD_OK;
}

enum otd_status store_observation_insert(struct otd_conn *tx, const char *kind,
                                         int64_t visitor_id, int64_t visit_type_id, int hour,
                                         double value, int64_t appointment_id, int64_t at,
                                         struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO observations(kind, visitor_id, visit_type_id, hour, "
	                 "value, appointment_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, kind);
	db_bind_int64(st, 2, visitor_id);
	if(visit_type_id)
		db_bind_int64(st, 3, visit_type_id);
	else
		db_bind_null(st, 3);
	if(hour >= 0)
		db_bind_int(st, 4, hour);
	else
		db_bind_null(st, 4);
	db_bind_double(st, 5, value);
	if(appointment_id)
		db_bind_int64(st, 6, appointment_id);
	else
		db_bind_null(st, 6);
	db_bind_int64(st, 7, at);
	return conn_step_done(tx, st, "keep observation", err);
}

enum otd_status store_observations(struct otd_conn *c, const char *kind, int64_t visit_type_id,
                                   int64_t visitor_id, int hour, double *out, size_t max, size_t *n,
                                   struct otd_error *err)
{
	/* One statement per filter, so each walks an index ending in "at". */
	static const char *const sql[2][2][2] = {
	    {{"SELECT value FROM observations WHERE kind = ?1 ORDER BY at DESC, id DESC LIMIT ?4",
	      "SELECT value FROM observations WHERE kind = ?1 AND hour = ?5 ORDER BY at DESC, id "
	      "DESC LIMIT ?4"},
	     {"SELECT value FROM observations WHERE kind = ?1 AND visitor_id = ?3 ORDER BY at DESC, "
	      "id DESC LIMIT ?4",
	      "SELECT value FROM observations WHERE kind = ?1 AND visitor_id = ?3 AND hour = ?5 ORDER "
	      "BY at DESC, id DESC LIMIT ?4"}},
	    {{"SELECT value FROM observations WHERE kind = ?1 AND visit_type_id = ?2 ORDER BY at "
	      "DESC, id DESC LIMIT ?4",
	      "SELECT value FROM observations WHERE kind = ?1 AND visit_type_id = ?2 AND hour = ?5 "
	      "ORDER BY at DESC, id DESC LIMIT ?4"},
	     {"SELECT value FROM observations WHERE kind = ?1 AND visit_type_id = ?2 AND visitor_id = "
	      "?3 ORDER BY at DESC, id DESC LIMIT ?4",
	      "SELECT value FROM observations WHERE kind = ?1 AND visit_type_id = ?2 AND visitor_id = "
	      "?3 AND hour = ?5 ORDER BY at DESC, id DESC LIMIT ?4"}}};
	struct otd_stmt *st =
	    conn_prepare(c, sql[visit_type_id != 0][visitor_id != 0][hour >= 0], err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, kind);
	db_bind_int64(st, 2, visit_type_id);
	db_bind_int64(st, 3, visitor_id);
	db_bind_int64(st, 4, (int64_t)max);
	db_bind_int(st, 5, hour);
	*n = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max)
		out[(*n)++] = db_column_double(st, 0);
	conn_done(st);
	if(rc != DB_DONE && rc != DB_ROW)
		return conn_fail(c, rc, "observations", err);
	return OTD_OK;
}

enum otd_status store_learned_duration_put(struct otd_conn *tx, int64_t visit_type_id,
                                           int64_t visitor_id, size_t n, double median_s,
                                           double sigma, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO learned_durations(visit_type_id, visitor_id, n, median_s, sigma, "
	    "updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (visit_type_id, visitor_id) DO UPDATE SET "
	    "n = "
	    "excluded.n, median_s = excluded.median_s, sigma = excluded.sigma, updated_at = "
	    "excluded.updated_at",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visit_type_id);
	db_bind_int64(st, 2, visitor_id);
	db_bind_int64(st, 3, (int64_t)n);
	db_bind_double(st, 4, median_s);
	db_bind_double(st, 5, sigma);
	db_bind_int64(st, 6, now);
	return conn_step_done(tx, st, "save learned duration", err);
}

enum otd_status store_learned_duration_get(struct otd_conn *c, int64_t visit_type_id,
                                           int64_t visitor_id, size_t *n, double *median_s,
                                           double *sigma, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT n, median_s, sigma FROM learned_durations WHERE "
	                                   "visit_type_id = ?1 AND visitor_id = ?2",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visit_type_id);
	db_bind_int64(st, 2, visitor_id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*n = (size_t)db_column_int64(st, 0);
		*median_s = db_column_double(st, 1);
		*sigma = db_column_double(st, 2);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(c, rc, "read learned duration", err);
}

enum otd_status store_visitor_base(struct otd_conn *c, int64_t visitor_id, double *lat,
                                   double *lon, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, "SELECT base_lat, base_lon FROM visitors WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*lat = db_column_double(st, 0);
		*lon = db_column_double(st, 1);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(c, rc, "read visitor base", err);
}

enum otd_status store_learned_durations(struct otd_conn *c, struct otd_learned_duration **out,
                                        size_t *n, struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT visit_type_id, visitor_id, n, median_s, sigma FROM "
	                 "learned_durations ORDER BY visit_type_id, visitor_id",
	                 err);
	if(!st)
		return OTD_EIO;
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct otd_learned_duration *l = &(*out)[(*n)++];
		l->visit_type_id = db_column_int64(st, 0);
		l->visitor_id = db_column_int64(st, 1);
		l->n = (size_t)db_column_int64(st, 2);
		l->median_s = db_column_double(st, 3);
		l->sigma = db_column_double(st, 4);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "learned durations", err);
	}
	return OTD_OK;
}

enum otd_status store_learned_travel_put(struct otd_conn *tx, int64_t visitor_id, int hour,
                                         size_t n, double factor, double spread, int64_t now,
                                         struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO learned_travel(visitor_id, hour, n, factor, spread, updated_at) VALUES "
	    "(?1, "
	    "?2, ?3, ?4, ?5, ?6) ON CONFLICT (visitor_id, hour) DO UPDATE SET n = excluded.n, "
	    "factor "
	    "= excluded.factor, spread = excluded.spread, updated_at = excluded.updated_at",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_int(st, 2, hour);
	db_bind_int64(st, 3, (int64_t)n);
	db_bind_double(st, 4, factor);
	db_bind_double(st, 5, spread);
	db_bind_int64(st, 6, now);
	return conn_step_done(tx, st, "save learned travel", err);
}

enum otd_status store_learned_travel_get(struct otd_conn *c, int64_t visitor_id,
                                         struct otd_learned_travel *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT hour, n, factor, spread FROM learned_travel WHERE visitor_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		int hour = db_column_int(st, 0);
		int i = hour < 0 ? 24 : hour;
		if(i > 24)
			continue;
		out->has[i] = true;
		out->n[i] = (size_t)db_column_int64(st, 1);
		out->factor[i] = db_column_double(st, 2);
		out->spread[i] = db_column_double(st, 3);
	}
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(c, rc, "read learned travel", err);
	return OTD_OK;
}

enum otd_status store_task_insert(struct otd_conn *tx, const char *kind, int64_t appointment_id,
                                  const char *note, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx, "INSERT INTO tasks(kind, appointment_id, note, created_at) VALUES (?1, ?2, ?3, ?4)",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, kind);
	db_bind_int64(st, 2, appointment_id);
	db_bind_text(st, 3, note ? note : "");
	db_bind_int64(st, 4, now);
	return conn_step_done(tx, st, "add task", err);
}
