/* Visitors, skills, shifts, visit types and idempotency keys. */
#include "store/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

enum otd_status store_skill_id(struct otd_conn *tx, const char *code, bool create, int64_t *id,
                               struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx, "SELECT id FROM skills WHERE code = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, code);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*id = db_column_int64(st, 0);
		conn_done(st);
		return OTD_OK;
	}
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "find skill", err);
	if(!create)
		return otd_error_set(err, OTD_ENOTFOUND, "unknown_skill", "skill",
		                     "No visitor has the skill \"%s\".", code);
	st = conn_prepare(tx, "INSERT INTO skills(code) VALUES (?1)", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, code);
	enum otd_status s = conn_step_done(tx, st, "insert skill", err);
	if(s == OTD_OK)
		*id = conn_last_id(tx);
	return s;
}

static enum otd_status write_children(struct otd_conn *tx, struct otd_visitor *v,
                                      struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx, "DELETE FROM visitor_skills WHERE visitor_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, v->id);
	enum otd_status s = conn_step_done(tx, st, "clear skills", err);
	if(s)
		return s;
	st = conn_prepare(tx, "DELETE FROM shifts WHERE visitor_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, v->id);
	if((s = conn_step_done(tx, st, "clear shifts", err)))
		return s;
	for(size_t i = 0; i < v->n_skills; i++) {
		int64_t sid;
		if((s = store_skill_id(tx, v->skills[i], true, &sid, err)))
			return s;
		st = conn_prepare(tx,
		                  "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (?1, ?2) "
		                  "ON CONFLICT DO NOTHING",
		                  err);
		if(!st)
			return OTD_EIO;
		db_bind_int64(st, 1, v->id);
		db_bind_int64(st, 2, sid);
		if((s = conn_step_done(tx, st, "add skill", err)))
			return s;
	}
	for(size_t i = 0; i < v->n_shifts; i++) {
		struct otd_shift *sh = &v->shifts[i];
		/* A shift kept from before keeps its id (as the API showed it);
		 * a new one gets the next. */
		st = sh->id > 0
		         ? conn_prepare(tx,
		                        "INSERT INTO shifts(visitor_id, tzid, dtstart_local, "
		                        "duration_min, rrule, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		                        err)
		         : conn_prepare(tx,
		                        "INSERT INTO shifts(visitor_id, tzid, dtstart_local, "
		                        "duration_min, rrule) VALUES (?1, ?2, ?3, ?4, ?5)",
		                        err);
		if(!st)
			return OTD_EIO;
		if(sh->id > 0)
			db_bind_int64(st, 6, sh->id);
		db_bind_int64(st, 1, v->id);
		db_bind_text(st, 2, sh->tzid);
		db_bind_text(st, 3, sh->start);
		db_bind_int(st, 4, sh->duration_min);
		db_bind_text(st, 5, sh->rrule);
		bool kept = sh->id > 0;
		if((s = conn_step_done(tx, st, "add shift", err)))
			return s;
		if(!kept)
			sh->id = conn_last_id(tx);
		for(size_t k = 0; k < sh->n_exdates; k++) {
			st = conn_prepare(tx,
			                  "INSERT INTO shift_exdates(shift_id, date) VALUES (?1, ?2) "
			                  "ON CONFLICT DO NOTHING",
			                  err);
			if(!st)
				return OTD_EIO;
			db_bind_int64(st, 1, sh->id);
			db_bind_text(st, 2, sh->exdates[k]);
			if((s = conn_step_done(tx, st, "add exdate", err)))
				return s;
		}
	}
	return OTD_OK;
}

static enum otd_status email_conflict(struct otd_conn *tx, int rc, struct otd_error *err)
{
	if(rc == DB_CONSTRAINT_UNIQUE)
		return otd_error_set(err, OTD_ECONFLICT, "email_taken", "email",
		                     "Another visitor already has that email address.");
	return conn_fail(tx, rc, "save visitor", err);
}

static void bind_visitor(struct otd_stmt *st, const struct otd_visitor *v, int64_t now)
{
	db_bind_text(st, 1, v->name);
	db_bind_text(st, 2, v->role_title);
	db_bind_text(st, 3, v->phone ? v->phone : "");
	conn_bind_text(st, 4, v->email);
	db_bind_double(st, 5, v->base_lat);
	db_bind_double(st, 6, v->base_lon);
	db_bind_int(st, 7, v->active ? 1 : 0);
	db_bind_int64(st, 8, now);
}

enum otd_status store_visitor_insert(struct otd_conn *tx, struct otd_visitor *v, int64_t now,
                                     struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO visitors(name, role_title, phone, email, base_lat, "
	                 "base_lon, active, created_at, updated_at) "
	                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
	                 err);
	if(!st)
		return OTD_EIO;
	bind_visitor(st, v, now);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return email_conflict(tx, rc, err);
	v->id = conn_last_id(tx);
	v->created_at = v->updated_at = now;
	return write_children(tx, v, err);
}

enum otd_status store_visitor_update(struct otd_conn *tx, struct otd_visitor *v, int64_t now,
                                     struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE visitors SET name = ?1, role_title = ?2, phone = ?3, "
	                 "email = ?4, base_lat = ?5, base_lon = ?6, active = ?7, "
	                 "updated_at = max(?8, created_at) WHERE id = ?9",
	                 err);
	if(!st)
		return OTD_EIO;
	bind_visitor(st, v, now);
	db_bind_int64(st, 9, v->id);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return email_conflict(tx, rc, err);
	if(conn_changes(tx) == 0)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "There is no visitor %lld.",
		                     (long long)v->id);
	v->updated_at = now;
	return write_children(tx, v, err);
}

