/* Benchmark: the in-process slot offer (issue 3's goal: one request = one
 * address x all visitors x 14 days; p99 at most 2 ms at 200 visitors and
 * at most 10 ms at 1,000, on a 2-core machine).
 *
 * A fixed synthetic organisation from a seeded generator: a 40 x 40 km
 * area, visitor bases uniform in it, shifts 08:00-17:00 Europe/London with
 * a 30-minute lunch starting between 12:00 and 13:30, visits log-normal
 * (median 45 min, spread 0.3), the default travel model, planning at p80.
 * Each visitor-day is filled to 60% of its working time (service plus
 * travel over the shift less lunch) with visits near the base, booked
 * through otd_route_best_insertion. Then REQUESTS requests at uniform
 * random addresses, each: order the visitors nearest first, then
 * otd_offer_day for each of the 14 days (60-minute windows, 30-minute
 * step). Measured warm, and separately just after a booking (each of
 * those requests follows a booking of a window the previous offer
 * listed, with its re-timing). Run from the release build:
 *   build/h6r/tests/bench/bench_offer [VISITORS [REQUESTS [SEED]]]
 * Without VISITORS it runs 200 and then 1,000 visitors, 10,000 requests
 * each. Prints a table and one JSON line per size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"

#define DAYS 14
#define CENTRE_LAT 52.2
#define CENTRE_LON -1.5
#define AREA_KM 40.0
#define FILL_TARGET 0.60
#define FILL_RADIUS_KM 8.0
#define FILL_ATTEMPTS 400
#define WIDTH 3600
#define STEP 1800
#define MAX_WINDOWS (86400 / STEP + 1)

static uint64_t rng;

/* splitmix64: the same organisation and requests on every run. */
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

/* A uniform point of the area. */
static void area_point(double *lat, double *lon)
{
	*lat = CENTRE_LAT + (uni() - 0.5) * AREA_KM * km_lat;
	*lon = CENTRE_LON + (uni() - 0.5) * AREA_KM * km_lon();
}

struct org {
	size_t visitors;
	double *base_lat, *base_lon;
	struct otd_route *routes; /* day d, visitor v: routes[d * visitors + v], a day together */
	int64_t day_start[DAYS], day_end[DAYS];
	struct otd_travel_model model;
	struct otd_plan plan;
	double service_mean, service_var;
	double fill_mean;
	size_t full_routes;
	size_t visits;
};

static int64_t local_time(const struct otd_tz *tz, int y, int m, int d, int hour, int minute)
{
	struct otd_civil c = {y, m, d, hour, minute, 0};
	int64_t t = 0;
	otd_tz_from_local(tz, &c, &t, NULL);
	return t;
}

static double utilisation(const struct otd_route *r)
{
	double busy = r->travel_mean, work = (double)(r->shift_end - r->shift_start);
	for(size_t i = 0; i < r->n; i++) {
		if(r->stops[i].kind == OTD_STOP_BREAK)
			work -= r->stops[i].service_mean;
		else
			busy += r->stops[i].service_mean;
	}
	return busy / work;
}

