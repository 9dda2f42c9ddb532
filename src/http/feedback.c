/* Feedback over HTTP: the customer's, through their link; the moderation
 * queue for dispatchers; and the public trust figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/booking.h"
#include "app/feedback.h"
#include "app/trust.h"
#include "http/handlers.h"
#include "http/http.h"
#include "http/json_in.h"

static json_t *instant_or_null(struct otd_req *req, int64_t t)
{
	return t ? json_instant(req->app, t) : json_null();
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* What the customer sees of their own feedback. */
static json_t *customer_json(struct otd_req *req, const struct otd_feedback *f)
{
	return json_pack("{s:i,s:s,s:b,s:s,s:o,s:b,s:o,s:o}", "rating", f->rating, "comment",
	                 f->comment ? f->comment : "", "publish_consent", f->publish_consent,
	                 "moderation", f->moderation, "published_comment",
	                 string_or_null(f->published_comment), "changeable",
	                 strcmp(f->moderation, "pending") == 0, "given_at",
	                 json_instant(req->app, f->created_at), "updated_at",
	                 json_instant(req->app, f->updated_at));
}

/* What a moderator sees. */
static json_t *staff_json(struct otd_req *req, const struct otd_feedback *f)
{
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:i,s:s,s:b,s:s,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)f->id,
	    "reference", f->reference, "visit_type", f->visit_type, "visit_date", f->visit_date,
	    "rating", f->rating, "comment", f->comment ? f->comment : "", "publish_consent",
	    f->publish_consent, "moderation", f->moderation, "published_comment",
	    string_or_null(f->published_comment), "moderation_reason",
	    string_or_null(f->moderation_reason), "given_at", json_instant(req->app, f->created_at),
	    "updated_at", json_instant(req->app, f->updated_at), "moderated_at",
	    instant_or_null(req, f->moderated_at));
	json_object_set_new(o, "moderated_by",
	                    f->moderated_by ? json_integer(f->moderated_by) : json_null());
	return o;
}

/* ---- the customer's link ----------------------------------------------------- */

enum otd_status h_link_feedback_get(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = app_link_resolve(req->app, req->params[0], &id, &req->err);
	if(st)
		return st;
	struct otd_feedback_view v;
	st = app_feedback_get(req->app, id, &v, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200,
	               json_pack("{s:b,s:b,s:o}", "can_give", v.can_give, "changeable",
	                         v.changeable, "feedback",
	                         v.given ? customer_json(req, &v.fb) : json_null()));
	otd_feedback_view_cleanup(&v);
	return OTD_OK;
}

/* The comment's bound here is loose (line ends sent as CRLF count once
 * after the use case normalises them); the use case checks the 2,000. */
static const struct field_spec feedback_fields[] = {
    {"rating", FIELD_INT, true, 1, 5, false},
    {"comment", FIELD_STRING, false, 0, 2 * OTD_FEEDBACK_COMMENT_MAX, true},
    {"publish_consent", FIELD_BOOL, false, 0, 0, false},
};

enum otd_status h_link_feedback(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = app_link_resolve(req->app, req->params[0], &id, &req->err);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, feedback_fields, sizeof(feedback_fields) / sizeof(feedback_fields[0]),
	                "", &req->err);
	struct otd_feedback f = {0};
	bool created = false;
	if(st == OTD_OK)
		st = app_feedback_submit(req->app, id, (int)json_get_int(body, "rating", 0),
		                         json_get_str(body, "comment"),
		                         json_get_bool(body, "publish_consent", false), &f,
		                         &created, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, created ? 201 : 200, customer_json(req, &f));
	otd_feedback_cleanup(&f);
	return st;
}

/* ---- moderation --------------------------------------------------------------- */

enum otd_status h_feedback_list(struct otd_req *req)
{
	int limit;
	int64_t after;
	enum otd_status st = req_page(req, &limit, &after);
	if(st)
		return st;
	struct otd_feedback *list = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_feedback_list(req->app, req_query(req, "state"), after, limit, &list, &n, &next,
	                       &req->err);
	if(st)
		return st;
	json_t *items = json_array();
	for(size_t i = 0; i < n; i++)
		json_array_append_new(items, staff_json(req, &list[i]));
	otd_feedback_list_free(list, n);
	req_reply_page(req, items, next);
	return OTD_OK;
}

