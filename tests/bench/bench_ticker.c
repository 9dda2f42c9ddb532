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
 * Carlo written independently.)
 *
 * Then the same pass with its store I/O (see store_pass below): ROUTES
 * visitors in a SQLite database, app_risk_pass timed REPEATS times.
 *
 * Run from the release build:
 *   build/release/tests/bench/bench_ticker [ROUTES [SAMPLES [REPEATS [REFERENCE [STORE_ROUTES]]]]]
 *     ROUTES        active routes of 8 appointments (default 1000)
 *     SAMPLES       Monte Carlo samples per projection (default 256)
 *     REPEATS       timed passes, both parts (default 5)
 *     REFERENCE     routes checked against 100,000 samples (default 200; 0: none)
 *     STORE_ROUTES  visitors of the store pass (default ROUTES; 0: skip it)
 * Prints a table and one JSON line. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/catalog.h"
#include "app/imports.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/tracking.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/project.h"
#include "onthedot/reference.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "store/booking.h"
#include "store/store.h"

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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
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
 * The whole ticker pass as the server runs it (app_risk_pass): the active
 * visitor-days read from SQLite, every route built by the planner, the
 * learned models read, the projection, and the new risk states written in
 * chunked write jobs (synchronous=FULL, as the server runs). Its own
 * synthetic organisation in a throw-away database, on a virtual clock set
 * to the same instant as the fleet above (10:30 London, 2 June 2026):
 * ROUTES visitors with a base uniform in the 40 x 40 km area, each with
 * APPOINTMENTS appointments today at addresses within STORE_RADIUS_KM of
 * the base (all in the area), one visit type (median 45 min, spread 0.3),
 * windows 2 or 3 hours wide promised around a plan walked at mean travel
 * and durations from 08:00. Each visitor has fallen behind that plan by
 * -20 to +80 minutes; where that puts them at 10:30 is sent as real
 * events through app_visitor_events (start_travel, arrived, done: the day
 * is then travelling, on site or idle; a tenth tap "late N" too), so the
 * stored days hold real states, positions of departure and learned
 * durations (a few have sent nothing yet; some linger after their last
 * visit). Then one untimed pass and REPEATS timed passes, the virtual
 * clock moving on 30 s (the default ticker period) before each so the
 * risk numbers move as they would: about a tenth of the appointments get
 * their risk row rewritten each pass (counted from updated_at). */
#define STORE_RADIUS_KM 6.0
#define STORE_TICK_S 30
#define STORE_VIRTUAL_START "2026-06-02T09:30:00Z" /* 10:30 BST */

struct store_figures {
	bool measured;
	size_t visitors, appointments, events, late_taps;
	size_t states[4]; /* not started, travelling, on site, idle */
	double setup_s;
	size_t routes;          /* visitor-days the pass projected */
	double first_ms;        /* the untimed first pass */
	size_t first_written;   /* appointments whose risk it wrote */
	double ms_min, ms_med, ms_max, cpu_med;
	double written_mean;    /* appointments written per timed pass */
	size_t risk[4];         /* ok, watch, at_risk, broken after the last pass */
};

static double cpu_process_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One visitor's day as planned: the places and the mean timeline. */
struct store_day {
	int64_t visitor_id;
	double base_lat, base_lon;
	double lat[APPOINTMENTS], lon[APPOINTMENTS];
	int64_t dep[APPOINTMENTS], arr[APPOINTMENTS], fin[APPOINTMENTS];
	int64_t a[APPOINTMENTS], b[APPOINTMENTS];
	char ref[APPOINTMENTS][OTD_REFERENCE_LEN + 1];
};

struct store_org {
	struct otd_app *app;
	struct store_day *days;
	size_t n;
	int64_t visit_type_id;
	char date[11];
	int64_t now;
};

