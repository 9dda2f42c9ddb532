/* The planner: catalog snapshot, route building and the day cache. */
#include "app/planning.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/learn.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"
#include "store/catalog.h"
#include "store/holidays.h"
#include "store/store.h"
#include "store/tracking.h"

#define CATALOG_CHECK 5     /* seconds between fingerprint checks */

struct otd_planner {
	const struct otd_config *cfg;
	const struct otd_tz *tz;
	struct otd_travel_model travel;
	struct otd_plan plan;
	int break_start_min, break_end_min, break_minutes;
	pthread_mutex_t mu;
	struct plan_catalog *catalog;
	/* The day cache: one cell per (visitor of the current catalog, date in
	 * its range), so a lookup is an index, not a search. */
	const struct plan_catalog *cells_for;
	int64_t first_day; /* days since 1970 of cell column 0 */
	size_t n_cols;     /* dates per visitor */
	size_t n_rows;     /* visitors of cells_for (kept: that catalog may be freed first) */
	struct plan_day **cells;
	/* The generation of each cell's last invalidation, beside cells, and
	 * of the last one that touched every day (the catalog changed): a day
	 * read from a snapshot that began at generation g is cached only when
	 * neither is above g, so a change committed meanwhile is never hidden
	 * behind a stale copy, and a booking elsewhere does not stop it. */
	uint64_t *cell_gen;
	uint64_t wide_gen;
	size_t n_days;
	uint64_t generation; /* bumped by every invalidation */
	uint64_t hits, builds;
};

static int clock_minutes(const char *hhmm)
{
	return ((hhmm[0] - '0') * 10 + (hhmm[1] - '0')) * 60 + (hhmm[3] - '0') * 10 +
	       (hhmm[4] - '0');
}

