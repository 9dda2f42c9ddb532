/* Booking routes: the slot offer, holds, booking, the customer's link
 * (read, reschedule, cancel, calendar file, waitlist), "send me a new
 * link", and the dispatcher's list, search, cancel and reschedule. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/board.h"
#include "app/booking.h"
#include "app/limits.h"
#include "app/planning.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "onthedot/message.h"
#include "http/json_in.h"
#include "onthedot/civil.h"
#include "onthedot/tz.h"

/* ---- encoding ----------------------------------------------------------- */

static json_t *window_json(const struct otd_app *app, int64_t start, int64_t end)
{
	char ls[48], le[48];
	otd_tz_format_local(app->tz, start, ls, sizeof(ls));
	otd_tz_format_local(app->tz, end, le, sizeof(le));
	struct otd_local a, b;
	otd_tz_to_local(app->tz, start, &a);
	otd_tz_to_local(app->tz, end, &b);
	char label[16];
	snprintf(label, sizeof(label), "%02d:%02d-%02d:%02d", a.c.hour, a.c.minute, b.c.hour,
	         b.c.minute);
	return json_pack("{s:o,s:o,s:s,s:s,s:s}", "start", json_utc(start), "end", json_utc(end),
	                 "local_start", ls, "local_end", le, "label", label);
}

static const char *const weekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};

static json_t *view_json(const struct otd_app *app, const struct otd_appointment_view *v,
                         bool staff, const char *link_token)
{
	const struct otd_appointment *a = &v->a;
	json_t *o = json_pack("{s:s,s:s,s:i,s:{s:s,s:s},s:s,s:o,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s}}",
	                      "reference", a->reference, "status", a->status, "promise_version",
	                      a->promise_version, "visit_type", "code", v->visit_type_code, "name",
	                      v->visit_type, "date", a->local_date, "window",
	                      window_json(app, a->window_start, a->window_end), "visitor",
	                      "first_name", v->visitor_first_name, "role", v->visitor_role,
	                      "address", "line1", v->address.line1, "line2", v->address.line2,
	                      "town", v->address.town, "postcode", v->address.postcode);
	/* Consent apart from the contact: staff also see the phone and email. */
	json_object_set_new(o, "customer",
	                    json_pack("{s:s,s:{s:b,s:b}}", "name", v->customer.name, "consent",
	                              "sms", a->consent_sms, "email", a->consent_email));
	json_object_set_new(o, "waitlist", json_string(v->waitlist));
	json_t *offers = json_array();
	for(size_t i = 0; i < v->n_offers; i++)
		json_array_append_new(offers,
		                      json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)v->offers[i].id,
		                                "date", v->offers[i].local_date, "window",
		                                window_json(app, v->offers[i].window_start,
		                                            v->offers[i].window_end),
		                                "held_until", json_utc(v->offers[i].expires_at)));
	json_object_set_new(o, "offers", offers);
	if(strcmp(a->status, "cancelled") == 0)
		json_object_set_new(o, "cancelled",
		                    json_pack("{s:o,s:s,s:I}", "at", json_utc(a->cancelled_at), "by",
		                              a->cancelled_by, "notice_hours",
		                              (json_int_t)(a->cancel_notice_s / 3600)));
	if(link_token && link_token[0]) {
		char path[80], ics[100];
		snprintf(path, sizeof(path), "/a/%s", link_token);
		snprintf(ics, sizeof(ics), "/api/v1/a/%s/ics", link_token);
		char *url = xasprintf("%s%s", app->base_url, path);
		json_object_set_new(o, "link", json_pack("{s:s,s:s,s:s}", "url", url, "path", path,
		                                         "ics", ics));
		free(url);
	}
	if(staff) {
		json_object_set_new(o, "id", json_integer(a->id));
		json_object_set_new(o, "visitor_id", json_integer(a->visitor_id));
		json_object_set_new(o, "risk", json_string(a->risk));
		json_object_set_new(o, "booked_by", json_string(a->booked_by));
		json_object_set_new(o, "route_position",
		                    a->route_position >= 0 ? json_integer(a->route_position) : json_null());
		json_t *cu = json_object_get(o, "customer");
		json_object_set_new(cu, "phone",
		                    v->customer.phone[0] ? json_string(v->customer.phone) : json_null());
		json_object_set_new(cu, "email",
		                    v->customer.email[0] ? json_string(v->customer.email) : json_null());
		json_object_set_new(cu, "access_notes", json_string(v->customer.access_notes
		                                                        ? v->customer.access_notes
		                                                        : ""));
		json_object_set_new(o, "created_at", json_utc(a->created_at));
		json_object_set_new(o, "updated_at", json_utc(a->updated_at));
	} else {
		json_object_set_new(json_object_get(o, "customer"), "access_notes",
		                    json_string(v->customer.access_notes ? v->customer.access_notes
		                                                         : ""));
	}
	return o;
}

