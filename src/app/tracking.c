/* Tracking use cases (app/tracking.h). */
#include "app/tracking.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/booking.h"
#include "app/bus.h"
#include "app/publish.h"
#include "app/guarantees.h"
#include "app/log.h"
#include "app/planning.h"
#include "onthedot/civil.h"
#include "onthedot/learn.h"
#include "onthedot/mem.h"
#include "onthedot/project.h"
#include "onthedot/risk.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "onthedot/utf8.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/outbox.h"
#include "store/shards.h"
#include "store/store.h"
#include "store/tracking.h"

/* Observations a refit reads (newest first). */
#define LEARN_WINDOW 200
/* A journey shorter than this by the model teaches nothing about speed. */
#define LEARN_MIN_LEG_S 120.0
/* Days one batch may touch. */
#define BATCH_DAYS_MAX 4
/* Risk numbers are rewritten only when they move this much. */
#define RISK_P_STEP 0.005
#define RISK_T_STEP 30
/* Visitors re-projected per write job in a ticker pass. */
#define PASS_CHUNK 16

static const char *const kind_names[] = {
    [OTD_VEVENT_START_TRAVEL] = "start_travel",
    [OTD_VEVENT_ARRIVED] = "arrived",
    [OTD_VEVENT_DONE] = "done",
    [OTD_VEVENT_NO_ACCESS] = "no_access",
    [OTD_VEVENT_NEEDS_ANOTHER_VISIT] = "needs_another_visit",
    [OTD_VEVENT_LATE] = "late",
    [OTD_VEVENT_CANNOT_ATTEND] = "cannot_attend",
    [OTD_VEVENT_UNAVAILABLE] = "unavailable",
    [OTD_VEVENT_BREAK_START] = "break_start",
    [OTD_VEVENT_BREAK_END] = "break_end",
    [OTD_VEVENT_POSITION] = "position",
};

const char *otd_vevent_kind_name(enum otd_vevent_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

bool otd_vevent_kind_parse(const char *s, enum otd_vevent_kind *out)
{
	for(unsigned i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if(strcmp(s, kind_names[i]) == 0) {
			*out = (enum otd_vevent_kind)i;
			return true;
		}
	return false;
}

static const char *actor_kind(const struct otd_principal *p)
{
	switch(p ? p->kind : OTD_PRINCIPAL_NONE) {
	case OTD_PRINCIPAL_SESSION: return "user";
	case OTD_PRINCIPAL_TOKEN: return "token";
	case OTD_PRINCIPAL_CLI: return "cli";
	default: return "system";
	}
}

static int64_t actor_id(const struct otd_principal *p)
{
	if(!p)
		return 0;
	return p->kind == OTD_PRINCIPAL_SESSION ? p->user_id
	       : p->kind == OTD_PRINCIPAL_TOKEN ? p->token_id
	                                        : 0;
}

/* Copies "prefix" and text into out (size bytes), cutting text only at a
 * character boundary (text is valid UTF-8). */
static void text_cut(char *out, size_t size, const char *prefix, const char *text)
{
	size_t n = (size_t)snprintf(out, size, "%s", prefix);
	if(n >= size)
		return;
	const unsigned char *t = (const unsigned char *)(text ? text : "");
	size_t len = strlen((const char *)t), i = 0;
	while(i < len) {
		size_t c = otd_utf8_char(t + i, len - i);
		if(c == 0 || n + c >= size)
			break;
		memcpy(out + n, t + i, c);
		n += c;
		i += c;
	}
	out[n] = '\0';
}

static void local_date_of(const struct otd_app *app, int64_t t, char out[11])
{
	struct otd_local l;
	otd_tz_to_local(app->tz, t, &l);
	otd_date_format(l.c.year, l.c.month, l.c.day, out);
}

static int local_hour_of(const struct otd_app *app, int64_t t)
{
	struct otd_local l;
	otd_tz_to_local(app->tz, t, &l);
	return l.c.hour;
}

/* ---- what changed, for the live streams --------------------------------- */

struct change {
	int64_t appointment_id;
	int64_t visitor_id;
	char reference[16];
	char status[16];
	char risk[16];
	double p_late;
	int64_t expected, band_early, band_late;
	int64_t window_start, window_end;
};

struct changes {
	struct change *v;
	size_t n, cap;
};

static void changes_add(struct changes *c, int64_t visitor_id, const struct otd_day_stop *s,
                        const struct otd_appointment_risk *r)
{
	for(size_t i = 0; i < c->n; i++)
		if(c->v[i].appointment_id == s->appointment_id) {
			snprintf(c->v[i].status, sizeof(c->v[i].status), "%s", s->status);
			snprintf(c->v[i].risk, sizeof(c->v[i].risk), "%s", r->risk);
			c->v[i].p_late = r->p_late;
			c->v[i].expected = r->expected_arrival;
			c->v[i].band_early = r->band_early;
			c->v[i].band_late = r->band_late;
			return;
		}
	if(c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	struct change *x = &c->v[c->n++];
	memset(x, 0, sizeof(*x));
	x->appointment_id = s->appointment_id;
	x->visitor_id = visitor_id;
	snprintf(x->reference, sizeof(x->reference), "%s", s->reference);
	snprintf(x->status, sizeof(x->status), "%s", s->status);
	snprintf(x->risk, sizeof(x->risk), "%s", r->risk);
	x->p_late = r->p_late;
	x->expected = r->expected_arrival;
	x->band_early = r->band_early;
	x->band_late = r->band_late;
	x->window_start = s->window_start;
	x->window_end = s->window_end;
}

static void rfc(int64_t t, char *buf, size_t size)
{
	if(t > 0)
		otd_rfc3339_format(t, buf, size);
	else
		buf[0] = '\0';
}

/* Publishes what a committed job changed. */
static void changes_publish(struct otd_app *app, const struct changes *c)
{
	for(size_t i = 0; i < c->n; i++) {
		const struct change *x = &c->v[i];
		char ws[32], we[32], ex[32], be[32], bl[32];
		rfc(x->window_start, ws, sizeof(ws));
		rfc(x->window_end, we, sizeof(we));
		rfc(x->expected, ex, sizeof(ex));
		rfc(x->band_early, be, sizeof(be));
		rfc(x->band_late, bl, sizeof(bl));
		json_t *staff = json_pack("{s:s,s:s,s:s,s:f,s:s?,s:s?,s:s?,s:s,s:s,s:I}", "reference",
		                          x->reference, "status", x->status, "risk", x->risk, "p_late",
		                          x->p_late, "expected_arrival", ex[0] ? ex : NULL, "band_early",
		                          be[0] ? be : NULL, "band_late", bl[0] ? bl : NULL,
		                          "window_start", ws, "window_end", we, "visitor_id",
		                          (json_int_t)x->visitor_id);
		json_t *cust = json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "status", x->status, "window_start",
		                         ws, "window_end", we, "band_early", be[0] ? be : NULL,
		                         "band_late", bl[0] ? bl : NULL);
		char *s = staff ? json_dumps(staff, JSON_COMPACT) : NULL;
		char *u = cust ? json_dumps(cust, JSON_COMPACT) : NULL;
		struct otd_bus_event ev = {.type = "appointment",
		                           .appointment_id = x->appointment_id,
		                           .visitor_id = x->visitor_id,
		                           .staff_json = s,
		                           .customer_json = u};
		if(s)
			app_publish(app, &ev);
		free(s);
		free(u);
		json_decref(staff);
		json_decref(cust);
	}
}

/* Tells the dispatchers (and the visitor's own stream) how a visitor's day
 * stands after a committed status change: event "visitor". */
static void visitor_publish(struct otd_app *app, const struct otd_visitor_day *d)
{
	json_t *o =
	    json_pack("{s:s,s:I,s:s,s:s,s:i,s:s?,s:o}", "change", "visitor", "visitor_id",
	              (json_int_t)d->visitor_id, "date", d->local_date, "state", d->state,
	              "late_minutes", (int)(d->late_s / 60), "unavailable_reason",
	              d->unavailable_reason[0] ? d->unavailable_reason : NULL, "appointment_id",
	              d->appointment_id ? json_integer(d->appointment_id) : json_null());
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	struct otd_bus_event ev = {.type = "visitor", .visitor_id = d->visitor_id, .staff_json = s};
	if(s)
		app_publish(app, &ev);
	free(s);
	json_decref(o);
}

/* ---- learning ------------------------------------------------------------- */

static enum otd_status refit_duration(struct otd_conn *tx, const struct otd_day_stop *s,
                                      int64_t visitor_id, int64_t now, struct otd_error *err)
{
	double *x = xmalloc(LEARN_WINDOW * sizeof(*x));
	size_t n = 0;
	struct otd_lognormal_fit all, mine;
	enum otd_status st = store_observations(tx, "duration", s->visit_type_id, 0, -1, x,
	                                        LEARN_WINDOW, &n, err);
	if(st == OTD_OK) {
		otd_learn_lognormal(x, n, s->median_min * 60.0, s->spread, OTD_LEARN_FULL_N, &all);
		st = store_learned_duration_put(tx, s->visit_type_id, 0, all.n, all.median, all.sigma,
		                                now, err);
	}
	if(st == OTD_OK)
		st = store_observations(tx, "duration", s->visit_type_id, visitor_id, -1, x,
		                        LEARN_WINDOW, &n, err);
	if(st == OTD_OK) {
		otd_learn_lognormal(x, n, all.median, all.sigma, OTD_LEARN_FULL_N, &mine);
		st = store_learned_duration_put(tx, s->visit_type_id, visitor_id, mine.n, mine.median,
		                                mine.sigma, now, err);
	}
	free(x);
	return st;
}

static enum otd_status refit_travel(struct otd_app *app, struct otd_conn *tx, int64_t visitor_id,
                                    int hour, int64_t now, struct otd_error *err)
{
	double *x = xmalloc(LEARN_WINDOW * sizeof(*x));
	size_t n = 0;
	struct otd_lognormal_fit all, at_hour;
	double spread = planner_plan(app->planner)->travel->spread;
	enum otd_status st =
	    store_observations(tx, "travel", 0, visitor_id, -1, x, LEARN_WINDOW, &n, err);
	if(st == OTD_OK) {
		otd_learn_lognormal(x, n, 1.0, spread, OTD_LEARN_FULL_N, &all);
		st = store_learned_travel_put(tx, visitor_id, -1, all.n, all.median, all.sigma, now,
		                              err);
	}
	if(st == OTD_OK)
		st = store_observations(tx, "travel", 0, visitor_id, hour, x, LEARN_WINDOW, &n, err);
	if(st == OTD_OK) {
		otd_learn_lognormal(x, n, all.median, all.sigma, OTD_LEARN_FULL_N, &at_hour);
		st = store_learned_travel_put(tx, visitor_id, hour, at_hour.n, at_hour.median,
		                              at_hour.sigma, now, err);
	}
	free(x);
	return st;
}

/* The duration model of a visit of stop s by visitor_id: learned for the
 * visitor with enough data, else for the visit type, else its prior. */
static void duration_model(struct otd_conn *c, const struct otd_day_stop *s, int64_t visitor_id,
                           double *median, double *sigma)
{
	struct otd_error e;
	size_t n = 0;
	double m, sg;
	*median = s->median_min * 60.0;
	*sigma = s->spread;
	if(store_learned_duration_get(c, s->visit_type_id, visitor_id, &n, &m, &sg, &e) == OTD_OK &&
	   n >= OTD_LEARN_FULL_N) {
		*median = m;
		*sigma = sg;
	} else if(store_learned_duration_get(c, s->visit_type_id, 0, &n, &m, &sg, &e) == OTD_OK &&
	          n > 0) {
		*median = m;
		*sigma = sg;
	}
}

/* ---- projection and risk ---------------------------------------------------- */

static bool remaining(const char *status)
{
	return strcmp(status, "booked") == 0 || strcmp(status, "travelling") == 0;
}

/* The single place where a promise enters at_risk: records everything the
 * apology needs (the promise, the new expected time and band, why) as an
 * "at_risk" appointment event and writes the apology with its held
 * replacement windows (booking_apology), in the same transaction. */
static enum otd_status enter_at_risk(struct otd_app *app, struct otd_conn *tx,
                                     const struct otd_day_stop *s,
                                     const struct otd_appointment_risk *r, const char *cause,
                                     int64_t now, struct otd_error *err)
{
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, s->appointment_id, &a, err);
	if(st)
		return st;
	json_t *d = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:s,s:s,s:b,s:b,s:b}",
	                      "reference", a.reference, "promise_version",
	                      (json_int_t)a.promise_version, "customer_id",
	                      (json_int_t)a.customer_id, "window_start", (json_int_t)a.window_start,
	                      "window_end", (json_int_t)a.window_end, "expected_arrival",
	                      (json_int_t)r->expected_arrival, "band_early",
	                      (json_int_t)r->band_early, "band_late", (json_int_t)r->band_late,
	                      "p_late", r->p_late, "reason", r->reason, "cause", cause, "forced",
	                      r->forced, "consent_sms", a.consent_sms, "consent_email",
	                      a.consent_email);
	char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	if(!text)
		return otd_error_set(err, OTD_ENOMEM, "no_memory", NULL, "Out of memory.");
	st = store_appointment_event(tx, s->appointment_id, "at_risk", now, "system", 0, text, err);
	free(text);
	otd_log(OTD_LOG_INFO, "at_risk", "{s:s,s:f,s:s}", "reference", s->reference, "p_late",
	        r->p_late, "cause", cause);
	if(st == OTD_OK) {
		/* r->reason is for dispatchers ("P(late) 0.62", a visitor's own
		 * note): customers are told what happens, not our numbers or a
		 * colleague's words. */
		struct booking_apology_facts f = {.expected_early = r->band_early,
		                                  .expected_late = r->band_late,
		                                  .cannot_come = r->forced};
		st = booking_apology(app, tx, s->appointment_id, &f, now, err);
	}
	return st;
}

