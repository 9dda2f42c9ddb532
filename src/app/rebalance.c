/* Rebalancing a day with the optimiser: see rebalance.h. */
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/booking.h"
#include "app/bus.h"
#include "app/publish.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/rebalance.h"
#include "onthedot/civil.h"
#include "onthedot/clock.h"
#include "onthedot/mem.h"
#include "onthedot/optimise.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "onthedot/vrp.h"
#include "store/board.h"
#include "store/booking.h"
#include "store/guarantees.h"
#include "store/proposals.h"
#include "store/store.h"
#include "store/tracking.h"

#define POSITION_GAP 1024
/* Times the optimiser may be asked again with the windows it missed
 * drawn in. */
#define REPAIR_ROUNDS 4

/* ---- the day as it is ---------------------------------------------------- */

struct item_info {
	char status[16];
	char reference[11];
	bool at_risk;
};

/* Every visitor in scope with their routes built from the database, the
 * status of each visit, and a fingerprint of all of it. */
struct snapshot {
	struct otd_app *app;
	const char *date;
	const int64_t *want; /* scope; NULL: every visitor */
	size_t n_want;
	int64_t now;
	struct plan_catalog *cat;
	size_t n;
	const struct plan_visitor **vis;
	struct plan_day *days;
	struct item_info **info; /* per visitor, per item */
	const char **skills;     /* the distinct skills of the visitors in scope */
	size_t n_skills;
	int at_risk; /* booked visits at risk now */
	unsigned char version[32];
	unsigned char auto_key[32]; /* version and the visits at risk */
};

static void snapshot_cleanup(struct snapshot *s)
{
	for(size_t i = 0; i < s->n; i++) {
		plan_day_cleanup(&s->days[i]);
		free(s->info[i]);
	}
	free(s->days);
	free(s->info);
	free(s->skills);
	s->skills = NULL;
	s->n_skills = 0;
	free(s->vis);
	if(s->cat)
		planner_catalog_release(s->app->planner, s->cat);
	s->cat = NULL;
	s->days = NULL;
	s->info = NULL;
	s->vis = NULL;
	s->n = 0;
}

static void hash_i64(crypto_generichash_state *h, int64_t v);

static void hash_f64(crypto_generichash_state *h, double v)
{
	/* Millionths (of a degree, of a minute) are fine enough. */
	hash_i64(h, (int64_t)llround(v * 1e6));
}