/* Adds {"alternatives": [...]} to a 409 so a taken window is not a dead end. */
static void add_alternatives(struct otd_req *req, int64_t address_id, int64_t visit_type_id,
                             int64_t start)
{
	struct otd_offer_window w[3];
	size_t n = app_nearest_windows(req->app, address_id, visit_type_id, start, w, 3);
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		char date[11];
		planner_local_date(req->app->planner, w[i].start, date);
		json_t *o = window_json(req->app, w[i].start, w[i].end);
		json_object_set_new(o, "date", json_string(date));
		json_array_append_new(arr, o);
	}
	req->err_extra = json_pack("{s:o}", "alternatives", arr);
}

void req_client_key(const struct otd_req *req, char *out, size_t size)
{
	const struct otd_principal *p = &req->principal;
	if(p->kind == OTD_PRINCIPAL_SESSION)
		snprintf(out, size, "user:%lld", (long long)p->user_id);
	else if(p->kind == OTD_PRINCIPAL_TOKEN)
		snprintf(out, size, "token:%lld", (long long)p->token_id);
	else
		snprintf(out, size, "ip:%s", req->client_ip);
}

enum otd_status req_throttle(struct otd_req *req, struct otd_limiter *l, const char *what)
{
	char key[96];
	req_client_key(req, key, sizeof(key));
	int retry = 1;
	if(limiter_take(l, key, otd_clock_now_ms(req->app->clock), &retry))
		return OTD_OK;
	otd_error_set(&req->err, OTD_ERATE, "rate_limited", NULL,
	              "Too many %s from you; wait %d seconds and try again.", what, retry);
	req->err.retry_after = retry;
	return OTD_ERATE;
}

/* ---- decoding ----------------------------------------------------------- */

static enum otd_status parse_id_param(struct otd_req *req, const char *name, bool required,
                                      int64_t *out)
{
	const char *s = req_query(req, name);
	*out = 0;
	if(!s) {
		if(required)
			return otd_error_set(&req->err, OTD_EINVAL, "missing_parameter", name,
			                     "The query parameter %s is required.", name);
		return OTD_OK;
	}
	if(id_decode(s, out) != OTD_OK)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", name,
		                     "%s must be a positive whole number.", name);
	return OTD_OK;
}

static enum otd_status parse_coordinate(struct otd_req *req, const char *name, double lo,
                                        double hi, double *out)
{
	const char *s = req_query(req, name);
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : 0;
	if(!s || !*s || *end || errno || !(v >= lo && v <= hi))
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", name,
		                     "%s must be a number from %g to %g.", name, lo, hi);
	*out = v;
	return OTD_OK;
}