enum otd_status store_visitor_get(struct otd_conn *c, int64_t id, struct otd_visitor *out,
                                  struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT name, role_title, phone, email, base_lat, base_lon, "
	                 "active, created_at, updated_at FROM visitors WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc != DB_ROW) {
		conn_done(st);
		if(rc == DB_DONE)
			return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
			                     "There is no visitor %lld.", (long long)id);
		return conn_fail(c, rc, "read visitor", err);
	}
	out->id = id;
	out->name = conn_column_dup(st, 0);
	out->role_title = conn_column_dup(st, 1);
	out->phone = conn_column_dup(st, 2);
	out->email = db_column_is_null(st, 3) ? NULL : conn_column_dup(st, 3);
	out->base_lat = db_column_double(st, 4);
	out->base_lon = db_column_double(st, 5);
	out->active = db_column_int(st, 6) != 0;
	out->created_at = db_column_int64(st, 7);
	out->updated_at = db_column_int64(st, 8);
	conn_done(st);

	st = conn_prepare(c,
	                  "SELECT s.code FROM visitor_skills vs JOIN skills s ON s.id = vs.skill_id "
	                  "WHERE vs.visitor_id = ?1 ORDER BY s.code",
	                  err);
	if(!st)
		goto fail;
	db_bind_int64(st, 1, id);
	while((rc = db_step(st)) == DB_ROW) {
		out->skills = xrealloc(out->skills, (out->n_skills + 1) * sizeof(char *));
		out->skills[out->n_skills++] = conn_column_dup(st, 0);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		conn_fail(c, rc, "read skills", err);
		goto fail;
	}
	st = conn_prepare(c,
	                  "SELECT id, tzid, dtstart_local, duration_min, rrule FROM shifts "
	                  "WHERE visitor_id = ?1 ORDER BY id",
	                  err);
	if(!st)
		goto fail;
	db_bind_int64(st, 1, id);
	while((rc = db_step(st)) == DB_ROW) {
		out->shifts = xrealloc(out->shifts, (out->n_shifts + 1) * sizeof(*out->shifts));
		struct otd_shift *sh = &out->shifts[out->n_shifts++];
		memset(sh, 0, sizeof(*sh));
		sh->id = db_column_int64(st, 0);
		snprintf(sh->tzid, sizeof(sh->tzid), "%s", db_column_text(st, 1));
		snprintf(sh->start, sizeof(sh->start), "%s", db_column_text(st, 2));
		sh->duration_min = db_column_int(st, 3);
		snprintf(sh->rrule, sizeof(sh->rrule), "%s", db_column_text(st, 4));
	}
	conn_done(st);
	if(rc != DB_DONE) {
		conn_fail(c, rc, "read shifts", err);
		goto fail;
	}
	for(size_t i = 0; i < out->n_shifts; i++) {
		struct otd_shift *sh = &out->shifts[i];
		st = conn_prepare(c, "SELECT date FROM shift_exdates WHERE shift_id = ?1 ORDER BY date",
		                  err);
		if(!st)
			goto fail;
		db_bind_int64(st, 1, sh->id);
		while((rc = db_step(st)) == DB_ROW) {
			sh->exdates = xrealloc(sh->exdates, (sh->n_exdates + 1) * sizeof(*sh->exdates));
			snprintf(sh->exdates[sh->n_exdates++], 11, "%s", db_column_text(st, 0));
		}
		conn_done(st);
		if(rc != DB_DONE) {
			conn_fail(c, rc, "read exdates", err);
			goto fail;
		}
	}
	return OTD_OK;