static void hash_i64(crypto_generichash_state *h, int64_t v)
{
	unsigned char b[8];
	for(int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

/* Reads the day on c (a read snapshot, or the writer's transaction). */
static enum otd_status snapshot_take(struct otd_conn *c, struct snapshot *s, struct otd_error *err)
{
	struct otd_app *app = s->app;
	enum otd_status st = planner_catalog(app->planner, c, s->now, &s->cat, err);
	if(st)
		return st;
	const struct plan_catalog *cat = s->cat;
	s->vis = xcalloc(cat->n_visitors + 1, sizeof(*s->vis));
	/* Allocated before the scope is read, so that a cleanup after an
	 * unknown visitor finds them. */
	s->days = xcalloc(cat->n_visitors + 1, sizeof(*s->days));
	s->info = xcalloc(cat->n_visitors + 1, sizeof(*s->info));
	if(s->n_want) {
		for(size_t i = 0; i < s->n_want; i++) {
			const struct plan_visitor *v = plan_catalog_visitor(cat, s->want[i]);
			if(!v)
				return otd_error_set(err, OTD_EINVAL, "unknown_visitor", "scope",
				                     "There is no active visitor %lld.",
				                     (long long)s->want[i]);
			bool twice = false;
			for(size_t k = 0; k < s->n; k++)
				twice |= s->vis[k] == v;
			if(!twice)
				s->vis[s->n++] = v;
		}
	} else {
		for(size_t i = 0; i < cat->n_visitors; i++)
			s->vis[s->n++] = &cat->visitors[i];
	}
	size_t all = 0;
	for(size_t i = 0; i < s->n; i++)
		all += s->vis[i]->n_skills;
	s->skills = xcalloc(all + 1, sizeof(*s->skills));
	for(size_t i = 0; i < s->n; i++)
		for(size_t k = 0; k < s->vis[i]->n_skills; k++) {
			const char *name = s->vis[i]->skills[k];
			size_t q = 0;
			while(q < s->n_skills && strcmp(s->skills[q], name) != 0)
				q++;
			if(q == s->n_skills)
				s->skills[s->n_skills++] = name;
		}
	crypto_generichash_state h, risk;
	crypto_generichash_init(&h, NULL, 0, sizeof(s->version));
	crypto_generichash_init(&risk, NULL, 0, sizeof(s->auto_key));
	crypto_generichash_update(&h, (const unsigned char *)s->date, strlen(s->date));
	for(size_t i = 0; i < s->n; i++) {
		struct plan_day *d = &s->days[i];
		st = planner_build_day(app->planner, c, cat, s->vis[i], s->date, s->now, 0, 0, d,
		                       err);
		if(st)
			return st;
		s->info[i] = xcalloc(d->n_items + 1, sizeof(**s->info));
		hash_i64(&h, s->vis[i]->id);
		hash_f64(&h, s->vis[i]->base_lat);
		hash_f64(&h, s->vis[i]->base_lon);
		for(size_t k = 0; k < s->vis[i]->n_skills; k++)
			crypto_generichash_update(&h, (const unsigned char *)s->vis[i]->skills[k],
			                          strlen(s->vis[i]->skills[k]) + 1);
		hash_i64(&h, (int64_t)d->n_routes);
		for(size_t r = 0; r < d->n_routes; r++) {
			hash_i64(&h, d->routes[r].shift_start);
			hash_i64(&h, d->routes[r].shift_end);
		}
		for(size_t k = 0; k < d->n_items; k++) {
			const struct otd_route_item *it = &d->items[k];
			if(it->kind == OTD_ITEM_VISIT) {
				struct otd_appointment a;
				st = store_appointment_get(c, it->id, &a, err);
				if(st)
					return st;
				snprintf(s->info[i][k].status, sizeof(s->info[i][k].status), "%s",
				         a.status);
				s->info[i][k].at_risk = strcmp(a.status, "booked") == 0 &&
				                        strcmp(a.risk, "at_risk") == 0;
				s->at_risk += s->info[i][k].at_risk;
				snprintf(s->info[i][k].reference, sizeof(s->info[i][k].reference),
				         "%s", a.reference);
			}
			if(it->kind == OTD_ITEM_VISIT && s->info[i][k].at_risk)
				hash_i64(&risk, it->id);
			hash_i64(&h, it->kind);
			hash_i64(&h, it->id);
			hash_i64(&h, it->visit_type_id);
			hash_f64(&h, it->lat);
			hash_f64(&h, it->lon);
			hash_f64(&h, it->median_min);
			hash_f64(&h, it->spread);
			hash_i64(&h, it->window_start);
			hash_i64(&h, it->window_end);
			hash_i64(&h, it->route_position);
			crypto_generichash_update(&h, (const unsigned char *)s->info[i][k].status,
			                          strlen(s->info[i][k].status) + 1);
		}
	}
	crypto_generichash_final(&h, s->version, sizeof(s->version));
	crypto_generichash_update(&risk, s->version, sizeof(s->version));
	crypto_generichash_final(&risk, s->auto_key, sizeof(s->auto_key));
	return OTD_OK;
}

static enum otd_status snapshot_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	return snapshot_take(c, arg, err);
}

/* ---- the problem ------------------------------------------------------------ */

/* A job of the problem: a stop on a route now, or a visit on none. */
struct job_ref {
	int visitor;    /* index in the snapshot */
	long item;      /* index in that visitor's day items */
	int from_route; /* vehicle now, or -1 */
	int from_pos;   /* place among the visits and holds of its route now */
};

struct problem {
	struct otd_vrp p;
	struct job_ref *refs;
	int *veh_visitor;            /* per vehicle: snapshot index */
	int *veh_route;              /* per vehicle: route index in that day */
	struct otd_vrp_solution now; /* the day as it is */
	int orphans;                 /* visits on no route */
};

static void problem_cleanup(struct problem *pb)
{
	otd_vrp_cleanup(&pb->p);
	otd_vrp_solution_cleanup(&pb->now);
	free(pb->refs);
	free(pb->veh_visitor);
	free(pb->veh_route);
}

static bool under_way(const char *status)
{
	return strcmp(status, "travelling") == 0 || strcmp(status, "arrived") == 0;
}

/* The skill bit of a skill name among the scope's visitors' skills. */
/* The bit of a skill: its place in the scope's skill table (bit 63: nobody
 * in scope has it). propose refuses more than 62 skills first. */
static uint64_t skill_bit(const struct snapshot *s, const char *skill)
{
	if(!skill || !*skill)
		return 0;
	for(size_t k = 0; k < s->n_skills; k++)
		if(strcmp(s->skills[k], skill) == 0)
			return k < 62 ? UINT64_C(1) << k : UINT64_C(1) << 62;
	return UINT64_C(1) << 63;
}

static uint64_t visitor_skills(const struct snapshot *s, const struct plan_visitor *v)
{
	uint64_t m = 0;
	for(size_t k = 0; k < v->n_skills; k++)
		m |= skill_bit(s, v->skills[k]);
	return m & ~(UINT64_C(1) << 63);
}

static const char *item_skill(const struct snapshot *s, const struct otd_route_item *it)
{
	const struct plan_visit_type *t = plan_catalog_type(s->cat, it->visit_type_id);
	return t ? t->skill : NULL;
}

static void problem_build(struct otd_app *app, const struct snapshot *s, struct problem *pb)
{
	const struct otd_plan *plan = planner_plan(app->planner);
	memset(pb, 0, sizeof(*pb));
	int nv = 0, nj = 0;
	for(size_t i = 0; i < s->n; i++) {
		nv += (int)s->days[i].n_routes;
		nj += (int)s->days[i].n_items;
	}
	struct otd_vrp *p = &pb->p;
	p->vehicles = xcalloc((size_t)nv + 1, sizeof(*p->vehicles));
	nj += nv; /* a break a route */
	p->jobs = xcalloc((size_t)nj + 1, sizeof(*p->jobs));
	pb->refs = xcalloc((size_t)nj + 1, sizeof(*pb->refs));
	pb->veh_visitor = xcalloc((size_t)nv + 1, sizeof(int));
	pb->veh_route = xcalloc((size_t)nv + 1, sizeof(int));
	double *lat = xcalloc((size_t)(nv + nj) + 1, sizeof(double));
	double *lon = xcalloc((size_t)(nv + nj) + 1, sizeof(double));
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	double margin_sum = 0;
	int margin_n = 0;
	bool *placed = NULL;
	/* Vehicles: one per route; then the jobs on them in route order. */
	int *first = xcalloc((size_t)nv + 2, sizeof(int));
	int *order = xcalloc((size_t)nj + 1, sizeof(int));
	int k = 0;
	for(size_t i = 0; i < s->n; i++) {
		const struct plan_day *d = &s->days[i];
		free(placed);
		placed = xcalloc(d->n_items + 1, sizeof(bool));
		for(size_t r = 0; r < d->n_routes; r++) {
			const struct otd_route *rt = &d->routes[r];
			int v = p->n_vehicles++;
			struct otd_vrp_vehicle *veh = &p->vehicles[v];
			veh->start_node = veh->end_node = v;
			lat[v] = rt->base_lat;
			lon[v] = rt->base_lon;
			veh->start = (double)rt->shift_start;
			veh->end = (double)rt->shift_end - plan->z * sqrt(rt->arr_var[rt->n]);
			veh->capacity = -1;
			veh->skills = visitor_skills(s, s->vis[i]);
			veh->id = s->vis[i]->id;
			pb->veh_visitor[v] = (int)i;
			pb->veh_route[v] = (int)r;
			if(rt->shift_start < lo)
				lo = rt->shift_start;
			if(rt->shift_end > hi)
				hi = rt->shift_end;
			first[v] = k;
			int locked = 0, pos = 0;
			for(size_t j = 0; j < rt->n; j++) {
				const struct otd_stop *st = &rt->stops[j];
				if(st->kind == OTD_STOP_BREAK) {
					/* The break: a job of this visitor's own (at their
					 * base, below). Soft and required, so that it is always
					 * on the route and never traded for a promise; a
					 * proposal that loses the break is refused below. */
					int jb = p->n_jobs++;
					struct otd_vrp_job *job = &p->jobs[jb];
					job->node = -1;
					job->a = (double)st->a;
					job->b =
					    (double)st->b - 1.0 - plan->z * sqrt(rt->arr_var[j]);
					job->service = st->service_mean;
					job->soft = true;
					job->required = true;
					job->home_vehicle = v;
					job->pinned = true;
					job->locked_vehicle = -1;
					job->locked_pos = -1;
					pb->refs[jb] = (struct job_ref){(int)i, -1, v, -1};
					order[k++] = jb;
					continue;
				}
				long item = d->item_of[r][j];
				if(item < 0 ||
				   (st->kind != OTD_STOP_VISIT && st->kind != OTD_STOP_HOLD))
					continue;
				placed[item] = true;
				int jb = p->n_jobs++;
				struct otd_vrp_job *job = &p->jobs[jb];
				job->node = -1; /* set below */
				/* The planning quantile's margin this stop has now: the
				 * window ends that much earlier for the optimiser. */
				double margin = plan->z * sqrt(rt->arr_var[j]);
				margin_sum += margin;
				margin_n++;
				job->a = (double)st->a;
				job->b = (double)st->b - 1.0 - margin;
				job->service = st->service_mean;
				job->skills = skill_bit(s, item_skill(s, &d->items[item]));
				/* Soft, holds too: a hold late in this model counts as a
				 * promise broken, and the re-timing below refuses any
				 * proposal that loses a hold kept now. */
				job->soft = true;
				job->home_vehicle = v;
				job->pinned = st->kind == OTD_STOP_HOLD;
				job->locked_vehicle = -1;
				job->locked_pos = -1;
				if(st->kind == OTD_STOP_VISIT &&
				   under_way(s->info[i][item].status)) {
					job->locked_vehicle = v;
					job->locked_pos = locked++;
				}
				job->id = st->id;
				pb->refs[jb] = (struct job_ref){(int)i, item, v, pos++};
				order[k++] = jb;
			}
		}
		/* Visits on no route: an unavailable visitor's, or outside every
		 * shift. Holds on no route are nobody's capacity: left out. */
		for(size_t it = 0; it < d->n_items; it++) {
			const struct otd_route_item *ri = &d->items[it];
			if(placed[it] || ri->kind != OTD_ITEM_VISIT ||
			   under_way(s->info[i][it].status))
				continue;
			int jb = p->n_jobs++;
			struct otd_vrp_job *job = &p->jobs[jb];
			double mean, var;
			otd_lognormal_moments(ri->median_min * 60.0, ri->spread, &mean, &var);
			job->node = -1;
			job->a = (double)ri->window_start;
			job->b =
			    (double)ri->window_end - 1.0; /* margin: below, once all are known */
			job->service = mean;
			job->skills = skill_bit(s, item_skill(s, ri));
			job->soft = true;
			job->home_vehicle = -1;
			job->locked_vehicle = -1;
			job->locked_pos = -1;
			job->id = ri->id;
			pb->refs[jb] = (struct job_ref){(int)i, (long)it, -1, -1};
			pb->orphans++;
		}
	}
	first[p->n_vehicles] = k;
	free(placed);
	/* A visit on no route gets the mean margin of the others. */
	for(int j = 0; j < p->n_jobs; j++)
		if(pb->refs[j].from_route < 0)
			p->jobs[j].b -= margin_n ? margin_sum / margin_n : 0;
	/* Places: the bases, then one per job. */
	p->n_nodes = p->n_vehicles + p->n_jobs;
	for(int j = 0; j < p->n_jobs; j++) {
		const struct job_ref *r = &pb->refs[j];
		p->jobs[j].node = p->n_vehicles + j;
		if(r->item < 0) {
			/* A break is taken where the visitor is; here it is put at
			 * their base, a detour that errs on the safe side. */
			lat[p->jobs[j].node] = lat[r->from_route];
			lon[p->jobs[j].node] = lon[r->from_route];
			continue;
		}
		const struct otd_route_item *it = &s->days[r->visitor].items[r->item];
		lat[p->jobs[j].node] = it->lat;
		lon[p->jobs[j].node] = it->lon;
	}
	int N = p->n_nodes;
	p->dist = xcalloc((size_t)N * (size_t)N + 1, sizeof(double));
	p->time = p->dist; /* the objective's travel is travel time */
	if(lo > hi)
		lo = hi = 0;
	for(int a = 0; a < N; a++)
		for(int b = a + 1; b < N; b++) {
			double km = otd_distance_km(lat[a], lon[a], lat[b], lon[b]), mean, var;
			otd_travel_leg(plan->travel, plan->tz, km, lo, hi, &mean, &var);
			p->dist[a * N + b] = p->dist[b * N + a] = mean;
		}
	snprintf(p->name, sizeof(p->name), "%s", s->date);
	free(lat);
	free(lon);
	/* The day as it is, for a start. The matrix takes each leg at the
	 * day's slowest speed, so a full route can come back later than its
	 * shift allows in this model although the planning model keeps it:
	 * such a shift is stretched to the route's return, so that the day as
	 * it is stays a solution (what the optimiser then finds is re-timed
	 * under the planning model before anyone sees it). */
	for(int v = 0; v < p->n_vehicles; v++) {
		struct otd_vrp_vehicle *veh = &p->vehicles[v];
		double t = veh->start;
		int at = veh->start_node;
		for(int q = first[v]; q < first[v + 1]; q++) {
			const struct otd_vrp_job *jb = &p->jobs[order[q]];
			t += p->time[at * N + jb->node];
			if(t < jb->a)
				t = jb->a;
			t += jb->service;
			at = jb->node;
		}
		t += p->time[at * N + veh->end_node];
		if(first[v + 1] > first[v] && t > veh->end)
			veh->end = t;
	}
	otd_vrp_solution_init(&pb->now, p);
	memcpy(pb->now.first, first, ((size_t)p->n_vehicles + 1) * sizeof(int));
	memcpy(pb->now.order, order, (size_t)k * sizeof(int));
	pb->now.n_unassigned = 0;
	for(int j = 0; j < p->n_jobs; j++)
		if(pb->refs[j].from_route < 0)
			pb->now.unassigned[pb->now.n_unassigned++] = j;
	free(first);
	free(order);
}

/* ---- the result under the real model ------------------------------------------ */

static bool stop_kept(const struct otd_route *r, const struct otd_plan *plan, size_t i)
{
	return r->arr_mean[i] + plan->z * sqrt(r->arr_var[i]) < (double)r->stops[i].b;
}

/* Visitor vehicle v's route in the solution, built and timed under the
 * model, with the break placed as the planner places it. */
static void build_route(struct otd_app *app, const struct snapshot *s, const struct problem *pb,
                        const struct otd_vrp_solution *sol, int v, struct otd_route *out)
{
	const struct plan_day *d = &s->days[pb->veh_visitor[v]];
	const struct otd_route *was = &d->routes[pb->veh_route[v]];
	const struct plan_visitor *vis = s->vis[pb->veh_visitor[v]];
	otd_route_init(out, was->base_lat, was->base_lon, was->shift_start, was->shift_end);
	for(int k = sol->first[v]; k < sol->first[v + 1]; k++) {
		int j = sol->order[k];
		const struct job_ref *r = &pb->refs[j];
		if(r->item < 0)
			continue; /* the break: placed below, as the planner places it */
		const struct otd_route_item *it = &s->days[r->visitor].items[r->item];
		struct otd_stop st;
		const struct plan_visit_type *t = plan_catalog_type(s->cat, it->visit_type_id);
		if(t) {
			plan_visit_stop(s->cat, t, vis->id, it->lat, it->lon, it->window_start,
			                it->window_end,
			                it->kind == OTD_ITEM_VISIT ? OTD_STOP_VISIT : OTD_STOP_HOLD,
			                it->id, &st);
		} else {
			memset(&st, 0, sizeof(st));
			st.kind = it->kind == OTD_ITEM_VISIT ? OTD_STOP_VISIT : OTD_STOP_HOLD;
			st.id = it->id;
			st.lat = it->lat;
			st.lon = it->lon;
			st.a = it->window_start;
			st.b = it->window_end;
			otd_lognormal_moments(it->median_min * 60.0, it->spread, &st.service_mean,
			                      &st.service_var);
		}
		otd_route_insert(out, out->n, &st);
	}
	const struct otd_plan *plan = planner_plan(app->planner);
	otd_route_time(out, plan);
	for(size_t i = 0; i < was->n; i++)
		if(was->stops[i].kind == OTD_STOP_BREAK) {
			plan_route_place(app->planner, out, &was->stops[i]);
			break;
		}
	if(!out->timed)
		otd_route_time(out, plan);
}

/* The proposal as kept for apply. */
struct kept {
	bool automatic; /* applied by the auto mode */
	char id[33];
	char date[11];
	int64_t expires_at;
	unsigned char version[32];
	int64_t *visitors; /* scope, as resolved */
	size_t n_visitors;
	/* per route written: visitor, and its items in the new order */
	size_t n_routes;
	int64_t *route_visitor;
	size_t *route_n;
	struct otd_route_item **route_items;
	/* visits going to another visitor */
	size_t n_moves;
	int64_t *move_id, *move_from, *move_to;
};

static void kept_free(struct kept *k)
{
	if(!k)
		return;
	for(size_t r = 0; r < k->n_routes; r++)
		free(k->route_items[r]);
	free(k->route_items);
	free(k->route_n);
	free(k->route_visitor);
	free(k->visitors);
	free(k->move_id);
	free(k->move_from);
	free(k->move_to);
	free(k);
}

struct otd_rebalance_cache {
	pthread_mutex_t lock;
	struct kept *slot[OTD_REBALANCE_KEPT];
	unsigned char last_auto[32]; /* the day the auto mode last looked at */
	bool have_last_auto;
};

struct otd_rebalance_cache *rebalance_cache_new(void)
{
	struct otd_rebalance_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void rebalance_cache_free(struct otd_rebalance_cache *c)
{
	if(!c)
		return;
	for(size_t i = 0; i < OTD_REBALANCE_KEPT; i++)
		kept_free(c->slot[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Keeps k, replacing an expired or the oldest proposal. */
static void cache_put(struct otd_rebalance_cache *c, struct kept *k, int64_t now)
{
	pthread_mutex_lock(&c->lock);
	size_t at = 0;
	for(size_t i = 0; i < OTD_REBALANCE_KEPT; i++) {
		if(!c->slot[i] || c->slot[i]->expires_at <= now) {
			at = i;
			break;
		}
		if(c->slot[i]->expires_at < c->slot[at]->expires_at)
			at = i;
	}
	kept_free(c->slot[at]);
	c->slot[at] = k;
	pthread_mutex_unlock(&c->lock);
}

/* Takes the live proposal id out of the cache (NULL when none). */
static struct kept *cache_take(struct otd_rebalance_cache *c, const char *id, int64_t now)
{
	struct kept *k = NULL;
	pthread_mutex_lock(&c->lock);
	for(size_t i = 0; i < OTD_REBALANCE_KEPT; i++)
		if(c->slot[i] && strcmp(c->slot[i]->id, id) == 0) {
			k = c->slot[i];
			c->slot[i] = NULL;
			break;
		}
	pthread_mutex_unlock(&c->lock);
	if(k && k->expires_at <= now) {
		kept_free(k);
		k = NULL;
	}
	return k;
}

/* ---- proposals shared by the nodes (PostgreSQL) ------------------------ */

/* k as JSON text for store_proposal_put: what apply needs, and no more
 * (route items: kind, id and new position). A heap string. */
static char *kept_encode(const struct kept *k)
{
	char version[sizeof(k->version) * 2 + 1];
	sodium_bin2hex(version, sizeof(version), k->version, sizeof(k->version));
	json_t *visitors = json_array(), *routes = json_array(), *moves = json_array();
	for(size_t i = 0; i < k->n_visitors; i++)
		json_array_append_new(visitors, json_integer(k->visitors[i]));
	for(size_t r = 0; r < k->n_routes; r++) {
		json_t *items = json_array();
		for(size_t i = 0; i < k->route_n[r]; i++) {
			const struct otd_route_item *it = &k->route_items[r][i];
			json_array_append_new(items,
			                      json_pack("[i,I,i]", (int)it->kind,
			                                (json_int_t)it->id, it->route_position));
		}
		json_array_append_new(routes,
		                      json_pack("{s:I,s:o}", "visitor",
		                                (json_int_t)k->route_visitor[r], "items", items));
	}
	for(size_t m = 0; m < k->n_moves; m++)
		json_array_append_new(moves, json_pack("[I,I,I]", (json_int_t)k->move_id[m],
		                                       (json_int_t)k->move_from[m],
		                                       (json_int_t)k->move_to[m]));
	json_t *o = json_pack("{s:s,s:I,s:s,s:o,s:o,s:o}", "date", k->date, "expires_at",
	                      (json_int_t)k->expires_at, "version", version, "visitors", visitors,
	                      "routes", routes, "moves", moves);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* The proposal id that kept_encode wrote as text, or NULL when text is not
 * such a proposal. */
static struct kept *kept_decode(const char *id, const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	const char *date = NULL, *version = NULL;
	json_int_t expires = 0;
	json_t *visitors = NULL, *routes = NULL, *moves = NULL;
	struct kept *k = NULL;
	if(!o ||
	   json_unpack(o, "{s:s,s:I,s:s,s:o,s:o,s:o}", "date", &date, "expires_at", &expires,
	               "version", &version, "visitors", &visitors, "routes", &routes, "moves",
	               &moves) != 0 ||
	   !json_is_array(visitors) || !json_is_array(routes) || !json_is_array(moves))
		goto out;
	k = xcalloc(1, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	snprintf(k->date, sizeof(k->date), "%s", date);
	k->expires_at = expires;
	bool ok = strlen(version) == sizeof(k->version) * 2 &&
	          sodium_hex2bin(k->version, sizeof(k->version), version, strlen(version), NULL,
	                         NULL, NULL) == 0;
	size_t nv = json_array_size(visitors), nr = json_array_size(routes);
	size_t nm = json_array_size(moves);
	k->visitors = xcalloc(nv + 1, sizeof(int64_t));
	for(size_t i = 0; ok && i < nv; i++) {
		json_t *v = json_array_get(visitors, i);
		ok = json_is_integer(v);
		k->visitors[k->n_visitors++] = json_integer_value(v);
	}
	k->route_visitor = xcalloc(nr + 1, sizeof(int64_t));
	k->route_n = xcalloc(nr + 1, sizeof(size_t));
	k->route_items = xcalloc(nr + 1, sizeof(*k->route_items));
	for(size_t r = 0; ok && r < nr; r++) {
		json_int_t visitor = 0;
		json_t *items = NULL;
		ok = json_unpack(json_array_get(routes, r), "{s:I,s:o}", "visitor", &visitor,
		                 "items", &items) == 0 &&
		     json_is_array(items);
		if(!ok)
			break;
		size_t n = json_array_size(items);
		k->route_visitor[r] = visitor;
		k->route_items[r] = xcalloc(n + 1, sizeof(struct otd_route_item));
		k->n_routes++;
		for(size_t i = 0; ok && i < n; i++) {
			int kind = 0, position = 0;
			json_int_t item = 0;
			ok = json_unpack(json_array_get(items, i), "[i,I,i]", &kind, &item,
			                 &position) == 0 &&
			     (kind == OTD_ITEM_VISIT || kind == OTD_ITEM_HOLD);
			struct otd_route_item *it = &k->route_items[r][k->route_n[r]++];
			it->kind = (enum otd_route_item_kind)kind;
			it->id = item;
			it->route_position = position;
		}
	}
	k->move_id = xcalloc(nm + 1, sizeof(int64_t));
	k->move_from = xcalloc(nm + 1, sizeof(int64_t));
	k->move_to = xcalloc(nm + 1, sizeof(int64_t));
	for(size_t m = 0; ok && m < nm; m++) {
		json_int_t a = 0, from = 0, to = 0;
		ok = json_unpack(json_array_get(moves, m), "[I,I,I]", &a, &from, &to) == 0;
		k->move_id[k->n_moves] = a;
		k->move_from[k->n_moves] = from;
		k->move_to[k->n_moves] = to;
		k->n_moves++;
	}
	if(!ok) {
		kept_free(k);
		k = NULL;
	}
out:
	json_decref(o);
	return k;
}

struct share_job {
	const struct kept *k;
	const char *body;
	int64_t now;
};

static enum otd_status share_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct share_job *j = arg;
	return store_proposal_put(tx, j->k->id, j->k->expires_at, j->body, j->now, err);
}

/* Stores k for the other nodes. */
static enum otd_status share_proposal(struct otd_app *app, const struct kept *k, int64_t now,
                                      struct otd_error *err)
{
	char *body = kept_encode(k);
	if(!body)
		return otd_error_set(err, OTD_ENOMEM, NULL, NULL, "Cannot encode the proposal.");
	struct share_job j = {.k = k, .body = body, .now = now};
	enum otd_status st = store_write(app->store, share_write, &j, err);
	free(body);
	return st;
}

static enum otd_status unshare_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	bool removed;
	return store_proposal_remove(tx, arg, &removed, err);
}

/* Deletes proposal id for every node (a failure is logged: the proposal
 * then lasts until it expires, and the day's version still guards it). */
static void unshare_proposal(struct otd_app *app, const char *id)
{
	struct otd_error e;
	otd_error_clear(&e);
	if(store_write(app->store, unshare_write, (void *)id, &e) != OTD_OK)
		otd_log(OTD_LOG_WARN, "rebalance", "{s:s,s:s}", "proposal", id, "error", e.message);
}

struct fetch_job {
	const char *id;
	int64_t now;
	char *body;
};

static enum otd_status fetch_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct fetch_job *j = arg;
	free(j->body);
	j->body = NULL;
	return store_proposal_get(c, j->id, j->now, &j->body, err);
}

/* Proposal id as another node stored it (NULL: none live, or err). */
static struct kept *fetch_proposal(struct otd_app *app, const char *id, int64_t now,
                                   enum otd_status *st, struct otd_error *err)
{
	struct fetch_job j = {.id = id, .now = now};
	*st = store_read(app->store, fetch_read, &j, err);
	struct kept *k = NULL;
	if(*st == OTD_OK && j.body) {
		k = kept_decode(id, j.body);
		if(!k)
			otd_log(OTD_LOG_ERROR, "rebalance", "{s:s,s:s}", "proposal", id, "error",
			        "a stored proposal could not be read");
	}
	free(j.body);
	return k;
}

void otd_rebalance_cleanup(struct otd_rebalance *r)
{
	free(r->moves);
	memset(r, 0, sizeof(*r));
}

/* A solution re-timed under the planning model, against the day as it
 * is. Per job: kept now and after, the mean arrival after, how far past
 * its window it would arrive at the quantile, its route and place after. */
struct eval {
	struct otd_route *after; /* per vehicle */
	bool *kept_before, *kept_after;
	double *arrival, *excess;
	double *late_return; /* per vehicle */
	int *new_route, *new_pos;
	bool hold_lost, changed, worse;
	bool *route_worse; /* per vehicle: this route loses something it keeps now */
	int visits, broken_before, broken_after;
	double travel_before, travel_after;
};

static int holds_kept(const struct otd_route *r, const struct otd_plan *plan)
{
	int n = 0;
	for(size_t i = 0; i < r->n; i++)
		n += r->stops[i].kind == OTD_STOP_HOLD && stop_kept(r, plan, i);
	return n;
}

static bool has_break(const struct otd_route *r)
{
	for(size_t i = 0; i < r->n; i++)
		if(r->stops[i].kind == OTD_STOP_BREAK)
			return true;
	return false;
}

static void eval_free(struct eval *e, int nv)
{
	for(int v = 0; e->after && v < nv; v++)
		otd_route_cleanup(&e->after[v]);
	free(e->after);
	free(e->kept_before);
	free(e->kept_after);
	free(e->arrival);
	free(e->excess);
	free(e->late_return);
	free(e->route_worse);
	free(e->new_route);
	free(e->new_pos);
	memset(e, 0, sizeof(*e));
}

static void evaluate(struct otd_app *app, const struct snapshot *s, const struct problem *pb,
                     const struct otd_vrp_solution *sol, const struct otd_plan *plan,
                     struct eval *e)
{
	const struct otd_vrp *p = &pb->p;
	int nv = p->n_vehicles, nj = p->n_jobs;
	memset(e, 0, sizeof(*e));
	e->after = xcalloc((size_t)nv + 1, sizeof(*e->after));
	e->kept_before = xcalloc((size_t)nj + 1, sizeof(bool));
	e->kept_after = xcalloc((size_t)nj + 1, sizeof(bool));
	e->arrival = xcalloc((size_t)nj + 1, sizeof(double));
	e->excess = xcalloc((size_t)nj + 1, sizeof(double));
	e->late_return = xcalloc((size_t)nv + 1, sizeof(double));
	e->route_worse = xcalloc((size_t)nv + 1, sizeof(bool));
	e->new_route = xcalloc((size_t)nj + 1, sizeof(int));
	e->new_pos = xcalloc((size_t)nj + 1, sizeof(int));
	for(int j = 0; j < nj; j++)
		e->new_route[j] = -1;
	for(int v = 0; v < nv; v++) {
		const struct otd_route *was = &s->days[pb->veh_visitor[v]].routes[pb->veh_route[v]];
		e->travel_before += was->travel_mean;
		build_route(app, s, pb, sol, v, &e->after[v]);
		const struct otd_route *now = &e->after[v];
		e->travel_after += now->travel_mean;
		int pos = 0;
		for(int k = sol->first[v]; k < sol->first[v + 1]; k++) {
			e->new_route[sol->order[k]] = v;
			/* Places count visits and holds, as from_pos does. */
			e->new_pos[sol->order[k]] = pb->refs[sol->order[k]].item < 0 ? -1 : pos++;
		}
		for(size_t i = 0; i < now->n; i++) {
			bool hold = now->stops[i].kind == OTD_STOP_HOLD;
			if(now->stops[i].kind != OTD_STOP_VISIT && !hold)
				continue;
			for(int k = sol->first[v]; k < sol->first[v + 1]; k++) {
				int j = sol->order[k];
				/* Holds are the pinned jobs; visits the others (their ids
				 * come from different tables). */
				if(p->jobs[j].id != now->stops[i].id || p->jobs[j].pinned != hold ||
				   pb->refs[j].item < 0)
					continue;
				if(!hold) {
					e->kept_after[j] = stop_kept(now, plan, i);
					e->arrival[j] = now->arr_mean[i];
				}
				e->excess[j] = now->arr_mean[i] + plan->z * sqrt(now->arr_var[i]) -
				               (double)now->stops[i].b + 1.0;
			}
		}
		/* How far past the shift end the return comes at the quantile. */
		e->late_return[v] = now->arr_mean[now->n] + plan->z * sqrt(now->arr_var[now->n]) -
		                    (double)now->shift_end;
		for(size_t i = 0; i < was->n; i++) {
			if(was->stops[i].kind != OTD_STOP_VISIT)
				continue;
			for(int j = 0; j < nj; j++)
				if(pb->refs[j].from_route == v &&
				   p->jobs[j].id == was->stops[i].id && !p->jobs[j].pinned)
					e->kept_before[j] = stop_kept(was, plan, i);
		}
		/* The route as a whole: back by the shift end, every hold still
		 * kept, the break still taken, when they were. */
		if((was->feasible && !now->feasible) ||
		   holds_kept(was, plan) > holds_kept(now, plan) || has_break(was) > has_break(now))
			e->worse = e->route_worse[v] = true;
	}
	for(int j = 0; j < nj; j++) {
		if(p->jobs[j].pinned) {
			e->hold_lost |= e->new_route[j] < 0;
			continue;
		}
		if(p->jobs[j].locked_vehicle >= 0)
			continue;
		e->visits++;
		e->broken_before += !e->kept_before[j];
		e->broken_after += !e->kept_after[j];
		/* A visit on a route now is never dropped from every route. */
		if(pb->refs[j].from_route >= 0 && e->new_route[j] < 0)
			e->worse = true;
		if(e->new_route[j] >= 0 && (e->new_route[j] != pb->refs[j].from_route ||
		                            e->new_pos[j] != pb->refs[j].from_pos))
			e->changed = true;
		if(e->kept_before[j] && !e->kept_after[j]) {
			e->worse = true;
			if(e->new_route[j] >= 0)
				e->route_worse[e->new_route[j]] = true;
		}
	}
	if(e->hold_lost || e->broken_after > e->broken_before)
		e->worse = true;
}

/* Takes the last visit that had no route off a route e marks worse, back
 * to the unassigned; false when there is none. */
static bool strip_orphan(const struct problem *pb, const struct eval *e,
                         struct otd_vrp_solution *sol)
{
	for(int v = 0; v < pb->p.n_vehicles; v++) {
		if(!e->route_worse[v])
			continue;
		for(int k = sol->first[v + 1] - 1; k >= sol->first[v]; k--) {
			int j = sol->order[k];
			if(pb->refs[j].from_route >= 0)
				continue;
			memmove(&sol->order[k], &sol->order[k + 1],
			        (size_t)(sol->first[pb->p.n_vehicles] - k - 1) * sizeof(int));
			for(int w = v + 1; w <= pb->p.n_vehicles; w++)
				sol->first[w]--;
			sol->unassigned[sol->n_unassigned++] = j;
			return true;
		}
	}
	return false;
}

/* ---- proposing ---------------------------------------------------------------- */

/* The auto mode looks at a day again only when it changed and has a visit
 * at risk: true when this snapshot is one to skip (and remembered). */
static bool auto_skip(struct otd_rebalance_cache *c, const struct snapshot *s)
{
	pthread_mutex_lock(&c->lock);
	bool same = c->have_last_auto && sodium_memcmp(c->last_auto, s->auto_key, 32) == 0;
	memcpy(c->last_auto, s->auto_key, 32);
	c->have_last_auto = true;
	pthread_mutex_unlock(&c->lock);
	return same || s->at_risk == 0;
}

static enum otd_status propose(struct otd_app *app, const char *local_date,
                               const int64_t *visitor_ids, size_t n, enum otd_rebalance_mode mode,
                               bool automatic, struct otd_rebalance *out, struct otd_error *err);

enum otd_status app_rebalance_propose(struct otd_app *app, const struct otd_principal *actor,
                                      const char *local_date, const int64_t *visitor_ids, size_t n,
                                      enum otd_rebalance_mode mode, struct otd_rebalance *out,
                                      struct otd_error *err)
{
	(void)actor;
	return propose(app, local_date, visitor_ids, n, mode, false, out, err);
}

static enum otd_status propose(struct otd_app *app, const char *local_date,
                               const int64_t *visitor_ids, size_t n, enum otd_rebalance_mode mode,
                               bool automatic, struct otd_rebalance *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	int64_t day_start, day_end;
	if(!local_date || !planner_day_bounds(app->planner, local_date, &day_start, &day_end))
		return otd_error_set(err, OTD_EINVAL, "invalid_date", "date",
		                     "date must be a date such as 2026-03-03.");
	if(n > OTD_REBALANCE_VISITORS_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_many", "scope",
		                     "Rebalance at most %d visitors at once.",
		                     OTD_REBALANCE_VISITORS_MAX);
	struct snapshot s = {.app = app,
	                     .date = local_date,
	                     .want = visitor_ids,
	                     .n_want = n,
	                     .now = otd_clock_now(app->clock)};
	enum otd_status st = store_read(app->store, snapshot_read, &s, err);
	if(st) {
		snapshot_cleanup(&s);
		return st;
	}
	enum otd_status shared = OTD_OK; /* storing the proposal for the other nodes */
	snprintf(out->local_date, sizeof(out->local_date), "%s", local_date);
	out->at_risk = s.at_risk;
	if(automatic && auto_skip(app->rebalance, &s)) {
		snprintf(out->note, sizeof(out->note), "%s",
		         s.at_risk ? "Unchanged since last looked at." : "Nothing at risk.");
		snapshot_cleanup(&s);
		return OTD_OK;
	}
	size_t places = 0, skills = s.n_skills;
	for(size_t i = 0; i < s.n; i++)
		places += s.days[i].n_routes + s.days[i].n_items;
	if(places > OTD_REBALANCE_PLACES_MAX || skills > 62) {
		snapshot_cleanup(&s);
		return otd_error_set(
		    err, OTD_ESTATE, "too_large", "scope",
		    places > OTD_REBALANCE_PLACES_MAX
		        ? "This day has %zu routes and visits; rebalance at most %d at "
		          "once: give a scope of fewer visitors."
		        : "The visitors in scope have %zu skills; at most %d can be "
		          "weighed at once: give a scope of fewer visitors.",
		    places > OTD_REBALANCE_PLACES_MAX ? places : skills,
		    places > OTD_REBALANCE_PLACES_MAX ? OTD_REBALANCE_PLACES_MAX : 62);
	}
	const struct otd_plan *plan = planner_plan(app->planner);
	struct problem pb;
	problem_build(app, &s, &pb);
	if(pb.p.n_jobs == 0 || pb.p.n_vehicles == 0) {
		out->visits = pb.orphans;
		out->broken_before = out->broken_after = pb.orphans;
		snprintf(out->note, sizeof(out->note), "%s",
		         pb.p.n_jobs == 0 ? "Nothing to improve: no visits that day."
		                          : "Nobody in scope works that day: the visits need "
		                            "someone else or another day.");
		problem_cleanup(&pb);
		snapshot_cleanup(&s);
		return OTD_OK;
	}
	struct otd_opt_params prm = {.objective =
	                                 mode == OTD_REBALANCE_PLAN ? OTD_OPT_PLAN : OTD_OPT_FIELD,
	                             .seed = 1,
	                             .iterations = app->cfg->dispatch.rebalance_iterations > 0
	                                               ? app->cfg->dispatch.rebalance_iterations
	                                               : OTD_REBALANCE_ITERATIONS};
	struct otd_vrp_solution sol;
	struct otd_opt_result res;
	struct eval e;
	memset(&e, 0, sizeof(e));
	memset(&sol, 0, sizeof(sol));
	char why[256];
	int nv = pb.p.n_vehicles;
	/* The optimiser's model is close to the planning model, not the same
	 * (a matrix of slowest legs, margins of the day as it is): when its
	 * answer breaks a promise under the planning model, the windows it
	 * missed are drawn in by the miss and it tries again. */
	struct otd_vrp_solution best_sol;
	struct eval best;
	memset(&best_sol, 0, sizeof(best_sol));
	memset(&best, 0, sizeof(best));
	bool have_best = false;
	for(int round = 0; round < REPAIR_ROUNDS; round++) {
		prm.initial = &pb.now;
		bool solved = otd_optimise(&pb.p, &prm, &sol, &res, why, sizeof(why));
		if(!solved) {
			/* The day as it is breaks the model (a visit under way after
			 * others): start afresh from what is under way. */
			prm.initial = NULL;
			solved = otd_optimise(&pb.p, &prm, &sol, &res, why, sizeof(why));
		}
		if(!solved)
			break;
		evaluate(app, &s, &pb, &sol, plan, &e);
		/* A route that would lose what it keeps now gives back the visits
		 * that had no route (the latest first) until it keeps it all. */
		while(e.worse && strip_orphan(&pb, &e, &sol)) {
			eval_free(&e, nv);
			evaluate(app, &s, &pb, &sol, plan, &e);
		}
		/* Keep the best round: breaking nothing kept, then fewest broken,
		 * then least travel. */
		bool take =
		    !have_best || (best.worse && !e.worse) ||
		    (best.worse == e.worse &&
		     (e.broken_after < best.broken_after ||
		      (e.broken_after == best.broken_after && e.travel_after < best.travel_after)));
		/* Windows the planning model misses although the optimiser's
		 * model kept them: drawn in for the next round. */
		bool mismatch = false;
		for(int q = 0; q < pb.p.n_jobs; q++)
			if(pb.refs[q].item < 0 && e.new_route[q] >= 0 &&
			   !has_break(&e.after[e.new_route[q]])) {
				pb.p.jobs[q].b -= 900.0; /* the break missed its window: earlier */
				mismatch = true;
			}
		for(int q = 0; q < pb.p.n_jobs; q++)
			if(e.new_route[q] >= 0 && pb.refs[q].item >= 0 && e.excess[q] > 0) {
				pb.p.jobs[q].b -= e.excess[q] + 60.0;
				mismatch = true;
			}
		for(int v = 0; v < nv; v++)
			if(e.late_return[v] > 0) {
				pb.p.vehicles[v].end -= e.late_return[v] + 60.0;
				mismatch = true;
			}
		if(take) {
			if(have_best) {
				eval_free(&best, nv);
				otd_vrp_solution_cleanup(&best_sol);
			}
			best = e;
			best_sol = sol;
			have_best = true;
		} else {
			eval_free(&e, nv);
			otd_vrp_solution_cleanup(&sol);
		}
		memset(&e, 0, sizeof(e));
		memset(&sol, 0, sizeof(sol));
		if(!mismatch || best.hold_lost)
			break;
	}
	if(!have_best) {
		problem_cleanup(&pb);
		snapshot_cleanup(&s);
		return otd_error_set(err, OTD_ESTATE, "day_not_rebalanceable", "date",
		                     "This day cannot be rebalanced: %s.", why);
	}
	e = best;
	sol = best_sol;
	int visits = e.visits;
	bool worse = e.worse, changed = e.changed;
	out->visits = e.visits;
	out->broken_before = e.broken_before;
	out->broken_after = e.broken_after;
	out->travel_before_s = e.travel_before;
	out->travel_after_s = e.travel_after;
	bool *kept_before = e.kept_before, *kept_after = e.kept_after;
	double *arrival = e.arrival;
	bool better = out->broken_after < out->broken_before ||
	              out->travel_after_s < out->travel_before_s - 60.0;
	out->created_at = s.now;
	out->expires_at = s.now + OTD_REBALANCE_TTL;
	if(!changed || !better || worse) {
		snprintf(
		    out->note, sizeof(out->note), "%s",
		    worse ? "The optimiser found no change that keeps every promise this day "
		            "keeps now."
		          : "Nothing to improve: the day is as good as the optimiser can make it.");
		out->broken_after = out->broken_before;
		out->travel_after_s = out->travel_before_s;
	} else {
		/* The moves, and what apply writes. */
		struct kept *k = xcalloc(1, sizeof(*k));
		k->automatic = automatic;
		unsigned char raw[16];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(k->id, sizeof(k->id), raw, sizeof(raw));
		snprintf(out->id, sizeof(out->id), "%s", k->id);
		snprintf(k->date, sizeof(k->date), "%s", local_date);
		k->expires_at = out->expires_at;
		memcpy(k->version, s.version, sizeof(k->version));
		k->visitors = xcalloc(s.n + 1, sizeof(int64_t));
		for(size_t i = 0; i < s.n; i++)
			k->visitors[k->n_visitors++] = s.vis[i]->id;
		k->route_visitor = xcalloc((size_t)nv + 1, sizeof(int64_t));
		k->route_n = xcalloc((size_t)nv + 1, sizeof(size_t));
		k->route_items = xcalloc((size_t)nv + 1, sizeof(*k->route_items));
		out->moves = xcalloc((size_t)pb.p.n_jobs + 1, sizeof(*out->moves));
		k->move_id = xcalloc((size_t)pb.p.n_jobs + 1, sizeof(int64_t));
		k->move_from = xcalloc((size_t)pb.p.n_jobs + 1, sizeof(int64_t));
		k->move_to = xcalloc((size_t)pb.p.n_jobs + 1, sizeof(int64_t));
		/* A visitor's routes are numbered on from each other. */
		for(int v = 0; v < nv; v++) {
			size_t r = k->n_routes++;
			k->route_visitor[r] = s.vis[pb.veh_visitor[v]]->id;
			int base = 0;
			for(int w = 0; w < v; w++)
				if(pb.veh_visitor[w] == pb.veh_visitor[v])
					base += sol.first[w + 1] - sol.first[w];
			k->route_items[r] = xcalloc((size_t)(sol.first[v + 1] - sol.first[v]) + 1,
			                            sizeof(struct otd_route_item));
			int place = 0; /* among the route's visits and holds */
			for(int q = sol.first[v]; q < sol.first[v + 1]; q++) {
				int j = sol.order[q];
				const struct job_ref *ref = &pb.refs[j];
				if(ref->item < 0)
					continue; /* the break is not stored */
				const struct otd_route_item *it =
				    &s.days[ref->visitor].items[ref->item];
				struct otd_route_item *o = &k->route_items[r][k->route_n[r]++];
				o->kind = it->kind;
				o->id = it->id;
				o->route_position = (base + place + 1) * POSITION_GAP;
				place++;
				if(it->kind != OTD_ITEM_VISIT || pb.p.jobs[j].locked_vehicle >= 0)
					continue;
				int64_t from = ref->from_route >= 0 ? s.vis[ref->visitor]->id : 0;
				int64_t to = k->route_visitor[r];
				bool moved = from != to;
				if(!moved && ref->from_route == v && ref->from_pos == place - 1)
					continue;
				struct otd_rebalance_move *m = &out->moves[out->n_moves++];
				m->appointment_id = it->id;
				snprintf(m->reference, sizeof(m->reference), "%s",
				         s.info[ref->visitor][ref->item].reference);
				m->from_visitor = from;
				m->to_visitor = to;
				m->window_start = it->window_start;
				m->window_end = it->window_end;
				m->position = place;
				m->expected_arrival = arrival[j];
				m->kept_before = kept_before[j];
				m->kept_after = kept_after[j];
				if(moved) {
					out->customers_affected++;
					k->move_id[k->n_moves] = it->id;
					k->move_from[k->n_moves] = s.vis[ref->visitor]->id;
					k->move_to[k->n_moves] = to;
					k->n_moves++;
				}
			}
		}
		/* PostgreSQL: stored for apply through whichever node (the cache
		 * is the fast path on this one). */
		if(app->shared_store && !automatic)
			shared = share_proposal(app, k, s.now, err);
		if(shared == OTD_OK) {
			cache_put(app->rebalance, k, s.now);
		} else {
			kept_free(k);
			otd_rebalance_cleanup(out);
		}
	}
	if(shared == OTD_OK)
		otd_log(OTD_LOG_INFO, "rebalance", "{s:s,s:s,s:i,s:i,s:i,s:i,s:f,s:f,s:I}", "mode",
		        mode == OTD_REBALANCE_PLAN ? "plan" : "day", "date", local_date, "visitors",
		        (int)s.n, "visits", visits, "broken_before", out->broken_before,
		        "broken_after", out->broken_after, "travel_before_s", out->travel_before_s,
		        "travel_after_s", out->travel_after_s, "moves", (json_int_t)out->n_moves);
	eval_free(&e, nv);
	otd_vrp_solution_cleanup(&sol);
	problem_cleanup(&pb);
	snapshot_cleanup(&s);
	return shared;
}

/* ---- applying --------------------------------------------------------------------- */

/* The answer to applying a proposal that is not there (any more). */
static enum otd_status proposal_not_found(struct otd_error *err)
{
	return otd_error_set(err, OTD_ENOTFOUND, "proposal_not_found", NULL,
	                     "No such proposal: it was applied already, or it expired (they last "
	                     "%d minutes); ask for a new one.",
	                     OTD_REBALANCE_TTL / 60);
}

struct apply_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	struct kept *k;
	int64_t now;
	struct otd_rebalance_applied *out;
	struct otd_appointment *moved; /* per move: the appointment as written */
};

static enum otd_status apply_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct apply_job *j = arg;
	struct kept *k = j->k;
	j->out->moved = j->out->reordered = j->out->told = 0;
	if(j->app->shared_store && !k->automatic) {
		/* Applied once, through whichever node takes it first. */
		bool mine = false;
		enum otd_status st = store_proposal_remove(tx, k->id, &mine, err);
		if(st)
			return st;
		if(!mine)
			return proposal_not_found(err);
	}
	struct snapshot s = {.app = j->app,
	                     .date = k->date,
	                     .want = k->visitors,
	                     .n_want = k->n_visitors,
	                     .now = j->now};
	for(size_t i = 0; i < k->n_visitors; i++)
		store_lock_scope(tx, k->visitors[i], k->date);
	enum otd_status st = snapshot_take(tx, &s, err);
	if(st == OTD_EINVAL) {
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", err->message);
		st = otd_error_set(err, OTD_ECONFLICT, "day_changed", NULL,
		                   "The day changed since this proposal (%s); ask for a new one.",
		                   why);
	} else if(st == OTD_OK && sodium_memcmp(s.version, k->version, sizeof(k->version)) != 0)
		st =
		    otd_error_set(err, OTD_ECONFLICT, "day_changed", NULL,
		                  "The day changed since this proposal (a booking, a cancellation, "
		                  "a visit's status or a visitor's availability); ask for a new "
		                  "one.");
	for(size_t r = 0; st == OTD_OK && r < k->n_routes; r++) {
		st = store_route_order(tx, k->route_items[r], k->route_n[r], err);
		j->out->reordered++;
	}
	for(size_t m = 0; st == OTD_OK && m < k->n_moves; m++) {
		struct otd_appointment_view v;
		st = booking_reassigned(j->app, tx, s.cat, j->actor, k->move_id[m], k->move_to[m],
		                        k->automatic ? "auto_rebalance" : "rebalance", NULL, j->now,
		                        &v, err);
		if(st == OTD_OK) {
			j->moved[m] = v.a;
			j->out->moved++;
			j->out->told += v.a.consent_email || v.a.consent_sms;
			otd_appointment_view_cleanup(&v);
		}
	}
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "dispatch.rebalance", "day", 0,
		               json_pack("{s:s,s:s,s:i,s:i}", "date", k->date, "proposal", k->id,
		                         "moved", j->out->moved, "routes", j->out->reordered),
		               err);
	snapshot_cleanup(&s);
	return st;
}

enum otd_status app_rebalance_apply(struct otd_app *app, const struct otd_principal *actor,
                                    const char *id, struct otd_rebalance_applied *out,
                                    struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	int64_t now = otd_clock_now(app->clock);
	struct kept *k = id ? cache_take(app->rebalance, id, now) : NULL;
	if(!k && id && app->shared_store) { /* computed on another node */
		enum otd_status st = OTD_OK;
		k = fetch_proposal(app, id, now, &st, err);
		if(st)
			return st;
	}
	if(!k)
		return proposal_not_found(err);
	struct apply_job j = {.app = app,
	                      .actor = actor,
	                      .k = k,
	                      .now = now,
	                      .out = out,
	                      .moved = xcalloc(k->n_moves + 1, sizeof(struct otd_appointment))};
	enum otd_status st = store_write(app->store, apply_write, &j, err);
	if(st != OTD_OK && st != OTD_ECONFLICT && st != OTD_ESTATE && st != OTD_ENOTFOUND &&
	   k->expires_at > now) {
		/* Busy, or a passing failure: the proposal may be tried again. */
		free(j.moved);
		cache_put(app->rebalance, k, now);
		return st;
	}
	if((st == OTD_ECONFLICT || st == OTD_ESTATE) && app->shared_store && !k->automatic)
		unshare_proposal(app, k->id); /* used up, as on one node */
	if(st == OTD_OK) {
		for(size_t i = 0; i < k->n_visitors; i++)
			planner_day_invalidate(app->planner, k->visitors[i], k->date);
		for(size_t m = 0; m < k->n_moves; m++)
			booking_publish_reassigned(app, &j.moved[m], k->move_from[m]);
		otd_log(OTD_LOG_INFO, "rebalance", "{s:s,s:s,s:i,s:i,s:i}", "applied", k->id,
		        "date", k->date, "moved", out->moved, "routes", out->reordered, "told",
		        out->told);
	}
	free(j.moved);
	kept_free(k);
	return st;
}

/* ---- reordering by hand ------------------------------------------------------- */

struct reorder_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	int64_t visitor_id, now;
	const char *date;
	const char *const *refs;
	size_t n;
};

