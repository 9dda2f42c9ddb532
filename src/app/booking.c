/* Booking: slots, holds, bookings, reschedules, cancellations, links,
 * waitlist offers. */
#include "app/booking.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <strings.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/bus.h"
#include "app/publish.h"
#include "app/guarantees.h"
#include "app/log.h"
#include "app/planning.h"
#include "onthedot/civil.h"
#include "onthedot/delivery.h"
#include "onthedot/ics.h"
#include "onthedot/mem.h"
#include "onthedot/message.h"
#include "onthedot/reference.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"
#include "store/board.h"
#include "store/booking.h"
#include "store/guarantees.h"
#include "store/catalog.h"
#include "store/gazetteer.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/tracking.h"

#define CANDIDATES_MAX 3

static void publish_appointment(struct otd_app *app, const struct otd_appointment *a,
                                int64_t visitor_id, const char *change);

/* ---- small helpers --------------------------------------------------------- */

static void secret(size_t bytes, char *out, size_t size)
{
	unsigned char raw[32];
	randombytes_buf(raw, bytes);
	sodium_bin2base64(out, size, raw, bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void secret_hash(const char *s, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)s, strlen(s), NULL, 0);
}

static const char *actor_kind(const struct otd_principal *p)
{
	switch(p ? p->kind : OTD_PRINCIPAL_NONE) {
	case OTD_PRINCIPAL_SESSION: return "user";
	case OTD_PRINCIPAL_TOKEN: return "token";
	case OTD_PRINCIPAL_CLI: return "cli";
	default: return "customer";
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

static bool is_staff(const struct otd_principal *p)
{
	return p && p->kind != OTD_PRINCIPAL_NONE;
}

void otd_slot_result_cleanup(struct otd_slot_result *r)
{
	for(size_t i = 0; i < r->n_days; i++)
		free(r->days[i].windows);
	free(r->days);
	memset(r, 0, sizeof(*r));
}

void otd_appointment_view_cleanup(struct otd_appointment_view *v)
{
	otd_customer_cleanup(&v->customer);
	otd_address_cleanup(&v->address);
	memset(v, 0, sizeof(*v));
}

static int64_t local_minutes(const struct otd_tz *tz, int64_t t)
{
	struct otd_local l;
	otd_tz_to_local(tz, t, &l);
	return l.c.hour * 60 + l.c.minute;
}

/* How long an expired hold is kept before it is deleted. */
#define HOLD_KEEP_S 3600

/* ---- the booking rules ----------------------------------------------------- */

struct day_rules {
	int64_t day_start, day_end;
	int64_t earliest, latest;
	bool open;
};

/* Whether local_date can take bookings at now, and from when to when. */
static void rules_for_day(struct otd_app *app, const struct plan_catalog *cat,
                          const char *local_date, int64_t now, struct day_rules *r)
{
	const struct otd_config *cfg = app->cfg;
	memset(r, 0, sizeof(*r));
	if(!planner_day_bounds(app->planner, local_date, &r->day_start, &r->day_end))
		return;
	if(plan_catalog_holiday(cat, local_date))
		return;
	r->earliest = now + (int64_t)cfg->booking.lead_minutes * 60;
	if(r->earliest < r->day_start)
		r->earliest = r->day_start;
	r->latest = now + (int64_t)cfg->booking.horizon_days * 86400;
	char today[11];
	planner_local_date(app->planner, now, today);
	if(strcmp(local_date, today) < 0)
		return;
	if(strcmp(local_date, today) == 0 && cfg->booking.same_day_cutoff[0]) {
		const char *c = cfg->booking.same_day_cutoff;
		int cutoff = ((c[0] - '0') * 10 + (c[1] - '0')) * 60 + (c[3] - '0') * 10 + (c[4] - '0');
		if(local_minutes(app->tz, now) >= cutoff)
			return;
	}
	r->open = r->earliest < r->day_end && r->earliest <= r->latest;
}

static void offer_request(struct otd_app *app, const struct plan_visit_type *t, double lat,
                          double lon, const struct day_rules *r, struct otd_offer_request *q)
{
	memset(q, 0, sizeof(*q));
	q->lat = lat;
	q->lon = lon;
	otd_lognormal_moments(t->median_min * 60.0, t->spread, &q->service_mean, &q->service_var);
	q->width = (int64_t)t->window_min * 60;
	q->step = (int64_t)app->cfg->planning.step_minutes * 60;
	q->day_start = r->day_start;
	q->day_end = r->day_end;
	q->earliest = r->earliest;
	q->latest = r->latest;
	q->max_visits = (size_t)app->cfg->booking.max_visits_per_day;
	q->green_travel = app->cfg->planning.green_minutes * 60.0;
}

/* Eligible visitors for a visit type at a place, nearest base first. */
struct candidate {
	const struct plan_visitor *v;
	double key; /* grows with the distance from the place (otd_geo_chord2) */
};

/* Nearer first; the same distance by visitor id, so the order is fixed. */
static int candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if(x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->v->id < y->v->id ? -1 : x->v->id > y->v->id;
}

/* The visitors of cat with the skill into out (room for all of them), each
 * keyed by distance from (lat, lon), in catalog order. Returns how many. */
static size_t skilled_visitors(const struct plan_catalog *cat, const char *skill, double lat,
                               double lon, struct candidate *out)
{
	struct otd_geo_point at;
	otd_geo_point_set(&at, lat, lon);
	size_t n = 0;
	for(size_t i = 0; i < cat->n_visitors; i++) {
		const struct plan_visitor *v = &cat->visitors[i];
		if(!plan_visitor_has_skill(v, skill))
			continue;
		out[n].v = v;
		out[n].key = otd_geo_chord2(&v->base, &at);
		n++;
	}
	return n;
}

/* skilled_visitors, nearest first. */
static size_t eligible_visitors(const struct plan_catalog *cat, const char *skill, double lat,
                                double lon, struct candidate *out)
{
	size_t n = skilled_visitors(cat, skill, lat, lon, out);
	qsort(out, n, sizeof(*out), candidate_cmp);
	return n;
}

/* A binary min-heap of candidates (candidate_cmp), for taking the nearest
 * few of many without sorting them all. */
static void heap_down(struct candidate *h, size_t n, size_t i)
{
	for(;;) {
		size_t l = 2 * i + 1, m = i;
		if(l < n && candidate_cmp(&h[l], &h[m]) < 0)
			m = l;
		if(l + 1 < n && candidate_cmp(&h[l + 1], &h[m]) < 0)
			m = l + 1;
		if(m == i)
			return;
		struct candidate t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_make(struct candidate *h, size_t n)
{
	for(size_t i = n / 2; i-- > 0;)
		heap_down(h, n, i);
}

/* Removes the nearest of the n candidates of heap h into *out; n > 0. */
static void heap_pop(struct candidate *h, size_t *n, struct candidate *out)
{
	*out = h[0];
	h[0] = h[--*n];
	heap_down(h, *n, 0);
}

/* Whether one of v's shift occurrences holds the whole window. */
static bool shift_covers(const struct plan_visitor *v, int64_t start, int64_t end)
{
	for(size_t i = 0; i < v->n_occ; i++)
		if(v->occ[i].start <= start && end <= v->occ[i].end)
			return true;
	return false;
}

static enum otd_status resolve_place(struct otd_conn *c, int64_t address_id, double *lat,
                                     double *lon, struct otd_error *err)
{
	if(!address_id)
		return OTD_OK;
	struct otd_address a;
	enum otd_status st = store_address_get(c, address_id, &a, err);
	if(st == OTD_ENOTFOUND)
		return otd_error_set(err, OTD_EINVAL, "unknown_address", "address",
		                     "There is no address %lld in the gazetteer.",
		                     (long long)address_id);
	if(st)
		return st;
	*lat = a.lat;
	*lon = a.lon;
	otd_address_cleanup(&a);
	return OTD_OK;
}

/* ---- the slot offer --------------------------------------------------------- */

struct slots_job {
	struct otd_app *app;
	const struct otd_slot_query *q;
	struct otd_slot_result *out;
	int64_t now;
};

/* The appointment being rescheduled frees its own place on its day. */
struct own_place {
	int64_t appointment_id, visitor_id;
	char date[11];
};

static enum otd_status slots_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct slots_job *j = arg;
	struct otd_app *app = j->app;
	uint64_t gen = planner_generation(app->planner); /* before this snapshot's first read */
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(app->planner, c, j->now, &cat, err);
	if(st)
		return st;
	struct candidate *cand = NULL;
	const struct otd_route **routes = NULL;
	size_t *owner = NULL;
	struct plan_day **held = NULL;
	const struct plan_visitor **work = NULL;
	size_t *work_index = NULL, *work_owner = NULL, *occ_at = NULL;
	size_t n_held = 0;
	struct otd_offer_window *buf = NULL;
	struct own_place own = {0};
	const struct plan_visit_type *t = plan_catalog_type(cat, j->q->visit_type_id);
	if(!t || !t->active) {
		st = otd_error_set(err, OTD_EINVAL, "unknown_visit_type", "visit_type",
		                   "There is no bookable visit type %lld.",
		                   (long long)j->q->visit_type_id);
		goto out;
	}
	double lat = j->q->lat, lon = j->q->lon;
	if((st = resolve_place(c, j->q->address_id, &lat, &lon, err)))
		goto out;
	if(j->q->for_appointment) {
		struct otd_appointment a;
		if(store_appointment_get(c, j->q->for_appointment, &a, NULL) == OTD_OK) {
			own.appointment_id = a.id;
			own.visitor_id = a.visitor_id;
			memcpy(own.date, a.local_date, sizeof(own.date));
		}
	}
	cand = xcalloc(cat->n_visitors + 1, sizeof(*cand));
	size_t n_cand = eligible_visitors(cat, t->skill, lat, lon, cand);
	if(j->q->max_visitors && n_cand > j->q->max_visitors)
		n_cand = j->q->max_visitors;
	routes = xcalloc(n_cand * PLAN_ROUTES_MAX + 1, sizeof(*routes));
	owner = xcalloc(n_cand * PLAN_ROUTES_MAX + 1, sizeof(*owner));
	held = xcalloc(n_cand + 1, sizeof(*held));
	work = xcalloc(n_cand + 1, sizeof(*work));
	work_index = xcalloc(n_cand + 1, sizeof(*work_index));
	work_owner = xcalloc(n_cand + 1, sizeof(*work_owner));
	occ_at = xcalloc(n_cand + 1, sizeof(*occ_at));
	int y, m, d, ty, tm, td;
	otd_date_parse(j->q->from, &y, &m, &d, NULL);
	otd_date_parse(j->q->to, &ty, &tm, &td, NULL);
	int64_t first = otd_days_from_civil(y, m, d), last = otd_days_from_civil(ty, tm, td);
	size_t max_windows = 0;
	for(int64_t day = first; day <= last; day++) {
		char date[11];
		otd_civil_from_days(day, &y, &m, &d);
		otd_date_format(y, m, d, date);
		struct day_rules r;
		rules_for_day(app, cat, date, j->now, &r);
		if(!r.open)
			continue;
		size_t n_routes = 0;
		n_held = 0;
		/* Who works that day; the visitor being rescheduled sees their own
		 * place free, from an uncached build. */
		size_t n_work = 0;
		for(size_t i = 0; i < n_cand; i++) {
			const struct plan_visitor *v = cand[i].v;
			/* Days come in order: each visitor's occurrences are walked
			 * once per request, not once per day. */
			while(occ_at[i] < v->n_occ && v->occ[occ_at[i]].start < r.day_start)
				occ_at[i]++;
			if(occ_at[i] >= v->n_occ || v->occ[occ_at[i]].start >= r.day_end)
				continue;
			if(own.appointment_id && v->id == own.visitor_id && strcmp(date, own.date) == 0) {
				struct plan_day *pd = xcalloc(1, sizeof(*pd));
				st = planner_build_day(app->planner, c, cat, v, date, j->now,
				                       own.appointment_id, 0, pd, err);
				if(st) {
					free(pd);
					goto out_day;
				}
				pd->refs = -1; /* ours, not the cache's */
				held[n_held] = pd;
				work_owner[n_held++] = i;
				continue;
			}
			work[n_work] = v;
			work_index[n_work++] = i;
		}
		st = planner_days(app->planner, c, cat, work, n_work, date, j->now, gen, held + n_held,
		                  err);
		if(st)
			goto out_day;
		for(size_t k = 0; k < n_work; k++)
			work_owner[n_held + k] = work_index[k];
		n_held += n_work;
		/* Nearest first, as the candidates were sorted. */
		for(size_t a = 1; a < n_held; a++) {
			struct plan_day *x = held[a];
			size_t xo = work_owner[a], b = a;
			while(b > 0 && work_owner[b - 1] > xo) {
				held[b] = held[b - 1];
				work_owner[b] = work_owner[b - 1];
				b--;
			}
			held[b] = x;
			work_owner[b] = xo;
		}
		for(size_t i = 0; i < n_held; i++) {
			struct plan_day *pd = held[i];
			for(size_t k = 0; k < pd->n_routes; k++) {
				routes[n_routes] = &pd->routes[k];
				owner[n_routes] = work_owner[i];
				n_routes++;
			}
		}
		size_t room = (size_t)((r.day_end - r.day_start) / (app->cfg->planning.step_minutes * 60)) + 2;
		if(room > max_windows) {
			max_windows = room;
			buf = xrealloc(buf, max_windows * sizeof(*buf));
		}
		struct otd_offer_request oq;
		offer_request(app, t, lat, lon, &r, &oq);
		/* Visitors with a duration of their own (learned) take the visit
		 * at their pace. */
		double *svc = NULL;
		if(cat->n_learned && n_routes) {
			svc = xmalloc(2 * n_routes * sizeof(*svc));
			for(size_t k = 0; k < n_routes; k++) {
				double median, spread;
				plan_visit_model(cat, t, cand[owner[k]].v->id, &median, &spread);
				otd_lognormal_moments(median * 60.0, spread, &svc[k], &svc[n_routes + k]);
			}
			oq.route_service_mean = svc;
			oq.route_service_var = svc + n_routes;
		}
		size_t n = n_routes ? otd_offer_day(routes, owner, n_routes, planner_plan(app->planner),
		                                    &oq, buf)
		                    : 0;
		free(svc);
		if(n) {
			struct otd_slot_result *res = j->out;
			res->days = xrealloc(res->days, (res->n_days + 1) * sizeof(*res->days));
			struct otd_slot_day *sd = &res->days[res->n_days++];
			memcpy(sd->date, date, sizeof(sd->date));
			sd->n = n;
			sd->windows = xmalloc(n * sizeof(*sd->windows));
			memcpy(sd->windows, buf, n * sizeof(*buf));
		}
	out_day:
		for(size_t i = 0; i < n_held; i++) {
			if(held[i]->refs == -1) {
				plan_day_cleanup(held[i]);
				free(held[i]);
			} else {
				planner_day_release(app->planner, held[i]);
			}
		}
		n_held = 0;
		if(st)
			goto out;
	}
	j->out->width_minutes = t->window_min;
out:
	free(buf);
	free(held);
	free(work);
	free(work_index);
	free(work_owner);
	free(occ_at);
	free(owner);
	free(routes);
	free(cand);
	planner_catalog_release(app->planner, cat);
	return st;
}

static enum otd_status check_dates(struct otd_app *app, const char *from, const char *to,
                                   struct otd_error *err)
{
	int y, m, d, y2, m2, d2;
	if(otd_date_parse(from, &y, &m, &d, err) != OTD_OK) {
		snprintf(err->field, sizeof(err->field), "from");
		return OTD_EINVAL;
	}
	if(otd_date_parse(to, &y2, &m2, &d2, err) != OTD_OK) {
		snprintf(err->field, sizeof(err->field), "to");
		return OTD_EINVAL;
	}
	int64_t span = otd_days_from_civil(y2, m2, d2) - otd_days_from_civil(y, m, d);
	if(span < 0)
		return otd_error_set(err, OTD_EINVAL, "bad_range", "to",
		                     "\"to\" must not be before \"from\".");
	if(span >= OTD_SLOT_DAYS_MAX)
		return otd_error_set(err, OTD_EINVAL, "bad_range", "to",
		                     "Ask for at most %d days at a time.", OTD_SLOT_DAYS_MAX);
	(void)app;
	return OTD_OK;
}

enum otd_status app_slots(struct otd_app *app, const struct otd_slot_query *q,
                          struct otd_slot_result *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	enum otd_status st = check_dates(app, q->from, q->to, err);
	if(st)
		return st;
	struct slots_job job = {app, q, out, otd_clock_now(app->clock)};
	st = store_read(app->store, slots_job, &job, err);
	if(st)
		otd_slot_result_cleanup(out);
	return st;
}

/* ---- holds ------------------------------------------------------------------ */

/* A day for the cache once its transaction commits (store_after_commit):
 * put in the cache, or, when it could not be built, the cached copy
 * dropped; either way the caller need not invalidate it. */
struct day_put {
	struct otd_app *app;
	const struct plan_catalog *cat;
	int64_t visitor_id;
	char local_date[11];
	struct plan_day *day; /* the caller frees what is left */
	bool done;
};

struct hold_candidate {
	int64_t visitor_id;
	double travel;
};

struct hold_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	const struct otd_hold_request *req;
	struct otd_hold_result *out;
	int64_t now;
	double lat, lon;
	char date[11];
	int64_t start, end;
	struct hold_candidate cand[CANDIDATES_MAX];
	size_t n_cand;
	struct plan_catalog *cat;
	const struct plan_visit_type *type;
	int64_t own_visitor; /* rescheduling: where the booking is now */
	char own_date[11];
	struct day_put put; /* the day after the hold, for the cache */
};

static int hold_candidate_cmp(const void *a, const void *b)
{
	const struct hold_candidate *x = a, *y = b;
	return x->travel < y->travel ? -1 : x->travel > y->travel;
}

/* Read phase: check the window against the rules and the grid, and rank
 * the visitors who could take it by the travel they would add. */
static enum otd_status hold_plan_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	struct otd_app *app = j->app;
	uint64_t gen = planner_generation(app->planner); /* before this snapshot's first read */
	enum otd_status st = planner_catalog(app->planner, c, j->now, &j->cat, err);
	if(st)
		return st;
	j->type = plan_catalog_type(j->cat, j->req->visit_type_id);
	if(!j->type || !j->type->active)
		return otd_error_set(err, OTD_EINVAL, "unknown_visit_type", "visit_type",
		                     "There is no bookable visit type %lld.",
		                     (long long)j->req->visit_type_id);
	if((st = resolve_place(c, j->req->address_id, &j->lat, &j->lon, err)))
		return st;
	if(j->req->for_appointment) {
		struct otd_appointment a;
		if(store_appointment_get(c, j->req->for_appointment, &a, NULL) == OTD_OK) {
			j->own_visitor = a.visitor_id;
			memcpy(j->own_date, a.local_date, sizeof(j->own_date));
		}
	}
	j->start = j->req->window_start;
	j->end = j->start + (int64_t)j->type->window_min * 60;
	planner_local_date(app->planner, j->start, j->date);
	struct day_rules r;
	rules_for_day(app, j->cat, j->date, j->now, &r);
	int64_t step = (int64_t)app->cfg->planning.step_minutes * 60;
	if(!r.open || j->start < r.earliest || j->start > r.latest || j->end > r.day_end)
		return otd_error_set(err, OTD_EINVAL, "window_not_bookable", "window_start",
		                     "That window cannot be booked (too soon, too far ahead, a bank "
		                     "holiday or past the same-day cut-off); choose one of the windows "
		                     "offered.");
	if((j->start - r.day_start) % step != 0)
		return otd_error_set(err, OTD_EINVAL, "window_not_on_grid", "window_start",
		                     "Windows start every %d minutes from midnight; choose one of the "
		                     "windows offered.",
		                     app->cfg->planning.step_minutes);
	/* Visitors nearest first, taken from a heap: usually a few are enough. */
	struct candidate *heap = xcalloc(j->cat->n_visitors + 1, sizeof(*heap));
	size_t n = skilled_visitors(j->cat, j->type->skill, j->lat, j->lon, heap);
	heap_make(heap, n);
	bool covered = false; /* some visitor with the skill works the whole window */
	while(n > 0 && st == OTD_OK) {
		struct candidate next;
		heap_pop(heap, &n, &next);
		if(!plan_visitor_works_on(next.v, r.day_start, r.day_end))
			continue;
		struct otd_stop s;
		plan_visit_stop(j->cat, j->type, next.v->id, j->lat, j->lon, j->start, j->end,
		                OTD_STOP_HOLD, 0, &s);
		if(shift_covers(next.v, j->start, j->end))
			covered = true;
		/* Moving a booking: its own place is free on its own route. */
		struct plan_day own = {0}, *pd = NULL;
		bool own_day = j->req->for_appointment && next.v->id == j->own_visitor &&
		               strcmp(j->date, j->own_date) == 0;
		if(own_day) {
			st = planner_build_day(app->planner, c, j->cat, next.v, j->date, j->now,
			                       j->req->for_appointment, 0, &own, err);
			pd = &own;
		} else {
			st = planner_day(app->planner, c, j->cat, next.v, j->date, j->now, gen, &pd,
			                 err);
		}
		if(st)
			break;
		long ri = plan_day_route_for(pd, j->start, j->end);
		double added = 0;
		bool ok = false;
		if(ri >= 0) {
			const struct otd_route *route = &pd->routes[ri];
			size_t max = (size_t)app->cfg->booking.max_visits_per_day;
			ok = (!max || otd_route_visits(route) < max) &&
			     otd_route_best_insertion(route, planner_plan(app->planner), &s, &added) >= 0;
		}
		if(own_day)
			plan_day_cleanup(&own);
		else
			planner_day_release(app->planner, pd);
		if(!ok)
			continue;
		if(j->n_cand < CANDIDATES_MAX) {
			j->cand[j->n_cand++] = (struct hold_candidate){next.v->id, added};
		} else if(added < j->cand[CANDIDATES_MAX - 1].travel) {
			j->cand[CANDIDATES_MAX - 1] = (struct hold_candidate){next.v->id, added};
		}
		qsort(j->cand, j->n_cand, sizeof(j->cand[0]), hold_candidate_cmp);
		/* Visitors come nearest first: once enough can take it, the rest
		 * would add more travel anyway. */
		if(j->n_cand == CANDIDATES_MAX)
			break;
	}
	free(heap);
	if(st == OTD_OK && !covered)
		return otd_error_set(err, OTD_EINVAL, "window_not_offered", "window_start",
		                     "Nobody who makes this kind of visit works then; choose one of the "
		                     "windows offered.");
	return st;
}

/* Stops of a route as store items (breaks left out), for store_route_order. */
static size_t route_items(const struct otd_route *r, struct otd_route_item *out)
{
	size_t n = 0;
	for(size_t i = 0; i < r->n; i++) {
		if(r->stops[i].kind != OTD_STOP_VISIT && r->stops[i].kind != OTD_STOP_HOLD)
			continue; /* breaks and vacated places are not stored */
		memset(&out[n], 0, sizeof(out[n]));
		out[n].kind = r->stops[i].kind == OTD_STOP_VISIT ? OTD_ITEM_VISIT : OTD_ITEM_HOLD;
		out[n].id = r->stops[i].id;
		n++;
	}
	return n;
}

/* Places stop s on visitor v's route for the window, exactly, from the
 * database; on success writes the route order with the stop given id. */
static enum otd_status place_exact_at(struct otd_app *app, struct otd_conn *tx,
                                      const struct plan_catalog *cat, const struct plan_visitor *v,
                                      const char *date, int64_t now, int64_t exclude_appointment,
                                      int64_t exclude_hold, struct otd_stop *s, double quantile,
                                      bool *placed, struct plan_day *day, long *route_index,
                                      long *pos, struct otd_error *err)
{
	*placed = false;
	enum otd_status st = planner_build_day(app->planner, tx, cat, v, date, now,
	                                       exclude_appointment, exclude_hold, day, err);
	if(st)
		return st;
	long ri = plan_day_route_for(day, s->a, s->b);
	if(ri < 0)
		return OTD_OK;
	struct otd_route *route = &day->routes[ri];
	size_t max = (size_t)app->cfg->booking.max_visits_per_day;
	if(max && otd_route_visits(route) >= max)
		return OTD_OK;
	long p = quantile > 0 ? plan_route_place_at(app->planner, route, s, quantile)
	                      : plan_route_place(app->planner, route, s);
	if(p < 0)
		return OTD_OK;
	*placed = true;
	*route_index = ri;
	*pos = p;
	return OTD_OK;
}

/* Places s on v's route on date at the planning quantile (see
 * place_exact_at): *placed says whether it fits; day is built either way
 * and the caller cleans it up. */
static enum otd_status place_exact(struct otd_app *app, struct otd_conn *tx,
                                   const struct plan_catalog *cat, const struct plan_visitor *v,
                                   const char *date, int64_t now, int64_t exclude_appointment,
                                   int64_t exclude_hold, struct otd_stop *s, bool *placed,
                                   struct plan_day *day, long *route_index, long *pos,
                                   struct otd_error *err)
{
	return place_exact_at(app, tx, cat, v, date, now, exclude_appointment, exclude_hold, s, 0,
	                      placed, day, route_index, pos, err);
}

#define POSITION_GAP 1024

/* Gives the stop just placed at pos (now with id new_id) its place in the
 * stored route order. Positions are spaced so a new stop usually takes the
 * middle of the gap between its neighbours: one row updated, not the whole
 * route (every page a booking touches is written to the log). When there
 * is no gap, the route is renumbered. With placed, *placed (the caller
 * frees it) gets the route's items with the positions now stored, and
 * *n_placed their number (on success only). */
static enum otd_status write_order(struct otd_conn *tx, const struct plan_day *day,
                                   struct otd_route *route, long pos, int64_t new_id,
                                   struct otd_route_item **placed, size_t *n_placed,
                                   struct otd_error *err)
{
	route->stops[pos].id = new_id;
	struct otd_route_item *items = xcalloc(route->n + 1, sizeof(*items));
	size_t n = route_items(route, items);
	size_t at = 0; /* index of the new item among items */
	for(size_t i = 0, k = 0; i < route->n; i++) {
		if(route->stops[i].kind != OTD_STOP_VISIT && route->stops[i].kind != OTD_STOP_HOLD)
			continue;
		if((long)i == pos)
			at = k;
		/* The stored position of every other item. */
		items[k].route_position = -1;
		for(size_t m = 0; m < day->n_items; m++)
			if(day->items[m].id == items[k].id &&
			   (day->items[m].kind == OTD_ITEM_VISIT) == (items[k].kind == OTD_ITEM_VISIT))
				items[k].route_position = day->items[m].route_position;
		k++;
	}
	int lo = at > 0 ? items[at - 1].route_position : 0;
	int hi = at + 1 < n ? items[at + 1].route_position : lo + 2 * POSITION_GAP;
	bool ordered = true;
	for(size_t k = 1; k < n && ordered; k++)
		if(k != at && k - 1 != at)
			ordered = items[k - 1].route_position >= 0 &&
			          items[k].route_position > items[k - 1].route_position;
	enum otd_status st;
	if(ordered && lo >= 0 && hi - lo >= 2 && (at == 0 || items[at - 1].route_position >= 0)) {
		items[at].route_position = lo + (hi - lo) / 2;
		st = store_route_order(tx, &items[at], 1, err);
	} else {
		for(size_t k = 0; k < n; k++)
			items[k].route_position = (int)(k + 1) * POSITION_GAP;
		st = store_route_order(tx, items, n, err);
	}
	if(placed && st == OTD_OK) {
		*placed = items;
		*n_placed = n;
	} else {
		free(items);
	}
	return st;
}

/* The day a write job leaves behind, for the day cache: the visitor's day
 * it placed a stop on (day, read inside the transaction, the hold or
 * appointment left out of it left out here too), with the item added and
 * the positions write_order stored (placed[0..n_placed)). Built as
 * planner_build_day would build it from the database after the commit,
 * without reading it back. NULL when it cannot be built. */
static struct plan_day *day_after(struct otd_app *app, const struct plan_catalog *cat,
                                  const struct plan_visitor *v, const struct plan_day *day,
                                  const struct otd_route_item *added,
                                  const struct otd_route_item *placed, size_t n_placed, int64_t now)
{
	size_t n = day->n_items + 1;
	struct otd_route_item *items = xcalloc(n, sizeof(*items));
	if(day->n_items)
		memcpy(items, day->items, day->n_items * sizeof(*items));
	items[n - 1] = *added;
	for(size_t i = 0; i < n; i++)
		for(size_t k = 0; k < n_placed; k++)
			if(placed[k].kind == items[i].kind && placed[k].id == items[i].id)
				items[i].route_position = placed[k].route_position;
	qsort(items, n, sizeof(*items), store_route_item_cmp);
	struct plan_day *d = xcalloc(1, sizeof(*d));
	struct otd_error e;
	if(planner_build_day_from(app->planner, cat, v, day->local_date, now, false, items, n, d,
	                          &e) != OTD_OK) {
		free(d);
		return NULL;
	}
	return d;
}

static void day_put_run(void *arg)
{
	struct day_put *dp = arg;
	if(dp->day)
		planner_day_put(dp->app->planner, dp->cat, dp->day);
	else
		planner_day_invalidate(dp->app->planner, dp->visitor_id, dp->local_date);
	dp->day = NULL;
	dp->done = true;
}

/* At the end of a write job that placed item `added` on v's day (day, as
 * place_exact read it) and stored the order (placed, from write_order):
 * arranges for the day after the change to replace the cached one once
 * the transaction commits. Nothing where the store cannot say when that is
 * (the caller then invalidates as usual). */
static void put_day_after_commit(struct otd_conn *tx, struct day_put *dp, struct otd_app *app,
                                 const struct plan_catalog *cat, const struct plan_visitor *v,
                                 const struct plan_day *day, const struct otd_route_item *added,
                                 const struct otd_route_item *placed, size_t n_placed, int64_t now)
{
	plan_day_free(dp->day);
	*dp = (struct day_put){.app = app, .cat = cat, .visitor_id = v->id};
	memcpy(dp->local_date, day->local_date, sizeof(dp->local_date));
	if(!store_after_commit(tx, day_put_run, dp))
		return;
	dp->day = day_after(app, cat, v, day, added, placed, n_placed, now);
}

static enum otd_status hold_write_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	struct otd_app *app = j->app;
	int64_t live = 0;
	enum otd_status st = store_holds_live(tx, j->req->client_key, j->now, &live, err);
	if(st)
		return st;
	if(live >= app->cfg->booking.holds_per_client) {
		otd_error_set(err, OTD_ERATE, "too_many_holds", NULL,
		              "You are already holding %lld windows; book one or let them expire "
		              "(they last %d minutes).",
		              (long long)live, app->cfg->booking.hold_minutes);
		err->retry_after = 60;
		return OTD_ERATE;
	}
	for(size_t i = 0; i < j->n_cand; i++) {
		const struct plan_visitor *v = plan_catalog_visitor(j->cat, j->cand[i].visitor_id);
		if(!v)
			continue;
		store_lock_scope(tx, v->id, j->date);
		struct otd_stop s;
		plan_visit_stop(j->cat, j->type, v->id, j->lat, j->lon, j->start, j->end, OTD_STOP_HOLD,
		                0, &s);
		struct plan_day day;
		bool placed;
		long ri = -1, pos = -1;
		st = place_exact(app, tx, j->cat, v, j->date, j->now, j->req->for_appointment, 0, &s,
		                 &placed, &day, &ri, &pos, err);
		if(st == OTD_OK && placed) {
			struct otd_hold *h = &j->out->hold;
			memset(h, 0, sizeof(*h));
			h->visitor_id = v->id;
			h->visit_type_id = j->type->id;
			h->address_id = j->req->address_id;
			memcpy(h->local_date, j->date, sizeof(h->local_date));
			h->window_start = j->start;
			h->window_end = j->end;
			snprintf(h->client_key, sizeof(h->client_key), "%s", j->req->client_key);
			h->for_appointment = j->req->for_appointment;
			snprintf(h->purpose, sizeof(h->purpose), "%s",
			         j->req->for_appointment ? "reschedule" : "booking");
			h->created_at = j->now;
			h->expires_at = j->now + (int64_t)app->cfg->booking.hold_minutes * 60;
			secret(32, j->out->token, sizeof(j->out->token));
			unsigned char hash[32];
			secret_hash(j->out->token, hash);
			st = store_hold_insert(tx, h, hash, err);
			struct otd_route_item *order = NULL;
			size_t n_order = 0;
			if(st == OTD_OK)
				st = write_order(tx, &day, &day.routes[ri], pos, h->id, &order,
				                 &n_order, err);
			if(st == OTD_OK)
				st = app_audit(tx, j->actor, j->now, "hold.create", "hold", h->id,
				               json_pack("{s:I,s:s}", "visitor_id", (json_int_t)v->id, "date",
				                         j->date),
				               err);
			/* Not for a move: the day read here left the appointment out. */
			if(st == OTD_OK && !h->for_appointment && h->address_id) {
				struct otd_route_item added = {.kind = OTD_ITEM_HOLD,
				                               .id = h->id,
				                               .lat = j->lat,
				                               .lon = j->lon,
				                               .window_start = h->window_start,
				                               .window_end = h->window_end,
				                               .median_min =
				                                   j->type->prior_median_min,
				                               .spread = j->type->prior_spread,
				                               .visit_type_id = h->visit_type_id,
				                               .route_position = -1,
				                               .expires_at = h->expires_at};
				put_day_after_commit(tx, &j->put, app, j->cat, v, &day, &added,
				                     order, n_order, j->now);
			}
			free(order);
			plan_day_cleanup(&day);
			return st;
		}
		plan_day_cleanup(&day);
		if(st)
			return st;
	}
	return otd_error_set(err, OTD_ECONFLICT, "window_taken", "window_start",
	                     "That window has just been taken; here are the nearest others.");
}

