/* Visitor routes (admin API): list, create, read, update, deactivate,
 * activate, and the shift occurrences of a date range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/json_in.h"
#include "onthedot/civil.h"
#include "onthedot/tz.h"

static const struct field_spec visitor_fields[] = {
    {"name", FIELD_STRING, true, 1, OTD_NAME_MAX, false},
    {"role_title", FIELD_STRING, true, 1, 100, false},
    {"phone", FIELD_STRING, false, 0, 32, true},
    {"email", FIELD_STRING, false, 0, 254, true},
    {"base", FIELD_OBJECT, true, 0, 0, false},
    {"skills", FIELD_ARRAY, false, 0, OTD_SKILLS_MAX, false},
    {"shifts", FIELD_ARRAY, false, 0, OTD_SHIFTS_MAX, false},
    {"confirm_affected", FIELD_BOOL, false, 0, 0, false},
};

static const struct field_spec base_fields[] = {
    {"lat", FIELD_NUMBER, true, -90, 90, false},
    {"lon", FIELD_NUMBER, true, -180, 180, false},
};

static const struct field_spec shift_fields[] = {
    {"start", FIELD_STRING, true, 16, 19, false},
    {"duration_minutes", FIELD_INT, true, 1, 1440, false},
    {"rrule", FIELD_STRING, true, 1, 500, false},
    {"exdates", FIELD_ARRAY, false, 0, 366, false},
    {"tzid", FIELD_STRING, false, 1, 64, false},
};

static enum otd_status decode_shift(const json_t *o, size_t i, struct otd_shift *sh,
                                    struct otd_error *err)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "shifts[%zu].", i);
	if(!json_is_object(o)) {
		prefix[strlen(prefix) - 1] = '\0';
		return otd_error_set(err, OTD_EINVAL, "wrong_type", prefix,
		                     "Each shift must be an object.");
	}
	enum otd_status st = json_check(o, shift_fields, 5, prefix, err);
	if(st)
		return st;
	/* Normalise "YYYY-MM-DDTHH:MM" to seconds precision. */
	struct otd_civil c;
	st = otd_local_parse(json_get_str(o, "start"), &c, err);
	if(st) {
		snprintf(err->field, sizeof(err->field), "%sstart", prefix);
		return st;
	}
	snprintf(sh->start, sizeof(sh->start), "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month,
	         c.day, c.hour, c.minute, c.second);
	sh->duration_min = (int)json_get_int(o, "duration_minutes", 0);
	snprintf(sh->rrule, sizeof(sh->rrule), "%s", json_get_str(o, "rrule"));
	const char *tz = json_get_str(o, "tzid");
	snprintf(sh->tzid, sizeof(sh->tzid), "%s", tz ? tz : "");
	json_t *ex = json_object_get(o, "exdates");
	size_t n = json_array_size(ex);
	if(n) {
		sh->exdates = xcalloc(n, sizeof(*sh->exdates));
		for(size_t k = 0; k < n; k++) {
			const char *d = json_string_value(json_array_get(ex, k));
			int y, m, dd;
			if(!d || otd_date_parse(d, &y, &m, &dd, err) != OTD_OK) {
				/* A copy: otd_error_set must not read the field it writes. */
				char field[OTD_ERR_FIELD_MAX];
				snprintf(field, sizeof(field), "%sexdates[%zu]", prefix, k);
				return otd_error_set(err, OTD_EINVAL, "invalid_date", field,
				                     "Each EXDATE is a date YYYY-MM-DD.");
			}
			otd_date_format(y, m, dd, sh->exdates[k]);
			sh->n_exdates = k + 1;
		}
	}
	return OTD_OK;
}

