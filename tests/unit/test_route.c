/* Unit tests: the travel model, route timing and the O(1) insertion check
 * (core/route.c). Expected numbers are worked out by hand from the model
 * in onthedot/route.h; the check is compared with a full re-timing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "testutil.h"

#define KM_PER_DEG (6371.0088 * M_PI / 180.0)
#define MIN 60
#define HOUR 3600

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

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

/* A seeded generator (splitmix64): the same routes on every run. */
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

static int64_t pick(int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static void flat_model(struct otd_travel_model *m, double kmh, double rf, double spread)
{
	m->road_factor = rf;
	for(int h = 0; h < 24; h++)
		m->speed_kmh[h] = kmh;
	m->spread = spread;
}

static struct otd_stop visit(double lat, double lon, int64_t a, int64_t b, double sm, double sv)
{
	struct otd_stop s = {OTD_STOP_VISIT, 0, lat, lon, a, b, sm, sv};
	return s;
}

static struct otd_stop lunch(int64_t a, int64_t b, double sm)
{
	struct otd_stop s = {OTD_STOP_BREAK, 0, 0, 0, a, b, sm, 0};
	return s;
}

START_TEST(haversine_known_distances)
{
	ck_assert_double_eq_tol(otd_distance_km(52, -1, 53, -1), KM_PER_DEG, 1e-9);
	ck_assert_double_eq_tol(otd_distance_km(0, 0, 0, 90), 6371.0088 * M_PI / 2, 1e-6);
	ck_assert_double_eq_tol(otd_distance_km(0, 0, 0, 180), 6371.0088 * M_PI, 1e-6);
	ck_assert_double_eq_tol(otd_distance_km(90, 0, -90, 0), 6371.0088 * M_PI, 1e-6);
	/* London (Charing Cross) to Paris (Notre-Dame): 343.5 km. */
	ck_assert_double_eq_tol(otd_distance_km(51.5074, -0.1278, 48.8566, 2.3522), 343.5, 0.5);
	/* Across the antimeridian the short way round. */
	ck_assert_double_eq_tol(otd_distance_km(0, 179.5, 0, -179.5), KM_PER_DEG, 1e-6);
	ck_assert_double_eq(otd_distance_km(51.5, -0.1, 51.5, -0.1), 0);
	/* Bit for bit symmetric: the offer relies on it. */
	ck_assert(otd_distance_km(51.51, -0.12, 51.63, -0.02) ==
	          otd_distance_km(51.63, -0.02, 51.51, -0.12));
}
END_TEST

START_TEST(the_chord_ranks_places_as_the_distance_does)
{
	struct otd_geo_point a, b;
	otd_geo_point_set(&a, 51.5, -0.1);
	ck_assert_double_eq(otd_geo_chord2(&a, &a), 0);
	otd_geo_point_set(&b, -51.5, 179.9);
	ck_assert_double_eq_tol(otd_geo_chord2(&a, &b), 4, 1e-12); /* antipodes */
	/* Places at random around one: the chord orders them as the
	 * great-circle distance does, near (within about 35 km), then anywhere. */
	uint64_t seed = 7;
	struct otd_geo_point at;
	otd_geo_point_set(&at, 52.2, -1.5);
	double prev_km = -1, prev_chord = -1;
	for(int i = 0; i < 2000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		double scale = i < 1000 ? 0.5 : 90; /* near, then anywhere */
		double lat = 52.2 + scale * ((double)(seed >> 40) / (double)(1u << 24) - 0.5);
		double lon =
		    -1.5 + 2 * scale * ((double)((seed >> 16) & 0xffffff) / (1u << 24) - 0.5);
		if(lat > 90 || lat < -90)
			continue;
		struct otd_geo_point p;
		otd_geo_point_set(&p, lat, lon);
		double km = otd_distance_km(52.2, -1.5, lat, lon), chord = otd_geo_chord2(&at, &p);
		if(prev_km >= 0 && fabs(km - prev_km) > 1e-6)
			ck_assert_msg((km < prev_km) == (chord < prev_chord),
			              "%.6f km vs %.6f km ranked the other way", km, prev_km);
		prev_km = km;
		prev_chord = chord;
	}
}
END_TEST

START_TEST(leg_mean_var_and_the_slowest_hour)
{
	struct otd_travel_model m;
	otd_travel_model_default(&m);
	ck_assert_double_eq(m.road_factor, 1.3);
	ck_assert_double_eq(m.speed_kmh[6], 30);
	ck_assert_double_eq(m.speed_kmh[7], 22);
	ck_assert_double_eq(m.speed_kmh[8], 22);
	ck_assert_double_eq(m.speed_kmh[9], 30);
	ck_assert_double_eq(m.speed_kmh[16], 22);
	ck_assert_double_eq(m.speed_kmh[17], 22);
	ck_assert_double_eq(m.speed_kmh[18], 30);
	ck_assert_double_eq(m.spread, 0.25);
	double cv2 = expm1(0.25 * 0.25), mean, var;
	double fast = 10 * 1.3 / 30 * 3600, slow = 10 * 1.3 / 22 * 3600; /* 1560 s, 2127 s */

	int64_t t = at("2026-06-01T10:00:00Z");
	otd_travel_leg(&m, NULL, 10, t, t + 1800, &mean, &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	ck_assert_double_eq_tol(var, fast * fast * cv2, 1e-6);
	/* [08:50, 09:10] touches 08:00-09:00: the slow hour counts. */
	otd_travel_leg(&m, NULL, 10, at("2026-06-01T08:50:00Z"), at("2026-06-01T09:10:00Z"), &mean,
	               &var);
	ck_assert_double_eq_tol(mean, slow, 1e-9);
	otd_travel_leg(&m, NULL, 10, at("2026-06-01T09:00:00Z"), at("2026-06-01T09:30:00Z"), &mean,
	               &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	/* The boundary second itself belongs to the next hour. */
	otd_travel_leg(&m, NULL, 10, at("2026-06-01T06:30:00Z"), at("2026-06-01T06:59:59Z"), &mean,
	               &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	otd_travel_leg(&m, NULL, 10, at("2026-06-01T06:30:00Z"), at("2026-06-01T07:00:00Z"), &mean,
	               &var);
	ck_assert_double_eq_tol(mean, slow, 1e-9);
	/* latest before depart: the departure hour alone. */
	otd_travel_leg(&m, NULL, 10, at("2026-06-01T09:10:00Z"), at("2026-06-01T08:10:00Z"), &mean,
	               &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	/* Local hours: 06:30Z is 07:30 in London in June, 06:30 in January. */
	otd_travel_leg(&m, london, 10, at("2026-06-01T06:30:00Z"), at("2026-06-01T06:40:00Z"),
	               &mean, &var);
	ck_assert_double_eq_tol(mean, slow, 1e-9);
	otd_travel_leg(&m, london, 10, at("2026-01-12T06:30:00Z"), at("2026-01-12T06:40:00Z"),
	               &mean, &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	/* Across the spring change: 00:30Z..01:30Z reads 00:30 GMT..02:30 BST,
	 * hours 0 and 2 (there is no 01:00 local that night). */
	m.speed_kmh[1] = 5;
	otd_travel_leg(&m, london, 10, at("2026-03-29T00:30:00Z"), at("2026-03-29T01:30:00Z"),
	               &mean, &var);
	ck_assert_double_eq_tol(mean, fast, 1e-9);
	m.speed_kmh[2] = 20;
	otd_travel_leg(&m, london, 10, at("2026-03-29T00:30:00Z"), at("2026-03-29T01:30:00Z"),
	               &mean, &var);
	ck_assert_double_eq_tol(mean, 10 * 1.3 / 20 * 3600, 1e-9);
	/* A day or more touches every hour. */
	otd_travel_leg(&m, NULL, 10, t, t + 86400, &mean, &var);
	ck_assert_double_eq_tol(mean, 10 * 1.3 / 5 * 3600, 1e-9);
	otd_travel_leg(&m, NULL, 0, t, t + 3600, &mean, &var);
	ck_assert_double_eq(mean, 0);
	ck_assert_double_eq(var, 0);
}
END_TEST

START_TEST(lognormal_moments)
{
	double mean, var;
	otd_lognormal_moments(2700, 0.3, &mean, &var);
	ck_assert_double_eq_tol(mean, 2700 * exp(0.045), 1e-9);
	ck_assert_double_eq_tol(var, 2700.0 * 2700 * exp(0.09) * (exp(0.09) - 1), 1e-6);
	ck_assert_double_eq_tol(mean, 2824.28, 0.01); /* 47 minutes */
	otd_lognormal_moments(360, 0, &mean, &var);
	ck_assert_double_eq(mean, 360);
	ck_assert_double_eq(var, 0);
}
END_TEST

START_TEST(normal_quantile)
{
	ck_assert_double_eq_tol(otd_normal_quantile(0.5), 0, 1e-15);
	ck_assert_double_eq_tol(otd_normal_quantile(0.8), 0.8416212335729143, 1e-12);
	ck_assert_double_eq_tol(otd_normal_quantile(0.95), 1.6448536269514722, 1e-12);
	ck_assert_double_eq_tol(otd_normal_quantile(0.99), 2.3263478740408408, 1e-12);
	ck_assert_double_eq_tol(otd_normal_quantile(0.999), 3.090232306167813, 1e-11);
	ck_assert_double_eq_tol(otd_normal_quantile(0.01), -2.3263478740408408, 1e-12);
	for(double q = 0.001; q < 0.9995; q += 0.0137)
		ck_assert_double_eq_tol(otd_normal_quantile(q), -otd_normal_quantile(1 - q), 1e-9);
	/* Increasing, and the inverse of the CDF. */
	for(double q = 0.002; q < 0.998; q += 0.01) {
		double x = otd_normal_quantile(q);
		ck_assert(otd_normal_quantile(q + 0.001) > x);
		ck_assert_double_eq_tol(0.5 * erfc(-x / M_SQRT2), q, 1e-14);
	}
	ck_assert(isinf(otd_normal_quantile(0)));
	ck_assert(isinf(otd_normal_quantile(1)));
}
END_TEST

/* Base at 52N 1W, stops due north; a flat 30 km/h with road factor 1, so
 * a leg of k km takes 120 k seconds. */
#define BASE_LAT 52.0
#define BASE_LON -1.0

static double north(double km)
{
	return BASE_LAT + km / KM_PER_DEG;
}

START_TEST(hand_timed_routes)
{
	struct otd_travel_model m;
	flat_model(&m, 30, 1, 0.25);
	double cv2 = expm1(0.0625), z = otd_normal_quantile(0.8);
	struct otd_plan plan = {&m, NULL, z};
	int64_t t8 = at("2026-06-01T08:00:00Z");
	struct otd_route r;
	otd_route_init(&r, BASE_LAT, BASE_LON, t8, t8 + 9 * HOUR);

	/* Empty: back at the base at 08:00. */
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_double_eq(r.arr_mean[0], (double)t8);
	ck_assert_double_eq(r.travel_mean, 0);
	ck_assert_double_eq(r.slack[0], 9 * HOUR);

	/* A at 10 km, [09:00, 10:00), 30 min (sd 100 s): arrives 08:20, waits.
	 * B at 20 km, [09:00, 11:00), 20 min: arrives 09:50, no wait. */
	struct otd_stop a = visit(north(10), BASE_LON, t8 + HOUR, t8 + 2 * HOUR, 30 * MIN, 1e4);
	struct otd_stop b = visit(north(20), BASE_LON, t8 + HOUR, t8 + 3 * HOUR, 20 * MIN, 0);
	otd_route_insert(&r, 0, &a);
	otd_route_insert(&r, 1, &b);
	ck_assert(!r.timed);
	ck_assert(otd_route_time(&r, &plan));
	double leg = 1200, lv = leg * leg * cv2;
	ck_assert_double_eq_tol(r.arr_mean[0], t8 + 20 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_var[0], lv, 1e-3);
	ck_assert_double_eq_tol(r.dep_mean[0], t8 + 90 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.dep_var[0], lv + 1e4, 1e-3);
	ck_assert_double_eq_tol(r.arr_mean[1], t8 + 110 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_var[1], 2 * lv + 1e4, 1e-3);
	ck_assert_double_eq_tol(r.dep_mean[1], t8 + 130 * MIN, 1e-6);
	double back = 2400, bv = back * back * cv2;
	ck_assert_double_eq_tol(r.arr_mean[2], t8 + 170 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_var[2], 2 * lv + 1e4 + bv, 1e-3);
	ck_assert_double_eq_tol(r.travel_mean, 4800, 1e-6);
	ck_assert_double_eq_tol(r.lat[1], north(20), 1e-12);
	ck_assert_double_eq_tol(r.lat[2], BASE_LAT, 1e-12);
	/* Slack of the return: shift end minus its quantile; of B: the least
	 * of its own margin and the return's; of A: its wait (40 min) on top. */
	double q2 = t8 + 170 * MIN + z * sqrt(2 * lv + 1e4 + bv);
	double q1 = t8 + 110 * MIN + z * sqrt(2 * lv + 1e4);
	double q0 = t8 + 20 * MIN + z * sqrt(lv);
	double m2 = t8 + 9 * HOUR - q2, m1 = t8 + 3 * HOUR - q1 - OTD_ROUTE_TOLERANCE;
	double m0 = t8 + 2 * HOUR - q0 - OTD_ROUTE_TOLERANCE;
	ck_assert_double_eq_tol(r.slack[2], m2, 1e-6);
	ck_assert_double_eq_tol(r.slack[1], fmin(m1, m2), 1e-6);
	ck_assert_double_eq_tol(r.slack[0], fmin(m0, 40 * MIN + fmin(m1, m2)), 1e-6);

	/* A lunch break [10:00, 12:00) of 30 min between them is taken at A:
	 * A departs 09:30, lunch 10:00-10:30, then to B: arrives 10:50. */
	struct otd_stop l = lunch(t8 + 2 * HOUR, t8 + 4 * HOUR, 30 * MIN);
	otd_route_insert(&r, 1, &l);
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_double_eq_tol(r.arr_mean[1], t8 + 90 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_var[1], lv + 1e4, 1e-3);
	ck_assert_double_eq_tol(r.lat[1], north(10), 1e-12);
	ck_assert_double_eq_tol(r.dep_mean[1], t8 + 150 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_mean[2], t8 + 170 * MIN, 1e-6);
	ck_assert_double_eq_tol(r.arr_var[2], 2 * lv + 1e4, 1e-3);
	ck_assert_double_eq_tol(r.travel_mean, 4800, 1e-6);
	ck_assert_int_eq(otd_route_visits(&r), 2);
	ck_assert_int_eq(otd_route_find(&r, OTD_STOP_BREAK, 0), 1);
	otd_route_cleanup(&r);
}
END_TEST

START_TEST(late_stops_and_late_returns_are_infeasible)
{
	struct otd_travel_model m;
	flat_model(&m, 30, 1, 0);
	struct otd_plan plan = {&m, NULL, otd_normal_quantile(0.8)};
	int64_t t8 = at("2026-06-01T08:00:00Z");
	struct otd_route r;
	otd_route_init(&r, BASE_LAT, BASE_LON, t8, t8 + HOUR);
	/* 10 km away: arrives 08:20; a window ending at 08:20 is missed, one
	 * ending a second later is kept (no spread: the quantile is the mean). */
	struct otd_stop s = visit(north(10), BASE_LON, t8, t8 + 20 * MIN, 10 * MIN, 0);
	otd_route_insert(&r, 0, &s);
	ck_assert(!otd_route_time(&r, &plan));
	r.stops[0].b = t8 + 20 * MIN + 1;
	ck_assert(otd_route_time(&r, &plan));
	/* Back at 08:50: a shift ending 08:50 is kept exactly, 08:49:59 not. */
	r.shift_end = t8 + 50 * MIN;
	ck_assert(otd_route_time(&r, &plan));
	r.shift_end = t8 + 50 * MIN - 1;
	ck_assert(!otd_route_time(&r, &plan));
	/* With spread the quantile, not the mean, must make it. */
	r.shift_end = t8 + HOUR;
	m.spread = 0.3;
	ck_assert(!otd_route_time(&r, &plan));
	r.stops[0].b = t8 + 40 * MIN;
	ck_assert(otd_route_time(&r, &plan));
	/* An empty window is never kept. */
	r.stops[0].b = r.stops[0].a;
	ck_assert(!otd_route_time(&r, &plan));
	/* The check is as strict: the window must end after the arrival (by
	 * more than OTD_ROUTE_TOLERANCE), the return may land on shift_end. */
	struct otd_route e;
	otd_route_init(&e, BASE_LAT, BASE_LON, t8, t8 + 50 * MIN);
	m.spread = 0;
	ck_assert(otd_route_time(&e, &plan));
	struct otd_stop u = visit(north(10), BASE_LON, t8, t8 + 20 * MIN, 10 * MIN, 0);
	ck_assert(!otd_route_can_insert(&e, &plan, 0, &u, NULL));
	u.b = t8 + 20 * MIN + 1;
	ck_assert(otd_route_can_insert(&e, &plan, 0, &u, NULL));
	e.shift_end = t8 + 50 * MIN - 1;
	ck_assert(otd_route_time(&e, &plan));
	ck_assert(!otd_route_can_insert(&e, &plan, 0, &u, NULL));
	otd_route_cleanup(&e);

	/* The check refuses to work on an infeasible route. */
	struct otd_stop t = visit(BASE_LAT, BASE_LON, t8, t8 + HOUR, 60, 0);
	ck_assert(!otd_route_can_insert(&r, &plan, 0, &t, NULL));
	ck_assert_int_eq(otd_route_best_insertion(&r, &plan, &t, NULL), -1);
	otd_route_cleanup(&r);
}
END_TEST

/* The concurrency oracle: one visitor based at X, shift [w, w + 60 min],
 * no spread, 6-minute visits with no variance, the window [w, w + 60):
 * exactly 10 visits at X fit; a visit 60 minutes away never does. */
START_TEST(zero_spread_oracle)
{
	struct otd_travel_model m;
	flat_model(&m, 30, 1, 0);
	struct otd_plan plan = {&m, NULL, otd_normal_quantile(0.8)};
	int64_t w = at("2026-06-01T10:00:00Z");
	struct otd_route r;
	otd_route_init(&r, BASE_LAT, BASE_LON, w, w + HOUR);
	ck_assert(otd_route_time(&r, &plan));
	struct otd_stop x = visit(BASE_LAT, BASE_LON, w, w + HOUR, 6 * MIN, 0);
	struct otd_stop y = visit(north(30), BASE_LON, w, w + HOUR, 6 * MIN, 0); /* 60 min */
	int booked = 0;
	for(int i = 0; i < 40; i++) {
		const struct otd_stop *s = i % 2 ? &y : &x;
		double travel = -1;
		long pos = otd_route_best_insertion(&r, &plan, s, &travel);
		/* Every position agrees with a full re-timing. */
		for(size_t p = 0; p <= r.n; p++) {
			struct otd_route c;
			otd_route_copy(&c, &r);
			otd_route_insert(&c, p, s);
			ck_assert_int_eq(otd_route_time(&c, &plan),
			                 otd_route_can_insert(&r, &plan, p, s, NULL));
			otd_route_cleanup(&c);
		}
		if(pos < 0)
			continue;
		ck_assert_ptr_eq(s, &x);
		ck_assert_double_eq(travel, 0);
		otd_route_insert(&r, (size_t)pos, s);
		ck_assert(otd_route_time(&r, &plan));
		booked++;
	}
	ck_assert_int_eq(booked, 10);
	ck_assert_int_eq(otd_route_visits(&r), 10);
	ck_assert_double_eq(r.arr_mean[10], (double)(w + HOUR));
	otd_route_cleanup(&r);
}
END_TEST

/* Random routes under extreme hour-by-hour speeds: can_insert must never
 * accept what a full re-timing refuses; best_insertion must return the
 * least-travel accepted position; and it should accept most of what is
 * feasible (printed, and held above a floor). */
static void compare_with_retiming(uint64_t seed, bool hourly, const struct otd_tz *tz,
                                  long *accepted, long *feasible)
{
	rng = seed;
	struct otd_travel_model m;
	flat_model(&m, 20 + 30 * uni(), 1 + 0.5 * uni(), uni() < 0.2 ? 0 : 0.4 * uni());
	if(hourly) {
		for(int h = 0; h < 24; h++)
			m.speed_kmh[h] = uni() < 0.3 ? 5 + 20 * uni() : 20 + 60 * uni();
	}
	struct otd_plan plan = {&m, tz, otd_normal_quantile(0.5 + 0.49 * uni())};
	int64_t day = at("2026-03-29T00:00:00Z") + 86400 * pick(-1, 1);
	int64_t s0 = day + pick(6, 9) * HOUR, s1 = s0 + pick(6, 10) * HOUR;
	struct otd_route r;
	otd_route_init(&r, BASE_LAT + 0.1 * uni(), BASE_LON + 0.1 * uni(), s0, s1);
	if(uni() < 0.6) {
		int64_t a = s0 + pick(2, 5) * HOUR;
		struct otd_stop l = lunch(a, a + pick(1, 3) * 30 * MIN, pick(1, 3) * 15 * MIN);
		otd_route_insert(&r, 0, &l);
		if(uni() < 0.2) {
			l.a += 2 * HOUR;
			l.b += 2 * HOUR;
			otd_route_insert(&r, 1, &l);
		}
	}
	if(!otd_route_time(&r, &plan)) { /* breaks that do not fit the shift */
		otd_route_cleanup(&r);
		return;
	}
	for(int k = 0; k < 60; k++) {
		int64_t a = s0 + pick(-2, 18) * 30 * MIN;
		int64_t width = pick(1, 8) * 30 * MIN;
		double med = (double)pick(5, 60) * MIN, sig = uni() < 0.2 ? 0 : 0.5 * uni(), sm, sv;
		otd_lognormal_moments(med, sig, &sm, &sv);
		struct otd_stop s = visit(BASE_LAT + 0.15 * uni() - 0.05,
		                          BASE_LON + 0.2 * uni() - 0.05, a, a + width, sm, sv);
		s.kind = uni() < 0.5 ? OTD_STOP_VISIT : OTD_STOP_HOLD;
		long best = -1;
		double best_travel = INFINITY;
		for(size_t p = 0; p <= r.n; p++) {
			struct otd_route c;
			otd_route_copy(&c, &r);
			otd_route_insert(&c, p, &s);
			bool ok = otd_route_time(&c, &plan);
			double travel = NAN;
			bool acc = otd_route_can_insert(&r, &plan, p, &s, &travel);
			ck_assert_msg(!acc || ok,
			              "seed %llu: accepted an infeasible insertion at %zu",
			              (unsigned long long)seed, p);
			*accepted += acc;
			*feasible += ok;
			if(acc && travel < best_travel) {
				best_travel = travel;
				best = (long)p;
			}
			if(acc && m.speed_kmh[0] == m.speed_kmh[1] && !hourly)
				ck_assert_double_eq_tol(travel, c.travel_mean - r.travel_mean,
				                        1e-6);
			otd_route_cleanup(&c);
		}
		double bt = -1;
		ck_assert_int_eq(otd_route_best_insertion(&r, &plan, &s, &bt), best);
		if(best >= 0) {
			ck_assert_double_eq(bt, best_travel);
			if(uni() < 0.5) {
				otd_route_insert(&r, (size_t)best, &s);
				ck_assert(otd_route_time(&r, &plan));
			}
		}
	}
	otd_route_cleanup(&r);
}

START_TEST(can_insert_never_accepts_what_retiming_refuses)
{
	long acc_flat = 0, feas_flat = 0, acc_hourly = 0, feas_hourly = 0;
	for(uint64_t seed = 1; seed <= 300; seed++) {
		compare_with_retiming(seed, false, NULL, &acc_flat, &feas_flat);
		compare_with_retiming(1000 + seed, true, seed % 2 ? london : NULL, &acc_hourly,
		                      &feas_hourly);
	}
	double flat = (double)acc_flat / (double)feas_flat;
	double hourly = (double)acc_hourly / (double)feas_hourly;
	printf("can_insert accepted/feasible: flat speed %ld/%ld = %.4f, hourly speeds "
	       "%ld/%ld = %.4f\n",
	       acc_flat, feas_flat, flat, acc_hourly, feas_hourly, hourly);
	fflush(stdout);
	ck_assert(feas_flat > 5000 && feas_hourly > 5000);
	ck_assert(flat > 0.97);
	ck_assert(hourly > 0.9);
}
END_TEST

/* Inserting before a break moves the break to the new stop's place; after
 * a break the leg departs from where the break was taken. */
START_TEST(insertions_around_a_break)
{
	struct otd_travel_model m;
	flat_model(&m, 30, 1, 0);
	struct otd_plan plan = {&m, NULL, 0};
	int64_t t8 = at("2026-06-01T08:00:00Z");
	struct otd_route r;
	otd_route_init(&r, BASE_LAT, BASE_LON, t8, t8 + 9 * HOUR);
	/* Lunch [12:00, 12:30) 30 min, then N at 30 km, [12:30, 13:40). */
	struct otd_stop l = lunch(t8 + 4 * HOUR, t8 + 4 * HOUR + 30 * MIN, 30 * MIN);
	struct otd_stop n = visit(north(30), BASE_LON, t8 + 270 * MIN, t8 + 340 * MIN, 10 * MIN, 0);
	otd_route_insert(&r, 0, &l);
	otd_route_insert(&r, 1, &n);
	ck_assert(otd_route_time(&r, &plan));
	/* Lunch at the base 12:00-12:30, N reached 13:30. */
	ck_assert_double_eq_tol(r.arr_mean[1], t8 + 330 * MIN, 1e-6);
	/* K near N before lunch: lunch is then taken at K and N is reached
	 * at 12:30; re-timing agrees and the travel added is K's detour. */
	struct otd_stop k = visit(north(29), BASE_LON, t8 + 2 * HOUR, t8 + 3 * HOUR, 10 * MIN, 0);
	double travel;
	ck_assert(otd_route_can_insert(&r, &plan, 0, &k, &travel));
	ck_assert_double_eq_tol(travel, 29 * 120 + 120 - 30 * 120, 1e-6);
	/* After lunch K would make N late (arrives 13:30 + detour). */
	ck_assert(!otd_route_can_insert(&r, &plan, 1, &k, NULL));
	ck_assert_int_eq(otd_route_best_insertion(&r, &plan, &k, NULL), 0);
	otd_route_insert(&r, 0, &k);
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_double_eq_tol(r.lat[1], north(29), 1e-12);
	ck_assert_double_eq_tol(r.arr_mean[2], t8 + 272 * MIN, 1e-6);

	/* With N's window cut to [12:30, 12:45), cancelling K would move
	 * lunch back to the base and make N late: K stays, vacant. Cancelling
	 * N is fine. */
	r.stops[2].b = t8 + 285 * MIN;
	ck_assert(otd_route_time(&r, &plan));
	r.stops[0].id = 41;
	ck_assert(!otd_route_release(&r, &plan, 0));
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.stops[0].kind, OTD_STOP_VACANT);
	ck_assert_int_eq(r.stops[0].id, 41);
	ck_assert_int_eq(otd_route_visits(&r), 1);
	ck_assert(r.timed && r.feasible);
	ck_assert(otd_route_release(&r, &plan, 2));
	ck_assert_int_eq(r.n, 2);
	ck_assert(r.timed && r.feasible);
	otd_route_cleanup(&r);
}
END_TEST

/* Time-dependent speed is not monotone: a departure moved later can make
 * the next arrival earlier, and an earlier arrival a slower leg. The check
 * must see both. */
START_TEST(speed_changes_that_would_fool_a_plain_slack)
{
	struct otd_travel_model m;
	flat_model(&m, 60, 1, 0);
	for(int h = 0; h < 9; h++)
		m.speed_kmh[h] = 10; /* crawling until 09:00 */
	struct otd_plan plan = {&m, NULL, 0};
	int64_t t8 = at("2026-06-01T08:00:00Z");
	long bad = 0, checked = 0;
	rng = 77;
	for(int trial = 0; trial < 4000; trial++) {
		struct otd_route r;
		otd_route_init(&r, BASE_LAT, BASE_LON, t8, t8 + 5 * HOUR);
		/* P at base-ish [08:00, 09:xx); Q far, tight. */
		int64_t pb = t8 + pick(30, 90) * MIN;
		struct otd_stop p =
		    visit(north(uni()), BASE_LON, t8, pb, (double)pick(0, 30) * MIN, 0);
		struct otd_stop q =
		    visit(north(5 + 20 * uni()), BASE_LON, t8 + pick(0, 120) * MIN, 0, 10 * MIN, 0);
		q.b = q.a + pick(10, 120) * MIN;
		otd_route_insert(&r, 0, &p);
		otd_route_insert(&r, 1, &q);
		if(!otd_route_time(&r, &plan)) {
			otd_route_cleanup(&r);
			continue;
		}
		struct otd_stop k = visit(north(3 * uni()), BASE_LON, t8 + pick(0, 60) * MIN, 0,
		                          (double)pick(0, 20) * MIN, 0);
		k.b = k.a + pick(5, 60) * MIN;
		for(size_t pos = 0; pos <= r.n; pos++) {
			struct otd_route c;
			otd_route_copy(&c, &r);
			otd_route_insert(&c, pos, &k);
			bool ok = otd_route_time(&c, &plan);
			bool acc = otd_route_can_insert(&r, &plan, pos, &k, NULL);
			bad += acc && !ok;
			checked++;
			otd_route_cleanup(&c);
		}
		otd_route_cleanup(&r);
	}
	ck_assert_int_gt(checked, 1000);
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* A later departure from P escapes its slow hour and reaches Q 37 minutes
 * EARLIER; Q, not waiting, leaves earlier, meets a slow hour, and R is
 * then late. The delay at P (3 minutes) is well within the slack a plain
 * Savelsbergh check would compute (7 minutes at R). */
START_TEST(a_leg_that_speeds_up_can_make_a_later_one_slow)
{
	struct otd_travel_model m;
	flat_model(&m, 60, 1, 0);
	m.speed_kmh[8] = 10;
	m.speed_kmh[9] = 30;
	struct otd_plan plan = {&m, NULL, 0};
	int64_t t8 = at("2026-06-01T08:00:00Z");
	struct otd_route r;
	otd_route_init(&r, BASE_LAT, BASE_LON, t8, t8 + 10 * HOUR);
	struct otd_stop p = visit(BASE_LAT, BASE_LON, t8, t8 + 90 * MIN, 58 * MIN, 0);
	struct otd_stop q = visit(north(10), BASE_LON, t8 + HOUR, t8 + 150 * MIN, 10 * MIN, 0);
	struct otd_stop rr =
	    visit(north(70), BASE_LON, t8 + 150 * MIN, t8 + 195 * MIN, 10 * MIN, 0);
	otd_route_insert(&r, 0, &p);
	otd_route_insert(&r, 1, &q);
	otd_route_insert(&r, 2, &rr);
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_double_eq_tol(r.arr_mean[1], t8 + 118 * MIN, 1e-6); /* 09:58 */
	ck_assert_double_eq_tol(r.arr_mean[2], t8 + 188 * MIN, 1e-6); /* 11:08 */
	struct otd_stop k = visit(BASE_LAT, BASE_LON, t8, t8 + HOUR, 3 * MIN, 0);
	struct otd_route c;
	otd_route_copy(&c, &r);
	otd_route_insert(&c, 0, &k);
	ck_assert(!otd_route_time(&c, &plan));
	ck_assert_double_eq_tol(c.arr_mean[2], t8 + 81 * MIN, 1e-6);  /* Q at 09:21 */
	ck_assert_double_eq_tol(c.arr_mean[3], t8 + 211 * MIN, 1e-6); /* R at 11:31 */
	otd_route_cleanup(&c);
	ck_assert(!otd_route_can_insert(&r, &plan, 0, &k, NULL));
	/* One minute of service keeps P inside 08:00-09:00: fine. */
	k.service_mean = 60;
	ck_assert(otd_route_can_insert(&r, &plan, 0, &k, NULL));
	otd_route_cleanup(&r);
}
END_TEST

START_TEST(copy_insert_remove_find)
{
	struct otd_route r, c;
	otd_route_init(&r, 1, 2, 100, 200);
	ck_assert_int_eq(r.n, 0);
	ck_assert_int_eq(otd_route_find(&r, OTD_STOP_VISIT, 1), -1);
	for(int i = 0; i < 40; i++) {
		struct otd_stop s = visit(0, 0, 0, 1, 0, 0);
		s.id = i;
		otd_route_insert(&r, (size_t)i / 2, &s);
	}
	ck_assert_int_eq(r.n, 40);
	ck_assert_int_eq(otd_route_find(&r, OTD_STOP_VISIT, 39), 19);
	ck_assert_int_eq(otd_route_find(&r, OTD_STOP_HOLD, 39), -1);
	otd_route_remove(&r, 19);
	ck_assert_int_eq(otd_route_find(&r, OTD_STOP_VISIT, 39), -1);
	ck_assert_int_eq(r.n, 39);
	otd_route_copy(&c, &r);
	ck_assert_int_eq(c.n, 39);
	ck_assert_int_eq(c.stops[38].id, r.stops[38].id);
	ck_assert_double_eq(c.base_lon, 2);
	ck_assert_int_eq(c.shift_end, 200);
	otd_route_cleanup(&r);
	otd_route_cleanup(&c);
	otd_route_cleanup(&c); /* cleaned twice is fine */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("route");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, haversine_known_distances);
	tcase_add_test(tc, the_chord_ranks_places_as_the_distance_does);
	tcase_add_test(tc, leg_mean_var_and_the_slowest_hour);
	tcase_add_test(tc, lognormal_moments);
	tcase_add_test(tc, normal_quantile);
	tcase_add_test(tc, hand_timed_routes);
	tcase_add_test(tc, late_stops_and_late_returns_are_infeasible);
	tcase_add_test(tc, zero_spread_oracle);
	tcase_add_test(tc, can_insert_never_accepts_what_retiming_refuses);
	tcase_add_test(tc, insertions_around_a_break);
	tcase_add_test(tc, speed_changes_that_would_fool_a_plain_slack);
	tcase_add_test(tc, a_leg_that_speeds_up_can_make_a_later_one_slow);
	tcase_add_test(tc, copy_insert_remove_find);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
