/* Benchmark: one ticker pass of risk projection (DESIGN.md, "Risk"; the
 * goal: 1,000 active routes of 8 appointments at 256 samples in at most
 * 50 ms on one core, about 25 ns per stop and sample).
 *
 * A fixed synthetic fleet from a seeded generator, every route seen at the
 * same instant (10:30 Europe/London on a June Tuesday): the remaining 8
 * appointments of a visitor at uniform places in a 40 x 40 km area,
 * windows 2 or 3 hours wide, visit types with log-normal durations
 * (median 30-60 min, sigma 0.3-0.5: the model is learned per visit type,
 * so a route mixes a few distinct sigmas), a lunch break on a third of the
 * routes, the default travel model. Visitors are in mixed states (idle
 * before their first visit, travelling for some minutes, on site for some
 * minutes, on a break) and run from well ahead of their plan to well
 * behind it, so that P(late) spreads over (0, 1) rather than sitting at 0
 * and 1.
 *
 * It times REPEATS passes of otd_project over all routes (one thread),
 * then compares the last pass's P(late) with a 100,000-sample projection
 * (another seed) of the first REFERENCE routes: the sampling error of the
 * 256-sample answer. (That the model itself is right is the unit test's
 * business: tests/unit/test_project.c checks it against a plain Monte
 * Carlo written independently.) Run from the release build:
 *   build/release/tests/bench/bench_ticker [ROUTES [SAMPLES [REPEATS [REFERENCE]]]]
 * Prints a table and one JSON line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/project.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"

#define CENTRE_LAT 52.2
#define CENTRE_LON -1.5
#define AREA_KM 40.0
#define APPOINTMENTS 8
#define MAX_STOPS (APPOINTMENTS + 1)
#define REFERENCE 200
#define REFERENCE_SAMPLES 100000
#define MIN 60
#define HOUR 3600

static uint64_t rng;

/* splitmix64: the same fleet on every run. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double uni(void)
{
	return (double)(rng_next() >> 11) * 0x1.0p-53;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: on a shared machine, wall time also counts
 * the time other processes had the core. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const double km_lat = 1 / 111.195;

static double km_lon(void)
{
	return 1 / (111.195 * cos(CENTRE_LAT * M_PI / 180));
}

static void area_point(double *lat, double *lon)
{
	*lat = CENTRE_LAT + (uni() - 0.5) * AREA_KM * km_lat;
	*lon = CENTRE_LON + (uni() - 0.5) * AREA_KM * km_lon();
}

/* Visit types: the duration model is learned per type. */
static const struct {
	double median_min, sigma;
} visit_types[] = {{30, 0.3}, {35, 0.5}, {40, 0.4}, {45, 0.35}, {50, 0.45}, {60, 0.5}};
#define VISIT_TYPES (sizeof(visit_types) / sizeof(visit_types[0]))

struct route {
	struct otd_proj_state state;
	struct otd_proj_stop stops[MAX_STOPS];
	size_t n;
};

struct fleet {
	size_t n;
	struct route *routes;
	int64_t now;
	struct otd_travel_model travel;
	struct otd_proj_model model;
	size_t states[4];
	size_t breaks;
	size_t appointments;
};

static int64_t floor_to(int64_t t, int64_t step)
{
	return t - ((t % step) + step) % step;
}

/* One visitor's remaining day: the plan walks forward at mean durations
 * and mean travel from the state's expected departure; the windows were
 * promised around that plan shifted by `behind` (how far the visitor has
 * fallen behind the plan the promises were made on: negative is ahead). */