enum otd_status visitor_decode(const json_t *body, bool create, struct otd_visitor *out,
                               unsigned *set, bool *confirm, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	*set = 0;
	*confirm = false;
	struct field_spec spec[8];
	memcpy(spec, visitor_fields, sizeof(spec));
	for(size_t i = 0; i < 8; i++)
		spec[i].required = create && spec[i].required;
	size_t n_spec = create ? 7 : 8; /* confirm_affected only on updates */
	enum otd_status st = json_check(body, spec, n_spec, NULL, err);
	if(st)
		return st;
	if(json_has(body, "name")) {
		out->name = xstrdup(json_get_str(body, "name"));
		*set |= VISITOR_SET_NAME;
	}
	if(json_has(body, "role_title")) {
		out->role_title = xstrdup(json_get_str(body, "role_title"));
		*set |= VISITOR_SET_ROLE_TITLE;
	}
	if(json_object_get(body, "phone")) {
		const char *p = json_get_str(body, "phone");
		out->phone = xstrdup(p ? p : "");
		*set |= VISITOR_SET_PHONE;
	}
	if(json_object_get(body, "email")) {
		const char *e = json_get_str(body, "email");
		out->email = e && *e ? xstrdup(e) : NULL;
		*set |= VISITOR_SET_EMAIL;
	}
	json_t *base = json_object_get(body, "base");
	if(base) {
		if((st = json_check(base, base_fields, 2, "base.", err)))
			return st;
		out->base_lat = json_get_num(base, "lat", 0);
		out->base_lon = json_get_num(base, "lon", 0);
		*set |= VISITOR_SET_BASE;
	}
	json_t *skills = json_object_get(body, "skills");
	if(skills) {
		size_t n = json_array_size(skills);
		out->skills = xcalloc(n ? n : 1, sizeof(char *));
		for(size_t i = 0; i < n; i++) {
			const char *s = json_string_value(json_array_get(skills, i));
			if(!s) {
				char f[32];
				snprintf(f, sizeof(f), "skills[%zu]", i);
				return otd_error_set(err, OTD_EINVAL, "wrong_type", f,
				                     "Each skill is a string such as \"gas\".");
			}
			out->skills[i] = xstrndup(s, 128);
			out->n_skills = i + 1;
		}
		*set |= VISITOR_SET_SKILLS;
	}
	json_t *shifts = json_object_get(body, "shifts");
	if(shifts) {
		size_t n = json_array_size(shifts);
		out->shifts = xcalloc(n ? n : 1, sizeof(*out->shifts));
		for(size_t i = 0; i < n; i++) {
			out->n_shifts = i + 1;
			if((st = decode_shift(json_array_get(shifts, i), i, &out->shifts[i], err)))
				return st;
		}
		*set |= VISITOR_SET_SHIFTS;
	}
	if(!create && *set == 0)
		return otd_error_set(err, OTD_EINVAL, "empty_update", NULL,
		                     "The update changes nothing; send at least one field.");
	*confirm = json_get_bool(body, "confirm_affected", false);
	return OTD_OK;
}

enum otd_status confirm_decode(const json_t *body, bool *confirm, struct otd_error *err)
{
	static const struct field_spec spec[] = {
	    {"confirm_affected", FIELD_BOOL, false, 0, 0, false},
	};
	*confirm = false;
	if(!body)
		return OTD_OK;
	enum otd_status st = json_check(body, spec, 1, NULL, err);
	if(st)
		return st;
	*confirm = json_get_bool(body, "confirm_affected", false);
	return OTD_OK;
}

static json_t *visitor_json(const struct otd_visitor *v)
{
	json_t *skills = json_array();
	for(size_t i = 0; i < v->n_skills; i++)
		json_array_append_new(skills, json_string(v->skills[i]));
	json_t *shifts = json_array();
	for(size_t i = 0; i < v->n_shifts; i++) {
		const struct otd_shift *s = &v->shifts[i];
		json_t *ex = json_array();
		for(size_t k = 0; k < s->n_exdates; k++)
			json_array_append_new(ex, json_string(s->exdates[k]));
		json_array_append_new(shifts,
		                      json_pack("{s:I,s:s,s:i,s:s,s:o,s:s}", "id", (json_int_t)s->id,
		                                "start", s->start, "duration_minutes", s->duration_min,
		                                "rrule", s->rrule, "exdates", ex, "tzid", s->tzid));
	}
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:{s:f,s:f},s:o,s:b,s:o,s:o}", "id",
	                 (json_int_t)v->id, "name", v->name, "role_title", v->role_title, "phone",
	                 v->phone && v->phone[0] ? json_string(v->phone) : json_null(), "email",
	                 v->email ? json_string(v->email) : json_null(), "skills", skills, "base",
	                 "lat", v->base_lat, "lon", v->base_lon, "shifts", shifts, "active", v->active,
	                 "created_at", json_utc(v->created_at), "updated_at", json_utc(v->updated_at));
}

static json_t *affected_json(const struct otd_appointment_brief *a, size_t n)
{
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:o,s:s}", "reference",
		                                     a[i].reference, "date", a[i].local_date,
		                                     "window_start", json_utc(a[i].window_start),
		                                     "window_end", json_utc(a[i].window_end), "status",
		                                     a[i].status));
	return arr;
}

enum otd_status h_visitors_list(struct otd_req *req)
{
	int limit, active;
	int64_t after;
	enum otd_status st = req_page(req, &limit, &after);
	if(st == OTD_OK)
		st = req_active_filter(req, -1, &active);
	if(st)
		return st;
	struct otd_visitor *items = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_visitor_list(req->app, after, limit, active, &items, &n, &next, &req->err);
	if(st)
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		json_array_append_new(arr, visitor_json(&items[i]));
		otd_visitor_cleanup(&items[i]);
	}
	free(items);
	req_reply_page(req, arr, next);
	return OTD_OK;
}

