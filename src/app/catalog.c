/* Visitors and visit types: create, read, list, update, deactivate. */
#include "app/catalog.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/planning.h"
#include "app/tracking.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"
#include "store/catalog.h"
#include "store/store.h"

#define DEFAULT_COUNTRY_CODE "44"

/* ---- helpers ----------------------------------------------------------- */

static void shift_copy(struct otd_shift *dst, const struct otd_shift *src)
{
	*dst = *src;
	dst->exdates = NULL;
	if(src->n_exdates) {
		dst->exdates = xmalloc(src->n_exdates * sizeof(*dst->exdates));
		memcpy(dst->exdates, src->exdates, src->n_exdates * sizeof(*dst->exdates));
	}
}

static void replace_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

enum otd_status app_visitor_prepare(struct otd_app *app, struct otd_visitor *v,
                                    struct otd_error *err)
{
	enum otd_status st;
	if(!v->phone)
		v->phone = xstrdup("");
	if(v->phone[0]) {
		char phone[32];
		st = otd_phone_normalise(v->phone, DEFAULT_COUNTRY_CODE, phone, sizeof(phone), "phone",
		                         err);
		if(st)
			return st;
		replace_str(&v->phone, phone);
	}
	if(v->email && !v->email[0])
		replace_str(&v->email, NULL);
	if(v->email) {
		char email[256];
		st = otd_email_normalise(v->email, email, sizeof(email), "email", err);
		if(st)
			return st;
		replace_str(&v->email, email);
	}
	for(size_t i = 0; i < v->n_shifts; i++)
		if(!v->shifts[i].tzid[0])
			snprintf(v->shifts[i].tzid, sizeof(v->shifts[i].tzid), "%s", otd_tz_name(app->tz));
	return otd_visitor_validate(v, app->tz, err);
}

static enum otd_status idem_check(struct otd_conn *tx, const struct otd_idem *idem,
                                  const char *entity, int64_t *id, bool *replayed,
                                  struct otd_error *err)
{
	*replayed = false;
	if(!idem || !idem->key)
		return OTD_OK;
	unsigned char hash[32];
	char stored[32];
	enum otd_status st =
	    store_idem_get(tx, idem->scope, idem->key, hash, stored, sizeof(stored), id, err);
	if(st == OTD_ENOTFOUND)
		return OTD_OK;
	if(st)
		return st;
	if(memcmp(hash, idem->hash, 32) != 0 || strcmp(stored, entity) != 0)
		return otd_error_set(err, OTD_ESTATE, "idempotency_key_reused", "Idempotency-Key",
		                     "This Idempotency-Key was already used for a different request; "
		                     "use a new key for a new request.");
	*replayed = true;
	return OTD_OK;
}

static enum otd_status idem_record(struct otd_conn *tx, const struct otd_idem *idem,
                                   const char *entity, int64_t id, int64_t now,
                                   struct otd_error *err)
{
	if(!idem || !idem->key)
		return OTD_OK;
	return store_idem_put(tx, idem->scope, idem->key, idem->hash, entity, id, now, err);
}

/* Visitors or visit types changed: offers must see it at once. */
static enum otd_status changed(struct otd_app *app, enum otd_status st)
{
	if(st == OTD_OK && app->planner)
		planner_catalog_invalidate(app->planner);
	return st;
}

static const char *actor_kind(const struct otd_principal *p)
{
	switch(p->kind) {
	case OTD_PRINCIPAL_SESSION: return "user";
	case OTD_PRINCIPAL_TOKEN: return "token";
	case OTD_PRINCIPAL_CLI: return "cli";
	default: return "system";
	}
}

static int64_t actor_id(const struct otd_principal *p)
{
	return p->kind == OTD_PRINCIPAL_SESSION ? p->user_id
	       : p->kind == OTD_PRINCIPAL_TOKEN ? p->token_id
	                                        : 0;
}

/* ---- visitors ---------------------------------------------------------- */