enum otd_status app_hold_create(struct otd_app *app, const struct otd_principal *actor,
                                const struct otd_hold_request *req, struct otd_hold_result *out,
                                struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct hold_job j = {.app = app, .actor = actor, .req = req, .out = out,
	                     .now = otd_clock_now(app->clock)};
	enum otd_status st = store_read(app->store, hold_plan_job, &j, err);
	if(st == OTD_OK && j.n_cand == 0)
		st = otd_error_set(err, OTD_ECONFLICT, "window_taken", "window_start",
		                   "That window has just been taken; here are the nearest others.");
	if(st == OTD_OK)
		st = store_write(app->store, hold_write_job, &j, err);
	if(st == OTD_OK && !j.put.done)
		planner_day_invalidate(app->planner, out->hold.visitor_id, out->hold.local_date);
	plan_day_free(j.put.day);
	planner_catalog_release(app->planner, j.cat);
	return st;
}

/* Adds the windows of r nearest to start into out[0..*n) (at most max). */
static void nearest_of(const struct otd_slot_result *r, int64_t start, struct otd_offer_window *out,
                       size_t *n, size_t max)
{
	for(size_t d = 0; d < r->n_days; d++) {
		for(size_t i = 0; i < r->days[d].n; i++) {
			struct otd_offer_window w = r->days[d].windows[i];
			int64_t dist = llabs(w.start - start);
			if(*n < max) {
				out[(*n)++] = w;
				continue;
			}
			size_t worst = 0;
			for(size_t k = 1; k < *n; k++)
				if(llabs(out[k].start - start) > llabs(out[worst].start - start))
					worst = k;
			if(dist < llabs(out[worst].start - start))
				out[worst] = w;
		}
	}
}

