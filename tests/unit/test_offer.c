/* Unit tests: the slot offer for one day (core/route.c, otd_offer_day). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "testutil.h"

#define KM_PER_DEG (6371.0088 * M_PI / 180.0)
#define MIN 60
#define HOUR 3600
#define LAT 51.75
#define LON -1.25
#define MAXW 128

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

static double north(double km)
{
	return LAT + km / KM_PER_DEG;
}

static struct otd_travel_model model;
static struct otd_plan plan;

/* A flat 30 km/h, road factor 1 (k km take 120 k s), spread 0.2, p80. */
static void plan_flat(void)
{
	model.road_factor = 1;
	for(int h = 0; h < 24; h++)
		model.speed_kmh[h] = 30;
	model.spread = 0.2;
	plan.travel = &model;
	plan.tz = NULL;
	plan.z = otd_normal_quantile(0.8);
}

static struct otd_offer_request request(double lat, int64_t day_start)
{
	struct otd_offer_request q;
	memset(&q, 0, sizeof(q));
	q.lat = lat;
	q.lon = LON;
	q.service_mean = 10 * MIN;
	q.service_var = 0;
	q.width = HOUR;
	q.step = 30 * MIN;
	q.day_start = day_start;
	q.day_end = day_start + 86400;
	q.earliest = day_start - 86400;
	q.latest = day_start + 2 * 86400;
	q.green_travel = 10 * MIN;
	return q;
}

static struct otd_stop visit(double lat, int64_t a, int64_t b, double sm)
{
	struct otd_stop s = {OTD_STOP_VISIT, 0, lat, LON, a, b, sm, 0};
	return s;
}

/* Every window offered is one some route's best insertion takes, and no
 * other window of the grid is. */
static void assert_consistent(const struct otd_route *const *routes, size_t n,
                              const struct otd_offer_request *q, const struct otd_offer_window *w,
                              size_t nw)
{
	size_t k = 0;
	for(int64_t s = q->day_start; s + q->width <= q->day_end; s += q->step) {
		struct otd_stop st = {
		    OTD_STOP_VISIT, 0, q->lat, q->lon, s, s + q->width, q->service_mean,
		    q->service_var};
		int takers = 0;
		for(size_t r = 0; r < n; r++) {
			bool full = q->max_visits && otd_route_visits(routes[r]) >= q->max_visits;
			bool inside = s >= routes[r]->shift_start && st.b <= routes[r]->shift_end;
			takers += !full && inside &&
			          otd_route_best_insertion(routes[r], &plan, &st, NULL) >= 0;
		}
		bool listed = k < nw && w[k].start == s;
		bool in_range = s >= q->earliest && s <= q->latest;
		ck_assert_msg(listed == (takers > 0 && in_range),
		              "window at +%lds: listed %d, %d takers", (long)(s - q->day_start),
		              listed, takers);
		if(listed)
			k++;
	}
	ck_assert_uint_eq(k, nw);
}