/* Appends two digits. */
static char *two(char *p, int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* "YYYY-MM-DDTHH:MM:SS" of a civil time. */
static char *civil_text(char *p, const struct otd_civil *c)
{
	p = two(p, c->year / 100);
	p = two(p, c->year % 100);
	*p++ = '-';
	p = two(p, c->month);
	*p++ = '-';
	p = two(p, c->day);
	*p++ = 'T';
	p = two(p, c->hour);
	*p++ = ':';
	p = two(p, c->minute);
	*p++ = ':';
	p = two(p, c->second);
	return p;
}

static char *offset_text(char *p, int32_t off)
{
	*p++ = off < 0 ? '-' : '+';
	if(off < 0)
		off = -off;
	p = two(p, off / 3600);
	*p++ = ':';
	return two(p, off / 60 % 60);
}

/* Appends {"start","end","local_start","local_end","label" of a window,
 * the same fields as window_json, leaving the object open. */
static void put_window(struct otd_buf *b, const struct otd_tz *tz, int64_t start, int64_t end)
{
	struct otd_local ls, le;
	otd_tz_to_local(tz, start, &ls);
	otd_tz_to_local(tz, end, &le);
	struct otd_civil us, ue;
	otd_civil_from_seconds(start, &us);
	otd_civil_from_seconds(end, &ue);
	char text[256], *p = text;
	memcpy(p, "{\"start\":\"", 10);
	p = civil_text(p + 10, &us);
	memcpy(p, "Z\",\"end\":\"", 10);
	p = civil_text(p + 10, &ue);
	memcpy(p, "Z\",\"local_start\":\"", 18);
	p = civil_text(p + 18, &ls.c);
	p = offset_text(p, ls.offset);
	memcpy(p, "\",\"local_end\":\"", 15);
	p = civil_text(p + 15, &le.c);
	p = offset_text(p, le.offset);
	memcpy(p, "\",\"label\":\"", 11);
	p += 11;
	p = two(p, ls.c.hour);
	*p++ = ':';
	p = two(p, ls.c.minute);
	*p++ = '-';
	p = two(p, le.c.hour);
	*p++ = ':';
	p = two(p, le.c.minute);
	*p++ = '"';
	otd_buf_append(b, text, (size_t)(p - text));
}

enum otd_status h_slots(struct otd_req *req)
{
	enum otd_status st = req_throttle(req, req->app->limits->slots, "availability searches");
	if(st)
		return st;
	struct otd_slot_query q = {0};
	if((st = parse_id_param(req, "visit_type", true, &q.visit_type_id)))
		return st;
	if((st = parse_id_param(req, "address", false, &q.address_id)))
		return st;
	if(!q.address_id) {
		if(!req_query(req, "lat") && !req_query(req, "lon"))
			return otd_error_set(&req->err, OTD_EINVAL, "missing_parameter", "address",
			                     "Give address (a gazetteer id) or lat and lon.");
		if((st = parse_coordinate(req, "lat", -90, 90, &q.lat)) ||
		   (st = parse_coordinate(req, "lon", -180, 180, &q.lon)))
			return st;
	}
	const char *link = req_query(req, "link");
	if(link && app_link_resolve(req->app, link, &q.for_appointment, &req->err) != OTD_OK)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_link", "link",
		                     "That link does not work; moving a visit needs the link we sent.");
	int64_t now = otd_clock_now(req->app->clock);
	const char *from = req_query(req, "from"), *to = req_query(req, "to");
	if(from && strlen(from) < sizeof(q.from))
		memcpy(q.from, from, strlen(from) + 1);
	else if(from)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_date", "from",
		                     "from is a date YYYY-MM-DD.");
	else
		planner_local_date(req->app->planner, now, q.from);
	if(to && strlen(to) < sizeof(q.to)) {
		memcpy(q.to, to, strlen(to) + 1);
	} else if(to) {
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_date", "to",
		                     "to is a date YYYY-MM-DD.");
	} else {
		int y, m, d;
		if(otd_date_parse(q.from, &y, &m, &d, NULL) == OTD_OK) {
			otd_civil_from_days(otd_days_from_civil(y, m, d) + 13, &y, &m, &d);
			otd_date_format(y, m, d, q.to);
		}
	}
	struct otd_slot_result r;
	st = app_slots(req->app, &q, &r, &req->err);
	if(st)
		return st;
	/* Written directly rather than through jansson: an answer holds a
	 * couple of hundred windows and this is the busiest public route.
	 * Every string in it is ASCII the server made (dates, times, labels)
	 * or validated (the zone name, the dates asked for). */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b,
	               "{\"timezone\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"window_minutes\":%d,"
	               "\"days\":[",
	               otd_tz_name(req->app->tz), q.from, q.to, r.width_minutes);
	for(size_t i = 0; i < r.n_days; i++) {
		int y, m, d;
		otd_date_parse(r.days[i].date, &y, &m, &d, NULL);
		otd_buf_printf(&b, "%s{\"date\":\"%s\",\"weekday\":\"%s\",\"windows\":[", i ? "," : "",
		               r.days[i].date, weekdays[otd_weekday(otd_days_from_civil(y, m, d))]);
		for(size_t k = 0; k < r.days[i].n; k++) {
			const struct otd_offer_window *w = &r.days[i].windows[k];
			if(k)
				otd_buf_append(&b, ",", 1);
			put_window(&b, req->app->tz, w->start, w->end);
			otd_buf_printf(&b, ",\"capacity\":%d,\"capacity_label\":\"%s\","
			                   "\"travel_added_minutes\":%lld,\"green\":%s}",
			               w->visitors, w->visitors >= 3 ? "3+" : w->visitors == 2 ? "2" : "1",
			               (long long)(w->travel_added / 60.0 + 0.5),
			               w->green ? "true" : "false");
		}
		otd_buf_puts(&b, "]}");
	}
	otd_buf_puts(&b, "]}");
	otd_slot_result_cleanup(&r);
	size_t len = b.len;
	req_reply_raw(req, 200, "application/json", otd_buf_steal(&b), len);
	return OTD_OK;
}