/* A message about s's promise, once per promise version and event. */
static enum otd_status tell(struct otd_app *app, struct otd_conn *tx, const struct otd_day_stop *s,
                            const struct otd_appointment_risk *r, enum otd_message_kind kind,
                            const char *event, int64_t now, struct otd_error *err)
{
	struct booking_apology_facts f = {.expected_early = r->band_early,
	                                  .expected_late = r->band_late};
	bool queued = false;
	return booking_notice(app, tx, s->appointment_id, kind, event, &f, now, &queued, err);
}

/* The window ended without the visitor (or they came after it): the
 * guarantee case, then the customer told what they are owed and by when
 * (nothing owed: an exempt case, or no rule set), in one transaction. */
static enum otd_status promise_broken(struct otd_app *app, struct otd_conn *tx,
                                      const struct otd_day_stop *s, int64_t now,
                                      struct otd_error *err)
{
	struct otd_case c;
	bool opened = false;
	enum otd_status st = guarantee_open(app, tx, s->appointment_id, "window_missed",
	                                    s->window_end, -1, now, &c, &opened, err);
	if(st)
		return st;
	char amount[32] = "", pay_by[64] = "";
	if(c.id && strcmp(c.state, "open") == 0 && c.amount_minor > 0) {
		guarantee_amount_text(&c, amount, sizeof(amount));
		guarantee_pay_by_text(app, &c, pay_by, sizeof(pay_by));
	}
	struct booking_apology_facts f = {.compensation = amount[0] ? amount : NULL,
	                                  .pay_by = pay_by[0] ? pay_by : NULL};
	bool queued = false;
	return booking_notice(app, tx, s->appointment_id, OTD_MSG_BROKEN, "broken", &f, now,
	                      &queued, err);
}

/* While at risk: an update when the expected arrival moved by
 * UPDATE_MOVE_S or more since the customer was last told, at most
 * UPDATES_MAX times per promise. */
#define UPDATE_MOVE_S (15 * 60)
#define UPDATES_MAX 2

static enum otd_status maybe_update(struct otd_app *app, struct otd_conn *tx,
                                    const struct otd_day_stop *s,
                                    const struct otd_appointment_risk *r, int64_t now,
                                    struct otd_error *err)
{
	int64_t told = 0;
	enum otd_status st = store_last_told(tx, s->appointment_id, 0, &told, err);
	if(st || !told || llabs(r->band_early - told) < UPDATE_MOVE_S)
		return st;
	for(int k = 1; k <= UPDATES_MAX; k++) {
		char event[16];
		snprintf(event, sizeof(event), "update%d", k);
		bool queued = false;
		struct booking_apology_facts f = {.expected_early = r->band_early,
		                                  .expected_late = r->band_late};
		st = booking_notice(app, tx, s->appointment_id, OTD_MSG_UPDATE, event, &f, now,
		                    &queued, err);
		if(st || queued)
			return st;
	}
	return OTD_OK;
}

/* The planned sequence of what remains, in route order: indexes into
 * stops[] (or -1 for the break) and the route's shift start. */
struct sequence {
	long *idx;
	size_t n;
	int64_t shift_start;
	bool has_route;
	double base_lat, base_lon;
};

