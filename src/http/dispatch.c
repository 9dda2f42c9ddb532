/* Dispatchers' rebalancing: POST /api/v1/dispatch/rebalance (a proposal)
 * and POST /api/v1/dispatch/rebalance/{id}/apply. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/board.h"
#include "app/rebalance.h"
#include "http/handlers.h"
#include "http/json_in.h"
#include "onthedot/mem.h"
#include "onthedot/civil.h"

static json_t *instant(int64_t t)
{
	char s[32];
	otd_rfc3339_format(t, s, sizeof(s));
	return json_string(s);
}

/* scope: "all", or an array of visitor ids. */
static enum otd_status scope_decode(const json_t *scope, int64_t **ids, size_t *n,
                                    struct otd_error *err)
{
	*ids = NULL;
	*n = 0;
	if(!scope || (json_is_string(scope) && strcmp(json_string_value(scope), "all") == 0))
		return OTD_OK;
	if(!json_is_array(scope) || json_array_size(scope) == 0 ||
	   json_array_size(scope) > OTD_REBALANCE_VISITORS_MAX)
		return otd_error_set(err, OTD_EINVAL, "bad_type", "scope",
		                     "scope is \"all\" or a list of 1 to %d visitor ids.",
		                     OTD_REBALANCE_VISITORS_MAX);
	*ids = xcalloc(json_array_size(scope), sizeof(int64_t));
	for(size_t i = 0; i < json_array_size(scope); i++) {
		const json_t *v = json_array_get(scope, i);
		if(!json_is_integer(v) || json_integer_value(v) < 1) {
			free(*ids);
			*ids = NULL;
			return otd_error_set(
			    err, OTD_EINVAL, "bad_type", "scope",
			    "scope[%zu] must be a visitor id (a whole number from 1).", i);
		}
		(*ids)[(*n)++] = (int64_t)json_integer_value(v);
	}
	return OTD_OK;
}

static const struct field_spec propose_fields[] = {
    {"date", FIELD_STRING, true, 10, 10, false},
    {"mode", FIELD_STRING, false, 1, 20, true},
};

enum otd_status h_rebalance_propose(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	enum otd_status st = OTD_OK;
	const char *key;
	json_t *value;
	json_object_foreach(body, key, value)
	{
		if(strcmp(key, "date") != 0 && strcmp(key, "scope") != 0 &&
		   strcmp(key, "mode") != 0) {
			st = otd_error_set(
			    &req->err, OTD_EINVAL, "unknown_field", key,
			    "Unknown field %s: a rebalance takes date, scope and mode.", key);
			break;
		}
	}
	if(st == OTD_OK) {
		/* scope is a string or an array: checked by scope_decode. */
		json_t *rest = json_copy(body);
		json_object_del(rest, "scope");
		st = json_check(rest, propose_fields, 2, NULL, &req->err);
		json_decref(rest);
	}
	int64_t *ids = NULL;
	size_t n = 0;
	if(st == OTD_OK)
		st = scope_decode(json_object_get(body, "scope"), &ids, &n, &req->err);
	enum otd_rebalance_mode mode = OTD_REBALANCE_DAY;
	const char *mode_name = st == OTD_OK ? json_get_str(body, "mode") : NULL;
	if(mode_name && strcmp(mode_name, "plan") == 0)
		mode = OTD_REBALANCE_PLAN;
	else if(mode_name && strcmp(mode_name, "rebalance") != 0)
		st = otd_error_set(
		    &req->err, OTD_EINVAL, "bad_value", "mode",
		    "mode is \"rebalance\" (the default: move as few visits to another "
		    "visitor as possible) or \"plan\" (cut travel).");
	struct otd_rebalance r = {0};
	if(st == OTD_OK)
		st = app_rebalance_propose(req->app, &req->principal, json_get_str(body, "date"),
		                           ids, n, mode, &r, &req->err);
	free(ids);
	json_decref(body);
	if(st)
		return st;
	json_t *moves = json_array();
	for(size_t i = 0; i < r.n_moves; i++) {
		const struct otd_rebalance_move *m = &r.moves[i];
		json_t *o = json_pack(
		    "{s:s,s:I,s:o,s:I,s:o,s:o,s:i,s:o,s:b,s:b}", "reference", m->reference,
		    "appointment_id", (json_int_t)m->appointment_id, "from_visitor_id",
		    m->from_visitor ? json_integer(m->from_visitor) : json_null(), "to_visitor_id",
		    (json_int_t)m->to_visitor, "window_start", instant(m->window_start),
		    "window_end", instant(m->window_end), "position", m->position,
		    "expected_arrival", instant((int64_t)m->expected_arrival), "kept_before",
		    m->kept_before, "kept_after", m->kept_after);
		json_array_append_new(moves, o);
	}
	json_t *out =
	    json_pack("{s:o,s:s,s:o,s:i,s:i,s:i,s:i,s:f,s:f,s:f,s:i,s:o,s:o}", "id",
	              r.id[0] ? json_string(r.id) : json_null(), "date", r.local_date, "expires_at",
	              instant(r.expires_at), "visits", r.visits, "promises_broken_before",
	              r.broken_before, "promises_broken_after", r.broken_after, "promises_saved",
	              r.broken_before - r.broken_after, "travel_before_minutes",
	              r.travel_before_s / 60.0, "travel_after_minutes", r.travel_after_s / 60.0,
	              "travel_added_minutes", (r.travel_after_s - r.travel_before_s) / 60.0,
	              "customers_affected", r.customers_affected, "moves", moves, "note",
	              r.note[0] ? json_string(r.note) : json_null());
	otd_rebalance_cleanup(&r);
	req_reply_json(req, 200, out);
	return OTD_OK;
}