static const struct field_spec hold_fields[] = {
    {"address", FIELD_INT, true, 1, 9e15, false},
    {"visit_type", FIELD_INT, true, 1, 9e15, false},
    {"window_start", FIELD_STRING, true, 1, 40, false},
    {"link", FIELD_STRING, false, 1, 64, false},
    {"appointment", FIELD_STRING, false, 1, 20, false},
};

enum otd_status hold_decode(const json_t *body, int64_t *address, int64_t *visit_type,
                            int64_t *start, const char **link, struct otd_error *err)
{
	enum otd_status st = json_check(body, hold_fields, 5, NULL, err);
	if(st)
		return st;
	*address = json_get_int(body, "address", 0);
	*visit_type = json_get_int(body, "visit_type", 0);
	*link = json_get_str(body, "link");
	if(otd_rfc3339_parse(json_get_str(body, "window_start"), start, err) != OTD_OK) {
		snprintf(err->field, sizeof(err->field), "window_start");
		return OTD_EINVAL;
	}
	return OTD_OK;
}

enum otd_status h_hold_create(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_hold_request hr = {0};
	const char *link = NULL;
	enum otd_status st = hold_decode(body, &hr.address_id, &hr.visit_type_id, &hr.window_start,
	                                 &link, &req->err);
	const char *reference = st == OTD_OK ? json_get_str(body, "appointment") : NULL;
	if(st == OTD_OK && link && reference) {
		st = otd_error_set(&req->err, OTD_EINVAL, "conflicting_fields", "appointment",
		                   "Give either \"link\" or \"appointment\", not both.");
	} else if(st == OTD_OK && link) {
		/* A hold to move an existing booking: the link proves whose. */
		st = app_link_resolve(req->app, link, &hr.for_appointment, &req->err);
		if(st == OTD_ENOTFOUND)
			req->err.status = st = OTD_EINVAL, snprintf(req->err.field, sizeof(req->err.field),
			                                            "link");
	} else if(st == OTD_OK && reference) {
		/* Staff moving a booking (a phone call) name it by its reference. */
		if(req->principal.kind == OTD_PRINCIPAL_NONE)
			st = otd_error_set(&req->err, OTD_EINVAL, "staff_only", "appointment",
			                   "Only staff can name a booking by its reference; use the link "
			                   "we sent you instead (\"link\").");
		else if((st = app_appointment_by_reference(req->app, reference, &hr.for_appointment,
		                                           &req->err)) == OTD_ENOTFOUND)
			st = otd_error_set(&req->err, OTD_EINVAL, "unknown_appointment", "appointment",
			                   "There is no appointment %.20s.", reference);
	}
	json_decref(body);
	if(st)
		return st;
	char key[96];
	req_client_key(req, key, sizeof(key));
	hr.client_key = key;
	struct otd_hold_result out;
	st = app_hold_create(req->app, &req->principal, &hr, &out, &req->err);
	if(st == OTD_ECONFLICT)
		add_alternatives(req, hr.address_id, hr.visit_type_id, hr.window_start);
	if(st)
		return st;
	req_reply_json(req, 201,
	               json_pack("{s:s,s:o,s:s,s:o,s:s}", "hold", out.token, "expires_at",
	                         json_utc(out.hold.expires_at), "date", out.hold.local_date, "window",
	                         window_json(req->app, out.hold.window_start, out.hold.window_end),
	                         "purpose", out.hold.purpose));
	return OTD_OK;
}