fail:
	otd_visitor_cleanup(out);
	return err && err->status ? err->status : OTD_EIO;
}

enum otd_status store_visitor_by_email(struct otd_conn *c, const char *email, int64_t *id,
                                       struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT id FROM visitors WHERE email = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", "email", "No visitor has that email.");
	return conn_fail(c, rc, "find visitor", err);
}

static enum otd_status list_ids(struct otd_conn *c, struct otd_stmt *st, int64_t after_id,
                                int limit, int active, int64_t *ids, size_t *n,
                                struct otd_error *err)
{
	db_bind_int64(st, 1, after_id);
	db_bind_int(st, 2, active);
	db_bind_int(st, 3, limit);
	int rc;
	*n = 0;
	while((rc = db_step(st)) == DB_ROW)
		ids[(*n)++] = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(c, rc, "list", err);
	return OTD_OK;
}

enum otd_status store_visitor_ids(struct otd_conn *c, int64_t after_id, int limit, int active,
                                  int64_t *ids, size_t *n, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT id FROM visitors WHERE id > ?1 AND (?2 < 0 OR active "
	                 "= ?2) ORDER BY id LIMIT ?3",
	                 err);
	if(!st)
		return OTD_EIO;
	return list_ids(c, st, after_id, limit, active, ids, n, err);
}

enum otd_status store_visitor_set_active(struct otd_conn *tx, int64_t id, bool active,
                                         int64_t now, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx, "UPDATE visitors SET active = ?2, updated_at = max(?3, created_at) WHERE id = ?1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int(st, 2, active ? 1 : 0);
	db_bind_int64(st, 3, now);
	enum otd_status s = conn_step_done(tx, st, "update visitor", err);
	if(s == OTD_OK && conn_changes(tx) == 0)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "There is no visitor %lld.",
		                     (long long)id);
	return s;
}

enum otd_status store_visitor_open_appointments(struct otd_conn *c, int64_t visitor_id,
                                                int64_t now,
                                                struct otd_appointment_brief **out, size_t *n,
                                                struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT id, reference, window_start, window_end, local_date, "
	                 "status FROM appointments WHERE visitor_id = ?1 AND status IN "
	                 "('booked', 'travelling', 'arrived') AND window_end > ?2 "
	                 "ORDER BY window_start, id",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, visitor_id);
	db_bind_int64(st, 2, now);
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct otd_appointment_brief *a = &(*out)[(*n)++];
		memset(a, 0, sizeof(*a));
		a->id = db_column_int64(st, 0);
		snprintf(a->reference, sizeof(a->reference), "%s", db_column_text(st, 1));
		a->window_start = db_column_int64(st, 2);
		a->window_end = db_column_int64(st, 3);
		snprintf(a->local_date, sizeof(a->local_date), "%s", db_column_text(st, 4));
		snprintf(a->status, sizeof(a->status), "%s", db_column_text(st, 5));
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "list appointments", err);
	}
	return OTD_OK;
}

