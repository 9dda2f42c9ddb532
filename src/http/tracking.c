/* Tracking routes: a visitor's events from the phone, a dispatcher's
 * "unavailable", and the tracked day (state, projected arrival, risk). */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/board.h"
#include "app/delivery.h"
#include "app/tracking.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/json_in.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/reference.h"
#include "onthedot/validate.h"

static json_t *tracked_day_json(struct otd_app *app, const struct otd_tracked_day *d);

static const struct field_spec event_fields[] = {
    {"client_event_id", FIELD_STRING, true, 1, OTD_CLIENT_EVENT_ID_MAX, false},
    {"type", FIELD_STRING, true, 1, 32, false},
    {"at", FIELD_STRING, true, 20, 35, false},
    {"appointment", FIELD_STRING, false, 10, 10, true},
    {"lat", FIELD_NUMBER, false, -90, 90, true},
    {"lon", FIELD_NUMBER, false, -180, 180, true},
    {"accuracy", FIELD_NUMBER, false, 0, 100000, true},
    {"minutes", FIELD_INT, false, 1, 1440, true},
    {"reason", FIELD_STRING, false, 1, 16, true},
    {"note", FIELD_STRING, false, 0, OTD_VEVENT_NOTE_MAX, true},
};

static enum otd_status decode_one(const json_t *o, size_t i, struct otd_vevent *e,
                                  struct otd_error *err)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "events[%zu].", i);
	if(!json_is_object(o)) {
		prefix[strlen(prefix) - 1] = '\0';
		return otd_error_set(err, OTD_EINVAL, "wrong_type", prefix, "Each event must be an object.");
	}
	enum otd_status st =
	    json_check(o, event_fields, sizeof(event_fields) / sizeof(event_fields[0]), prefix, err);
	if(st)
		return st;
	memset(e, 0, sizeof(*e));
	e->index = i;
	e->accuracy = -1;
	char field[64];
	const char *type = json_get_str(o, "type");
	if(!otd_vevent_kind_parse(type, &e->kind)) {
		snprintf(field, sizeof(field), "%stype", prefix);
		return otd_error_set(err, OTD_EINVAL, "bad_type", field,
		                     "Unknown event type \"%.32s\": start_travel, arrived, done, "
		                     "no_access, needs_another_visit, late, cannot_attend, unavailable, "
		                     "break_start, break_end or position.",
		                     type);
	}
	snprintf(e->client_id, sizeof(e->client_id), "%s", json_get_str(o, "client_event_id"));
	if(otd_rfc3339_parse(json_get_str(o, "at"), &e->at, err) != OTD_OK) {
		snprintf(err->field, sizeof(err->field), "%sat", prefix);
		return OTD_EINVAL;
	}
	const char *ref = json_get_str(o, "appointment");
	bool wants_ref = e->kind == OTD_VEVENT_START_TRAVEL || e->kind == OTD_VEVENT_ARRIVED ||
	                 e->kind == OTD_VEVENT_DONE || e->kind == OTD_VEVENT_NO_ACCESS ||
	                 e->kind == OTD_VEVENT_NEEDS_ANOTHER_VISIT ||
	                 e->kind == OTD_VEVENT_CANNOT_ATTEND;
	snprintf(field, sizeof(field), "%sappointment", prefix);
	if(wants_ref && !ref)
		return otd_error_set(err, OTD_EINVAL, "missing_field", field,
		                     "A %s event names its appointment (\"OTD-XXXXXX\").", type);
	if(!wants_ref && ref)
		return otd_error_set(err, OTD_EINVAL, "unexpected_field", field,
		                     "A %s event names no appointment.", type);
	if(ref && !otd_reference_parse(ref, e->reference))
		return otd_error_set(err, OTD_EINVAL, "bad_reference", field,
		                     "An appointment reference looks like OTD-7K3F9Q.");
	bool has_lat = json_has(o, "lat"), has_lon = json_has(o, "lon");
	if(has_lat != has_lon) {
		snprintf(field, sizeof(field), "%s%s", prefix, has_lat ? "lon" : "lat");
		return otd_error_set(err, OTD_EINVAL, "missing_field", field,
		                     "A position needs both lat and lon.");
	}
	e->has_position = has_lat;
	e->lat = json_get_num(o, "lat", 0);
	e->lon = json_get_num(o, "lon", 0);
	e->accuracy = json_get_num(o, "accuracy", -1);
	if(e->kind == OTD_VEVENT_POSITION && !e->has_position) {
		snprintf(field, sizeof(field), "%slat", prefix);
		return otd_error_set(err, OTD_EINVAL, "missing_field", field,
		                     "A position event carries lat and lon.");
	}
	snprintf(field, sizeof(field), "%sminutes", prefix);
	if(e->kind == OTD_VEVENT_LATE) {
		if(!json_has(o, "minutes"))
			return otd_error_set(err, OTD_EINVAL, "missing_field", field,
			                     "A late event says by how many minutes (1 to 1440).");
		e->late_minutes = (int)json_get_int(o, "minutes", 0);
	} else if(json_has(o, "minutes")) {
		return otd_error_set(err, OTD_EINVAL, "unexpected_field", field,
		                     "Only a late event carries minutes.");
	}
	const char *reason = json_get_str(o, "reason");
	snprintf(field, sizeof(field), "%sreason", prefix);
	if(e->kind == OTD_VEVENT_UNAVAILABLE) {
		if(!reason || (strcmp(reason, "sick") != 0 && strcmp(reason, "breakdown") != 0 &&
		               strcmp(reason, "other") != 0))
			return otd_error_set(err, OTD_EINVAL, "bad_reason", field,
			                     "An unavailable event's reason is sick, breakdown or other.");
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
	} else if(reason) {
		return otd_error_set(err, OTD_EINVAL, "unexpected_field", field,
		                     "Only an unavailable event carries a reason; use note.");
	}
	e->note = json_get_str(o, "note");
	if(e->note && (st = otd_text_validate(e->note, 0, OTD_VEVENT_NOTE_MAX, true, "note", err))) {
		snprintf(err->field, sizeof(err->field), "%snote", prefix);
		return st;
	}
	if(e->kind == OTD_VEVENT_CANNOT_ATTEND && (!e->note || !e->note[0])) {
		snprintf(field, sizeof(field), "%snote", prefix);
		return otd_error_set(err, OTD_EINVAL, "missing_field", field,
		                     "A cannot_attend event says why in note.");
	}
	return OTD_OK;
}