static enum otd_status build_sequence(struct otd_app *app, struct otd_conn *tx,
                                      int64_t visitor_id, const char *local_date, int64_t now,
                                      const struct otd_visitor_day *d,
                                      const struct otd_day_stop *stops, size_t n,
                                      struct sequence *q, struct otd_error *err)
{
	memset(q, 0, sizeof(*q));
	q->idx = xcalloc(n + PLAN_ROUTES_MAX + 1, sizeof(long));
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(app->planner, tx, now, &cat, err);
	if(st)
		return st;
	const struct plan_visitor *v = plan_catalog_visitor(cat, visitor_id);
	struct plan_day day;
	if(v && (st = planner_build_day(app->planner, tx, cat, v, local_date, now, 0, 0, &day,
	                                 err)) != OTD_OK) {
		planner_catalog_release(app->planner, cat);
		return st;
	}
	if(v) {
		q->base_lat = v->base_lat;
		q->base_lon = v->base_lon;
		bool want_break = !d->break_taken && strcmp(d->state, "on_break") != 0;
		for(size_t r = 0; r < day.n_routes; r++) {
			const struct otd_route *route = &day.routes[r];
			if(!q->has_route)
				q->shift_start = route->shift_start;
			q->has_route = true;
			for(size_t j = 0; j < route->n; j++) {
				const struct otd_stop *s = &route->stops[j];
				if(s->kind == OTD_STOP_BREAK) {
					if(want_break)
						q->idx[q->n++] = -1;
					want_break = false;
					continue;
				}
				if(s->kind != OTD_STOP_VISIT)
					continue;
				for(size_t i = 0; i < n; i++)
					if(stops[i].appointment_id == s->id &&
					   (remaining(stops[i].status) || stops[i].appointment_id == d->appointment_id))
						q->idx[q->n++] = (long)i;
			}
		}
		plan_day_cleanup(&day);
	}
	planner_catalog_release(app->planner, cat);
	/* What is travelled to or visited now comes first. */
	for(size_t k = 0; k < q->n; k++)
		if(q->idx[k] >= 0 && stops[q->idx[k]].appointment_id == d->appointment_id) {
			long cur = q->idx[k];
			memmove(&q->idx[1], &q->idx[0], k * sizeof(long));
			q->idx[0] = cur;
			break;
		}
	return OTD_OK;
}

/* Whether the visitor owes word: expected to move and quiet for too long.
 * Expected to move: not started, from the shift start; travelling, from
 * the journey's start; idle, from the last visit; on site, once the visit's
 * median duration has passed; and never earlier than an hour before the
 * next window opens (nobody leaves for an afternoon visit at 8). */
static bool is_silent(const struct otd_app *app, const struct otd_visitor_day *d,
                      const struct sequence *q, const struct otd_day_stop *stops, int64_t now)
{
	if(q->n == 0 || !q->has_route)
		return false;
	if(strcmp(d->state, "unavailable") == 0 || strcmp(d->state, "on_break") == 0)
		return false;
	const struct otd_day_stop *next = NULL;
	for(size_t k = 0; k < q->n && !next; k++)
		if(q->idx[k] >= 0)
			next = &stops[q->idx[k]];
	if(!next)
		return false;
	int64_t ref;
	if(strcmp(d->state, "not_started") == 0)
		ref = q->shift_start;
	else if(strcmp(d->state, "on_site") == 0)
		ref = d->since + (next->appointment_id == d->appointment_id
		                      ? (int64_t)(next->median_min * 60.0)
		                      : 0);
	else
		ref = d->since;
	if(strcmp(d->state, "travelling") != 0 && strcmp(d->state, "on_site") != 0 &&
	   next->window_start - 3600 > ref)
		ref = next->window_start - 3600;
	if(d->last_event_at > ref)
		ref = d->last_event_at;
	return now - ref >= (int64_t)app->cfg->tracking.silent_minutes * 60;
}