struct visitor_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	struct otd_visitor *v;
	const struct otd_idem *idem;
	bool replayed;
	int64_t now;
	/* updates */
	int64_t id;
	const struct otd_visitor *patch;
	unsigned set;
	bool confirm;
	bool activate;
	struct otd_appointment_brief *affected;
	size_t n_affected;
};

static enum otd_status visitor_create_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct visitor_job *j = arg;
	int64_t id = 0;
	enum otd_status st = idem_check(tx, j->idem, "visitor", &id, &j->replayed, err);
	if(st || j->replayed) {
		j->v->id = id;
		return st;
	}
	if((st = store_visitor_insert(tx, j->v, j->now, err)))
		return st;
	if((st = idem_record(tx, j->idem, "visitor", j->v->id, j->now, err)))
		return st;
	return app_audit(tx, j->actor, j->now, "visitor.create", "visitor", j->v->id,
	                 json_pack("{s:i,s:i}", "skills", (int)j->v->n_skills, "shifts",
	                           (int)j->v->n_shifts),
	                 err);
}

enum otd_status app_visitor_create(struct otd_app *app, const struct otd_principal *actor,
                                   struct otd_visitor *v, const struct otd_idem *idem,
                                   bool *replayed, struct otd_error *err)
{
	v->active = true;
	struct visitor_job job = {.app = app, .actor = actor, .v = v, .idem = idem,
	                          .now = otd_clock_now(app->clock)};
	enum otd_status st = store_write(app->store, visitor_create_job, &job, err);
	*replayed = job.replayed;
	return changed(app, st);
}

struct get_job {
	int64_t id;
	void *out;
};

static enum otd_status visitor_get_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct get_job *j = arg;
	return store_visitor_get(c, j->id, j->out, err);
}

enum otd_status app_visitor_get(struct otd_app *app, int64_t id, struct otd_visitor *out,
                                struct otd_error *err)
{
	struct get_job job = {id, out};
	return store_read(app->store, visitor_get_job, &job, err);
}

struct list_job {
	int64_t after;
	int limit, active;
	void *items;
	size_t n;
	int64_t next;
};

static enum otd_status visitor_list_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	int64_t *ids = xcalloc((size_t)j->limit + 1, sizeof(*ids));
	size_t n = 0;
	enum otd_status st = store_visitor_ids(c, j->after, j->limit + 1, j->active, ids, &n, err);
	if(st == OTD_OK) {
		if(n > (size_t)j->limit) {
			n = (size_t)j->limit;
			j->next = ids[n - 1];
		}
		struct otd_visitor *items = xcalloc(n ? n : 1, sizeof(*items));
		for(size_t i = 0; i < n && st == OTD_OK; i++) {
			st = store_visitor_get(c, ids[i], &items[i], err);
			if(st == OTD_OK)
				j->n = i + 1;
		}
		j->items = items;
	}
	free(ids);
	return st;
}

enum otd_status app_visitor_list(struct otd_app *app, int64_t after_id, int limit, int active,
                                 struct otd_visitor **out, size_t *n, int64_t *next,
                                 struct otd_error *err)
{
	struct list_job job = {.after = after_id, .limit = limit, .active = active};
	enum otd_status st = store_read(app->store, visitor_list_job, &job, err);
	struct otd_visitor *items = job.items;
	if(st) {
		for(size_t i = 0; i < job.n; i++)
			otd_visitor_cleanup(&items[i]);
		free(items);
		return st;
	}
	*out = items;
	*n = job.n;
	*next = job.next;
	return OTD_OK;
}

/* Open appointments left outside every shift of v. */
static void find_outside(struct visitor_job *j, struct otd_appointment_brief *open, size_t n,
                         const struct otd_visitor *v)
{
	for(size_t i = 0; i < n; i++) {
		bool keep = v->active && otd_window_in_shifts(v->shifts, v->n_shifts, j->app->tz,
		                                             open[i].window_start, open[i].window_end);
		if(!keep) {
			j->affected = xrealloc(j->affected, (j->n_affected + 1) * sizeof(*j->affected));
			j->affected[j->n_affected++] = open[i];
		}
	}
}

