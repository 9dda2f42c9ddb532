/* Property test (issue 3, "Done when"): random sequences of bookings,
 * cancels and reschedules over a few visitors and days, with random travel
 * spreads, speeds by hour, durations, breaks and split shifts. After every
 * operation EVERY route is checked by an independent brute-force forward
 * simulator, written here from the model in onthedot/route.h without
 * calling route.c's timing: every stop is kept at the planning quantile.
 * The offer is checked against the bookings it leads to: a window listed
 * always books, and a window left out never could. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "testutil.h"

#define MIN 60
#define HOUR 3600
#define CENTRE_LAT 53.4
#define CENTRE_LON -2.2
#define KM_LAT (1 / 111.195)
#define MAX_ROUTES 64
#define MAX_APPTS 4096
#define MAXW 200

static struct otd_tz *london;

static void zones_setup(void)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(tzload_build("Europe/London", 2020, 2030, &london, &e), OTD_OK);
}

static void zones_teardown(void)
{
	otd_tz_free(london);
	tzload_shutdown();
}

/* ---- the independent simulator -------------------------------------- */

static double sim_km(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
	double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
	return 2 * 6371.0088 * atan2(sqrt(a), sqrt(1 - a));
}

static int sim_hour(const struct otd_tz *tz, int64_t t)
{
	struct otd_local l;
	if(tz) {
		otd_tz_to_local(tz, t, &l);
	} else {
		otd_civil_from_seconds(t, &l.c);
	}
	return l.c.hour;
}

/* The slowest speed of the local hours touched by [t0, t1], by looking at
 * every minute of it and at both ends. */
static double sim_slowest(const struct otd_travel_model *m, const struct otd_tz *tz, int64_t t0,
                          int64_t t1)
{
	if(t1 < t0)
		t1 = t0;
	double v = m->speed_kmh[sim_hour(tz, t1)];
	for(int64_t t = t0; t < t1; t += 60)
		v = fmin(v, m->speed_kmh[sim_hour(tz, t)]);
	return v;
}

/* Where the simulated visitor is and when they leave it. */
struct sim {
	const struct otd_travel_model *m;
	const struct otd_tz *tz;
	double lat, lon;
	double d, v;    /* departure mean and variance */
	int64_t latest; /* the latest departure that keeps the last window */
};

/* Travels to (lat, lon): the arrival's mean and variance. */
static void sim_leg(struct sim *s, double lat, double lon, double *x, double *vx)
{
	double km = sim_km(s->lat, s->lon, lat, lon);
	double speed = sim_slowest(s->m, s->tz, (int64_t)floor(s->d), s->latest);
	double mean = km * s->m->road_factor / speed * 3600;
	*x = s->d + mean;
	*vx = s->v + mean * mean * (exp(s->m->spread * s->m->spread) - 1);
	s->lat = lat;
	s->lon = lon;
}

/* -1 when every stop and the return are kept, else the index that is not
 * (n: the return). */
static long sim_route(const struct otd_route *r, const struct otd_travel_model *m,
                      const struct otd_tz *tz, double z)
{
	struct sim s = {m, tz, r->base_lat, r->base_lon, (double)r->shift_start, 0, r->shift_start};
	double x, vx;
	for(size_t j = 0; j < r->n; j++) {
		const struct otd_stop *st = &r->stops[j];
		if(st->kind == OTD_STOP_BREAK) {
			x = s.d; /* taken where the visitor is */
			vx = s.v;
		} else {
			sim_leg(&s, st->lat, st->lon, &x, &vx);
		}
		if(!(x + z * sqrt(vx) < (double)st->b) || st->b <= st->a)
			return (long)j;
		s.d = fmax((double)st->a, x) + st->service_mean;
		s.v = vx + st->service_var;
		s.latest = (int64_t)floor((double)st->b + st->service_mean);
	}
	sim_leg(&s, r->base_lat, r->base_lon, &x, &vx);
	return x + z * sqrt(vx) <= (double)r->shift_end + 1e-3 ? -1 : (long)r->n;
}

/* ---- the world ------------------------------------------------------ */

static uint64_t rng;

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

