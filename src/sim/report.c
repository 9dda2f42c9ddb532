/* The simulator's report: report.json checked and read into plain structs,
 * then rendered as HTML (with SVG charts) and Markdown, and written as a
 * folder of files. */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onthedot/chart.h"
#include "onthedot/message.h"
#include "onthedot/utf8.h"

#define MINUTE_MAX 10080 /* minutes from local midnight, either way: a week is plenty */

/* snprintf for display texts whose buffers are sized for any figure here:
 * a cut text would only be shorter, never unterminated. */
static void text_printf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void text_printf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* ---- The report as read ------------------------------------------------ */

struct rpt_opt {
	bool set; /* false: null in the JSON */
	double v;
};

struct rpt_stop {
	const char *reference;
	const char *outcome; /* "kept", "broken", "moved" or "cancelled" */
	int from, to;        /* the window, minutes from local midnight */
	bool has_arrived, has_done, has_warned;
	int arrived, done, warned;
};

struct rpt_visitor {
	const char *name;
	int shift_from, shift_to;
	bool has_sick;
	int sick_from;
	struct rpt_stop *stops;
	size_t n_stops;
};

struct rpt_timeline {
	const char *date;
	int start, end; /* day_start_minute, day_end_minute; start < end */
	struct rpt_visitor *visitors;
	size_t n_visitors;
};

struct rpt_bucket {
	long long from, to, count;
	bool has_to; /* false: the last, open bucket ("240+") */
};

struct rpt_run {
	const char *policy;
	long long width;
	long long requests, booked, turned_away, appointments;
	long long kept, broken, cancelled, moved;
	struct rpt_opt kept_rate;
	long long early_arrivals, reassigned;
	struct rpt_opt utilisation; /* null: no shift time */
	double service_hours, travel_hours, shift_hours, travel_km;
	long long at_risk, apologies, false_alarms;
	struct rpt_opt false_alarm_share;
	long long updates, back_on_time, broken_warned;
	struct rpt_opt warned_share, warned_60_share;
	struct rpt_opt lead_median, lead_p10;
	struct rpt_bucket buckets[SIM_REPORT_BUCKETS_MAX];
	size_t n_buckets;
	long long messages;
	struct rpt_opt messages_per_customer; /* null: no customer visited */
	const json_t *messages_by_kind;       /* object of counts */
	long long held_offered, held_taken;
	long long guarantee_cases, compensation_minor;
	const char *currency; /* "" or three capitals */
	struct rpt_timeline timeline;
	const json_t *accounting;    /* object of counts */
	const json_t *broken_causes; /* object of counts (nulls allowed); NULL: none given */
	char label[96];              /* "onthedot 60 min" (the policy cut to fit) */
};

struct rpt {
	const char *name, *description, *first_day, *timezone;
	long long visitors, days, booking_days, seed;
	const json_t *definitions; /* object of sentences */
	struct rpt_run *runs;
	size_t n_runs;
};

/* ---- Reading and checking --------------------------------------------- */

/* A member's path for error fields: "runs[1].outcomes.kept". */
struct where {
	char s[160];
};

static void where_member(struct where *out, const struct where *base, const char *name)
{
	int k = snprintf(out->s, sizeof(out->s), "%s%s%s", base->s, base->s[0] ? "." : "", name);
	if(k < 0 || (size_t)k >= sizeof(out->s))
		out->s[sizeof(out->s) - 1] = '\0'; /* a hint for a person: cut is fine */
}

static void where_index(struct where *out, const struct where *base, const char *name, size_t i)
{
	int k = snprintf(out->s, sizeof(out->s), "%s%s%s[%zu]", base->s, base->s[0] ? "." : "",
	                 name, i);
	if(k < 0 || (size_t)k >= sizeof(out->s))
		out->s[sizeof(out->s) - 1] = '\0';
}

static enum otd_status bad(struct otd_error *err, const struct where *w, const char *name,
                           const json_t *v, const char *expected)
{
	struct where f;
	if(name)
		where_member(&f, w, name);
	else
		f = *w;
	if(!v)
		return otd_error_set(err, OTD_EINVAL, "bad_report", f.s,
		                     "The report has no member %s.", f.s);
	return otd_error_set(err, OTD_EINVAL, "bad_report", f.s, "The report's %s must be %s.", f.s,
	                     expected);
}

static enum otd_status get_obj(const json_t *obj, const struct where *w, const char *name,
                               const json_t **out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_object(v))
		return bad(err, w, name, v, "an object");
	*out = v;
	return OTD_OK;
}

static enum otd_status get_arr(const json_t *obj, const struct where *w, const char *name,
                               const json_t **out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_array(v))
		return bad(err, w, name, v, "an array");
	*out = v;
	return OTD_OK;
}

static enum otd_status get_str(const json_t *obj, const struct where *w, const char *name,
                               const char **out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_string(v))
		return bad(err, w, name, v, "a string");
	*out = json_string_value(v);
	return OTD_OK;
}

/* A count: an integer, 0 or more. */
static enum otd_status get_count(const json_t *obj, const struct where *w, const char *name,
                                 long long *out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(err, w, name, v, "a whole number, 0 or more");
	*out = (long long)json_integer_value(v);
	return OTD_OK;
}

static enum otd_status get_num(const json_t *obj, const struct where *w, const char *name,
                               double *out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_number(v) || !isfinite(json_number_value(v)))
		return bad(err, w, name, v, "a number");
	*out = json_number_value(v);
	return OTD_OK;
}

static enum otd_status get_opt_num(const json_t *obj, const struct where *w, const char *name,
                                   struct rpt_opt *out, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(json_is_null(v)) {
		out->set = false;
		out->v = 0;
		return OTD_OK;
	}
	if(!json_is_number(v) || !isfinite(json_number_value(v)))
		return bad(err, w, name, v, "a number or null");
	out->set = true;
	out->v = json_number_value(v);
	return OTD_OK;
}

static bool minute_ok(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= -MINUTE_MAX &&
	       json_integer_value(v) <= MINUTE_MAX;
}

/* Minutes from local midnight, -MINUTE_MAX..MINUTE_MAX; null allowed when has is
 * non-NULL. */
static enum otd_status get_minute(const json_t *obj, const struct where *w, const char *name,
                                  int *out, bool *has, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(has && json_is_null(v)) {
		*has = false;
		*out = 0;
		return OTD_OK;
	}
	if(!minute_ok(v))
		return bad(err, w, name, v,
		           has ? "minutes from midnight (-10080 to 10080) or null"
		               : "minutes from midnight (-10080 to 10080)");
	if(has)
		*has = true;
	*out = (int)json_integer_value(v);
	return OTD_OK;
}

/* [from, to] minutes, from <= to. */
static enum otd_status get_span(const json_t *obj, const struct where *w, const char *name,
                                int *from, int *to, struct otd_error *err)
{
	const json_t *v = json_object_get(obj, name);
	if(!json_is_array(v) || json_array_size(v) != 2 || !minute_ok(json_array_get(v, 0)) ||
	   !minute_ok(json_array_get(v, 1)) ||
	   json_integer_value(json_array_get(v, 0)) > json_integer_value(json_array_get(v, 1)))
		return bad(err, w, name, v, "[from, to] in minutes from midnight, from <= to");
	*from = (int)json_integer_value(json_array_get(v, 0));
	*to = (int)json_integer_value(json_array_get(v, 1));
	return OTD_OK;
}

/* An object whose every member is a count. */
static enum otd_status get_counts(const json_t *obj, const struct where *w, const char *name,
                                  const json_t **out, struct otd_error *err)
{
	enum otd_status st = get_obj(obj, w, name, out, err);
	if(st)
		return st;
	struct where here;
	where_member(&here, w, name);
	/* jansson's iterators take a non-const object but do not change it. */
	for(void *it = json_object_iter((json_t *)*out); it;
	    it = json_object_iter_next((json_t *)*out, it)) {
		const json_t *v = json_object_iter_value(it);
		if(!json_is_integer(v) || json_integer_value(v) < 0)
			return bad(err, &here, json_object_iter_key(it), v,
			           "a whole number, 0 or more");
	}
	return OTD_OK;
}

static const char *const OUTCOMES[] = {"kept", "broken", "moved", "cancelled"};

static enum otd_status read_stop(const json_t *js, const struct where *w, struct rpt_stop *s,
                                 struct otd_error *err)
{
	enum otd_status st;
	if(!json_is_object(js))
		return bad(err, w, NULL, js, "an object");
	if((st = get_str(js, w, "reference", &s->reference, err)) ||
	   (st = get_span(js, w, "window", &s->from, &s->to, err)) ||
	   (st = get_minute(js, w, "arrived", &s->arrived, &s->has_arrived, err)) ||
	   (st = get_minute(js, w, "done", &s->done, &s->has_done, err)) ||
	   (st = get_minute(js, w, "warned", &s->warned, &s->has_warned, err)) ||
	   (st = get_str(js, w, "outcome", &s->outcome, err)))
		return st;
	for(size_t i = 0; i < sizeof(OUTCOMES) / sizeof(OUTCOMES[0]); i++)
		if(strcmp(s->outcome, OUTCOMES[i]) == 0)
			return OTD_OK;
	return bad(err, w, "outcome", json_object_get(js, "outcome"),
	           "\"kept\", \"broken\", \"moved\" or \"cancelled\"");
}

