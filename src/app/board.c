/* The dispatcher's board and the visitor page's day (board.h). */
#include "app/board.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/config.h"
#include "app/planning.h"
#include "onthedot/civil.h"
#include "onthedot/guarantee.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "store/board.h"
#include "store/tracking.h"

static json_t *time_json(int64_t t)
{
	if(t <= 0)
		return json_null();
	char b[32];
	otd_rfc3339_format(t, b, sizeof(b));
	return json_string(b);
}

static json_t *text_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* The notice clock of a window starting at window_start under v, the
 * rules a change told now would be judged by (otd_notice_deadline); 0
 * when any notice will do, there are no rules or a change costs nothing. */
static int64_t notice_deadline(const struct otd_app *app, const struct plan_catalog *cat,
                               const struct otd_rule_version *v, int64_t window_start)
{
	if(!v || v->short_notice_minor == 0)
		return 0;
	return otd_notice_deadline(v, app->tz, (const char(*)[11])cat->holidays, cat->n_holidays,
	                           window_start);
}

/* One visitor's day as the planner models it now. */
struct visitor_plan {
	json_t *shifts, *breaks; /* owned */
	double travel_s;
	size_t n;
	int64_t *ids;        /* appointment ids of the visits on the routes */
	int64_t *arrival;    /* planned (mean) arrival */
	double *travel_in_s; /* the leg into the visit */
};

static void visitor_plan_cleanup(struct visitor_plan *p)
{
	json_decref(p->shifts);
	json_decref(p->breaks);
	free(p->ids);
	free(p->arrival);
	free(p->travel_in_s);
	memset(p, 0, sizeof(*p));
}

static enum otd_status visitor_plan(struct otd_app *app, struct otd_conn *c,
                                    const struct plan_catalog *cat, const struct plan_visitor *v,
                                    const char *date, int64_t now, uint64_t gen,
                                    struct visitor_plan *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->shifts = json_array();
	out->breaks = json_array();
	struct plan_day *pd = NULL;
	enum otd_status st = planner_day(app->planner, c, cat, v, date, now, gen, &pd, err);
	if(st) {
		visitor_plan_cleanup(out);
		return st;
	}
	size_t cap = 0;
	for(size_t r = 0; r < pd->n_routes; r++)
		cap += pd->routes[r].n;
	out->ids = xcalloc(cap + 1, sizeof(*out->ids));
	out->arrival = xcalloc(cap + 1, sizeof(*out->arrival));
	out->travel_in_s = xcalloc(cap + 1, sizeof(*out->travel_in_s));
	for(size_t r = 0; r < pd->n_routes; r++) {
		const struct otd_route *rt = &pd->routes[r];
		json_array_append_new(out->shifts,
		                      json_pack("{s:o,s:o}", "start", time_json(rt->shift_start),
		                                "end", time_json(rt->shift_end)));
		out->travel_s += rt->timed ? rt->travel_mean : 0;
		for(size_t i = 0; i < rt->n && rt->timed; i++) {
			const struct otd_stop *s = &rt->stops[i];
			double prev_dep = i ? rt->dep_mean[i - 1] : (double)rt->shift_start;
			if(s->kind == OTD_STOP_BREAK) {
				double start = fmax(rt->arr_mean[i], (double)s->a);
				json_array_append_new(
				    out->breaks,
				    json_pack("{s:o,s:o}", "start", time_json((int64_t)start),
				              "end", time_json((int64_t)rt->dep_mean[i])));
			} else if(s->kind == OTD_STOP_VISIT) {
				out->ids[out->n] = s->id;
				out->arrival[out->n] = (int64_t)llround(rt->arr_mean[i]);
				out->travel_in_s[out->n] = fmax(0, rt->arr_mean[i] - prev_dep);
				out->n++;
			}
		}
	}
	planner_day_release(app->planner, pd);
	return OTD_OK;
}

static long plan_find(const struct visitor_plan *p, int64_t id)
{
	for(size_t i = 0; i < p->n; i++)
		if(p->ids[i] == id)
			return (long)i;
	return -1;
}