static uint64_t day_seed(int64_t visitor_id, const char *local_date)
{
	uint64_t h = 1469598103934665603ULL;
	for(const char *p = local_date; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ^ ((uint64_t)visitor_id * 0x9E3779B97F4A7C15ULL);
}

static void thresholds_of(const struct otd_app *app, struct otd_risk_thresholds *t)
{
	t->watch_enter = app->cfg->tracking.watch_enter;
	t->watch_exit = app->cfg->tracking.watch_exit;
	t->at_risk_enter = app->cfg->tracking.at_risk_enter;
	t->at_risk_exit = app->cfg->tracking.at_risk_exit;
}

static bool moved(const struct otd_appointment_risk *a, const struct otd_appointment_risk *b)
{
	return strcmp(a->risk, b->risk) != 0 || fabs(a->p_late - b->p_late) >= RISK_P_STEP ||
	       llabs(a->expected_arrival - b->expected_arrival) >= RISK_T_STEP ||
	       llabs(a->band_early - b->band_early) >= RISK_T_STEP ||
	       llabs(a->band_late - b->band_late) >= RISK_T_STEP ||
	       strcmp(a->reason, b->reason) != 0 || a->forced != b->forced;
}

static enum otd_status reproject(struct otd_app *app, struct otd_conn *tx, int64_t visitor_id,
                                 const char *local_date, int64_t now, const char *cause,
                                 struct changes *changes, struct otd_error *err)
{
	struct otd_visitor_day d;
	enum otd_status st = store_visitor_day_get(tx, visitor_id, local_date, &d, err);
	if(st && st != OTD_ENOTFOUND)
		return st;
	bool stored_day = st == OTD_OK;
	struct otd_day_stop *stops = NULL;
	size_t n = 0;
	if((st = store_day_stops(tx, visitor_id, local_date, &stops, &n, err)))
		return st;
	if(n == 0) {
		free(stops);
		return OTD_OK;
	}
	struct sequence q;
	if((st = build_sequence(app, tx, visitor_id, local_date, now, &d, stops, n, &q, err))) {
		free(q.idx);
		free(stops);
		return st;
	}
	bool unavailable = strcmp(d.state, "unavailable") == 0;

	/* Project the sequence from the visitor's state. */
	struct otd_proj_stop *ps = xcalloc(q.n + 1, sizeof(*ps));
	struct otd_proj_result *res = xcalloc(q.n + 1, sizeof(*res));
	long *result_of = xcalloc(n, sizeof(long)); /* stops[i] -> res index, or -1 */
	for(size_t i = 0; i < n; i++)
		result_of[i] = -1;
	bool projected = false;
	if(q.has_route && q.n > 0 && !unavailable) {
		const struct otd_planner *p = app->planner;
		for(size_t k = 0; k < q.n; k++) {
			if(q.idx[k] < 0) {
				int64_t day_start, day_end;
				planner_day_bounds(p, local_date, &day_start, &day_end);
				ps[k].is_break = true;
				ps[k].dur_median = app->cfg->planning.break_minutes * 60.0;
				/* The break's window as the planner sets it (wall-clock
				 * minutes after local midnight). */
				int h0 = 12, m0 = 0, h1 = 14, m1 = 0;
				sscanf(app->cfg->planning.break_start, "%d:%d", &h0, &m0);
				sscanf(app->cfg->planning.break_end, "%d:%d", &h1, &m1);
				int64_t bs = day_start + h0 * 3600 + m0 * 60;
				int64_t be = day_start + h1 * 3600 + m1 * 60;
				/* DST days: wall-clock minutes, as the planner places it. */
				ps[k].a = bs + otd_tz_offset_at(app->tz, day_start) - otd_tz_offset_at(app->tz, bs);
				ps[k].b = be + otd_tz_offset_at(app->tz, day_start) - otd_tz_offset_at(app->tz, be);
				continue;
			}
			const struct otd_day_stop *s = &stops[q.idx[k]];
			result_of[q.idx[k]] = (long)k;
			ps[k].lat = s->lat;
			ps[k].lon = s->lon;
			ps[k].a = s->window_start;
			ps[k].b = s->window_end;
			/* One lookup per visit type (routes mostly have one). */
			long same = -1;
			for(size_t x = 0; x < k && same < 0; x++)
				if(q.idx[x] >= 0 && stops[q.idx[x]].visit_type_id == s->visit_type_id)
					same = (long)x;
			if(same >= 0) {
				ps[k].dur_median = ps[same].dur_median;
				ps[k].dur_sigma = ps[same].dur_sigma;
			} else {
				duration_model(tx, s, visitor_id, &ps[k].dur_median, &ps[k].dur_sigma);
			}
		}
		struct otd_proj_model m;
		otd_proj_model_init(&m, planner_plan(p)->travel, app->tz);
		m.samples = (unsigned)app->cfg->tracking.samples;
		m.seed = day_seed(visitor_id, local_date);
		struct otd_learned_travel lt;
		if(store_learned_travel_get(tx, visitor_id, &lt, err) == OTD_OK) {
			for(int h = 0; h < 24; h++)
				m.travel_factor[h] = lt.has[h] && lt.n[h] > 0  ? lt.factor[h]
				                     : lt.has[24] && lt.n[24] > 0 ? lt.factor[24]
				                                                  : 1.0;
			if(lt.has[24] && lt.n[24] > 0)
				m.travel_spread = lt.spread[24];
		}
		struct otd_proj_state ps0 = {.activity = OTD_PROJ_IDLE,
		                             .since = d.since,
		                             .lat = d.has_from ? d.from_lat : q.base_lat,
		                             .lon = d.has_from ? d.from_lon : q.base_lon,
		                             .late_s = (double)d.late_s};
		bool first_is_current = q.idx[0] >= 0 &&
		                        stops[q.idx[0]].appointment_id == d.appointment_id &&
		                        d.appointment_id != 0;
		if(strcmp(d.state, "not_started") == 0) {
			ps0.not_before = q.shift_start;
			ps0.lat = q.base_lat;
			ps0.lon = q.base_lon;
		} else if(strcmp(d.state, "travelling") == 0 && first_is_current) {
			ps0.activity = OTD_PROJ_TRAVELLING;
			if(d.pos_at > d.since) { /* the latest position restarts the leg */
				ps0.since = d.pos_at;
				ps0.lat = d.pos_lat;
				ps0.lon = d.pos_lon;
			}
		} else if(strcmp(d.state, "on_site") == 0 && first_is_current) {
			ps0.activity = OTD_PROJ_ON_SITE;
		} else if(strcmp(d.state, "on_break") == 0) {
			ps0.activity = OTD_PROJ_ON_BREAK;
			ps0.break_s = app->cfg->planning.break_minutes * 60.0;
		}
		/* "Late N" shifts the activity it was said during by N minutes:
		 * a journey or visit counts as begun N minutes later (so time
		 * already spent is not counted twice); waiting to set off, the
		 * departure is N minutes after the tap. */
		if(ps0.late_s > 0) {
			if(ps0.activity == OTD_PROJ_IDLE) {
				int64_t leave = d.last_status_at + (int64_t)ps0.late_s;
				if(leave > ps0.not_before)
					ps0.not_before = leave;
			} else {
				ps0.since += (int64_t)ps0.late_s;
			}
			ps0.late_s = 0;
		}
		projected = otd_project(&m, &ps0, ps, q.n, now, res) == 0;
	}

	struct otd_risk_thresholds th;
	thresholds_of(app, &th);
	for(size_t i = 0; i < n && st == OTD_OK; i++) {
		struct otd_day_stop *s = &stops[i];
		if(strcmp(s->status, "no_access") == 0)
			continue;
		enum otd_risk cur = OTD_RISK_OK, next;
		otd_risk_parse(s->risk.risk, &cur);
		struct otd_appointment_risk r = s->risk;
		if(strcmp(s->status, "arrived") == 0 || strcmp(s->status, "done") == 0) {
			/* The arrival is known: kept or broken by its time. A tap made
			 * without signal can arrive after the ticker saw the window end
			 * with no arrival: the evidence wins over that "broken". */
			bool late = s->arrived_at >= s->window_end;
			if(late)
				next = OTD_RISK_BROKEN;
			else if(cur == OTD_RISK_BROKEN)
				next = OTD_RISK_OK;
			else
				next = otd_risk_next(cur, 0.0, false, false, &th);
			r.p_late = late ? 1.0 : 0.0;
			r.forced = false;
			r.expected_arrival = r.band_early = r.band_late = s->arrived_at;
			if(late && cur != OTD_RISK_BROKEN)
				snprintf(r.reason, sizeof(r.reason), "arrived after the window ended");
			else if(!late && cur == OTD_RISK_BROKEN)
				snprintf(r.reason, sizeof(r.reason),
				         "arrived in the window (the tap was sent late)");
			else if(!late)
				r.reason[0] = '\0';
		} else {
			bool window_passed = now >= s->window_end;
			long k = result_of[i];
			bool in_plan = projected && k >= 0;
			/* Forced: by a tap or an admin change (kept until the promise
			 * changes), or now, because nothing can keep it (no shift, no
			 * active visitor): worked out afresh at every projection. */
			bool forced_now = !r.forced && !in_plan && !window_passed;
			if(forced_now)
				snprintf(r.reason, sizeof(r.reason), "%s",
				         unavailable      ? "the visitor is unavailable"
				         : !q.has_route   ? "the visitor has no shift that day"
				                          : "not on the visitor's route");
			if(in_plan) {
				r.p_late = res[k].p_late;
				r.expected_arrival = (int64_t)llround(res[k].expected);
				r.band_early = (int64_t)llround(res[k].band_early);
				r.band_late = (int64_t)llround(res[k].band_late);
			} else if(r.forced || forced_now) {
				/* Nobody is coming as planned: no time to promise. */
				r.p_late = 1.0;
				r.expected_arrival = r.band_early = r.band_late = 0;
			}
			next = otd_risk_next(cur, r.p_late, r.forced || forced_now, window_passed, &th);
			if(next == OTD_RISK_BROKEN && cur != OTD_RISK_BROKEN)
				snprintf(r.reason, sizeof(r.reason), "the window ended with no arrival");
			else if(!r.forced && !forced_now && next != cur)
				snprintf(r.reason, sizeof(r.reason), "P(late) %.2f (%s)", r.p_late, cause);
		}
		snprintf(r.risk, sizeof(r.risk), "%s", otd_risk_name(next));
		/* On the way: once per promise, whether or not the numbers moved
		 * (a pass before the tap may have projected the same band); not
		 * from the ticker's passes, which find it sent. */
		if(strcmp(cause, "ticker") != 0 && strcmp(s->status, "travelling") == 0 &&
		   r.band_early && next != OTD_RISK_AT_RISK && next != OTD_RISK_BROKEN &&
		   (st = tell(app, tx, s, &r, OTD_MSG_ON_THE_WAY, "on_the_way", now, err)) !=
		       OTD_OK)
			break;
		if(!moved(&r, &s->risk)) {
			/* The numbers stand, but a tap changed what the stop is doing
			 * (booked -> travelling...): the streams hear it. */
			if(changes && strcmp(cause, "ticker") != 0)
				changes_add(changes, visitor_id, s, &r);
			continue;
		}
		if(next != cur)
			r.changed_at = now;
		st = store_appointment_risk_put(tx, s->appointment_id, &r, now, err);
		if(st == OTD_OK && next != cur) {
			json_t *dj = json_pack("{s:s,s:s,s:f,s:I,s:I,s:I,s:s,s:s,s:b}", "from",
			                       otd_risk_name(cur), "to", otd_risk_name(next), "p_late",
			                       r.p_late, "expected_arrival", (json_int_t)r.expected_arrival,
			                       "band_early", (json_int_t)r.band_early, "band_late",
			                       (json_int_t)r.band_late, "reason", r.reason, "cause", cause,
			                       "forced", r.forced);
			char *text = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
			json_decref(dj);
			st = text ? store_appointment_event(tx, s->appointment_id, "risk", now, "system", 0,
			                                    text, err)
			          : otd_error_set(err, OTD_ENOMEM, "no_memory", NULL, "Out of memory.");
			free(text);
			if(st == OTD_OK && next == OTD_RISK_AT_RISK)
				st = enter_at_risk(app, tx, s, &r, cause, now, err);
			if(st == OTD_OK && next == OTD_RISK_BROKEN)
				st = promise_broken(app, tx, s, now, err);
			if(st == OTD_OK && cur == OTD_RISK_AT_RISK &&
			   (next == OTD_RISK_OK || next == OTD_RISK_WATCH))
				st = tell(app, tx, s, &r, OTD_MSG_BACK_ON_TIME, "back_on_time", now,
				          err);
		} else if(st == OTD_OK && next == OTD_RISK_AT_RISK && r.expected_arrival) {
			st = maybe_update(app, tx, s, &r, now, err);
		}

		if(st == OTD_OK && changes)
			changes_add(changes, visitor_id, s, &r);
	}
	bool silent = is_silent(app, &d, &q, stops, now);
	if(st == OTD_OK && silent != d.silent) {
		d.silent = silent;
		if(!stored_day)
			d.since = now;
		st = store_visitor_day_put(tx, &d, now, err);
		if(silent)
			otd_log(OTD_LOG_WARN, "visitor_silent", "{s:I,s:s}", "visitor_id",
			        (json_int_t)visitor_id, "date", local_date);
	}
	free(q.idx);
	free(ps);
	free(res);
	free(result_of);
	free(stops);
	return st;
}

enum otd_status tracking_reproject(struct otd_app *app, struct otd_conn *tx, int64_t visitor_id,
                                   const char *local_date, int64_t now, const char *cause,
                                   struct otd_error *err)
{
	return reproject(app, tx, visitor_id, local_date, now, cause, NULL, err);
}

enum otd_status tracking_force_at_risk(struct otd_conn *tx, int64_t appointment_id,
                                       const char *reason, int64_t now, struct otd_error *err)
{
	struct otd_appointment_risk r;
	enum otd_status st = store_appointment_risk_get(tx, appointment_id, &r, err);
	if(st)
		return st;
	r.forced = true;
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	return store_appointment_risk_put(tx, appointment_id, &r, now, err);
}

/* ---- events --------------------------------------------------------------- */

struct day_ctx {
	struct otd_visitor_day d;
	struct otd_day_stop *stops;
	size_t n;
	bool loaded_stops;
	bool stored;
	bool status_changed; /* a tap other than a position was applied */
	int64_t last_status_at; /* the latest status event applied */
};

struct events_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	int64_t visitor_id;
	struct otd_vevent *ev;
	size_t n;
	size_t *order;
	enum otd_vevent_result *out;
	int64_t now;
	bool base_loaded;
	double base_lat, base_lon;
	struct day_ctx days[BATCH_DAYS_MAX];
	size_t n_days;
	const char *cause;
	bool status_changed;
	struct changes changes;
	struct plan_catalog *cat; /* for positions' shift check, taken when first needed */
};