static enum otd_status note_affected(struct otd_conn *tx, struct visitor_job *j,
                                     const char *reason, struct otd_error *err)
{
	for(size_t i = 0; i < j->n_affected; i++) {
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"visitor_id\":%lld}", reason,
		         (long long)j->id);
		enum otd_status st = store_appointment_event(tx, j->affected[i].id, "visitor_change",
		                                             j->now, actor_kind(j->actor),
		                                             actor_id(j->actor), detail, err);
		/* The same path as a visitor's "unavailable": the promise is at
		 * risk now, with its reason, in this transaction. */
		if(st == OTD_OK)
			st = tracking_force_at_risk(tx, j->affected[i].id,
			                            strcmp(reason, "visitor_deactivated") == 0
			                                ? "the visitor was deactivated"
			                                : "the visitor's shift no longer covers it",
			                            j->now, err);
		if(st)
			return st;
	}
	/* Re-project each day touched (once). */
	for(size_t i = 0; i < j->n_affected; i++) {
		bool seen = false;
		for(size_t k = 0; k < i && !seen; k++)
			seen = strcmp(j->affected[k].local_date, j->affected[i].local_date) == 0;
		if(seen)
			continue;
		enum otd_status st = tracking_reproject(j->app, tx, j->id, j->affected[i].local_date,
		                                        j->now, reason, err);
		if(st)
			return st;
	}
	return OTD_OK;
}

static enum otd_status conflict_affected(struct visitor_job *j, const char *what,
                                         struct otd_error *err)
{
	return otd_error_set(err, OTD_ECONFLICT, "promises_affected", NULL,
	                     "%s would leave %zu booked appointment%s outside the visitor's "
	                     "shifts; repeat with \"confirm_affected\": true to go ahead (their "
	                     "customers will be told).",
	                     what, j->n_affected, j->n_affected == 1 ? "" : "s");
}

static enum otd_status visitor_update_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct visitor_job *j = arg;
	struct otd_visitor *v = j->v;
	free(j->affected);
	j->affected = NULL;
	j->n_affected = 0;
	enum otd_status st = store_visitor_get(tx, j->id, v, err);
	if(st)
		return st;
	const struct otd_visitor *p = j->patch;
	json_t *changed = json_array();
	if(j->set & VISITOR_SET_NAME) {
		replace_str(&v->name, p->name);
		json_array_append_new(changed, json_string("name"));
	}
	if(j->set & VISITOR_SET_ROLE_TITLE) {
		replace_str(&v->role_title, p->role_title);
		json_array_append_new(changed, json_string("role_title"));
	}
	if(j->set & VISITOR_SET_PHONE) {
		replace_str(&v->phone, p->phone ? p->phone : "");
		json_array_append_new(changed, json_string("phone"));
	}
	if(j->set & VISITOR_SET_EMAIL) {
		replace_str(&v->email, p->email);
		json_array_append_new(changed, json_string("email"));
	}
	if(j->set & VISITOR_SET_BASE) {
		v->base_lat = p->base_lat;
		v->base_lon = p->base_lon;
		json_array_append_new(changed, json_string("base"));
	}
	if(j->set & VISITOR_SET_SKILLS) {
		for(size_t i = 0; i < v->n_skills; i++)
			free(v->skills[i]);
		free(v->skills);
		v->skills = xcalloc(p->n_skills ? p->n_skills : 1, sizeof(char *));
		for(size_t i = 0; i < p->n_skills; i++)
			v->skills[i] = xstrdup(p->skills[i]);
		v->n_skills = p->n_skills;
		json_array_append_new(changed, json_string("skills"));
	}
	if(j->set & VISITOR_SET_SHIFTS) {
		for(size_t i = 0; i < v->n_shifts; i++)
			otd_shift_cleanup(&v->shifts[i]);
		free(v->shifts);
		v->shifts = xcalloc(p->n_shifts ? p->n_shifts : 1, sizeof(*v->shifts));
		for(size_t i = 0; i < p->n_shifts; i++)
			shift_copy(&v->shifts[i], &p->shifts[i]);
		v->n_shifts = p->n_shifts;
		json_array_append_new(changed, json_string("shifts"));
	}
	if((st = app_visitor_prepare(j->app, v, err)))
		goto out;
	if(j->set & VISITOR_SET_SHIFTS) {
		struct otd_appointment_brief *open = NULL;
		size_t n = 0;
		if((st = store_visitor_open_appointments(tx, j->id, j->now, &open, &n, err)))
			goto out;
		find_outside(j, open, n, v);
		free(open);
		if(j->n_affected && !j->confirm) {
			st = conflict_affected(j, "Changing the shifts", err);
			goto out;
		}
	}
	if((st = store_visitor_update(tx, v, j->now, err)))
		goto out;
	if((st = note_affected(tx, j, "shift_changed", err)))
		goto out;
	st = app_audit(tx, j->actor, j->now, "visitor.update", "visitor", j->id,
	               json_pack("{s:O,s:i}", "changed", changed, "affected", (int)j->n_affected),
	               err);