static json_t *address_json(const struct otd_board_row *r)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "line1", r->line1, "line2", r->line2, "town", r->town,
	                 "postcode", r->postcode);
}

/* A visit as the board shows it. */
static json_t *stop_json(const struct otd_board_row *r, const struct visitor_plan *p)
{
	long k = plan_find(p, r->appointment_id);
	bool projected = r->risk.expected_arrival > 0;
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:i}", "appointment_id",
	    (json_int_t)r->appointment_id, "reference", r->reference, "status", r->status, "risk",
	    r->risk.risk, "p_late",
	    projected ? json_real(round(r->risk.p_late * 1000) / 1000) : json_null(), "risk_reason",
	    r->risk.reason, "window_start", time_json(r->window_start), "window_end",
	    time_json(r->window_end), "promise_version", r->promise_version);
	json_object_set_new(o, "planned_arrival", k >= 0 ? time_json(p->arrival[k]) : json_null());
	json_object_set_new(o, "travel_minutes",
	                    k >= 0 ? json_integer((json_int_t)llround(p->travel_in_s[k] / 60))
	                           : json_null());
	json_object_set_new(o, "expected_arrival", time_json(r->risk.expected_arrival));
	json_object_set_new(o, "band_early", time_json(r->risk.band_early));
	json_object_set_new(o, "band_late", time_json(r->risk.band_late));
	json_object_set_new(o, "arrived_at", time_json(r->arrived_at));
	json_object_set_new(o, "done_at", time_json(r->done_at));
	json_object_set_new(o, "customer_name", json_string(r->customer_name));
	json_object_set_new(o, "phone", text_or_null(r->phone));
	json_object_set_new(o, "line1", json_string(r->line1));
	json_object_set_new(o, "postcode", json_string(r->postcode));
	json_object_set_new(o, "visit_type", json_string(r->visit_type));
	json_object_set_new(o, "warned", json_boolean(r->warned));
	json_object_set_new(o, "case_id", r->case_id ? json_integer(r->case_id) : json_null());
	return o;
}

static int visitor_name_cmp(const void *a, const void *b)
{
	const struct plan_visitor *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);
	return c ? c : ((*x)->id > (*y)->id) - ((*x)->id < (*y)->id);
}

struct risk_item {
	const struct otd_board_row *r;
};

static int risk_cmp(const void *a, const void *b)
{
	const struct otd_board_row *x = ((const struct risk_item *)a)->r;
	const struct otd_board_row *y = ((const struct risk_item *)b)->r;
	if(x->window_start != y->window_start)
		return x->window_start < y->window_start ? -1 : 1;
	if(x->risk.p_late != y->risk.p_late)
		return x->risk.p_late > y->risk.p_late ? -1 : 1;
	return strcmp(x->reference, y->reference);
}

static bool at_risk(const struct otd_board_row *r)
{
	return (strcmp(r->risk.risk, "at_risk") == 0 || strcmp(r->risk.risk, "broken") == 0) &&
	       (strcmp(r->status, "booked") == 0 || strcmp(r->status, "travelling") == 0);
}

static json_t *risk_json(const struct otd_app *app, const struct plan_catalog *cat,
                         const struct otd_board_row *r, int64_t now)
{
	json_t *o =
	    json_pack("{s:s,s:I,s:I,s:s,s:o,s:s,s:o,s:o,s:o,s:s}", "reference", r->reference,
	              "appointment_id", (json_int_t)r->appointment_id, "visitor_id",
	              (json_int_t)r->visitor_id, "risk", r->risk.risk, "p_late",
	              json_real(round(r->risk.p_late * 1000) / 1000), "reason", r->risk.reason,
	              "expected_arrival", time_json(r->risk.expected_arrival), "window_start",
	              time_json(r->window_start), "window_end", time_json(r->window_end),
	              "customer_name", r->customer_name);
	/* A change told now is judged by the rules in force now; a missed
	 * window by those in force when it closes. */
	const struct otd_rule_version *told =
	    app->rules ? otd_rule_in_force(app->rules, app->tz, now) : NULL;
	const struct otd_rule_version *missed =
	    app->rules ? otd_rule_in_force(app->rules, app->tz, r->window_end) : NULL;
	json_object_set_new(o, "notice_deadline",
	                    time_json(notice_deadline(app, cat, told, r->window_start)));
	if(missed) {
		json_object_set_new(o, "compensation",
		                    json_pack("{s:I,s:I,s:s}", "missed_minor",
		                              (json_int_t)missed->missed_minor,
		                              "short_notice_minor",
		                              (json_int_t)(told ? told->short_notice_minor : 0),
		                              "currency", missed->currency));
	} else {
		json_object_set_new(o, "compensation", json_null());
	}
	json_object_set_new(o, "warned", json_boolean(r->warned));
	return o;
}