enum otd_status h_rebalance_apply(struct otd_req *req)
{
	const char *id = req->params[0];
	if(strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "proposal_not_found", NULL,
		                     "No such proposal.");
	struct otd_rebalance_applied a;
	enum otd_status st = app_rebalance_apply(req->app, &req->principal, id, &a, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200,
	               json_pack("{s:s,s:i,s:i,s:i}", "id", id, "moved", a.moved, "routes_ordered",
	                         a.reordered, "customers_told", a.told));
	return OTD_OK;
}

enum otd_status h_dispatch_board(struct otd_req *req)
{
	json_t *out = NULL;
	enum otd_status st = app_board(req->app, req_query(req, "date"), &out, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, out);
	return OTD_OK;
}

enum otd_status h_inbox(struct otd_req *req)
{
	json_t *out = NULL;
	enum otd_status st = app_inbox(req->app, &out, &req->err);
	if(st)
		return st;
	req_reply_json(req, 200, out);
	return OTD_OK;
}

static enum otd_status inbox_done(struct otd_req *req, bool message)
{
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	if((st = app_inbox_done(req->app, &req->principal, message, id, &req->err)))
		return st;
	req_reply_json(req, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "state", "done"));
	return OTD_OK;
}

enum otd_status h_task_done(struct otd_req *req)
{
	return inbox_done(req, false);
}

enum otd_status h_inbound_done(struct otd_req *req)
{
	return inbox_done(req, true);
}

#define REORDER_MAX 64 /* visits in one route */

enum otd_status h_route_reorder(struct otd_req *req)
{
	static const struct field_spec spec[] = {
	    {"date", FIELD_STRING, true, 10, 10, false},
	    {"order", FIELD_ARRAY, true, 1, REORDER_MAX, false},
	};
	int64_t id;
	enum otd_status st = req_param_id(req, 0, &id);
	if(st)
		return st;
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	st = json_check(body, spec, 2, NULL, &req->err);
	const char *refs[REORDER_MAX];
	size_t n = 0;
	const json_t *order = json_object_get(body, "order");
	for(size_t i = 0; st == OTD_OK && i < json_array_size(order); i++) {
		const char *r = json_string_value(json_array_get(order, i));
		if(!r || strlen(r) != 10) {
			char field[32];
			snprintf(field, sizeof(field), "order[%zu]", i);
			st = otd_error_set(
			    &req->err, OTD_EINVAL, "bad_reference", field,
			    "Each element of order is a reference such as OTD-7K3F9Q.");
		} else {
			refs[n++] = r;
		}
	}
	if(st == OTD_OK)
		st = app_reorder(req->app, &req->principal, id, json_get_str(body, "date"), refs, n,
		                 &req->err);
	json_decref(body);
	if(st == OTD_OK)
		req_reply_json(
		    req, 200,
		    json_pack("{s:I,s:i}", "visitor_id", (json_int_t)id, "visits", (int)n));
	return st;
}