static void store_place_near(double base_lat, double base_lon, double *lat, double *lon)
{
	double half = AREA_KM / 2;
	double dy = (base_lat - CENTRE_LAT) / km_lat + (uni() * 2 - 1) * STORE_RADIUS_KM;
	double dx = (base_lon - CENTRE_LON) / km_lon() + (uni() * 2 - 1) * STORE_RADIUS_KM;
	dy = fmax(-half, fmin(half, dy));
	dx = fmax(-half, fmin(half, dx));
	*lat = CENTRE_LAT + dy * km_lat;
	*lon = CENTRE_LON + dx * km_lon();
}

/* Walks the plan from 08:00: mean travel, windows promised up to an hour
 * before the planned arrival, a 30-minute break once past 12:00. */
static void store_plan_day(struct store_day *d, const struct otd_app *app, int64_t shift_start)
{
	const struct otd_travel_model *tm = planner_plan(app->planner)->travel;
	double t = (double)shift_start, lat = d->base_lat, lon = d->base_lon;
	bool lunch = false;
	for(size_t k = 0; k < APPOINTMENTS; k++) {
		double leg, var;
		otd_travel_leg(tm, app->tz, otd_distance_km(lat, lon, d->lat[k], d->lon[k]),
		               (int64_t)t, (int64_t)t, &leg, &var);
		d->dep[k] = (int64_t)t;
		t += leg;
		d->arr[k] = (int64_t)t;
		d->a[k] = floor_to((int64_t)(t - uni() * 60 * MIN), 30 * MIN);
		d->b[k] = d->a[k] + (uni() < 0.5 ? 2 : 3) * HOUR;
		t = fmax(t, (double)d->a[k]) + 45 * MIN * exp(0.3 * 0.3 / 2);
		d->fin[k] = (int64_t)t;
		if(!lunch && t >= (double)(shift_start + 4 * HOUR)) {
			t += 30 * MIN;
			lunch = true;
		}
		lat = d->lat[k];
		lon = d->lon[k];
	}
}

static enum otd_status store_fill_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct store_org *o = arg;
	size_t seq = 0;
	for(size_t vi = 0; vi < o->n; vi++) {
		struct store_day *d = &o->days[vi];
		struct otd_route_item items[APPOINTMENTS];
		for(size_t k = 0; k < APPOINTMENTS; k++) {
			struct otd_customer c = {.name = "Bench Customer", .access_notes = ""};
			snprintf(c.phone, sizeof(c.phone), "+4477009%05zu", seq % 100000);
			enum otd_status st = store_customer_upsert(tx, &c, o->now, err);
			if(st)
				return st;
			struct otd_appointment ap = {.customer_id = c.id,
			                             .address_id = (int64_t)seq + 1,
			                             .visit_type_id = o->visit_type_id,
			                             .visitor_id = d->visitor_id,
			                             .window_start = d->a[k],
			                             .window_end = d->b[k]};
			memcpy(ap.local_date, o->date, sizeof(ap.local_date));
			do { /* references are random: draw again on the rare collision */
				unsigned char rnd[6];
				for(int i = 0; i < 6; i++)
					rnd[i] = (unsigned char)rng_next();
				otd_reference_make(rnd, ap.reference);
				st = store_appointment_insert(tx, &ap, o->now - 7 * 86400, err);
			} while(st == OTD_ECONFLICT);
			if(st)
				return st;
			memcpy(d->ref[k], ap.reference, sizeof(d->ref[k]));
			items[k] = (struct otd_route_item){.kind = OTD_ITEM_VISIT, .id = ap.id,
			                                   .route_position = (int)(k + 1) * 1024};
			seq++;
		}
		enum otd_status st = store_route_order(tx, items, APPOINTMENTS, err);
		if(st)
			return st;
	}
	return OTD_OK;
}

static void store_event(struct otd_vevent *e, size_t *n, enum otd_vevent_kind kind, int64_t at,
                        const char *ref, size_t *seq)
{
	struct otd_vevent *x = &e[*n];
	memset(x, 0, sizeof(*x));
	x->index = *n;
	x->kind = kind;
	x->at = at;
	x->accuracy = -1;
	snprintf(x->client_id, sizeof(x->client_id), "setup-%zu", (*seq)++);
	if(ref)
		snprintf(x->reference, sizeof(x->reference), "%s", ref);
	(*n)++;
}