static void route_build(struct route *r, const struct fleet *f, const struct otd_tz *tz)
{
	int64_t now = f->now;
	struct otd_proj_state *s = &r->state;
	memset(r, 0, sizeof(*r));
	area_point(&s->lat, &s->lon);
	double u = uni(), t; /* t: the planned departure from the current place */
	size_t first_type = rng_next() % VISIT_TYPES;
	double med0 = visit_types[first_type].median_min * MIN;
	double sig0 = visit_types[first_type].sigma;
	if(u < 0.15) {
		s->activity = OTD_PROJ_IDLE;
		s->not_before = now + (int64_t)(uni() * 30) * MIN;
		t = (double)s->not_before;
	} else if(u < 0.45) {
		s->activity = OTD_PROJ_TRAVELLING;
		s->since = now - (int64_t)(uni() * 30 * MIN);
		t = (double)s->since;
	} else if(u < 0.9) {
		s->activity = OTD_PROJ_ON_SITE;
		s->since = now - (int64_t)(uni() * 70 * MIN);
		t = (double)s->since + med0 * exp(sig0 * sig0 / 2);
	} else {
		s->activity = OTD_PROJ_ON_BREAK;
		s->since = now - (int64_t)(uni() * 30 * MIN);
		s->break_s = 30 * MIN;
		t = (double)s->since + s->break_s;
	}
	/* Some visitors have told us they run late. */
	if(uni() < 0.1)
		s->late_s = (double)(5 + rng_next() % 4 * 5) * MIN;

	double behind = (-60 + 150 * uni()) * MIN;
	double lat = s->lat, lon = s->lon;
	size_t lunch_at = uni() < 1.0 / 3 ? 2 + rng_next() % 4 : MAX_STOPS;
	size_t n = 0;
	for(size_t i = 0; i < APPOINTMENTS; i++) {
		if(i == lunch_at) {
			int64_t a = floor_to((int64_t)t, 30 * MIN);
			struct otd_proj_stop l = {0, 0, a, a + 90 * MIN, 30 * MIN, 0, true};
			r->stops[n++] = l;
			t = fmax(t, (double)a) + 30 * MIN;
		}
		struct otd_proj_stop *st = &r->stops[n++];
		size_t type = i == 0 ? first_type : rng_next() % VISIT_TYPES;
		area_point(&st->lat, &st->lon);
		st->dur_median = visit_types[type].median_min * MIN;
		st->dur_sigma = visit_types[type].sigma;
		double leg, var;
		if(i > 0 || s->activity != OTD_PROJ_ON_SITE) {
			otd_travel_leg(&f->travel, tz, otd_distance_km(lat, lon, st->lat, st->lon),
			               (int64_t)t, (int64_t)t, &leg, &var);
			t += leg;
		}
		if(i == 0 && s->activity == OTD_PROJ_ON_SITE) {
			/* On site at the first: it was planned around since. */
			st->lat = s->lat;
			st->lon = s->lon;
			t = (double)s->since;
		}
		int64_t promised = (int64_t)(t - behind - uni() * 60 * MIN);
		st->a = floor_to(promised, 30 * MIN);
		st->b = st->a + (uni() < 0.5 ? 2 : 3) * HOUR;
		t = fmax(t, (double)st->a) +
		    st->dur_median * exp(st->dur_sigma * st->dur_sigma / 2);
		lat = st->lat;
		lon = st->lon;
	}
	r->n = n;
}

static void fleet_build(struct fleet *f, size_t routes, unsigned samples, const struct otd_tz *tz)
{
	memset(f, 0, sizeof(*f));
	f->n = routes;
	struct otd_civil c = {2026, 6, 2, 10, 30, 0};
	otd_tz_from_local(tz, &c, &f->now, NULL);
	otd_travel_model_default(&f->travel);
	otd_proj_model_init(&f->model, &f->travel, tz);
	f->model.samples = samples;
	f->routes = xmalloc(routes * sizeof(*f->routes));
	for(size_t i = 0; i < routes; i++) {
		struct route *r = &f->routes[i];
		route_build(r, f, tz);
		f->states[r->state.activity]++;
		f->appointments += APPOINTMENTS;
		f->breaks += r->n - APPOINTMENTS;
	}
}

/* ==== store I/O: the boundary ====================================
 * The ticker's store part (loading the active routes and writing the new
 * risk states in one transaction) is measured here once it exists; this
 * bench then times it apart from the computation below. Until then it
 * does nothing and the table says so. */
static double store_pass(const struct fleet *f)
{
	(void)f;
	return NAN;
}
/* ==== end of the store I/O boundary =============================== */

/* The computation of one pass: every route projected. Returns the number
 * of stops projected. */