START_TEST(windows_stay_inside_the_day_and_the_bounds)
{
	plan_flat();
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r;
	/* A night shift reaching into both neighbouring days. */
	otd_route_init(&r, LAT, LON, day - 2 * HOUR, day + 86400 + 2 * HOUR);
	ck_assert(otd_route_time(&r, &plan));
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];

	struct otd_offer_request q = request(LAT, day);
	size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_eq(n, 47); /* 00:00 .. 23:00 */
	for(size_t i = 0; i < n; i++) {
		ck_assert_int_eq(w[i].start, day + (int64_t)i * 30 * MIN);
		ck_assert_int_eq(w[i].end, w[i].start + HOUR);
		ck_assert_int_le(w[i].end, day + 86400);
		ck_assert_int_eq(w[i].visitors, 1);
		ck_assert_double_eq(w[i].travel_added, 0);
		ck_assert(!w[i].green); /* no visit to sit next to */
	}
	assert_consistent(routes, 1, &q, w, n);

	/* Lead time and horizon: starts from 03:30 (the grid, not 03:17)
	 * to 20:00 inclusive. */
	q.earliest = day + 3 * HOUR + 17 * MIN;
	q.latest = day + 20 * HOUR;
	n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_eq(n, 34);
	ck_assert_int_eq(w[0].start, day + 3 * HOUR + 30 * MIN);
	ck_assert_int_eq(w[n - 1].start, day + 20 * HOUR);
	for(size_t i = 0; i < n; i++) {
		ck_assert_int_ge(w[i].start, q.earliest);
		ck_assert_int_le(w[i].start, q.latest);
		ck_assert_int_eq((w[i].start - day) % q.step, 0);
	}
	assert_consistent(routes, 1, &q, w, n);
	q.earliest = day + 86400;
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);

	/* A 90-minute width on a 40-minute step: 00:00 .. 22:00 (the 22:40
	 * window would end after midnight). */
	q = request(LAT, day);
	q.width = 90 * MIN;
	q.step = 40 * MIN;
	n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_eq(n, 34);
	ck_assert_int_eq(w[n - 1].start, day + 22 * HOUR);
	ck_assert_int_le(w[n - 1].end, day + 86400);
	assert_consistent(routes, 1, &q, w, n);
	q.width = 0;
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	otd_route_cleanup(&r);
}
END_TEST

START_TEST(counts_distinct_visitors_up_to_three)
{
	plan_flat();
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r[5];
	const struct otd_route *routes[5];
	for(int i = 0; i < 5; i++) {
		/* Bases 1, 2, 3, 4, 5 km away. */
		otd_route_init(&r[i], north(i + 1), LON, day + 8 * HOUR, day + 17 * HOUR);
		ck_assert(otd_route_time(&r[i], &plan));
		routes[i] = &r[i];
	}
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	size_t n = otd_offer_day(routes, NULL, 5, &plan, &q, w);
	ck_assert_uint_gt(n, 10);
	for(size_t i = 0; i < n; i++) {
		ck_assert_int_ge(w[i].start, day + 8 * HOUR);
		ck_assert_int_le(w[i].visitors, 3);
		/* The nearest base: 2 x 1 km there and back. */
		if(w[i].visitors == 3)
			ck_assert_double_eq_tol(w[i].travel_added, 240, 1e-6);
	}
	ck_assert_int_eq(w[2].visitors, 3);

	/* Owner 0 works 08:00-13:00 and 10:00-17:00 (two routes), owner 1
	 * the whole day, owner 2 nothing usable (an untimed route). */
	otd_route_cleanup(&r[0]);
	otd_route_cleanup(&r[1]);
	otd_route_init(&r[0], north(1), LON, day + 8 * HOUR, day + 13 * HOUR);
	otd_route_init(&r[1], north(1), LON, day + 10 * HOUR, day + 17 * HOUR);
	ck_assert(otd_route_time(&r[0], &plan));
	ck_assert(otd_route_time(&r[1], &plan));
	struct otd_stop s = visit(north(3), day + 9 * HOUR, day + 10 * HOUR, 10 * MIN);
	otd_route_insert(&r[3], 0, &s); /* untimed now */
	size_t owner[] = {0, 0, 1, 2};
	n = otd_offer_day(routes, owner, 4, &plan, &q, w);
	int checked = 0;
	for(size_t i = 0; i < n; i++) {
		int64_t t = w[i].start - day;
		if(t == 10 * HOUR) { /* both of owner 0's routes and owner 1 */
			ck_assert_int_eq(w[i].visitors, 2);
			ck_assert_double_eq_tol(w[i].travel_added, 240, 1e-6);
			checked++;
		}
		if(t == 8 * HOUR || t == 15 * HOUR) {
			ck_assert_int_eq(w[i].visitors, 2);
			checked++;
		}
	}
	ck_assert_int_eq(checked, 3);
	/* Without owners each route counts. */
	n = otd_offer_day(routes, NULL, 4, &plan, &q, w);
	for(size_t i = 0; i < n; i++) {
		if(w[i].start - day == 10 * HOUR)
			ck_assert_int_eq(w[i].visitors, 3);
	}
	for(int i = 0; i < 5; i++)
		otd_route_cleanup(&r[i]);
}
END_TEST