/* "events[0].x" reads oddly for a single event: names the field itself,
 * or nothing when the error is about the whole event. */
static void single_event_field(struct otd_error *err)
{
	if(strncmp(err->field, "events[0].", 10) == 0)
		memmove(err->field, err->field + 10, strlen(err->field + 10) + 1);
	else if(strcmp(err->field, "events[0]") == 0)
		err->field[0] = '\0';
}

enum otd_status vevents_decode(const json_t *body, size_t max, struct otd_vevent **out, size_t *n,
                               struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	const json_t *list = json_object_get(body, "events");
	if(!list) {
		/* One event on its own. */
		struct otd_vevent *e = xcalloc(1, sizeof(*e));
		enum otd_status st = decode_one(body, 0, e, err);
		if(st) {
			free(e);
			single_event_field(err);
			return st;
		}
		*out = e;
		*n = 1;
		return OTD_OK;
	}
	if(json_object_size(body) != 1)
		return otd_error_set(err, OTD_EINVAL, "unknown_field", NULL,
		                     "A batch is {\"events\": [...]} and nothing else.");
	if(!json_is_array(list))
		return otd_error_set(err, OTD_EINVAL, "wrong_type", "events", "events must be an array.");
	size_t k = json_array_size(list);
	if(k == 0)
		return otd_error_set(err, OTD_EINVAL, "empty", "events", "events is empty.");
	if(k > max)
		return otd_error_set(err, OTD_ETOOBIG, "too_many_events", "events",
		                     "A request may carry at most %zu events.", max);
	struct otd_vevent *v = xcalloc(k, sizeof(*v));
	for(size_t i = 0; i < k; i++) {
		enum otd_status st = decode_one(json_array_get(list, i), i, &v[i], err);
		if(st) {
			free(v);
			return st;
		}
	}
	*out = v;
	*n = k;
	return OTD_OK;
}

static const char *result_name(enum otd_vevent_result r)
{
	return r == OTD_VEVENT_DUPLICATE ? "duplicate" : r == OTD_VEVENT_IGNORED ? "ignored" : "applied";
}

enum otd_status h_visitor_events(struct otd_req *req)
{
	if(!req->principal.visitor_id)
		return otd_error_set(&req->err, OTD_EFORBIDDEN, "forbidden", NULL,
		                     "Only a visitor sends events for their own route.");
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_vevent *ev = NULL;
	size_t n = 0;
	enum otd_status st = vevents_decode(
	    body, (size_t)req->app->cfg->tracking.events_per_batch, &ev, &n, &req->err);
	enum otd_vevent_result *res = NULL;
	if(st == OTD_OK) {
		res = xcalloc(n, sizeof(*res));
		st = app_visitor_events(req->app, &req->principal, req->principal.visitor_id, ev, n,
		                        res, &req->err);
		if(st && !json_object_get(body, "events"))
			single_event_field(&req->err);
	}
	if(st == OTD_OK) {
		json_t *items = json_array();
		size_t counts[3] = {0};
		for(size_t i = 0; i < n; i++) {
			counts[res[i]]++;
			json_array_append_new(items, json_pack("{s:s,s:s}", "client_event_id",
			                                       ev[i].client_id, "result",
			                                       result_name(res[i])));
		}
		req_reply_json(req, 200,
		               json_pack("{s:o,s:I,s:I,s:I}", "results", items, "applied",
		                         (json_int_t)counts[OTD_VEVENT_APPLIED], "duplicates",
		                         (json_int_t)counts[OTD_VEVENT_DUPLICATE], "ignored",
		                         (json_int_t)counts[OTD_VEVENT_IGNORED]));
	}
	free(res);
	free(ev);
	json_decref(body);
	return st;
}