size_t app_nearest_windows(struct otd_app *app, int64_t address_id, int64_t visit_type_id,
                           int64_t start, struct otd_offer_window *out, size_t max)
{
	/* The same day and the next first (cheap, and usually enough); the
	 * rest of the week only when they hold fewer than max windows. */
	size_t n = 0;
	for(int pass = 0; pass < 2 && n < max; pass++) {
		/* The nearest visitors are where alternatives come from: looking
		 * at all of them would make every 409 cost a whole offer. */
		struct otd_slot_query q = {.address_id = address_id,
		                           .visit_type_id = visit_type_id,
		                           .max_visitors = 24};
		planner_local_date(app->planner, start + (pass ? 2 : 0) * 86400, q.from);
		planner_local_date(app->planner, start + (pass ? 6 : 1) * 86400, q.to);
		struct otd_slot_result r;
		if(app_slots(app, &q, &r, NULL) != OTD_OK)
			break;
		nearest_of(&r, start, out, &n, max);
		otd_slot_result_cleanup(&r);
	}
	for(size_t a = 1; a < n; a++) { /* in time order */
		struct otd_offer_window x = out[a];
		size_t b = a;
		while(b > 0 && out[b - 1].start > x.start) {
			out[b] = out[b - 1];
			b--;
		}
		out[b] = x;
	}
	return n;
}

enum otd_status app_holds_expire(struct otd_app *app, struct otd_error *err);

/* ---- messages ------------------------------------------------------------- */

struct message_facts {
	const struct otd_appointment *a;
	const struct otd_customer *customer;
	const struct otd_address *address;
	const char *visit_type;
	const char *visitor_first_name, *visitor_role;
	int64_t old_start, old_end, offer_until;
	bool by_customer;
	const char *reason;
	const char *event; /* unique per appointment and promise version: "booked" */
	/* Apologies: the new expected arrival (0: unknown), why, the windows
	 * held for the customer. */
	int64_t expected_early, expected_late;
	const char *reason_text;
	size_t n_offers;
	const struct otd_hold *offers;
	const char *disruption_note;
	const char *personal_note;
	const char *compensation, *pay_by;
};

static void address_line(const struct otd_address *a, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s%s, %s", a->line1, a->line2[0] ? ", " : "", a->line2,
	         a->town[0] ? ", " : "", a->town, a->postcode);
}

/* The address of the customer's page behind link token. */
static void link_url(const struct otd_app *app, const char *token, char *url, size_t size)
{
	snprintf(url, size, "%s/a/%s", app->base_url, token);
}

/* Stores link token (made by secret) for the appointment and writes its
 * text into url (when given). */
static enum otd_status store_link(struct otd_app *app, struct otd_conn *tx,
                                  const struct otd_appointment *a, int64_t now, const char *token,
                                  char *url, size_t url_size, struct otd_error *err)
{
	unsigned char hash[32];
	secret_hash(token, hash);
	int64_t expires = a->window_end + (int64_t)app->cfg->booking.link_days * 86400;
	enum otd_status st = store_link_insert(tx, a->id, hash, now, expires, err);
	if(url)
		link_url(app, token, url, url_size);
	return st;
}

/* Mints a link for the appointment and writes its text into url. */
static enum otd_status mint_link(struct otd_app *app, struct otd_conn *tx,
                                 const struct otd_appointment *a, int64_t now, char *token,
                                 char *url, size_t url_size, struct otd_error *err)
{
	secret(16, token, OTD_LINK_TOKEN_LEN + 1);
	return store_link(app, tx, a, now, token, url, url_size, err);
}

/* Minutes after midnight of "HH:MM", or -1 for "". */
static int clock_minutes(const char *s)
{
	if(!s || strlen(s) != 5)
		return -1;
	return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

/* When a message may leave: at once, or when the quiet hours end. Same-day
 * changes are never held back: the live messages (an apology, an update,
 * on the way...) and any message about a visit (its new or old window)
 * starting within three hours of the quiet hours' end. Neither are the
 * answers to what the customer just did (booked, moved or cancelled it,
 * asked for a new link). Reminders and feedback requests wait. */
static int64_t quiet_due(const struct otd_app *app, enum otd_message_kind kind,
                         const struct otd_appointment *a, const struct message_facts *f,
                         int64_t now)
{
	int qs = clock_minutes(app->cfg->messages.quiet_start);
	int qe = clock_minutes(app->cfg->messages.quiet_end);
	if(qs < 0 || qe < 0 || qs == qe)
		return now;
	switch(kind) {
	case OTD_MSG_AT_RISK:
	case OTD_MSG_UPDATE:
	case OTD_MSG_ON_THE_WAY:
	case OTD_MSG_BACK_ON_TIME:
	case OTD_MSG_CANNOT_ATTEND:
	case OTD_MSG_DISRUPTION:
	/* An offer held for minutes cannot wait for the morning. */
	case OTD_MSG_WAITLIST_OFFER:
	/* What the customer just did is answered at once. */
	case OTD_MSG_BOOKED:
	case OTD_MSG_NEW_LINK: return now;
	case OTD_MSG_RESCHEDULED:
	case OTD_MSG_CANCELLED:
		if(f->by_customer)
			return now;
		break;
	default: break;
	}
	int64_t release = otd_quiet_release(app->tz, now, qs, qe);
	if(release == now || kind == OTD_MSG_REMINDER || kind == OTD_MSG_FEEDBACK)
		return release; /* not a change: it can wait for the morning */
	int64_t soonest = a->window_start;
	if(f->old_start && f->old_start < soonest)
		soonest = f->old_start;
	return soonest < release + 3 * 3600 ? now : release;
}

/* One message as the outbox keeps it. */
struct rendered {
	const char *template; /* static: "booking_confirmation", ... */
	char *payload;        /* heap: the JSON the delivery worker sends */
};

/* Renders the message of kind for one channel (0: email, with the calendar
 * invite when ics_method >= 0; 1: SMS) from facts f, with the link url.
 * Pure: reads the configuration and the facts, touches no store, so it
 * may run before the write job (see struct message_memo). On success
 * out->payload is the caller's to free. */
static enum otd_status render_message(struct otd_app *app, enum otd_message_kind kind,
                                      int ics_method, const struct message_facts *f, int channel,
                                      int64_t now, const char *url, struct rendered *out,
                                      struct otd_error *err)
{
	const struct otd_appointment *a = f->a;
	const struct otd_customer *cu = f->customer;
	char addr[700];
	address_line(f->address, addr, sizeof(addr));
	char privacy[512];
	snprintf(privacy, sizeof(privacy), "%s/privacy", app->base_url);
	struct otd_message_context ctx = {
	    .tz = app->tz,
	    .organisation = app->cfg->organisation,
	    .signature = app->cfg->messages.signature,
	    .phone = app->cfg->messages.phone,
	    .customer_name = cu->name,
	    .visit_type = f->visit_type,
	    .visitor_first_name = f->visitor_first_name,
	    .visitor_role = f->visitor_role,
	    .address = addr,
	    .start = a->window_start,
	    .end = a->window_end,
	    .old_start = f->old_start,
	    .old_end = f->old_end,
	    .offer_until = f->offer_until,
	    .by_customer = f->by_customer,
	    .reason = f->reason,
	    .link = url,
	    .privacy = privacy,
	    .set = app->messages,
	    .expected_early = f->expected_early,
	    .expected_late = f->expected_late,
	    .reason_text = f->reason_text,
	    .disruption_note = f->disruption_note,
	    .note = f->personal_note,
	    .compensation = f->compensation,
	    .pay_by = f->pay_by,
	    .replies_enabled =
	        app->cfg->delivery.kannel_mo_secret[0] || app->cfg->delivery.twilio_token[0],
	};
	for(size_t k = 0; k < f->n_offers && k < 2; k++) {
		ctx.offers[k].start = f->offers[k].window_start;
		ctx.offers[k].end = f->offers[k].window_end;
		ctx.n_offers = k + 1;
		if(!ctx.offer_until || f->offers[k].expires_at < ctx.offer_until)
			ctx.offer_until = f->offers[k].expires_at;
	}
	struct otd_message m;
	otd_message_render(kind, &ctx, &m);
	enum otd_status st = OTD_OK;
	json_t *payload;
	if(channel == 0) {
		payload = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "to", cu->email, "to_name",
		                    cu->name, "from", app->cfg->messages.email_from, "subject",
		                    m.subject, "text", m.text, "html", m.html);
		if(ics_method >= 0) {
			char uid[64], summary[420];
			snprintf(uid, sizeof(uid), "%s@onthedot", a->reference);
			snprintf(summary, sizeof(summary), "%s with %s", f->visit_type,
			         f->visitor_first_name);
			struct otd_ics_event ev = {.uid = uid,
			                           .sequence = a->promise_version,
			                           .dtstamp = now,
			                           .start = a->window_start,
			                           .end = a->window_end,
			                           .summary = summary,
			                           .location = addr,
			                           .description = m.text,
			                           .url = kind != OTD_MSG_CANCELLED ? url : NULL,
			                           .organizer_name = app->cfg->organisation,
			                           .organizer_email = app->cfg->messages.email_from,
			                           .attendee_name = cu->name,
			                           .attendee_email = cu->email};
			char *ics = NULL;
			st = otd_ics_render(&ev, (enum otd_ics_method)ics_method, app->tz,
			                    app->vtimezone, &ics, err);
			if(st == OTD_OK) {
				json_object_set_new(payload, "ics", json_string(ics));
				json_object_set_new(payload, "ics_method",
				                    json_string(otd_ics_method_name(ics_method)));
			}
			free(ics);
		}
	} else {
		payload = json_pack("{s:s,s:s,s:i,s:b}", "to", cu->phone, "text", m.sms, "segments",
		                    m.sms_segments, "gsm7", m.sms_gsm7);
	}
	if(kind != OTD_MSG_CANCELLED)
		json_object_set_new(payload, "link", json_string(url));
	out->template = m.template;
	out->payload = st == OTD_OK ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(payload);
	otd_message_cleanup(&m);
	return st;
}

/* A booking's confirmation rendered before its write job, off the writer's
 * thread: the writer is the one thread every booking waits for, and
 * rendering (templates, the calendar invite) was a quarter of its time.
 * The write job takes it only when the facts it would render from are the
 * same (memo_fits); otherwise it renders them itself, as without a memo. */
struct message_memo {
	bool ready;
	int64_t now;
	struct otd_appointment_view facts;     /* as the booking is expected to be */
	char token[2][OTD_LINK_TOKEN_LEN + 1]; /* each channel's link */
	struct rendered msg[2];                /* payload NULL: not rendered */
};

static void memo_cleanup(struct message_memo *m)
{
	otd_appointment_view_cleanup(&m->facts);
	for(int c = 0; c < 2; c++)
		free(m->msg[c].payload);
	memset(m, 0, sizeof(*m));
}

static bool same_text(const char *x, const char *y)
{
	return strcmp(x ? x : "", y ? y : "") == 0;
}

/* Whether the messages of memo were rendered from exactly what v says:
 * every field of the view that render_message reads for a confirmation. */
static bool memo_fits(const struct message_memo *m, const struct otd_appointment_view *v,
                      int64_t now)
{
	const struct otd_appointment_view *p = &m->facts;
	return m->ready && m->now == now && strcmp(p->a.reference, v->a.reference) == 0 &&
	       p->a.window_start == v->a.window_start && p->a.window_end == v->a.window_end &&
	       p->a.promise_version == v->a.promise_version &&
	       p->a.consent_sms == v->a.consent_sms && p->a.consent_email == v->a.consent_email &&
	       same_text(p->customer.name, v->customer.name) &&
	       strcmp(p->customer.phone, v->customer.phone) == 0 &&
	       strcmp(p->customer.email, v->customer.email) == 0 &&
	       same_text(p->address.line1, v->address.line1) &&
	       same_text(p->address.line2, v->address.line2) &&
	       same_text(p->address.town, v->address.town) &&
	       strcmp(p->address.postcode, v->address.postcode) == 0 &&
	       strcmp(p->visit_type, v->visit_type) == 0 &&
	       strcmp(p->visitor_first_name, v->visitor_first_name) == 0 &&
	       strcmp(p->visitor_role, v->visitor_role) == 0 && v->n_offers == 0;
}

/* Writes the messages of one event: an email (with the calendar invite
 * when method is given) and an SMS, each to a channel the customer gave
 * and agreed to, each with its own link. A memo (confirmations only, NULL
 * otherwise) gives messages already rendered from these very facts. */
#define TO_CONSENTED 0
#define TO_EMAIL 1
#define TO_SMS 2

static enum otd_status queue_messages(struct otd_app *app, struct otd_conn *tx,
                                      enum otd_message_kind kind, int ics_method,
                                      const struct message_facts *f, int to, int64_t now,
                                      const struct message_memo *memo, struct otd_error *err)
{
	const struct otd_appointment *a = f->a;
	const struct otd_customer *cu = f->customer;
	bool email = cu->email[0] && (to ? (to & TO_EMAIL) : a->consent_email);
	bool sms = cu->phone[0] && (to ? (to & TO_SMS) : a->consent_sms);
	for(int channel = 0; channel < 2; channel++) {
		if((channel == 0 && !email) || (channel == 1 && !sms))
			continue;
		const struct rendered *pre =
		    memo && memo->msg[channel].payload ? &memo->msg[channel] : NULL;
		char token[OTD_LINK_TOKEN_LEN + 1], url[512];
		enum otd_status st = OTD_OK;
		if(kind == OTD_MSG_CANCELLED)
			snprintf(url, sizeof(url), "%s/book", app->base_url);
		else if(pre)
			st = store_link(app, tx, a, now, memo->token[channel], url, sizeof(url),
			                err);
		else
			st = mint_link(app, tx, a, now, token, url, sizeof(url), err);
		if(st)
			return st;
		struct rendered own = {0};
		if(!pre &&
		   (st = render_message(app, kind, ics_method, f, channel, now, url, &own, err)))
			return st;
		char key[160], event_key[128];
		snprintf(event_key, sizeof(event_key), "appt:%lld:v%d:%s", (long long)a->id,
		         a->promise_version, f->event);
		snprintf(key, sizeof(key), "%s:%s", event_key, channel == 0 ? "email" : "sms");
		struct otd_outbox_row row = {.idem_key = key,
		                             .event_key = event_key,
		                             .recipient = channel == 0 ? cu->email : cu->phone,
		                             .appointment_id = a->id,
		                             .customer_id = cu->id,
		                             .channel = app->cfg->messages.record_only
		                                            ? "record"
		                                            : (channel == 0 ? "email" : "sms"),
		                             .template = pre ? pre->template : own.template,
		                             .payload = pre ? pre->payload : own.payload,
		                             .due_at = quiet_due(app, kind, a, f, now)};
		st = store_outbox_insert(tx, &row, now, err);
		free(own.payload);
		if(st)
			return st;
	}
	return OTD_OK;
}