static int64_t pick(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

struct appt {
	int64_t id;
	int day;
	bool live;
	double lat, lon, sm, sv;
	int64_t width;
};

struct world {
	struct otd_travel_model m;
	struct otd_plan plan;
	int days;
	int64_t day_start[4], day_end[4];
	size_t n;
	struct otd_route routes[MAX_ROUTES];
	size_t owner[MAX_ROUTES];
	int route_day[MAX_ROUTES];
	size_t n_appts;
	struct appt appts[MAX_APPTS];
	long bookings, no_window, cancels, vacant, reschedules, windows_listed;
};

static void add_break(struct otd_route *r, int64_t a, int64_t b, double sm)
{
	struct otd_stop s = {OTD_STOP_BREAK, 0, 0, 0, a, b, sm, 0};
	otd_route_insert(r, r->n, &s);
}

static void world_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	rng = seed;
	otd_travel_model_default(&w->m);
	w->m.road_factor = 1 + 0.5 * uni();
	w->m.spread = uni() < 0.15 ? 0 : 0.45 * uni();
	if(uni() < 0.6) {
		for(int h = 0; h < 24; h++)
			w->m.speed_kmh[h] = uni() < 0.3 ? 8 + 15 * uni() : 20 + 40 * uni();
	}
	w->plan.travel = &w->m;
	w->plan.tz = seed % 2 ? london : NULL;
	w->plan.z = otd_normal_quantile(0.5 + 0.45 * uni());
	/* Days around the spring change in London. */
	w->days = 3;
	for(int d = 0; d < w->days; d++) {
		if(w->plan.tz) {
			w->day_start[d] = otd_tz_day_start(london, 2026, 3, 28 + d);
			w->day_end[d] = otd_tz_day_start(london, 2026, 3, 29 + d);
		} else {
			w->day_start[d] = otd_days_from_civil(2026, 3, 28 + d) * 86400;
			w->day_end[d] = w->day_start[d] + 86400;
		}
	}
	int visitors = (int)pick(3, 5);
	for(int v = 0; v < visitors; v++) {
		double blat = CENTRE_LAT + (uni() - 0.5) * 12 * KM_LAT;
		double blon = CENTRE_LON + (uni() - 0.5) * 20 * KM_LAT;
		bool split = uni() < 0.3;
		for(int d = 0; d < w->days; d++) {
			int64_t t0 = w->day_start[d];
			if(split) {
				otd_route_init(&w->routes[w->n], blat, blon, t0 + 7 * HOUR,
				               t0 + 12 * HOUR);
				w->owner[w->n] = (size_t)v;
				w->route_day[w->n++] = d;
				otd_route_init(&w->routes[w->n], blat, blon, t0 + 13 * HOUR,
				               t0 + 19 * HOUR);
				if(uni() < 0.5)
					add_break(&w->routes[w->n], t0 + 15 * HOUR, t0 + 17 * HOUR,
					          15 * MIN);
			} else {
				int64_t s0 = t0 + pick(7, 9) * HOUR;
				otd_route_init(&w->routes[w->n], blat, blon, s0,
				               s0 + pick(8, 10) * HOUR);
				if(uni() < 0.8)
					add_break(&w->routes[w->n], t0 + 12 * HOUR,
					          t0 + 13 * HOUR + 30 * MIN, 30 * MIN);
				if(uni() < 0.3 && w->routes[w->n].shift_end >= t0 + 17 * HOUR)
					add_break(&w->routes[w->n], t0 + 15 * HOUR, t0 + 16 * HOUR,
					          10 * MIN);
			}
			w->owner[w->n] = (size_t)v;
			w->route_day[w->n++] = d;
		}
	}
	for(size_t r = 0; r < w->n; r++)
		ck_assert(otd_route_time(&w->routes[r], &w->plan));
}

static void world_cleanup(struct world *w)
{
	for(size_t r = 0; r < w->n; r++)
		otd_route_cleanup(&w->routes[r]);
}

static void check_every_route(struct world *w, uint64_t seed, long op)
{
	for(size_t r = 0; r < w->n; r++) {
		const struct otd_route *rt = &w->routes[r];
		ck_assert_msg(rt->timed && rt->feasible, "seed %llu op %ld: route %zu not feasible",
		              (unsigned long long)seed, op, r);
		long bad = sim_route(rt, &w->m, w->plan.tz, w->plan.z);
		ck_assert_msg(bad < 0, "seed %llu op %ld: route %zu stop %ld misses its window",
		              (unsigned long long)seed, op, r, bad);
	}
}

/* Routes of day d, nearest base first, as a caller would pass them. */
static size_t day_routes(struct world *w, int d, double lat, double lon,
                         const struct otd_route **out, size_t *owner, size_t *index)
{
	size_t k = 0;
	double dist[MAX_ROUTES];
	for(size_t r = 0; r < w->n; r++) {
		if(w->route_day[r] != d)
			continue;
		double km = sim_km(lat, lon, w->routes[r].base_lat, w->routes[r].base_lon);
		size_t i = k++;
		while(i > 0 && dist[i - 1] > km) {
			dist[i] = dist[i - 1];
			index[i] = index[i - 1];
			i--;
		}
		dist[i] = km;
		index[i] = r;
	}
	for(size_t i = 0; i < k; i++) {
		out[i] = &w->routes[index[i]];
		owner[i] = w->owner[index[i]];
	}
	return k;
}