static enum otd_status read_visitor(const json_t *jv, const struct where *w, struct rpt_visitor *v,
                                    struct otd_error *err)
{
	enum otd_status st;
	const json_t *stops = NULL;
	if(!json_is_object(jv))
		return bad(err, w, NULL, jv, "an object");
	if((st = get_str(jv, w, "name", &v->name, err)) ||
	   (st = get_span(jv, w, "shift", &v->shift_from, &v->shift_to, err)) ||
	   (st = get_minute(jv, w, "sick_from", &v->sick_from, &v->has_sick, err)) ||
	   (st = get_arr(jv, w, "stops", &stops, err)))
		return st;
	v->n_stops = json_array_size(stops);
	v->stops = v->n_stops ? xcalloc(v->n_stops, sizeof(*v->stops)) : NULL;
	for(size_t i = 0; i < v->n_stops; i++) {
		struct where ws;
		where_index(&ws, w, "stops", i);
		if((st = read_stop(json_array_get(stops, i), &ws, &v->stops[i], err)))
			return st;
	}
	return OTD_OK;
}

static enum otd_status read_timeline(const json_t *run, const struct where *wr,
                                     struct rpt_timeline *t, struct otd_error *err)
{
	enum otd_status st;
	const json_t *jt = NULL, *visitors = NULL;
	struct where w;
	where_member(&w, wr, "timeline");
	if((st = get_obj(run, wr, "timeline", &jt, err)) ||
	   (st = get_str(jt, &w, "date", &t->date, err)) ||
	   (st = get_minute(jt, &w, "day_start_minute", &t->start, NULL, err)) ||
	   (st = get_minute(jt, &w, "day_end_minute", &t->end, NULL, err)) ||
	   (st = get_arr(jt, &w, "visitors", &visitors, err)))
		return st;
	if(t->end <= t->start)
		return bad(err, &w, "day_end_minute", json_object_get(jt, "day_end_minute"),
		           "after day_start_minute");
	t->n_visitors = json_array_size(visitors);
	t->visitors = t->n_visitors ? xcalloc(t->n_visitors, sizeof(*t->visitors)) : NULL;
	for(size_t i = 0; i < t->n_visitors; i++) {
		struct where wv;
		where_index(&wv, &w, "visitors", i);
		if((st = read_visitor(json_array_get(visitors, i), &wv, &t->visitors[i], err)))
			return st;
	}
	return OTD_OK;
}

static enum otd_status read_lead(const json_t *run, const struct where *wr, struct rpt_run *r,
                                 struct otd_error *err)
{
	enum otd_status st;
	const json_t *lead = NULL, *hist = NULL;
	struct where w;
	where_member(&w, wr, "lead_minutes");
	if((st = get_obj(run, wr, "lead_minutes", &lead, err)) ||
	   (st = get_opt_num(lead, &w, "median", &r->lead_median, err)) ||
	   (st = get_opt_num(lead, &w, "p10", &r->lead_p10, err)) ||
	   (st = get_arr(lead, &w, "histogram", &hist, err)))
		return st;
	if(json_array_size(hist) > SIM_REPORT_BUCKETS_MAX)
		return bad(err, &w, "histogram", hist, "an array of at most 16 buckets");
	r->n_buckets = json_array_size(hist);
	for(size_t i = 0; i < r->n_buckets; i++) {
		const json_t *jb = json_array_get(hist, i);
		struct rpt_bucket *b = &r->buckets[i];
		struct where wb;
		where_index(&wb, &w, "histogram", i);
		if(!json_is_object(jb))
			return bad(err, &wb, NULL, jb, "an object");
		if((st = get_count(jb, &wb, "from", &b->from, err)) ||
		   (st = get_count(jb, &wb, "count", &b->count, err)))
			return st;
		const json_t *to = json_object_get(jb, "to");
		b->has_to = !json_is_null(to);
		if(b->has_to && (st = get_count(jb, &wb, "to", &b->to, err)))
			return st;
	}
	return OTD_OK;
}

static bool currency_ok(const char *c)
{
	if(!c[0])
		return true; /* no case, no currency */
	for(int i = 0; i < 3; i++)
		if(c[i] < 'A' || c[i] > 'Z')
			return false;
	return c[3] == '\0';
}

static enum otd_status read_run(const json_t *run, const struct where *w, struct rpt_run *r,
                                struct otd_error *err)
{
	enum otd_status st;
	const json_t *outcomes = NULL, *held = NULL;
	struct where wo, wh;
	where_member(&wo, w, "outcomes");
	where_member(&wh, w, "held_windows");
	if(!json_is_object(run))
		return bad(err, w, NULL, run, "an object");
	if((st = get_str(run, w, "policy", &r->policy, err)) ||
	   (st = get_count(run, w, "width_minutes", &r->width, err)) ||
	   (st = get_count(run, w, "requests", &r->requests, err)) ||
	   (st = get_count(run, w, "booked", &r->booked, err)) ||
	   (st = get_count(run, w, "turned_away", &r->turned_away, err)) ||
	   (st = get_count(run, w, "appointments", &r->appointments, err)) ||
	   (st = get_obj(run, w, "outcomes", &outcomes, err)) ||
	   (st = get_count(outcomes, &wo, "kept", &r->kept, err)) ||
	   (st = get_count(outcomes, &wo, "broken", &r->broken, err)) ||
	   (st = get_count(outcomes, &wo, "cancelled", &r->cancelled, err)) ||
	   (st = get_count(outcomes, &wo, "moved", &r->moved, err)) ||
	   (st = get_opt_num(run, w, "kept_rate", &r->kept_rate, err)) ||
	   (st = get_count(run, w, "early_arrivals", &r->early_arrivals, err)) ||
	   (st = get_count(run, w, "reassigned", &r->reassigned, err)) ||
	   (st = get_opt_num(run, w, "utilisation", &r->utilisation, err)) ||
	   (st = get_num(run, w, "service_hours", &r->service_hours, err)) ||
	   (st = get_num(run, w, "travel_hours", &r->travel_hours, err)) ||
	   (st = get_num(run, w, "shift_hours", &r->shift_hours, err)) ||
	   (st = get_num(run, w, "travel_km", &r->travel_km, err)) ||
	   (st = get_count(run, w, "at_risk_promises", &r->at_risk, err)) ||
	   (st = get_count(run, w, "apologies", &r->apologies, err)) ||
	   (st = get_count(run, w, "false_alarms", &r->false_alarms, err)) ||
	   (st = get_opt_num(run, w, "false_alarm_share", &r->false_alarm_share, err)) ||
	   (st = get_count(run, w, "updates", &r->updates, err)) ||
	   (st = get_count(run, w, "back_on_time", &r->back_on_time, err)) ||
	   (st = get_count(run, w, "broken_warned", &r->broken_warned, err)) ||
	   (st = get_opt_num(run, w, "warned_share", &r->warned_share, err)) ||
	   (st = get_opt_num(run, w, "warned_60_share", &r->warned_60_share, err)) ||
	   (st = read_lead(run, w, r, err)) ||
	   (st = get_count(run, w, "messages", &r->messages, err)) ||
	   (st = get_opt_num(run, w, "messages_per_customer", &r->messages_per_customer, err)) ||
	   (st = get_counts(run, w, "messages_by_kind", &r->messages_by_kind, err)) ||
	   (st = get_obj(run, w, "held_windows", &held, err)) ||
	   (st = get_count(held, &wh, "offered", &r->held_offered, err)) ||
	   (st = get_count(held, &wh, "taken", &r->held_taken, err)) ||
	   (st = get_count(run, w, "guarantee_cases", &r->guarantee_cases, err)) ||
	   (st = get_count(run, w, "compensation_minor", &r->compensation_minor, err)) ||
	   (st = get_str(run, w, "currency", &r->currency, err)) ||
	   (st = read_timeline(run, w, &r->timeline, err)) ||
	   (st = get_counts(run, w, "accounting", &r->accounting, err)))
		return st;
	/* Optional: why the broken promises broke (counts, and lateness that
	 * may be null). */
	const json_t *causes = json_object_get(run, "broken_causes");
	r->broken_causes = json_is_object(causes) ? causes : NULL;
	if(!r->policy[0])
		return bad(err, w, "policy", json_object_get(run, "policy"), "a policy's name");
	if(!currency_ok(r->currency))
		return bad(err, w, "currency", json_object_get(run, "currency"),
		           "an ISO 4217 code (\"GBP\") or \"\"");
	/* The policy is cut on a character boundary so the label stays UTF-8. */
	size_t n = strlen(r->policy), keep = 0;
	while(keep < n && keep < 40) {
		size_t k = otd_utf8_char((const unsigned char *)r->policy + keep, n - keep);
		if(!k || keep + k > 40)
			break;
		keep += k;
	}
	text_printf(r->label, sizeof(r->label), "%.*s%s %lld min", (int)keep, r->policy,
	            keep < n ? "\xe2\x80\xa6" : "", r->width);
	return OTD_OK;
}

static void rpt_cleanup(struct rpt *r)
{
	for(size_t i = 0; i < r->n_runs; i++) {
		struct rpt_timeline *t = &r->runs[i].timeline;
		for(size_t v = 0; v < t->n_visitors; v++)
			free(t->visitors[v].stops);
		free(t->visitors);
	}
	free(r->runs);
	memset(r, 0, sizeof(*r));
}

