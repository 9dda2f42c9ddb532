/* The route optimiser: SISR (ruin and recreate with string removals,
 * simulated annealing). See include/onthedot/optimise.h for the contract.
 *
 * State. A solution is one route per vehicle plus the unassigned jobs. A
 * route caches, per position, the earliest service start es (forward from
 * the shift start) and the latest arrival ls that still keeps every hard
 * window after it and the shift end (backward), so that putting job c
 * between positions i and i+1 is feasible iff
 *     start_c = max(a_c, es_i + s_i + t(i, c)) <= b_c   (c hard) and
 *     start_c + s_c + t(c, i+1) <= ls_{i+1}
 * which is O(1). Soft jobs have no bound in ls; a route holding one is
 * re-simulated forward from the insertion point to price the lateness.
 *
 * The search keeps three states: cur (accepted), work (cur plus this
 * iteration's change) and best. Only the routes an iteration touched are
 * copied between cur and work, so an iteration costs what it changes. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/optimise.h"

/* SISR's parameters (the paper's values): average jobs removed, longest
 * string, blink rate; the split-string preserved part grows with
 * probability SPLIT_GROW per extra job. */
#define AVG_REMOVED 10.0
#define MAX_STRING 10.0
#define BLINK_RATE 0.01
#define SPLIT_GROW 0.5
/* Starting and final temperatures, in units of the mean distance from a
 * job to its nearest other job (so that the schedule scales with the
 * instance and is not tuned to any one). */
#define TEMP_START 10.0
#define TEMP_END 0.1
/* How many nearest jobs each job's neighbour list keeps. */
#define MAX_NEIGHBOURS 128
/* A capped run plans this share of the time its first iterations
 * promise, leaving room for slower iterations later. */
#define CAP_SHARE 0.9

/* ---- random numbers: xoshiro256** seeded by splitmix64 -------------- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for(int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0. */
static inline int rng_below(struct rng *r, int n)
{
	return (int)(rng_unit(r) * n);
}

/* ---- state ------------------------------------------------------------ */

struct route {
	int len, n_locked;
	int cap;         /* room in seq, es and ls: grown on demand, so that a
	                  * fleet far larger than its routes costs little */
	int *seq;        /* job indices */
	double *es, *ls; /* earliest service start; latest arrival */
	int load, n_soft, n_late, n_req_late, moved;
	double dist, time, late;
};

struct state {
	struct route *r; /* one per vehicle */
	int *route_of;   /* per job: its vehicle, or -1 */
	int *unassigned;
	int n_unassigned;
	struct otd_vrp_cost cost;
};

struct solver {
	const struct otd_vrp *p;
	enum otd_opt_objective obj;
	int n, m, N;
	const double *D, *T;
	int *adj; /* n * n_adj nearest jobs, nearest first */
	int n_adj;
	double *far; /* per job: distance from its nearest vehicle start */
	int *vclass; /* per vehicle: the first vehicle identical to it */
	double unit; /* mean distance from a job to its nearest other job */
	struct rng rng;
	struct state cur, work, best;
	bool *touched; /* per vehicle, this iteration */
	int *touched_list;
	int n_touched;
	bool *ruined;     /* per vehicle, this iteration */
	bool *class_seen; /* per vehicle class, one insertion */
	int *order;       /* recreate order */
	double *key;
	int *pos_buf;
};

static void state_init(struct state *s, int n, int m)
{
	s->r = xcalloc((size_t)m + 1, sizeof(*s->r));
	s->route_of = xcalloc((size_t)n + 1, sizeof(int));
	s->unassigned = xcalloc((size_t)n + 1, sizeof(int));
	s->n_unassigned = 0;
	memset(&s->cost, 0, sizeof(s->cost));
}

static void state_cleanup(struct state *s, int m)
{
	if(!s->r)
		return;
	for(int v = 0; v < m; v++) {
		free(s->r[v].seq);
		free(s->r[v].es);
		free(s->r[v].ls);
	}
	free(s->r);
	free(s->route_of);
	free(s->unassigned);
	memset(s, 0, sizeof(*s));
}

/* Makes room for len stops in rt. */
static void route_reserve(struct route *rt, int len)
{
	if(len <= rt->cap)
		return;
	int cap = rt->cap ? rt->cap : 8;
	while(cap < len)
		cap *= 2;
	rt->seq = xrealloc(rt->seq, (size_t)cap * sizeof(int));
	rt->es = xrealloc(rt->es, (size_t)cap * sizeof(double));
	rt->ls = xrealloc(rt->ls, (size_t)cap * sizeof(double));
	rt->cap = cap;
}