enum otd_status h_visitor_create(struct otd_req *req)
{
	struct otd_idem idem;
	bool has_key;
	enum otd_status st = req_idem(req, &idem, &has_key);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_visitor v;
	unsigned set;
	bool confirm;
	st = visitor_decode(body, true, &v, &set, &confirm, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		st = app_visitor_prepare(req->app, &v, &req->err);
	bool replayed = false;
	if(st == OTD_OK)
		st = app_visitor_create(req->app, &req->principal, &v, has_key ? &idem : NULL,
		                        &replayed, &req->err);
	int64_t id = v.id;
	otd_visitor_cleanup(&v);
	if(st)
		return st;
	/* Answer with the stored record, also for a replay. */
	st = app_visitor_get(req->app, id, &v, &req->err);
	if(st)
		return st;
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v1/visitors/%lld", (long long)id);
	req_add_header(req, "Location", loc);
	if(replayed)
		req_add_header(req, "Idempotent-Replayed", "true");
	req_reply_json(req, 201, visitor_json(&v));
	otd_visitor_cleanup(&v);
	return OTD_OK;
}

enum otd_status h_visitor_get(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	struct otd_visitor v;
	st = app_visitor_get(req->app, id, &v, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, visitor_json(&v));
	otd_visitor_cleanup(&v);
	return OTD_OK;
}

static enum otd_status reply_changed(struct otd_req *req, enum otd_status st,
                                     struct otd_visitor *v, struct otd_appointment_brief *aff,
                                     size_t n_aff)
{
	if(st == OTD_ECONFLICT && n_aff)
		req->err_extra = json_pack("{s:o}", "affected", affected_json(aff, n_aff));
	if(st == OTD_OK) {
		json_t *out = visitor_json(v);
		json_object_set_new(out, "affected", affected_json(aff, n_aff));
		req_reply_json(req, 200, out);
	}
	free(aff);
	otd_visitor_cleanup(v);
	return st;
}

enum otd_status h_visitor_update(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_visitor patch;
	unsigned set;
	bool confirm;
	st = visitor_decode(body, false, &patch, &set, &confirm, &req->err);
	json_decref(body);
	struct otd_visitor v = {0};
	struct otd_appointment_brief *aff = NULL;
	size_t n_aff = 0;
	if(st == OTD_OK)
		st = app_visitor_update(req->app, &req->principal, id, &patch, set, confirm, &v, &aff,
		                        &n_aff, &req->err);
	otd_visitor_cleanup(&patch);
	return reply_changed(req, st, &v, aff, n_aff);
}

static enum otd_status set_active(struct otd_req *req, bool active)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = NULL;
	if(req->body.len) {
		body = req_body_object(req);
		if(!body)
			return OTD_EINVAL;
	}
	bool confirm;
	st = confirm_decode(body, &confirm, &req->err);
	json_decref(body);
	if(st)
		return st;
	struct otd_visitor v = {0};
	struct otd_appointment_brief *aff = NULL;
	size_t n_aff = 0;
	st = app_visitor_set_active(req->app, &req->principal, id, active, confirm, &v, &aff, &n_aff,
	                            &req->err);
	return reply_changed(req, st, &v, aff, n_aff);
}

enum otd_status h_visitor_deactivate(struct otd_req *req)
{
	return set_active(req, false);
}

enum otd_status h_visitor_activate(struct otd_req *req)
{
	return set_active(req, true);
}

static enum otd_status query_date(struct otd_req *req, const char *name, int64_t *day_start)
{
	const char *s = req_query(req, name);
	if(!s)
		return otd_error_set(&req->err, OTD_EINVAL, "missing_parameter", name,
		                     "The query parameter %s (a date YYYY-MM-DD) is required.", name);
	int y, m, d;
	if(otd_date_parse(s, &y, &m, &d, &req->err) != OTD_OK) {
		snprintf(req->err.field, sizeof(req->err.field), "%s", name);
		return OTD_EINVAL;
	}
	*day_start = otd_tz_day_start(req->app->tz, y, m, d);
	return OTD_OK;
}

enum otd_status h_visitor_shifts(struct otd_req *req)
{
	int64_t id, from, to;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st == OTD_OK)
		st = query_date(req, "from", &from);
	if(st == OTD_OK)
		st = query_date(req, "to", &to);
	if(st)
		return st;
	/* "to" is inclusive: the whole last day. */
	struct otd_local l;
	otd_tz_to_local(req->app->tz, to, &l);
	to += otd_tz_day_length(req->app->tz, l.c.year, l.c.month, l.c.day);
	struct otd_interval *occ = NULL;
	size_t n = 0;
	st = app_visitor_shifts(req->app, id, from, to, &occ, &n, &req->err);
	if(st)
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		struct otd_local sl;
		otd_tz_to_local(req->app->tz, occ[i].start, &sl);
		char date[11];
		otd_date_format(sl.c.year, sl.c.month, sl.c.day, date);
		json_array_append_new(arr, json_pack("{s:s,s:o,s:o}", "date", date, "start",
		                                     json_instant(req->app, occ[i].start), "end",
		                                     json_instant(req->app, occ[i].end)));
	}
	free(occ);
	req_reply_json(req, 200,
	               json_pack("{s:s,s:o}", "timezone", otd_tz_name(req->app->tz), "shifts", arr));
	return OTD_OK;
}