START_TEST(green_when_next_to_a_visit_with_little_travel)
{
	plan_flat();
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route far, near;
	/* far: based 10 km away with a visit at the place asked about. */
	otd_route_init(&far, north(10), LON, day + 8 * HOUR, day + 17 * HOUR);
	struct otd_stop v = visit(LAT, day + 9 * HOUR, day + 10 * HOUR, 30 * MIN);
	otd_route_insert(&far, 0, &v);
	ck_assert(otd_route_time(&far, &plan));
	/* near: empty, based 2 km away (adds 480 s). */
	otd_route_init(&near, north(2), LON, day + 8 * HOUR, day + 17 * HOUR);
	ck_assert(otd_route_time(&near, &plan));
	const struct otd_route *routes[] = {&near, &far};
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	size_t n = otd_offer_day(routes, NULL, 2, &plan, &q, w);
	bool seen = false;
	for(size_t i = 0; i < n; i++) {
		if(w[i].start - day != 10 * HOUR)
			continue;
		/* far takes it after its visit without any extra travel. */
		seen = true;
		ck_assert_int_eq(w[i].visitors, 2);
		ck_assert_double_eq_tol(w[i].travel_added, 0, 1e-6);
		ck_assert(w[i].green);
	}
	ck_assert(seen);
	/* Only near: 480 s of travel, next to nothing: not green. */
	n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_gt(n, 0);
	for(size_t i = 0; i < n; i++) {
		ck_assert_double_eq_tol(w[i].travel_added, 480, 1e-6);
		ck_assert(!w[i].green);
	}
	/* 3 km from far's visit: next to it, but 2 x 3 km > 10 minutes. */
	q = request(north(-3), day);
	n = otd_offer_day(routes + 1, NULL, 1, &plan, &q, w);
	ck_assert_uint_gt(n, 0);
	for(size_t i = 0; i < n; i++)
		ck_assert(!w[i].green);
	q.green_travel = 3600;
	n = otd_offer_day(routes + 1, NULL, 1, &plan, &q, w);
	bool any = false;
	for(size_t i = 0; i < n; i++)
		any = any || w[i].green;
	ck_assert(any);
	otd_route_cleanup(&far);
	otd_route_cleanup(&near);
}
END_TEST

START_TEST(max_visits_per_route)
{
	plan_flat();
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r;
	otd_route_init(&r, LAT, LON, day + 8 * HOUR, day + 17 * HOUR);
	struct otd_stop v = visit(LAT, day + 9 * HOUR, day + 10 * HOUR, 10 * MIN);
	otd_route_insert(&r, 0, &v);
	v.kind = OTD_STOP_HOLD;
	otd_route_insert(&r, 1, &v);
	struct otd_stop l = {OTD_STOP_BREAK, 0, 0, 0, day + 12 * HOUR, day + 13 * HOUR, 1800, 0};
	otd_route_insert(&r, 2, &l);
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_uint_eq(otd_route_visits(&r), 2);
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	q.max_visits = 2;
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	q.max_visits = 3;
	size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_gt(n, 10);
	assert_consistent(routes, 1, &q, w, n);
	q.max_visits = 0;
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), n);
	otd_route_cleanup(&r);
}
END_TEST

/* Booking the first window offered until none is left: the offer then
 * lists nothing and no grid window fits any more. */