static void route_copy(struct route *dst, const struct route *src)
{
	int len = src->len;
	route_reserve(dst, len);
	if(len > 0) {
		memcpy(dst->seq, src->seq, (size_t)len * sizeof(int));
		memcpy(dst->es, src->es, (size_t)len * sizeof(double));
		memcpy(dst->ls, src->ls, (size_t)len * sizeof(double));
	}
	dst->len = len;
	dst->n_locked = src->n_locked;
	dst->load = src->load;
	dst->n_soft = src->n_soft;
	dst->n_late = src->n_late;
	dst->n_req_late = src->n_req_late;
	dst->moved = src->moved;
	dst->dist = src->dist;
	dst->time = src->time;
	dst->late = src->late;
}

/* Copies the jobs' places and the totals; routes are copied by the
 * caller (all, or the touched ones). */
static void state_copy_rest(const struct solver *S, struct state *dst, const struct state *src)
{
	memcpy(dst->route_of, src->route_of, (size_t)S->n * sizeof(int));
	memcpy(dst->unassigned, src->unassigned, (size_t)src->n_unassigned * sizeof(int));
	dst->n_unassigned = src->n_unassigned;
	dst->cost = src->cost;
}

static void state_copy_all(const struct solver *S, struct state *dst, const struct state *src)
{
	for(int v = 0; v < S->m; v++)
		route_copy(&dst->r[v], &src->r[v]);
	state_copy_rest(S, dst, src);
}

/* Re-times route v of its state from scratch: es, ls and the totals. */
static void route_time(const struct solver *S, int v, struct route *rt)
{
	const struct otd_vrp *p = S->p;
	const struct otd_vrp_vehicle *veh = &p->vehicles[v];
	const int N = S->N;
	int prev = veh->start_node;
	double dep = veh->start;
	rt->load = 0;
	rt->n_soft = 0;
	rt->n_late = 0;
	rt->n_req_late = 0;
	rt->moved = 0;
	rt->dist = 0;
	rt->time = 0;
	rt->late = 0;
	for(int i = 0; i < rt->len; i++) {
		const struct otd_vrp_job *j = &p->jobs[rt->seq[i]];
		double t = S->T[prev * N + j->node];
		rt->dist += S->D[prev * N + j->node];
		rt->time += t;
		double st = dep + t;
		if(st < j->a)
			st = j->a;
		rt->es[i] = st;
		if(j->soft) {
			rt->n_soft++;
			if(st > j->b + OTD_VRP_EPS) {
				rt->n_late++;
				rt->n_req_late += j->required;
				rt->late += st - j->b;
			}
		}
		rt->load += j->demand;
		if(j->home_vehicle >= 0 && j->home_vehicle != v)
			rt->moved++;
		dep = st + j->service;
		prev = j->node;
	}
	if(rt->len > 0) {
		rt->dist += S->D[prev * N + veh->end_node];
		rt->time += S->T[prev * N + veh->end_node];
	}
	double latest = veh->end;
	int next = veh->end_node;
	for(int i = rt->len - 1; i >= 0; i--) {
		const struct otd_vrp_job *j = &p->jobs[rt->seq[i]];
		double l = latest - S->T[j->node * N + next] - j->service;
		if(!j->soft && j->b < l)
			l = j->b;
		rt->ls[i] = l;
		latest = l;
		next = j->node;
	}
}

/* Why route v of st breaks a hard constraint, or NULL. */
static const char *route_broken(const struct solver *S, int v, const struct route *rt, int *job)
{
	const struct otd_vrp *p = S->p;
	const struct otd_vrp_vehicle *veh = &p->vehicles[v];
	*job = -1;
	for(int i = 0; i < rt->len; i++) {
		const struct otd_vrp_job *j = &p->jobs[rt->seq[i]];
		*job = rt->seq[i];
		if((j->skills & ~veh->skills) != 0)
			return "needs a skill the vehicle lacks";
		if(j->pinned && j->home_vehicle != v)
			return "is pinned to another vehicle";
		if(!j->soft && rt->es[i] > j->b + OTD_VRP_EPS)
			return "starts after its window";
		if(i < rt->n_locked ? (j->locked_vehicle != v || j->locked_pos < 0)
		                    : j->locked_vehicle >= 0)
			return "breaks a fixed part";
	}
	*job = -1;
	if(veh->capacity >= 0 && rt->load > veh->capacity)
		return "is over capacity";
	if(rt->len > 0) {
		const struct otd_vrp_job *last = &p->jobs[rt->seq[rt->len - 1]];
		double back =
		    rt->es[rt->len - 1] + last->service + S->T[last->node * S->N + veh->end_node];
		if(back > veh->end + OTD_VRP_EPS)
			return "is back after the shift end";
	}
	return NULL;
}