struct otd_planner *planner_new(const struct otd_config *cfg, const struct otd_tz *tz,
                                struct otd_error *err)
{
	struct otd_planner *p = xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->tz = tz;
	p->travel.road_factor = cfg->planning.road_factor;
	for(int h = 0; h < 24; h++)
		p->travel.speed_kmh[h] = cfg->planning.speed_kmh;
	for(char **e = cfg->planning.speed_by_hour; e && *e; e++) {
		int from, to;
		double kmh;
		if(sscanf(*e, "%d-%d=%lf", &from, &to, &kmh) != 3) {
			otd_error_set(err, OTD_EINVAL, "bad_speed", "planning.speed_by_hour",
			              "planning.speed_by_hour entry \"%s\" is not HH-HH=KMH.", *e);
			free(p);
			return NULL;
		}
		for(int h = from; h < to && h < 24; h++)
			p->travel.speed_kmh[h] = kmh;
	}
	p->travel.spread = cfg->planning.travel_spread;
	p->plan.travel = &p->travel;
	p->plan.tz = tz;
	p->plan.z = otd_normal_quantile(cfg->planning.quantile);
	p->break_start_min = clock_minutes(cfg->planning.break_start);
	p->break_end_min = clock_minutes(cfg->planning.break_end);
	p->break_minutes = cfg->planning.break_minutes;
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

static int learned_cmp(const void *a, const void *b);

static void catalog_free(struct plan_catalog *cat)
{
	if(!cat)
		return;
	for(size_t i = 0; i < cat->n_visitors; i++) {
		struct plan_visitor *v = &cat->visitors[i];
		for(size_t k = 0; k < v->n_skills; k++)
			free(v->skills[k]);
		free(v->skills);
		free(v->name);
		free(v->first_name);
		free(v->role_title);
		free(v->occ);
	}
	free(cat->visitors);
	for(size_t i = 0; i < cat->n_types; i++)
		free(cat->types[i].name);
	free(cat->types);
	free(cat->holidays);
	free(cat->learned);
	free(cat);
}

void plan_day_cleanup(struct plan_day *d)
{
	for(size_t r = 0; r < d->n_routes; r++) {
		otd_route_cleanup(&d->routes[r]);
		free(d->item_of[r]);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static void day_free(struct plan_day *d)
{
	if(!d)
		return;
	plan_day_cleanup(d);
	free(d);
}

void plan_day_free(struct plan_day *d)
{
	day_free(d);
}

static void drop_all_days(struct otd_planner *p);

void planner_free(struct otd_planner *p)
{
	if(!p)
		return;
	catalog_free(p->catalog);
	drop_all_days(p);
	free(p->cells);
	free(p->cell_gen);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

const struct otd_plan *planner_plan(const struct otd_planner *p)
{
	return &p->plan;
}

void planner_local_date(const struct otd_planner *p, int64_t t, char out[11])
{
	struct otd_local l;
	otd_tz_to_local(p->tz, t, &l);
	otd_date_format(l.c.year, l.c.month, l.c.day, out);
}

bool planner_day_bounds(const struct otd_planner *p, const char *local_date, int64_t *start,
                        int64_t *end)
{
	int y, m, d;
	if(otd_date_parse(local_date, &y, &m, &d, NULL) != OTD_OK)
		return false;
	*start = otd_tz_day_start(p->tz, y, m, d);
	*end = *start + otd_tz_day_length(p->tz, y, m, d);
	return true;
}

/* ---- the catalog --------------------------------------------------------- */

static char *first_name_of(const char *name)
{
	size_t n = strcspn(name, " ");
	return xstrndup(name, n ? n : strlen(name));
}

static enum otd_status catalog_build(struct otd_planner *p, struct otd_conn *c, int64_t now,
                                     struct plan_catalog **out, struct otd_error *err)
{
	struct plan_catalog *cat = xcalloc(1, sizeof(*cat));
	cat->built_at = cat->checked_at = now;
	enum otd_status fst = store_catalog_fingerprint(c, cat->fingerprint,
	                                                sizeof(cat->fingerprint), err);
	if(fst) {
		free(cat);
		return fst;
	}
	cat->from = now - 2 * 86400;
	cat->to = now + ((int64_t)p->cfg->booking.horizon_days + 3) * 86400;
	enum otd_status st = OTD_OK;
	int64_t after = 0;
	int64_t ids[256];
	size_t n;
	do {
		st = store_visitor_ids(c, after, 256, 1, ids, &n, err);
		for(size_t i = 0; st == OTD_OK && i < n; i++) {
			struct otd_visitor v;
			st = store_visitor_get(c, ids[i], &v, err);
			if(st)
				break;
			cat->visitors = xrealloc(cat->visitors,
			                         (cat->n_visitors + 1) * sizeof(*cat->visitors));
			struct plan_visitor *pv = &cat->visitors[cat->n_visitors++];
			memset(pv, 0, sizeof(*pv));
			pv->id = v.id;
			pv->base_lat = v.base_lat;
			pv->base_lon = v.base_lon;
			otd_geo_point_set(&pv->base, v.base_lat, v.base_lon);
			pv->skills = v.skills;
			pv->n_skills = v.n_skills;
			v.skills = NULL;
			v.n_skills = 0;
			pv->name = xstrdup(v.name);
			pv->first_name = first_name_of(v.name);
			pv->role_title = xstrdup(v.role_title);
			for(size_t k = 0; k < v.n_shifts; k++) {
				struct otd_civil *ex = xcalloc(v.shifts[k].n_exdates + 1, sizeof(*ex));
				struct otd_shift_rule rule;
				struct otd_interval *occ = NULL;
				size_t m = 0;
				if(otd_shift_to_rule(&v.shifts[k], &rule, ex, NULL) == OTD_OK &&
				   otd_shift_expand(&rule, p->tz, cat->from, cat->to, &occ, &m, NULL) ==
				       OTD_OK &&
				   m) {
					pv->occ = xrealloc(pv->occ, (pv->n_occ + m) * sizeof(*pv->occ));
					memcpy(pv->occ + pv->n_occ, occ, m * sizeof(*occ));
					pv->n_occ += m;
				}
				free(occ);
				free(ex);
			}
			/* Sort occurrences by start (several rules interleave). */
			for(size_t a = 1; a < pv->n_occ; a++) {
				struct otd_interval x = pv->occ[a];
				size_t b = a;
				while(b > 0 && pv->occ[b - 1].start > x.start) {
					pv->occ[b] = pv->occ[b - 1];
					b--;
				}
				pv->occ[b] = x;
			}
			otd_visitor_cleanup(&v);
		}
		if(n)
			after = ids[n - 1];
	} while(st == OTD_OK && n == 256);
	after = 0;
	while(st == OTD_OK) {
		st = store_visit_type_ids(c, after, 256, -1, ids, &n, err);
		for(size_t i = 0; st == OTD_OK && i < n; i++) {
			struct otd_visit_type t;
			st = store_visit_type_get(c, ids[i], &t, err);
			if(st)
				break;
			cat->types = xrealloc(cat->types, (cat->n_types + 1) * sizeof(*cat->types));
			struct plan_visit_type *pt = &cat->types[cat->n_types++];
			pt->id = t.id;
			memcpy(pt->code, t.code, sizeof(pt->code));
			memcpy(pt->skill, t.skill, sizeof(pt->skill));
			pt->name = t.name;
			t.name = NULL;
			pt->median_min = pt->prior_median_min = t.duration_median_min;
			pt->spread = pt->prior_spread = t.duration_spread;
			pt->window_min = t.window_min;
			pt->active = t.active;
			otd_visit_type_cleanup(&t);
		}
		if(n < 256)
			break;
		after = ids[n - 1];
	}
	if(st == OTD_OK) {
		/* What was learned: the type's model over all visitors replaces
		 * its prior; a visitor's own model, with enough of their visits,
		 * is kept for their routes and offers. */
		struct otd_learned_duration *ld = NULL;
		size_t nl = 0;
		st = store_learned_durations(c, &ld, &nl, err);
		for(size_t i = 0; st == OTD_OK && i < nl; i++) {
			if(ld[i].visitor_id == 0) {
				for(size_t k = 0; k < cat->n_types; k++)
					if(cat->types[k].id == ld[i].visit_type_id && ld[i].n > 0) {
						cat->types[k].median_min = ld[i].median_s / 60.0;
						cat->types[k].spread = ld[i].sigma;
					}
			} else if(ld[i].n >= OTD_LEARN_FULL_N) {
				cat->learned = xrealloc(cat->learned,
				                        (cat->n_learned + 1) * sizeof(*cat->learned));
				cat->learned[cat->n_learned++] = (struct plan_learned){
				    ld[i].visit_type_id, ld[i].visitor_id, ld[i].median_s / 60.0, ld[i].sigma};
			}
		}
		free(ld);
		if(cat->n_learned)
			qsort(cat->learned, cat->n_learned, sizeof(*cat->learned), learned_cmp);
	}
	if(st == OTD_OK) {
		char from[11], to[11];
		planner_local_date(p, cat->from, from);
		planner_local_date(p, cat->to, to);
		struct otd_holiday *hol = NULL;
		size_t nh = 0;
		st = store_holiday_list(c, from, to, &hol, &nh, err);
		if(st == OTD_OK && nh) {
			cat->holidays = xcalloc(nh, sizeof(*cat->holidays));
			for(size_t i = 0; i < nh; i++)
				memcpy(cat->holidays[i], hol[i].date, 11);
			cat->n_holidays = nh;
		}
		free(hol);
	}
	if(st) {
		catalog_free(cat);
		return st;
	}
	*out = cat;
	return OTD_OK;
}

enum otd_status planner_catalog(struct otd_planner *p, struct otd_conn *c, int64_t now,
                                struct plan_catalog **out, struct otd_error *err)
{
	pthread_mutex_lock(&p->mu);
	struct plan_catalog *cat = p->catalog;
	int64_t need_to = now + ((int64_t)p->cfg->booking.horizon_days + 1) * 86400;
	bool check = cat && now - cat->checked_at >= CATALOG_CHECK;
	if(cat && (now < cat->built_at || need_to > cat->to)) {
		p->catalog = NULL;
		if(--cat->refs == 0)
			catalog_free(cat);
		cat = NULL;
		drop_all_days(p);
		p->cells_for = NULL;
	}
	if(cat && !check) {
		cat->refs++;
		pthread_mutex_unlock(&p->mu);
		*out = cat;
		return OTD_OK;
	}
	if(cat)
		cat->refs++; /* kept alive while its fingerprint is compared */
	pthread_mutex_unlock(&p->mu);
	if(cat) {
		/* Another process (an import) may have changed the catalog. */
		char fp[sizeof(cat->fingerprint)];
		enum otd_status st = store_catalog_fingerprint(c, fp, sizeof(fp), err);
		if(st) {
			planner_catalog_release(p, cat);
			return st;
		}
		pthread_mutex_lock(&p->mu);
		if(strcmp(fp, cat->fingerprint) == 0) {
			cat->checked_at = now;
			pthread_mutex_unlock(&p->mu);
			*out = cat;
			return OTD_OK;
		}
		if(p->catalog == cat) {
			p->catalog = NULL;
			cat->refs--;
			drop_all_days(p);
			p->cells_for = NULL;
			p->wide_gen = ++p->generation; /* the data changed */
		}
		pthread_mutex_unlock(&p->mu);
		planner_catalog_release(p, cat);
	}
	/* Build outside the lock: two threads may both build; one wins. */
	struct plan_catalog *fresh = NULL;
	enum otd_status st = catalog_build(p, c, now, &fresh, err);
	if(st)
		return st;
	pthread_mutex_lock(&p->mu);
	if(!p->catalog) {
		fresh->refs = 1; /* the planner's own reference */
		p->catalog = fresh;
		drop_all_days(p);
		free(p->cells);
		free(p->cell_gen);
		int y, m, d;
		char first[11];
		planner_local_date(p, fresh->from, first);
		otd_date_parse(first, &y, &m, &d, NULL);
		p->first_day = otd_days_from_civil(y, m, d);
		p->n_cols = (size_t)((fresh->to - fresh->from) / 86400 + 3);
		p->cells = xcalloc(fresh->n_visitors * p->n_cols + 1, sizeof(*p->cells));
		p->cell_gen = xcalloc(fresh->n_visitors * p->n_cols + 1, sizeof(*p->cell_gen));
		/* The old table's invalidations are forgotten: days read before now
		 * are not cached in the new one. */
		p->wide_gen = p->generation;
		p->n_rows = fresh->n_visitors;
		p->cells_for = fresh;
	} else {
		catalog_free(fresh);
	}
	p->catalog->refs++;
	*out = p->catalog;
	pthread_mutex_unlock(&p->mu);
	return OTD_OK;
}

void planner_catalog_release(struct otd_planner *p, struct plan_catalog *cat)
{
	if(!cat)
		return;
	pthread_mutex_lock(&p->mu);
	bool last = --cat->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if(last)
		catalog_free(cat);
}

void planner_catalog_invalidate(struct otd_planner *p)
{
	pthread_mutex_lock(&p->mu);
	struct plan_catalog *cat = p->catalog;
	p->catalog = NULL;
	drop_all_days(p);
	p->cells_for = NULL;
	p->wide_gen = ++p->generation; /* the data changed */
	bool last = cat && --cat->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if(last)
		catalog_free(cat);
}

const struct plan_visitor *plan_catalog_visitor(const struct plan_catalog *cat, int64_t id)
{
	/* Visitors are listed in id order: binary search. */
	size_t lo = 0, hi = cat->n_visitors;
	while(lo < hi) {
		size_t mid = (lo + hi) / 2;
		if(cat->visitors[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cat->n_visitors && cat->visitors[lo].id == id ? &cat->visitors[lo] : NULL;
}

const struct plan_visit_type *plan_catalog_type(const struct plan_catalog *cat, int64_t id)
{
	for(size_t i = 0; i < cat->n_types; i++)
		if(cat->types[i].id == id)
			return &cat->types[i];
	return NULL;
}

bool plan_catalog_holiday(const struct plan_catalog *cat, const char *local_date)
{
	for(size_t i = 0; i < cat->n_holidays; i++)
		if(strcmp(cat->holidays[i], local_date) == 0)
			return true;
	return false;
}

bool plan_visitor_on_shift(const struct plan_visitor *v, int64_t at)
{
	for(size_t i = 0; i < v->n_occ; i++)
		if(v->occ[i].start <= at && at < v->occ[i].end)
			return true;
	return false;
}

bool plan_visitor_works_on(const struct plan_visitor *v, int64_t day_start, int64_t day_end)
{
	for(size_t i = 0; i < v->n_occ; i++)
		if(v->occ[i].start >= day_start && v->occ[i].start < day_end)
			return true;
	return false;
}

bool plan_visitor_has_skill(const struct plan_visitor *v, const char *skill)
{
	for(size_t i = 0; i < v->n_skills; i++)
		if(strcmp(v->skills[i], skill) == 0)
			return true;
	return false;
}

/* ---- building routes -------------------------------------------------------- */

static int learned_cmp(const void *a, const void *b)
{
	const struct plan_learned *x = a, *y = b;
	if(x->visit_type_id != y->visit_type_id)
		return x->visit_type_id < y->visit_type_id ? -1 : 1;
	return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
}

void plan_visit_model(const struct plan_catalog *cat, const struct plan_visit_type *t,
                      int64_t visitor_id, double *median_min, double *spread)
{
	*median_min = t->median_min;
	*spread = t->spread;
	if(!cat || !cat->n_learned)
		return;
	struct plan_learned key = {.visit_type_id = t->id, .visitor_id = visitor_id};
	const struct plan_learned *l =
	    bsearch(&key, cat->learned, cat->n_learned, sizeof(key), learned_cmp);
	if(l) {
		*median_min = l->median_min;
		*spread = l->spread;
	}
}

void plan_visit_stop(const struct plan_catalog *cat, const struct plan_visit_type *t,
                     int64_t visitor_id, double lat, double lon, int64_t start, int64_t end,
                     enum otd_stop_kind kind, int64_t id, struct otd_stop *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->id = id;
	out->lat = lat;
	out->lon = lon;
	out->a = start;
	out->b = end;
	double median, spread;
	plan_visit_model(cat, t, visitor_id, &median, &spread);
	otd_lognormal_moments(median * 60.0, spread, &out->service_mean, &out->service_var);
}

static long place_with(const struct otd_plan *plan, struct otd_route *r, const struct otd_stop *s)
{
	if(!r->timed)
		otd_route_time(r, plan);
	double added;
	long pos = r->feasible ? otd_route_best_insertion(r, plan, s, &added) : -1;
	if(pos >= 0) {
		otd_route_insert(r, (size_t)pos, s);
		otd_route_time(r, plan);
		if(r->feasible)
			return pos;
		/* Not expected (the O(1) check is conservative): undo and fall
		 * through to the exact search. */
		otd_route_remove(r, (size_t)pos);
		otd_route_time(r, plan);
	}
	/* The O(1) check may refuse a few feasible positions: try each exactly. */
	long best = -1;
	double best_travel = 0;
	for(size_t i = 0; i <= r->n; i++) {
		struct otd_route t;
		otd_route_copy(&t, r);
		otd_route_insert(&t, i, s);
		if(otd_route_time(&t, plan) && (best < 0 || t.travel_mean < best_travel)) {
			best = (long)i;
			best_travel = t.travel_mean;
		}
		otd_route_cleanup(&t);
	}
	if(best >= 0) {
		otd_route_insert(r, (size_t)best, s);
		otd_route_time(r, plan);
	}
	return best;
}

long plan_route_place(const struct otd_planner *p, struct otd_route *r, const struct otd_stop *s)
{
	return place_with(&p->plan, r, s);
}

long plan_route_place_at(const struct otd_planner *p, struct otd_route *r, const struct otd_stop *s,
                         double quantile)
{
	long pos = place_with(&p->plan, r, s);
	if(pos < 0)
		return -1;
	/* The others keep their promises at the planning quantile (placing
	 * checked that); the new stop's own arrival must come before its
	 * window ends at quantile. */
	double z = otd_normal_quantile(quantile);
	double sd = r->arr_var[pos] > 0 ? sqrt(r->arr_var[pos]) : 0.0;
	if(r->arr_mean[pos] + z * sd <= (double)s->b)
		return pos;
	otd_route_remove(r, (size_t)pos);
	otd_route_time(r, &p->plan);
	return -1;
}

long plan_day_route_for(const struct plan_day *d, int64_t start, int64_t end)
{
	for(size_t r = 0; r < d->n_routes; r++)
		if(start >= d->routes[r].shift_start && end <= d->routes[r].shift_end + 3600 * 24 &&
		   start < d->routes[r].shift_end)
			return (long)r;
	return -1;
}

enum otd_status planner_build_day(const struct otd_planner *p, struct otd_conn *c,
                                  const struct plan_catalog *cat, const struct plan_visitor *v,
                                  const char *local_date, int64_t now, int64_t exclude_appointment,
                                  int64_t exclude_hold, struct plan_day *out,
                                  struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	int64_t day_start, day_end;
	if(!planner_day_bounds(p, local_date, &day_start, &day_end))
		return otd_error_set(err, OTD_EINVAL, "invalid_date", "date", "Not a date: %s.",
		                     local_date);
	/* A visitor who said they are unavailable (sick, a breakdown) works no
	 * more of that day: no route, so nothing is offered or booked for it. */
	struct otd_visitor_day vd;
	enum otd_status vs = store_visitor_day_get(c, v->id, local_date, &vd, err);
	if(vs != OTD_OK && vs != OTD_ENOTFOUND)
		return vs;
	bool off = vs == OTD_OK && strcmp(vd.state, "unavailable") == 0;
	struct otd_route_item *items = NULL;
	size_t n = 0;
	enum otd_status st = store_route_items(c, v->id, local_date, now, &items, &n, err);
	if(st)
		return st;
	/* Drop what the caller leaves out. */
	size_t k = 0;
	for(size_t i = 0; i < n; i++) {
		if(items[i].kind == OTD_ITEM_VISIT && items[i].id == exclude_appointment)
			continue;
		if(items[i].kind == OTD_ITEM_HOLD && items[i].id == exclude_hold)
			continue;
		/* A hold offering another window to an appointment being moved
		 * is not capacity for that appointment's own route check. */
		items[k++] = items[i];
	}
	return planner_build_day_from(p, cat, v, local_date, now, off, items, k, out, err);
}

enum otd_status planner_build_day_from(const struct otd_planner *p, const struct plan_catalog *cat,
                                       const struct plan_visitor *v, const char *local_date,
                                       int64_t now, bool off, struct otd_route_item *items,
                                       size_t n, struct plan_day *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->visitor_id = v->id;
	snprintf(out->local_date, sizeof(out->local_date), "%s", local_date);
	out->built_at = now;
	out->valid_until = INT64_MAX;
	int64_t day_start, day_end;
	if(!planner_day_bounds(p, local_date, &day_start, &day_end)) {
		free(items);
		return otd_error_set(err, OTD_EINVAL, "invalid_date", "date", "Not a date: %s.",
		                     local_date);
	}
	/* A shift belongs to the day it starts on. */
	for(size_t i = 0; !off && i < v->n_occ && out->n_routes < PLAN_ROUTES_MAX; i++) {
		if(v->occ[i].start < day_start || v->occ[i].start >= day_end)
			continue;
		otd_route_init(&out->routes[out->n_routes], v->base_lat, v->base_lon,
		               v->occ[i].start, v->occ[i].end);
		out->n_routes++;
	}
	out->items = items;
	out->n_items = n;
	for(size_t r = 0; r < out->n_routes; r++)
		out->item_of[r] = xcalloc(n + 2, sizeof(long));
	for(size_t i = 0; i < n; i++) {
		const struct otd_route_item *it = &items[i];
		if(it->kind == OTD_ITEM_HOLD && it->expires_at < out->valid_until)
			out->valid_until = it->expires_at;
		long r = plan_day_route_for(out, it->window_start, it->window_end);
		if(r < 0 && out->n_routes)
			r = 0; /* outside every shift (the shift changed): still counted */
		if(r < 0)
			continue;
		struct otd_route *route = &out->routes[r];
		struct otd_stop s = {.kind = it->kind == OTD_ITEM_VISIT ? OTD_STOP_VISIT : OTD_STOP_HOLD,
		                     .id = it->id,
		                     .lat = it->lat,
		                     .lon = it->lon,
		                     .a = it->window_start,
		                     .b = it->window_end};
		/* What was learned, for this visitor, when anything was. */
		double median = it->median_min, spread = it->spread;
		const struct plan_visit_type *vt = plan_catalog_type(cat, it->visit_type_id);
		if(vt)
			plan_visit_model(cat, vt, v->id, &median, &spread);
		otd_lognormal_moments(median * 60.0, spread, &s.service_mean, &s.service_var);
		out->item_of[r][route->n] = (long)i;
		otd_route_insert(route, route->n, &s);
	}
	for(size_t r = 0; r < out->n_routes; r++) {
		struct otd_route *route = &out->routes[r];
		otd_route_time(route, &p->plan);
		if(p->break_minutes <= 0)
			continue;
		int64_t bs = day_start + (int64_t)p->break_start_min * 60;
		int64_t be = day_start + (int64_t)p->break_end_min * 60;
		/* DST days: minutes since midnight are wall-clock minutes. */
		bs += otd_tz_offset_at(p->tz, day_start) - otd_tz_offset_at(p->tz, bs);
		be += otd_tz_offset_at(p->tz, day_start) - otd_tz_offset_at(p->tz, be);
		if(route->shift_start >= be || route->shift_end < bs + p->break_minutes * 60)
			continue;
		struct otd_stop br = {.kind = OTD_STOP_BREAK,
		                      .a = bs > route->shift_start ? bs : route->shift_start,
		                      .b = be,
		                      .service_mean = p->break_minutes * 60.0};
		long pos = plan_route_place(p, route, &br);
		if(pos < 0)
			continue; /* an over-full day: no room left for a break */
		/* Keep item_of in step with the stops. */
		memmove(&out->item_of[r][pos + 1], &out->item_of[r][pos],
		        (route->n - 1 - (size_t)pos) * sizeof(long));
		out->item_of[r][pos] = -1;
	}
	return OTD_OK;
}

/* ---- the day cache ---------------------------------------------------------- */

/* Called with the lock held. */
static void drop_all_days(struct otd_planner *p)
{
	size_t n = p->cells ? p->n_rows * p->n_cols : 0;
	for(size_t i = 0; i < n; i++) {
		struct plan_day *d = p->cells[i];
		p->cells[i] = NULL;
		if(d && --d->refs == 0)
			day_free(d);
	}
	p->n_days = 0;
}

/* The column of local_date in the day table, or -1. Lock held. */
static long column_of(const struct otd_planner *p, const char *local_date)
{
	int y, m, d;
	if(!p->cells || otd_date_parse(local_date, &y, &m, &d, NULL) != OTD_OK)
		return -1;
	int64_t col = otd_days_from_civil(y, m, d) - p->first_day;
	return col >= 0 && (size_t)col < p->n_cols ? (long)col : -1;
}

/* The cell of visitor v in column col, or NULL when cat is not the cached
 * catalog or col is outside the table. Called with the lock held. */
static struct plan_day **cell_at(struct otd_planner *p, const struct plan_catalog *cat,
                                 const struct plan_visitor *v, long col)
{
	if(cat != p->cells_for || !p->cells || col < 0)
		return NULL;
	size_t row = (size_t)(v - cat->visitors);
	if(row >= cat->n_visitors)
		return NULL;
	return &p->cells[row * p->n_cols + (size_t)col];
}

static struct plan_day **cell_of(struct otd_planner *p, const struct plan_catalog *cat,
                                 const struct plan_visitor *v, const char *local_date)
{
	return cell_at(p, cat, v, column_of(p, local_date));
}

static bool day_fresh(const struct plan_day *d, int64_t now)
{
	return now < d->valid_until && now >= d->built_at;
}

uint64_t planner_generation(struct otd_planner *p)
{
	pthread_mutex_lock(&p->mu);
	uint64_t g = p->generation;
	pthread_mutex_unlock(&p->mu);
	return g;
}

enum otd_status planner_days(struct otd_planner *p, struct otd_conn *c,
                             const struct plan_catalog *cat, const struct plan_visitor *const *vs,
                             size_t n, const char *local_date, int64_t now, uint64_t snapshot_gen,
                             struct plan_day **out, struct otd_error *err)
{
	size_t missing = 0;
	pthread_mutex_lock(&p->mu);
	long col = column_of(p, local_date);
	for(size_t i = 0; i < n; i++) {
		struct plan_day **cell = cell_at(p, cat, vs[i], col);
		out[i] = NULL;
		if(cell && *cell && day_fresh(*cell, now)) {
			(*cell)->refs++;
			p->hits++;
			out[i] = *cell;
		} else {
			missing++;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if(!missing)
		return OTD_OK;
	for(size_t i = 0; i < n; i++) {
		if(out[i])
			continue;
		struct plan_day *d = xcalloc(1, sizeof(*d));
		enum otd_status st =
		    planner_build_day(p, c, cat, vs[i], local_date, now, 0, 0, d, err);
		if(st) {
			free(d);
			for(size_t k = 0; k < n; k++)
				if(out[k])
					planner_day_release(p, out[k]);
			return st;
		}
		d->refs = 1; /* the caller's */
		pthread_mutex_lock(&p->mu);
		p->builds++;
		/* Cache what was read only when neither this day nor everything
		 * was invalidated since the caller's snapshot began: else a change
		 * committed meanwhile would be hidden behind a stale copy. */
		struct plan_day **cell =
		    p->wide_gen <= snapshot_gen ? cell_of(p, cat, vs[i], local_date) : NULL;
		if(cell && p->cell_gen[cell - p->cells] > snapshot_gen)
			cell = NULL;
		if(cell) {
			if(*cell && --(*cell)->refs == 0)
				day_free(*cell);
			else if(!*cell)
				p->n_days++;
			*cell = d;
			d->refs++; /* the cache's */
		}
		pthread_mutex_unlock(&p->mu);
		out[i] = d;
	}
	return OTD_OK;
}

enum otd_status planner_day(struct otd_planner *p, struct otd_conn *c,
                            const struct plan_catalog *cat, const struct plan_visitor *v,
                            const char *local_date, int64_t now, uint64_t snapshot_gen,
                            struct plan_day **out, struct otd_error *err)
{
	return planner_days(p, c, cat, &v, 1, local_date, now, snapshot_gen, out, err);
}

void planner_day_release(struct otd_planner *p, struct plan_day *day)
{
	if(!day)
		return;
	pthread_mutex_lock(&p->mu);
	bool last = --day->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if(last)
		day_free(day);
}

/* Marks the day of visitor_id on local_date changed now (its cell's
 * generation, or every cell's when it has none) and puts day in its place
 * when day is given and was built against the current catalog cat; what
 * the cell held, and a day not kept, are freed. */
static void replace_day(struct otd_planner *p, int64_t visitor_id, const char *local_date,
                        const struct plan_catalog *cat, struct plan_day *day)
{
	pthread_mutex_lock(&p->mu);
	p->generation++;
	const struct plan_catalog *cur = p->cells_for;
	const struct plan_visitor *v = cur ? plan_catalog_visitor(cur, visitor_id) : NULL;
	struct plan_day **cell = v ? cell_of(p, cur, v, local_date) : NULL;
	struct plan_day *old = NULL;
	/* Built against another catalog (it changed meanwhile): only dropped. */
	bool keep = cell && day && cat == cur;
	if(cell) {
		p->cell_gen[cell - p->cells] = p->generation;
		old = *cell;
		*cell = keep ? day : NULL;
		if(keep && !old)
			p->n_days++;
		else if(!keep && old)
			p->n_days--;
	} else {
		p->wide_gen = p->generation; /* no cell of its own: as if all changed */
	}
	if(keep)
		day->refs = 1; /* the cache's */
	bool last = old && --old->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if(last)
		day_free(old);
	if(day && !keep)
		day_free(day);
}

void planner_day_invalidate(struct otd_planner *p, int64_t visitor_id, const char *local_date)
{
	replace_day(p, visitor_id, local_date, NULL, NULL);
}

void planner_day_put(struct otd_planner *p, const struct plan_catalog *cat, struct plan_day *day)
{
	replace_day(p, day->visitor_id, day->local_date, cat, day);
}

void planner_stats(struct otd_planner *p, uint64_t *hits, uint64_t *builds, size_t *days)
{
	pthread_mutex_lock(&p->mu);
	*hits = p->hits;
	*builds = p->builds;
	*days = p->n_days;
	pthread_mutex_unlock(&p->mu);
}