/* Reads and checks the whole report; on failure r is cleaned up. */
static enum otd_status rpt_read(const json_t *report, struct rpt *r, struct otd_error *err)
{
	enum otd_status st;
	const json_t *scenario = NULL, *runs = NULL;
	struct where root = {""}, ws;
	memset(r, 0, sizeof(*r));
	where_member(&ws, &root, "scenario");
	if(!json_is_object(report))
		return otd_error_set(err, OTD_EINVAL, "bad_report", "report",
		                     "The report must be a JSON object.");
	if((st = get_obj(report, &root, "scenario", &scenario, err)) ||
	   (st = get_str(scenario, &ws, "name", &r->name, err)) ||
	   (st = get_str(scenario, &ws, "description", &r->description, err)) ||
	   (st = get_count(scenario, &ws, "visitors", &r->visitors, err)) ||
	   (st = get_str(scenario, &ws, "first_day", &r->first_day, err)) ||
	   (st = get_count(scenario, &ws, "days", &r->days, err)) ||
	   (st = get_count(scenario, &ws, "booking_days", &r->booking_days, err)) ||
	   (st = get_count(scenario, &ws, "seed", &r->seed, err)) ||
	   (st = get_str(scenario, &ws, "timezone", &r->timezone, err)) ||
	   (st = get_obj(report, &root, "definitions", &r->definitions, err)) ||
	   (st = get_arr(report, &root, "runs", &runs, err)))
		return st;
	struct where wd;
	where_member(&wd, &root, "definitions");
	for(void *it = json_object_iter((json_t *)r->definitions); it;
	    it = json_object_iter_next((json_t *)r->definitions, it))
		if(!json_is_string(json_object_iter_value(it)))
			return bad(err, &wd, json_object_iter_key(it), json_object_iter_value(it),
			           "a sentence (a string)");
	if(json_array_size(runs) > SIM_REPORT_RUNS_MAX)
		return bad(err, &root, "runs", runs, "an array of at most 64 runs");
	r->n_runs = json_array_size(runs);
	r->runs = r->n_runs ? xcalloc(r->n_runs, sizeof(*r->runs)) : NULL;
	for(size_t i = 0; i < r->n_runs; i++) {
		struct where wr;
		where_index(&wr, &root, "runs", i);
		if((st = read_run(json_array_get(runs, i), &wr, &r->runs[i], err))) {
			rpt_cleanup(r);
			return st;
		}
	}
	return OTD_OK;
}

/* ---- Numbers as text (no %f: the locale must not matter) -------------- */

#define NUM_MAX 64

/* Writes whole with commas between thousands: 1234567 -> "1,234,567". */
static void grouped(char *out, size_t n, unsigned long long whole)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%llu", whole);
	size_t o = 0;
	for(int i = 0; i < len && o + 1 < n; i++) {
		if(i > 0 && (len - i) % 3 == 0 && o + 2 < n)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o < n ? o : n - 1] = '\0';
}

/* v with dec (0..4) decimals, rounded half away from zero, thousands
 * grouped: 1234.5 -> "1,234.5". */
static void fmt_fixed(char *out, size_t n, double v, int dec)
{
	if(!isfinite(v)) {
		text_printf(out, n, "n/a");
		return;
	}
	unsigned long long scale = 1;
	for(int i = 0; i < dec; i++)
		scale *= 10;
	double a = fabs(v);
	if(a > 1e14)
		a = 1e14; /* beyond any figure here, and within unsigned long long */
	unsigned long long q = (unsigned long long)llround(a * (double)scale);
	char whole[NUM_MAX];
	grouped(whole, sizeof(whole), q / scale);
	const char *sign = v < 0 && q ? "-" : "";
	if(dec > 0)
		text_printf(out, n, "%s%s.%0*llu", sign, whole, dec, q % scale);
	else
		text_printf(out, n, "%s%s", sign, whole);
}

/* A share as a percentage with one decimal: 0.9724 -> "97.2%". */
static void fmt_pct(char *out, size_t n, double share)
{
	char t[NUM_MAX];
	fmt_fixed(t, sizeof(t), share * 100.0, 1);
	text_printf(out, n, "%s%%", t);
}

/* Whole when it is whole, else one decimal: 95 -> "95", 95.5 -> "95.5". */
static void fmt_short(char *out, size_t n, double v)
{
	fmt_fixed(out, n, v, floor(v) == v ? 0 : 1);
}

static void fmt_count(char *out, size_t n, long long v)
{
	fmt_fixed(out, n, (double)v, 0);
}

/* Minor units as money: "£1,234.00" for GBP, "123.40 EUR" for any other
 * code, "12.00" without one. Two decimals, as the guarantee rules keep. */
static void fmt_money(char *out, size_t n, long long minor, const char *currency)
{
	unsigned long long mag = minor < 0 ? (unsigned long long)0 - (unsigned long long)minor
	                                   : (unsigned long long)minor;
	char whole[NUM_MAX];
	grouped(whole, sizeof(whole), mag / 100);
	const char *sign = minor < 0 ? "-" : "";
	if(strcmp(currency, "GBP") == 0)
		text_printf(out, n, "%s\xc2\xa3%s.%02llu", sign, whole, mag % 100);
	else if(currency[0])
		text_printf(out, n, "%s%s.%02llu %s", sign, whole, mag % 100, currency);
	else
		text_printf(out, n, "%s%s.%02llu", sign, whole, mag % 100);
}

/* "HH:MM" of minutes from local midnight (a later day wraps). */
static void fmt_hhmm(char *out, size_t n, int minute)
{
	int m = (minute % 1440 + 1440) % 1440;
	text_printf(out, n, "%02d:%02d", m / 60, m % 60);
}

static void fmt_opt_pct(char *out, size_t n, struct rpt_opt o)
{
	if(o.set)
		fmt_pct(out, n, o.v);
	else
		text_printf(out, n, "n/a");
}

static void fmt_opt_min(char *out, size_t n, struct rpt_opt o)
{
	char t[NUM_MAX];
	if(!o.set) {
		text_printf(out, n, "n/a");
		return;
	}
	fmt_short(t, sizeof(t), o.v);
	text_printf(out, n, "%s min", t);
}

/* ---- The summary table, shared by HTML and Markdown ------------------- */

enum {
	COL_POLICY,
	COL_WIDTH,
	COL_BOOKED,
	COL_TURNED_AWAY,
	COL_KEPT_RATE,
	COL_BROKEN,
	COL_MOVED,
	COL_CANCELLED,
	COL_UTILISATION,
	COL_WARNED,
	COL_WARNED_60,
	COL_LEAD_MEDIAN,
	COL_LEAD_P10,
	COL_FALSE_ALARMS,
	COL_MESSAGES,
	COL_HELD,
	COL_COMPENSATION,
	COL_TRAVEL,
	COL_COUNT
};

static const char *const COLUMNS[COL_COUNT] = {"Policy",
                                               "Window",
                                               "Booked",
                                               "Turned away",
                                               "Kept rate",
                                               "Broken",
                                               "Moved",
                                               "Cancelled",
                                               "Utilisation",
                                               "Warned",
                                               "Warned \xe2\x89\xa5 60 min",
                                               "Lead median",
                                               "Lead p10",
                                               "False alarms",
                                               "Messages per customer",
                                               "Held windows taken",
                                               "Compensation owed",
                                               "Travel"};

#define CELL_MAX 96

/* The cells of a run's row; COL_POLICY is left empty (the caller writes
 * the policy itself, escaped for its format). */
static void run_cells(const struct rpt_run *r, char cells[COL_COUNT][CELL_MAX])
{
	char a[NUM_MAX], b[NUM_MAX], c[NUM_MAX];
	cells[COL_POLICY][0] = '\0';
	text_printf(cells[COL_WIDTH], CELL_MAX, "%lld min", r->width);
	fmt_count(cells[COL_BOOKED], CELL_MAX, r->booked);
	fmt_count(cells[COL_TURNED_AWAY], CELL_MAX, r->turned_away);
	if(r->kept_rate.set) {
		fmt_pct(a, sizeof(a), r->kept_rate.v);
		fmt_count(b, sizeof(b), r->kept);
		fmt_count(c, sizeof(c), r->kept + r->broken);
		text_printf(cells[COL_KEPT_RATE], CELL_MAX, "%s (%s of %s)", a, b, c);
	} else {
		text_printf(cells[COL_KEPT_RATE], CELL_MAX, "n/a (none due)");
	}
	fmt_count(cells[COL_BROKEN], CELL_MAX, r->broken);
	fmt_count(cells[COL_MOVED], CELL_MAX, r->moved);
	fmt_count(cells[COL_CANCELLED], CELL_MAX, r->cancelled);
	fmt_opt_pct(cells[COL_UTILISATION], CELL_MAX, r->utilisation);
	if(r->warned_share.set) {
		fmt_pct(a, sizeof(a), r->warned_share.v);
		fmt_count(b, sizeof(b), r->broken_warned);
		fmt_count(c, sizeof(c), r->broken);
		text_printf(cells[COL_WARNED], CELL_MAX, "%s (%s of %s)", a, b, c);
	} else {
		text_printf(cells[COL_WARNED], CELL_MAX, "n/a (none broken)");
	}
	fmt_opt_pct(cells[COL_WARNED_60], CELL_MAX, r->warned_60_share);
	fmt_opt_min(cells[COL_LEAD_MEDIAN], CELL_MAX, r->lead_median);
	fmt_opt_min(cells[COL_LEAD_P10], CELL_MAX, r->lead_p10);
	fmt_count(a, sizeof(a), r->false_alarms);
	fmt_opt_pct(b, sizeof(b), r->false_alarm_share);
	fmt_count(c, sizeof(c), r->apologies);
	text_printf(cells[COL_FALSE_ALARMS], CELL_MAX, "%s of %s apologies (%s)", a, c, b);
	if(r->messages_per_customer.set)
		fmt_fixed(cells[COL_MESSAGES], CELL_MAX, r->messages_per_customer.v, 2);
	else
		text_printf(cells[COL_MESSAGES], CELL_MAX, "n/a");
	fmt_count(a, sizeof(a), r->held_taken);
	fmt_count(b, sizeof(b), r->held_offered);
	text_printf(cells[COL_HELD], CELL_MAX, "%s of %s offered", a, b);
	fmt_money(a, sizeof(a), r->compensation_minor, r->currency);
	fmt_count(b, sizeof(b), r->guarantee_cases);
	text_printf(cells[COL_COMPENSATION], CELL_MAX, "%s (%s %s)", a, b,
	            r->guarantee_cases == 1 ? "case" : "cases");
	fmt_fixed(a, sizeof(a), r->travel_km, 1);
	fmt_fixed(b, sizeof(b), r->travel_hours, 1);
	text_printf(cells[COL_TRAVEL], CELL_MAX, "%s km, %s h", a, b);
}

