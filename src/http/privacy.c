/* Privacy over HTTP, for admins: erasing a contact, the subject access
 * export, the audit log (app/privacy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/privacy.h"
#include "http/handlers.h"
#include "http/http.h"
#include "onthedot/civil.h"

enum otd_status h_customer_erase(struct otd_req *req)
{
	struct otd_privacy_subject s = {.reference = req->params[0]};
	struct otd_erase_result r;
	enum otd_status st = app_privacy_erase(req->app, &req->principal, &s, &r, &req->err);
	if(st)
		return st;
	size_t now = r.contacts - r.already_erased;
	req_reply_json(req, 200,
	               json_pack("{s:b,s:b,s:I,s:o,s:b}", "erased", now > 0, "already_erased",
	                         now == 0, "contacts", (json_int_t)r.contacts, "counts",
	                         app_erase_counts_json(&r.counts), "log_truncated",
	                         r.log_truncated));
	return OTD_OK;
}

enum otd_status h_customer_export(struct otd_req *req)
{
	struct otd_privacy_subject s = {.reference = req->params[0]};
	json_t *doc = NULL;
	enum otd_status st = app_privacy_export(req->app, &req->principal, &s, &doc, &req->err);
	if(st)
		return st;
	req_add_header(req, "Cache-Control", "no-store");
	req_reply_json(req, 200, doc);
	return OTD_OK;
}

/* A positive integer query parameter (0 when absent). */
static enum otd_status query_id(struct otd_req *req, const char *name, int64_t *out)
{
	*out = 0;
	const char *v = req_query(req, name);
	if(!v)
		return OTD_OK;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if(errno || *end || end == v || x < 1)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", name,
		                     "%s must be a whole number of 1 or more.", name);
	*out = (int64_t)x;
	return OTD_OK;
}

static json_t *audit_json(const struct otd_audit_entry *e)
{
	char at[32];
	otd_rfc3339_format(e->at, at, sizeof(at));
	json_t *detail = json_loads(e->detail ? e->detail : "{}", 0, NULL);
	return json_pack(
	    "{s:I,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)e->id, "at", at,
	    "actor_kind", e->actor_kind, "actor_id",
	    e->actor_id ? json_integer(e->actor_id) : json_null(), "action", e->action, "entity",
	    e->entity, "entity_id", e->entity_id ? json_integer(e->entity_id) : json_null(), "ip",
	    e->ip[0] ? json_string(e->ip) : json_null(), "detail", detail ? detail : json_object());
}

enum otd_status h_audit_list(struct otd_req *req)
{
	struct otd_audit_filter f = {.limit = 50};
	int max = req->app->cfg->limits.list_max;
	const char *l = req_query(req, "limit");
	if(l) {
		char *end;
		errno = 0;
		long v = strtol(l, &end, 10);
		if(errno || *end || end == l || v < 1 || v > max)
			return otd_error_set(&req->err, OTD_EINVAL, "invalid_limit", "limit",
			                     "limit must be a whole number from 1 to %d.", max);
		f.limit = (int)v;
	}
	if(f.limit > max)
		f.limit = max;
	const char *since = req_query(req, "since");
	if(since && otd_rfc3339_parse(since, &f.since, NULL) != OTD_OK)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "since",
		                     "since must be an instant such as 2026-03-03T08:00:00Z.");
	enum otd_status st;
	if((st = query_id(req, "before_id", &f.before_id)) ||
	   (st = query_id(req, "entity_id", &f.entity_id)))
		return st;
	f.entity = req_query(req, "entity");
	if(f.entity && (!f.entity[0] || strlen(f.entity) > 64))
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "entity",
		                     "entity is a record kind such as appointment, customer or "
		                     "visitor (1 to 64 characters).");
	struct otd_audit_entry *v = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_audit_list(req->app, &f, &v, &n, &next, &req->err);
	if(st)
		return st;
	json_t *items = json_array();
	for(size_t i = 0; i < n; i++)
		json_array_append_new(items, audit_json(&v[i]));
	store_audit_entries_free(v, n);
	req_reply_json(req, 200,
	               json_pack("{s:o,s:o}", "items", items, "next_before_id",
	                         next ? json_integer(next) : json_null()));
	return OTD_OK;
}