struct board_job {
	struct otd_app *app;
	char date[11];
	int64_t now;
	int64_t only_visitor; /* the visitor page: one visitor */
	json_t *out;
};

static enum otd_status read_board(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct board_job *j = arg;
	struct otd_app *app = j->app;
	uint64_t gen = planner_generation(app->planner); /* before this snapshot's first read */
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(app->planner, c, j->now, &cat, err);
	if(st)
		return st;
	struct otd_board_row *rows = NULL;
	size_t n_rows = 0;
	struct otd_board_counts counts = {0};
	int64_t day_start = 0, day_end = 0;
	planner_day_bounds(app->planner, j->date, &day_start, &day_end);
	st = store_board_rows(c, j->date, j->only_visitor, &rows, &n_rows, err);
	if(st == OTD_OK && !j->only_visitor)
		st = store_board_counts(c, j->date, &counts, err);
	if(st)
		goto out;

	const struct plan_visitor **vs = xcalloc(cat->n_visitors + 1, sizeof(*vs));
	size_t n_vs = 0;
	for(size_t i = 0; i < cat->n_visitors; i++)
		if(!j->only_visitor || cat->visitors[i].id == j->only_visitor)
			vs[n_vs++] = &cat->visitors[i];
	qsort(vs, n_vs, sizeof(*vs), visitor_name_cmp);

	json_t *visitors = json_array();
	for(size_t i = 0; i < n_vs && st == OTD_OK; i++) {
		const struct plan_visitor *v = vs[i];
		/* Its rows: the rows come by visitor id. */
		size_t first = n_rows, last = n_rows;
		for(size_t k = 0; k < n_rows; k++) {
			if(rows[k].visitor_id == v->id) {
				if(first == n_rows)
					first = k;
				last = k + 1;
			}
		}
		if(first == n_rows && !j->only_visitor &&
		   !plan_visitor_works_on(v, day_start, day_end))
			continue;
		struct visitor_plan p;
		if((st = visitor_plan(app, c, cat, v, j->date, j->now, gen, &p, err)))
			break;
		struct otd_visitor_day vd;
		if((st = store_visitor_day_get(c, v->id, j->date, &vd, err)) == OTD_ENOTFOUND)
			st = OTD_OK;
		if(st) {
			visitor_plan_cleanup(&p);
			break;
		}
		const char *current = "";
		json_t *stops = json_array();
		json_t *details = json_object();
		for(size_t k = first; k < last; k++) {
			const struct otd_board_row *r = &rows[k];
			if(r->appointment_id == vd.appointment_id)
				current = r->reference;
			if(!j->only_visitor) {
				json_array_append_new(stops, stop_json(r, &p));
				continue;
			}
			long at = plan_find(&p, r->appointment_id);
			json_t *d =
			    json_pack("{s:s,s:o,s:o,s:s,s:f,s:f,s:s}", "customer_name",
			              r->customer_name, "phone", text_or_null(r->phone), "address",
			              address_json(r), "access_notes", r->access_notes, "lat",
			              r->lat, "lon", r->lon, "visit_type", r->visit_type);
			json_object_set_new(d, "planned_arrival",
			                    at >= 0 ? time_json(p.arrival[at]) : json_null());
			json_object_set_new(
			    d, "travel_minutes",
			    at >= 0 ? json_integer((json_int_t)llround(p.travel_in_s[at] / 60))
			            : json_null());
			json_object_set_new(details, r->reference, d);
		}
		json_t *skills = json_array();
		for(size_t s = 0; s < v->n_skills; s++)
			json_array_append_new(skills, json_string(v->skills[s]));
		json_t *o =
		    json_pack("{s:I,s:s,s:o,s:s,s:i,s:o,s:b,s:o,s:O,s:O,s:I}", "id",
		              (json_int_t)v->id, "name", v->name, "skills", skills, "state",
		              vd.state, "late_minutes", (int)(vd.late_s / 60), "unavailable_reason",
		              text_or_null(vd.unavailable_reason), "silent", vd.silent, "current",
		              text_or_null(current), "shifts", p.shifts, "breaks", p.breaks,
		              "travel_minutes", (json_int_t)llround(p.travel_s / 60));
		if(j->only_visitor) {
			json_object_set_new(o, "details", details);
			json_decref(stops);
		} else {
			json_object_set_new(o, "stops", stops);
			json_decref(details);
		}
		json_array_append_new(visitors, o);
		visitor_plan_cleanup(&p);
	}
	free(vs);
	if(st) {
		json_decref(visitors);
		goto out;
	}

	char now_text[32];
	otd_rfc3339_format(j->now, now_text, sizeof(now_text));
	if(j->only_visitor) {
		json_t *v = json_array_get(visitors, 0);
		if(!v) {
			/* Not active: no plan to show. */
			j->out = json_pack("{s:s,s:n,s:[],s:[],s:{}}", "now", now_text,
			                   "visitor_name", "shifts", "breaks", "details");
			json_decref(visitors);
			goto out;
		}
		j->out = json_pack(
		    "{s:s,s:O,s:O,s:O,s:O}", "now", now_text, "visitor_name",
		    json_object_get(v, "name"), "shifts", json_object_get(v, "shifts"), "breaks",
		    json_object_get(v, "breaks"), "details", json_object_get(v, "details"));
		json_decref(visitors);
		goto out;
	}

	struct risk_item *risky = xcalloc(n_rows + 1, sizeof(*risky));
	size_t n_risky = 0;
	for(size_t k = 0; k < n_rows; k++)
		if(at_risk(&rows[k]))
			risky[n_risky++].r = &rows[k];
	qsort(risky, n_risky, sizeof(*risky), risk_cmp);
	json_t *risk_list = json_array();
	for(size_t k = 0; k < n_risky; k++)
		json_array_append_new(risk_list, risk_json(app, cat, risky[k].r, j->now));
	free(risky);
	j->out = json_pack("{s:s,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:o,s:o}", "date", j->date, "now",
	                   now_text, "figures", "booked", counts.booked, "kept", counts.kept,
	                   "at_risk", (int)n_risky, "warned", counts.warned, "open_cases",
	                   counts.open_cases, "visitors", visitors, "at_risk", risk_list);
out:
	if(st == OTD_OK && j->out)
		json_object_set_new(j->out, "timezone", json_string(app->cfg->timezone));
	store_board_rows_free(rows, n_rows);
	planner_catalog_release(app->planner, cat);
	return st;
}