/* The members of every run's object (accounting, messages_by_kind) in the
 * order first seen; keys borrowed from the report. */
struct keyset {
	const char *keys[64];
	size_t n;
};

/* Which object of each run a key table shows. */
enum key_table { KT_MESSAGES, KT_ACCOUNTING, KT_CAUSES };

static const json_t *key_object(const struct rpt_run *run, enum key_table which)
{
	return which == KT_ACCOUNTING ? run->accounting
	       : which == KT_CAUSES   ? run->broken_causes
	                              : run->messages_by_kind;
}

/* A cell: a count, "n/a" for null or missing. */
static void key_cell(char *t, size_t n, const json_t *v)
{
	if(json_is_integer(v))
		fmt_count(t, n, (long long)json_integer_value(v));
	else
		text_printf(t, n, "n/a");
}

static void keyset_collect(struct keyset *ks, const struct rpt *r, enum key_table which)
{
	ks->n = 0;
	for(size_t i = 0; i < r->n_runs; i++) {
		json_t *o = (json_t *)key_object(&r->runs[i], which);
		for(void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
			const char *k = json_object_iter_key(it);
			bool seen = false;
			for(size_t j = 0; j < ks->n && !seen; j++)
				seen = strcmp(ks->keys[j], k) == 0;
			if(!seen && ks->n < sizeof(ks->keys) / sizeof(ks->keys[0]))
				ks->keys[ks->n++] = k;
		}
	}
}

/* "at_risk_without_one_apology" -> "At risk without one apology". */
static void key_words(struct otd_buf *b, const char *key)
{
	char *t = xstrdup(key);
	for(char *p = t; *p; p++)
		if(*p == '_')
			*p = ' ';
	if(t[0] >= 'a' && t[0] <= 'z')
		t[0] = (char)(t[0] - 'a' + 'A');
	otd_buf_puts(b, t);
	free(t);
}

/* ---- Markdown ---------------------------------------------------------- */

/* s as Markdown text: punctuation that could start markup is escaped with
 * a backslash (CommonMark allows it before any ASCII punctuation), a line
 * break becomes a space, so a table cell stays one cell. */
static void md_escape(struct otd_buf *b, const char *s)
{
	for(const char *p = s; *p; p++) {
		if(*p == '\n' || *p == '\r' || *p == '\t')
			otd_buf_puts(b, " ");
		else if(strchr("\\`*_[]<>|&#!~", *p)) {
			char e[3] = {'\\', *p, '\0'};
			otd_buf_puts(b, e);
		} else
			otd_buf_append(b, p, 1);
	}
}

static void md_key_table(struct otd_buf *b, const struct rpt *r, enum key_table which)
{
	struct keyset ks;
	keyset_collect(&ks, r, which);
	if(!ks.n || !r->n_runs) {
		otd_buf_puts(b, "None recorded.\n");
		return;
	}
	otd_buf_puts(b, "| Run |");
	for(size_t k = 0; k < ks.n; k++) {
		otd_buf_puts(b, " ");
		struct otd_buf t;
		otd_buf_init(&t, 0);
		key_words(&t, ks.keys[k]);
		md_escape(b, t.data);
		otd_buf_cleanup(&t);
		otd_buf_puts(b, " |");
	}
	otd_buf_puts(b, "\n|---|");
	for(size_t k = 0; k < ks.n; k++)
		otd_buf_puts(b, "---:|");
	otd_buf_puts(b, "\n");
	for(size_t i = 0; i < r->n_runs; i++) {
		const json_t *o = key_object(&r->runs[i], which);
		otd_buf_puts(b, "| ");
		md_escape(b, r->runs[i].label);
		otd_buf_puts(b, " |");
		for(size_t k = 0; k < ks.n; k++) {
			const json_t *v = json_object_get(o, ks.keys[k]);
			char t[NUM_MAX];
			key_cell(t, sizeof(t), v);
			otd_buf_printf(b, " %s |", t);
		}
		otd_buf_puts(b, "\n");
	}
}

static void render_markdown(struct otd_buf *b, const struct rpt *r)
{
	char n1[NUM_MAX];
	otd_buf_puts(b, "# Simulation: ");
	md_escape(b, r->name);
	otd_buf_puts(b, "\n\n");
	if(r->description[0]) {
		md_escape(b, r->description);
		otd_buf_puts(b, "\n\n");
	}
	otd_buf_puts(b, "## Scenario\n\n");
	fmt_count(n1, sizeof(n1), r->visitors);
	otd_buf_printf(b, "- Visitors: %s\n", n1);
	otd_buf_puts(b, "- First day: ");
	md_escape(b, r->first_day);
	otd_buf_printf(b, "\n- Days played: %lld\n- Booking days before: %lld\n", r->days,
	               r->booking_days);
	otd_buf_printf(b, "- Seed: %lld\n- Time zone: ", r->seed);
	md_escape(b, r->timezone);
	otd_buf_printf(b, "\n- Runs: %zu\n\n", r->n_runs);

	otd_buf_puts(b, "## Definitions\n\n");
	for(void *it = json_object_iter((json_t *)r->definitions); it;
	    it = json_object_iter_next((json_t *)r->definitions, it)) {
		struct otd_buf t;
		otd_buf_init(&t, 0);
		key_words(&t, json_object_iter_key(it));
		otd_buf_puts(b, "- **");
		md_escape(b, t.data);
		otd_buf_puts(b, "**: ");
		md_escape(b, json_string_value(json_object_iter_value(it)));
		otd_buf_puts(b, "\n");
		otd_buf_cleanup(&t);
	}
	if(!json_object_size(r->definitions))
		otd_buf_puts(b, "None given.\n");

	otd_buf_puts(b, "\n## Summary\n\n");
	if(!r->n_runs) {
		otd_buf_puts(b, "No runs.\n");
	} else {
		otd_buf_puts(b, "|");
		for(int c = 0; c < COL_COUNT; c++)
			otd_buf_printf(b, " %s |", COLUMNS[c]);
		otd_buf_puts(b, "\n|---|");
		for(int c = 1; c < COL_COUNT; c++)
			otd_buf_puts(b, "---:|");
		otd_buf_puts(b, "\n");
		for(size_t i = 0; i < r->n_runs; i++) {
			char cells[COL_COUNT][CELL_MAX];
			run_cells(&r->runs[i], cells);
			otd_buf_puts(b, "| ");
			md_escape(b, r->runs[i].policy);
			otd_buf_puts(b, " |");
			for(int c = 1; c < COL_COUNT; c++)
				otd_buf_printf(b, " %s |", cells[c]);
			otd_buf_puts(b, "\n");
		}
	}
	otd_buf_puts(b, "\n## Why promises were broken\n\n");
	md_key_table(b, r, KT_CAUSES);
	otd_buf_puts(b, "\n## Accounting checks (each should be 0)\n\n");
	md_key_table(b, r, KT_ACCOUNTING);
	otd_buf_puts(b, "\n## Messages by kind\n\n");
	md_key_table(b, r, KT_MESSAGES);
}

/* ---- HTML -------------------------------------------------------------- */

static const char STYLE[] =
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;"
    "color:#111;background:#fff;line-height:1.45}\n"
    "main{max-width:72rem;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem}h3{font-size:1.05rem}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;font-size:.9rem}\n"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}\n"
    "th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:right;"
    "vertical-align:top}\n"
    "th{background:#f2f2f2}th[scope=row]{text-align:left}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\n"
    "dl.facts dt{font-weight:600}dl.facts dd{margin:0}\n"
    "dl.defs dt{font-weight:600;margin-top:.5rem}dl.defs dd{margin-left:1rem}\n"
    "svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0 1.5rem}\n";

static void h_esc(struct otd_buf *b, const char *s)
{
	otd_html_escape(b, s);
}

static void html_fact(struct otd_buf *b, const char *term, const char *value)
{
	otd_buf_printf(b, "<dt>%s</dt><dd>", term);
	h_esc(b, value);
	otd_buf_puts(b, "</dd>\n");
}