static void state_total(const struct solver *S, struct state *st)
{
	struct otd_vrp_cost *c = &st->cost;
	memset(c, 0, sizeof(*c));
	c->unassigned = st->n_unassigned;
	for(int u = 0; u < st->n_unassigned; u++)
		c->required_missed += S->p->jobs[st->unassigned[u]].required;
	for(int v = 0; v < S->m; v++) {
		const struct route *rt = &st->r[v];
		if(rt->len == 0)
			continue;
		c->vehicles++;
		c->late_jobs += rt->n_late;
		c->required_missed += rt->n_req_late;
		c->lateness += rt->late;
		c->moved += rt->moved;
		c->distance += rt->dist;
		c->time += rt->time;
	}
}

/* ---- comparing costs ---------------------------------------------------- */

#define TIER_EPS 1e-6

/* -1, 0 or 1 as a is better than, as good as or worse than b on every
 * tier above distance. */
static int compare_upper(enum otd_opt_objective o, const struct otd_vrp_cost *a,
                         const struct otd_vrp_cost *b)
{
	switch(o) {
	case OTD_OPT_DISTANCE:
		return a->unassigned < b->unassigned ? -1 : a->unassigned > b->unassigned;
	case OTD_OPT_VEHICLES:
		if(a->unassigned != b->unassigned)
			return a->unassigned < b->unassigned ? -1 : 1;
		return a->vehicles < b->vehicles ? -1 : a->vehicles > b->vehicles;
	case OTD_OPT_FIELD:
	case OTD_OPT_PLAN: {
		if(a->required_missed != b->required_missed)
			return a->required_missed < b->required_missed ? -1 : 1;
		int ba = a->unassigned + a->late_jobs, bb = b->unassigned + b->late_jobs;
		if(ba != bb)
			return ba < bb ? -1 : 1;
		if(a->unassigned != b->unassigned)
			return a->unassigned < b->unassigned ? -1 : 1;
		if(fabs(a->lateness - b->lateness) > TIER_EPS)
			return a->lateness < b->lateness ? -1 : 1;
		if(o == OTD_OPT_PLAN)
			return 0;
		return a->moved < b->moved ? -1 : a->moved > b->moved;
	}
	}
	return 0;
}

bool otd_opt_better(enum otd_opt_objective o, const struct otd_vrp_cost *a,
                    const struct otd_vrp_cost *b)
{
	int c = compare_upper(o, a, b);
	if(c != 0)
		return c < 0;
	return a->distance < b->distance - TIER_EPS;
}

/* What one insertion changes, compared like a cost. */
struct delta {
	int required; /* required jobs made late */
	int broken;
	double late;
	int moved, vehicles;
	double dist;
};

static bool delta_better(enum otd_opt_objective o, const struct delta *a, const struct delta *b)
{
	switch(o) {
	case OTD_OPT_DISTANCE: break;
	case OTD_OPT_VEHICLES:
		if(a->vehicles != b->vehicles)
			return a->vehicles < b->vehicles;
		break;
	case OTD_OPT_FIELD:
	case OTD_OPT_PLAN:
		if(a->required != b->required)
			return a->required < b->required;
		if(a->broken != b->broken)
			return a->broken < b->broken;
		if(fabs(a->late - b->late) > TIER_EPS)
			return a->late < b->late;
		if(o == OTD_OPT_FIELD && a->moved != b->moved)
			return a->moved < b->moved;
		break;
	}
	return a->dist < b->dist;
}

/* ---- moves -------------------------------------------------------------- */

static void touch(struct solver *S, int v)
{
	if(!S->touched[v]) {
		S->touched[v] = true;
		S->touched_list[S->n_touched++] = v;
	}
}

static void route_insert(struct solver *S, struct state *st, int v, int pos, int job)
{
	struct route *rt = &st->r[v];
	route_reserve(rt, rt->len + 1);
	memmove(rt->seq + pos + 1, rt->seq + pos, (size_t)(rt->len - pos) * sizeof(int));
	rt->seq[pos] = job;
	rt->len++;
	st->route_of[job] = v;
	route_time(S, v, rt);
}