/* Replies the tracked day d with what the visitor's page shows besides:
 * the customer, the address, the plan (shift, break, planned arrivals)
 * and the server's now. d stays the caller's. */
static enum otd_status reply_tracked(struct otd_req *req, int64_t visitor_id,
                                     const struct otd_tracked_day *d)
{
	json_t *extra = NULL;
	enum otd_status st =
	    app_visitor_day_extra(req->app, visitor_id, d->local_date, &extra, &req->err);
	if(st)
		return st;
	json_t *out = tracked_day_json(req->app, d);
	json_t *details = json_object_get(extra, "details");
	size_t i;
	json_t *stop;
	json_array_foreach(json_object_get(out, "appointments"), i, stop)
	{
		const char *ref = json_string_value(json_object_get(stop, "reference"));
		json_t *more = ref ? json_object_get(details, ref) : NULL;
		if(more)
			json_object_update(stop, more);
	}
	json_object_del(extra, "details");
	json_object_update(out, extra);
	json_decref(extra);
	req_reply_json(req, 200, out);
	return OTD_OK;
}

enum otd_status h_visitor_unavailable(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	static const struct field_spec spec[] = {
	    {"reason", FIELD_STRING, true, 1, 16, false},
	    {"note", FIELD_STRING, false, 0, OTD_VEVENT_NOTE_MAX, true},
	};
	st = json_check(body, spec, 2, "", &req->err);
	const char *note = json_get_str(body, "note");
	if(st == OTD_OK && note)
		st = otd_text_validate(note, 0, OTD_VEVENT_NOTE_MAX, true, "note", &req->err);
	if(st == OTD_OK)
		st = app_visitor_unavailable(req->app, &req->principal, id, json_get_str(body, "reason"),
		                             note, &req->err);
	json_decref(body);
	if(st)
		return st;
	struct otd_tracked_day d;
	st = app_tracked_day(req->app, id, NULL, &d, &req->err);
	if(st)
		return st;
	st = reply_tracked(req, id, &d);
	otd_tracked_day_cleanup(&d);
	return st;
}

static json_t *time_or_null(int64_t t)
{
	if(t <= 0)
		return json_null();
	char buf[32];
	otd_rfc3339_format(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *tracked_day_json(struct otd_app *app, const struct otd_tracked_day *d)
{
	/* The doorstep codes: the key is read once for the whole day. */
	unsigned char key[32];
	bool have_key = app_url_key(app, key, NULL) == OTD_OK;
	json_t *stops = json_array();
	for(size_t i = 0; i < d->n; i++) {
		const struct otd_tracked_stop *s = &d->stops[i];
		/* The code the visitor tells the customer at the door (the
		 * customer's page shows the same). */
		char code[5] = "";
		if(have_key)
			otd_doorstep_code(key, s->appointment_id, code);
		json_t *o;
		json_array_append_new(
		    stops,
		    o = json_pack(
		        "{s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:s?,s:b,s:o,s:o}", "reference",
		        s->reference, "status", s->status, "window_start",
		        time_or_null(s->window_start), "window_end", time_or_null(s->window_end),
		        "risk", s->risk, "p_late",
		        s->p_late < 0 ? json_null() : json_real(round(s->p_late * 1000) / 1000),
		        "expected_arrival", time_or_null(s->expected_arrival), "band_early",
		        time_or_null(s->band_early), "band_late", time_or_null(s->band_late),
		        "risk_reason", s->risk_reason[0] ? s->risk_reason : NULL, "forced",
		        s->forced, "arrived_at", time_or_null(s->arrived_at), "done_at",
		        time_or_null(s->done_at)));
		if(o)
			json_object_set_new(o, "doorstep_code",
			                    code[0] ? json_string(code) : json_null());
	}
	sodium_memzero(key, sizeof(key));
	return json_pack("{s:I,s:s,s:s,s:s?,s:o,s:i,s:b,s:s?,s:o,s:o}", "visitor_id",
	                 (json_int_t)d->visitor_id, "date", d->local_date, "state", d->state,
	                 "current", d->current[0] ? d->current : NULL, "since", time_or_null(d->since),
	                 "late_minutes", d->late_minutes, "silent", d->silent, "unavailable_reason",
	                 d->unavailable_reason[0] ? d->unavailable_reason : NULL, "last_event_at",
	                 time_or_null(d->last_event_at), "appointments", stops);
}

static enum otd_status reply_day(struct otd_req *req, int64_t visitor_id)
{
	struct otd_tracked_day d;
	enum otd_status st = app_tracked_day(req->app, visitor_id, req_query(req, "date"), &d,
	                                     &req->err);
	if(st)
		return st;
	st = reply_tracked(req, visitor_id, &d);
	otd_tracked_day_cleanup(&d);
	return st;
}

enum otd_status h_visitor_day(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	return reply_day(req, id);
}

enum otd_status h_my_day(struct otd_req *req)
{
	if(!req->principal.visitor_id)
		return otd_error_set(&req->err, OTD_EFORBIDDEN, "forbidden", NULL,
		                     "Only a visitor has a route of their own.");
	return reply_day(req, req->principal.visitor_id);
}