static const struct field_spec booking_fields[] = {
    {"hold", FIELD_STRING, true, 1, 64, false},
    {"name", FIELD_STRING, true, 1, 200, false},
    {"phone", FIELD_STRING, false, 0, 32, true},
    {"email", FIELD_STRING, false, 0, 254, true},
    {"access_notes", FIELD_STRING, false, 0, 2000, true},
    {"consent", FIELD_OBJECT, true, 0, 0, false},
};

static const struct field_spec consent_fields[] = {
    {"sms", FIELD_BOOL, true, 0, 0, false},
    {"email", FIELD_BOOL, true, 0, 0, false},
};

enum otd_status booking_decode(const json_t *body, struct otd_booking_request *out,
                               struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	enum otd_status st = json_check(body, booking_fields, 6, NULL, err);
	if(st)
		return st;
	json_t *consent = json_object_get(body, "consent");
	if((st = json_check(consent, consent_fields, 2, "consent.", err)))
		return st;
	out->hold_token = json_get_str(body, "hold");
	out->name = json_get_str(body, "name");
	out->phone = json_get_str(body, "phone");
	out->email = json_get_str(body, "email");
	out->access_notes = json_get_str(body, "access_notes");
	out->consent_sms = json_get_bool(consent, "sms", false);
	out->consent_email = json_get_bool(consent, "email", false);
	return OTD_OK;
}

enum otd_status h_book(struct otd_req *req)
{
	struct otd_idem idem;
	bool has_key;
	enum otd_status st = req_idem(req, &idem, &has_key);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	struct otd_booking_request br;
	st = booking_decode(body, &br, &req->err);
	/* A customer's client may ask for only so many text messages (staff
	 * booking for a caller are not capped here). */
	if(st == OTD_OK && br.consent_sms && req->principal.kind == OTD_PRINCIPAL_NONE)
		st = req_throttle(req, req->app->limits->sms, "bookings asking for text messages");
	if(st == OTD_OK) {
		br.idem = has_key ? &idem : NULL;
		struct otd_appointment_view v;
		st = app_book(req->app, &req->principal, &br, &v, &req->err);
		if(st == OTD_OK) {
			char loc[64];
			snprintf(loc, sizeof(loc), "/api/v1/appointments/%s", v.a.reference);
			req_add_header(req, "Location", loc);
			if(v.replayed)
				req_add_header(req, "Idempotent-Replayed", "true");
			req_reply_json(req, 201,
			               view_json(req->app, &v, req->principal.kind != OTD_PRINCIPAL_NONE,
			                         v.link_token));
		} else if(st == OTD_ECONFLICT && v.a.address_id) {
			/* The window went: offer the nearest others, not a dead end. */
			add_alternatives(req, v.a.address_id, v.a.visit_type_id, v.a.window_start);
		}
		otd_appointment_view_cleanup(&v);
	}
	json_decref(body);
	return st;
}

/* ---- through the customer's link -------------------------------------------- */

/* Every invalid link gets the same 404 (DESIGN.md, Security model); these
 * answers must not be cached or leak the link onwards: the server sends
 * Referrer-Policy: no-referrer and Cache-Control: no-store on every answer
 * (adding them here again sent the header twice). The OpenAPI document
 * requires both on these routes. */
static enum otd_status link_of(struct otd_req *req, int64_t *id)
{
	return app_link_resolve(req->app, req->params[0], id, &req->err);
}