/* Removes positions [from, to) of route v except [keep_from, keep_to),
 * appending the removed jobs to the unassigned list. */
static void route_remove(struct solver *S, struct state *st, int v, int from, int to, int keep_from,
                         int keep_to)
{
	struct route *rt = &st->r[v];
	int w = from;
	for(int i = from; i < to; i++) {
		int job = rt->seq[i];
		if(i >= keep_from && i < keep_to) {
			rt->seq[w++] = job;
			continue;
		}
		st->route_of[job] = -1;
		st->unassigned[st->n_unassigned++] = job;
	}
	memmove(rt->seq + w, rt->seq + to, (size_t)(rt->len - to) * sizeof(int));
	rt->len -= to - w;
	route_time(S, v, rt);
	touch(S, v);
}

/* The cheapest feasible place for job c in route v; false when none.
 * Places are skipped at the blink rate when blink is set. */
static bool best_place(struct solver *S, struct state *st, int v, int c, bool blink,
                       struct delta *best, int *best_pos)
{
	const struct otd_vrp *p = S->p;
	const struct otd_vrp_vehicle *veh = &p->vehicles[v];
	const struct otd_vrp_job *jc = &p->jobs[c];
	const struct route *rt = &st->r[v];
	const int N = S->N;
	const double *D = S->D, *T = S->T;
	if((jc->skills & ~veh->skills) != 0 || (jc->pinned && jc->home_vehicle != v))
		return false;
	if(veh->capacity >= 0 && rt->load + jc->demand > veh->capacity)
		return false;
	bool found = false;
	struct delta d = {0};
	d.moved = jc->home_vehicle >= 0 && jc->home_vehicle != v;
	d.vehicles = rt->len == 0;
	const int cn = jc->node;
	for(int pos = rt->n_locked; pos <= rt->len; pos++) {
		int prev;
		double dep;
		if(pos == 0) {
			prev = veh->start_node;
			dep = veh->start;
		} else {
			const struct otd_vrp_job *jp = &p->jobs[rt->seq[pos - 1]];
			prev = jp->node;
			dep = rt->es[pos - 1] + jp->service;
		}
		double start = dep + T[prev * N + cn];
		if(start < jc->a)
			start = jc->a;
		if(!jc->soft && start > jc->b + OTD_VRP_EPS)
			break; /* later places only start later */
		if(blink && rng_unit(&S->rng) < BLINK_RATE)
			continue;
		int next = pos == rt->len ? veh->end_node : p->jobs[rt->seq[pos]].node;
		double latest = pos == rt->len ? veh->end : rt->ls[pos];
		double leave = start + jc->service;
		if(leave + T[cn * N + next] > latest + OTD_VRP_EPS)
			continue;
		d.dist = D[prev * N + cn] + D[cn * N + next] - D[prev * N + next];
		d.broken = 0;
		d.required = 0;
		d.late = 0;
		if(jc->soft && start > jc->b + OTD_VRP_EPS) {
			d.broken = 1;
			d.required = jc->required;
			d.late = start - jc->b;
		}
		if(rt->n_soft > 0) {
			/* Push the delay forward until a wait absorbs it. */
			double dp = leave;
			int pn = cn;
			for(int i = pos; i < rt->len; i++) {
				const struct otd_vrp_job *j = &p->jobs[rt->seq[i]];
				double s = dp + T[pn * N + j->node];
				if(s < j->a)
					s = j->a;
				if(s <= rt->es[i])
					break;
				if(j->soft) {
					double was = rt->es[i] > j->b ? rt->es[i] - j->b : 0;
					double now = s > j->b ? s - j->b : 0;
					d.late += now - was;
					int turned = (s > j->b + OTD_VRP_EPS) -
					             (rt->es[i] > j->b + OTD_VRP_EPS);
					d.broken += turned;
					d.required += j->required ? turned : 0;
				}
				dp = s + j->service;
				pn = j->node;
			}
		}
		if(!found || delta_better(S->obj, &d, best)) {
			*best = d;
			*best_pos = pos;
			found = true;
		}
	}
	return found;
}

/* Puts every unassigned job back where it costs least, in one of SISR's
 * orders (random, demand, far from the base, near the base). */