static enum otd_status reorder_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct reorder_job *j = arg;
	struct otd_app *app = j->app;
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(app->planner, tx, j->now, &cat, err);
	if(st)
		return st;
	struct plan_day day;
	memset(&day, 0, sizeof(day));
	struct otd_day_stop *stops = NULL;
	size_t n_stops = 0;
	struct otd_route nr;
	memset(&nr, 0, sizeof(nr));
	int64_t *ids = xcalloc(j->n + 1, sizeof(*ids));
	const struct plan_visitor *v = plan_catalog_visitor(cat, j->visitor_id);
	if(!v) {
		st = otd_error_set(err, OTD_EINVAL, "unknown_visitor", NULL,
		                   "There is no active visitor %lld.", (long long)j->visitor_id);
		goto out;
	}
	store_lock_scope(tx, v->id, j->date);
	if((st = store_day_stops(tx, v->id, j->date, &stops, &n_stops, err)))
		goto out;
	if((st = planner_build_day(app->planner, tx, cat, v, j->date, j->now, 0, 0, &day, err)))
		goto out;
	if(day.n_routes > 1) {
		st = otd_error_set(err, OTD_ESTATE, "split_shift", NULL,
		                   "%s works more than one shift that day: rebalance it instead.",
		                   v->name);
		goto out;
	}
	const struct otd_route *r = day.n_routes ? &day.routes[0] : NULL;
	/* The places of the visits not yet under way, in route order. */
	size_t n_free = 0;
	for(size_t i = 0; r && i < r->n; i++) {
		if(r->stops[i].kind != OTD_STOP_VISIT)
			continue;
		for(size_t k = 0; k < n_stops; k++)
			if(stops[k].appointment_id == r->stops[i].id &&
			   strcmp(stops[k].status, "booked") == 0)
				n_free++;
	}
	for(size_t i = 0; i < j->n && st == OTD_OK; i++) {
		for(size_t k = 0; k < n_stops && !ids[i]; k++)
			if(strcmp(stops[k].reference, j->refs[i]) == 0 &&
			   strcmp(stops[k].status, "booked") == 0)
				ids[i] = stops[k].appointment_id;
		for(size_t m = 0; m < i && ids[i]; m++)
			if(ids[m] == ids[i])
				st = otd_error_set(err, OTD_EINVAL, "order_mismatch", "order",
				                   "%s is named twice.", j->refs[i]);
		if(st == OTD_OK && !ids[i])
			st = otd_error_set(
			    err, OTD_EINVAL, "order_mismatch", "order",
			    "%.16s is not a visit of %s's on %s that is still to start.",
			    j->refs[i], v->name, j->date);
	}
	if(st == OTD_OK && (j->n != n_free || !r))
		st = otd_error_set(err, OTD_EINVAL, "order_mismatch", "order",
		                   "Name each of the %zu visits still to start exactly once.",
		                   n_free);
	if(st)
		goto out;
	/* The same places, the listed visits in the new order; the break is
	 * taken out and placed again as the planner places it. */
	otd_route_init(&nr, r->base_lat, r->base_lon, r->shift_start, r->shift_end);
	struct otd_stop brk = {0};
	bool has_break = false;
	size_t next = 0;
	for(size_t i = 0; i < r->n; i++) {
		struct otd_stop s = r->stops[i];
		if(s.kind == OTD_STOP_BREAK) {
			brk = s;
			has_break = true;
			continue;
		}
		bool is_free = false;
		for(size_t m = 0; m < j->n && s.kind == OTD_STOP_VISIT; m++)
			is_free = is_free || ids[m] == s.id;
		if(is_free) {
			long at = otd_route_find(r, OTD_STOP_VISIT, ids[next++]);
			if(at >= 0)
				s = r->stops[at];
		}
		otd_route_insert(&nr, nr.n, &s);
	}
	const struct otd_plan *plan = planner_plan(app->planner);
	otd_route_time(&nr, plan);
	if(has_break)
		plan_route_place(app->planner, &nr, &brk); /* no room: none, as the planner does */
	/* Refused when a promise the route keeps now would be broken (one
	 * broken already does not stop an order that does no worse). */
	const char *late = NULL;
	char when[24] = "";
	for(size_t i = 0; i < nr.n && !late; i++) {
		const struct otd_stop *s = &nr.stops[i];
		if(s->kind != OTD_STOP_VISIT || stop_kept(&nr, plan, i))
			continue;
		long before = otd_route_find(r, OTD_STOP_VISIT, s->id);
		if(before < 0 || !r->timed || !stop_kept(r, plan, (size_t)before))
			continue;
		for(size_t k = 0; k < n_stops; k++)
			if(stops[k].appointment_id == s->id)
				late = stops[k].reference;
		struct otd_local l;
		otd_tz_to_local(app->tz, (int64_t)nr.arr_mean[i], &l);
		snprintf(when, sizeof(when), " (about %02u:%02u)", (unsigned)l.c.hour % 24u,
		         (unsigned)l.c.minute % 60u);
	}
	if(late) {
		st = otd_error_set(
		    err, OTD_ECONFLICT, "order_breaks_promise", "order",
		    "In that order %s would be reached too late%s: its promise would be "
		    "broken. Choose another order.",
		    late, when);
		goto out;
	}
	struct otd_route_item *items = xcalloc(nr.n + 1, sizeof(*items));
	size_t n_items = 0;
	for(size_t i = 0; i < nr.n; i++) {
		if(nr.stops[i].kind != OTD_STOP_VISIT && nr.stops[i].kind != OTD_STOP_HOLD)
			continue;
		items[n_items].kind =
		    nr.stops[i].kind == OTD_STOP_VISIT ? OTD_ITEM_VISIT : OTD_ITEM_HOLD;
		items[n_items].id = nr.stops[i].id;
		items[n_items].route_position = (int)(n_items + 1) * POSITION_GAP;
		n_items++;
	}
	st = store_route_order(tx, items, n_items, err);
	free(items);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "route.reorder", "visitor", v->id,
		               json_pack("{s:s,s:i}", "date", j->date, "visits", (int)j->n), err);