out:
	json_decref(changed);
	if(st)
		otd_visitor_cleanup(v);
	return st;
}

enum otd_status app_visitor_update(struct otd_app *app, const struct otd_principal *actor,
                                   int64_t id, const struct otd_visitor *patch, unsigned set,
                                   bool confirm, struct otd_visitor *out,
                                   struct otd_appointment_brief **affected, size_t *n_affected,
                                   struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct visitor_job job = {.app = app, .actor = actor, .v = out, .id = id, .patch = patch,
	                          .set = set, .confirm = confirm,
	                          .now = otd_clock_now(app->clock)};
	enum otd_status st = store_write(app->store, visitor_update_job, &job, err);
	*affected = job.affected;
	*n_affected = job.n_affected;
	if(st == OTD_OK) /* the promises it forced at_risk, to the live streams */
		tracking_publish(app, id, job.affected, job.n_affected);
	return changed(app, st);
}

static enum otd_status visitor_active_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct visitor_job *j = arg;
	free(j->affected);
	j->affected = NULL;
	j->n_affected = 0;
	enum otd_status st = store_visitor_get(tx, j->id, j->v, err);
	if(st)
		return st;
	if(j->v->active == j->activate)
		return OTD_OK; /* nothing to change, nothing to audit */
	if(!j->activate) {
		struct otd_appointment_brief *open = NULL;
		size_t n = 0;
		j->v->active = false;
		if((st = store_visitor_open_appointments(tx, j->id, j->now, &open, &n, err)))
			goto out;
		find_outside(j, open, n, j->v);
		free(open);
		if(j->n_affected && !j->confirm) {
			st = conflict_affected(j, "Deactivating this visitor", err);
			goto out;
		}
	}
	if((st = store_visitor_set_active(tx, j->id, j->activate, j->now, err)))
		goto out;
	j->v->active = j->activate;
	j->v->updated_at = j->now > j->v->created_at ? j->now : j->v->created_at;
	if((st = note_affected(tx, j, "visitor_deactivated", err)))
		goto out;
	st = app_audit(tx, j->actor, j->now, j->activate ? "visitor.activate" : "visitor.deactivate",
	               "visitor", j->id, json_pack("{s:i}", "affected", (int)j->n_affected), err);
out:
	if(st)
		otd_visitor_cleanup(j->v);
	return st;
}