static const struct field_spec moderate_fields[] = {
    {"action", FIELD_STRING, true, 1, 16, false},
    {"comment", FIELD_STRING, false, 0, 2 * OTD_FEEDBACK_COMMENT_MAX, true},
    {"reason", FIELD_STRING, false, 0, 300, true},
};

enum otd_status h_feedback_moderate(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, moderate_fields, sizeof(moderate_fields) / sizeof(moderate_fields[0]),
	                "", &req->err);
	struct otd_feedback f = {0};
	if(st == OTD_OK)
		st = app_feedback_moderate(
		    req->app, &req->principal, id, json_get_str(body, "action"),
		    json_get_str(body, "comment"), json_get_str(body, "reason"), &f, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200, staff_json(req, &f));
	otd_feedback_cleanup(&f);
	return st;
}

/* ---- the public figures ---------------------------------------------------------- */

static json_t *kept_json(const struct otd_trust_kept *k)
{
	json_t *o = json_pack("{s:I,s:I,s:I}", "due", (json_int_t)k->due, "kept",
	                      (json_int_t)k->kept, "early", (json_int_t)k->early);
	json_object_set_new(o, "kept_percent",
	                    k->percent >= 0 ? json_integer(k->percent) : json_null());
	if(k->width_min > 0)
		json_object_set_new(o, "width_minutes", json_integer(k->width_min));
	return o;
}

static json_t *period_json(const struct otd_trust_period *p)
{
	json_t *widths = json_array();
	for(size_t i = 0; i < p->n_widths; i++)
		json_array_append_new(widths, kept_json(&p->widths[i]));
	json_t *promises = kept_json(&p->overall);
	json_object_set_new(promises, "by_width", widths);
	json_object_set_new(promises, "widths_truncated", json_boolean(p->widths_truncated));
	json_t *notice =
	    json_pack("{s:I,s:I,s:o}", "delays", (json_int_t)p->delays, "told_before_start",
	              (json_int_t)p->told_before_start, "median_minutes",
	              p->has_median ? json_integer(p->median_notice_min) : json_null());
	json_t *paid = json_pack("{s:I,s:I,s:o}", "cases", (json_int_t)p->paid_cases, "paid_minor",
	                         (json_int_t)p->paid_minor, "currency",
	                         p->currency[0] ? json_string(p->currency) : json_null());
	json_t *feedback =
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "given", (json_int_t)p->feedback,
	              "good", (json_int_t)p->good, "neutral", (json_int_t)p->neutral, "bad",
	              (json_int_t)p->bad, "published", (json_int_t)p->published, "published_good",
	              (json_int_t)p->published_good, "published_bad", (json_int_t)p->published_bad,
	              "withheld", (json_int_t)p->withheld, "pending", (json_int_t)p->pending);
	return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "days", p->days, "from",
	                 json_utc(p->from), "to", json_utc(p->to), "promises", promises, "notice",
	                 notice, "compensation", paid, "feedback", feedback);
}

enum otd_status h_trust(struct otd_req *req)
{
	struct otd_trust_stats *s = xmalloc(sizeof(*s));
	enum otd_status st =
	    app_trust_stats(req->app, otd_clock_now(req->app->clock), s, &req->err);
	if(st) {
		free(s);
		return st;
	}
	json_t *periods = json_array();
	for(size_t i = 0; i < 2; i++)
		json_array_append_new(periods, period_json(&s->periods[i]));
	json_t *latest = json_array();
	for(size_t i = 0; i < s->n_latest; i++) {
		const struct otd_trust_comment *m = &s->latest[i];
		json_array_append_new(latest,
		                      json_pack("{s:i,s:s,s:b,s:s,s:s}", "rating", m->rating,
		                                "comment", m->comment, "redacted", m->redacted,
		                                "date", m->date, "visit_type", m->visit_type));
	}
	json_t *o =
	    json_pack("{s:o,s:i,s:o,s:o}", "computed_at", json_utc(s->computed_at), "cache_seconds",
	              OTD_TRUST_CACHE_S, "periods", periods, "published_feedback", latest);
	free(s);
	char cache[40];
	snprintf(cache, sizeof(cache), "public, max-age=%d", OTD_TRUST_CACHE_S);
	req_add_header(req, "Cache-Control", cache);
	req_reply_json(req, 200, o);
	return OTD_OK;
}