static void org_build(struct org *o, size_t visitors, const struct otd_tz *tz)
{
	memset(o, 0, sizeof(*o));
	o->visitors = visitors;
	otd_travel_model_default(&o->model);
	o->plan.travel = &o->model;
	o->plan.tz = tz;
	o->plan.z = otd_normal_quantile(0.8);
	otd_lognormal_moments(45 * 60, 0.3, &o->service_mean, &o->service_var);
	int64_t first = otd_days_from_civil(2026, 6, 1);
	for(int d = 0; d < DAYS; d++) {
		int y, m, dd, y2, m2, d2;
		otd_civil_from_days(first + d, &y, &m, &dd);
		otd_civil_from_days(first + d + 1, &y2, &m2, &d2);
		o->day_start[d] = otd_tz_day_start(tz, y, m, dd);
		o->day_end[d] = otd_tz_day_start(tz, y2, m2, d2);
	}
	o->base_lat = xmalloc(visitors * sizeof(double));
	o->base_lon = xmalloc(visitors * sizeof(double));
	o->routes = xmalloc(visitors * DAYS * sizeof(*o->routes));
	double fill = 0;
	int64_t id = 1;
	for(size_t v = 0; v < visitors; v++) {
		area_point(&o->base_lat[v], &o->base_lon[v]);
		for(int d = 0; d < DAYS; d++) {
			int y, m, dd;
			otd_civil_from_days(first + d, &y, &m, &dd);
			struct otd_route *r = &o->routes[d * o->visitors + v];
			otd_route_init(r, o->base_lat[v], o->base_lon[v],
			               local_time(tz, y, m, dd, 8, 0),
			               local_time(tz, y, m, dd, 17, 0));
			struct otd_stop lunch = {OTD_STOP_BREAK,
			                         0,
			                         0,
			                         0,
			                         local_time(tz, y, m, dd, 12, 0),
			                         local_time(tz, y, m, dd, 13, 30),
			                         1800,
			                         0};
			otd_route_insert(r, 0, &lunch);
			otd_route_time(r, &o->plan);
			for(int k = 0; k < FILL_ATTEMPTS && utilisation(r) < FILL_TARGET; k++) {
				/* A visit within FILL_RADIUS_KM of the base. */
				double rad = FILL_RADIUS_KM * sqrt(uni()), ang = 2 * M_PI * uni();
				int64_t a = r->shift_start + (int64_t)(rng_next() % 17) * STEP;
				struct otd_stop s = {OTD_STOP_VISIT,
				                     id,
				                     o->base_lat[v] + rad * sin(ang) * km_lat,
				                     o->base_lon[v] + rad * cos(ang) * km_lon(),
				                     a,
				                     a + WIDTH,
				                     o->service_mean,
				                     o->service_var};
				long pos = otd_route_best_insertion(r, &o->plan, &s, NULL);
				if(pos < 0)
					continue;
				otd_route_insert(r, (size_t)pos, &s);
				otd_route_time(r, &o->plan);
				id++;
			}
			double u = utilisation(r);
			fill += u;
			o->full_routes += u >= FILL_TARGET;
			o->visits += otd_route_visits(r);
		}
	}
	o->fill_mean = fill / (double)(visitors * DAYS);
}

static void org_free(struct org *o)
{
	for(size_t i = 0; i < o->visitors * DAYS; i++)
		otd_route_cleanup(&o->routes[i]);
	free(o->routes);
	free(o->base_lat);
	free(o->base_lon);
}

struct near {
	double km;
	size_t v;
};

static int near_cmp(const void *a, const void *b)
{
	const struct near *x = a, *y = b;
	return x->km < y->km ? -1 : x->km > y->km ? 1 : (x->v > y->v) - (x->v < y->v);
}

/* Scratch for one request, allocated once. */
struct req_scratch {
	struct near *near;
	const struct otd_route **routes;
	size_t *owner;
	struct otd_offer_window windows[DAYS][MAX_WINDOWS];
	size_t n[DAYS];
};

/* One request: all visitors x DAYS days at (lat, lon). Returns the number
 * of windows offered. */
static size_t request(const struct org *o, struct req_scratch *sc, double lat, double lon)
{
	for(size_t v = 0; v < o->visitors; v++) {
		sc->near[v].km = otd_distance_km(lat, lon, o->base_lat[v], o->base_lon[v]);
		sc->near[v].v = v;
	}
	qsort(sc->near, o->visitors, sizeof(*sc->near), near_cmp);
	size_t total = 0;
	struct otd_offer_request q;
	memset(&q, 0, sizeof(q));
	q.lat = lat;
	q.lon = lon;
	q.service_mean = o->service_mean;
	q.service_var = o->service_var;
	q.width = WIDTH;
	q.step = STEP;
	q.earliest = o->day_start[0];
	q.latest = o->day_end[DAYS - 1];
	q.max_visits = 0;
	q.green_travel = 600;
	for(int d = 0; d < DAYS; d++) {
		for(size_t i = 0; i < o->visitors; i++) {
			size_t v = sc->near[i].v;
			sc->routes[i] = &o->routes[d * o->visitors + v];
			sc->owner[i] = v;
		}
		q.day_start = o->day_start[d];
		q.day_end = o->day_end[d];
		sc->n[d] =
		    otd_offer_day(sc->routes, sc->owner, o->visitors, &o->plan, &q, sc->windows[d]);
		total += sc->n[d];
	}
	return total;
}