enum otd_status app_visitor_set_active(struct otd_app *app, const struct otd_principal *actor,
                                       int64_t id, bool active, bool confirm,
                                       struct otd_visitor *out,
                                       struct otd_appointment_brief **affected,
                                       size_t *n_affected, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct visitor_job job = {.app = app, .actor = actor, .v = out, .id = id,
	                          .activate = active, .confirm = confirm,
	                          .now = otd_clock_now(app->clock)};
	enum otd_status st = store_write(app->store, visitor_active_job, &job, err);
	*affected = job.affected;
	*n_affected = job.n_affected;
	if(st == OTD_OK) /* the promises it forced at_risk, to the live streams */
		tracking_publish(app, id, job.affected, job.n_affected);
	return changed(app, st);
}

enum otd_status app_visitor_shifts(struct otd_app *app, int64_t id, int64_t from, int64_t to,
                                   struct otd_interval **out, size_t *n, struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	if(to <= from || to - from > 366 * 86400)
		return otd_error_set(err, OTD_EINVAL, "bad_range", "to",
		                     "The range must end after it starts and span at most 366 days.");
	struct otd_visitor v;
	enum otd_status st = app_visitor_get(app, id, &v, err);
	if(st)
		return st;
	for(size_t i = 0; i < v.n_shifts && st == OTD_OK; i++) {
		struct otd_civil *ex = xcalloc(v.shifts[i].n_exdates ? v.shifts[i].n_exdates : 1,
		                               sizeof(*ex));
		struct otd_shift_rule rule;
		struct otd_interval *occ = NULL;
		size_t k = 0;
		st = otd_shift_to_rule(&v.shifts[i], &rule, ex, err);
		if(st == OTD_OK)
			st = otd_shift_expand(&rule, app->tz, from, to, &occ, &k, err);
		if(st == OTD_OK && k) {
			*out = xrealloc(*out, (*n + k) * sizeof(**out));
			memcpy(*out + *n, occ, k * sizeof(*occ));
			*n += k;
		}
		free(occ);
		free(ex);
	}
	otd_visitor_cleanup(&v);
	if(st) {
		free(*out);
		*out = NULL;
		*n = 0;
		return st;
	}
	/* Several rules interleave: sort by start (insertion sort; a few
	 * hundred entries at most). */
	for(size_t i = 1; i < *n; i++) {
		struct otd_interval x = (*out)[i];
		size_t k = i;
		while(k > 0 && (*out)[k - 1].start > x.start) {
			(*out)[k] = (*out)[k - 1];
			k--;
		}
		(*out)[k] = x;
	}
	return OTD_OK;
}

/* ---- visit types ------------------------------------------------------- */

struct visit_type_job {
	const struct otd_principal *actor;
	struct otd_visit_type *t;
	const struct otd_idem *idem;
	bool replayed;
	int64_t now;
	int64_t id;
	const struct otd_visit_type *patch;
	unsigned set;
};

static enum otd_status visit_type_create_job(struct otd_conn *tx, void *arg,
                                             struct otd_error *err)
{
	struct visit_type_job *j = arg;
	int64_t id = 0;
	enum otd_status st = idem_check(tx, j->idem, "visit_type", &id, &j->replayed, err);
	if(st || j->replayed) {
		j->t->id = id;
		return st;
	}
	if((st = store_visit_type_insert(tx, j->t, j->now, err)))
		return st;
	if((st = idem_record(tx, j->idem, "visit_type", j->t->id, j->now, err)))
		return st;
	return app_audit(tx, j->actor, j->now, "visit_type.create", "visit_type", j->t->id,
	                 json_pack("{s:s}", "code", j->t->code), err);
}

enum otd_status app_visit_type_create(struct otd_app *app, const struct otd_principal *actor,
                                      struct otd_visit_type *t, const struct otd_idem *idem,
                                      bool *replayed, struct otd_error *err)
{
	t->active = true;
	enum otd_status st = otd_visit_type_validate(t, err);
	if(st)
		return st;
	struct visit_type_job job = {.actor = actor, .t = t, .idem = idem,
	                             .now = otd_clock_now(app->clock)};
	st = store_write(app->store, visit_type_create_job, &job, err);
	*replayed = job.replayed;
	return changed(app, st);
}