static void recreate(struct solver *S, struct state *st)
{
	int k = st->n_unassigned;
	if(k == 0)
		return;
	int *order = S->order;
	memcpy(order, st->unassigned, (size_t)k * sizeof(int));
	for(int i = k - 1; i > 0; i--) {
		int j = rng_below(&S->rng, i + 1);
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	int how = rng_below(&S->rng, 11);
	if(how >= 4) {
		for(int i = 0; i < k; i++) {
			const struct otd_vrp_job *j = &S->p->jobs[order[i]];
			S->key[i] = how < 8    ? -(double)j->demand
			            : how < 10 ? -S->far[order[i]]
			                       : S->far[order[i]];
		}
		/* Stable insertion sort by key: the shuffle breaks ties. */
		for(int i = 1; i < k; i++) {
			int o = order[i];
			double kv = S->key[i];
			int j = i - 1;
			while(j >= 0 && S->key[j] > kv) {
				order[j + 1] = order[j];
				S->key[j + 1] = S->key[j];
				j--;
			}
			order[j + 1] = o;
			S->key[j + 1] = kv;
		}
	}
	st->n_unassigned = 0;
	for(int i = 0; i < k; i++) {
		int c = order[i];
		struct delta best = {0}, d;
		int best_v = -1, best_pos = 0, pos;
		memset(S->class_seen, 0, (size_t)S->m * sizeof(bool));
		for(int v = 0; v < S->m; v++) {
			if(st->r[v].len == 0) {
				if(S->class_seen[S->vclass[v]])
					continue;
				S->class_seen[S->vclass[v]] = true;
			}
			if(best_place(S, st, v, c, true, &d, &pos) &&
			   (best_v < 0 || delta_better(S->obj, &d, &best))) {
				best = d;
				best_v = v;
				best_pos = pos;
			}
		}
		if(best_v < 0) {
			st->unassigned[st->n_unassigned++] = c;
			continue;
		}
		route_insert(S, st, best_v, best_pos, c);
		touch(S, best_v);
	}
}

/* Removes strings of consecutive jobs near a random seed job. */
static void ruin(struct solver *S, struct state *st)
{
	int assigned = 0, routes = 0;
	for(int v = 0; v < S->m; v++) {
		int free_jobs = st->r[v].len - st->r[v].n_locked;
		if(free_jobs > 0) {
			assigned += free_jobs;
			routes++;
		}
		S->ruined[v] = false;
	}
	if(routes == 0)
		return;
	double ls_max = fmin(MAX_STRING, (double)assigned / routes);
	double ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0;
	int ks = (int)(rng_unit(&S->rng) * ks_max) + 1;
	int seed = rng_below(&S->rng, S->n);
	int done = 0;
	for(int a = -1; a < S->n_adj && done < ks; a++) {
		int c = a < 0 ? seed : S->adj[(size_t)seed * S->n_adj + a];
		int v = st->route_of[c];
		if(v < 0 || S->ruined[v] || S->p->jobs[c].locked_vehicle >= 0)
			continue;
		struct route *rt = &st->r[v];
		int lo = rt->n_locked, free_jobs = rt->len - lo;
		int pos = lo;
		while(rt->seq[pos] != c)
			pos++;
		double lmax = fmin((double)free_jobs, ls_max);
		int l = (int)(rng_unit(&S->rng) * lmax) + 1;
		if(l > free_jobs)
			l = free_jobs;
		int keep = 0;
		if(l < free_jobs && rng_unit(&S->rng) < 0.5) {
			keep = 1;
			while(l + keep < free_jobs && rng_unit(&S->rng) < SPLIT_GROW)
				keep++;
		}
		int span = l + keep;
		/* A window of span places holding pos, inside [lo, len). */
		int first = pos - span + 1 > lo ? pos - span + 1 : lo;
		int last = pos < rt->len - span ? pos : rt->len - span;
		int from = first + rng_below(&S->rng, last - first + 1);
		int keep_from = from + (keep ? rng_below(&S->rng, span - keep + 1) : 0);
		route_remove(S, st, v, from, from + span, keep_from, keep_from + keep);
		S->ruined[v] = true;
		done++;
	}
	if(S->obj == OTD_OPT_VEHICLES && rng_unit(&S->rng) < 0.1) {
		/* Try to empty a short route: the smaller of two at random. */
		int pick = -1;
		for(int t = 0; t < 2; t++) {
			int v = rng_below(&S->rng, S->m);
			for(int k = 0; k < S->m; k++, v = (v + 1) % S->m)
				if(st->r[v].len > st->r[v].n_locked)
					break;
			if(st->r[v].len > st->r[v].n_locked &&
			   (pick < 0 || st->r[v].len < st->r[pick].len))
				pick = v;
		}
		if(pick >= 0)
			route_remove(S, st, pick, st->r[pick].n_locked, st->r[pick].len, 0, 0);
	}
}

/* ---- setting up ------------------------------------------------------- */

static struct solver *solver_new(const struct otd_vrp *p, const struct otd_opt_params *prm)
{
	struct solver *S = xcalloc(1, sizeof(*S));
	S->p = p;
	S->obj = prm->objective;
	S->n = p->n_jobs;
	S->m = p->n_vehicles;
	S->N = p->n_nodes;
	S->D = p->dist;
	S->T = p->time;
	rng_seed(&S->rng, prm->seed);
	int n = S->n, m = S->m, N = S->N;

	/* Neighbour lists: for each job the nearest others by dist. */
	S->n_adj = n - 1 < MAX_NEIGHBOURS ? n - 1 : MAX_NEIGHBOURS;
	S->adj = xcalloc((size_t)n * (S->n_adj > 0 ? S->n_adj : 1), sizeof(int));
	double *dj = xcalloc((size_t)n, sizeof(double));
	double nearest_sum = 0;
	for(int i = 0; i < n; i++) {
		int *row = S->adj + (size_t)i * S->n_adj;
		int have = 0;
		int ni = p->jobs[i].node;
		/* Keep the n_adj nearest by insertion into a sorted row. */
		for(int j = 0; j < n; j++) {
			if(j == i)
				continue;
			double d = S->D[ni * N + p->jobs[j].node];
			if(have == S->n_adj && d >= dj[have - 1])
				continue;
			int k = have < S->n_adj ? have++ : have - 1;
			while(k > 0 && dj[k - 1] > d) {
				dj[k] = dj[k - 1];
				row[k] = row[k - 1];
				k--;
			}
			dj[k] = d;
			row[k] = j;
		}
		if(have > 0)
			nearest_sum += dj[0];
	}
	free(dj);
	S->unit = n > 1 ? nearest_sum / n : 1.0;
	if(!(S->unit > 0))
		S->unit = 1.0;

	S->far = xcalloc((size_t)n + 1, sizeof(double));
	for(int i = 0; i < n; i++) {
		double best = INFINITY;
		for(int v = 0; v < m; v++) {
			double d = S->D[p->vehicles[v].start_node * N + p->jobs[i].node];
			if(d < best)
				best = d;
		}
		S->far[i] = m > 0 ? best : 0;
	}
	S->vclass = xcalloc((size_t)m + 1, sizeof(int));
	for(int v = 0; v < m; v++) {
		const struct otd_vrp_vehicle *a = &p->vehicles[v];
		S->vclass[v] = v;
		for(int w = 0; w < v; w++) {
			const struct otd_vrp_vehicle *b = &p->vehicles[w];
			if(S->vclass[w] == w && a->start_node == b->start_node &&
			   a->end_node == b->end_node && a->start == b->start && a->end == b->end &&
			   a->capacity == b->capacity && a->skills == b->skills) {
				S->vclass[v] = w;
				break;
			}
		}
	}
	/* A job whose customer was told a vehicle makes that vehicle distinct. */
	for(int i = 0; i < n; i++) {
		int h = p->jobs[i].home_vehicle;
		if(h >= 0 && h < m)
			S->vclass[h] = h;
	}
	state_init(&S->cur, n, m);
	state_init(&S->work, n, m);
	state_init(&S->best, n, m);
	S->touched = xcalloc((size_t)m + 1, sizeof(bool));
	S->touched_list = xcalloc((size_t)m + 1, sizeof(int));
	S->ruined = xcalloc((size_t)m + 1, sizeof(bool));
	S->class_seen = xcalloc((size_t)m + 1, sizeof(bool));
	S->order = xcalloc((size_t)n + 1, sizeof(int));
	S->key = xcalloc((size_t)n + 1, sizeof(double));
	return S;
}

static void solver_free(struct solver *S)
{
	state_cleanup(&S->cur, S->m);
	state_cleanup(&S->work, S->m);
	state_cleanup(&S->best, S->m);
	free(S->adj);
	free(S->far);
	free(S->vclass);
	free(S->touched);
	free(S->touched_list);
	free(S->ruined);
	free(S->class_seen);
	free(S->order);
	free(S->key);
	free(S);
}

static int cmp_locked(const void *a, const void *b, const struct otd_vrp *p)
{
	int x = *(const int *)a, y = *(const int *)b;
	int px = p->jobs[x].locked_pos, py = p->jobs[y].locked_pos;
	return px < py ? -1 : px > py;
}

/* Builds the first state in S->cur: the caller's solution, or the locked
 * heads only. */
static bool start_state(struct solver *S, const struct otd_vrp_solution *init, char *err,
                        size_t err_len)
{
	const struct otd_vrp *p = S->p;
	struct state *st = &S->cur;
	for(int i = 0; i < S->n; i++)
		st->route_of[i] = -1;
	if(init && (init->n_vehicles != S->m || init->n_jobs != S->n || !init->first ||
	            init->first[0] != 0 || init->first[S->m] > S->n)) {
		snprintf(err, err_len, "the starting solution is for another instance");
		return false;
	}
	for(int v = 0; init && v < S->m; v++)
		if(init->first[v + 1] < init->first[v]) {
			snprintf(err, err_len, "the starting solution is malformed");
			return false;
		}
	for(int v = 0; v < S->m; v++) {
		struct route *rt = &st->r[v];
		rt->len = 0;
		if(init) {
			for(int k = init->first[v]; k < init->first[v + 1]; k++) {
				int job = init->order[k];
				if(job < 0 || job >= S->n || st->route_of[job] >= 0) {
					snprintf(err, err_len,
					         "the starting solution lists a job twice or "
					         "one that does not exist");
					return false;
				}
				route_reserve(rt, rt->len + 1);
				rt->seq[rt->len++] = job;
				st->route_of[job] = v;
			}
		} else {
			for(int i = 0; i < S->n; i++)
				if(p->jobs[i].locked_vehicle == v) {
					route_reserve(rt, rt->len + 1);
					rt->seq[rt->len++] = i;
					st->route_of[i] = v;
				}
			/* Sort the head by locked_pos (insertion sort: heads are short). */
			for(int a = 1; a < rt->len; a++)
				for(int b = a;
				    b > 0 && cmp_locked(&rt->seq[b], &rt->seq[b - 1], p) < 0; b--) {
					int t = rt->seq[b];
					rt->seq[b] = rt->seq[b - 1];
					rt->seq[b - 1] = t;
				}
		}
		int locked = 0;
		while(locked < rt->len && p->jobs[rt->seq[locked]].locked_vehicle == v)
			locked++;
		rt->n_locked = locked;
		for(int a = 1; a < locked; a++)
			if(p->jobs[rt->seq[a]].locked_pos < p->jobs[rt->seq[a - 1]].locked_pos) {
				snprintf(err, err_len,
				         "vehicle %lld: its fixed jobs are out of order",
				         (long long)p->vehicles[v].id);
				return false;
			}
		route_time(S, v, rt);
		int job;
		const char *why = route_broken(S, v, rt, &job);
		if(why) {
			if(job >= 0)
				snprintf(err, err_len, "vehicle %lld: job %lld %s",
				         (long long)p->vehicles[v].id, (long long)p->jobs[job].id,
				         why);
			else
				snprintf(err, err_len, "vehicle %lld %s",
				         (long long)p->vehicles[v].id, why);
			return false;
		}
	}
	st->n_unassigned = 0;
	for(int i = 0; i < S->n; i++) {
		if(st->route_of[i] >= 0)
			continue;
		if(p->jobs[i].locked_vehicle >= 0) {
			snprintf(err, err_len,
			         "job %lld is fixed to a vehicle but not on its route",
			         (long long)p->jobs[i].id);
			return false;
		}
		st->unassigned[st->n_unassigned++] = i;
	}
	return true;
}

static bool check_instance(const struct otd_vrp *p, char *err, size_t err_len)
{
	if(p->n_jobs < 0 || p->n_vehicles < 0 || p->n_nodes <= 0 || !p->dist || !p->time) {
		snprintf(err, err_len, "the instance is empty or has no travel matrix");
		return false;
	}
	for(int i = 0; i < p->n_jobs; i++) {
		const struct otd_vrp_job *j = &p->jobs[i];
		if(j->node < 0 || j->node >= p->n_nodes || j->locked_vehicle >= p->n_vehicles ||
		   j->home_vehicle >= p->n_vehicles || (j->pinned && j->home_vehicle < 0) ||
		   j->demand < 0 || !(j->service >= 0) || !isfinite(j->service) ||
		   !isfinite(j->a) || !isfinite(j->b)) {
			snprintf(err, err_len,
			         "job %lld has a place, vehicle, pin, demand, window or "
			         "service time out of range",
			         (long long)j->id);
			return false;
		}
	}
	for(int v = 0; v < p->n_vehicles; v++) {
		const struct otd_vrp_vehicle *veh = &p->vehicles[v];
		if(veh->start_node < 0 || veh->start_node >= p->n_nodes || veh->end_node < 0 ||
		   veh->end_node >= p->n_nodes) {
			snprintf(err, err_len, "vehicle %lld has a base out of range",
			         (long long)veh->id);
			return false;
		}
	}
	return true;
}

static void state_export(const struct solver *S, const struct state *st,
                         struct otd_vrp_solution *out)
{
	otd_vrp_solution_init(out, S->p);
	int k = 0;
	for(int v = 0; v < S->m; v++) {
		out->first[v] = k;
		for(int i = 0; i < st->r[v].len; i++)
			out->order[k++] = st->r[v].seq[i];
	}
	out->first[S->m] = k;
	out->n_unassigned = 0;
	for(int i = 0; i < S->n; i++)
		if(st->route_of[i] < 0)
			out->unassigned[out->n_unassigned++] = i;
}

bool otd_optimise(const struct otd_vrp *p, const struct otd_opt_params *prm,
                  struct otd_vrp_solution *out, struct otd_opt_result *res, char *err,
                  size_t err_len)
{
	memset(res, 0, sizeof(*res));
	if(prm->iterations <= 0 && !(prm->seconds > 0 && prm->now)) {
		snprintf(err, err_len, "give an iteration budget or a time cap");
		return false;
	}
	if(prm->seconds > 0 && !prm->now) {
		snprintf(err, err_len, "a time cap needs a clock");
		return false;
	}
	if(!check_instance(p, err, err_len))
		return false;
	struct solver *S = solver_new(p, prm);
	if(!start_state(S, prm->initial, err, err_len)) {
		solver_free(S);
		return false;
	}
	/* The first solution: everything inserted once, without blinks being
	 * a loss (blinks only skip places). */
	S->n_touched = 0;
	recreate(S, &S->cur);
	state_total(S, &S->cur);
	for(int t = 0; t < S->n_touched; t++)
		S->touched[S->touched_list[t]] = false;
	S->n_touched = 0;
	state_copy_all(S, &S->work, &S->cur);
	state_copy_all(S, &S->best, &S->cur);

	const double t_start = prm->now ? prm->now(prm->now_ctx) : 0;
	long budget = prm->iterations;
	if(budget <= 0)
		budget = LONG_MAX; /* fixed after calibrating */
	const double temp0 = TEMP_START * S->unit, temp1 = TEMP_END * S->unit;
	long it = 0;
	for(; it < budget; it++) {
		if(prm->seconds > 0 && (it & 31) == 0 &&
		   prm->now(prm->now_ctx) - t_start >= prm->seconds) {
			res->cut = true;
			break;
		}
		if(prm->iterations <= 0 && it == OTD_OPT_CALIBRATION) {
			double spent = prm->now(prm->now_ctx) - t_start;
			double rate = spent > 0 ? it / spent : 1e6;
			double left = prm->seconds - spent;
			budget = it + (long)(CAP_SHARE * rate * (left > 0 ? left : 0));
			if(budget <= it)
				break;
		}
		double temp;
		if(it < OTD_OPT_CALIBRATION || budget <= OTD_OPT_CALIBRATION || budget == LONG_MAX)
			temp = temp0;
		else
			temp =
			    temp0 * pow(temp1 / temp0, (double)(it - OTD_OPT_CALIBRATION) /
			                                   (double)(budget - OTD_OPT_CALIBRATION));

		ruin(S, &S->work);
		recreate(S, &S->work);
		state_total(S, &S->work);

		int up = compare_upper(S->obj, &S->work.cost, &S->cur.cost);
		bool accept = up < 0 || (up == 0 && S->work.cost.distance <
		                                        S->cur.cost.distance -
		                                            temp * log(1.0 - rng_unit(&S->rng)));
		struct state *from = accept ? &S->work : &S->cur, *to = accept ? &S->cur : &S->work;
		for(int t = 0; t < S->n_touched; t++) {
			int v = S->touched_list[t];
			route_copy(&to->r[v], &from->r[v]);
			S->touched[v] = false;
		}
		S->n_touched = 0;
		state_copy_rest(S, to, from);
		if(accept && otd_opt_better(S->obj, &S->cur.cost, &S->best.cost))
			state_copy_all(S, &S->best, &S->cur);
	}
	res->iterations = it;
	res->budget = budget;
	res->cost = S->best.cost;
	state_export(S, &S->best, out);
	solver_free(S);
	return true;
}
