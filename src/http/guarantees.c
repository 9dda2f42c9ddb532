/* The guarantee ledger over HTTP: cases (JSON or CSV), one case with its
 * evidence, paying, exempting, the quarterly report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/guarantees.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/http.h"
#include "http/json_in.h"
#include "onthedot/civil.h"

static json_t *time_json(int64_t t)
{
	if(!t)
		return json_null();
	char buf[32];
	otd_rfc3339_format(t, buf, sizeof(buf));
	return json_string(buf);
}

/* "ok", "near" or "passed" for an open case; null once settled. */
static json_t *deadline_status(struct otd_req *req, const struct otd_case *c)
{
	if(strcmp(c->state, "open") != 0)
		return json_null();
	int64_t now = otd_clock_now(req->app->clock);
	if(c->deadline_at < now)
		return json_string("passed");
	if(c->deadline_at < now + (int64_t)req->app->cfg->guarantees.near_days * 86400)
		return json_string("near");
	return json_string("ok");
}

static json_t *case_json(struct otd_req *req, const struct otd_case *c)
{
	json_t *o = json_pack("{s:I,s:s,s:i,s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:s}", "id",
	                      (json_int_t)c->id, "reference", c->reference, "promise_version",
	                      c->promise_version, "reason", c->reason, "rule_set", c->rule_set,
	                      "rule_version", c->rule_version, "amount_minor",
	                      (json_int_t)c->amount_minor, "currency", c->currency, "breached_at",
	                      time_json(c->breached_at), "deadline_at", time_json(c->deadline_at),
	                      "deadline_status", deadline_status(req, c), "state", c->state);
	json_object_set_new(o, "exempt_reason",
	                    c->exempt_reason[0] ? json_string(c->exempt_reason) : json_null());
	json_object_set_new(o, "exempt_note",
	                    c->exempt_note[0] ? json_string(c->exempt_note) : json_null());
	json_object_set_new(o, "paid_at", time_json(c->paid_at));
	json_object_set_new(o, "paid_minor",
	                    strcmp(c->state, "paid") == 0 ? json_integer(c->paid_minor)
	                                                  : json_null());
	json_object_set_new(
	    o, "paid_late",
	    json_boolean(strcmp(c->state, "paid") == 0 && c->paid_at > c->deadline_at));
	json_object_set_new(o, "penalty_minor", json_integer(c->penalty_minor));
	json_object_set_new(o, "notice_s",
	                    c->notice_s >= 0 ? json_integer(c->notice_s) : json_null());
	return o;
}

/* A CSV field: quoted when it holds a separator, a quote or a line end;
 * a leading = + - @ is defused so a spreadsheet does not run it. */
static void csv_field(struct otd_buf *b, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0] ? s[0] : 'x');
	if(quote) {
		otd_buf_puts(b, "\"");
		if(strchr("=+-@", s[0] ? s[0] : 'x'))
			otd_buf_puts(b, "'");
		for(const char *p = s; *p; p++)
			otd_buf_puts(b, *p == '"' ? "\"\"" : (char[]){*p, 0});
		otd_buf_puts(b, "\"");
	} else {
		otd_buf_puts(b, s);
	}
	otd_buf_puts(b, last ? "\r\n" : ",");
}

static void csv_case(struct otd_req *req, struct otd_buf *b, const struct otd_case *c)
{
	char id[24], amount[24], paid[24], penalty[24], breached[32], deadline[32], paid_at[32];
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	snprintf(amount, sizeof(amount), "%lld", (long long)c->amount_minor);
	snprintf(paid, sizeof(paid), "%lld",
	         (long long)(strcmp(c->state, "paid") == 0 ? c->paid_minor : 0));
	snprintf(penalty, sizeof(penalty), "%lld", (long long)c->penalty_minor);
	otd_rfc3339_format(c->breached_at, breached, sizeof(breached));
	otd_rfc3339_format(c->deadline_at, deadline, sizeof(deadline));
	paid_at[0] = '\0';
	if(c->paid_at)
		otd_rfc3339_format(c->paid_at, paid_at, sizeof(paid_at));
	json_t *ds = deadline_status(req, c);
	const char *fields[] = {
	    id,
	    c->reference,
	    c->reason,
	    c->rule_set,
	    c->rule_version,
	    c->currency,
	    amount,
	    breached,
	    deadline,
	    json_is_string(ds) ? json_string_value(ds) : "",
	    c->state,
	    c->exempt_reason,
	    paid_at,
	    paid,
	    penalty,
	    strcmp(c->state, "paid") == 0 && c->paid_at > c->deadline_at ? "yes" : "no"};
	size_t n = sizeof(fields) / sizeof(fields[0]);
	for(size_t i = 0; i < n; i++)
		csv_field(b, fields[i], i + 1 == n);
	json_decref(ds);
}

static bool want_csv(struct otd_req *req, enum otd_status *st)
{
	const char *f = req_query(req, "format");
	*st = OTD_OK;
	if(!f || strcmp(f, "json") == 0)
		return false;
	if(strcmp(f, "csv") == 0)
		return true;
	*st = otd_error_set(&req->err, OTD_EINVAL, "bad_format", "format",
	                    "The format is json (the default) or csv.");
	return false;
}

