/* Unit tests: the route optimiser (core/optimise.c), with seeded random
 * instances: every solution passes the separate checker (core/vrp.c),
 * fixed parts never move, a seed and budget reproduce a run, and on tiny
 * days an exhaustive search written here confirms that the solver saves
 * every promise that can be saved. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/optimise.h"
#include "onthedot/vrp.h"
#include "testutil.h"

/* ---- a seeded instance generator ---------------------------------------- */

static uint64_t gen_state;

static uint64_t gen_next(void)
{
	gen_state ^= gen_state << 13;
	gen_state ^= gen_state >> 7;
	gen_state ^= gen_state << 17;
	return gen_state;
}

static double gen_unit(void)
{
	return (double)(gen_next() >> 11) * 0x1.0p-53;
}

static int gen_below(int n)
{
	return (int)(gen_unit() * n);
}

struct gen_opts {
	int jobs, vehicles;
	bool skills, capacity, soft, home, locked;
	double horizon; /* shift length */
	double width;   /* mean window width */
};

/* A random instance: nodes 0..vehicles-1 are the bases (some shared),
 * then one node per job; coordinates in [0, 100]; travel time is 1.5 x
 * the distance (so time and dist differ). Locked jobs, when asked, are
 * the first job of some vehicles, next to their base with an open
 * window, so that the fixed part is feasible by construction. */
static void gen_instance(uint64_t seed, const struct gen_opts *o, struct otd_vrp *p)
{
	gen_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	memset(p, 0, sizeof(*p));
	int nv = o->vehicles, nj = o->jobs, N = nv + nj;
	double *x = xcalloc((size_t)N, sizeof(double)), *y = xcalloc((size_t)N, sizeof(double));
	for(int i = 0; i < N; i++) {
		x[i] = gen_unit() * 100;
		y[i] = gen_unit() * 100;
	}
	for(int v = 1; v < nv; v++)
		if(gen_unit() < 0.3) { /* a shared base */
			x[v] = x[0];
			y[v] = y[0];
		}
	p->n_nodes = N;
	p->n_jobs = nj;
	p->n_vehicles = nv;
	p->vehicles = xcalloc((size_t)nv, sizeof(*p->vehicles));
	for(int v = 0; v < nv; v++) {
		struct otd_vrp_vehicle *veh = &p->vehicles[v];
		veh->start_node = veh->end_node = v;
		veh->start = gen_unit() * 30;
		veh->end = veh->start + o->horizon * (0.8 + 0.4 * gen_unit());
		veh->capacity = o->capacity ? 20 + gen_below(30) : -1;
		veh->skills = o->skills ? (uint64_t)(1 + gen_below(3)) : 0;
		veh->id = v + 1;
	}
	p->jobs = xcalloc((size_t)nj, sizeof(*p->jobs));
	for(int i = 0; i < nj; i++) {
		struct otd_vrp_job *j = &p->jobs[i];
		j->node = nv + i;
		j->service = 5 + gen_below(16);
		double w = o->width * (0.5 + gen_unit());
		j->a = gen_unit() * (o->horizon - w);
		j->b = j->a + w;
		j->demand = o->capacity ? 1 + gen_below(10) : 0;
		j->skills = o->skills && gen_unit() < 0.4 ? (uint64_t)(1 + gen_below(2)) : 0;
		j->soft = o->soft && gen_unit() < 0.15;
		j->locked_vehicle = -1;
		j->locked_pos = -1;
		j->home_vehicle = o->home && gen_unit() < 0.6 ? gen_below(nv) : -1;
		j->pinned = j->home_vehicle >= 0 && o->soft && gen_unit() < 0.1;
		j->id = i + 1;
	}
	if(o->locked)
		for(int v = 0, i = 0; v < nv && i < nj; v += 2, i++) {
			/* Next to the base, open all shift, no skill or load. */
			struct otd_vrp_job *j = &p->jobs[i];
			const struct otd_vrp_vehicle *veh = &p->vehicles[v];
			x[j->node] = x[v] + 1;
			y[j->node] = y[v];
			j->a = veh->start;
			j->b = veh->end - 100;
			j->skills = 0;
			j->demand = 0;
			j->soft = false;
			j->locked_vehicle = v;
			j->locked_pos = 0;
			j->pinned = false;
		}
	p->dist = xcalloc((size_t)N * N, sizeof(double));
	p->time = xcalloc((size_t)N * N, sizeof(double));
	for(int i = 0; i < N; i++)
		for(int j = 0; j < N; j++) {
			double d = hypot(x[i] - x[j], y[i] - y[j]);
			p->dist[i * N + j] = d;
			p->time[i * N + j] = 1.5 * d;
		}
	free(x);
	free(y);
}