/* Where a visitor `behind` seconds behind the plan is at o->now, sent as
 * the taps they would have made. Returns the state's index in
 * store_figures.states. */
static int store_day_events(struct store_org *o, struct store_day *d, size_t *events,
                            size_t *late_taps, struct otd_error *err)
{
	struct otd_vevent ev[3 * APPOINTMENTS + 1];
	size_t n = 0, seq = 0;
	static size_t client_seq;
	int64_t behind = (int64_t)((-20 + 100 * uni()) * MIN);
	int64_t tau = o->now - behind; /* the plan's time the visitor has reached */
	int state = 0;
	double u = uni();
	bool not_started = u < 0.03;                /* no word yet */
	bool idle_instead = u >= 0.03 && u < 0.2; /* lingering after the last visit */
	for(size_t k = 0; k < APPOINTMENTS && !not_started; k++) {
		if(tau < d->dep[k]) {
			state = k ? 3 : 0;
			break;
		}
		if(idle_instead && k > 0 && tau < d->fin[k]) {
			state = 3;
			break;
		}
		store_event(ev, &n, OTD_VEVENT_START_TRAVEL, d->dep[k] + behind, d->ref[k], &seq);
		if(tau < d->arr[k]) {
			state = 1;
			break;
		}
		store_event(ev, &n, OTD_VEVENT_ARRIVED, d->arr[k] + behind, d->ref[k], &seq);
		if(tau < d->fin[k]) {
			state = 2;
			break;
		}
		store_event(ev, &n, OTD_VEVENT_DONE, d->fin[k] + behind, d->ref[k], &seq);
		state = 3;
	}
	if(state != 0 && uni() < 0.1) {
		store_event(ev, &n, OTD_VEVENT_LATE, o->now, NULL, &seq);
		ev[n - 1].late_minutes = 5 + (int)(rng_next() % 6) * 5;
		(*late_taps)++;
	}
	for(size_t i = 0; i < n; i++) /* client ids unique per visitor: make them global */
		snprintf(ev[i].client_id, sizeof(ev[i].client_id), "setup-%zu", client_seq++);
	if(n == 0)
		return state;
	struct otd_principal p = {.kind = OTD_PRINCIPAL_SESSION, .role = OTD_ROLE_VISITOR,
	                          .visitor_id = d->visitor_id};
	snprintf(p.ip, sizeof(p.ip), "bench");
	enum otd_vevent_result res[3 * APPOINTMENTS + 1];
	if(app_visitor_events(o->app, &p, d->visitor_id, ev, n, res, err) != OTD_OK)
		return -1;
	*events += n;
	return state;
}

/* Counts appointments of today whose row the pass at `at` wrote, and the
 * risk levels, on a connection of our own (read only). */