static enum otd_status board_run(struct otd_app *app, const char *local_date, int64_t visitor_id,
                                 json_t **out, struct otd_error *err)
{
	*out = NULL;
	struct board_job j = {
	    .app = app, .now = otd_clock_now(app->clock), .only_visitor = visitor_id};
	if(!local_date || !local_date[0]) {
		planner_local_date(app->planner, j.now, j.date);
	} else {
		int y, m, d;
		if(otd_date_parse(local_date, &y, &m, &d, err) != OTD_OK)
			return otd_error_set(err, OTD_EINVAL, "bad_date", "date",
			                     "date must be a date YYYY-MM-DD.");
		snprintf(j.date, sizeof(j.date), "%s", local_date);
	}
	enum otd_status st = store_read(app->store, read_board, &j, err);
	if(st == OTD_OK)
		*out = j.out;
	else
		json_decref(j.out);
	return st;
}

enum otd_status app_board(struct otd_app *app, const char *local_date, json_t **out,
                          struct otd_error *err)
{
	return board_run(app, local_date, 0, out, err);
}

enum otd_status app_visitor_day_extra(struct otd_app *app, int64_t visitor_id,
                                      const char *local_date, json_t **out, struct otd_error *err)
{
	if(visitor_id <= 0)
		visitor_id = -1; /* matches no one */
	return board_run(app, local_date, visitor_id, out, err);
}