static struct otd_opt_params params(enum otd_opt_objective o, uint64_t seed, long iterations)
{
	struct otd_opt_params prm = {0};
	prm.objective = o;
	prm.seed = seed;
	prm.iterations = iterations;
	return prm;
}

/* ---- properties ------------------------------------------------------------ */

static void check_solution(const struct otd_vrp *p, const struct otd_vrp_solution *s,
                           const struct otd_opt_result *res, const char *what, uint64_t seed)
{
	char why[256] = "";
	struct otd_vrp_cost c;
	bool ok = otd_vrp_check(p, s, &c, why, sizeof(why));
	ck_assert_msg(ok, "%s seed %llu: infeasible: %s", what, (unsigned long long)seed, why);
	ck_assert_int_eq(c.unassigned, res->cost.unassigned);
	ck_assert_int_eq(c.vehicles, res->cost.vehicles);
	ck_assert_int_eq(c.late_jobs, res->cost.late_jobs);
	ck_assert_int_eq(c.moved, res->cost.moved);
	ck_assert_double_eq_tol(c.distance, res->cost.distance, 1e-6);
	ck_assert_double_eq_tol(c.lateness, res->cost.lateness, 1e-6);
	/* Fixed parts: each locked job heads its vehicle's route. */
	for(int i = 0; i < p->n_jobs; i++) {
		const struct otd_vrp_job *j = &p->jobs[i];
		if(j->locked_vehicle < 0)
			continue;
		ck_assert_msg(s->first[j->locked_vehicle] < s->first[j->locked_vehicle + 1] &&
		                  s->order[s->first[j->locked_vehicle] + j->locked_pos] == i,
		              "%s seed %llu: locked job %d moved", what, (unsigned long long)seed,
		              i);
	}
}

START_TEST(random_instances_always_feasible_and_fixed_parts_stay)
{
	static const enum otd_opt_objective objs[] = {OTD_OPT_DISTANCE, OTD_OPT_VEHICLES,
	                                              OTD_OPT_FIELD, OTD_OPT_PLAN};
	for(uint64_t seed = 1; seed <= 40; seed++) {
		struct gen_opts o = {.jobs = 10 + (int)(seed % 5) * 12,
		                     .vehicles = 2 + (int)(seed % 4),
		                     .skills = seed % 2 == 0,
		                     .capacity = seed % 3 == 0,
		                     .soft = seed % 3 == 1,
		                     .home = true,
		                     .locked = seed % 2 == 1,
		                     .horizon = 480,
		                     .width = 60 + (double)(seed % 3) * 60};
		struct otd_vrp p;
		gen_instance(seed, &o, &p);
		for(size_t k = 0; k < 4; k++) {
			struct otd_opt_params prm = params(objs[k], seed, 300);
			struct otd_vrp_solution s;
			struct otd_opt_result res;
			char err[256] = "";
			ck_assert_msg(otd_optimise(&p, &prm, &s, &res, err, sizeof(err)),
			              "seed %llu: %s", (unsigned long long)seed, err);
			ck_assert_int_eq(res.iterations, 300);
			check_solution(&p, &s, &res, "random", seed);
			otd_vrp_solution_cleanup(&s);
		}
		otd_vrp_cleanup(&p);
	}
}
END_TEST