static size_t compute_pass(const struct fleet *f, const struct otd_proj_model *m,
                           struct otd_proj_result *out)
{
	size_t stops = 0;
	for(size_t i = 0; i < f->n; i++) {
		const struct route *r = &f->routes[i];
		if(otd_project(m, &r->state, r->stops, r->n, f->now, out + i * MAX_STOPS) != 0) {
			fprintf(stderr, "bench_ticker: out of memory\n");
			exit(1);
		}
		stops += r->n;
	}
	return stops;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: bench_ticker [ROUTES [SAMPLES [REPEATS [REFERENCE]]]]\n"
	        "  ROUTES     active routes of %d appointments (default 1000)\n"
	        "  SAMPLES    Monte Carlo samples per projection (default 256)\n"
	        "  REPEATS    timed passes (default 5)\n"
	        "  REFERENCE  routes checked against %d samples (default %d; 0: none)\n"
	        "Times one ticker pass of risk projection over all routes on one thread and\n"
	        "the error of P(late) against a %d-sample projection of the first routes.\n",
	        APPOINTMENTS, REFERENCE_SAMPLES, REFERENCE, REFERENCE_SAMPLES);
}

int main(int argc, char **argv)
{
	if(argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	long routes = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long samples = argc > 2 ? strtol(argv[2], NULL, 10) : 256;
	long repeats = argc > 3 ? strtol(argv[3], NULL, 10) : 5;
	long reference = argc > 4 ? strtol(argv[4], NULL, 10) : REFERENCE;
	if(argc > 5 || routes < 1 || samples < 1 || samples > 10000000 || repeats < 1 ||
	   reference < 0) {
		usage(stderr);
		return 2;
	}
	struct otd_tz *tz = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	if(tzload_build("Europe/London", 2020, 2030, &tz, &err) != OTD_OK) {
		fprintf(stderr, "bench_ticker: %s\n", err.message);
		return 1;
	}
	rng = 1;
	struct fleet f;
	fleet_build(&f, (size_t)routes, (unsigned)samples, tz);
	struct otd_proj_result *out = xmalloc(f.n * MAX_STOPS * sizeof(*out));
	double *ms = xmalloc((size_t)repeats * sizeof(double));
	double *cpu = xmalloc((size_t)repeats * sizeof(double));

	/* One untimed pass warms the caches and the allocator. */
	size_t stops = compute_pass(&f, &f.model, out);
	double store_ms = store_pass(&f);
	for(long i = 0; i < repeats; i++) {
		double t = now_s(), c = cpu_s();
		compute_pass(&f, &f.model, out);
		cpu[i] = (cpu_s() - c) * 1e3;
		ms[i] = (now_s() - t) * 1e3;
	}
	qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
	qsort(cpu, (size_t)repeats, sizeof(double), cmp_double);
	double med = ms[repeats / 2], cpu_med = cpu[repeats / 2];

	/* Accuracy: the last pass against a large projection, another seed. */
	size_t nref = f.n < (size_t)reference ? f.n : (size_t)reference, compared = 0, middling = 0;
	struct otd_proj_model big = f.model;
	big.samples = REFERENCE_SAMPLES;
	big.seed = 12345;
	struct otd_proj_result ref[MAX_STOPS];
	double err_sum = 0, err_max = 0, exp_sum = 0, t_ref = now_s();
	for(size_t i = 0; i < nref; i++) {
		const struct route *r = &f.routes[i];
		if(otd_project(&big, &r->state, r->stops, r->n, f.now, ref) != 0) {
			fprintf(stderr, "bench_ticker: out of memory\n");
			return 1;
		}
		for(size_t j = r->state.activity == OTD_PROJ_ON_SITE; j < r->n; j++) {
			if(r->stops[j].is_break)
				continue;
			const struct otd_proj_result *p = &out[i * MAX_STOPS + j];
			double e = fabs(p->p_late - ref[j].p_late);
			err_sum += e;
			err_max = e > err_max ? e : err_max;
			exp_sum += fabs(p->expected - ref[j].expected);
			middling += ref[j].p_late > 0.05 && ref[j].p_late < 0.95;
			compared++;
		}
	}
	t_ref = now_s() - t_ref;
	/* P(late) over the whole fleet, from the last pass. */
	size_t all_middling = 0, all_late = 0, all_ok = 0;
	for(size_t i = 0; i < f.n; i++) {
		const struct route *r = &f.routes[i];
		for(size_t j = 0; j < r->n; j++) {
			if(r->stops[j].is_break)
				continue;
			double p = out[i * MAX_STOPS + j].p_late;
			all_middling += p > 0.05 && p < 0.95;
			all_late += p >= 0.95;
			all_ok += p <= 0.05;
		}
	}

	printf("ticker pass, risk projection only: %zu routes x %d appointments (+%zu breaks), "
	       "%ld samples, one thread, %ld repeats\n",
	       f.n, APPOINTMENTS, f.breaks, samples, repeats);
	printf("states: %zu idle, %zu travelling, %zu on site, %zu on a break\n", f.states[0],
	       f.states[1], f.states[2], f.states[3]);
	printf("%-24s %10s %10s %10s\n", "", "min", "median", "max");
	printf("%-24s %10.2f %10.2f %10.2f\n", "pass, ms (wall)", ms[0], med, ms[repeats - 1]);
	printf("%-24s %10.2f %10.2f %10.2f\n", "pass, ms (cpu)", cpu[0], cpu_med, cpu[repeats - 1]);
	printf("%-24s %10.2f %10.2f\n", "per route, us", ms[0] * 1e3 / (double)f.n,
	       med * 1e3 / (double)f.n);
	printf("%-24s %10.2f %10.2f\n", "per stop-sample, ns",
	       ms[0] * 1e6 / ((double)stops * (double)samples),
	       med * 1e6 / ((double)stops * (double)samples));
	if(isnan(store_ms))
		printf("store I/O: not measured yet (see store_pass)\n");
	else
		printf("%-24s %10.2f\n", "store I/O, ms", store_ms);
	double err_mean = compared ? err_sum / (double)compared : 0;
	double exp_mean = compared ? exp_sum / (double)compared : 0;
	char acc[256];
	if(compared) {
		printf("accuracy vs %d samples (%zu routes, %zu appointments, %zu with P in (0.05, "
		       "0.95)): mean |P error| %.4f, max %.4f, mean |expected error| %.0f s "
		       "(reference took %.1f s)\n",
		       REFERENCE_SAMPLES, nref, compared, middling, err_mean, err_max, exp_mean,
		       t_ref);
		snprintf(acc, sizeof(acc),
		         "\"reference_samples\":%d,\"reference_routes\":%zu,\"p_err_mean\":%.5f,"
		         "\"p_err_max\":%.5f,\"expected_err_mean_s\":%.2f,\"middling\":%zu",
		         REFERENCE_SAMPLES, nref, err_mean, err_max, exp_mean, middling);
	} else {
		printf("accuracy: not checked (REFERENCE 0)\n");
		snprintf(acc, sizeof(acc), "\"reference_routes\":0");
	}
	printf("fleet P(late): %zu appointments <= 0.05, %zu in (0.05, 0.95), %zu >= 0.95\n",
	       all_ok, all_middling, all_late);
	printf("{\"bench\":\"ticker\",\"routes\":%zu,\"appointments\":%d,\"breaks\":%zu,"
	       "\"samples\":%ld,\"repeats\":%ld,\"pass_ms_min\":%.3f,\"pass_ms_median\":%.3f,"
	       "\"pass_cpu_ms_median\":%.3f,\"route_us_median\":%.3f,"
	       "\"stop_sample_ns_median\":%.3f,\"store_ms\":null,%s,\"fleet_middling\":%zu}\n",
	       f.n, APPOINTMENTS, f.breaks, samples, repeats, ms[0], med, cpu_med,
	       med * 1e3 / (double)f.n, med * 1e6 / ((double)stops * (double)samples), acc,
	       all_middling);
	free(ms);
	free(cpu);
	free(out);
	free(f.routes);
	otd_tz_free(tz);
	tzload_shutdown();
	return 0;
}