enum otd_status h_link_view(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = link_of(req, &id);
	if(st)
		return st;
	struct otd_appointment_view v;
	st = app_appointment_view(req->app, id, &v, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, view_json(req->app, &v, false, req->params[0]));
	otd_appointment_view_cleanup(&v);
	return OTD_OK;
}

static const struct field_spec reschedule_fields[] = {
    {"hold", FIELD_STRING, false, 1, 64, false},
    {"offer", FIELD_INT, false, 1, 9e15, false},
    {"reason", FIELD_STRING, false, 1, 500, false},
};

enum otd_status reschedule_decode(const json_t *body, const char **hold, int64_t *offer,
                                  const char **reason, struct otd_error *err)
{
	enum otd_status st = json_check(body, reschedule_fields, 3, NULL, err);
	if(st)
		return st;
	*hold = json_get_str(body, "hold");
	*offer = json_get_int(body, "offer", 0);
	*reason = json_get_str(body, "reason");
	if(!*hold == !*offer)
		return otd_error_set(err, OTD_EINVAL, "missing_field", "hold",
		                     "Give either \"hold\" (a window you chose) or \"offer\" (a window "
		                     "offered to you).");
	return OTD_OK;
}

static enum otd_status reschedule(struct otd_req *req, int64_t id, bool by_customer)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	const char *hold, *reason;
	int64_t offer;
	enum otd_status st = reschedule_decode(body, &hold, &offer, &reason, &req->err);
	struct otd_appointment_view v = {0};
	if(st == OTD_OK && !by_customer && !reason)
		st = otd_error_set(&req->err, OTD_EINVAL, "missing_field", "reason",
		                   "Say why the visit moves: it is kept with the booking's history.");
	if(st == OTD_OK)
		st = app_reschedule(req->app, &req->principal, id, hold, offer, by_customer,
		                    by_customer ? NULL : reason, &v, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200,
		               view_json(req->app, &v, !by_customer, by_customer ? req->params[0] : NULL));
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status h_link_reschedule(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = link_of(req, &id);
	return st ? st : reschedule(req, id, true);
}

static const struct field_spec cancel_fields[] = {
    {"reason", FIELD_STRING, false, 1, 500, false},
};

static enum otd_status cancel(struct otd_req *req, int64_t id, bool by_customer)
{
	const char *reason = NULL;
	json_t *body = NULL;
	enum otd_status st = OTD_OK;
	if(req->body.len) {
		body = req_body_object(req);
		if(!body)
			return OTD_EINVAL;
		st = json_check(body, cancel_fields, 1, NULL, &req->err);
		reason = json_get_str(body, "reason");
	}
	if(st == OTD_OK && !by_customer && !reason)
		st = otd_error_set(&req->err, OTD_EINVAL, "missing_field", "reason",
		                   "Say why the visit is cancelled: the customer is told.");
	struct otd_appointment_view v = {0};
	if(st == OTD_OK)
		st = app_cancel(req->app, &req->principal, id, by_customer, reason, &v, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200,
		               view_json(req->app, &v, !by_customer, by_customer ? req->params[0] : NULL));
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status h_link_cancel(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = link_of(req, &id);
	return st ? st : cancel(req, id, true);
}

enum otd_status h_link_ics(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = link_of(req, &id);
	if(st)
		return st;
	char *ics = NULL;
	st = app_appointment_ics(req->app, id, &ics, &req->err);
	if(st)
		return st;
	req_add_header(req, "Content-Disposition", "attachment; filename=\"visit.ics\"");
	req_reply_raw(req, 200, "text/calendar; charset=utf-8; method=PUBLISH", ics, strlen(ics));
	return OTD_OK;
}

static const struct field_spec waitlist_fields[] = {
    {"on", FIELD_BOOL, true, 0, 0, false},
};

enum otd_status h_link_waitlist(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = link_of(req, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, waitlist_fields, 1, NULL, &req->err);
	bool on = json_get_bool(body, "on", false);
	json_decref(body);
	if(st == OTD_OK)
		st = app_waitlist(req->app, id, on, &req->err);
	if(st)
		return st;
	struct otd_appointment_view v;
	st = app_appointment_view(req->app, id, &v, &req->err);
	if(st == OTD_OK)
		req_reply_json(req, 200, view_json(req->app, &v, false, req->params[0]));
	otd_appointment_view_cleanup(&v);
	return st;
}

static const struct field_spec resend_fields[] = {
    {"reference", FIELD_STRING, true, 1, 20, false},
    {"contact", FIELD_STRING, true, 1, 254, false},
};

enum otd_status h_link_resend(struct otd_req *req)
{
	enum otd_status st = req_throttle(req, req->app->limits->resend, "requests for a new link");
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, resend_fields, 2, NULL, &req->err);
	if(st == OTD_OK)
		st = app_resend_link(req->app, json_get_str(body, "reference"),
		                     json_get_str(body, "contact"), &req->err);
	json_decref(body);
	if(st)
		return st;
	/* The same answer whether or not anything matched. */
	req_reply_json(req, 202,
	               json_pack("{s:s}", "message",
	                         "If the reference and the phone number or email match a booking, "
	                         "we have sent a new link there. Links sent before no longer work."));
	return OTD_OK;
}