/* ---- reading an appointment -------------------------------------------------- */

static void view_names(struct otd_conn *c, const struct plan_catalog *cat,
                       struct otd_appointment_view *v);

static enum otd_status load_view(struct otd_app *app, struct otd_conn *c,
                                 const struct plan_catalog *cat, int64_t id,
                                 struct otd_appointment_view *v, struct otd_error *err)
{
	memset(v, 0, sizeof(*v));
	enum otd_status st = store_appointment_get(c, id, &v->a, err);
	if(st == OTD_OK)
		st = store_customer_get(c, v->a.customer_id, &v->customer, err);
	if(st == OTD_OK)
		st = store_address_get(c, v->a.address_id, &v->address, err);
	if(st == OTD_OK)
		st = store_waitlist_state(c, id, v->waitlist, sizeof(v->waitlist), err);
	if(st == OTD_OK)
		st = store_hold_offers(c, id, app ? otd_clock_now(app->clock) : 0, v->offers, 3,
		                       &v->n_offers, err);
	/* An offer that lapsed leaves the customer waiting (before any ticker
	 * or freed place has tidied the row). */
	if(st == OTD_OK && strcmp(v->waitlist, "offered") == 0 && v->n_offers == 0)
		snprintf(v->waitlist, sizeof(v->waitlist), "waiting");
	if(st) {
		otd_appointment_view_cleanup(v);
		return st;
	}
	view_names(c, cat, v);
	return OTD_OK;
}

/* Fills the names of v's visit type and visitor (from cat when it has the
 * visitor, else from the store); a name that cannot be read stays "". */
static void view_names(struct otd_conn *c, const struct plan_catalog *cat,
                       struct otd_appointment_view *v)
{
	struct otd_visit_type t;
	if(store_visit_type_get(c, v->a.visit_type_id, &t, NULL) == OTD_OK) {
		snprintf(v->visit_type, sizeof(v->visit_type), "%s", t.name);
		snprintf(v->visit_type_code, sizeof(v->visit_type_code), "%s", t.code);
		otd_visit_type_cleanup(&t);
	}
	const struct plan_visitor *pv = cat ? plan_catalog_visitor(cat, v->a.visitor_id) : NULL;
	if(pv) {
		snprintf(v->visitor_first_name, sizeof(v->visitor_first_name), "%s", pv->first_name);
		snprintf(v->visitor_role, sizeof(v->visitor_role), "%s", pv->role_title);
	} else if(v->a.visitor_id) {
		struct otd_visitor vis;
		if(store_visitor_get(c, v->a.visitor_id, &vis, NULL) == OTD_OK) {
			size_t n = strcspn(vis.name, " ");
			snprintf(v->visitor_first_name, sizeof(v->visitor_first_name), "%.*s", (int)n,
			         vis.name);
			snprintf(v->visitor_role, sizeof(v->visitor_role), "%s", vis.role_title);
			otd_visitor_cleanup(&vis);
		}
	}
}

struct view_job {
	struct otd_app *app;
	int64_t id;
	struct otd_appointment_view *out;
};

static enum otd_status view_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct view_job *j = arg;
	struct plan_catalog *cat = NULL;
	enum otd_status st =
	    planner_catalog(j->app->planner, c, otd_clock_now(j->app->clock), &cat, err);
	if(st)
		return st;
	st = load_view(j->app, c, cat, j->id, j->out, err);
	planner_catalog_release(j->app->planner, cat);
	return st;
}

enum otd_status app_appointment_view(struct otd_app *app, int64_t appointment_id,
                                     struct otd_appointment_view *out, struct otd_error *err)
{
	struct view_job j = {app, appointment_id, out};
	return store_read(app->store, view_job, &j, err);
}

static void facts_of(const struct otd_appointment_view *v, struct message_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->a = &v->a;
	f->customer = &v->customer;
	f->address = &v->address;
	f->visit_type = v->visit_type;
	f->visitor_first_name = v->visitor_first_name;
	f->visitor_role = v->visitor_role;
}

static void event_detail(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void event_detail(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/* ---- booking ---------------------------------------------------------------- */

struct book_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	const struct otd_booking_request *req;
	struct otd_customer customer;
	struct otd_appointment_view *out;
	int64_t now;
	struct plan_catalog *cat;
	struct message_memo *memo; /* the confirmation rendered beforehand, or NULL */
	char local_date[11];
	int64_t visitor_id;
	int64_t conflict_address, conflict_type, conflict_start;
	struct day_put put; /* the day after the booking, for the cache */
};

static enum otd_status replay_booking(struct book_job *j, struct otd_conn *tx, int64_t id,
                                      struct otd_error *err)
{
	enum otd_status st = load_view(j->app, tx, j->cat, id, j->out, err);
	if(st)
		return st;
	j->out->replayed = true;
	/* A replay answers with a new link: the first one may be lost with the
	 * first answer (DESIGN.md, Security model). */
	return mint_link(j->app, tx, &j->out->a, j->now, j->out->link_token, NULL, 0, err);
}

/* The caps that keep the booking form from pumping text messages (DESIGN.md,
 * Abuse): to one number in a day, to numbers sharing a prefix in an hour
 * (a range of premium or test numbers). The client's own cap is the HTTP
 * layer's limiter. */
static enum otd_status sms_caps(struct otd_app *app, struct otd_conn *tx, const char *phone,
                                int64_t now, struct otd_error *err)
{
	const struct otd_config *cfg = app->cfg;
	int64_t n = 0;
	enum otd_status st = store_sms_sent_to(tx, phone, false, now - 86400, &n, err);
	if(st)
		return st;
	if(n >= cfg->booking.sms_number_per_day) {
		otd_error_set(err, OTD_ERATE, "too_many_texts", "phone",
		              "This number has had %lld text messages from us today; give an email "
		              "address instead, or try again tomorrow.",
		              (long long)n);
		err->retry_after = 3600;
		return OTD_ERATE;
	}
	size_t keep =
	    1 + strlen(cfg->messages.country_code) + (size_t)cfg->booking.sms_prefix_digits;
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(keep < 32 ? keep : 32), phone);
	if((st = store_sms_sent_to(tx, prefix, true, now - 3600, &n, err)))
		return st;
	if(n >= cfg->booking.sms_prefix_per_hour) {
		otd_log(OTD_LOG_WARN, "sms_prefix_cap", "{s:I}", "count", (json_int_t)n);
		otd_error_set(err, OTD_ERATE, "too_many_texts", "phone",
		              "We are sending too many text messages to numbers like this one just "
		              "now; give an email address instead, or try again in an hour.");
		err->retry_after = 3600;
		return OTD_ERATE;
	}
	return OTD_OK;
}

static enum otd_status book_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct book_job *j = arg;
	struct otd_app *app = j->app;
	const struct otd_booking_request *req = j->req;
	enum otd_status st;
	otd_appointment_view_cleanup(j->out); /* a job run again: see reschedule_job */
	if(req->idem) {
		unsigned char hash[32];
		char entity[32];
		int64_t id;
		st = store_idem_get(tx, req->idem->scope, req->idem->key, hash, entity, sizeof(entity),
		                    &id, err);
		if(st == OTD_OK) {
			if(memcmp(hash, req->idem->hash, 32) != 0 || strcmp(entity, "appointment") != 0)
				return otd_error_set(err, OTD_ESTATE, "idempotency_key_reused",
				                     "Idempotency-Key",
				                     "This Idempotency-Key was already used for a different "
				                     "request; use a new key for a new booking.");
			return replay_booking(j, tx, id, err);
		}
		if(st != OTD_ENOTFOUND)
			return st;
		otd_error_clear(err);
	}
	/* Customers booking for themselves; staff booking for a caller are not
	 * the abuse the caps are for. */
	bool public = !j->actor || j->actor->kind == OTD_PRINCIPAL_NONE;
	if(public && req->consent_sms && (st = sms_caps(app, tx, j->customer.phone, j->now, err)))
		return st;
	unsigned char hold_hash[32];
	secret_hash(req->hold_token, hold_hash);
	struct otd_hold hold;
	st = store_hold_by_hash(tx, hold_hash, j->now, &hold, err);
	if(st == OTD_ENOTFOUND) {
		/* Expired (or unknown): where it was, for the nearest alternatives. */
		struct otd_hold old;
		if(store_hold_by_hash(tx, hold_hash, INT64_MIN, &old, NULL) == OTD_OK &&
		   !old.for_appointment) {
			j->conflict_address = old.address_id;
			j->conflict_type = old.visit_type_id;
			j->conflict_start = old.window_start;
		}
		err->status = OTD_ECONFLICT;
		return OTD_ECONFLICT;
	}
	if(st)
		return st;
	if(hold.for_appointment)
		return otd_error_set(err, OTD_ESTATE, "hold_for_reschedule", "hold",
		                     "This window is held to move an existing booking; use that "
		                     "booking's link to move it.");
	const struct plan_visitor *v = plan_catalog_visitor(j->cat, hold.visitor_id);
	const struct plan_visit_type *t = plan_catalog_type(j->cat, hold.visit_type_id);
	if(!v || !t)
		return otd_error_set(err, OTD_ECONFLICT, "window_taken", NULL,
		                     "That window can no longer be kept; here are the nearest others.");
	/* The contact: the only personal data. */
	if((st = store_customer_upsert(tx, &j->customer, j->now, err)))
		return st;
	struct otd_appointment existing;
	st = store_appointment_open_for(tx, j->customer.id, hold.visit_type_id, j->now, &existing,
	                                err);
	if(st == OTD_OK) {
		char when[96];
		otd_window_text(app->tz, existing.window_start, existing.window_end, false, when,
		                sizeof(when));
		return otd_error_set(err, OTD_ECONFLICT, "already_booked", NULL,
		                     "You already have this visit booked: %s, %s. Use the link we sent "
		                     "you to change it, or ask for a new link.",
		                     existing.reference, when);
	}
	if(st != OTD_ENOTFOUND)
		return st;
	otd_error_clear(err);
	/* Feasibility from the database, the hold's own place left out. */
	store_lock_scope(tx, v->id, hold.local_date);
	struct otd_address addr;
	if((st = store_address_get(tx, hold.address_id, &addr, err)))
		return st;
	struct otd_stop s;
	plan_visit_stop(j->cat, t, v->id, addr.lat, addr.lon, hold.window_start, hold.window_end,
	                OTD_STOP_VISIT, 0, &s);
	otd_address_cleanup(&addr);
	struct plan_day day;
	bool placed;
	long ri = -1, pos = -1;
	st = place_exact(app, tx, j->cat, v, hold.local_date, j->now, 0, hold.id, &s, &placed, &day,
	                 &ri, &pos, err);
	if(st == OTD_OK && !placed)
		st = otd_error_set(err, OTD_ECONFLICT, "window_taken", NULL,
		                   "That window can no longer be kept; here are the nearest others.");
	if(st == OTD_ECONFLICT) {
		/* Where the customer wanted to be, for the nearest alternatives. */
		j->conflict_address = hold.address_id;
		j->conflict_type = hold.visit_type_id;
		j->conflict_start = hold.window_start;
	}
	struct otd_appointment a = {0};
	if(st == OTD_OK) {
		a.customer_id = j->customer.id;
		a.address_id = hold.address_id;
		a.visit_type_id = hold.visit_type_id;
		a.visitor_id = v->id;
		memcpy(a.local_date, hold.local_date, sizeof(a.local_date));
		a.window_start = hold.window_start;
		a.window_end = hold.window_end;
		a.consent_sms = req->consent_sms;
		a.consent_email = req->consent_email;
		snprintf(a.booked_by, sizeof(a.booked_by), "%s",
		         is_staff(j->actor) ? "dispatcher" : "customer");
		for(int tries = 0; tries < 8; tries++) {
			if(tries == 0 && j->memo && j->memo->ready) {
				memcpy(a.reference, j->memo->facts.a.reference,
				       sizeof(a.reference));
			} else {
				unsigned char rnd[6];
				randombytes_buf(rnd, sizeof(rnd));
				otd_reference_make(rnd, a.reference);
			}
			st = store_appointment_insert(tx, &a, j->now, err);
			if(st != OTD_ECONFLICT)
				break;
			otd_error_clear(err);
		}
	}
	struct otd_route_item *order = NULL;
	size_t n_order = 0;
	if(st == OTD_OK)
		st = write_order(tx, &day, &day.routes[ri], pos, a.id, &order, &n_order, err);
	struct otd_route_item added = {.kind = OTD_ITEM_VISIT,
	                               .id = a.id,
	                               .lat = s.lat,
	                               .lon = s.lon,
	                               .window_start = a.window_start,
	                               .window_end = a.window_end,
	                               .median_min = t->prior_median_min,
	                               .spread = t->prior_spread,
	                               .visit_type_id = a.visit_type_id,
	                               .route_position = -1};
	if(st == OTD_OK)
		put_day_after_commit(tx, &j->put, app, j->cat, v, &day, &added, order, n_order,
		                     j->now);
	free(order);
	plan_day_cleanup(&day);
	if(st == OTD_OK)
		st = store_hold_delete(tx, hold.id, err);
	if(st == OTD_OK)
		st = load_view(app, tx, j->cat, a.id, j->out, err);
	if(st == OTD_OK)
		st = mint_link(app, tx, &a, j->now, j->out->link_token, NULL, 0, err);
	if(st == OTD_OK) {
		struct message_facts f;
		facts_of(j->out, &f);
		f.event = "booked";
		bool fits = j->memo && memo_fits(j->memo, j->out, j->now);
		st = queue_messages(app, tx, OTD_MSG_BOOKED, OTD_ICS_REQUEST, &f, TO_CONSENTED,
		                    j->now, fits ? j->memo : NULL, err);
	}
	if(st == OTD_OK) {
		char detail[200];
		event_detail(detail, sizeof(detail),
		             "{\"promise_version\":1,\"window_start\":%lld,\"window_end\":%lld,"
		             "\"visitor_id\":%lld}",
		             (long long)a.window_start, (long long)a.window_end, (long long)a.visitor_id);
		st = store_appointment_event(tx, a.id, "booked", j->now, actor_kind(j->actor),
		                             actor_id(j->actor), detail, err);
	}
	if(st == OTD_OK && req->idem)
		st = store_idem_put(tx, req->idem->scope, req->idem->key, req->idem->hash, "appointment",
		                    a.id, j->now, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "appointment.book", "appointment", a.id,
		               json_pack("{s:s,s:I}", "reference", a.reference, "visitor_id",
		                         (json_int_t)a.visitor_id),
		               err);
	if(st == OTD_OK) {
		j->visitor_id = a.visitor_id;
		memcpy(j->local_date, a.local_date, sizeof(j->local_date));
	} else {
		otd_appointment_view_cleanup(j->out);
	}
	return st;
}

static enum otd_status catalog_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	void **pair = arg;
	struct otd_app *app = pair[0];
	return planner_catalog(app->planner, c, otd_clock_now(app->clock), pair[1], err);
}

static enum otd_status take_catalog(struct otd_app *app, struct plan_catalog **cat,
                                    struct otd_error *err)
{
	void *pair[2] = {app, cat};
	return store_read(app->store, catalog_job, pair, err);
}

/* Read phase of a booking, for its memo: the hold as it stands, and what
 * the appointment made from it will say. */
static enum otd_status memo_read_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct book_job *j = arg;
	struct otd_appointment_view *v = &j->memo->facts;
	otd_appointment_view_cleanup(v); /* a read run again starts afresh */
	unsigned char hash[32];
	secret_hash(j->req->hold_token, hash);
	struct otd_hold hold;
	enum otd_status st = store_hold_by_hash(c, hash, j->now, &hold, err);
	if(st)
		return st;
	if(hold.for_appointment)
		return OTD_ENOTFOUND; /* not a booking's hold: the write job says why */
	v->a.visitor_id = hold.visitor_id;
	v->a.visit_type_id = hold.visit_type_id;
	v->a.address_id = hold.address_id;
	memcpy(v->a.local_date, hold.local_date, sizeof(v->a.local_date));
	v->a.window_start = hold.window_start;
	v->a.window_end = hold.window_end;
	v->a.promise_version = 1;
	v->a.consent_sms = j->req->consent_sms;
	v->a.consent_email = j->req->consent_email;
	if((st = store_address_get(c, hold.address_id, &v->address, err)))
		return st;
	view_names(c, j->cat, v);
	return OTD_OK;
}

/* Renders the confirmation of the booking j is about to make into m, off
 * the writer's thread. Best effort: anything unexpected (the hold gone, a
 * render failing) leaves m not ready and the write job renders as ever. */