static void html_summary(struct otd_buf *b, const struct rpt *r)
{
	otd_buf_puts(b, "<h2 id=\"summary\">Summary</h2>\n");
	if(!r->n_runs) {
		otd_buf_puts(b, "<p>No runs.</p>\n");
		return;
	}
	otd_buf_puts(b, "<div class=\"scroll\"><table>\n<caption>One row per policy and window "
	                "width</caption>\n<thead><tr>");
	for(int c = 0; c < COL_COUNT; c++)
		otd_buf_printf(b, "<th scope=\"col\">%s</th>", COLUMNS[c]);
	otd_buf_puts(b, "</tr></thead>\n<tbody>\n");
	for(size_t i = 0; i < r->n_runs; i++) {
		char cells[COL_COUNT][CELL_MAX];
		run_cells(&r->runs[i], cells);
		otd_buf_puts(b, "<tr><th scope=\"row\">");
		h_esc(b, r->runs[i].policy);
		otd_buf_puts(b, "</th>");
		for(int c = 1; c < COL_COUNT; c++) {
			otd_buf_puts(b, "<td>");
			h_esc(b, cells[c]);
			otd_buf_puts(b, "</td>");
		}
		otd_buf_puts(b, "</tr>\n");
	}
	otd_buf_puts(b, "</tbody></table></div>\n");
}

static void html_key_table(struct otd_buf *b, const struct rpt *r, enum key_table which)
{
	struct keyset ks;
	keyset_collect(&ks, r, which);
	if(!ks.n || !r->n_runs) {
		otd_buf_puts(b, "<p>None recorded.</p>\n");
		return;
	}
	otd_buf_printf(
	    b,
	    "<div class=\"scroll\"><table>\n<caption>%s</caption>\n<thead><tr>"
	    "<th scope=\"col\">Run</th>",
	    which == KT_ACCOUNTING ? "Promises that escaped the accounting (each should be 0)"
	    : which == KT_CAUSES
	        ? "Why promises were broken: late after an overrun (a visit over twice its "
	          "median earlier that day), late otherwise, never reached; lateness in "
	          "minutes"
	        : "Messages sent, by kind");
	for(size_t k = 0; k < ks.n; k++) {
		struct otd_buf t;
		otd_buf_init(&t, 0);
		key_words(&t, ks.keys[k]);
		otd_buf_puts(b, "<th scope=\"col\">");
		h_esc(b, t.data);
		otd_buf_puts(b, "</th>");
		otd_buf_cleanup(&t);
	}
	otd_buf_puts(b, "</tr></thead>\n<tbody>\n");
	for(size_t i = 0; i < r->n_runs; i++) {
		const json_t *o = key_object(&r->runs[i], which);
		otd_buf_puts(b, "<tr><th scope=\"row\">");
		h_esc(b, r->runs[i].label);
		otd_buf_puts(b, "</th>");
		for(size_t k = 0; k < ks.n; k++) {
			const json_t *v = json_object_get(o, ks.keys[k]);
			char t[NUM_MAX];
			key_cell(t, sizeof(t), v);
			otd_buf_printf(b, "<td>%s</td>", t);
		}
		otd_buf_puts(b, "</tr>\n");
	}
	otd_buf_puts(b, "</tbody></table></div>\n");
}

/* One line of the targets list: met, or missed and by how much. */
static void target_line(struct otd_buf *b, const char *what, bool known, bool met,
                        const char *measured, const char *gap)
{
	otd_buf_puts(b, "<li>");
	h_esc(b, what);
	otd_buf_puts(b, ": ");
	if(!known)
		otd_buf_puts(b, "not measured in this run");
	else {
		otd_buf_puts(b, met ? "<strong>met</strong>, " : "<strong>missed</strong>, ");
		h_esc(b, measured);
		if(!met) {
			otd_buf_puts(b, " (");
			h_esc(b, gap);
			otd_buf_puts(b, ")");
		}
	}
	otd_buf_puts(b, "</li>\n");
}

/* The aims of issue 9 for the onthedot run with 60-minute windows, each
 * met or missed by how much; "why" is the broken-promise table below. */
static void html_targets(struct otd_buf *b, const struct rpt *r)
{
	const struct rpt_run *run = NULL;
	for(size_t i = 0; i < r->n_runs && !run; i++)
		if(strcmp(r->runs[i].policy, "onthedot") == 0 && r->runs[i].width == 60)
			run = &r->runs[i];
	otd_buf_puts(b, "<h2>Targets</h2>\n");
	if(!run) {
		otd_buf_puts(b,
		             "<p>The targets are for the onthedot policy with 60-minute windows, "
		             "which this report does not hold.</p>\n");
		return;
	}
	char m[160], g[160];
	otd_buf_puts(b, "<p>For the onthedot policy with 60-minute windows, this seed. The "
	                "figures over many seeds are in the README.</p>\n<ul>\n");
	bool known = run->kept_rate.set && run->utilisation.set;
	double k = known ? run->kept_rate.v * 100 : 0, u = known ? run->utilisation.v * 100 : 0;
	text_printf(m, sizeof(m), "kept %.1f%% at utilisation %.1f%%", k, u);
	if(k < 97 && u < 75)
		text_printf(g, sizeof(g), "kept short by %.1f points, utilisation by %.1f", 97 - k,
		            75 - u);
	else if(k < 97)
		text_printf(g, sizeof(g), "kept short by %.1f points", 97 - k);
	else
		text_printf(g, sizeof(g), "utilisation short by %.1f points", 75 - u);
	target_line(b, "at least 97% kept at 75% utilisation or more", known, k >= 97 && u >= 75, m,
	            g);
	known = run->warned_60_share.set;
	double w = known ? run->warned_60_share.v * 100 : 0;
	text_printf(m, sizeof(m), "%.1f%% of broken promises warned an hour or more ahead", w);
	text_printf(g, sizeof(g), "short by %.1f points", 90 - w);
	target_line(b,
	            "at least 90% of broken promises warned 60 minutes or more before the window "
	            "ended",
	            known, w >= 90, m, g);
	known = run->false_alarm_share.set;
	double f = known ? run->false_alarm_share.v * 100 : 0;
	text_printf(m, sizeof(m), "%.1f%% of apologies", f);
	text_printf(g, sizeof(g), "over by %.1f points", f - 25);
	target_line(b, "false alarms at most 25% of apologies", known, f <= 25, m, g);
	known = run->messages_per_customer.set;
	double mc = known ? run->messages_per_customer.v : 0;
	text_printf(m, sizeof(m), "%.2f messages per customer", mc);
	text_printf(g, sizeof(g), "over by %.2f", mc - 1.3);
	target_line(b, "at most 1.3 messages per customer on average", known, mc <= 1.3 + 1e-9, m,
	            g);
	otd_buf_puts(b, "</ul>\n");
}

/* One bar per run; texts[i] (owned by the caller) as each bar's text. */
struct bars {
	struct otd_chart_bar bar[SIM_REPORT_RUNS_MAX];
	char text[SIM_REPORT_RUNS_MAX][NUM_MAX * 2];
};

static enum otd_status html_chart(struct otd_buf *b, struct otd_chart *c, const char *heading,
                                  struct otd_error *err)
{
	otd_buf_puts(b, "<section>\n<h3>");
	h_esc(b, heading);
	otd_buf_puts(b, "</h3>\n");
	if(!c->width)
		c->width = 720;
	if(!c->value_width)
		c->value_width = 176;
	enum otd_status st = otd_chart_bars_svg(c, b, err);
	otd_buf_puts(b, "\n</section>\n");
	return st;
}

enum chart_kind {
	CH_KEPT,
	CH_FALSE_ALARMS,
	CH_MESSAGES,
	CH_HELD,
	CH_COMPENSATION,
	CH_TRAVEL,
	CH_UTILISATION
};

/* A chart with one bar per run of the figure kind. */
static enum otd_status html_run_chart(struct otd_buf *b, const struct rpt *r, enum chart_kind kind,
                                      struct otd_error *err)
{
	struct bars *bs = xcalloc(1, sizeof(*bs));
	struct otd_chart c = {0};
	const char *heading = "";
	char a[NUM_MAX], n1[NUM_MAX];
	for(size_t i = 0; i < r->n_runs; i++) {
		const struct rpt_run *run = &r->runs[i];
		struct otd_chart_bar *bar = &bs->bar[i];
		char *t = bs->text[i];
		size_t tn = sizeof(bs->text[i]);
		bar->label = run->label;
		bar->value_text = t;
		switch(kind) {
		case CH_KEPT:
			bar->value = run->kept_rate.set ? run->kept_rate.v * 100.0 : 0;
			if(run->kept_rate.set)
				fmt_pct(t, tn, run->kept_rate.v);
			else
				text_printf(t, tn, "none due");
			break;
		case CH_FALSE_ALARMS:
			bar->value =
			    run->false_alarm_share.set ? run->false_alarm_share.v * 100.0 : 0;
			fmt_count(n1, sizeof(n1), run->false_alarms);
			if(run->false_alarm_share.set) {
				fmt_pct(a, sizeof(a), run->false_alarm_share.v);
				text_printf(t, tn, "%s (%s)", a, n1);
			} else {
				text_printf(t, tn, "no apology");
			}
			break;
		case CH_MESSAGES:
			bar->value = run->messages_per_customer.v;
			if(run->messages_per_customer.set)
				fmt_fixed(t, tn, run->messages_per_customer.v, 2);
			else
				text_printf(t, tn, "n/a");
			break;
		case CH_HELD:
			bar->value = (double)run->held_taken;
			fmt_count(a, sizeof(a), run->held_taken);
			fmt_count(n1, sizeof(n1), run->held_offered);
			text_printf(t, tn, "%s of %s", a, n1);
			break;
		case CH_COMPENSATION:
			bar->value = (double)run->compensation_minor;
			fmt_money(t, tn, run->compensation_minor, run->currency);
			break;
		case CH_TRAVEL:
			bar->value = run->travel_hours;
			fmt_fixed(a, sizeof(a), run->travel_hours, 1);
			text_printf(t, tn, "%s h", a);
			break;
		case CH_UTILISATION:
			bar->value = run->utilisation.v * 100.0;
			fmt_opt_pct(t, tn, run->utilisation);
			break;
		}
	}
	c.bars = bs->bar;
	c.n_bars = r->n_runs;
	c.empty_text = "No runs.";
	switch(kind) {
	case CH_KEPT:
		c.id = "kept-rate";
		heading = "Kept rate by window width";
		c.title = "Promises kept, by policy and window width";
		c.desc = "Kept: arrived by the end of the window as first promised, of the "
		         "promises due (moved appointments are not counted as kept).";
		c.percent = true;
		break;
	case CH_FALSE_ALARMS:
		c.id = "false-alarms";
		heading = "False alarms";
		c.title = "False alarms, as a share of apologies";
		c.desc = "A false alarm is an apology for a window that was then kept.";
		c.percent = true;
		break;
	case CH_MESSAGES:
		c.id = "messages";
		heading = "Messages per customer";
		c.title = "Messages per customer";
		c.desc = "Every message sent to customers, divided by the customers booked.";
		break;
	case CH_HELD:
		c.id = "held-windows";
		heading = "Held windows taken";
		c.title = "Held windows customers took, of those offered with an apology";
		c.desc = NULL;
		break;
	case CH_COMPENSATION:
		c.id = "compensation";
		heading = "Compensation owed";
		c.title = "Compensation owed under the guarantee";
		c.desc = "The sum of every guarantee case the day opened.";
		break;
	case CH_TRAVEL:
		c.id = "travel";
		heading = "Travel";
		c.title = "Hours spent travelling";
		c.desc = "All visitors together.";
		break;
	case CH_UTILISATION:
		c.id = "utilisation";
		heading = "Utilisation";
		c.title = "Utilisation: service and travel time as a share of shift time";
		c.desc = NULL;
		c.percent = true;
		break;
	}
	enum otd_status st = html_chart(b, &c, heading, err);
	free(bs);
	return st;
}