out:
	otd_route_cleanup(&nr);
	plan_day_cleanup(&day);
	free(stops);
	free(ids);
	planner_catalog_release(app->planner, cat);
	return st;
}

enum otd_status app_reorder(struct otd_app *app, const struct otd_principal *actor,
                            int64_t visitor_id, const char *local_date, const char *const *refs,
                            size_t n, struct otd_error *err)
{
	int64_t start, end;
	if(!local_date || !planner_day_bounds(app->planner, local_date, &start, &end))
		return otd_error_set(err, OTD_EINVAL, "invalid_date", "date",
		                     "date must be a date YYYY-MM-DD.");
	struct reorder_job j = {.app = app,
	                        .actor = actor,
	                        .visitor_id = visitor_id,
	                        .now = otd_clock_now(app->clock),
	                        .date = local_date,
	                        .refs = refs,
	                        .n = n};
	enum otd_status st = store_write(app->store, reorder_write, &j, err);
	if(st)
		return st;
	planner_day_invalidate(app->planner, visitor_id, local_date);
	char staff[128];
	snprintf(staff, sizeof(staff),
	         "{\"change\":\"reordered\",\"visitor_id\":%lld,\"date\":\"%s\"}",
	         (long long)visitor_id, local_date);
	struct otd_bus_event ev = {.type = "route", .visitor_id = visitor_id, .staff_json = staff};
	app_publish(app, &ev);
	return OTD_OK;
}