static void store_count(const char *db, const char *date, int64_t at, size_t *written,
                        size_t risk[4])
{
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	if(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if(written &&
	   sqlite3_prepare_v2(h, "SELECT count(*) FROM appointments WHERE local_date = ?1 AND "
	                         "updated_at = ?2",
	                      -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, at);
		if(sqlite3_step(q) == SQLITE_ROW)
			*written = (size_t)sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		q = NULL;
	}
	if(risk && sqlite3_prepare_v2(h, "SELECT risk, count(*) FROM appointments WHERE "
	                                 "local_date = ?1 GROUP BY risk",
	                              -1, &q, NULL) == SQLITE_OK) {
		static const char *const names[4] = {"ok", "watch", "at_risk", "broken"};
		sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
		while(sqlite3_step(q) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(q, 0);
			for(int i = 0; i < 4 && r; i++)
				if(strcmp(r, names[i]) == 0)
					risk[i] = (size_t)sqlite3_column_int64(q, 1);
		}
		sqlite3_finalize(q);
	}
out:
	sqlite3_close(h);
}

static bool store_pass(size_t visitors, unsigned samples, long repeats, struct store_figures *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t saved_rng = rng;
	rng = 20260602; /* its own seed: the fleet above stays the same */
	double t0 = now_s();
	char dir[] = "/tmp/otd-bench-ticker-XXXXXX";
	if(!mkdtemp(dir)) {
		perror("bench_ticker: mkdtemp");
		return false;
	}
	char db[256];
	snprintf(db, sizeof(db), "%s/ticker.db", dir);
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db);
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(STORE_VIRTUAL_START);
	cfg.virtual_clock = true;
	cfg.messages.record_only = true;
	cfg.tracking.samples = (int)samples;
	struct otd_error err;
	otd_error_clear(&err);
	struct otd_app app;
	bool opened = false, ok = false;
	struct store_org o = {.app = &app, .n = visitors};
	o.days = xcalloc(visitors, sizeof(*o.days));
	int from, to;
	otd_log_set_level(OTD_LOG_ERROR); /* at_risk and silent notes are expected */
	if(store_migrate(db, true, 5000, &from, &to, NULL, &err) != OTD_OK)
		goto out;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK)
		goto out;
	opened = true;
	struct otd_principal cli;
	app_principal_cli(&cli);
	o.now = otd_clock_now(app.clock);
	struct otd_local l;
	otd_tz_to_local(app.tz, o.now, &l);
	otd_date_format(l.c.year, l.c.month, l.c.day, o.date);
	struct otd_civil c8 = {l.c.year, l.c.month, l.c.day, 8, 0, 0};
	int64_t shift_start;
	otd_tz_from_local(app.tz, &c8, &shift_start, NULL);

	/* Places: the bases, and each visitor's appointments near theirs. */
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, "uprn,line1,postcode,latitude,longitude\n");
	size_t seq = 0;
	for(size_t i = 0; i < visitors; i++) {
		struct store_day *d = &o.days[i];
		area_point(&d->base_lat, &d->base_lon);
		for(size_t k = 0; k < APPOINTMENTS; k++, seq++) {
			store_place_near(d->base_lat, d->base_lon, &d->lat[k], &d->lon[k]);
			otd_buf_printf(&csv, "%zu,%zu Ticker Road,TK%zu 1AA,%.6f,%.6f\n", 100000 + seq,
			               seq + 1, seq % 99 + 1, d->lat[k], d->lon[k]);
		}
	}
	struct otd_import_report rep;
	enum otd_status st = app_import_gazetteer(&app, &cli, "bench", csv.data, csv.len, &rep, &err);
	otd_buf_cleanup(&csv);
	if(st != OTD_OK)
		goto out;
	otd_import_report_cleanup(&rep);
	struct otd_visit_type vt = {.code = "repair", .skill = "gas", .duration_median_min = 45,
	                           .duration_spread = 0.3, .window_min = 120};
	vt.name = xstrdup("Repair");
	bool replayed;
	st = app_visit_type_create(&app, &cli, &vt, NULL, &replayed, &err);
	o.visit_type_id = vt.id ? vt.id : 1;
	otd_visit_type_cleanup(&vt);
	if(st != OTD_OK)
		goto out;
	for(size_t i = 0; i < visitors; i++) {
		struct otd_visitor v = {0};
		v.name = xasprintf("Visitor %zu", i + 1);
		v.role_title = xstrdup("Engineer");
		v.phone = xstrdup("");
		v.base_lat = o.days[i].base_lat;
		v.base_lon = o.days[i].base_lon;
		v.n_skills = 1;
		v.skills = xcalloc(1, sizeof(char *));
		v.skills[0] = xstrdup("gas");
		v.n_shifts = 1;
		v.shifts = xcalloc(1, sizeof(*v.shifts));
		snprintf(v.shifts[0].start, sizeof(v.shifts[0].start), "%sT08:00:00", o.date);
		v.shifts[0].duration_min = 540;
		snprintf(v.shifts[0].rrule, sizeof(v.shifts[0].rrule), "FREQ=DAILY");
		if(app_visitor_prepare(&app, &v, &err) != OTD_OK ||
		   app_visitor_create(&app, &cli, &v, NULL, &replayed, &err) != OTD_OK) {
			otd_visitor_cleanup(&v);
			goto out;
		}
		o.days[i].visitor_id = v.id ? v.id : (int64_t)i + 1;
		otd_visitor_cleanup(&v);
		store_plan_day(&o.days[i], &app, shift_start);
	}
	if(store_write(app.store, store_fill_job, &o, &err) != OTD_OK)
		goto out;
	for(size_t i = 0; i < visitors; i++) {
		int s = store_day_events(&o, &o.days[i], &out->events, &out->late_taps, &err);
		if(s < 0)
			goto out;
		out->states[s]++;
	}
	out->visitors = visitors;
	out->appointments = visitors * APPOINTMENTS;
	out->setup_s = now_s() - t0;

	/* The first pass (the clock moved on since the events) warms the
	 * caches: not timed with the others. */
	otd_clock_advance(app.clock, STORE_TICK_S);
	double t = now_s();
	if(app_risk_pass(&app, &out->routes, &err) != OTD_OK)
		goto out;
	out->first_ms = (now_s() - t) * 1e3;
	store_count(db, o.date, otd_clock_now(app.clock), &out->first_written, NULL);
	double *ms = xcalloc((size_t)repeats, sizeof(double));
	double *cpu = xcalloc((size_t)repeats, sizeof(double));
	size_t written = 0;
	for(long i = 0; i < repeats; i++) {
		otd_clock_advance(app.clock, STORE_TICK_S);
		size_t routes = 0, w = 0;
		double c = cpu_process_s();
		t = now_s();
		st = app_risk_pass(&app, &routes, &err);
		ms[i] = (now_s() - t) * 1e3;
		cpu[i] = (cpu_process_s() - c) * 1e3;
		if(st != OTD_OK) {
			free(ms);
			free(cpu);
			goto out;
		}
		store_count(db, o.date, otd_clock_now(app.clock), &w, NULL);
		written += w;
	}
	store_count(db, o.date, 0, NULL, out->risk);
	qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
	qsort(cpu, (size_t)repeats, sizeof(double), cmp_double);
	out->ms_min = ms[0];
	out->ms_med = ms[repeats / 2];
	out->ms_max = ms[repeats - 1];
	out->cpu_med = cpu[repeats / 2];
	out->written_mean = (double)written / (double)repeats;
	free(ms);
	free(cpu);
	out->measured = ok = true;