/* ---- the message log and the inbox ---------------------------------------------- */

struct list_job {
	int64_t id;
	json_t *out;
};

static enum otd_status read_messages(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	struct otd_message_row *rows = NULL;
	size_t n = 0;
	enum otd_status st = store_appointment_messages(c, j->id, &rows, &n, err);
	if(st)
		return st;
	json_t *items = json_array();
	for(size_t i = 0; i < n; i++) {
		const struct otd_message_row *m = &rows[i];
		json_t *o = json_pack(
		    "{s:I,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)m->id, "channel",
		    m->channel, "template", m->template_name, "state", m->state, "attempts",
		    m->attempts, "created_at", time_json(m->created_at), "due_at",
		    time_json(m->due_at), "sent_at", time_json(m->sent_at), "provider",
		    text_or_null(m->provider), "last_error", text_or_null(m->last_error));
		json_object_set_new(o, "receipt",
		                    m->receipt_status[0]
		                        ? json_pack("{s:s,s:o}", "status", m->receipt_status, "at",
		                                    time_json(m->receipt_at))
		                        : json_null());
		json_array_append_new(items, o);
	}
	store_message_rows_free(rows, n);
	j->out = json_pack("{s:o}", "items", items);
	return OTD_OK;
}

enum otd_status app_appointment_messages(struct otd_app *app, int64_t appointment_id, json_t **out,
                                         struct otd_error *err)
{
	struct list_job j = {.id = appointment_id};
	enum otd_status st = store_read(app->store, read_messages, &j, err);
	*out = st ? NULL : j.out;
	return st;
}

#define INBOX_MAX 200

static enum otd_status read_inbox(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	struct otd_inbox_item *items = NULL;
	size_t n = 0;
	enum otd_status st = store_inbox(c, INBOX_MAX, &items, &n, err);
	if(st)
		return st;
	json_t *calls = json_array(), *messages = json_array();
	for(size_t i = 0; i < n; i++) {
		const struct otd_inbox_item *m = &items[i];
		bool message = strcmp(m->kind, "message") == 0;
		json_t *o =
		    json_pack("{s:s,s:I,s:o,s:o,s:o,s:s,s:o}", "kind", m->kind, "id",
		              (json_int_t)m->id, "reference", text_or_null(m->reference),
		              "customer_name", text_or_null(m->customer_name), "phone",
		              text_or_null(m->phone), "text", m->text, "at", time_json(m->at));
		if(message)
			json_object_set_new(o, "outcome", json_string(m->outcome));
		json_array_append_new(message ? messages : calls, o);
	}
	store_inbox_free(items, n);
	j->out = json_pack("{s:o,s:o}", "calls", calls, "messages", messages);
	return OTD_OK;
}

enum otd_status app_inbox(struct otd_app *app, json_t **out, struct otd_error *err)
{
	struct list_job j = {0};
	enum otd_status st = store_read(app->store, read_inbox, &j, err);
	*out = st ? NULL : j.out;
	return st;
}

struct done_job {
	const struct otd_principal *actor;
	bool message;
	int64_t id, now;
};

static enum otd_status inbox_done_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct done_job *j = arg;
	enum otd_status st = store_inbox_done(tx, j->message, j->id, j->now, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "inbox.done",
		               j->message ? "inbound_message" : "task", j->id, NULL, err);
	return st;
}

enum otd_status app_inbox_done(struct otd_app *app, const struct otd_principal *actor, bool message,
                               int64_t id, struct otd_error *err)
{
	struct done_job j = {actor, message, id, otd_clock_now(app->clock)};
	return store_write(app->store, inbox_done_write, &j, err);
}