static bool lead_run(const struct rpt *r, size_t i)
{
	bool any_onthedot = false;
	for(size_t k = 0; k < r->n_runs; k++)
		any_onthedot |= strcmp(r->runs[k].policy, "onthedot") == 0;
	return !any_onthedot || strcmp(r->runs[i].policy, "onthedot") == 0;
}

/* The warning lead histograms: one chart per onthedot run (every run when
 * there is none), all on one scale so they compare. */
static enum otd_status html_lead_charts(struct otd_buf *b, const struct rpt *r,
                                        struct otd_error *err)
{
	otd_buf_puts(b, "<h3>Warning lead</h3>\n<p>How long before the end of the window the "
	                "customer of a broken promise was told. Baseline sends no proactive "
	                "message.</p>\n");
	long long max = 0;
	for(size_t i = 0; i < r->n_runs; i++)
		for(size_t k = 0; lead_run(r, i) && k < r->runs[i].n_buckets; k++)
			if(r->runs[i].buckets[k].count > max)
				max = r->runs[i].buckets[k].count;
	for(size_t i = 0; i < r->n_runs; i++) {
		const struct rpt_run *run = &r->runs[i];
		if(!lead_run(r, i))
			continue;
		struct otd_chart_bar bars[SIM_REPORT_BUCKETS_MAX];
		char labels[SIM_REPORT_BUCKETS_MAX][NUM_MAX];
		for(size_t k = 0; k < run->n_buckets; k++) {
			const struct rpt_bucket *bk = &run->buckets[k];
			if(bk->has_to)
				text_printf(labels[k], sizeof(labels[k]),
				            "%lld\xe2\x80\x93%lld min", bk->from, bk->to);
			else
				text_printf(labels[k], sizeof(labels[k]), "%lld+ min", bk->from);
			bars[k] = (struct otd_chart_bar){labels[k], (double)bk->count, NULL};
		}
		char id[32], med[NUM_MAX], p10[NUM_MAX];
		text_printf(id, sizeof(id), "lead-%zu", i + 1);
		fmt_opt_min(med, sizeof(med), run->lead_median);
		fmt_opt_min(p10, sizeof(p10), run->lead_p10);
		char *title = xasprintf("Warning lead of broken promises, %s", run->label);
		char *desc = xasprintf("Broken promises warned, by minutes of warning before the "
		                       "window ended. Median %s, 10th percentile %s.",
		                       med, p10);
		struct otd_chart c = {.id = id,
		                      .title = title,
		                      .desc = desc,
		                      .bars = bars,
		                      .n_bars = run->n_buckets,
		                      .max = (double)max,
		                      .empty_text = "No broken promise was warned."};
		otd_buf_puts(b, "<p>");
		h_esc(b, run->label);
		otd_buf_printf(b, ": median %s, 10th percentile %s.</p>\n", med, p10);
		c.width = 720;
		enum otd_status st = otd_chart_bars_svg(&c, b, err);
		otd_buf_puts(b, "\n");
		free(title);
		free(desc);
		if(st)
			return st;
	}
	return OTD_OK;
}

/* ---- The day's timeline (SVG) ------------------------------------------ */

#define TL_W 960
#define TL_LABEL_W 168
#define TL_RIGHT 24
#define TL_TOP 36
#define TL_ROW_H 40
#define TL_LEGEND_H 44
#define TL_FONT 12
#define TL_CHAR_TENTHS 72 /* 0.6 em at 12 px */
/* Colours on white, WCAG AA for graphics (3:1) and text (4.5:1). */
#define TL_TEXT "#000000"
#define TL_GRID "#c8c8c8"
#define TL_BAND "#e6edf5"
#define TL_BAND_EDGE "#767676" /* 4.5:1 */
#define TL_WINDOW "#1f3a5f"    /* 11:1 */
#define TL_KEPT "#1a7f37"      /* 5.1:1 */
#define TL_BROKEN "#b3261e"    /* 6.5:1 */
#define TL_MOVED "#595959"     /* 7:1 */
#define TL_WARNED "#8a5a00"    /* 5.9:1 */

struct tl_scale {
	int start, end; /* minutes */
	int x0, w;      /* px */
};

static int tl_x(const struct tl_scale *s, int minute)
{
	if(minute < s->start)
		minute = s->start;
	if(minute > s->end)
		minute = s->end;
	return s->x0 + (int)((long long)(minute - s->start) * s->w / (s->end - s->start));
}

/* s cut to max characters (an ellipsis when cut), escaped. */
static void tl_text(struct otd_buf *b, const char *s, size_t max)
{
	struct otd_buf t;
	otd_buf_init(&t, 0);
	size_t n = strlen(s), i = 0, chars = 0;
	while(i < n && chars < max) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		if(chars + 1 == max && i + (k ? k : 1) < n)
			break; /* room for the ellipsis */
		if(k)
			otd_buf_append(&t, s + i, k);
		else
			otd_buf_puts(&t, "\xef\xbf\xbd");
		i += k ? k : 1;
		chars++;
	}
	if(i < n)
		otd_buf_puts(&t, "\xe2\x80\xa6");
	otd_html_escape(b, t.len ? t.data : "");
	otd_buf_cleanup(&t);
}

/* The mark of an outcome at (x, y): a circle for kept, a cross for broken,
 * a square for moved, so the shape tells what the colour tells. */
static void tl_mark(struct otd_buf *b, const char *outcome, int x, int y)
{
	if(strcmp(outcome, "kept") == 0)
		otd_buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>", x, y,
		               TL_KEPT);
	else if(strcmp(outcome, "broken") == 0)
		otd_buf_printf(b,
		               "<path d=\"M%d %dL%d %dM%d %dL%d %d\" stroke=\"%s\" "
		               "stroke-width=\"3\" fill=\"none\"/>",
		               x - 5, y - 5, x + 5, y + 5, x - 5, y + 5, x + 5, y - 5, TL_BROKEN);
	else
		otd_buf_printf(b,
		               "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>",
		               x - 5, y - 5, TL_MOVED);
}

static const char *tl_colour(const char *outcome)
{
	if(strcmp(outcome, "kept") == 0)
		return TL_KEPT;
	if(strcmp(outcome, "broken") == 0)
		return TL_BROKEN;
	return TL_MOVED;
}