/* Offers day d for appointment a and books a random listed window; false
 * when nothing is listed. */
static bool book(struct world *w, struct appt *a, uint64_t seed, long op)
{
	const struct otd_route *routes[MAX_ROUTES];
	size_t owner[MAX_ROUTES], index[MAX_ROUTES];
	size_t nr = day_routes(w, a->day, a->lat, a->lon, routes, owner, index);
	struct otd_offer_request q;
	memset(&q, 0, sizeof(q));
	q.lat = a->lat;
	q.lon = a->lon;
	q.service_mean = a->sm;
	q.service_var = a->sv;
	q.width = a->width;
	q.step = pick(1, 4) * 15 * MIN;
	q.day_start = w->day_start[a->day];
	q.day_end = w->day_end[a->day];
	q.earliest = q.day_start + pick(0, 10) * HOUR;
	q.latest = q.day_end - pick(0, 6) * HOUR;
	q.max_visits = uni() < 0.5 ? 0 : (size_t)pick(2, 8);
	q.green_travel = 600;
	struct otd_offer_window win[MAXW];
	size_t nw = otd_offer_day(routes, owner, nr, &w->plan, &q, win);
	ck_assert_uint_le(nw, (size_t)((q.day_end - q.day_start) / q.step + 1));

	/* Every grid window: listed exactly when some route takes it, with
	 * the count of distinct visitors (at most 3). */
	size_t k = 0;
	for(int64_t s = q.day_start; s + q.width <= q.day_end; s += q.step) {
		struct otd_stop st = {OTD_STOP_VISIT, 0,     a->lat, a->lon, s,
		                      s + q.width,    a->sm, a->sv};
		size_t who[MAX_ROUTES];
		int distinct = 0;
		for(size_t r = 0; r < nr; r++) {
			const struct otd_route *rt = routes[r];
			if(q.max_visits && otd_route_visits(rt) >= q.max_visits)
				continue;
			if(s < rt->shift_start || st.b > rt->shift_end)
				continue;
			if(otd_route_best_insertion(rt, &w->plan, &st, NULL) < 0)
				continue;
			bool seen = false;
			for(int i = 0; i < distinct; i++)
				seen = seen || who[i] == owner[r];
			if(!seen)
				who[distinct++] = owner[r];
		}
		bool in_range = s >= q.earliest && s <= q.latest;
		bool listed = k < nw && win[k].start == s;
		ck_assert_msg(
		    listed == (in_range && distinct > 0),
		    "seed %llu op %ld: window +%ld listed %d but %d visitors could take it",
		    (unsigned long long)seed, op, (long)(s - q.day_start), listed, distinct);
		if(listed) {
			ck_assert_int_eq(win[k].visitors, distinct < 3 ? distinct : 3);
			ck_assert_int_eq(win[k].end, s + q.width);
			k++;
		}
	}
	ck_assert_uint_eq(k, nw);
	if(nw == 0)
		return false;
	w->windows_listed += (long)nw;

	/* Book a listed window with the visitor adding least travel. */
	const struct otd_offer_window *chosen = &win[pick(0, (int64_t)nw - 1)];
	struct otd_stop st = {uni() < 0.8 ? OTD_STOP_VISIT : OTD_STOP_HOLD,
	                      a->id,
	                      a->lat,
	                      a->lon,
	                      chosen->start,
	                      chosen->end,
	                      a->sm,
	                      a->sv};
	long best_route = -1, best_pos = -1;
	double best = INFINITY;
	for(size_t r = 0; r < nr; r++) {
		const struct otd_route *rt = routes[r];
		double travel;
		if(q.max_visits && otd_route_visits(rt) >= q.max_visits)
			continue;
		if(st.a < rt->shift_start || st.b > rt->shift_end)
			continue;
		long pos = otd_route_best_insertion(rt, &w->plan, &st, &travel);
		if(pos >= 0 && travel < best) {
			best = travel;
			best_route = (long)r;
			best_pos = pos;
		}
	}
	if(best_route < 0) {
		ck_abort_msg("seed %llu op %ld: an offered window failed to book",
		             (unsigned long long)seed, op);
		return false;
	}
	struct otd_route *rt = &w->routes[index[best_route]];
	otd_route_insert(rt, (size_t)best_pos, &st);
	ck_assert_msg(otd_route_time(rt, &w->plan), "seed %llu op %ld: a booking broke its route",
	              (unsigned long long)seed, op);
	a->live = true;
	w->bookings++;
	return true;
}