enum otd_status store_appointment_event(struct otd_conn *tx, int64_t appointment_id,
                                        const char *kind, int64_t at, const char *actor_kind,
                                        int64_t actor_id, const char *detail,
                                        struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx,
	                                   "INSERT INTO appointment_events(appointment_id, kind, "
	                                   "received_at, actor_kind, actor_id, detail) "
	                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_text(st, 2, kind);
	db_bind_int64(st, 3, at);
	db_bind_text(st, 4, actor_kind);
	if(actor_id)
		db_bind_int64(st, 5, actor_id);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, detail ? detail : "{}");
	return conn_step_done(tx, st, "record appointment event", err);
}

static void bind_visit_type(struct otd_stmt *st, const struct otd_visit_type *t, int64_t skill_id,
                            int64_t now)
{
	db_bind_text(st, 1, t->code);
	db_bind_text(st, 2, t->name);
	db_bind_int64(st, 3, skill_id);
	db_bind_double(st, 4, t->duration_median_min);
	db_bind_double(st, 5, t->duration_spread);
	db_bind_int(st, 6, t->window_min);
	db_bind_int(st, 7, t->active ? 1 : 0);
	db_bind_int64(st, 8, now);
}

static enum otd_status code_conflict(struct otd_conn *tx, int rc, struct otd_error *err)
{
	if(rc == DB_CONSTRAINT_UNIQUE)
		return otd_error_set(err, OTD_ECONFLICT, "code_taken", "code",
		                     "Another visit type already has that code.");
	return conn_fail(tx, rc, "save visit type", err);
}

enum otd_status store_visit_type_insert(struct otd_conn *tx, struct otd_visit_type *t, int64_t now,
                                        struct otd_error *err)
{
	int64_t skill_id;
	enum otd_status s = store_skill_id(tx, t->skill, true, &skill_id, err);
	if(s)
		return s;
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO visit_types(code, name, skill_id, "
	                 "duration_median_min, duration_spread, window_min, active, "
	                 "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	                 "?8, ?8)",
	                 err);
	if(!st)
		return OTD_EIO;
	bind_visit_type(st, t, skill_id, now);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return code_conflict(tx, rc, err);
	t->id = conn_last_id(tx);
	t->created_at = t->updated_at = now;
	return OTD_OK;
}

enum otd_status store_visit_type_update(struct otd_conn *tx, const struct otd_visit_type *t,
                                        int64_t now, struct otd_error *err)
{
	int64_t skill_id;
	enum otd_status s = store_skill_id(tx, t->skill, true, &skill_id, err);
	if(s)
		return s;
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE visit_types SET code = ?1, name = ?2, skill_id = ?3, "
	                 "duration_median_min = ?4, duration_spread = ?5, window_min "
	                 "= ?6, active = ?7, updated_at = max(?8, created_at) WHERE id "
	                 "= ?9",
	                 err);
	if(!st)
		return OTD_EIO;
	bind_visit_type(st, t, skill_id, now);
	db_bind_int64(st, 9, t->id);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return code_conflict(tx, rc, err);
	if(conn_changes(tx) == 0)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no visit type %lld.", (long long)t->id);
	return OTD_OK;
}