START_TEST(a_full_day_offers_nothing)
{
	plan_flat();
	model.spread = 0.25;
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r;
	otd_route_init(&r, LAT, LON, day + 8 * HOUR, day + 17 * HOUR);
	struct otd_stop l = {OTD_STOP_BREAK, 0, 0, 0, day + 12 * HOUR, day + 13 * HOUR + 30 * MIN,
	                     1800,           0};
	otd_route_insert(&r, 0, &l);
	ck_assert(otd_route_time(&r, &plan));
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];
	uint64_t seed = 12345;
	int booked = 0;
	for(int i = 0; i < 200; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		double km = (double)(seed >> 40) / (double)(1ULL << 24) * 6 - 3;
		struct otd_offer_request q = request(north(km), day);
		q.service_mean = 40 * MIN;
		q.service_var = 600.0 * 600;
		size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
		assert_consistent(routes, 1, &q, w, n);
		if(n == 0)
			continue;
		struct otd_stop s = {OTD_STOP_VISIT, i,        q.lat,          q.lon,
		                     w[0].start,     w[0].end, q.service_mean, q.service_var};
		long pos = otd_route_best_insertion(&r, &plan, &s, NULL);
		ck_assert_int_ge(pos, 0);
		otd_route_insert(&r, (size_t)pos, &s);
		ck_assert(otd_route_time(&r, &plan));
		booked++;
	}
	ck_assert_int_ge(booked, 4);
	/* Then at the base itself, the easiest place, until it is full. */
	struct otd_offer_request q = request(LAT, day);
	q.service_mean = 40 * MIN;
	q.service_var = 600.0 * 600;
	for(int i = 0; i < 50; i++) {
		size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
		if(n == 0)
			break;
		struct otd_stop s = {
		    OTD_STOP_VISIT, 1000 + i,       LAT,          LON, w[n - 1].start,
		    w[n - 1].end,   q.service_mean, q.service_var};
		long pos = otd_route_best_insertion(&r, &plan, &s, NULL);
		ck_assert_int_ge(pos, 0);
		otd_route_insert(&r, (size_t)pos, &s);
		ck_assert(otd_route_time(&r, &plan));
	}
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	for(int64_t s = day + 8 * HOUR; s + HOUR <= day + 17 * HOUR; s += 30 * MIN) {
		struct otd_stop st = {OTD_STOP_VISIT, 0,        LAT,        LON, s,
		                      s + HOUR,       40 * MIN, 600.0 * 600};
		ck_assert_int_eq(otd_route_best_insertion(&r, &plan, &st, NULL), -1);
	}
	otd_route_cleanup(&r);
}
END_TEST

/* One route covering the whole local day: every grid window is offered,
 * so the count is the grid's. */
static size_t whole_day(int y, int m, int d, int64_t *first_start)
{
	int64_t day = otd_tz_day_start(london, y, m, d);
	int64_t next = otd_tz_day_start(london, y, m, d + 1);
	ck_assert_int_eq(next - day, otd_tz_day_length(london, y, m, d));
	struct otd_route r;
	otd_route_init(&r, LAT, LON, day, next);
	ck_assert(otd_route_time(&r, &plan));
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	q.day_end = next;
	q.service_mean = 6 * MIN;
	size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	assert_consistent(routes, 1, &q, w, n);
	ck_assert_int_eq(w[0].start, day);
	ck_assert_int_eq(w[n - 1].end, next);
	*first_start = w[0].start;
	/* The local rendering of each window is on that local date. */
	for(size_t i = 0; i < n; i++) {
		struct otd_local a, b;
		otd_tz_to_local(london, w[i].start, &a);
		otd_tz_to_local(london, w[i].end - 1, &b);
		ck_assert_int_eq(a.c.day, d);
		ck_assert_int_eq(b.c.day, d);
	}
	otd_route_cleanup(&r);
	return n;
}