/* Finds appointment a's stop; false when it is gone. */
static bool locate(struct world *w, const struct appt *a, size_t *route, size_t *pos)
{
	for(size_t r = 0; r < w->n; r++) {
		if(w->route_day[r] != a->day)
			continue;
		for(size_t i = 0; i < w->routes[r].n; i++) {
			const struct otd_stop *s = &w->routes[r].stops[i];
			if(s->id == a->id &&
			   (s->kind == OTD_STOP_VISIT || s->kind == OTD_STOP_HOLD)) {
				*route = r;
				*pos = i;
				return true;
			}
		}
	}
	return false;
}

static void cancel(struct world *w, struct appt *a)
{
	size_t r, pos;
	ck_assert(locate(w, a, &r, &pos));
	if(!otd_route_release(&w->routes[r], &w->plan, pos))
		w->vacant++;
	a->live = false;
	w->cancels++;
}

static struct appt *live_appt(struct world *w)
{
	if(w->n_appts == 0)
		return NULL;
	for(int tries = 0; tries < 20; tries++) {
		struct appt *a = &w->appts[pick(0, (int64_t)w->n_appts - 1)];
		if(a->live)
			return a;
	}
	return NULL;
}

static void run(uint64_t seed, long ops)
{
	static struct world w;
	world_init(&w, seed);
	check_every_route(&w, seed, -1);
	for(long op = 0; op < ops; op++) {
		double u = uni();
		struct appt *a = NULL;
		if(u < 0.25)
			a = live_appt(&w);
		if(a && u < 0.15) {
			cancel(&w, a);
		} else if(a) {
			/* Reschedule: free the old window, then book another. */
			cancel(&w, a);
			a->day = (int)pick(0, w.days - 1);
			if(book(&w, a, seed, op))
				w.reschedules++;
			else
				w.no_window++;
		} else if(w.n_appts < MAX_APPTS) {
			a = &w.appts[w.n_appts];
			a->id = (int64_t)w.n_appts + 1;
			a->day = (int)pick(0, w.days - 1);
			a->lat = CENTRE_LAT + (uni() - 0.5) * 16 * KM_LAT;
			a->lon = CENTRE_LON + (uni() - 0.5) * 26 * KM_LAT;
			otd_lognormal_moments((double)pick(5, 60) * MIN,
			                      uni() < 0.2 ? 0 : 0.5 * uni(), &a->sm, &a->sv);
			static const int64_t widths[] = {30 * MIN, HOUR, 2 * HOUR, 4 * HOUR};
			a->width = widths[pick(0, 3)];
			if(book(&w, a, seed, op))
				w.n_appts++;
			else
				w.no_window++;
		}
		check_every_route(&w, seed, op);
	}
	size_t visits = 0;
	for(size_t r = 0; r < w.n; r++)
		visits += otd_route_visits(&w.routes[r]);
	printf("seed %llu: %zu routes, %ld bookings (%ld reschedules), %ld cancels (%ld kept "
	       "vacant), %ld without a window, %zu visits at the end, %ld windows listed\n",
	       (unsigned long long)seed, w.n, w.bookings, w.reschedules, w.cancels, w.vacant,
	       w.no_window, visits, w.windows_listed);
	fflush(stdout);
	ck_assert_int_gt(w.bookings, ops / 4);
	ck_assert_int_gt(w.cancels, ops / 20);
	world_cleanup(&w);
}

START_TEST(random_bookings_cancels_and_reschedules_keep_every_promise)
{
	run((uint64_t)_i + 1, 1500);
}
END_TEST

/* The simulator itself must be able to fail. */
START_TEST(the_simulator_catches_a_late_stop)
{
	struct otd_travel_model m;
	otd_travel_model_default(&m);
	struct otd_route r;
	int64_t t = 1780000000;
	otd_route_init(&r, CENTRE_LAT, CENTRE_LON, t, t + 8 * HOUR);
	struct otd_stop s = {OTD_STOP_VISIT, 1, CENTRE_LAT + 10 * KM_LAT, CENTRE_LON, t, t + HOUR,
	                     1800,           0};
	otd_route_insert(&r, 0, &s);
	ck_assert_int_eq(sim_route(&r, &m, NULL, 0.84), -1);
	r.stops[0].b = t + 20 * MIN; /* 10 km at 22-30 km/h x 1.3: 26-36 min */
	ck_assert_int_eq(sim_route(&r, &m, NULL, 0.84), 0);
	r.stops[0].b = t + HOUR;
	r.shift_end = t + 70 * MIN;
	ck_assert_int_eq(sim_route(&r, &m, NULL, 0.84), 1);
	otd_route_cleanup(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route_property");
	TCase *tc = tcase_create("route_property");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_simulator_catches_a_late_stop);
	tcase_add_loop_test(tc, random_bookings_cancels_and_reschedules_keep_every_promise, 0, 6);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