static void memo_prepare(struct otd_app *app, struct book_job *j, struct message_memo *m)
{
	memset(m, 0, sizeof(*m));
	j->memo = m;
	struct otd_error e;
	otd_error_clear(&e);
	bool ok = store_read(app->store, memo_read_job, j, &e) == OTD_OK;
	j->memo = NULL;
	if(!ok) {
		memo_cleanup(m);
		return;
	}
	struct otd_appointment_view *v = &m->facts;
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof(rnd));
	otd_reference_make(rnd, v->a.reference);
	v->customer.name = xstrdup(j->customer.name);
	memcpy(v->customer.phone, j->customer.phone, sizeof(v->customer.phone));
	memcpy(v->customer.email, j->customer.email, sizeof(v->customer.email));
	m->now = j->now;
	struct message_facts f;
	facts_of(v, &f);
	f.event = "booked";
	for(int channel = 0; channel < 2; channel++) {
		bool wanted = channel == 0 ? v->customer.email[0] && v->a.consent_email
		                           : v->customer.phone[0] && v->a.consent_sms;
		if(!wanted)
			continue;
		char url[512];
		secret(16, m->token[channel], sizeof(m->token[channel]));
		link_url(app, m->token[channel], url, sizeof(url));
		if(render_message(app, OTD_MSG_BOOKED, OTD_ICS_REQUEST, &f, channel, m->now, url,
		                  &m->msg[channel], &e) != OTD_OK) {
			memo_cleanup(m);
			return;
		}
	}
	m->ready = true;
}

enum otd_status app_book(struct otd_app *app, const struct otd_principal *actor,
                         const struct otd_booking_request *req, struct otd_appointment_view *out,
                         struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct book_job j = {.app = app, .actor = actor, .req = req, .out = out,
	                     .now = otd_clock_now(app->clock)};
	enum otd_status st;
	/* Check and normalise what the customer typed before touching the store. */
	if((st = otd_text_validate(req->name ? req->name : "", 1, 200, false, "name", err)))
		return st;
	if((st = otd_text_validate(req->access_notes ? req->access_notes : "", 0, 2000, true,
	                           "access_notes", err)))
		return st;
	if(req->phone && req->phone[0] &&
	   (st = otd_phone_normalise(req->phone, app->cfg->messages.country_code, j.customer.phone,
	                             sizeof(j.customer.phone), "phone", err)))
		return st;
	if(req->email && req->email[0] &&
	   (st = otd_email_normalise(req->email, j.customer.email, sizeof(j.customer.email), "email",
	                             err)))
		return st;
	if(!j.customer.phone[0] && !j.customer.email[0])
		return otd_error_set(err, OTD_EINVAL, "missing_contact", "phone",
		                     "Give a phone number or an email address so we can reach you "
		                     "about your visit.");
	if(req->consent_sms && !j.customer.phone[0])
		return otd_error_set(err, OTD_EINVAL, "missing_contact", "phone",
		                     "Give a phone number to be told by text message.");
	if(req->consent_email && !j.customer.email[0])
		return otd_error_set(err, OTD_EINVAL, "missing_contact", "email",
		                     "Give an email address to be told by email.");
	if(j.customer.phone[0] && strncmp(j.customer.phone, "+", 1) == 0) {
		/* Only configured country codes: the booking form must not pump SMS
		 * abroad (DESIGN.md, Abuse). */
		const char *cc = app->cfg->messages.country_code;
		if(strncmp(j.customer.phone + 1, cc, strlen(cc)) != 0)
			return otd_error_set(err, OTD_EINVAL, "unsupported_country", "phone",
			                     "We can only send text messages to +%s numbers.", cc);
	}
	j.customer.name = (char *)req->name;
	j.customer.access_notes = (char *)(req->access_notes ? req->access_notes : "");
	if((st = take_catalog(app, &j.cat, err)))
		return st;
	struct message_memo memo;
	memo_prepare(app, &j, &memo);
	j.memo = &memo;
	st = store_write(app->store, book_job, &j, err);
	memo_cleanup(&memo);
	if(st == OTD_OK && !out->replayed && !j.put.done)
		planner_day_invalidate(app->planner, j.visitor_id, j.local_date);
	plan_day_free(j.put.day);
	if(st == OTD_OK && !out->replayed)
		publish_appointment(app, &out->a, out->a.visitor_id, "booked");
	if(st == OTD_ECONFLICT) {
		out->a.address_id = j.conflict_address;
		out->a.visit_type_id = j.conflict_type;
		out->a.window_start = j.conflict_start;
	}
	planner_catalog_release(app->planner, j.cat);
	return st;
}

/* ---- links ---------------------------------------------------------------- */

struct link_job {
	const char *token;
	int64_t now;
	int64_t id;
};

static enum otd_status link_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct link_job *j = arg;
	unsigned char hash[32];
	secret_hash(j->token, hash);
	return store_link_lookup(c, hash, j->now, &j->id, err);
}

enum otd_status app_link_resolve(struct otd_app *app, const char *token, int64_t *appointment_id,
                                 struct otd_error *err)
{
	size_t n = strlen(token);
	bool ok = n == OTD_LINK_TOKEN_LEN;
	for(size_t i = 0; ok && i < n; i++)
		ok = (token[i] >= 'A' && token[i] <= 'Z') || (token[i] >= 'a' && token[i] <= 'z') ||
		     (token[i] >= '0' && token[i] <= '9') || token[i] == '-' || token[i] == '_';
	struct link_job j = {token, otd_clock_now(app->clock), 0};
	enum otd_status st = ok ? store_read(app->store, link_job, &j, err) : OTD_ENOTFOUND;
	if(st == OTD_ENOTFOUND)
		return otd_error_set(err, OTD_ENOTFOUND, "link_not_found", NULL,
		                     "This link does not work (it may be old). Ask for a new one with "
		                     "your reference and phone number or email.");
	if(st == OTD_OK)
		*appointment_id = j.id;
	return st;
}

static enum otd_status ics_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	void **a = arg;
	struct otd_app *app = a[0];
	struct otd_appointment_view v;
	enum otd_status st = load_view(app, c, NULL, *(int64_t *)a[1], &v, err);
	if(st)
		return st;
	char uid[64], summary[420], addr[700];
	snprintf(uid, sizeof(uid), "%s@onthedot", v.a.reference);
	snprintf(summary, sizeof(summary), "%s with %s", v.visit_type, v.visitor_first_name);
	address_line(&v.address, addr, sizeof(addr));
	char desc[600];
	snprintf(desc, sizeof(desc), "%s (%s). Reference %s.", v.visit_type, v.visitor_first_name,
	         v.a.reference);
	struct otd_ics_event ev = {.uid = uid,
	                           .sequence = v.a.promise_version,
	                           .dtstamp = otd_clock_now(app->clock),
	                           .start = v.a.window_start,
	                           .end = v.a.window_end,
	                           .summary = summary,
	                           .location = addr,
	                           .description = desc};
	st = otd_ics_render(&ev, OTD_ICS_PUBLISH, app->tz, app->vtimezone, a[2], err);
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status app_appointment_ics(struct otd_app *app, int64_t appointment_id, char **out,
                                    struct otd_error *err)
{
	void *a[3] = {app, &appointment_id, out};
	return store_read(app->store, ics_job, a, err);
}

/* ---- waitlist offers ----------------------------------------------------------- */

/* Capacity at (visitor, date, [start, end)) was freed in this transaction:
 * the customer who asked longest ago for an earlier window and fits there
 * gets a held offer and a message. At most one offer per freed place. */
static enum otd_status offer_freed(struct otd_app *app, struct otd_conn *tx,
                                   const struct plan_catalog *cat, int64_t visitor_id,
                                   const char *date, int64_t start, int64_t now,
                                   struct otd_error *err, int64_t *offered_visitor,
                                   char *offered_date)
{
	const struct plan_visitor *v = plan_catalog_visitor(cat, visitor_id);
	if(!v)
		return OTD_OK;
	/* Offers that lapsed put their customers back in the queue first (the
	 * ticker may not have passed yet). */
	int64_t lapsed = 0;
	enum otd_status st = store_holds_expire(tx, now, HOLD_KEEP_S, &lapsed, err);
	if(st)
		return st;
	int64_t *ids = NULL;
	size_t n = 0;
	st = store_waitlist_waiting(tx, &ids, &n, err);
	for(size_t i = 0; st == OTD_OK && i < n; i++) {
		struct otd_appointment_view w;
		if(load_view(app, tx, cat, ids[i], &w, err) != OTD_OK) {
			otd_error_clear(err);
			continue;
		}
		const struct plan_visit_type *t = plan_catalog_type(cat, w.a.visit_type_id);
		bool fits = t && strcmp(w.a.status, "booked") == 0 && w.a.window_start > start &&
		            start > now + (int64_t)app->cfg->booking.lead_minutes * 60 &&
		            plan_visitor_has_skill(v, t->skill);
		if(!fits) {
			otd_appointment_view_cleanup(&w);
			continue;
		}
		int64_t end = start + (int64_t)t->window_min * 60;
		struct otd_stop s;
		plan_visit_stop(cat, t, v->id, w.address.lat, w.address.lon, start, end, OTD_STOP_HOLD, 0,
		                &s);
		struct plan_day day;
		bool placed;
		long ri = -1, pos = -1;
		st = place_exact(app, tx, cat, v, date, now, w.a.id, 0, &s, &placed, &day, &ri, &pos,
		                 err);
		if(st == OTD_OK && placed) {
			struct otd_hold h = {.visitor_id = v->id,
			                     .visit_type_id = t->id,
			                     .address_id = w.a.address_id,
			                     .window_start = start,
			                     .window_end = end,
			                     .for_appointment = w.a.id,
			                     .created_at = now,
			                     .expires_at = now + (int64_t)app->cfg->booking.offer_hold_minutes *
			                                             60};
			memcpy(h.local_date, date, sizeof(h.local_date));
			snprintf(h.client_key, sizeof(h.client_key), "waitlist");
			snprintf(h.purpose, sizeof(h.purpose), "waitlist_offer");
			char token[OTD_HOLD_TOKEN_LEN + 1];
			unsigned char hash[32];
			secret(32, token, sizeof(token));
			secret_hash(token, hash);
			st = store_hold_insert(tx, &h, hash, err);
			if(st == OTD_OK)
				st = write_order(tx, &day, &day.routes[ri], pos, h.id, NULL, NULL,
				                 err);
			if(st == OTD_OK)
				st = store_waitlist_offered(tx, w.a.id, h.id, now, err);
			if(st == OTD_OK) {
				/* The message names the offered window; the appointment keeps its own. */
				struct otd_appointment offered = w.a;
				offered.window_start = start;
				offered.window_end = end;
				struct message_facts f;
				facts_of(&w, &f);
				f.a = &offered;
				f.old_start = w.a.window_start;
				f.old_end = w.a.window_end;
				f.offer_until = h.expires_at;
				char event[96];
				/* Hold ids are reused once expired holds are deleted: the
				 * window and the time make the offer's key unique. */
				snprintf(event, sizeof(event), "waitlist_offer:%lld:%lld:%lld", (long long)h.id,
				         (long long)start, (long long)now);
				f.event = event;
				st = queue_messages(app, tx, OTD_MSG_WAITLIST_OFFER, -1, &f,
				                    TO_CONSENTED, now, NULL, err);
			}
			if(st == OTD_OK) {
				char detail[160];
				event_detail(detail, sizeof(detail),
				             "{\"hold_id\":%lld,\"window_start\":%lld,\"window_end\":%lld}",
				             (long long)h.id, (long long)start, (long long)end);
				st = store_appointment_event(tx, w.a.id, "waitlist_offer", now, "system", 0,
				                             detail, err);
			}
			if(st == OTD_OK) {
				*offered_visitor = v->id;
				snprintf(offered_date, 11, "%s", date);
			}
			plan_day_cleanup(&day);
			otd_appointment_view_cleanup(&w);
			break;
		}
		plan_day_cleanup(&day);
		otd_appointment_view_cleanup(&w);
	}
	free(ids);
	return st;
}

/* ---- apologies ----------------------------------------------------------------- */

#define APOLOGY_OFFERS 2        /* "reply 2 or 3" */
#define APOLOGY_QUANTILE 0.95   /* P(kept) of an offered window at least */
#define APOLOGY_HOLD_S 7200     /* offers are held two hours ... */
#define APOLOGY_LAPSE_S 3600    /* ... or until an hour before they start */
#define APOLOGY_LATEST_S 172800 /* no later than two days after the promise */
#define APOLOGY_CANDIDATES 48   /* the offer sees a snapshot without this transaction's holds */

/* Holds a replacement window for the at-risk appointment v, if some
 * visitor with the skill keeps it at APOLOGY_QUANTILE without endangering
 * a promise. The visitor at risk is not asked to take a window the same
 * day: the apology exists because their day is going wrong. */
static enum otd_status hold_replacement(struct otd_app *app, struct otd_conn *tx,
                                        const struct plan_catalog *cat,
                                        const struct otd_appointment_view *v,
                                        const struct otd_offer_window *w, int64_t now,
                                        struct otd_hold *out, bool *held, struct otd_error *err)
{
	*held = false;
	const struct plan_visit_type *t = plan_catalog_type(cat, v->a.visit_type_id);
	int64_t expires = now + APOLOGY_HOLD_S;
	if(w->start - APOLOGY_LAPSE_S < expires)
		expires = w->start - APOLOGY_LAPSE_S;
	if(!t || expires <= now + 300)
		return OTD_OK;
	char date[11];
	planner_local_date(app->planner, w->start, date);
	for(size_t i = 0; i < cat->n_visitors; i++) {
		const struct plan_visitor *pv = &cat->visitors[i];
		if(!plan_visitor_has_skill(pv, t->skill) ||
		   (pv->id == v->a.visitor_id && strcmp(date, v->a.local_date) == 0))
			continue;
		store_lock_scope(tx, pv->id, date);
		struct otd_stop s;
		plan_visit_stop(cat, t, pv->id, v->address.lat, v->address.lon, w->start, w->end,
		                OTD_STOP_HOLD, 0, &s);
		struct plan_day day;
		bool placed = false;
		long ri = -1, pos = -1;
		enum otd_status st =
		    place_exact_at(app, tx, cat, pv, date, now, v->a.id, 0, &s, APOLOGY_QUANTILE,
		                   &placed, &day, &ri, &pos, err);
		if(st == OTD_OK && placed) {
			memset(out, 0, sizeof(*out));
			out->visitor_id = pv->id;
			out->visit_type_id = t->id;
			out->address_id = v->a.address_id;
			memcpy(out->local_date, date, sizeof(out->local_date));
			out->window_start = w->start;
			out->window_end = w->end;
			snprintf(out->client_key, sizeof(out->client_key), "apology");
			snprintf(out->purpose, sizeof(out->purpose), "apology_offer");
			out->for_appointment = v->a.id;
			out->created_at = now;
			out->expires_at = expires;
			char token[OTD_HOLD_TOKEN_LEN + 1];
			unsigned char hash[32];
			secret(32, token, sizeof(token));
			secret_hash(token, hash);
			st = store_hold_insert(tx, out, hash, err);
			if(st == OTD_OK)
				st = write_order(tx, &day, &day.routes[ri], pos, out->id, NULL,
				                 NULL, err);
			*held = st == OTD_OK;
		}
		plan_day_cleanup(&day);
		if(st || *held)
			return st;
	}
	return OTD_OK;
}