/* Books one window of the last request at (lat, lon): the first day with
 * windows, a window chosen at random, the visitor adding least travel. */
static bool book_one(struct org *o, struct req_scratch *sc, double lat, double lon, int64_t id)
{
	for(int d = 0; d < DAYS; d++) {
		if(sc->n[d] == 0)
			continue;
		const struct otd_offer_window *w = &sc->windows[d][rng_next() % sc->n[d]];
		struct otd_stop s = {
		    OTD_STOP_VISIT, id, lat, lon, w->start, w->end, o->service_mean,
		    o->service_var};
		long best_pos = -1;
		size_t best_v = 0;
		double best = INFINITY;
		for(size_t v = 0; v < o->visitors; v++) {
			double travel;
			const struct otd_route *r = &o->routes[d * o->visitors + v];
			if(s.a < r->shift_start || s.b > r->shift_end)
				continue;
			long pos = otd_route_best_insertion(r, &o->plan, &s, &travel);
			if(pos >= 0 && travel < best) {
				best = travel;
				best_pos = pos;
				best_v = v;
			}
		}
		if(best_pos < 0) {
			fprintf(stderr, "bench_offer: an offered window failed to book\n");
			exit(1);
		}
		struct otd_route *r = &o->routes[d * o->visitors + best_v];
		otd_route_insert(r, (size_t)best_pos, &s);
		if(!otd_route_time(r, &o->plan)) {
			fprintf(stderr, "bench_offer: a booking broke its route\n");
			exit(1);
		}
		return true;
	}
	return false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, size_t n, double q)
{
	size_t i = (size_t)ceil(q * (double)n);
	if(i > 0)
		i--;
	if(i >= n)
		i = n - 1;
	return sorted[i];
}

struct stats {
	double p50, p90, p99, max, cpu_p99, mean_windows;
};

static void summarise(double *ms, double *cpu, size_t n, double windows, struct stats *s)
{
	qsort(ms, n, sizeof(double), cmp_double);
	qsort(cpu, n, sizeof(double), cmp_double);
	s->p50 = quantile(ms, n, 0.50);
	s->p90 = quantile(ms, n, 0.90);
	s->p99 = quantile(ms, n, 0.99);
	s->max = ms[n - 1];
	s->cpu_p99 = quantile(cpu, n, 0.99);
	s->mean_windows = windows / (double)n;
}

/* Times one request into ms[i] (wall) and cpu[i]. */
static size_t timed_request(const struct org *o, struct req_scratch *sc, double lat, double lon,
                            double *ms, double *cpu)
{
	double t = now_s(), c = cpu_s();
	size_t n = request(o, sc, lat, lon);
	*cpu = (cpu_s() - c) * 1e3;
	*ms = (now_s() - t) * 1e3;
	return n;
}