/* ---- the auto mode ------------------------------------------------------------ */

/* ---- rescue: one visit at a time, from the live day ---------------------- */

#define RESCUE_PER_PASS 8

struct rescue_read {
	const char *date;
	struct otd_board_row *rows;
	size_t n;
	int64_t cand[RESCUE_PER_PASS];
	size_t n_cand;
	int64_t *busy; /* visitors with a visit at risk now */
	size_t n_busy;
};

static enum otd_status rescue_scan(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct rescue_read *r = arg;
	enum otd_status st = store_board_rows(c, r->date, 0, &r->rows, &r->n, err);
	if(st)
		return st;
	r->busy = xcalloc(r->n + 1, sizeof(*r->busy));
	for(size_t i = 0; i < r->n; i++) {
		const struct otd_board_row *b = &r->rows[i];
		if(strcmp(b->risk.risk, "at_risk") != 0)
			continue;
		if(!r->n_busy || r->busy[r->n_busy - 1] != b->visitor_id)
			r->busy[r->n_busy++] = b->visitor_id;
		if(strcmp(b->status, "booked") != 0 || r->n_cand == RESCUE_PER_PASS)
			continue;
		/* Once only: a visit given to someone else stays with them. */
		bool moved = false;
		st = store_appointment_has_event(c, b->appointment_id, "reassigned", &moved, err);
		if(st)
			return st;
		if(!moved)
			r->cand[r->n_cand++] = b->appointment_id;
	}
	return OTD_OK;
}