static void tl_stop(struct otd_buf *b, const struct tl_scale *s, const struct rpt_stop *st, int y)
{
	char w0[16], w1[16], t[16];
	int mid = y + TL_ROW_H / 2;
	bool cancelled = strcmp(st->outcome, "cancelled") == 0;
	fmt_hhmm(w0, sizeof(w0), st->from);
	fmt_hhmm(w1, sizeof(w1), st->to);
	otd_buf_puts(b, "<g class=\"tl-stop\"><title>");
	h_esc(b, st->reference);
	otd_buf_printf(b, ": window %s\xe2\x80\x93%s", w0, w1);
	if(st->has_warned) {
		fmt_hhmm(t, sizeof(t), st->warned);
		otd_buf_printf(b, ", warned at %s", t);
	}
	if(st->has_arrived) {
		fmt_hhmm(t, sizeof(t), st->arrived);
		otd_buf_printf(b, ", arrived %s", t);
	} else {
		otd_buf_puts(b, ", no arrival");
	}
	if(st->has_done) {
		fmt_hhmm(t, sizeof(t), st->done);
		otd_buf_printf(b, ", done %s", t);
	}
	otd_buf_printf(b, ": %s</title>", st->outcome);
	int x0 = tl_x(s, st->from), x1 = tl_x(s, st->to);
	otd_buf_printf(b,
	               "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	               "stroke=\"%s\" stroke-width=\"2\"%s/>",
	               x0, y + 6, x1 - x0 > 1 ? x1 - x0 : 1, TL_ROW_H - 12,
	               cancelled ? TL_MOVED : TL_WINDOW,
	               cancelled ? " stroke-dasharray=\"4 3\"" : "");
	if(!cancelled && st->has_arrived && st->has_done && st->done > st->arrived)
		otd_buf_printf(b,
		               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		               "stroke-width=\"3\"/>",
		               tl_x(s, st->arrived), mid, tl_x(s, st->done), mid,
		               tl_colour(st->outcome));
	if(!cancelled) {
		/* No arrival: a broken promise is marked where the window ended,
		 * a moved one in the middle of the first window. */
		int at = st->has_arrived                      ? st->arrived
		         : strcmp(st->outcome, "broken") == 0 ? st->to
		                                              : st->from + (st->to - st->from) / 2;
		tl_mark(b, st->outcome, tl_x(s, at), mid);
	}
	if(st->has_warned) {
		int x = tl_x(s, st->warned);
		otd_buf_printf(b, "<path d=\"M%d %dL%d %dL%d %dZ\" fill=\"%s\"/>", x - 5, y + 1,
		               x + 5, y + 1, x, y + 8, TL_WARNED);
	}
	otd_buf_puts(b, "</g>");
}

static void tl_legend(struct otd_buf *b, int y)
{
	int x = 8, mid = y + 14;
	otd_buf_printf(b, "<g class=\"tl-legend\" fill=\"%s\">", TL_TEXT);
	otd_buf_printf(b,
	               "<rect x=\"%d\" y=\"%d\" width=\"28\" height=\"14\" fill=\"%s\" "
	               "stroke=\"%s\"/><text x=\"%d\" y=\"%d\" dominant-baseline=\"central\">"
	               "shift</text>",
	               x, mid - 7, TL_BAND, TL_BAND_EDGE, x + 34, mid);
	x += 80;
	otd_buf_printf(b,
	               "<rect x=\"%d\" y=\"%d\" width=\"28\" height=\"14\" fill=\"#ffffff\" "
	               "stroke=\"%s\" stroke-width=\"2\"/><text x=\"%d\" y=\"%d\" "
	               "dominant-baseline=\"central\">window</text>",
	               x, mid - 7, TL_WINDOW, x + 34, mid);
	x += 92;
	tl_mark(b, "kept", x + 5, mid);
	otd_buf_printf(b, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"central\">kept</text>",
	               x + 16, mid);
	x += 64;
	tl_mark(b, "broken", x + 5, mid);
	otd_buf_printf(b, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"central\">broken</text>",
	               x + 16, mid);
	x += 80;
	tl_mark(b, "moved", x + 5, mid);
	otd_buf_printf(b, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"central\">moved</text>",
	               x + 16, mid);
	x += 72;
	otd_buf_printf(b,
	               "<rect x=\"%d\" y=\"%d\" width=\"28\" height=\"14\" fill=\"#ffffff\" "
	               "stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/><text "
	               "x=\"%d\" y=\"%d\" dominant-baseline=\"central\">cancelled</text>",
	               x, mid - 7, TL_MOVED, x + 34, mid);
	x += 112;
	otd_buf_printf(b,
	               "<path d=\"M%d %dL%d %dL%d %dZ\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
	               "dominant-baseline=\"central\">warned</text>",
	               x, mid - 4, x + 10, mid - 4, x + 5, mid + 3, TL_WARNED, x + 16, mid);
	x += 80;
	otd_buf_printf(b,
	               "<rect x=\"%d\" y=\"%d\" width=\"28\" height=\"14\" "
	               "fill=\"url(#timeline-sick)\" stroke=\"%s\"/><text x=\"%d\" y=\"%d\" "
	               "dominant-baseline=\"central\">off sick</text>",
	               x, mid - 7, TL_BROKEN, x + 34, mid);
	otd_buf_puts(b, "</g>");
}

/* The day of run as an SVG: a row per visitor (at most
 * SIM_REPORT_TIMELINE_ROWS), hour ticks along the top. */
static void timeline_svg(struct otd_buf *b, const struct rpt_run *run)
{
	const struct rpt_timeline *tl = &run->timeline;
	size_t rows =
	    tl->n_visitors < SIM_REPORT_TIMELINE_ROWS ? tl->n_visitors : SIM_REPORT_TIMELINE_ROWS;
	int height = TL_TOP + (int)(rows ? rows : 1) * TL_ROW_H + TL_LEGEND_H;
	struct tl_scale s = {tl->start, tl->end, TL_LABEL_W, TL_W - TL_LABEL_W - TL_RIGHT};
	long long counts[4] = {0};
	size_t stops = 0;
	for(size_t v = 0; v < rows; v++)
		for(size_t k = 0; k < tl->visitors[v].n_stops; k++, stops++)
			for(int o = 0; o < 4; o++)
				counts[o] +=
				    strcmp(tl->visitors[v].stops[k].outcome, OUTCOMES[o]) == 0;

	otd_buf_printf(b,
	               "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeline\" "
	               "role=\"img\" aria-labelledby=\"timeline-title timeline-desc\" "
	               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	               "font-family=\"sans-serif\" font-size=\"%d\">",
	               TL_W, height, TL_W, height, TL_FONT);
	otd_buf_puts(b, "<title id=\"timeline-title\">The day of ");
	h_esc(b, tl->date);
	otd_buf_puts(b, ", ");
	h_esc(b, run->label);
	otd_buf_puts(b, "</title><desc id=\"timeline-desc\">One row per visitor: the shift as a "
	                "light band, each stop's window as a box, the arrival as a mark (a "
	                "circle when kept, a cross when broken, a square when moved; a dashed "
	                "box is a cancelled visit, a line after the mark the time on site), a "
	                "triangle where the customer was warned, hatching where the visitor was "
	                "off sick. ");
	otd_buf_printf(b, "%zu visitors shown", rows);
	if(rows < tl->n_visitors)
		otd_buf_printf(b, " of %zu", tl->n_visitors);
	otd_buf_printf(b, ", %zu stops: %lld kept, %lld broken, %lld moved, %lld cancelled.</desc>",
	               stops, counts[0], counts[1], counts[2], counts[3]);
	otd_buf_printf(b,
	               "<defs><pattern id=\"timeline-sick\" width=\"6\" height=\"6\" "
	               "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	               "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>"
	               "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"%s\" "
	               "stroke-width=\"3\"/></pattern></defs>",
	               TL_BROKEN);
	otd_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
	               TL_W, height);

	/* Hour ticks: every hour, or every second one when they would crowd. */
	int rows_bottom = TL_TOP + (int)(rows ? rows : 1) * TL_ROW_H;
	int every = (long long)s.w * 60 / (s.end - s.start) < 44 ? 2 : 1;
	otd_buf_printf(b, "<g class=\"tl-hours\" fill=\"%s\">", TL_TEXT);
	for(int h = (s.start + 59) / 60; h * 60 <= s.end; h++) {
		int x = tl_x(&s, h * 60);
		otd_buf_printf(b,
		               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		               "stroke-width=\"1\"/>",
		               x, TL_TOP - 6, x, rows_bottom, TL_GRID);
		if(h % every == 0) {
			char t[16];
			fmt_hhmm(t, sizeof(t), h * 60);
			otd_buf_printf(b,
			               "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>",
			               x, TL_TOP - 12, t);
		}
	}
	otd_buf_puts(b, "</g>");

	if(!rows)
		otd_buf_printf(b,
		               "<text x=\"8\" y=\"%d\" fill=\"%s\" dominant-baseline=\"central\">"
		               "No visitor worked this day.</text>",
		               TL_TOP + TL_ROW_H / 2, TL_TEXT);
	size_t label_chars = (size_t)((TL_LABEL_W - 16) * 10 / TL_CHAR_TENTHS);
	for(size_t v = 0; v < rows; v++) {
		const struct rpt_visitor *vis = &tl->visitors[v];
		int y = TL_TOP + (int)v * TL_ROW_H;
		char f[16], t[16];
		fmt_hhmm(f, sizeof(f), vis->shift_from);
		fmt_hhmm(t, sizeof(t), vis->shift_to);
		otd_buf_puts(b, "<g class=\"tl-row\"><title>");
		h_esc(b, vis->name);
		otd_buf_printf(b, ": shift %s\xe2\x80\x93%s", f, t);
		if(vis->has_sick) {
			fmt_hhmm(f, sizeof(f), vis->sick_from);
			otd_buf_printf(b, ", off sick from %s", f);
		}
		otd_buf_printf(b, ", %zu stops</title>", vis->n_stops);
		otd_buf_printf(b,
		               "<text x=\"%d\" y=\"%d\" fill=\"%s\" text-anchor=\"end\" "
		               "dominant-baseline=\"central\">",
		               TL_LABEL_W - 8, y + TL_ROW_H / 2, TL_TEXT);
		tl_text(b, vis->name, label_chars);
		otd_buf_puts(b, "</text>");
		int sx0 = tl_x(&s, vis->shift_from), sx1 = tl_x(&s, vis->shift_to);
		otd_buf_printf(b,
		               "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
		               "stroke=\"%s\" stroke-width=\"1\"/>",
		               sx0, y + 10, sx1 - sx0, TL_ROW_H - 20, TL_BAND, TL_BAND_EDGE);
		if(vis->has_sick) {
			int end = vis->shift_to > vis->sick_from ? vis->shift_to : s.end;
			int kx0 = tl_x(&s, vis->sick_from), kx1 = tl_x(&s, end);
			fmt_hhmm(f, sizeof(f), vis->sick_from);
			otd_buf_printf(
			    b,
			    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			    "fill=\"url(#timeline-sick)\" stroke=\"%s\" stroke-width=\"1\">"
			    "<title>Off sick from %s</title></rect>",
			    kx0, y + 10, kx1 - kx0 > 2 ? kx1 - kx0 : 2, TL_ROW_H - 20, TL_BROKEN,
			    f);
		}
		for(size_t k = 0; k < vis->n_stops; k++)
			tl_stop(b, &s, &vis->stops[k], y);
		otd_buf_puts(b, "</g>");
	}
	tl_legend(b, rows_bottom + 8);
	otd_buf_puts(b, "</svg>");
}