static void run(size_t visitors, size_t requests, uint64_t seed, const struct otd_tz *tz)
{
	struct org o;
	rng = seed;
	double t0 = now_s();
	org_build(&o, visitors, tz);
	double build_s = now_s() - t0;
	struct req_scratch *sc = xcalloc(1, sizeof(*sc));
	sc->near = xmalloc(visitors * sizeof(*sc->near));
	sc->routes = xmalloc(visitors * sizeof(*sc->routes));
	sc->owner = xmalloc(visitors * sizeof(*sc->owner));
	double *ms = xmalloc(requests * sizeof(double));
	double *cpu = xmalloc(requests * sizeof(double));

	/* Warm: the organisation as built, one request after another. */
	double windows = 0, lat, lon;
	for(size_t i = 0; i < requests; i++) {
		area_point(&lat, &lon);
		windows += (double)timed_request(&o, sc, lat, lon, &ms[i], &cpu[i]);
	}
	struct stats warm;
	summarise(ms, cpu, requests, windows, &warm);

	/* Just after a booking: book from the previous offer, then time. */
	size_t after = requests / 10 < 1000 ? 1000 : requests / 10;
	if(after > requests)
		after = requests;
	double aw = 0;
	area_point(&lat, &lon);
	request(&o, sc, lat, lon);
	int64_t id = 1 << 30;
	for(size_t i = 0; i < after; i++) {
		book_one(&o, sc, lat, lon, id++);
		area_point(&lat, &lon);
		aw += (double)timed_request(&o, sc, lat, lon, &ms[i], &cpu[i]);
	}
	struct stats ab;
	summarise(ms, cpu, after, aw, &ab);

	printf("%-9zu %-9zu %5.1f%%  %4.0f%%  %6.2f  %8.3f %8.3f %8.3f %8.3f %8.3f  %7.1f   %s\n",
	       visitors, requests, 100 * o.fill_mean,
	       100 * (double)o.full_routes / (double)(visitors * DAYS),
	       (double)o.visits / (double)(visitors * DAYS), warm.p50, warm.p90, warm.p99, warm.max,
	       warm.cpu_p99, warm.mean_windows, "warm");
	printf("%-9s %-9zu %6s  %4s  %6s  %8.3f %8.3f %8.3f %8.3f %8.3f  %7.1f   %s\n", "", after,
	       "", "", "", ab.p50, ab.p90, ab.p99, ab.max, ab.cpu_p99, ab.mean_windows,
	       "after a booking");
	printf("{\"bench\":\"offer\",\"visitors\":%zu,\"days\":%d,\"requests\":%zu,\"seed\":%llu,"
	       "\"fill\":%.4f,\"visits_per_route\":%.3f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,"
	       "\"p99_ms\":%.4f,\"max_ms\":%.4f,\"p99_cpu_ms\":%.4f,\"mean_windows\":%.2f,"
	       "\"after_booking\":{\"requests\":%zu,\"p50_ms\":%.4f,\"p99_ms\":%.4f,"
	       "\"max_ms\":%.4f,\"p99_cpu_ms\":%.4f},\"build_s\":%.2f}\n",
	       visitors, DAYS, requests, (unsigned long long)seed, o.fill_mean,
	       (double)o.visits / (double)(visitors * DAYS), warm.p50, warm.p90, warm.p99, warm.max,
	       warm.cpu_p99, warm.mean_windows, after, ab.p50, ab.p99, ab.max, ab.cpu_p99, build_s);
	fflush(stdout);
	free(ms);
	free(cpu);
	free(sc->near);
	free(sc->routes);
	free(sc->owner);
	free(sc);
	org_free(&o);
}

int main(int argc, char **argv)
{
	long visitors = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	long requests = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
	unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	if(argc > 4 || visitors < 0 || requests < 1) {
		fprintf(stderr, "usage: bench_offer [VISITORS [REQUESTS [SEED]]]\n");
		return 2;
	}
	struct otd_tz *tz = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	if(tzload_build("Europe/London", 2020, 2030, &tz, &err) != OTD_OK) {
		fprintf(stderr, "bench_offer: %s\n", err.message);
		return 1;
	}
	printf("slot offer, in process: one request = one address x all visitors x %d days, "
	       "60-minute windows every 30 minutes, filled to %.0f%% (fill = service + travel "
	       "over working time; full = routes at the target)\n",
	       DAYS, 100 * FILL_TARGET);
	printf("%-9s %-9s %6s  %4s  %6s  %8s %8s %8s %8s %8s  %7s\n", "visitors", "requests",
	       "fill", "full", "visits", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99 cpu",
	       "windows");
	if(visitors > 0) {
		run((size_t)visitors, (size_t)requests, seed, tz);
	} else {
		run(200, (size_t)requests, seed, tz);
		run(1000, (size_t)requests, seed, tz);
	}
	otd_tz_free(tz);
	tzload_shutdown();
	return 0;
}