static bool busy(const struct rescue_read *r, int64_t visitor_id)
{
	for(size_t i = 0; i < r->n_busy; i++)
		if(r->busy[i] == visitor_id)
			return true;
	return false;
}

/* Each visit of today still at risk (as tracking projects it from where
 * the visitors really are) goes to a colleague who can keep its window and
 * every promise of their own (app_reassign_options, the dispatcher's
 * check) and has nothing at risk now, the one adding least travel:
 * exactly as a dispatcher's reassignment (the customer is told who comes
 * now), recorded as the auto-rebalance's. The optimiser's proposal judges
 * the day on the planning model, which does not see a visitor running
 * late; this does. *moved counts the visits given. */
static enum otd_status rescue(struct otd_app *app, const char *today, int *moved,
                              struct otd_error *err)
{
	*moved = 0;
	struct rescue_read r = {.date = today};
	enum otd_status st = store_read(app->store, rescue_scan, &r, err);
	struct otd_principal system;
	app_principal_cli(&system);
	for(size_t i = 0; st == OTD_OK && i < r.n_cand; i++) {
		struct otd_reassign_option *opts = NULL;
		size_t n = 0;
		st = app_reassign_options(app, r.cand[i], 5, &opts, &n, err);
		if(st == OTD_ESTATE || st == OTD_ENOTFOUND) {
			otd_error_clear(err);
			st = OTD_OK;
			continue;
		}
		for(size_t k = 0; st == OTD_OK && k < n; k++) {
			if(busy(&r, opts[k].visitor_id))
				continue;
			struct otd_appointment_view v;
			st = app_reassign_by(
			    app, &system, r.cand[i], opts[k].visitor_id, "auto_rebalance",
			    "Running late: a colleague can keep the window", &v, err);
			otd_appointment_view_cleanup(&v);
			if(st == OTD_OK) {
				(*moved)++;
				otd_log(OTD_LOG_INFO, "rebalance", "{s:s,s:I,s:I}", "auto",
				        "rescued", "appointment_id", (json_int_t)r.cand[i],
				        "to_visitor", (json_int_t)opts[k].visitor_id);
				break;
			}
			/* The day moved under it: the next pass looks again. */
			if(st == OTD_ECONFLICT || st == OTD_ESTATE) {
				otd_error_clear(err);
				st = OTD_OK;
			}
		}
		free(opts);
	}
	store_board_rows_free(r.rows, r.n);
	free(r.busy);
	return st;
}