START_TEST(daylight_saving_days_have_their_own_grid)
{
	plan_flat();
	plan.tz = london;
	int64_t first;
	/* 23 hours: 46 half-hour starts, minus the width (2 steps) plus one. */
	ck_assert_uint_eq(whole_day(2026, 3, 29, &first), 45);
	ck_assert_int_eq(first, at("2026-03-29T00:00:00Z"));
	ck_assert_uint_eq(whole_day(2026, 10, 25, &first), 49); /* 25 hours: 50 */
	ck_assert_int_eq(first, at("2026-10-24T23:00:00Z"));
	ck_assert_uint_eq(whole_day(2026, 6, 1, &first), 47);
	ck_assert_uint_eq(whole_day(2026, 1, 12, &first), 47);
	/* On the spring day the window after 00:30 GMT starts 02:00 BST. */
	struct otd_local l;
	otd_tz_to_local(london, at("2026-03-29T00:00:00Z") + 2 * 30 * MIN, &l);
	ck_assert_int_eq(l.c.hour, 2);
}
END_TEST

START_TEST(speed_by_hour_changes_what_is_offered)
{
	plan_flat();
	model.spread = 0;
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r;
	/* 10 km from the base: 20 minutes at 30 km/h. */
	otd_route_init(&r, north(10), LON, day + 8 * HOUR, day + 17 * HOUR);
	ck_assert(otd_route_time(&r, &plan));
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	size_t n = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_int_eq(w[0].start, day + 8 * HOUR);
	ck_assert_double_eq_tol(w[0].travel_added, 2400, 1e-6);
	/* A crawl (6 km/h) from 08:00 to 10:00: 100 minutes out, so 08:00 and
	 * 08:30 are lost; later departures are quick again. */
	model.speed_kmh[8] = model.speed_kmh[9] = 6;
	ck_assert(otd_route_time(&r, &plan));
	size_t n2 = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_eq(n2, n - 2);
	ck_assert_int_eq(w[0].start, day + 9 * HOUR);
	assert_consistent(routes, 1, &q, w, n2);
	/* In the evening rush the way home is slow: 16:00 goes too. */
	model.speed_kmh[16] = 6;
	ck_assert(otd_route_time(&r, &plan));
	size_t n3 = otd_offer_day(routes, NULL, 1, &plan, &q, w);
	ck_assert_uint_lt(n3, n2);
	assert_consistent(routes, 1, &q, w, n3);
	otd_route_cleanup(&r);
}
END_TEST

START_TEST(infeasible_and_untimed_routes_are_skipped)
{
	plan_flat();
	int64_t day = at("2026-06-01T00:00:00Z");
	struct otd_route r;
	otd_route_init(&r, LAT, LON, day + 8 * HOUR, day + 17 * HOUR);
	struct otd_stop v = visit(north(50), day + 8 * HOUR, day + 8 * HOUR + 10 * MIN, 600);
	otd_route_insert(&r, 0, &v); /* 100 minutes away: already late */
	const struct otd_route *routes[] = {&r};
	struct otd_offer_window w[MAXW];
	struct otd_offer_request q = request(LAT, day);
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	ck_assert(!otd_route_time(&r, &plan));
	ck_assert_uint_eq(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	otd_route_remove(&r, 0);
	ck_assert(otd_route_time(&r, &plan));
	ck_assert_uint_gt(otd_offer_day(routes, NULL, 1, &plan, &q, w), 0);
	otd_route_cleanup(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("offer");
	TCase *tc = tcase_create("offer");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, windows_stay_inside_the_day_and_the_bounds);
	tcase_add_test(tc, counts_distinct_visitors_up_to_three);
	tcase_add_test(tc, green_when_next_to_a_visit_with_little_travel);
	tcase_add_test(tc, max_visits_per_route);
	tcase_add_test(tc, a_full_day_offers_nothing);
	tcase_add_test(tc, daylight_saving_days_have_their_own_grid);
	tcase_add_test(tc, speed_by_hour_changes_what_is_offered);
	tcase_add_test(tc, infeasible_and_untimed_routes_are_skipped);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