enum otd_status booking_apology(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                                const struct booking_apology_facts *facts, int64_t now,
                                struct otd_error *err)
{
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, appointment_id, &a, err);
	if(st)
		return st;
	if(!app->cfg->messages.proactive)
		return OTD_OK; /* told nothing before the window is missed */
	if(!a.consent_email && !a.consent_sms)
		return OTD_OK; /* nothing agreed to reach them by: the dispatcher calls */
	char event_key[96];
	snprintf(event_key, sizeof(event_key), "appt:%lld:v%d:apology", (long long)a.id,
	         a.promise_version);
	int live = 0, total = 0;
	st = store_outbox_event_siblings(tx, event_key, 0, &live, &total, err);
	if(st || total > 0)
		return st; /* at most one apology per promise version */
	struct plan_catalog *cat = NULL;
	st = planner_catalog(app->planner, tx, now, &cat, err);
	if(st)
		return st;
	struct otd_appointment_view v;
	st = load_view(app, tx, cat, appointment_id, &v, err);
	if(st) {
		planner_catalog_release(app->planner, cat);
		return st;
	}
	/* Candidates from the slot offer (a read snapshot), each placed again
	 * here, in the transaction, before it is held. */
	struct otd_offer_window cand[APOLOGY_CANDIDATES];
	int64_t lead = now + (int64_t)app->cfg->booking.lead_minutes * 60;
	size_t nc = app_nearest_windows(app, v.a.address_id, v.a.visit_type_id, lead, cand,
	                                APOLOGY_CANDIDATES);
	struct otd_hold offers[APOLOGY_OFFERS];
	size_t n_offers = 0;
	for(size_t i = 0; st == OTD_OK && i < nc && n_offers < APOLOGY_OFFERS; i++) {
		const struct otd_offer_window *w = &cand[i];
		if(w->start < lead || w->start > a.window_end + APOLOGY_LATEST_S ||
		   (w->start < a.window_end && w->end > a.window_start))
			continue;
		/* Two real choices: the second does not overlap the first. */
		if(n_offers && w->start < offers[0].window_end && w->end > offers[0].window_start)
			continue;
		bool held = false;
		st = hold_replacement(app, tx, cat, &v, w, now, &offers[n_offers], &held, err);
		if(st == OTD_OK && held)
			n_offers++;
	}
	if(st == OTD_OK) {
		struct message_facts f;
		facts_of(&v, &f);
		f.event = "apology";
		f.expected_early = facts->expected_early;
		f.expected_late = facts->expected_late;
		f.reason_text = facts->reason;
		f.offers = offers;
		f.n_offers = n_offers;
		st = queue_messages(app, tx,
		                    facts->cannot_come ? OTD_MSG_CANNOT_ATTEND : OTD_MSG_AT_RISK,
		                    -1, &f, TO_CONSENTED, now, NULL, err);
	}
	if(st == OTD_OK) {
		json_t *d = json_pack("{s:I,s:I,s:s,s:[]}", "expected_early",
		                      (json_int_t)facts->expected_early, "expected_late",
		                      (json_int_t)facts->expected_late, "reason",
		                      facts->reason ? facts->reason : "", "offers");
		for(size_t i = 0; d && i < n_offers; i++)
			json_array_append_new(
			    json_object_get(d, "offers"),
			    json_pack("{s:I,s:I,s:I,s:I}", "hold_id", (json_int_t)offers[i].id,
			              "window_start", (json_int_t)offers[i].window_start,
			              "window_end", (json_int_t)offers[i].window_end, "expires_at",
			              (json_int_t)offers[i].expires_at));
		char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
		json_decref(d);
		st = text ? store_appointment_event(tx, appointment_id, "apology", now, "system", 0,
		                                    text, err)
		          : otd_error_set(err, OTD_ENOMEM, "no_memory", NULL, "Out of memory.");
		free(text);
	}
	if(st == OTD_OK)
		otd_log(OTD_LOG_INFO, "apology", "{s:s,s:i}", "reference", a.reference, "offers",
		        (int)n_offers);
	otd_appointment_view_cleanup(&v);
	planner_catalog_release(app->planner, cat);
	return st;
}

enum otd_status booking_notice(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                               enum otd_message_kind kind, const char *event,
                               const struct booking_apology_facts *facts, int64_t now, bool *queued,
                               struct otd_error *err)
{
	*queued = false;
	if(!app->cfg->messages.proactive &&
	   (kind == OTD_MSG_UPDATE || kind == OTD_MSG_BACK_ON_TIME || kind == OTD_MSG_AT_RISK ||
	    kind == OTD_MSG_CANNOT_ATTEND))
		return OTD_OK;
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, appointment_id, &a, err);
	if(st)
		return st;
	if(!a.consent_email && !a.consent_sms)
		return OTD_OK;
	char event_key[128];
	snprintf(event_key, sizeof(event_key), "appt:%lld:v%d:%s", (long long)a.id,
	         a.promise_version, event);
	int live = 0, total = 0;
	st = store_outbox_event_siblings(tx, event_key, 0, &live, &total, err);
	if(st || total > 0)
		return st; /* told already */
	struct plan_catalog *cat = NULL;
	st = planner_catalog(app->planner, tx, now, &cat, err);
	if(st)
		return st;
	struct otd_appointment_view v;
	st = load_view(app, tx, cat, appointment_id, &v, err);
	if(st == OTD_OK) {
		struct message_facts f;
		facts_of(&v, &f);
		f.event = event;
		if(facts) {
			f.expected_early = facts->expected_early;
			f.expected_late = facts->expected_late;
			f.reason_text = facts->reason;
			f.disruption_note = facts->note;
			f.compensation = facts->compensation;
			f.pay_by = facts->pay_by;
		}
		st = queue_messages(app, tx, kind, -1, &f, TO_CONSENTED, now, NULL, err);
		if(st == OTD_OK) {
			char detail[160];
			event_detail(
			    detail, sizeof(detail),
			    "{\"event\":\"%s\",\"expected_early\":%lld,\"expected_late\":%lld}",
			    event, (long long)(facts ? facts->expected_early : 0),
			    (long long)(facts ? facts->expected_late : 0));
			st = store_appointment_event(tx, appointment_id, "notice", now, "system", 0,
			                             detail, err);
		}
		*queued = st == OTD_OK;
		otd_appointment_view_cleanup(&v);
	}
	planner_catalog_release(app->planner, cat);
	return st;
}

#define REMINDER_AHEAD_S 86400
#define REMINDERS_PER_PASS 64

struct reminders_job {
	struct otd_app *app;
	int64_t now;
	int64_t ids[REMINDERS_PER_PASS];
	int n, sent;
};

static enum otd_status reminders_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct reminders_job *j = arg;
	return store_due_reminders(c, j->now, REMINDER_AHEAD_S, j->ids, REMINDERS_PER_PASS, &j->n,
	                           err);
}

static enum otd_status reminders_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct reminders_job *j = arg;
	for(int i = 0; i < j->n; i++) {
		bool queued = false;
		enum otd_status st = booking_notice(j->app, tx, j->ids[i], OTD_MSG_REMINDER,
		                                    "reminder", NULL, j->now, &queued, err);
		if(st)
			return st;
		j->sent += queued;
	}
	return OTD_OK;
}

enum otd_status app_reminders(struct otd_app *app, int *sent, struct otd_error *err)
{
	struct reminders_job j = {.app = app, .now = otd_clock_now(app->clock)};
	*sent = 0;
	enum otd_status st = store_read(app->store, reminders_read, &j, err);
	if(st == OTD_OK && j.n > 0)
		st = store_write(app->store, reminders_write, &j, err);
	*sent = j.sent;
	return st;
}

/* ---- area-wide disruptions --------------------------------------------------- */

struct disruption_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	const struct otd_disruption *d;
	char postcodes[OTD_DISRUPTION_POSTCODES_MAX][16];
	int64_t now;
	struct otd_disruption_result *out;
};

static enum otd_status disruption_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct disruption_job *j = arg;
	json_t *pcs = json_array();
	const char *prefixes[OTD_DISRUPTION_POSTCODES_MAX];
	for(size_t i = 0; i < j->d->n_postcodes; i++) {
		prefixes[i] = j->postcodes[i];
		json_array_append_new(pcs, json_string(j->postcodes[i]));
	}
	char *pcs_text = json_dumps(pcs, JSON_COMPACT);
	json_decref(pcs);
	enum otd_status st =
	    store_disruption_insert(tx, j->d->local_date, pcs_text, j->d->note,
	                            j->actor ? j->actor->user_id : 0, j->now, &j->out->id, err);
	free(pcs_text);
	int64_t *ids = NULL;
	size_t n = 0;
	if(st == OTD_OK)
		st = store_disruption_affected(tx, j->out->id, j->d->local_date, prefixes,
		                               j->d->n_postcodes, &ids, &n, err);
	char event[40];
	snprintf(event, sizeof(event), "disruption%lld", (long long)j->out->id);
	struct booking_apology_facts f = {.note = j->d->note};
	for(size_t i = 0; st == OTD_OK && i < n; i++) {
		bool queued = false;
		st = booking_notice(j->app, tx, ids[i], OTD_MSG_DISRUPTION, event, &f, j->now,
		                    &queued, err);
		j->out->told += queued;
		j->out->affected++;
	}
	free(ids);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "disruption.declare", "disruption", j->out->id,
		               json_pack("{s:s,s:I}", "date", j->d->local_date, "affected",
		                         (json_int_t)j->out->affected),
		               err);
	return st;
}

enum otd_status app_disruption_declare(struct otd_app *app, const struct otd_principal *actor,
                                       const struct otd_disruption *d,
                                       struct otd_disruption_result *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	int y, m, day;
	enum otd_status st = otd_date_parse(d->local_date, &y, &m, &day, err);
	if(st) {
		snprintf(err->field, sizeof(err->field), "date");
		return st;
	}
	if((st = otd_text_validate(d->note ? d->note : "", 1, 300, false, "note", err)))
		return st;
	if(d->n_postcodes > OTD_DISRUPTION_POSTCODES_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_many", "postcodes",
		                     "Give at most %d postcode prefixes.",
		                     OTD_DISRUPTION_POSTCODES_MAX);
	struct disruption_job j = {
	    .app = app, .actor = actor, .d = d, .out = out, .now = otd_clock_now(app->clock)};
	for(size_t i = 0; i < d->n_postcodes; i++) {
		size_t k = 0;
		for(const char *p = d->postcodes[i]; *p && k < sizeof(j.postcodes[i]) - 1; p++) {
			if(*p == ' ')
				continue;
			if(!isalnum((unsigned char)*p))
				return otd_error_set(
				    err, OTD_EINVAL, "bad_postcode", "postcodes",
				    "Postcode prefixes are letters and digits (\"ZZ1\", "
				    "\"ZZ1 2\").");
			j.postcodes[i][k++] = (char)toupper((unsigned char)*p);
		}
		j.postcodes[i][k] = '\0';
		if(k == 0 || k > 8)
			return otd_error_set(err, OTD_EINVAL, "bad_postcode", "postcodes",
			                     "A postcode prefix has 1 to 8 letters and digits.");
	}
	st = store_write(app->store, disruption_write, &j, err);
	if(st == OTD_OK)
		otd_log(OTD_LOG_INFO, "disruption", "{s:I,s:s,s:i,s:i}", "id", (json_int_t)out->id,
		        "date", d->local_date, "affected", out->affected, "told", out->told);
	return st;
}

/* ---- live streams ------------------------------------------------------------ */

/* Tells the live streams (after COMMIT) that appointment a changed: staff
 * see reference, status, window, visitor and risk; the customer's stream
 * sees status and window only. visitor_id: whose route stream gets it (an
 * appointment moved away from a visitor is news to them too). */
static void publish_appointment(struct otd_app *app, const struct otd_appointment *a,
                                int64_t visitor_id, const char *change)
{
	if(!app->bus)
		return;
	char s[32], e[32], ls[48], le[48];
	otd_rfc3339_format(a->window_start, s, sizeof(s));
	otd_rfc3339_format(a->window_end, e, sizeof(e));
	otd_tz_format_local(app->tz, a->window_start, ls, sizeof(ls));
	otd_tz_format_local(app->tz, a->window_end, le, sizeof(le));
	json_t *window = json_pack("{s:s,s:s,s:s,s:s}", "start", s, "end", e, "local_start", ls,
	                           "local_end", le);
	json_t *staff = json_pack("{s:s,s:I,s:s,s:s,s:O,s:I,s:s}", "change", change,
	                          "appointment_id", (json_int_t)a->id, "reference", a->reference,
	                          "status", a->status, "window", window, "visitor_id",
	                          (json_int_t)a->visitor_id, "risk", a->risk);
	json_t *customer = json_pack("{s:s,s:s,s:o}", "change", change, "status", a->status,
	                             "window", window);
	char *staff_text = json_dumps(staff, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *customer_text = json_dumps(customer, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct otd_bus_event ev = {.type = "appointment", .appointment_id = a->id,
	                           .visitor_id = visitor_id, .staff_json = staff_text,
	                           .customer_json = customer_text};
	if(staff_text && customer_text)
		app_publish(app, &ev);
	free(staff_text);
	free(customer_text);
	json_decref(staff);
	json_decref(customer);
}

/* Tells the old visitor's route stream (and dispatchers) that a moved
 * appointment left that route; no customer data. */
static void publish_moved_away(struct otd_app *app, const struct otd_appointment *a,
                               int64_t old_visitor)
{
	if(!app->bus)
		return;
	char staff[160];
	snprintf(staff, sizeof(staff),
	         "{\"change\":\"moved_away\",\"appointment_id\":%lld,\"reference\":\"%s\","
	         "\"visitor_id\":%lld}",
	         (long long)a->id, a->reference, (long long)old_visitor);
	struct otd_bus_event ev = {.type = "route", .appointment_id = a->id,
	                           .visitor_id = old_visitor, .staff_json = staff};
	app_publish(app, &ev);
}

/* ---- reschedule and cancel -------------------------------------------------- */

/* Days a change may touch: its own before and after, offers it releases,
 * the day of a waitlist offer it makes. One left out stays cached until it
 * expires (a released hold's expiry): conservative, never double booking. */
#define DIRTY_MAX 8

struct change_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	int64_t id;
	const char *hold_token;
	int64_t offer_id;
	bool by_customer;
	const char *reason;
	struct otd_appointment_view *out;
	int64_t now;
	struct plan_catalog *cat;
	/* days to drop from the cache after COMMIT */
	int64_t dirty_visitor[DIRTY_MAX];
	char dirty_date[DIRTY_MAX][11];
	size_t n_dirty;
};

static void dirty(struct change_job *j, int64_t visitor, const char *date)
{
	if(j->n_dirty < DIRTY_MAX && visitor) {
		j->dirty_visitor[j->n_dirty] = visitor;
		snprintf(j->dirty_date[j->n_dirty], 11, "%s", date);
		j->n_dirty++;
	}
}

static enum otd_status reschedule_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct change_job *j = arg;
	struct otd_app *app = j->app;
	j->n_dirty = 0;
	/* The store may run a job again (PostgreSQL, after a serialization
	 * failure): what the rolled-back try loaded goes (zeroed at first). */
	otd_appointment_view_cleanup(j->out);
	struct otd_appointment_view before;
	enum otd_status st = load_view(app, tx, j->cat, j->id, &before, err);
	if(st)
		return st;
	struct otd_hold hold;
	if(strcmp(before.a.status, "booked") != 0) {
		st = otd_error_set(err, OTD_ESTATE, "cannot_reschedule", NULL,
		                   "This visit is %s and can no longer be moved.", before.a.status);
		goto out;
	}
	if(j->hold_token) {
		unsigned char hash[32];
		secret_hash(j->hold_token, hash);
		st = store_hold_by_hash(tx, hash, j->now, &hold, err);
	} else {
		st = store_hold_get(tx, j->offer_id, j->now, &hold, err);
	}
	if(st == OTD_ENOTFOUND) {
		err->status = st = OTD_ECONFLICT;
		goto out;
	}
	if(st)
		goto out;
	if(hold.for_appointment != j->id || hold.visit_type_id != before.a.visit_type_id) {
		st = otd_error_set(err, OTD_ESTATE, "hold_mismatch", "hold",
		                   "That window was not held for this visit; choose a window for this "
		                   "visit first.");
		goto out;
	}
	const struct plan_visitor *v = plan_catalog_visitor(j->cat, hold.visitor_id);
	const struct plan_visit_type *t = plan_catalog_type(j->cat, hold.visit_type_id);
	if(!v || !t) {
		st = otd_error_set(err, OTD_ECONFLICT, "window_taken", NULL,
		                   "That window can no longer be kept; choose another.");
		goto out;
	}
	store_lock_scope(tx, v->id, hold.local_date);
	struct otd_stop s;
	plan_visit_stop(j->cat, t, v->id, before.address.lat, before.address.lon, hold.window_start,
	                hold.window_end, OTD_STOP_VISIT, j->id, &s);
	struct plan_day day;
	bool placed;
	long ri = -1, pos = -1;
	st = place_exact(app, tx, j->cat, v, hold.local_date, j->now, j->id, hold.id, &s, &placed,
	                 &day, &ri, &pos, err);
	if(st == OTD_OK && !placed)
		st = otd_error_set(err, OTD_ECONFLICT, "window_taken", NULL,
		                   "That window can no longer be kept; choose another.");
	int version = before.a.promise_version + 1;
	/* Moved by us, not at the customer's asking: too little notice owes
	 * them (an apology offer they take is their choice: by_customer). */
	if(st == OTD_OK && !j->by_customer)
		st = guarantee_on_change(app, tx, j->id, before.a.window_start, j->now, err);
	if(st == OTD_OK)
		st = store_outbox_cancel_stale(tx, j->id, before.a.promise_version, NULL, err);
	if(st == OTD_OK)
		st = store_appointment_move(tx, j->id, v->id, hold.local_date, hold.window_start,
		                            hold.window_end, version, j->now, err);
	if(st == OTD_OK)
		st = write_order(tx, &day, &day.routes[ri], pos, j->id, NULL, NULL, err);
	plan_day_cleanup(&day);
	if(st == OTD_OK)
		st = store_hold_delete(tx, hold.id, err);
	/* The other windows an apology held belong to the promise just
	 * replaced: a second "2" must not move the visit again. */
	if(st == OTD_OK)
		st = store_holds_drop_offers(tx, j->id, "apology_offer", err);
	if(st == OTD_OK && strcmp(hold.purpose, "waitlist_offer") == 0)
		st = store_waitlist_done(tx, j->id, j->now, err);
	if(st == OTD_OK)
		st = store_links_expire_at(tx, j->id,
		                           hold.window_end + (int64_t)app->cfg->booking.link_days * 86400,
		                           err);
	if(st == OTD_OK)
		st = load_view(app, tx, j->cat, j->id, j->out, err);
	if(st == OTD_OK) {
		struct message_facts f;
		facts_of(j->out, &f);
		f.old_start = before.a.window_start;
		f.old_end = before.a.window_end;
		f.by_customer = j->by_customer;
		f.event = "rescheduled";
		st = queue_messages(app, tx, OTD_MSG_RESCHEDULED, OTD_ICS_REQUEST, &f, TO_CONSENTED,
		                    j->now, NULL, err);
	}
	if(st == OTD_OK) {
		char detail[300];
		event_detail(detail, sizeof(detail),
		             "{\"promise_version\":%d,\"from_start\":%lld,\"from_end\":%lld,"
		             "\"to_start\":%lld,\"to_end\":%lld,\"visitor_id\":%lld,\"by\":\"%s\"}",
		             version, (long long)before.a.window_start, (long long)before.a.window_end,
		             (long long)hold.window_start, (long long)hold.window_end, (long long)v->id,
		             j->by_customer ? "customer" : "organisation");
		st = store_appointment_event(tx, j->id, "rescheduled", j->now, actor_kind(j->actor),
		                             actor_id(j->actor), detail, err);
	}
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "appointment.reschedule", "appointment", j->id,
		               j->reason ? json_pack("{s:i,s:s}", "promise_version", version, "reason",
		                                     j->reason)
		                         : json_pack("{s:i}", "promise_version", version),
		               err);
	if(st == OTD_OK) {
		dirty(j, before.a.visitor_id, before.a.local_date);
		dirty(j, v->id, hold.local_date);
		int64_t ov = 0;
		char od[11] = "";
		st = offer_freed(app, tx, j->cat, before.a.visitor_id, before.a.local_date,
		                 before.a.window_start, j->now, err, &ov, od);
		dirty(j, ov, od);
	}
	if(st)
		otd_appointment_view_cleanup(j->out);