static enum otd_status impossible(struct otd_error *err, const struct otd_vevent *e,
                                  const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum otd_status impossible(struct otd_error *err, const struct otd_vevent *e,
                                  const char *code, const char *fmt, ...)
{
	char field[32], msg[OTD_ERR_MESSAGE_MAX];
	snprintf(field, sizeof(field), "events[%zu]", e->index);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return otd_error_set(err, OTD_ESTATE, code, field, "Event %zu (%s): %s", e->index,
	                     otd_vevent_kind_name(e->kind), msg);
}

/* Frees the days' stops (the days themselves stay: their dates are needed
 * after the commit). */
static void days_cleanup(struct events_job *j)
{
	for(size_t i = 0; i < j->n_days; i++) {
		free(j->days[i].stops);
		j->days[i].stops = NULL;
		j->days[i].loaded_stops = false;
	}
}

static enum otd_status day_of(struct events_job *j, struct otd_conn *tx,
                              const struct otd_vevent *e, struct day_ctx **out,
                              struct otd_error *err)
{
	char date[11];
	local_date_of(j->app, e->at, date);
	for(size_t i = 0; i < j->n_days; i++)
		if(strcmp(j->days[i].d.local_date, date) == 0) {
			*out = &j->days[i];
			return OTD_OK;
		}
	if(j->n_days == BATCH_DAYS_MAX)
		return impossible(err, e, "too_many_days", "a batch may span at most %d days.",
		                  BATCH_DAYS_MAX);
	struct day_ctx *dc = &j->days[j->n_days];
	memset(dc, 0, sizeof(*dc));
	enum otd_status st = store_visitor_day_get(tx, j->visitor_id, date, &dc->d, err);
	if(st && st != OTD_ENOTFOUND)
		return st;
	dc->stored = st == OTD_OK;
	if(!dc->stored)
		dc->d.since = e->at;
	dc->last_status_at = dc->stored ? dc->d.last_status_at : 0;
	j->n_days++;
	*out = dc;
	return OTD_OK;
}

static enum otd_status load_stops(struct events_job *j, struct otd_conn *tx, struct day_ctx *dc,
                                  struct otd_error *err)
{
	if(dc->loaded_stops)
		return OTD_OK;
	enum otd_status st =
	    store_day_stops(tx, j->visitor_id, dc->d.local_date, &dc->stops, &dc->n, err);
	dc->loaded_stops = st == OTD_OK;
	return st;
}

static struct otd_day_stop *stop_by_id(struct day_ctx *dc, int64_t id)
{
	for(size_t i = 0; i < dc->n; i++)
		if(dc->stops[i].appointment_id == id)
			return &dc->stops[i];
	return NULL;
}

static enum otd_status set_status(struct otd_conn *tx, struct otd_day_stop *s, const char *status,
                                  int64_t arrived_at, int64_t done_at, int64_t now,
                                  struct otd_error *err)
{
	snprintf(s->status, sizeof(s->status), "%s", status);
	if(arrived_at)
		s->arrived_at = arrived_at;
	if(done_at)
		s->done_at = done_at;
	return store_appointment_status(tx, s->appointment_id, status, arrived_at, done_at, now, err);
}

static enum otd_status force_at_risk(struct otd_conn *tx, struct otd_day_stop *s,
                                     const char *reason, int64_t now, struct otd_error *err)
{
	s->risk.forced = true;
	snprintf(s->risk.reason, sizeof(s->risk.reason), "%s", reason);
	return store_appointment_risk_put(tx, s->appointment_id, &s->risk, now, err);
}

static enum otd_status evidence(struct events_job *j, struct otd_conn *tx, struct day_ctx *dc,
                                const struct otd_vevent *e, int64_t appointment_id,
                                struct otd_error *err)
{
	json_t *detail = json_object();
	if(e->kind == OTD_VEVENT_LATE)
		json_object_set_new(detail, "minutes", json_integer(e->late_minutes));
	if(e->reason[0])
		json_object_set_new(detail, "reason", json_string(e->reason));
	if(e->note)
		json_object_set_new(detail, "note", json_string(e->note));
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	struct otd_visitor_event_row row = {.visitor_id = j->visitor_id,
	                                    .local_date = dc->d.local_date,
	                                    .kind = otd_vevent_kind_name(e->kind),
	                                    .appointment_id = appointment_id,
	                                    .received_at = j->now,
	                                    .claimed_at = e->at,
	                                    .actor_kind = actor_kind(j->actor),
	                                    .actor_id = actor_id(j->actor),
	                                    .client_id = e->client_id[0] ? e->client_id : NULL,
	                                    .has_position = e->has_position,
	                                    .lat = e->lat,
	                                    .lon = e->lon,
	                                    .accuracy = e->accuracy,
	                                    .detail = text};
	enum otd_status st = store_visitor_event_insert(tx, &row, err);
	if(st == OTD_OK && appointment_id) {
		/* The appointment's own history shows the tap too (the guarantee
		 * case's evidence). */
		json_t *ad = json_pack("{s:s,s:I,s:s?}", "event", otd_vevent_kind_name(e->kind),
		                       "claimed_at", (json_int_t)e->at, "note", e->note);
		if(e->has_position) {
			json_object_set_new(ad, "lat", json_real(e->lat));
			json_object_set_new(ad, "lon", json_real(e->lon));
		}
		char *at = json_dumps(ad, JSON_COMPACT);
		json_decref(ad);
		st = store_appointment_event(tx, appointment_id, otd_vevent_kind_name(e->kind), j->now,
		                             actor_kind(j->actor), actor_id(j->actor), at, err);
		free(at);
	}
	free(text);
	return st;
}

/* Where the visitor is when not travelling: the last place, else the base. */
static enum otd_status here(struct events_job *j, struct otd_conn *tx, const struct day_ctx *dc,
                            double *lat, double *lon, struct otd_error *err)
{
	if(dc->d.has_from) {
		*lat = dc->d.from_lat;
		*lon = dc->d.from_lon;
		return OTD_OK;
	}
	if(!j->base_loaded) {
		enum otd_status st =
		    store_visitor_base(tx, j->visitor_id, &j->base_lat, &j->base_lon, err);
		if(st)
			return st;
		j->base_loaded = true;
	}
	*lat = j->base_lat;
	*lon = j->base_lon;
	return OTD_OK;
}

static void set_state(struct day_ctx *dc, const char *state, int64_t appointment_id, int64_t at)
{
	snprintf(dc->d.state, sizeof(dc->d.state), "%s", state);
	dc->d.appointment_id = appointment_id;
	dc->d.since = at;
	dc->d.late_s = 0;
}

static enum otd_status apply(struct events_job *j, struct otd_conn *tx, struct day_ctx *dc,
                             const struct otd_vevent *e, enum otd_vevent_result *result,
                             struct otd_error *err)
{
	enum otd_status st = OTD_OK;
	struct otd_visitor_day *d = &dc->d;
	*result = OTD_VEVENT_APPLIED;
	if(e->kind == OTD_VEVENT_POSITION) {
		if(strcmp(d->state, "travelling") != 0) {
			/* Positions are kept only while travelling (privacy). */
			*result = OTD_VEVENT_IGNORED;
			return OTD_OK;
		}
		/* ... and only within a shift: a visitor who forgot to tap
		 * "done" is not followed home. */
		if(!j->cat && (st = planner_catalog(j->app->planner, tx, j->now, &j->cat, err)))
			return st;
		const struct plan_visitor *v = plan_catalog_visitor(j->cat, j->visitor_id);
		/* Older than the catalog's shifts (an offline phone, days late):
		 * kept, as there is nothing to say it was off shift. */
		bool known = e->at >= j->cat->from;
		if(!v || (known && !plan_visitor_on_shift(v, e->at))) {
			*result = OTD_VEVENT_IGNORED;
			return OTD_OK;
		}
		/* Its client id is checked here, by the positions' own unique
		 * index (a position's id is one a phone made for that position). */
		bool kept = false;
		st = store_position_insert(tx, j->visitor_id, e->at, j->now, e->lat, e->lon, e->accuracy,
		                           e->client_id[0] ? e->client_id : NULL, &kept, err);
		if(st || !kept) {
			*result = OTD_VEVENT_DUPLICATE;
			return st;
		}
		if(e->at > d->pos_at) {
			d->pos_at = e->at;
			d->pos_lat = e->lat;
			d->pos_lon = e->lon;
		}
		if(e->at > d->last_event_at)
			d->last_event_at = e->at;
		return OTD_OK;
	}
	if(e->at < dc->last_status_at)
		return impossible(err, e, "out_of_order",
		                  "it happened before an event already applied; send taps in the "
		                  "order they were made.");
	bool unavailable = strcmp(d->state, "unavailable") == 0;
	bool finishing = (e->kind == OTD_VEVENT_DONE || e->kind == OTD_VEVENT_NO_ACCESS ||
	                  e->kind == OTD_VEVENT_NEEDS_ANOTHER_VISIT);
	if(unavailable && !finishing)
		return impossible(err, e, "visitor_unavailable",
		                  "the visitor is marked unavailable for the rest of the day.");
	struct otd_day_stop *s = NULL;
	if(e->reference[0]) {
		if((st = load_stops(j, tx, dc, err)))
			return st;
		for(size_t i = 0; i < dc->n && !s; i++)
			if(strcmp(dc->stops[i].reference, e->reference) == 0)
				s = &dc->stops[i];
		if(!s)
			return impossible(err, e, "not_on_route",
			                  "appointment %s is not on your route on %s.", e->reference,
			                  d->local_date);
	}
	int64_t at = e->at;
	double lat, lon;
	switch(e->kind) {
	case OTD_VEVENT_START_TRAVEL:
		if(strcmp(s->status, "booked") != 0)
			return impossible(err, e, "bad_sequence", "appointment %s is %s, not booked.",
			                  s->reference, s->status);
		if(strcmp(d->state, "on_site") == 0)
			return impossible(err, e, "bad_sequence",
			                  "you are still on site; send done or no_access first.");
		if(strcmp(d->state, "travelling") == 0 && d->appointment_id != s->appointment_id) {
			struct otd_day_stop *prev = stop_by_id(dc, d->appointment_id);
			if(prev && (st = set_status(tx, prev, "booked", 0, 0, j->now, err)))
				return st;
		}
		if(strcmp(d->state, "on_break") == 0)
			d->break_taken = true;
		if(e->has_position) {
			lat = e->lat;
			lon = e->lon;
		} else {
			if((st = here(j, tx, dc, &lat, &lon, err)))
				return st;
		}
		set_state(dc, "travelling", s->appointment_id, at);
		d->has_from = true;
		d->from_lat = lat;
		d->from_lon = lon;
		d->pos_at = 0;
		st = set_status(tx, s, "travelling", 0, 0, j->now, err);
		break;
	case OTD_VEVENT_ARRIVED:
		if(!remaining(s->status))
			return impossible(err, e, "bad_sequence", "appointment %s is already %s.",
			                  s->reference, s->status);
		if(strcmp(d->state, "on_site") == 0 || strcmp(d->state, "on_break") == 0)
			return impossible(err, e, "bad_sequence", "you are %s; %s first.",
			                  strcmp(d->state, "on_site") == 0 ? "on site elsewhere"
			                                                   : "on a break",
			                  strcmp(d->state, "on_site") == 0 ? "send done" : "end the break");
		if(strcmp(d->state, "travelling") == 0 && d->appointment_id != s->appointment_id) {
			struct otd_day_stop *prev = stop_by_id(dc, d->appointment_id);
			if(prev && (st = set_status(tx, prev, "booked", 0, 0, j->now, err)))
				return st;
		}
		if(strcmp(d->state, "travelling") == 0 && d->appointment_id == s->appointment_id &&
		   d->has_from && at > d->since) {
			/* A journey: its time over the model's. */
			double km = otd_distance_km(d->from_lat, d->from_lon, s->lat, s->lon);
			double mean = 0, var = 0;
			otd_travel_leg(planner_plan(j->app->planner)->travel, j->app->tz, km, d->since,
			               d->since, &mean, &var);
			if(mean >= LEARN_MIN_LEG_S) {
				int hour = local_hour_of(j->app, d->since);
				st = store_observation_insert(tx, "travel", j->visitor_id, 0, hour,
				                              (double)(at - d->since) / mean,
				                              s->appointment_id, at, err);
				if(st == OTD_OK)
					st = refit_travel(j->app, tx, j->visitor_id, hour, j->now, err);
				if(st)
					return st;
			}
		}
		set_state(dc, "on_site", s->appointment_id, at);
		d->has_from = true;
		d->from_lat = s->lat;
		d->from_lon = s->lon;
		d->pos_at = 0;
		st = set_status(tx, s, "arrived", at, 0, j->now, err);
		break;
	case OTD_VEVENT_DONE:
		/* An unavailable visitor may still close the visit they are at. */
		if(strcmp(s->status, "arrived") != 0 ||
		   (!unavailable && d->appointment_id != s->appointment_id))
			return impossible(err, e, "bad_sequence",
			                  "appointment %s is %s: done comes after arrived.", s->reference,
			                  s->status);
		if(at <= s->arrived_at)
			return impossible(err, e, "bad_sequence", "done must come after arrived.");
		st = store_observation_insert(tx, "duration", j->visitor_id, s->visit_type_id, -1,
		                              (double)(at - s->arrived_at), s->appointment_id, at, err);
		if(st == OTD_OK)
			st = refit_duration(tx, s, j->visitor_id, j->now, err);
		if(st == OTD_OK)
			st = set_status(tx, s, "done", 0, at, j->now, err);
		if(st == OTD_OK) {
			bool asked = false;
			st = booking_notice(j->app, tx, s->appointment_id, OTD_MSG_FEEDBACK,
			                    "feedback", NULL, j->now, &asked, err);
		}
		if(!unavailable)
			set_state(dc, "idle", 0, at);
		break;
	case OTD_VEVENT_NO_ACCESS: {
		if(!remaining(s->status) && strcmp(s->status, "arrived") != 0)
			return impossible(err, e, "bad_sequence", "appointment %s is already %s.",
			                  s->reference, s->status);
		if(unavailable && strcmp(s->status, "arrived") != 0)
			return impossible(err, e, "visitor_unavailable",
			                  "the visitor is marked unavailable for the rest of the day.");
		/* Evidence for the guarantee exemption: the visitor was there
		 * (travelling to it, on site, or the phone's position says so). */
		bool there = d->appointment_id == s->appointment_id &&
		             (strcmp(d->state, "on_site") == 0 || strcmp(d->state, "travelling") == 0);
		if(!there && !e->has_position)
			return impossible(err, e, "no_evidence",
			                  "no_access needs you to be travelling to or at %s, or the "
			                  "phone's position.",
			                  s->reference);
		if(strcmp(d->state, "on_break") == 0 ||
		   ((strcmp(d->state, "on_site") == 0 || strcmp(d->state, "travelling") == 0) &&
		    d->appointment_id != s->appointment_id))
			return impossible(err, e, "bad_sequence",
			                  "you are on a break, or at or travelling to another appointment.");
		st = set_status(tx, s, "no_access", 0, 0, j->now, err);
		if(unavailable) {
			d->appointment_id = 0;
			break;
		}
		set_state(dc, "idle", 0, at);
		d->has_from = true;
		d->from_lat = e->has_position ? e->lat : s->lat;
		d->from_lon = e->has_position ? e->lon : s->lon;
		break;
	}
	case OTD_VEVENT_NEEDS_ANOTHER_VISIT:
		if(strcmp(s->status, "arrived") != 0 && strcmp(s->status, "done") != 0)
			return impossible(err, e, "bad_sequence",
			                  "appointment %s is %s: another visit is asked for after arriving.",
			                  s->reference, s->status);
		st = store_task_insert(tx, "rebook", s->appointment_id, e->note, j->now, err);
		break;
	case OTD_VEVENT_LATE:
		d->late_s = (int64_t)e->late_minutes * 60;
		break;
	case OTD_VEVENT_CANNOT_ATTEND: {
		if(!remaining(s->status))
			return impossible(err, e, "bad_sequence", "appointment %s is already %s.",
			                  s->reference, s->status);
		if(strcmp(s->status, "travelling") == 0) {
			if((st = set_status(tx, s, "booked", 0, 0, j->now, err)))
				return st;
			set_state(dc, "idle", 0, at);
		}
		char why[201];
		text_cut(why, sizeof(why), "cannot attend: ", e->note);
		st = force_at_risk(tx, s, why, j->now, err);
		break;
	}
	case OTD_VEVENT_UNAVAILABLE: {
		if((st = load_stops(j, tx, dc, err)))
			return st;
		char why[201];
		snprintf(why, sizeof(why), "the visitor is unavailable: %s", e->reason);
		for(size_t i = 0; i < dc->n && st == OTD_OK; i++) {
			struct otd_day_stop *x = &dc->stops[i];
			if(!remaining(x->status))
				continue;
			if(strcmp(x->status, "travelling") == 0)
				st = set_status(tx, x, "booked", 0, 0, j->now, err);
			if(st == OTD_OK)
				st = force_at_risk(tx, x, why, j->now, err);
		}
		set_state(dc, "unavailable", 0, at);
		snprintf(d->unavailable_reason, sizeof(d->unavailable_reason), "%s", e->reason);
		break;
	}
	case OTD_VEVENT_BREAK_START:
		if(strcmp(d->state, "not_started") != 0 && strcmp(d->state, "idle") != 0)
			return impossible(err, e, "bad_sequence", "a break starts between visits, not %s.",
			                  strcmp(d->state, "on_break") == 0 ? "during a break"
			                                                    : "while travelling or on site");
		set_state(dc, "on_break", 0, at);
		break;
	case OTD_VEVENT_BREAK_END:
		if(strcmp(d->state, "on_break") != 0)
			return impossible(err, e, "bad_sequence", "no break was started.");
		set_state(dc, "idle", 0, at);
		d->break_taken = true;
		break;
	case OTD_VEVENT_POSITION: break;
	}
	if(st)
		return st;
	if(at > d->last_event_at)
		d->last_event_at = at;
	dc->last_status_at = d->last_status_at = at;
	d->silent = false;
	return evidence(j, tx, dc, e, s ? s->appointment_id : 0, err);
}

static enum otd_status events_job_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct events_job *j = arg;
	j->n_days = 0;
	j->changes.n = 0;
	j->status_changed = false;
	j->base_loaded = false;
	enum otd_status st = OTD_OK;
	if(!j->actor || j->actor->visitor_id != j->visitor_id) {
		/* Someone acting for a visitor names one that must exist (a
		 * visitor's own session is proof enough). */
		st = store_visitor_base(tx, j->visitor_id, &j->base_lat, &j->base_lon, err);
		if(st == OTD_ENOTFOUND)
			return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
			                     "There is no such visitor.");
		if(st)
			return st;
		j->base_loaded = true;
	}
	const char *cause = "event";
	for(size_t k = 0; k < j->n && st == OTD_OK; k++) {
		size_t i = j->order[k];
		struct otd_vevent *e = &j->ev[i];
		bool dup = false;
		if(e->client_id[0]) {
			for(size_t p = 0; p < k && !dup; p++)
				dup = strcmp(j->ev[j->order[p]].client_id, e->client_id) == 0 &&
				      j->out[j->order[p]] != OTD_VEVENT_DUPLICATE;
			if(!dup && e->kind != OTD_VEVENT_POSITION &&
			   (st = store_client_event_seen(tx, j->visitor_id, e->client_id, &dup, err)))
				break;
		}
		if(dup) {
			j->out[i] = OTD_VEVENT_DUPLICATE;
			continue;
		}
		struct day_ctx *dc = NULL;
		if((st = day_of(j, tx, e, &dc, err)))
			break;
		st = apply(j, tx, dc, e, &j->out[i], err);
		if(st == OTD_OK && j->out[i] == OTD_VEVENT_APPLIED && e->kind != OTD_VEVENT_POSITION) {
			cause = otd_vevent_kind_name(e->kind);
			dc->status_changed = j->status_changed = true;
		}
	}
	/* A tap re-projects its day at once; positions alone at most once per
	 * ticker period (the ticker projects every active day anyway). */
	int64_t period = j->app->cfg->tracking.ticker_seconds;
	for(size_t i = 0; i < j->n_days && st == OTD_OK; i++) {
		struct day_ctx *dc = &j->days[i];
		bool project = dc->status_changed || j->now - dc->d.projected_at >= period;
		if(!project)
			continue; /* positions only: kept in visitor_positions; the day row
			           * (latest position, last word) catches up when it is
			           * next projected, within a ticker period */
		dc->d.projected_at = j->now;
		st = store_visitor_day_put(tx, &dc->d, j->now, err);
		if(st == OTD_OK && project)
			st = reproject(j->app, tx, j->visitor_id, dc->d.local_date, j->now,
			               j->cause ? j->cause : cause, &j->changes, err);
	}
	if(st == OTD_OK && j->actor && j->actor->visitor_id != j->visitor_id) {
		/* A dispatcher acting for the visitor is audited. */
		st = app_audit(tx, j->actor, j->now, "visitor.events", "visitor", j->visitor_id,
		               json_pack("{s:I}", "events", (json_int_t)j->n), err);
	}
	days_cleanup(j);
	if(j->cat) {
		planner_catalog_release(j->app->planner, j->cat);
		j->cat = NULL;
	}
	return st;
}