out:
	if(!ok)
		fprintf(stderr, "bench_ticker: store pass: %s\n", err.message);
	if(opened)
		app_close(&app);
	otd_config_cleanup(&cfg);
	free(o.days);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if(system(cmd) != 0)
		fprintf(stderr, "bench_ticker: could not remove %s\n", dir);
	rng = saved_rng;
	return ok;
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

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: bench_ticker [ROUTES [SAMPLES [REPEATS [REFERENCE [STORE_ROUTES]]]]]\n"
	        "  ROUTES     active routes of %d appointments (default 1000)\n"
	        "  SAMPLES    Monte Carlo samples per projection (default 256)\n"
	        "  REPEATS    timed passes (default 5)\n"
	        "  REFERENCE  routes checked against %d samples (default %d; 0: none)\n"
	        "  STORE_ROUTES  visitors of the store pass (default ROUTES; 0: skip it)\n"
	        "Times one ticker pass of risk projection over all routes on one thread and\n"
	        "the error of P(late) against a %d-sample projection of the first routes;\n"
	        "then the whole pass with its store I/O (app_risk_pass on a SQLite database\n"
	        "built in a temporary folder), REPEATS times.\n",
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
	long store_routes = argc > 5 ? strtol(argv[5], NULL, 10) : routes;
	if(argc > 6 || routes < 1 || samples < 1 || samples > 10000000 || repeats < 1 ||
	   reference < 0 || store_routes < 0 || (store_routes > 0 && samples < 256)) {
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
	/* The same pass with its store I/O, after the compute figures. */
	struct store_figures sf;
	memset(&sf, 0, sizeof(sf));
	if(store_routes > 0 && !store_pass((size_t)store_routes, (unsigned)samples, repeats, &sf))
		return 1;
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
	printf("%-36s %10s %10s %10s\n", "", "min", "median", "max");
	printf("%-36s %10.2f %10.2f %10.2f\n", "compute pass, ms (wall)", ms[0], med,
	       ms[repeats - 1]);
	printf("%-36s %10.2f %10.2f %10.2f\n", "compute pass, ms (thread cpu)", cpu[0], cpu_med,
	       cpu[repeats - 1]);
	if(sf.measured) {
		printf("%-36s %10.2f %10.2f %10.2f\n", "with store I/O, ms (wall)", sf.ms_min,
		       sf.ms_med, sf.ms_max);
		printf("%-36s %10s %10.2f\n", "with store I/O, ms (process cpu)", "", sf.cpu_med);
	}
	printf("%-36s %10.0f %10.0f\n", "compute, routes/s", (double)f.n / ms[0] * 1e3,
	       (double)f.n / med * 1e3);
	if(sf.measured)
		printf("%-36s %10.0f %10.0f\n", "with store I/O, routes/s",
		       (double)sf.routes / sf.ms_min * 1e3, (double)sf.routes / sf.ms_med * 1e3);
	printf("%-36s %10.2f %10.2f\n", "compute per route, us", ms[0] * 1e3 / (double)f.n,
	       med * 1e3 / (double)f.n);
	printf("%-36s %10.2f %10.2f\n", "compute per stop-sample, ns",
	       ms[0] * 1e6 / ((double)stops * (double)samples),
	       med * 1e6 / ((double)stops * (double)samples));
	char store_json[600];
	if(sf.measured) {
		printf("store pass (app_risk_pass on SQLite, synchronous=FULL, virtual clock +%d s "
		       "before each pass): %zu visitors x %d appointments, %zu routes projected a "
		       "pass; states from %zu real events (%zu late taps): %zu not started, %zu "
		       "travelling, %zu on site, %zu idle; setup %.1f s\n",
		       STORE_TICK_S, sf.visitors, APPOINTMENTS, sf.routes, sf.events, sf.late_taps,
		       sf.states[0], sf.states[1], sf.states[2], sf.states[3], sf.setup_s);
		printf("store pass: first pass %.1f ms (wrote %zu appointments' risk); timed passes "
		       "wrote %.0f appointments' risk each on average; risk after: %zu ok, %zu watch, "
		       "%zu at_risk, %zu broken\n",
		       sf.first_ms, sf.first_written, sf.written_mean, sf.risk[0], sf.risk[1],
		       sf.risk[2], sf.risk[3]);
		snprintf(store_json, sizeof(store_json),
		         "\"store_routes\":%zu,\"store_ms_min\":%.3f,\"store_ms_median\":%.3f,"
		         "\"store_ms_max\":%.3f,\"store_cpu_ms_median\":%.3f,"
		         "\"store_routes_per_s_median\":%.0f,\"store_first_ms\":%.3f,"
		         "\"store_written_mean\":%.1f,\"store_events\":%zu",
		         sf.routes, sf.ms_min, sf.ms_med, sf.ms_max, sf.cpu_med,
		         (double)sf.routes / sf.ms_med * 1e3, sf.first_ms, sf.written_mean, sf.events);
	} else {
		printf("store pass: not measured (STORE_ROUTES 0)\n");
		snprintf(store_json, sizeof(store_json), "\"store_ms_median\":null");
	}
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
	       "\"stop_sample_ns_median\":%.3f,\"routes_per_s_median\":%.0f,%s,%s,"
	       "\"fleet_middling\":%zu}\n",
	       f.n, APPOINTMENTS, f.breaks, samples, repeats, ms[0], med, cpu_med,
	       med * 1e3 / (double)f.n, med * 1e6 / ((double)stops * (double)samples),
	       (double)f.n / med * 1e3, store_json, acc, all_middling);
	free(ms);
	free(cpu);
	free(out);
	free(f.routes);
	otd_tz_free(tz);
	tzload_shutdown();
	return 0;
}