out:
	otd_appointment_view_cleanup(&before);
	return st;
}

static enum otd_status cancel_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct change_job *j = arg;
	struct otd_app *app = j->app;
	j->n_dirty = 0;
	otd_appointment_view_cleanup(j->out); /* a job run again: see reschedule_job */
	enum otd_status st = load_view(app, tx, j->cat, j->id, j->out, err);
	if(st)
		return st;
	struct otd_appointment *a = &j->out->a;
	if(strcmp(a->status, "booked") != 0) {
		st = otd_error_set(err, OTD_ESTATE, "cannot_cancel", NULL,
		                   strcmp(a->status, "cancelled") == 0
		                       ? "This visit is already cancelled."
		                       : "This visit is under way or over and can no longer be "
		                         "cancelled.");
		goto out;
	}
	int64_t notice = a->window_start - j->now;
	st = j->by_customer ? OTD_OK
	                    : guarantee_on_change(app, tx, j->id, a->window_start, j->now, err);
	if(st == OTD_OK)
		st = store_outbox_cancel_stale(tx, j->id, a->promise_version, NULL, err);
	if(st == OTD_OK)
		st = store_appointment_cancel(tx, j->id,
		                              j->by_customer ? "customer" : "organisation",
		                              j->reason, notice, j->now, err);
	if(st == OTD_OK)
		st = store_waitlist_set(tx, j->id, false, j->now, err);
	/* Windows held as offers for this visit (a waitlist offer) are nobody's
	 * now: free them with it, not when the offer would have lapsed. */
	size_t n_offers = 0;
	do {
		struct otd_hold offers[3];
		if(st == OTD_OK)
			st = store_hold_offers(tx, j->id, j->now, offers, 3, &n_offers, err);
		for(size_t i = 0; st == OTD_OK && i < n_offers; i++) {
			st = store_hold_delete(tx, offers[i].id, err);
			dirty(j, offers[i].visitor_id, offers[i].local_date);
		}
	} while(st == OTD_OK && n_offers == 3);
	if(st == OTD_OK) {
		/* The calendar CANCEL carries the next SEQUENCE so calendars apply it. */
		struct otd_appointment cancelled = *a;
		cancelled.promise_version = a->promise_version + 1;
		struct message_facts f;
		facts_of(j->out, &f);
		f.a = &cancelled;
		f.by_customer = j->by_customer;
		f.reason = j->reason;
		f.event = "cancelled";
		st = queue_messages(app, tx, OTD_MSG_CANCELLED, OTD_ICS_CANCEL, &f, TO_CONSENTED,
		                    j->now, NULL, err);
	}
	if(st == OTD_OK) {
		char detail[200];
		event_detail(detail, sizeof(detail), "{\"by\":\"%s\",\"notice_s\":%lld}",
		             j->by_customer ? "customer" : "organisation", (long long)notice);
		st = store_appointment_event(tx, j->id, "cancelled", j->now, actor_kind(j->actor),
		                             actor_id(j->actor), detail, err);
	}
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "appointment.cancel", "appointment", j->id,
		               json_pack("{s:s,s:I,s:s?}", "by",
		                         j->by_customer ? "customer" : "organisation", "notice_s",
		                         (json_int_t)notice, "reason", j->reason),
		               err);
	if(st == OTD_OK) {
		dirty(j, a->visitor_id, a->local_date);
		int64_t ov = 0;
		char od[11] = "";
		st = offer_freed(app, tx, j->cat, a->visitor_id, a->local_date, a->window_start, j->now,
		                 err, &ov, od);
		dirty(j, ov, od);
	}
	if(st == OTD_OK) {
		/* Show what was stored. */
		int64_t id = j->id;
		otd_appointment_view_cleanup(j->out);
		st = load_view(app, tx, j->cat, id, j->out, err);
	}
out:
	if(st)
		otd_appointment_view_cleanup(j->out);
	return st;
}

/* ---- reassignment -------------------------------------------------------- */

enum otd_status booking_reassigned(struct otd_app *app, struct otd_conn *tx,
                                   const struct plan_catalog *cat,
                                   const struct otd_principal *actor, int64_t appointment_id,
                                   int64_t visitor_id, const char *source, const char *reason,
                                   int64_t now, struct otd_appointment_view *out,
                                   struct otd_error *err)
{
	struct otd_appointment_view before;
	enum otd_status st = load_view(app, tx, cat, appointment_id, &before, err);
	if(st)
		return st;
	if(strcmp(before.a.status, "booked") != 0) {
		st = otd_error_set(err, OTD_ESTATE, "cannot_reassign", NULL,
		                   "This visit is %s and can no longer be given to someone else.",
		                   before.a.status);
		goto out;
	}
	if(before.a.visitor_id == visitor_id) {
		st = load_view(app, tx, cat, appointment_id, out, err);
		goto out;
	}
	const struct plan_visitor *to = plan_catalog_visitor(cat, visitor_id);
	const struct plan_visit_type *type = plan_catalog_type(cat, before.a.visit_type_id);
	if(!to || !type || !plan_visitor_has_skill(to, type->skill)) {
		st = otd_error_set(err, OTD_ECONFLICT, "visitor_cannot_take", NULL,
		                   "That visitor is no longer active or lacks the skill this visit "
		                   "needs.");
		goto out;
	}
	int version = before.a.promise_version + 1;
	/* A window already missed stays missed whoever comes now: the move
	 * must not make it a new promise that breaks again (a second case, a
	 * second "broken" message). */
	struct otd_appointment_risk risk;
	st = store_appointment_risk_get(tx, appointment_id, &risk, err);
	bool was_broken = st == OTD_OK && strcmp(risk.risk, "broken") == 0;
	if(st == OTD_OK)
		st = store_outbox_cancel_stale(tx, appointment_id, before.a.promise_version, NULL,
		                               err);
	if(st == OTD_OK)
		st = store_appointment_move(tx, appointment_id, visitor_id, before.a.local_date,
		                            before.a.window_start, before.a.window_end, version,
		                            now, err);
	if(st == OTD_OK && was_broken)
		st = store_appointment_risk_put(tx, appointment_id, &risk, now, err);
	/* Windows an apology offered in its place are moot once the promised
	 * window is kept by someone else. */
	if(st == OTD_OK)
		st = store_holds_drop_offers(tx, appointment_id, "apology_offer", err);
	if(st == OTD_OK)
		st = load_view(app, tx, cat, appointment_id, out, err);
	if(st == OTD_OK) {
		struct message_facts f;
		facts_of(out, &f);
		f.reason = reason;
		f.event = "reassigned";
		st = queue_messages(app, tx, OTD_MSG_REASSIGNED, OTD_ICS_REQUEST, &f, TO_CONSENTED,
		                    now, NULL, err);
	}
	if(st == OTD_OK) {
		char detail[300];
		event_detail(
		    detail, sizeof(detail),
		    "{\"promise_version\":%d,\"from_visitor_id\":%lld,\"to_visitor_id\":%lld,"
		    "\"by\":\"%s\"}",
		    version, (long long)before.a.visitor_id, (long long)visitor_id, source);
		st = store_appointment_event(tx, appointment_id, "reassigned", now,
		                             actor_kind(actor), actor_id(actor), detail, err);
	}
	if(st == OTD_OK)
		st = app_audit(
		    tx, actor, now, "appointment.reassign", "appointment", appointment_id,
		    json_pack("{s:i,s:I,s:I,s:s,s:s?}", "promise_version", version,
		              "from_visitor_id", (json_int_t)before.a.visitor_id, "to_visitor_id",
		              (json_int_t)visitor_id, "source", source, "reason", reason),
		    err);
	if(st)
		otd_appointment_view_cleanup(out);
out:
	otd_appointment_view_cleanup(&before);
	return st;
}

/* Whether the visitor is marked unavailable on local_date. */
static enum otd_status visitor_away(struct otd_conn *c, int64_t visitor_id, const char *local_date,
                                    bool *away, struct otd_error *err)
{
	struct otd_visitor_day d;
	enum otd_status st = store_visitor_day_get(c, visitor_id, local_date, &d, err);
	*away = st == OTD_OK && strcmp(d.state, "unavailable") == 0;
	return st == OTD_ENOTFOUND ? OTD_OK : st;
}

struct reassign_job {
	struct change_job c;
	int64_t to_visitor;
	int64_t from_visitor;
	const char *source; /* "dispatcher", "auto_rebalance" */
};

static enum otd_status reassign_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct reassign_job *r = arg;
	struct change_job *j = &r->c;
	struct otd_app *app = j->app;
	j->n_dirty = 0;
	struct otd_appointment_view before;
	enum otd_status st = load_view(app, tx, j->cat, j->id, &before, err);
	if(st)
		return st;
	r->from_visitor = before.a.visitor_id;
	const struct plan_visitor *v = plan_catalog_visitor(j->cat, r->to_visitor);
	const struct plan_visit_type *t = plan_catalog_type(j->cat, before.a.visit_type_id);
	struct plan_day day;
	memset(&day, 0, sizeof(day));
	if(strcmp(before.a.status, "booked") != 0) {
		st = otd_error_set(err, OTD_ESTATE, "cannot_reassign", NULL,
		                   "This visit is %s and can no longer be given to someone else.",
		                   before.a.status);
		goto out;
	}
	/* The auto mode gives a visit to someone else once at most: checked
	 * here, in the transaction, so a dispatcher's move in between counts. */
	bool moved_before = false;
	if(strcmp(r->source, "auto_rebalance") == 0 &&
	   ((st = store_appointment_has_event(tx, j->id, "reassigned", &moved_before, err)) ||
	    moved_before)) {
		if(!st)
			st = otd_error_set(err, OTD_ECONFLICT, "already_reassigned", NULL,
			                   "This visit was given to someone else before.");
		goto out;
	}
	if(!v) {
		st = otd_error_set(err, OTD_EINVAL, "unknown_visitor", "visitor_id",
		                   "There is no active visitor %lld.", (long long)r->to_visitor);
		goto out;
	}
	if(!t || !plan_visitor_has_skill(v, t->skill)) {
		st = otd_error_set(err, OTD_ESTATE, "lacks_skill", "visitor_id",
		                   "%s does not have the skill this visit needs (%s).", v->name,
		                   t ? t->skill : "unknown");
		goto out;
	}
	bool away = false;
	if((st = visitor_away(tx, v->id, before.a.local_date, &away, err)))
		goto out;
	if(away) {
		st = otd_error_set(err, OTD_ECONFLICT, "visitor_unavailable", "visitor_id",
		                   "%s is marked unavailable for the rest of that day.", v->name);
		goto out;
	}
	store_lock_scope(tx, v->id, before.a.local_date);
	struct otd_stop s;
	plan_visit_stop(j->cat, t, v->id, before.address.lat, before.address.lon,
	                before.a.window_start, before.a.window_end, OTD_STOP_VISIT, j->id, &s);
	bool placed;
	long ri = -1, pos = -1;
	st = place_exact(app, tx, j->cat, v, before.a.local_date, j->now, j->id, 0, &s, &placed,
	                 &day, &ri, &pos, err);
	if(st == OTD_OK && !placed)
		st =
		    otd_error_set(err, OTD_ECONFLICT, "window_cannot_be_kept", "visitor_id",
		                  "%s cannot keep this window on that day without breaking another "
		                  "promise (or works no shift then).",
		                  v->name);
	if(st == OTD_OK)
		st = write_order(tx, &day, &day.routes[ri], pos, j->id, NULL, NULL, err);
	if(st == OTD_OK)
		st = booking_reassigned(app, tx, j->cat, j->actor, j->id, v->id, r->source,
		                        j->reason, j->now, j->out, err);
	if(st == OTD_OK) {
		dirty(j, before.a.visitor_id, before.a.local_date);
		dirty(j, v->id, before.a.local_date);
	}
out:
	plan_day_cleanup(&day);
	otd_appointment_view_cleanup(&before);
	return st;
}

struct options_job {
	struct otd_app *app;
	struct plan_catalog *cat;
	int64_t id, now;
	size_t max;
	struct otd_reassign_option *out;
	size_t n;
};

static int option_cmp(const void *a, const void *b)
{
	const struct otd_reassign_option *x = a, *y = b;
	if(x->travel_added_s != y->travel_added_s)
		return x->travel_added_s < y->travel_added_s ? -1 : 1;
	return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
}

static enum otd_status options_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct options_job *j = arg;
	struct otd_app *app = j->app;
	struct otd_appointment_view a;
	enum otd_status st = load_view(app, c, j->cat, j->id, &a, err);
	if(st)
		return st;
	const struct plan_visit_type *t = plan_catalog_type(j->cat, a.a.visit_type_id);
	if(strcmp(a.a.status, "booked") != 0) {
		st = otd_error_set(err, OTD_ESTATE, "cannot_reassign", NULL,
		                   "This visit is %s and can no longer be given to someone else.",
		                   a.a.status);
		goto out;
	}
	j->out = xcalloc(j->cat->n_visitors + 1, sizeof(*j->out));
	for(size_t i = 0; t && i < j->cat->n_visitors && st == OTD_OK; i++) {
		const struct plan_visitor *v = &j->cat->visitors[i];
		if(v->id == a.a.visitor_id || !plan_visitor_has_skill(v, t->skill) ||
		   !shift_covers(v, a.a.window_start, a.a.window_end))
			continue;
		bool away = false;
		if((st = visitor_away(c, v->id, a.a.local_date, &away, err)))
			break;
		if(away)
			continue;
		struct otd_stop s;
		plan_visit_stop(j->cat, t, v->id, a.address.lat, a.address.lon, a.a.window_start,
		                a.a.window_end, OTD_STOP_VISIT, j->id, &s);
		struct plan_day day;
		memset(&day, 0, sizeof(day));
		bool placed = false;
		long ri = -1, pos = -1;
		st = place_exact(app, c, j->cat, v, a.a.local_date, j->now, j->id, 0, &s, &placed,
		                 &day, &ri, &pos, err);
		if(st == OTD_OK && placed) {
			const struct otd_plan *plan = planner_plan(app->planner);
			struct otd_route *with = &day.routes[ri];
			if(!with->timed)
				otd_route_time(with, plan);
			struct otd_route without;
			otd_route_copy(&without, with);
			otd_route_remove(&without, (size_t)pos);
			otd_route_time(&without, plan);
			struct otd_reassign_option *o = &j->out[j->n++];
			o->visitor_id = v->id;
			snprintf(o->name, sizeof(o->name), "%s", v->name);
			o->travel_added_s = fmax(0, with->travel_mean - without.travel_mean);
			o->expected_arrival = (int64_t)llround(with->arr_mean[pos]);
			int k = 0;
			for(long m = 0; m <= pos; m++)
				k += with->stops[m].kind == OTD_STOP_VISIT ||
				     with->stops[m].kind == OTD_STOP_HOLD;
			o->position = k;
			otd_route_cleanup(&without);
		}
		plan_day_cleanup(&day);
	}
	if(st == OTD_OK) {
		qsort(j->out, j->n, sizeof(*j->out), option_cmp);
		if(j->n > j->max)
			j->n = j->max;
	}