static int by_time(const void *a, const void *b, void *ctx)
{
	const struct otd_vevent *ev = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if(ev[x].at != ev[y].at)
		return ev[x].at < ev[y].at ? -1 : 1;
	return (x > y) - (x < y);
}

static enum otd_status run_events(struct otd_app *app, const struct otd_principal *actor,
                                  int64_t visitor_id, struct otd_vevent *events, size_t n,
                                  enum otd_vevent_result *out, const char *cause,
                                  struct otd_error *err)
{
	int64_t now = otd_clock_now(app->clock);
	const struct otd_config *cfg = app->cfg;
	if(n > (size_t)cfg->tracking.events_per_batch)
		return otd_error_set(err, OTD_ETOOBIG, "too_many_events", "events",
		                     "A request may carry at most %d events.",
		                     cfg->tracking.events_per_batch);
	for(size_t i = 0; i < n; i++) {
		char field[32];
		snprintf(field, sizeof(field), "events[%zu].at", events[i].index);
		if(events[i].at > now + cfg->tracking.future_skew_seconds)
			return otd_error_set(err, OTD_EINVAL, "time_in_future", field,
			                     "Event %zu is dated in the future: check the phone's clock.",
			                     events[i].index);
		if(events[i].at < now - (int64_t)cfg->tracking.offline_hours * 3600)
			return otd_error_set(err, OTD_EINVAL, "too_old", field,
			                     "Event %zu is more than %d hours old.", events[i].index,
			                     cfg->tracking.offline_hours);
		if(events[i].at > now)
			events[i].at = now; /* a phone slightly ahead: now */
		if(events[i].kind == OTD_VEVENT_LATE &&
		   events[i].late_minutes > cfg->tracking.late_max_minutes) {
			snprintf(field, sizeof(field), "events[%zu].minutes", events[i].index);
			return otd_error_set(err, OTD_EINVAL, "too_late", field,
			                     "Event %zu: late by at most %d minutes; past that, send "
			                     "cannot_attend or unavailable.",
			                     events[i].index, cfg->tracking.late_max_minutes);
		}
		out[i] = OTD_VEVENT_APPLIED;
	}
	struct events_job j = {.app = app, .actor = actor, .visitor_id = visitor_id, .ev = events,
	                       .n = n, .out = out, .now = now, .cause = cause};
	j.order = xmalloc((n ? n : 1) * sizeof(size_t));
	for(size_t i = 0; i < n; i++)
		j.order[i] = i;
	/* Claimed time order (stable): taps made offline replay as they happened. */
	for(size_t i = 1; i < n; i++)
		for(size_t k = i; k > 0 && by_time(&j.order[k - 1], &j.order[k], events) > 0; k--) {
			size_t t = j.order[k];
			j.order[k] = j.order[k - 1];
			j.order[k - 1] = t;
		}
	enum otd_status st = store_write(app->store, events_job_fn, &j, err);
	if(st == OTD_OK) {
		/* Statuses change routes (a visit done leaves it); positions do not. */
		for(size_t i = 0; i < j.n_days && j.status_changed; i++)
			planner_day_invalidate(app->planner, visitor_id, j.days[i].d.local_date);
		changes_publish(app, &j.changes);
		for(size_t i = 0; i < j.n_days && j.status_changed; i++)
			visitor_publish(app, &j.days[i].d);
	}
	free(j.order);
	free(j.changes.v);
	return st;
}