/* ---- dispatchers ------------------------------------------------------------ */

enum otd_status h_appointments_list(struct otd_req *req)
{
	int limit;
	int64_t after;
	enum otd_status st = req_page(req, &limit, &after);
	if(st)
		return st;
	struct otd_appointment_filter f = {.limit = limit, .after_id = after};
	f.local_date = req_query(req, "date");
	int y, m, d;
	if(f.local_date && otd_date_parse(f.local_date, &y, &m, &d, &req->err) != OTD_OK) {
		snprintf(req->err.field, sizeof(req->err.field), "date");
		return OTD_EINVAL;
	}
	if((st = parse_id_param(req, "visitor", false, &f.visitor_id)))
		return st;
	f.status = req_query(req, "status");
	static const char *const statuses[] = {"booked", "travelling", "arrived",
	                                       "done",   "no_access",  "cancelled"};
	bool known = !f.status;
	for(size_t i = 0; !known && i < 6; i++)
		known = strcmp(f.status, statuses[i]) == 0;
	if(!known)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "status",
		                     "status must be booked, travelling, arrived, done, no_access or "
		                     "cancelled.");
	f.query = req_query(req, "q");
	if(f.query && (strlen(f.query) < 2 || strlen(f.query) > 100))
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "q",
		                     "Search for 2 to 100 characters: a reference, name, phone number, "
		                     "email or postcode.");
	struct otd_appointment_view *items = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_appointments_search(req->app, &f, &items, &n, &next, &req->err);
	if(st)
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		json_array_append_new(arr, view_json(req->app, &items[i], true, NULL));
		otd_appointment_view_cleanup(&items[i]);
	}
	free(items);
	req_reply_page(req, arr, next);
	return OTD_OK;
}

static enum otd_status by_reference(struct otd_req *req, int64_t *id)
{
	return app_appointment_by_reference(req->app, req->params[0], id, &req->err);
}

enum otd_status h_appointment_get(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	if(st)
		return st;
	struct otd_appointment_view v;
	st = app_appointment_view(req->app, id, &v, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, view_json(req->app, &v, true, NULL));
	otd_appointment_view_cleanup(&v);
	return OTD_OK;
}

enum otd_status h_appointment_cancel(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	return st ? st : cancel(req, id, false);
}

enum otd_status h_appointment_reschedule(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	return st ? st : reschedule(req, id, false);
}

static const struct field_spec reassign_fields[] = {
    {"visitor_id", FIELD_INT, true, 1, 9007199254740991.0, false},
    {"reason", FIELD_STRING, false, 1, 300, true},
};

