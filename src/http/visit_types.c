/* Visit type routes (admin API): list, create, read, update, deactivate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/json_in.h"

static const struct field_spec visit_type_fields[] = {
    {"code", FIELD_STRING, true, 1, 64, false},
    {"name", FIELD_STRING, true, 1, OTD_NAME_MAX, false},
    {"skill", FIELD_STRING, true, 1, 64, false},
    {"duration_median_minutes", FIELD_NUMBER, true, 0.1, 720, false},
    {"duration_spread", FIELD_NUMBER, false, 0, 3, false},
    {"window_minutes", FIELD_INT, true, 15, 720, false},
    {"active", FIELD_BOOL, false, 0, 0, false},
};

enum otd_status visit_type_decode(const json_t *body, bool create, struct otd_visit_type *out,
                                  unsigned *set, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	*set = 0;
	struct field_spec spec[7];
	memcpy(spec, visit_type_fields, sizeof(spec));
	for(size_t i = 0; i < 7; i++)
		spec[i].required = create && spec[i].required;
	/* "active" is changed by PATCH; a new visit type is active. */
	enum otd_status st = json_check(body, spec, create ? 6 : 7, NULL, err);
	if(st)
		return st;
	const char *s;
	if((s = json_get_str(body, "code"))) {
		snprintf(out->code, sizeof(out->code), "%s", s);
		*set |= VISIT_TYPE_SET_CODE;
	}
	if((s = json_get_str(body, "name"))) {
		out->name = xstrdup(s);
		*set |= VISIT_TYPE_SET_NAME;
	}
	if((s = json_get_str(body, "skill"))) {
		snprintf(out->skill, sizeof(out->skill), "%s", s);
		*set |= VISIT_TYPE_SET_SKILL;
	}
	if(json_has(body, "duration_median_minutes")) {
		out->duration_median_min = json_get_num(body, "duration_median_minutes", 0);
		*set |= VISIT_TYPE_SET_MEDIAN;
	}
	out->duration_spread = 0.3; /* a typical log-normal spread when none is given */
	if(json_has(body, "duration_spread")) {
		out->duration_spread = json_get_num(body, "duration_spread", 0);
		*set |= VISIT_TYPE_SET_SPREAD;
	}
	if(json_has(body, "window_minutes")) {
		out->window_min = (int)json_get_int(body, "window_minutes", 0);
		*set |= VISIT_TYPE_SET_WINDOW;
	}
	if(json_has(body, "active")) {
		out->active = json_get_bool(body, "active", true);
		*set |= VISIT_TYPE_SET_ACTIVE;
	}
	if(!create && *set == 0)
		return otd_error_set(err, OTD_EINVAL, "empty_update", NULL,
		                     "The update changes nothing; send at least one field.");
	return OTD_OK;
}

static json_t *visit_type_json(const struct otd_visit_type *t)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:f,s:f,s:i,s:b,s:o,s:o}", "id", (json_int_t)t->id, "code",
	                 t->code, "name", t->name, "skill", t->skill, "duration_median_minutes",
	                 t->duration_median_min, "duration_spread", t->duration_spread,
	                 "window_minutes", t->window_min, "active", t->active, "created_at",
	                 json_utc(t->created_at), "updated_at", json_utc(t->updated_at));
}

enum otd_status h_visit_types_list(struct otd_req *req)
{
	int limit, active;
	int64_t after;
	enum otd_status st = req_page(req, &limit, &after);
	if(st == OTD_OK)
		st = req_active_filter(req, -1, &active);
	if(st)
		return st;
	struct otd_visit_type *items = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_visit_type_list(req->app, after, limit, active, &items, &n, &next, &req->err);
	if(st)
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		json_array_append_new(arr, visit_type_json(&items[i]));
		otd_visit_type_cleanup(&items[i]);
	}
	free(items);
	req_reply_page(req, arr, next);
	return OTD_OK;
}

enum otd_status h_visit_type_create(struct otd_req *req)
{
	struct otd_idem idem;
	bool has_key;
	enum otd_status st = req_idem(req, &idem, &has_key);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_visit_type t;
	unsigned set;
	st = visit_type_decode(body, true, &t, &set, &req->err);
	json_decref(body);
	bool replayed = false;
	if(st == OTD_OK)
		st = app_visit_type_create(req->app, &req->principal, &t, has_key ? &idem : NULL,
		                           &replayed, &req->err);
	int64_t id = t.id;
	otd_visit_type_cleanup(&t);
	if(st)
		return st;
	st = app_visit_type_get(req->app, id, &t, &req->err);
	if(st)
		return st;
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v1/visit-types/%lld", (long long)id);
	req_add_header(req, "Location", loc);
	if(replayed)
		req_add_header(req, "Idempotent-Replayed", "true");
	req_reply_json(req, 201, visit_type_json(&t));
	otd_visit_type_cleanup(&t);
	return OTD_OK;
}

enum otd_status h_visit_type_get(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	struct otd_visit_type t;
	st = app_visit_type_get(req->app, id, &t, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, visit_type_json(&t));
	otd_visit_type_cleanup(&t);
	return OTD_OK;
}

static enum otd_status update(struct otd_req *req, const struct otd_visit_type *patch,
                              unsigned set)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	struct otd_visit_type t;
	st = app_visit_type_update(req->app, &req->principal, id, patch, set, &t, &req->err);
	if(st == OTD_OK)
		req_reply_json(req, 200, visit_type_json(&t));
	otd_visit_type_cleanup(&t);
	return st;
}

enum otd_status h_visit_type_update(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_visit_type patch;
	unsigned set;
	enum otd_status st = visit_type_decode(body, false, &patch, &set, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		st = update(req, &patch, set);
	otd_visit_type_cleanup(&patch);
	return st;
}

enum otd_status h_visit_type_deactivate(struct otd_req *req)
{
	if(req->body.len)
		return otd_error_set(&req->err, OTD_EINVAL, "unexpected_body", NULL,
		                     "Deactivating a visit type takes no body.");
	struct otd_visit_type patch = {.active = false};
	return update(req, &patch, VISIT_TYPE_SET_ACTIVE);
}