enum otd_status h_guarantees_list(struct otd_req *req)
{
	int limit;
	int64_t after;
	enum otd_status st = req_page(req, &limit, &after);
	if(st)
		return st;
	bool csv = want_csv(req, &st);
	if(st)
		return st;
	struct otd_case_filter f = {.state = req_query(req, "state"),
	                            .deadline = req_query(req, "deadline"),
	                            .after_id = after,
	                            .limit = limit};
	if(f.state && strcmp(f.state, "open") && strcmp(f.state, "paid") &&
	   strcmp(f.state, "exempt"))
		return otd_error_set(&req->err, OTD_EINVAL, "bad_state", "state",
		                     "The state is open, paid or exempt.");
	if(f.deadline && strcmp(f.deadline, "near") && strcmp(f.deadline, "passed"))
		return otd_error_set(&req->err, OTD_EINVAL, "bad_deadline", "deadline",
		                     "The deadline filter is near or passed.");
	const char *quarter = req_query(req, "quarter");
	if(quarter) {
		struct otd_case_report unused;
		st = app_cases_report(req->app, quarter, &unused, &f.from, &f.to, &req->err);
		if(st)
			return st;
	}
	if(csv)
		f.limit = 100000; /* an export is the whole selection */
	struct otd_case *cases = NULL;
	size_t n = 0;
	int64_t next = 0;
	st = app_cases_list(req->app, &f, &cases, &n, &next, &req->err);
	if(st)
		return st;
	if(csv) {
		struct otd_buf b;
		otd_buf_init(&b, 0);
		otd_buf_puts(&b,
		             "id,reference,reason,rule_set,rule_version,currency,amount_minor,"
		             "breached_at,deadline_at,deadline_status,state,exempt_reason,paid_at,"
		             "paid_minor,penalty_minor,paid_late\r\n");
		for(size_t i = 0; i < n; i++)
			csv_case(req, &b, &cases[i]);
		size_t len = b.len;
		req_add_header(req, "Content-Disposition",
		               "attachment; filename=\"guarantees.csv\"");
		req_reply_raw(req, 200, "text/csv; charset=utf-8", otd_buf_steal(&b), len);
	} else {
		json_t *items = json_array();
		for(size_t i = 0; i < n; i++)
			json_array_append_new(items, case_json(req, &cases[i]));
		req_reply_page(req, items, next);
	}
	free(cases);
	return OTD_OK;
}

enum otd_status h_guarantee_get(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	struct otd_case c;
	char *evidence = NULL;
	st = app_case_get(req->app, id, &c, &evidence, &req->err);
	if(st)
		return st;
	json_t *o = case_json(req, &c);
	json_t *ev = evidence ? json_loads(evidence, 0, NULL) : NULL;
	json_object_set_new(o, "evidence", ev ? ev : json_array());
	free(evidence);
	req_reply_json(req, 200, o);
	return OTD_OK;
}

enum otd_status h_guarantee_pay(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	static const struct field_spec spec[] = {
	    {"paid_minor", FIELD_INT, false, 0, 1e11, true},
	    {"paid_at", FIELD_STRING, false, 20, 20, true},
	};
	st = json_check(body, spec, 2, "", &req->err);
	int64_t paid_at = 0;
	const char *at = json_get_str(body, "paid_at");
	if(st == OTD_OK && at && (st = otd_rfc3339_parse(at, &paid_at, &req->err)) != OTD_OK)
		snprintf(req->err.field, sizeof(req->err.field), "paid_at");
	struct otd_case c;
	if(st == OTD_OK)
		st = app_case_pay(
		    req->app, &req->principal, id, paid_at,
		    json_has(body, "paid_minor") ? json_get_int(body, "paid_minor", -1) : -1, &c,
		    &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200, case_json(req, &c));
	return st;
}

enum otd_status h_guarantee_exempt(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	static const struct field_spec spec[] = {
	    {"reason", FIELD_STRING, true, 1, 32, false},
	    {"note", FIELD_STRING, true, 1, 300, false},
	};
	st = json_check(body, spec, 2, "", &req->err);
	struct otd_case c;
	if(st == OTD_OK)
		st = app_case_exempt(req->app, &req->principal, id, json_get_str(body, "reason"),
		                     json_get_str(body, "note"), &c, &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(req, 200, case_json(req, &c));
	return st;
}

enum otd_status h_guarantees_report(struct otd_req *req)
{
	enum otd_status st;
	bool csv = want_csv(req, &st);
	if(st)
		return st;
	const char *quarter = req_query(req, "quarter");
	if(!quarter)
		return otd_error_set(&req->err, OTD_EINVAL, "missing_parameter", "quarter",
		                     "The query parameter quarter (YYYY-Qn) is required.");
	struct otd_case_report r;
	int64_t from, to;
	st = app_cases_report(req->app, quarter, &r, &from, &to, &req->err);
	if(st)
		return st;
	if(csv) {
		char *text = xasprintf(
		    "quarter,cases,breaches,exempt,open,paid,paid_late,currency,"
		    "owed_minor,paid_minor,penalty_minor\r\n%s,%lld,%lld,%lld,%lld,"
		    "%lld,%lld,%s,%lld,%lld,%lld\r\n",
		    quarter, (long long)r.cases, (long long)r.breaches, (long long)r.exempt,
		    (long long)r.open, (long long)r.paid, (long long)r.paid_late, r.currency,
		    (long long)r.owed_minor, (long long)r.paid_minor, (long long)r.penalty_minor);
		req_reply_raw(req, 200, "text/csv; charset=utf-8", text, strlen(text));
		return OTD_OK;
	}
	req_reply_json(req, 200,
	               json_pack("{s:s,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:I}", "quarter",
	                         quarter, "from", time_json(from), "to", time_json(to), "cases",
	                         (json_int_t)r.cases, "breaches", (json_int_t)r.breaches, "exempt",
	                         (json_int_t)r.exempt, "open", (json_int_t)r.open, "paid",
	                         (json_int_t)r.paid, "paid_late", (json_int_t)r.paid_late,
	                         "currency", r.currency, "owed_minor", (json_int_t)r.owed_minor,
	                         "paid_minor", (json_int_t)r.paid_minor, "penalty_minor",
	                         (json_int_t)r.penalty_minor));
	return OTD_OK;
}