enum otd_status app_rebalance_auto(struct otd_app *app, bool *applied, struct otd_error *err)
{
	*applied = false;
	int64_t now = otd_clock_now(app->clock);
	char today[11];
	planner_local_date(app->planner, now, today);
	struct otd_rebalance r;
	enum otd_status st = propose(app, today, NULL, 0, OTD_REBALANCE_DAY, true, &r, err);
	if(st)
		return st;
	/* Only what saves a promise and gives nobody else another visitor. */
	bool ok = r.id[0] && r.broken_after < r.broken_before;
	for(size_t i = 0; ok && i < r.n_moves; i++)
		if(r.moves[i].from_visitor != r.moves[i].to_visitor && r.moves[i].kept_before)
			ok = false;
	if(r.id[0] && !ok) {
		kept_free(cache_take(app->rebalance, r.id, now));
		otd_log(OTD_LOG_INFO, "rebalance", "{s:s,s:s,s:i,s:i}", "auto", "declined", "date",
		        today, "broken_before", r.broken_before, "broken_after", r.broken_after);
	}
	if(ok) {
		struct otd_principal system;
		app_principal_cli(&system);
		struct otd_rebalance_applied a;
		st = app_rebalance_apply(app, &system, r.id, &a, err);
		*applied = st == OTD_OK;
		/* The day changed under it: the next pass looks again. */
		if(st == OTD_ECONFLICT)
			st = OTD_OK;
	}
	int rescued = 0;
	if(st == OTD_OK && r.at_risk > 0)
		st = rescue(app, today, &rescued, err);
	*applied = *applied || rescued > 0;
	otd_rebalance_cleanup(&r);
	return st;
}