out:
	otd_appointment_view_cleanup(&a);
	return st;
}

enum otd_status app_reassign_options(struct otd_app *app, int64_t appointment_id, size_t max,
                                     struct otd_reassign_option **out, size_t *n,
                                     struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct options_job j = {
	    .app = app, .id = appointment_id, .now = otd_clock_now(app->clock), .max = max};
	enum otd_status st = take_catalog(app, &j.cat, err);
	if(st)
		return st;
	st = store_read(app->store, options_job, &j, err);
	planner_catalog_release(app->planner, j.cat);
	if(st) {
		free(j.out);
		return st;
	}
	*out = j.out;
	*n = j.n;
	return OTD_OK;
}

#define PERSONAL_REPEAT_S 300 /* the same words again within this are a repeat */

struct personal_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	struct plan_catalog *cat;
	int64_t id, now;
	const char *note;
	int to;
	int queued;
};

static enum otd_status personal_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct personal_job *j = arg;
	struct otd_appointment_view v;
	enum otd_status st = load_view(j->app, tx, j->cat, j->id, &v, err);
	if(st)
		return st;
	bool email = v.customer.email[0] && v.a.consent_email && (j->to & TO_EMAIL);
	bool sms = v.customer.phone[0] && v.a.consent_sms && (j->to & TO_SMS);
	if(strcmp(v.a.status, "cancelled") == 0 || strcmp(v.a.status, "done") == 0 ||
	   strcmp(v.a.status, "no_access") == 0) {
		st = otd_error_set(err, OTD_ESTATE, "not_reachable", NULL,
		                   "This visit is %s: there is nothing to write about; call the "
		                   "customer instead.",
		                   v.a.status);
	} else if(!email && !sms) {
		st = otd_error_set(err, OTD_ESTATE, "not_reachable", "channel",
		                   "The customer did not agree to be written to that way; call "
		                   "them instead.");
	}
	if(st == OTD_OK) {
		/* The same words again within PERSONAL_REPEAT_S (a double click, a
		 * retry after a timeout) are the same message: sent once. */
		unsigned char h[8];
		crypto_generichash(h, sizeof(h), (const unsigned char *)j->note, strlen(j->note),
		                   NULL, 0);
		char words[32], event[64];
		snprintf(words, sizeof(words), ":personal:%02x%02x%02x%02x%02x%02x%02x%02x:", h[0],
		         h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
		snprintf(event, sizeof(event), "%s%lld", words + 1, (long long)j->now);
		int recent = 0;
		st = store_messages_since(tx, j->id, words, j->now - PERSONAL_REPEAT_S, &recent,
		                          err);
		if(st == OTD_OK && recent > 0) {
			j->queued = recent; /* sent already: a repeat */
			otd_appointment_view_cleanup(&v);
			return OTD_OK;
		}
		struct message_facts f;
		facts_of(&v, &f);
		f.event = event;
		f.personal_note = j->note;
		if(st == OTD_OK)
			st = queue_messages(j->app, tx, OTD_MSG_PERSONAL, -1, &f,
			                    (email ? TO_EMAIL : 0) | (sms ? TO_SMS : 0), j->now,
			                    NULL, err);
		j->queued = (int)email + (int)sms;
	}
	if(st == OTD_OK)
		st = store_appointment_event(tx, j->id, "personal_message", j->now,
		                             actor_kind(j->actor), actor_id(j->actor), NULL, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "appointment.message", "appointment", j->id,
		               json_pack("{s:b,s:b}", "email", email, "sms", sms), err);
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status app_personal_message(struct otd_app *app, const struct otd_principal *actor,
                                     int64_t appointment_id, const char *note, const char *channel,
                                     int *queued, struct otd_error *err)
{
	*queued = 0;
	enum otd_status st;
	if(!note || (st = otd_text_validate(note, 1, OTD_PERSONAL_NOTE_MAX, false, "text", err)))
		return note ? st
		            : otd_error_set(err, OTD_EINVAL, "missing_field", "text",
		                            "Write the message (1 to %d characters).",
		                            OTD_PERSONAL_NOTE_MAX);
	int to = TO_EMAIL | TO_SMS;
	if(channel && strcmp(channel, "email") == 0)
		to = TO_EMAIL;
	else if(channel && strcmp(channel, "sms") == 0)
		to = TO_SMS;
	else if(channel)
		return otd_error_set(err, OTD_EINVAL, "bad_channel", "channel",
		                     "channel is \"email\" or \"sms\" (or absent: both).");
	struct personal_job j = {.app = app,
	                         .actor = actor,
	                         .id = appointment_id,
	                         .now = otd_clock_now(app->clock),
	                         .note = note,
	                         .to = to};
	if((st = take_catalog(app, &j.cat, err)))
		return st;
	st = store_write(app->store, personal_job, &j, err);
	planner_catalog_release(app->planner, j.cat);
	if(st == OTD_OK)
		*queued = j.queued;
	return st;
}

void booking_publish_reassigned(struct otd_app *app, const struct otd_appointment *a,
                                int64_t from_visitor)
{
	publish_appointment(app, a, a->visitor_id, "reassigned");
	if(from_visitor != a->visitor_id)
		publish_moved_away(app, a, from_visitor);
}

enum otd_status app_reassign(struct otd_app *app, const struct otd_principal *actor,
                             int64_t appointment_id, int64_t visitor_id, const char *reason,
                             struct otd_appointment_view *out, struct otd_error *err)
{
	return app_reassign_by(app, actor, appointment_id, visitor_id, "dispatcher", reason, out,
	                       err);
}

enum otd_status app_reassign_by(struct otd_app *app, const struct otd_principal *actor,
                                int64_t appointment_id, int64_t visitor_id, const char *source,
                                const char *reason, struct otd_appointment_view *out,
                                struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct reassign_job r = {.source = source,
	                         .c = {.app = app,
	                               .actor = actor,
	                               .id = appointment_id,
	                               .reason = reason,
	                               .out = out,
	                               .now = otd_clock_now(app->clock)},
	                         .to_visitor = visitor_id};
	enum otd_status st = take_catalog(app, &r.c.cat, err);
	if(st)
		return st;
	st = store_write(app->store, reassign_job, &r, err);
	if(st == OTD_OK) {
		for(size_t i = 0; i < r.c.n_dirty; i++)
			planner_day_invalidate(app->planner, r.c.dirty_visitor[i],
			                       r.c.dirty_date[i]);
		booking_publish_reassigned(app, &out->a, r.from_visitor);
	}
	planner_catalog_release(app->planner, r.c.cat);
	return st;
}

static enum otd_status run_change(struct otd_app *app, store_write_fn fn, struct change_job *j,
                                  struct otd_error *err)
{
	enum otd_status st = take_catalog(app, &j->cat, err);
	if(st)
		return st;
	st = store_write(app->store, fn, j, err);
	if(st == OTD_OK)
		for(size_t i = 0; i < j->n_dirty; i++)
			planner_day_invalidate(app->planner, j->dirty_visitor[i], j->dirty_date[i]);
	if(st == OTD_OK) {
		const char *change = fn == reschedule_job ? "rescheduled" : "cancelled";
		publish_appointment(app, &j->out->a, j->out->a.visitor_id, change);
		/* A move to another visitor: the first day marked is the old one. */
		if(fn == reschedule_job && j->n_dirty && j->dirty_visitor[0] != j->out->a.visitor_id)
			publish_moved_away(app, &j->out->a, j->dirty_visitor[0]);
	}
	planner_catalog_release(app->planner, j->cat);
	return st;
}

enum otd_status app_reschedule(struct otd_app *app, const struct otd_principal *actor,
                               int64_t appointment_id, const char *hold_token, int64_t offer_id,
                               bool by_customer, const char *reason,
                               struct otd_appointment_view *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	if(!hold_token && !offer_id)
		return otd_error_set(err, OTD_EINVAL, "missing_field", "hold",
		                     "Choose the new window first (a hold) or an offered window.");
	struct change_job j = {.app = app, .actor = actor, .id = appointment_id,
	                       .hold_token = hold_token, .offer_id = offer_id,
	                       .by_customer = by_customer, .reason = reason, .out = out,
	                       .now = otd_clock_now(app->clock)};
	return run_change(app, reschedule_job, &j, err);
}

enum otd_status app_cancel(struct otd_app *app, const struct otd_principal *actor,
                           int64_t appointment_id, bool by_customer, const char *reason,
                           struct otd_appointment_view *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct change_job j = {.app = app, .actor = actor, .id = appointment_id,
	                       .by_customer = by_customer, .reason = reason, .out = out,
	                       .now = otd_clock_now(app->clock)};
	return run_change(app, cancel_job, &j, err);
}

/* ---- waitlist, new links -------------------------------------------------- */

struct waitlist_job {
	int64_t id;
	bool on;
	int64_t now;
};

static enum otd_status waitlist_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct waitlist_job *j = arg;
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, j->id, &a, err);
	if(st)
		return st;
	if(j->on && strcmp(a.status, "booked") != 0)
		return otd_error_set(err, OTD_ESTATE, "cannot_waitlist", NULL,
		                     "Only a booked visit can wait for an earlier window.");
	st = store_waitlist_set(tx, j->id, j->on, j->now, err);
	if(st == OTD_OK)
		st = store_appointment_event(tx, j->id, j->on ? "waitlist_on" : "waitlist_off", j->now,
		                             "customer", 0, NULL, err);
	return st;
}

enum otd_status app_waitlist(struct otd_app *app, int64_t appointment_id, bool on,
                             struct otd_error *err)
{
	struct waitlist_job j = {appointment_id, on, otd_clock_now(app->clock)};
	return store_write(app->store, waitlist_job, &j, err);
}

struct resend_job {
	struct otd_app *app;
	char reference[OTD_REFERENCE_LEN + 1];
	char phone[24];
	char email[256];
	int64_t now;
	struct plan_catalog *cat;
};

static enum otd_status resend_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct resend_job *j = arg;
	struct otd_appointment a;
	enum otd_status st = store_appointment_by_reference(tx, j->reference, &a, err);
	if(st == OTD_ENOTFOUND) {
		otd_error_clear(err);
		return OTD_OK; /* nothing matched: say nothing */
	}
	if(st)
		return st;
	struct otd_appointment_view v;
	if((st = load_view(j->app, tx, j->cat, a.id, &v, err)))
		return st;
	int to = 0;
	if(j->phone[0] && strcmp(j->phone, v.customer.phone) == 0) {
		to = TO_SMS;
		/* The same caps as a booking's: "send me a new link" must not pump
		 * text messages to a number either. Capped: the same answer as
		 * always, and nothing sent (nothing revoked). */
		struct otd_error cerr;
		enum otd_status cs = sms_caps(j->app, tx, j->phone, j->now, &cerr);
		if(cs == OTD_ERATE) {
			otd_log(OTD_LOG_WARN, "new_link_sms_capped", "{s:I}", "appointment_id",
			        (json_int_t)a.id);
			to = 0;
		} else if(cs) {
			*err = cerr;
			otd_appointment_view_cleanup(&v);
			return cs;
		}
	} else if(j->email[0] && v.customer.email[0] && strcasecmp(j->email, v.customer.email) == 0)
		to = TO_EMAIL;
	if(to) {
		st = store_links_revoke(tx, a.id, j->now, err);
		if(st == OTD_OK) {
			struct message_facts f;
			facts_of(&v, &f);
			char event[40];
			/* Each request is its own event, even twice in one second. */
			snprintf(event, sizeof(event), "new_link:%lld:%08x", (long long)j->now,
			         (unsigned)randombytes_random());
			f.event = event;
			st = queue_messages(j->app, tx, OTD_MSG_NEW_LINK, -1, &f, to, j->now, NULL,
			                    err);
		}
		if(st == OTD_OK)
			st = store_appointment_event(tx, a.id, "links_revoked", j->now, "customer", 0,
			                             to == TO_SMS ? "{\"sent_to\":\"sms\"}"
			                                          : "{\"sent_to\":\"email\"}",
			                             err);
	}
	otd_appointment_view_cleanup(&v);
	return st;
}

enum otd_status app_resend_link(struct otd_app *app, const char *reference, const char *contact,
                                struct otd_error *err)
{
	struct resend_job j = {.app = app, .now = otd_clock_now(app->clock)};
	if(!otd_reference_parse(reference, j.reference))
		return OTD_OK; /* malformed: the same answer as no match */
	if(strchr(contact, '@')) {
		if(otd_email_normalise(contact, j.email, sizeof(j.email), "contact", NULL) != OTD_OK)
			return OTD_OK;
	} else if(otd_phone_normalise(contact, app->cfg->messages.country_code, j.phone,
	                              sizeof(j.phone), "contact", NULL) != OTD_OK) {
		return OTD_OK;
	}
	enum otd_status st = take_catalog(app, &j.cat, err);
	if(st)
		return st;
	st = store_write(app->store, resend_job, &j, err);
	planner_catalog_release(app->planner, j.cat);
	return st;
}

/* ---- dispatchers ------------------------------------------------------------ */

struct search_job {
	struct otd_app *app;
	const struct otd_appointment_filter *f;
	struct otd_appointment_view *items;
	size_t n;
	int64_t next;
};

static enum otd_status search_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct search_job *j = arg;
	struct otd_appointment_filter f = *j->f;
	f.limit = j->f->limit + 1;
	int64_t *ids = NULL;
	size_t n = 0;
	enum otd_status st = store_appointment_search(c, &f, &ids, &n, err);
	if(st)
		return st;
	if(n > (size_t)j->f->limit) {
		n = (size_t)j->f->limit;
		j->next = ids[n - 1];
	}
	struct plan_catalog *cat = NULL;
	st = planner_catalog(j->app->planner, c, otd_clock_now(j->app->clock), &cat, err);
	j->items = xcalloc(n ? n : 1, sizeof(*j->items));
	for(size_t i = 0; st == OTD_OK && i < n; i++) {
		st = load_view(j->app, c, cat, ids[i], &j->items[i], err);
		if(st == OTD_OK)
			j->n = i + 1;
	}
	planner_catalog_release(j->app->planner, cat);
	free(ids);
	return st;
}

enum otd_status app_appointments_search(struct otd_app *app,
                                        const struct otd_appointment_filter *f,
                                        struct otd_appointment_view **out, size_t *n,
                                        int64_t *next, struct otd_error *err)
{
	/* A phone number matches as stored (+44...), however it was typed. */
	struct otd_appointment_filter nf = *f;
	char phone[24];
	if(f->query && otd_phone_normalise(f->query, app->cfg->messages.country_code, phone,
	                                   sizeof(phone), "q", NULL) == OTD_OK)
		nf.query = phone;
	struct search_job j = {.app = app, .f = &nf};
	enum otd_status st = store_read(app->store, search_job, &j, err);
	if(st) {
		for(size_t i = 0; i < j.n; i++)
			otd_appointment_view_cleanup(&j.items[i]);
		free(j.items);
		return st;
	}
	*out = j.items;
	*n = j.n;
	*next = j.next;
	return OTD_OK;
}

struct ref_job {
	const char *reference;
	int64_t id;
};

static enum otd_status ref_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct ref_job *j = arg;
	struct otd_appointment a;
	enum otd_status st = store_appointment_by_reference(c, j->reference, &a, err);
	if(st == OTD_OK)
		j->id = a.id;
	return st;
}

enum otd_status app_appointment_by_reference(struct otd_app *app, const char *reference,
                                             int64_t *id, struct otd_error *err)
{
	char canonical[OTD_REFERENCE_LEN + 1];
	if(!otd_reference_parse(reference, canonical))
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no appointment %.20s.", reference);
	struct ref_job j = {canonical, 0};
	enum otd_status st = store_read(app->store, ref_job, &j, err);
	if(st == OTD_OK)
		*id = j.id;
	return st;
}

struct expire_job {
	int64_t now;
	int64_t n;
};

static enum otd_status expire_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct expire_job *j = arg;
	return store_holds_expire(tx, j->now, HOLD_KEEP_S, &j->n, err);
}

enum otd_status app_holds_expire(struct otd_app *app, struct otd_error *err)
{
	struct expire_job j = {otd_clock_now(app->clock), 0};
	return store_write(app->store, expire_job, &j, err);
}