enum otd_status app_visitor_events(struct otd_app *app, const struct otd_principal *actor,
                                   int64_t visitor_id, struct otd_vevent *events, size_t n,
                                   enum otd_vevent_result *out, struct otd_error *err)
{
	return run_events(app, actor, visitor_id, events, n, out, NULL, err);
}

enum otd_status app_visitor_unavailable(struct otd_app *app, const struct otd_principal *actor,
                                        int64_t visitor_id, const char *reason,
                                        const char *note, struct otd_error *err)
{
	if(!reason || (strcmp(reason, "sick") != 0 && strcmp(reason, "breakdown") != 0 &&
	               strcmp(reason, "other") != 0))
		return otd_error_set(err, OTD_EINVAL, "bad_reason", "reason",
		                     "reason must be sick, breakdown or other.");
	struct otd_vevent e = {.kind = OTD_VEVENT_UNAVAILABLE, .at = otd_clock_now(app->clock),
	                       .note = note};
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	enum otd_vevent_result r;
	enum otd_status st = run_events(app, actor, visitor_id, &e, 1, &r, "dispatcher_unavailable", err);
	if(st == OTD_ESTATE && strcmp(err->code, "visitor_unavailable") == 0)
		otd_error_set(err, OTD_ESTATE, "already_unavailable", NULL,
		              "This visitor is already marked unavailable for the rest of the day.");
	else if(st != OTD_OK && strncmp(err->field, "events[", 7) == 0)
		err->field[0] = '\0'; /* the body has no events: name none */
	return st;
}