/* The run whose day is drawn: onthedot with 60-minute windows, else the
 * first. */
static const struct rpt_run *timeline_run(const struct rpt *r)
{
	for(size_t i = 0; i < r->n_runs; i++)
		if(strcmp(r->runs[i].policy, "onthedot") == 0 && r->runs[i].width == 60)
			return &r->runs[i];
	return r->n_runs ? &r->runs[0] : NULL;
}

static enum otd_status render_html(struct otd_buf *b, const struct rpt *r, struct otd_error *err)
{
	enum otd_status st;
	char n1[NUM_MAX];
	otd_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<title>Simulation: ");
	h_esc(b, r->name);
	otd_buf_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", STYLE);
	otd_buf_puts(b, "<h1>Simulation: ");
	h_esc(b, r->name);
	otd_buf_puts(b, "</h1>\n");
	if(r->description[0]) {
		otd_buf_puts(b, "<p>");
		h_esc(b, r->description);
		otd_buf_puts(b, "</p>\n");
	}

	otd_buf_puts(b, "<h2>Scenario</h2>\n<dl class=\"facts\">\n");
	fmt_count(n1, sizeof(n1), r->visitors);
	html_fact(b, "Visitors", n1);
	html_fact(b, "First day", r->first_day);
	fmt_count(n1, sizeof(n1), r->days);
	html_fact(b, "Days played", n1);
	fmt_count(n1, sizeof(n1), r->booking_days);
	html_fact(b, "Booking days before", n1);
	fmt_count(n1, sizeof(n1), r->seed);
	html_fact(b, "Seed", n1);
	html_fact(b, "Time zone", r->timezone);
	fmt_count(n1, sizeof(n1), (long long)r->n_runs);
	html_fact(b, "Runs", n1);
	otd_buf_puts(b, "</dl>\n");

	otd_buf_puts(b, "<h2>Definitions</h2>\n");
	if(!json_object_size(r->definitions))
		otd_buf_puts(b, "<p>None given.</p>\n");
	else
		otd_buf_puts(b, "<dl class=\"defs\">\n");
	for(void *it = json_object_iter((json_t *)r->definitions); it;
	    it = json_object_iter_next((json_t *)r->definitions, it)) {
		struct otd_buf t;
		otd_buf_init(&t, 0);
		key_words(&t, json_object_iter_key(it));
		otd_buf_puts(b, "<dt>");
		h_esc(b, t.data);
		otd_buf_cleanup(&t);
		otd_buf_puts(b, "</dt><dd>");
		h_esc(b, json_string_value(json_object_iter_value(it)));
		otd_buf_puts(b, "</dd>\n");
	}
	if(json_object_size(r->definitions))
		otd_buf_puts(b, "</dl>\n");

	html_summary(b, r);

	otd_buf_puts(b, "<h2>Charts</h2>\n");
	if((st = html_run_chart(b, r, CH_KEPT, err)))
		return st;
	otd_buf_puts(b, "<section>\n");
	if((st = html_lead_charts(b, r, err)))
		return st;
	otd_buf_puts(b, "</section>\n");
	static const enum chart_kind rest[] = {CH_FALSE_ALARMS, CH_MESSAGES, CH_HELD,
	                                       CH_COMPENSATION, CH_TRAVEL,   CH_UTILISATION};
	for(size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		if((st = html_run_chart(b, r, rest[i], err)))
			return st;

	const struct rpt_run *tr = timeline_run(r);
	otd_buf_puts(b, "<h2>A day's timeline</h2>\n");
	if(tr) {
		otd_buf_puts(b, "<p>");
		h_esc(b, tr->label);
		otd_buf_puts(b, ", ");
		h_esc(b, tr->timeline.date);
		otd_buf_printf(b, ": the first %d visitors. Times are local.</p>\n",
		               SIM_REPORT_TIMELINE_ROWS);
		timeline_svg(b, tr);
		otd_buf_puts(b, "\n");
	} else {
		otd_buf_puts(b, "<p>No runs.</p>\n");
	}

	html_targets(b, r);
	otd_buf_puts(b, "<h2>Why promises were broken</h2>\n");
	html_key_table(b, r, KT_CAUSES);
	otd_buf_puts(b, "<h2>Accounting checks</h2>\n");
	html_key_table(b, r, KT_ACCOUNTING);
	otd_buf_puts(b, "<h2>Messages by kind</h2>\n");
	html_key_table(b, r, KT_MESSAGES);
	otd_buf_puts(b, "</main>\n</body>\n</html>\n");
	return OTD_OK;
}

/* ---- Public ------------------------------------------------------------ */

/* Renders into a buffer of its own and appends it to out once, so out's
 * cap takes the page whole or not at all. */
static enum otd_status render(const json_t *report, struct otd_buf *out, bool html,
                              struct otd_error *err)
{
	struct rpt r;
	enum otd_status st = rpt_read(report, &r, err);
	if(st)
		return st;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	if(html)
		st = render_html(&b, &r, err);
	else
		render_markdown(&b, &r);
	if(!st && !otd_buf_append(out, b.data ? b.data : "", b.len))
		st = otd_error_set(err, OTD_ETOOBIG, "too_big", NULL,
		                   "The report does not fit in the buffer.");
	otd_buf_cleanup(&b);
	rpt_cleanup(&r);
	return st;
}

enum otd_status sim_report_html(const json_t *report, struct otd_buf *out, struct otd_error *err)
{
	return render(report, out, true, err);
}

enum otd_status sim_report_markdown(const json_t *report, struct otd_buf *out,
                                    struct otd_error *err)
{
	return render(report, out, false, err);
}

/* Writes data to dir/name through a temporary file renamed over it. */
static enum otd_status write_file(const char *dir, const char *name, const char *data, size_t len,
                                  struct otd_error *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
	enum otd_status st = OTD_OK;
	FILE *f = fopen(tmp, "wb");
	if(!f) {
		st = otd_error_set(err, OTD_EIO, "report_write", "report", "Cannot write %s: %s.",
		                   tmp, strerror(errno));
		goto out;
	}
	size_t put = len ? fwrite(data, 1, len, f) : 0;
	int saved = errno;
	bool ok = put == len && fflush(f) == 0;
	if(!ok)
		saved = errno;
	if(fclose(f) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if(!ok || rename(tmp, path) != 0) {
		if(ok)
			saved = errno;
		remove(tmp);
		st = otd_error_set(err, OTD_EIO, "report_write", "report", "Cannot write %s: %s.",
		                   path, strerror(saved));
	}
out:
	free(path);
	free(tmp);
	return st;
}

/* json as written to a report folder, with a newline at the end; NULL
 * when jansson cannot (it never should for a checked report). */
static char *dump(const json_t *json)
{
	char *s = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	if(!s)
		return NULL;
	char *t = xasprintf("%s\n", s);
	free(s);
	return t;
}

enum otd_status sim_report_write(const json_t *report, const json_t *timings, const char *dir,
                                 struct otd_error *err)
{
	struct otd_buf html, md;
	otd_buf_init(&html, 0);
	otd_buf_init(&md, 0);
	char *rj = NULL, *tj = NULL;
	struct stat sb;
	enum otd_status st;
	if((st = sim_report_html(report, &html, err)) ||
	   (st = sim_report_markdown(report, &md, err)))
		goto out;
	rj = dump(report);
	tj = timings ? dump(timings) : xstrdup("{}\n");
	if(!rj || !tj) {
		st = otd_error_set(err, OTD_EINVAL, "bad_report", rj ? "timings" : "report",
		                   "The %s cannot be written as JSON.", rj ? "timings" : "report");
		goto out;
	}
	if(mkdir(dir, 0777) != 0 && errno != EEXIST) {
		st = otd_error_set(err, OTD_EIO, "report_dir", "report",
		                   "Cannot create the report folder %s: %s.", dir, strerror(errno));
		goto out;
	}
	if(stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		st = otd_error_set(err, OTD_EIO, "report_dir", "report",
		                   "The report folder %s is not a folder.", dir);
		goto out;
	}
	if((st = write_file(dir, "report.json", rj, strlen(rj), err)) ||
	   (st = write_file(dir, "timings.json", tj, strlen(tj), err)) ||
	   (st = write_file(dir, "report.md", md.data ? md.data : "", md.len, err)) ||
	   (st = write_file(dir, "report.html", html.data ? html.data : "", html.len, err)))
		goto out;
out:
	free(rj);
	free(tj);
	otd_buf_cleanup(&html);
	otd_buf_cleanup(&md);
	return st;
}