enum otd_status store_visit_type_get(struct otd_conn *c, int64_t id, struct otd_visit_type *out,
                                     struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT t.code, t.name, s.code, t.duration_median_min, "
	                 "t.duration_spread, t.window_min, t.active, t.created_at, "
	                 "t.updated_at FROM visit_types t JOIN skills s ON s.id = "
	                 "t.skill_id WHERE t.id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->id = id;
		snprintf(out->code, sizeof(out->code), "%s", db_column_text(st, 0));
		out->name = conn_column_dup(st, 1);
		snprintf(out->skill, sizeof(out->skill), "%s", db_column_text(st, 2));
		out->duration_median_min = db_column_double(st, 3);
		out->duration_spread = db_column_double(st, 4);
		out->window_min = db_column_int(st, 5);
		out->active = db_column_int(st, 6) != 0;
		out->created_at = db_column_int64(st, 7);
		out->updated_at = db_column_int64(st, 8);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "There is no visit type %lld.",
		                     (long long)id);
	return conn_fail(c, rc, "read visit type", err);
}

enum otd_status store_visit_type_by_code(struct otd_conn *c, const char *code, int64_t *id,
                                         struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT id FROM visit_types WHERE code = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, code);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", "code",
		                     "No visit type has that code.");
	return conn_fail(c, rc, "find visit type", err);
}

enum otd_status store_visit_type_ids(struct otd_conn *c, int64_t after_id, int limit, int active,
                                     int64_t *ids, size_t *n, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT id FROM visit_types WHERE id > ?1 AND (?2 < 0 OR "
	                 "active = ?2) ORDER BY id LIMIT ?3",
	                 err);
	if(!st)
		return OTD_EIO;
	return list_ids(c, st, after_id, limit, active, ids, n, err);
}

enum otd_status store_idem_get(struct otd_conn *c, const char *scope, const char *key,
                               unsigned char hash[32], char *entity, size_t entity_size,
                               int64_t *entity_id, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT request_hash, entity, entity_id FROM idempotency_keys "
	                 "WHERE scope = ?1 AND idem_key = ?2",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, scope);
	db_bind_text(st, 2, key);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		const void *h = db_column_blob(st, 0);
		if(h && db_column_bytes(st, 0) == 32)
			memcpy(hash, h, 32);
		snprintf(entity, entity_size, "%s", db_column_text(st, 1));
		*entity_id = db_column_int64(st, 2);
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(c, rc, "read idempotency key", err);
}

enum otd_status store_idem_put(struct otd_conn *tx, const char *scope, const char *key,
                               const unsigned char hash[32], const char *entity, int64_t entity_id,
                               int64_t now, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO idempotency_keys(scope, idem_key, request_hash, "
	                 "entity, entity_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, scope);
	db_bind_text(st, 2, key);
	db_bind_blob(st, 3, hash, 32);
	db_bind_text(st, 4, entity);
	db_bind_int64(st, 5, entity_id);
	db_bind_int64(st, 6, now);
	return conn_step_done(tx, st, "store idempotency key", err);
}

enum otd_status store_catalog_fingerprint(struct otd_conn *c, char *out, size_t size,
                                          struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT (SELECT count(*) || ':' || coalesce(max(updated_at), 0) FROM visitors) || '|' "
	    "|| "
	    "(SELECT count(*) || ':' || coalesce(max(updated_at), 0) FROM visit_types) || '|' || "
	    "(SELECT count(*) || ':' || coalesce(max(date), '') FROM holidays) || '|' || "
	    "(SELECT count(*) FROM shifts) || ':' || (SELECT count(*) FROM shift_exdates) || '|' "
	    "|| "
	    /* learned models: a visitor's own from 20 visits at once, the rest
	     * within the hour (a refit after every visit must not flush the
	     * planner's cache) */
	    "(SELECT count(*) || ':' || coalesce(sum(n >= 20), 0) || ':' || "
	    "coalesce(max(updated_at) / 3600, 0) FROM learned_durations)",
	    err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	if(rc == DB_ROW)
		snprintf(out, size, "%s", db_column_text(st, 0));
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "catalog fingerprint", err);
	return OTD_OK;
}