static enum otd_status visit_type_get_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct get_job *j = arg;
	return store_visit_type_get(c, j->id, j->out, err);
}

enum otd_status app_visit_type_get(struct otd_app *app, int64_t id, struct otd_visit_type *out,
                                   struct otd_error *err)
{
	struct get_job job = {id, out};
	return store_read(app->store, visit_type_get_job, &job, err);
}

static enum otd_status visit_type_list_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	int64_t *ids = xcalloc((size_t)j->limit + 1, sizeof(*ids));
	size_t n = 0;
	enum otd_status st = store_visit_type_ids(c, j->after, j->limit + 1, j->active, ids, &n, err);
	if(st == OTD_OK) {
		if(n > (size_t)j->limit) {
			n = (size_t)j->limit;
			j->next = ids[n - 1];
		}
		struct otd_visit_type *items = xcalloc(n ? n : 1, sizeof(*items));
		for(size_t i = 0; i < n && st == OTD_OK; i++) {
			st = store_visit_type_get(c, ids[i], &items[i], err);
			if(st == OTD_OK)
				j->n = i + 1;
		}
		j->items = items;
	}
	free(ids);
	return st;
}

enum otd_status app_visit_type_list(struct otd_app *app, int64_t after_id, int limit, int active,
                                    struct otd_visit_type **out, size_t *n, int64_t *next,
                                    struct otd_error *err)
{
	struct list_job job = {.after = after_id, .limit = limit, .active = active};
	enum otd_status st = store_read(app->store, visit_type_list_job, &job, err);
	struct otd_visit_type *items = job.items;
	if(st) {
		for(size_t i = 0; i < job.n; i++)
			otd_visit_type_cleanup(&items[i]);
		free(items);
		return st;
	}
	*out = items;
	*n = job.n;
	*next = job.next;
	return OTD_OK;
}

static enum otd_status visit_type_update_job(struct otd_conn *tx, void *arg,
                                             struct otd_error *err)
{
	struct visit_type_job *j = arg;
	struct otd_visit_type *t = j->t;
	enum otd_status st = store_visit_type_get(tx, j->id, t, err);
	if(st)
		return st;
	const struct otd_visit_type *p = j->patch;
	if(j->set & VISIT_TYPE_SET_CODE)
		snprintf(t->code, sizeof(t->code), "%s", p->code);
	if(j->set & VISIT_TYPE_SET_NAME)
		replace_str(&t->name, p->name);
	if(j->set & VISIT_TYPE_SET_SKILL)
		snprintf(t->skill, sizeof(t->skill), "%s", p->skill);
	if(j->set & VISIT_TYPE_SET_MEDIAN)
		t->duration_median_min = p->duration_median_min;
	if(j->set & VISIT_TYPE_SET_SPREAD)
		t->duration_spread = p->duration_spread;
	if(j->set & VISIT_TYPE_SET_WINDOW)
		t->window_min = p->window_min;
	if(j->set & VISIT_TYPE_SET_ACTIVE)
		t->active = p->active;
	if((st = otd_visit_type_validate(t, err)) || (st = store_visit_type_update(tx, t, j->now, err)))
		goto out;
	/* The reply is this record: give it the time the store wrote. */
	t->updated_at = j->now > t->created_at ? j->now : t->created_at;
	st = app_audit(tx, j->actor, j->now, "visit_type.update", "visit_type", j->id,
	               json_pack("{s:i}", "fields", (int)j->set), err);
out:
	if(st)
		otd_visit_type_cleanup(t);
	return st;
}

enum otd_status app_visit_type_update(struct otd_app *app, const struct otd_principal *actor,
                                      int64_t id, const struct otd_visit_type *patch,
                                      unsigned set, struct otd_visit_type *out,
                                      struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct visit_type_job job = {.actor = actor, .t = out, .id = id, .patch = patch, .set = set,
	                             .now = otd_clock_now(app->clock)};
	return changed(app, store_write(app->store, visit_type_update_job, &job, err));
}