START_TEST(same_seed_and_budget_same_routes)
{
	struct gen_opts o = {.jobs = 60,
	                     .vehicles = 5,
	                     .capacity = true,
	                     .home = true,
	                     .horizon = 600,
	                     .width = 120};
	struct otd_vrp p;
	gen_instance(7, &o, &p);
	struct otd_vrp_solution a, b, c;
	struct otd_opt_result ra, rb, rc;
	char err[256];
	struct otd_opt_params prm = params(OTD_OPT_DISTANCE, 42, 2000);
	ck_assert(otd_optimise(&p, &prm, &a, &ra, err, sizeof(err)));
	ck_assert(otd_optimise(&p, &prm, &b, &rb, err, sizeof(err)));
	ck_assert_mem_eq(a.first, b.first, sizeof(int) * (size_t)(p.n_vehicles + 1));
	ck_assert_mem_eq(a.order, b.order, sizeof(int) * (size_t)(a.first[p.n_vehicles]));
	ck_assert_double_eq(ra.cost.distance, rb.cost.distance);
	/* Another seed searches differently (the same result would be a sign
	 * that the seed is ignored; with 60 jobs a tie is all but impossible). */
	prm.seed = 43;
	ck_assert(otd_optimise(&p, &prm, &c, &rc, err, sizeof(err)));
	ck_assert(memcmp(a.order, c.order, sizeof(int) * (size_t)a.first[p.n_vehicles]) != 0 ||
	          ra.cost.distance != rc.cost.distance);
	otd_vrp_solution_cleanup(&a);
	otd_vrp_solution_cleanup(&b);
	otd_vrp_solution_cleanup(&c);
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(more_iterations_never_worse_from_the_same_start)
{
	/* The best solution is kept: starting from the result of a short run,
	 * a longer run returns nothing worse. */
	struct gen_opts o = {.jobs = 50, .vehicles = 4, .horizon = 600, .width = 150};
	struct otd_vrp p;
	gen_instance(11, &o, &p);
	struct otd_vrp_solution a, b;
	struct otd_opt_result ra, rb;
	char err[256];
	struct otd_opt_params prm = params(OTD_OPT_DISTANCE, 3, 100);
	ck_assert(otd_optimise(&p, &prm, &a, &ra, err, sizeof(err)));
	prm.initial = &a;
	prm.iterations = 3000;
	ck_assert(otd_optimise(&p, &prm, &b, &rb, err, sizeof(err)));
	ck_assert(!otd_opt_better(OTD_OPT_DISTANCE, &ra.cost, &rb.cost));
	check_solution(&p, &b, &rb, "restart", 11);
	otd_vrp_solution_cleanup(&a);
	otd_vrp_solution_cleanup(&b);
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(a_job_nobody_can_serve_stays_unassigned)
{
	struct gen_opts o = {
	    .jobs = 8, .vehicles = 2, .skills = true, .horizon = 600, .width = 300};
	struct otd_vrp p;
	gen_instance(5, &o, &p);
	p.jobs[3].skills = 1ULL << 40; /* no vehicle has it */
	p.jobs[5].a = 10000;           /* after every shift */
	p.jobs[5].b = 10100;
	struct otd_vrp_solution s;
	struct otd_opt_result r;
	char err[256];
	struct otd_opt_params prm = params(OTD_OPT_DISTANCE, 1, 200);
	ck_assert(otd_optimise(&p, &prm, &s, &r, err, sizeof(err)));
	check_solution(&p, &s, &r, "unservable", 5);
	ck_assert_int_ge(s.n_unassigned, 2);
	bool saw3 = false, saw5 = false;
	for(int i = 0; i < s.n_unassigned; i++) {
		saw3 |= s.unassigned[i] == 3;
		saw5 |= s.unassigned[i] == 5;
	}
	ck_assert(saw3 && saw5);
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(refuses_unusable_input)
{
	struct gen_opts o = {
	    .jobs = 6, .vehicles = 2, .locked = true, .horizon = 600, .width = 300};
	struct otd_vrp p;
	gen_instance(9, &o, &p);
	struct otd_vrp_solution s;
	struct otd_opt_result r;
	char err[256] = "";
	struct otd_opt_params prm = params(OTD_OPT_FIELD, 1, 0);
	ck_assert(!otd_optimise(&p, &prm, &s, &r, err, sizeof(err)));
	ck_assert_str_eq(err, "give an iteration budget or a time cap");
	/* A fixed part that is already impossible (a hard window it misses). */
	prm.iterations = 10;
	p.jobs[0].a = 0;
	p.jobs[0].b = -5;
	ck_assert(!otd_optimise(&p, &prm, &s, &r, err, sizeof(err)));
	ck_assert_msg(strstr(err, "job 1 starts after its window") != NULL, "%s", err);
	otd_vrp_cleanup(&p);
}
END_TEST

/* ---- exhaustive search on tiny days ---------------------------------------- */

struct tiers {
	int broken, unassigned;
	double late;
	int moved;
	double dist;
};

static bool tiers_better(const struct tiers *a, const struct tiers *b)
{
	if(a->broken != b->broken)
		return a->broken < b->broken;
	if(a->unassigned != b->unassigned)
		return a->unassigned < b->unassigned;
	if(fabs(a->late - b->late) > 1e-6)
		return a->late < b->late;
	if(a->moved != b->moved)
		return a->moved < b->moved;
	return a->dist < b->dist - 1e-9;
}

/* Times one route, written here again from the model in vrp.h: false
 * when a hard constraint breaks. */
static bool time_route(const struct otd_vrp *p, int v, const int *seq, int len, struct tiers *t)
{
	const struct otd_vrp_vehicle *veh = &p->vehicles[v];
	int N = p->n_nodes, at = veh->start_node, load = 0;
	double clock = veh->start;
	for(int i = 0; i < len; i++) {
		const struct otd_vrp_job *j = &p->jobs[seq[i]];
		if((j->skills & ~veh->skills) != 0 || (j->pinned && j->home_vehicle != v))
			return false;
		clock += p->time[at * N + j->node];
		t->dist += p->dist[at * N + j->node];
		if(clock < j->a)
			clock = j->a;
		if(clock > j->b + 1e-9) {
			if(!j->soft)
				return false;
			t->broken++;
			t->late += clock - j->b;
		}
		if(j->home_vehicle >= 0 && j->home_vehicle != v)
			t->moved++;
		load += j->demand;
		clock += j->service;
		at = j->node;
	}
	if(veh->capacity >= 0 && load > veh->capacity)
		return false;
	if(len > 0) {
		clock += p->time[at * N + veh->end_node];
		t->dist += p->dist[at * N + veh->end_node];
	}
	return clock <= veh->end + 1e-9;
}

static bool next_perm(int *a, int n)
{
	int i = n - 2;
	while(i >= 0 && a[i] >= a[i + 1])
		i--;
	if(i < 0)
		return false;
	int j = n - 1;
	while(a[j] <= a[i])
		j--;
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for(int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l];
		a[l] = a[r];
		a[r] = t;
	}
	return true;
}

/* The best order of the given jobs on vehicle v (tiers added to *t). */
static bool best_route(const struct otd_vrp *p, int v, const int *jobs, int len, struct tiers *t)
{
	int seq[8];
	memcpy(seq, jobs, (size_t)len * sizeof(int));
	/* sort for next_perm */
	for(int a = 1; a < len; a++)
		for(int b = a; b > 0 && seq[b] < seq[b - 1]; b--) {
			int x = seq[b];
			seq[b] = seq[b - 1];
			seq[b - 1] = x;
		}
	bool any = false;
	struct tiers best = {0};
	do {
		struct tiers r = {0};
		if(time_route(p, v, seq, len, &r) && (!any || tiers_better(&r, &best))) {
			best = r;
			any = true;
		}
	} while(next_perm(seq, len));
	if(any) {
		t->broken += best.broken;
		t->late += best.late;
		t->moved += best.moved;
		t->dist += best.dist;
	}
	return any;
}

/* The least number of broken promises over every assignment (a vehicle or
 * none per job) and every order. */
static struct tiers exhaustive(const struct otd_vrp *p)
{
	int n = p->n_jobs, m = p->n_vehicles, total = 1;
	for(int i = 0; i < n; i++)
		total *= m + 1;
	struct tiers best = {.broken = 1 << 30};
	for(int code = 0; code < total; code++) {
		int who[8], c = code;
		for(int i = 0; i < n; i++) {
			who[i] = c % (m + 1) - 1;
			c /= m + 1;
		}
		struct tiers t = {0};
		bool ok = true;
		for(int v = 0; v < m && ok; v++) {
			int jobs[8], len = 0;
			for(int i = 0; i < n; i++)
				if(who[i] == v)
					jobs[len++] = i;
			ok = best_route(p, v, jobs, len, &t);
		}
		if(!ok)
			continue;
		for(int i = 0; i < n; i++)
			if(who[i] < 0) {
				if(p->jobs[i].locked_vehicle >= 0)
					ok = false;
				t.broken++;
				t.unassigned++;
			}
		if(ok && tiers_better(&t, &best))
			best = t;
	}
	return best;
}

START_TEST(tiny_days_save_every_promise_that_can_be_saved)
{
	int hard_days = 0;
	for(uint64_t seed = 1; seed <= 60; seed++) {
		struct gen_opts o = {.jobs = 5,
		                     .vehicles = 3,
		                     .skills = seed % 2 == 0,
		                     .capacity = seed % 5 == 0,
		                     .soft = true,
		                     .home = true,
		                     .horizon = 200,
		                     .width = 25};
		struct otd_vrp p;
		gen_instance(seed, &o, &p);
		struct tiers want = exhaustive(&p);
		struct otd_vrp_solution s;
		struct otd_opt_result r;
		char err[256];
		struct otd_opt_params prm = params(OTD_OPT_FIELD, seed, 2000);
		ck_assert(otd_optimise(&p, &prm, &s, &r, err, sizeof(err)));
		check_solution(&p, &s, &r, "tiny", seed);
		int broken = r.cost.unassigned + r.cost.late_jobs;
		ck_assert_msg(broken == want.broken, "seed %llu: %d promises broken, %d possible",
		              (unsigned long long)seed, broken, want.broken);
		ck_assert_msg(r.cost.unassigned == want.unassigned,
		              "seed %llu: %d unassigned, %d possible", (unsigned long long)seed,
		              r.cost.unassigned, want.unassigned);
		ck_assert_msg(fabs(r.cost.lateness - want.late) < 1e-6,
		              "seed %llu: lateness %.3f, %.3f possible", (unsigned long long)seed,
		              r.cost.lateness, want.late);
		ck_assert_msg(r.cost.moved == want.moved, "seed %llu: %d moved, %d possible",
		              (unsigned long long)seed, r.cost.moved, want.moved);
		hard_days += want.broken > 0;
		otd_vrp_solution_cleanup(&s);
		otd_vrp_cleanup(&p);
	}
	/* The generator must make days where not everything can be kept, or
	 * the test proves little. */
	ck_assert_int_ge(hard_days, 10);
}
END_TEST

START_TEST(better_orders_tiers)
{
	struct otd_vrp_cost a = {0}, b = {0};
	a.distance = 10;
	b.distance = 20;
	ck_assert(otd_opt_better(OTD_OPT_FIELD, &a, &b));
	a.moved = 1;
	ck_assert(!otd_opt_better(OTD_OPT_FIELD, &a, &b));
	ck_assert(otd_opt_better(OTD_OPT_DISTANCE, &a, &b));
	b.lateness = 5;
	ck_assert(otd_opt_better(OTD_OPT_FIELD, &a, &b));
	a.unassigned = 1;
	ck_assert(!otd_opt_better(OTD_OPT_FIELD, &a, &b));
	b.late_jobs = 2;
	ck_assert(otd_opt_better(OTD_OPT_FIELD, &a, &b));
	/* plan: moves do not count; travel does. */
	struct otd_vrp_cost c = {0}, d = {0};
	c.moved = 5;
	c.distance = 10;
	d.distance = 11;
	ck_assert(otd_opt_better(OTD_OPT_PLAN, &c, &d));
	ck_assert(!otd_opt_better(OTD_OPT_FIELD, &c, &d));
	a.vehicles = 3;
	b.vehicles = 2;
	b.unassigned = 1;
	ck_assert(!otd_opt_better(OTD_OPT_VEHICLES, &a, &b));
	ck_assert(otd_opt_better(OTD_OPT_DISTANCE, &a, &b));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("optimise");
	TCase *tc = tcase_create("optimise");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_instances_always_feasible_and_fixed_parts_stay);
	tcase_add_test(tc, same_seed_and_budget_same_routes);
	tcase_add_test(tc, more_iterations_never_worse_from_the_same_start);
	tcase_add_test(tc, a_job_nobody_can_serve_stays_unassigned);
	tcase_add_test(tc, refuses_unusable_input);
	tcase_add_test(tc, tiny_days_save_every_promise_that_can_be_saved);
	tcase_add_test(tc, better_orders_tiers);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