enum otd_status h_appointment_reassign(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, reassign_fields, 2, NULL, &req->err);
	struct otd_appointment_view v = {0};
	if(st == OTD_OK)
		st =
		    app_reassign(req->app, &req->principal, id, json_get_int(body, "visitor_id", 0),
		                 json_get_str(body, "reason"), &v, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200, view_json(req->app, &v, true, NULL));
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status h_appointment_reassign_options(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	if(st)
		return st;
	struct otd_reassign_option *o = NULL;
	size_t n = 0;
	if((st = app_reassign_options(req->app, id, 50, &o, &n, &req->err)))
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		char at[32];
		otd_rfc3339_format(o[i].expected_arrival, at, sizeof(at));
		json_array_append_new(arr,
		                      json_pack("{s:I,s:s,s:I,s:s,s:i}", "visitor_id",
		                                (json_int_t)o[i].visitor_id, "name", o[i].name,
		                                "travel_added_minutes",
		                                (json_int_t)llround(o[i].travel_added_s / 60),
		                                "expected_arrival", at, "position", o[i].position));
	}
	free(o);
	req_reply_json(req, 200, json_pack("{s:o}", "options", arr));
	return OTD_OK;
}

enum otd_status h_appointment_messages(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	if(st)
		return st;
	json_t *out = NULL;
	if((st = app_appointment_messages(req->app, id, &out, &req->err)))
		return st;
	req_reply_json(req, 200, out);
	return OTD_OK;
}

enum otd_status h_appointment_message(struct otd_req *req)
{
	static const struct field_spec spec[] = {
	    {"text", FIELD_STRING, true, 1, OTD_PERSONAL_NOTE_MAX, false},
	    {"channel", FIELD_STRING, false, 1, 16, true},
	};
	int64_t id;
	enum otd_status st = by_reference(req, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	int queued = 0;
	st = json_check(body, spec, 2, NULL, &req->err);
	if(st == OTD_OK)
		st = app_personal_message(req->app, &req->principal, id, json_get_str(body, "text"),
		                          json_get_str(body, "channel"), &queued, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 202, json_pack("{s:i}", "queued", queued));
	return st;
}

enum otd_status h_booking_visit_types(struct otd_req *req)
{
	struct otd_visit_type *items = NULL;
	size_t n = 0;
	int64_t next = 0;
	enum otd_status st = app_visit_type_list(req->app, 0, 200, 1, &items, &n, &next, &req->err);
	if(st)
		return st;
	json_t *arr = json_array();
	for(size_t i = 0; i < n; i++) {
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:i}", "id", (json_int_t)items[i].id,
		                                     "code", items[i].code, "name", items[i].name,
		                                     "window_minutes", items[i].window_min));
		otd_visit_type_cleanup(&items[i]);
	}
	free(items);
	req_reply_json(req, 200, json_pack("{s:o}", "items", arr));
	return OTD_OK;
}

/* ---- area-wide disruptions -------------------------------------------------- */

enum otd_status h_disruption_declare(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	static const struct field_spec spec[] = {
	    {"date", FIELD_STRING, true, 10, 10, false},
	    {"note", FIELD_STRING, true, 1, 300, false},
	    {"postcodes", FIELD_ARRAY, false, 0, OTD_DISRUPTION_POSTCODES_MAX, true},
	};
	enum otd_status st = json_check(body, spec, 3, "", &req->err);
	const char *pcs[OTD_DISRUPTION_POSTCODES_MAX];
	size_t n = 0;
	json_t *arr = json_object_get(body, "postcodes");
	for(size_t i = 0; st == OTD_OK && json_is_array(arr) && i < json_array_size(arr); i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if(!s)
			st = otd_error_set(&req->err, OTD_EINVAL, "bad_type", "postcodes",
			                   "postcodes[%zu] must be a string such as \"ZZ1\".", i);
		else
			pcs[n++] = s;
	}
	struct otd_disruption_result r;
	if(st == OTD_OK) {
		struct otd_disruption d = {.local_date = json_get_str(body, "date"),
		                           .note = json_get_str(body, "note"),
		                           .postcodes = pcs,
		                           .n_postcodes = n};
		st = app_disruption_declare(req->app, &req->principal, &d, &r, &req->err);
	}
	json_decref(body);
	if(st)
		return st;
	req_reply_json(req, 201,
	               json_pack("{s:I,s:i,s:i}", "id", (json_int_t)r.id, "affected", r.affected,
	                         "told", r.told));
	return OTD_OK;
}