struct publish_job {
	int64_t visitor_id;
	const struct otd_appointment_brief *a;
	size_t n;
	struct changes changes;
};

static enum otd_status publish_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct publish_job *j = arg;
	for(size_t i = 0; i < j->n; i++) {
		struct otd_appointment_risk r;
		enum otd_status st = store_appointment_risk_get(c, j->a[i].id, &r, err);
		if(st)
			return st;
		struct otd_day_stop s = {.appointment_id = j->a[i].id,
		                         .window_start = j->a[i].window_start,
		                         .window_end = j->a[i].window_end};
		snprintf(s.reference, sizeof(s.reference), "%s", j->a[i].reference);
		snprintf(s.status, sizeof(s.status), "%s", j->a[i].status);
		changes_add(&j->changes, j->visitor_id, &s, &r);
	}
	return OTD_OK;
}

void tracking_publish(struct otd_app *app, int64_t visitor_id,
                      const struct otd_appointment_brief *a, size_t n)
{
	if(!app->bus || n == 0)
		return;
	struct publish_job j = {.visitor_id = visitor_id, .a = a, .n = n};
	struct otd_error err;
	otd_error_clear(&err);
	if(store_read(app->store, publish_read, &j, &err) == OTD_OK)
		changes_publish(app, &j.changes);
	else
		otd_log(OTD_LOG_WARN, "publish_failed", "{s:s}", "error", err.message);
	free(j.changes.v);
}

/* ---- the ticker's pass ------------------------------------------------------ */

struct pass_job {
	struct otd_app *app;
	const int64_t *ids;
	size_t n;
	const char *date;
	int64_t now;
	struct changes changes;
};

static enum otd_status pass_job_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct pass_job *j = arg;
	j->changes.n = 0;
	enum otd_status st = OTD_OK;
	for(size_t i = 0; i < j->n && st == OTD_OK; i++)
		st = reproject(j->app, tx, j->ids[i], j->date, j->now, "ticker", &j->changes, err);
	return st;
}

static enum otd_status active_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	void **a = arg;
	return store_active_visitors(c, a[0], a[1], a[2], err);
}

enum otd_status app_risk_pass(struct otd_app *app, size_t *n_routes, struct otd_error *err)
{
	return app_risk_pass_shards(app, UINT32_MAX, n_routes, err);
}

enum otd_status app_risk_pass_shards(struct otd_app *app, uint32_t shards, size_t *n_routes,
                                     struct otd_error *err)
{
	int64_t now = otd_clock_now(app->clock);
	size_t total = 0;
	enum otd_status st = OTD_OK;
	for(int back = 1; back >= 0 && st == OTD_OK; back--) {
		char date[11];
		local_date_of(app, now - back * 86400, date);
		int64_t *ids = NULL;
		size_t n = 0;
		void *a[3] = {date, &ids, &n};
		if((st = store_read(app->store, active_job, a, err)))
			break;
		if(shards != UINT32_MAX) { /* keep this node's shards only */
			size_t kept = 0;
			for(size_t i = 0; i < n; i++)
				if(shards & (UINT32_C(1) << store_shard_of(ids[i])))
					ids[kept++] = ids[i];
			n = kept;
		}
		for(size_t i = 0; i < n; i += PASS_CHUNK) {
			struct pass_job j = {.app = app, .ids = ids + i,
			                     .n = n - i < PASS_CHUNK ? n - i : PASS_CHUNK, .date = date,
			                     .now = now};
			enum otd_status cs = store_write(app->store, pass_job_fn, &j, err);
			if(cs == OTD_OK)
				changes_publish(app, &j.changes);
			free(j.changes.v);
			if(cs != OTD_OK && j.n > 1) {
				/* One bad day must not stop everyone's: one at a time. */
				for(size_t k = 0; k < j.n; k++) {
					struct pass_job one = {.app = app, .ids = ids + i + k, .n = 1,
					                       .date = date, .now = now};
					struct otd_error e1;
					otd_error_clear(&e1);
					if(store_write(app->store, pass_job_fn, &one, &e1) == OTD_OK)
						changes_publish(app, &one.changes);
					else
						otd_log(OTD_LOG_ERROR, "risk_pass_failed", "{s:I,s:s,s:s}",
						        "visitor_id", (json_int_t)ids[i + k], "date", date,
						        "error", e1.message);
					free(one.changes.v);
				}
			}
			if(cs != OTD_OK && st == OTD_OK)
				st = cs; /* reported once the pass is over */
		}
		total += n;
		free(ids);
	}
	if(n_routes)
		*n_routes = total;
	return st;
}

/* ---- reading ------------------------------------------------------------------ */

void otd_tracked_day_cleanup(struct otd_tracked_day *d)
{
	free(d->stops);
	memset(d, 0, sizeof(*d));
}

struct read_job {
	int64_t visitor_id;
	const char *date;
	struct otd_tracked_day *out;
};

static enum otd_status read_day(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct read_job *j = arg;
	struct otd_tracked_day *out = j->out;
	struct otd_visitor v;
	enum otd_status st = store_visitor_get(c, j->visitor_id, &v, err);
	if(st == OTD_ENOTFOUND)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "There is no such visitor.");
	if(st)
		return st;
	otd_visitor_cleanup(&v);
	struct otd_visitor_day d;
	st = store_visitor_day_get(c, j->visitor_id, j->date, &d, err);
	if(st && st != OTD_ENOTFOUND)
		return st;
	out->visitor_id = j->visitor_id;
	snprintf(out->local_date, sizeof(out->local_date), "%s", j->date);
	snprintf(out->state, sizeof(out->state), "%s", d.state);
	out->since = st == OTD_OK ? d.since : 0;
	out->late_minutes = (int)(d.late_s / 60);
	out->silent = d.silent;
	out->last_event_at = d.last_event_at;
	snprintf(out->unavailable_reason, sizeof(out->unavailable_reason), "%s",
	         d.unavailable_reason);
	struct otd_day_stop *stops = NULL;
	size_t n = 0;
	if((st = store_day_stops(c, j->visitor_id, j->date, &stops, &n, err)))
		return st;
	out->stops = xcalloc(n ? n : 1, sizeof(*out->stops));
	out->n = n;
	for(size_t i = 0; i < n; i++) {
		const struct otd_day_stop *s = &stops[i];
		struct otd_tracked_stop *t = &out->stops[i];
		t->appointment_id = s->appointment_id;
		snprintf(t->reference, sizeof(t->reference), "%s", s->reference);
		snprintf(t->status, sizeof(t->status), "%s", s->status);
		t->window_start = s->window_start;
		t->window_end = s->window_end;
		snprintf(t->risk, sizeof(t->risk), "%s", s->risk.risk);
		t->p_late = s->risk.expected_arrival ? s->risk.p_late : -1;
		t->expected_arrival = s->risk.expected_arrival;
		t->band_early = s->risk.band_early;
		t->band_late = s->risk.band_late;
		snprintf(t->risk_reason, sizeof(t->risk_reason), "%s", s->risk.reason);
		t->forced = s->risk.forced;
		t->arrived_at = s->arrived_at;
		t->done_at = s->done_at;
		if(s->appointment_id == d.appointment_id)
			snprintf(out->current, sizeof(out->current), "%s", s->reference);
	}
	free(stops);
	return OTD_OK;
}

enum otd_status app_tracked_day(struct otd_app *app, int64_t visitor_id, const char *local_date,
                                struct otd_tracked_day *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	char date[11];
	if(!local_date || !local_date[0]) {
		local_date_of(app, otd_clock_now(app->clock), date);
	} else {
		int y, m, d;
		if(otd_date_parse(local_date, &y, &m, &d, err) != OTD_OK)
			return otd_error_set(err, OTD_EINVAL, "bad_date", "date",
			                     "date must be a date YYYY-MM-DD.");
		snprintf(date, sizeof(date), "%s", local_date);
	}
	struct read_job j = {visitor_id, date, out};
	enum otd_status st = store_read(app->store, read_day, &j, err);
	if(st)
		otd_tracked_day_cleanup(out);
	return st;
}
