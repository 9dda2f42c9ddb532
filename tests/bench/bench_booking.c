/* Benchmark: the slot offer and bookings through the real use cases and
 * over HTTP (issue 3's goals).
 *
 *   bench_booking ONTHEDOT_BINARY [VISITORS [REQUESTS [SECONDS [bookings]]]]
 *
 * Builds a fixed synthetic organisation (seeded, reproducible): a 40 x 40 km
 * area, 20,000 addresses uniform in it, VISITORS visitors (default 200)
 * with bases uniform in it, every one working 08:00-17:00 every day with a
 * 30-minute break, one visit type (median 45 minutes, spread 0.3, 60-minute
 * windows, 30-minute step). Each visitor-day of the next 14 days is filled
 * to FILL (60%) of its working time with visits near the base, chosen by
 * the route model and written through the store's booking functions in
 * one transaction (setup only: the measured paths are the use cases).
 *
 * Then, in process (app_slots, one request = one address x all visitors x
 * 14 days): REQUESTS requests warm, and REQUESTS / 10 requests each just
 * after a booking (app_hold_create + app_book) that dropped a cached day.
 * Then over HTTP against the real binary with 8 connections (httpc.h,
 * one epoll loop): REQUESTS slot queries; then SECONDS seconds of bookings (hold +
 * confirm, distinct Idempotency-Keys) at offered windows, reporting
 * confirmed per second, the 409 rate and p99. Every write is answered only
 * after a sync of the log that covers it (the server's syncer).
 * Prints a table and JSON lines. Run it from the release tree.
 * OTD_BENCH_ORG=FILE keeps the organisation built in FILE and reuses it on
 * later runs of the same day and size (diagnosis: building it takes
 * minutes); OTD_BENCH_CONNECTIONS=N changes the 8 connections. */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/booking.h"
#include "app/catalog.h"
#include "app/imports.h"
#include "app/planning.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/reference.h"
#include "onthedot/tz.h"
#include "store/booking.h"
#include "store/store.h"

#include "httpc.h"

#define DAYS 14
#define CENTRE_LAT 52.2
#define CENTRE_LON (-1.5)
#define AREA_KM 40.0
#define ADDRESSES 20000
#define FILL 0.60
#define CONNECTIONS_MAX 64
/* 8 as the issue says; OTD_BENCH_CONNECTIONS changes it for diagnosis. */
static int n_conns = 8; /* connections of the HTTP runs */

static uint64_t rng = 20261123;

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

/* Copies the file from to to; 0 on success. */
static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[1 << 16];
	size_t n;
	int rc = in && out ? 0 : -1;
	while(rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if(fwrite(buf, 1, n, out) != n)
			rc = -1;
	if(in && ferror(in))
		rc = -1;
	if(in)
		fclose(in);
	if(out && fclose(out) != 0)
		rc = -1;
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if(!n)
		return 0;
	size_t i = (size_t)ceil(p * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

static void point(double *lat, double *lon)
{
	double dy = (uni() - 0.5) * AREA_KM, dx = (uni() - 0.5) * AREA_KM;
	*lat = CENTRE_LAT + dy / 111.32;
	*lon = CENTRE_LON + dx / (111.32 * cos(CENTRE_LAT * M_PI / 180));
}

struct fill_ctx {
	struct otd_app *app;
	const struct plan_catalog *cat;
	double *alat, *alon;
	int64_t now;
	size_t booked;
	double utilisation;
	size_t days;
};

static double route_use(const struct otd_route *r)
{
	double busy = r->travel_mean;
	for(size_t i = 0; i < r->n; i++)
		if(r->stops[i].kind != OTD_STOP_BREAK)
			busy += r->stops[i].service_mean;
	return busy / (double)(r->shift_end - r->shift_start - 1800);
}

/* Fills every visitor-day to FILL with visits near the base (setup). */
static enum otd_status fill_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct fill_ctx *f = arg;
	const struct plan_visit_type *t = &f->cat->types[0];
	for(size_t vi = 0; vi < f->cat->n_visitors; vi++) {
		const struct plan_visitor *v = &f->cat->visitors[vi];
		for(int d = 1; d <= DAYS; d++) {
			char date[11];
			planner_local_date(f->app->planner, f->now + (int64_t)d * 86400, date);
			struct plan_day day;
			enum otd_status st = planner_build_day(f->app->planner, tx, f->cat, v, date, f->now,
			                                       0, 0, &day, err);
			if(st)
				return st;
			if(!day.n_routes) {
				plan_day_cleanup(&day);
				continue;
			}
			struct otd_route *r = &day.routes[0];
			int64_t step = 1800;
			for(int attempt = 0; attempt < 300 && route_use(r) < FILL; attempt++) {
				/* An address within about 8 km of the base. */
				size_t a = 0;
				for(int k = 0; k < 50; k++) {
					a = (size_t)(uni() * ADDRESSES);
					if(otd_distance_km(v->base_lat, v->base_lon, f->alat[a], f->alon[a]) < 8)
						break;
				}
				int64_t slots = (r->shift_end - r->shift_start - 3600) / step;
				int64_t start = r->shift_start + (int64_t)(uni() * (double)slots) * step;
				struct otd_stop s;
				plan_visit_stop(NULL, t, 0, f->alat[a], f->alon[a], start, start + 3600,
				                OTD_STOP_VISIT, 0, &s);
				long pos = otd_route_best_insertion(r, planner_plan(f->app->planner), &s, NULL);
				if(pos < 0)
					continue;
				struct otd_customer c = {.name = "Bench Customer", .access_notes = ""};
				snprintf(c.phone, sizeof(c.phone), "+4477009%05zu", f->booked % 100000);
				c.id = 0;
				if((st = store_customer_upsert(tx, &c, f->now, err)))
					return st;
				struct otd_appointment ap = {.customer_id = c.id,
				                             .address_id = (int64_t)a + 1,
				                             .visit_type_id = t->id,
				                             .visitor_id = v->id,
				                             .window_start = start,
				                             .window_end = start + 3600};
				memcpy(ap.local_date, date, sizeof(ap.local_date));
				/* References are random: draw again on the rare collision. */
				do {
					unsigned char rnd[6];
					for(int k = 0; k < 6; k++)
						rnd[k] = (unsigned char)rng_next();
					otd_reference_make(rnd, ap.reference);
					st = store_appointment_insert(tx, &ap, f->now, err);
				} while(st == OTD_ECONFLICT);
				if(st)
					return st;
				s.id = ap.id;
				otd_route_insert(r, (size_t)pos, &s);
				otd_route_time(r, planner_plan(f->app->planner));
				f->booked++;
			}
			struct otd_route_item items[128];
			size_t n = 0;
			for(size_t i = 0; i < r->n && n < 128; i++)
				if(r->stops[i].kind == OTD_STOP_VISIT)
					items[n++] = (struct otd_route_item){.kind = OTD_ITEM_VISIT,
					                                     .id = r->stops[i].id,
					                                     .route_position =
					                                         (int)(n + 1) * 1024};
			if((st = store_route_order(tx, items, n, err)))
				return st;
			f->utilisation += route_use(r);
			f->days++;
			plan_day_cleanup(&day);
		}
	}
	return OTD_OK;
}

static enum otd_status cat_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	void **p = arg;
	struct otd_app *app = p[0];
	return planner_catalog(app->planner, c, otd_clock_now(app->clock), p[1], err);
}

/* ---- HTTP (httpc: keep-alive connections, one epoll loop) ------------------- */

struct conn {
	struct httpc h;
	int stage; /* bookings: 0 hold, 1 confirm */
	double booking_started;
};

/* GET path on a connection of its own, waited for: the answer's body
 * (heap) when it is a 200, else NULL. */
static char *http_get(unsigned port, const char *path)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct httpc c = {.fd = -1};
	char *out = NULL;
	if(ep >= 0 && httpc_connect(&c, port)) {
		httpc_request(&c, port, "GET", path, NULL, NULL, 0);
		httpc_arm(&c, ep, true, &c);
		struct epoll_event ev;
		while(epoll_wait(ep, &ev, 1, 30000) == 1) {
			const char *body = NULL;
			long code = httpc_on_events(&c, ep, ev.events, &body);
			if(code == 200)
				out = xstrdup(body);
			if(code != 0)
				break;
		}
	}
	httpc_close(&c, ep);
	if(ep >= 0)
		close(ep);
	return out;
}

struct target {
	int64_t address;
	int64_t start;
};

struct writer_counters {
	double jobs, commits, pages, busy, commit, syncs, sync;
};

static double metric(const char *text, const char *name)
{
	char key[96];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = text ? strstr(text, key) : NULL;
	return p ? strtod(p + strlen(key), NULL) : 0;
}

/* The writer's counters from /metrics (zero when it cannot be read). */
static void writer_counters(unsigned port, struct writer_counters *out)
{
	memset(out, 0, sizeof(*out));
	char *text = http_get(port, "/metrics");
	if(!text)
		return;
	out->jobs = metric(text, "otd_writer_jobs_total");
	out->commits = metric(text, "otd_writer_commits_total");
	out->pages = metric(text, "otd_writer_pages_total");
	out->busy = metric(text, "otd_writer_busy_seconds_total");
	out->commit = metric(text, "otd_writer_commit_seconds_total");
	out->syncs = metric(text, "otd_store_syncs_total");
	out->sync = metric(text, "otd_store_sync_seconds_total");
	free(text);
}

/* Puts a hold of target t on c: the first half of a booking. */
static void hold_request(struct conn *c, unsigned port, const struct target *t)
{
	char body[200], ts[32];
	otd_rfc3339_format(t->start, ts, sizeof(ts));
	snprintf(body, sizeof(body), "{\"address\":%lld,\"visit_type\":1,\"window_start\":\"%s\"}",
	         (long long)t->address, ts);
	httpc_request(&c->h, port, "POST", "/api/v1/holds", "Content-Type: application/json\r\n",
	              body, strlen(body));
	c->stage = 0;
	c->booking_started = c->h.started;
}

int main(int argc, char **argv)
{
	if(argc < 2) {
		fprintf(stderr, "usage: bench_booking ONTHEDOT_BINARY [VISITORS [REQUESTS [SECONDS]]]\n");
		return 2;
	}
	const char *bin = argv[1];
	size_t visitors = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
	size_t requests = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
	double seconds = argc > 4 ? strtod(argv[4], NULL) : 10;
	/* "bookings" skips the slot measurements (targets are still drawn). */
	bool only_bookings = argc > 5 && strcmp(argv[5], "bookings") == 0;
	if(getenv("OTD_BENCH_CONNECTIONS")) {
		n_conns = (int)strtol(getenv("OTD_BENCH_CONNECTIONS"), NULL, 10);
		if(n_conns < 1 || n_conns > CONNECTIONS_MAX) {
			fprintf(stderr, "OTD_BENCH_CONNECTIONS must be 1 to %d\n", CONNECTIONS_MAX);
			return 2;
		}
	}
	if(sodium_init() < 0)
		return 1;
	char dir[] = "/tmp/otd-bench-XXXXXX";
	if(!mkdtemp(dir))
		return 1;
	char db[256];
	snprintf(db, sizeof(db), "%s/bench.db", dir);
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db);
	cfg.messages.record_only = true;
	cfg.booking.lead_minutes = 0;
	cfg.booking.holds_per_client = 100000;
	struct otd_error err;
	otd_error_clear(&err);
	int from, to;
	/* OTD_BENCH_ORG=FILE keeps the organisation for the next run of the
	 * same day and size (diagnosis only: building it takes minutes). */
	const char *org = getenv("OTD_BENCH_ORG");
	bool reuse = org && access(org, R_OK) == 0;
	if(reuse && copy_file(org, db) != 0) {
		fprintf(stderr, "bench_booking: cannot copy %s\n", org);
		return 1;
	}
	if(store_migrate(db, true, 5000, &from, &to, NULL, &err) != OTD_OK)
		goto fail;
	struct otd_app app;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK)
		goto fail;
	struct otd_principal cli;
	app_principal_cli(&cli);
	double t0 = now_s();
	int64_t now = otd_clock_now(app.clock);
	if(reuse) {
		printf("organisation: %zu visitors reused from %s\n", visitors, org);
		goto organised;
	}
	/* The gazetteer. */
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, "uprn,line1,postcode,latitude,longitude\n");
	double *alat = xcalloc(ADDRESSES, sizeof(double)), *alon = xcalloc(ADDRESSES, sizeof(double));
	for(size_t i = 0; i < ADDRESSES; i++) {
		point(&alat[i], &alon[i]);
		otd_buf_printf(&csv, "%zu,%zu Bench Road,BN%zu 1AA,%.6f,%.6f\n", 100000 + i, i + 1,
		               i % 99 + 1, alat[i], alon[i]);
	}
	struct otd_import_report rep;
	if(app_import_gazetteer(&app, &cli, "bench", csv.data, csv.len, &rep, &err) != OTD_OK)
		goto fail;
	otd_import_report_cleanup(&rep);
	otd_buf_cleanup(&csv);
	struct otd_visit_type t = {.code = "repair", .skill = "gas", .duration_median_min = 45,
	                           .duration_spread = 0.3, .window_min = 60};
	t.name = xstrdup("Repair");
	bool replayed;
	if(app_visit_type_create(&app, &cli, &t, NULL, &replayed, &err) != OTD_OK)
		goto fail;
	otd_visit_type_cleanup(&t);
	struct otd_local l;
	otd_tz_to_local(app.tz, now, &l);
	for(size_t i = 0; i < visitors; i++) {
		struct otd_visitor v = {0};
		v.name = xasprintf("Visitor %zu", i + 1);
		v.role_title = xstrdup("Engineer");
		v.phone = xstrdup("");
		point(&v.base_lat, &v.base_lon);
		v.n_skills = 1;
		v.skills = xcalloc(1, sizeof(char *));
		v.skills[0] = xstrdup("gas");
		v.n_shifts = 1;
		v.shifts = xcalloc(1, sizeof(*v.shifts));
		snprintf(v.shifts[0].start, sizeof(v.shifts[0].start), "%04d-%02d-%02dT08:00:00",
		         l.c.year, l.c.month, l.c.day);
		v.shifts[0].duration_min = 540;
		snprintf(v.shifts[0].rrule, sizeof(v.shifts[0].rrule), "FREQ=DAILY");
		if(app_visitor_prepare(&app, &v, &err) != OTD_OK ||
		   app_visitor_create(&app, &cli, &v, NULL, &replayed, &err) != OTD_OK)
			goto fail;
		otd_visitor_cleanup(&v);
	}
	struct plan_catalog *cat = NULL;
	void *pair[2] = {&app, &cat};
	if(store_read(app.store, cat_job, pair, &err) != OTD_OK)
		goto fail;
	struct fill_ctx fc = {.app = &app, .cat = cat, .alat = alat, .alon = alon, .now = now};
	if(store_write(app.store, fill_job, &fc, &err) != OTD_OK)
		goto fail;
	planner_catalog_release(app.planner, cat);
	double setup = now_s() - t0;
	if(org) { /* kept as built, before anything below books */
		app_close(&app);
		char tmp[300];
		snprintf(tmp, sizeof(tmp), "%s.tmp", org);
		if(copy_file(db, tmp) != 0 || rename(tmp, org) != 0)
			fprintf(stderr, "bench_booking: cannot keep the organisation in %s\n", org);
		if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK)
			goto fail;
	}
	printf("organisation: %zu visitors, %d addresses, %zu visits booked, mean fill %.0f%% of "
	       "working time (setup %.1f s)\n",
	       visitors, ADDRESSES, fc.booked, 100 * fc.utilisation / (double)(fc.days ? fc.days : 1),
	       setup);
	free(alat);
	free(alon);
organised:
	rng = 20261205; /* the same targets whether the organisation was built or reused */

	/* ---- in process ---- */
	struct otd_slot_query q = {.visit_type_id = 1};
	planner_local_date(app.planner, now + 86400, q.from);
	planner_local_date(app.planner, now + 14 * 86400, q.to);
	double *lat_ms = xcalloc(requests + 1, sizeof(double));
	size_t windows = 0;
	struct target *targets = xcalloc(requests + 1, sizeof(*targets));
	size_t n_targets = 0;
	for(int pass = only_bookings ? 1 : 0; pass < 2; pass++) { /* pass 0 warms the cache */
		for(size_t i = 0; i < requests; i++) {
			q.address_id = 1 + (int64_t)(uni() * ADDRESSES);
			struct otd_slot_result r;
			double s = now_s();
			if(app_slots(&app, &q, &r, &err) != OTD_OK)
				goto fail;
			lat_ms[i] = (now_s() - s) * 1000;
			for(size_t d = 0; d < r.n_days; d++)
				windows += pass ? r.days[d].n : 0;
			if(pass && r.n_days && n_targets < requests) {
				/* A window several visitors could take, as a customer
				 * spreading over the fortnight would most often find. */
				for(int tries = 0; tries < 8; tries++) {
					size_t d = (size_t)(uni() * (double)r.n_days);
					size_t w = (size_t)(uni() * (double)r.days[d].n);
					if(r.days[d].windows[w].visitors >= 2 || tries == 7) {
						targets[n_targets++] =
						    (struct target){q.address_id, r.days[d].windows[w].start};
						break;
					}
				}
			}
			otd_slot_result_cleanup(&r);
		}
	}
	qsort(lat_ms, requests, sizeof(double), cmp_double);
	double warm50 = pct(lat_ms, requests, 0.5), warm99 = pct(lat_ms, requests, 0.99),
	       warmmax = lat_ms[requests - 1];
	size_t after_n = only_bookings ? 0 : requests / 10 < 1000 ? requests / 10 : 1000;
	size_t after_done = 0;
	for(size_t i = 0; i < after_n && i < n_targets; i++) {
		struct otd_hold_request hr = {.address_id = targets[i].address,
		                              .visit_type_id = 1,
		                              .window_start = targets[i].start,
		                              .client_key = "bench"};
		struct otd_hold_result h;
		if(app_hold_create(&app, &cli, &hr, &h, &err) == OTD_OK) {
			struct otd_booking_request br = {.hold_token = h.token, .name = "After Booking",
			                                 .email = "after@example.com",
			                                 .consent_email = true};
			char email[64];
			snprintf(email, sizeof(email), "after%zu@example.com", i);
			br.email = email;
			struct otd_appointment_view v;
			app_book(&app, &cli, &br, &v, &err);
			otd_appointment_view_cleanup(&v);
		}
		q.address_id = targets[i].address;
		struct otd_slot_result r;
		double s = now_s();
		if(app_slots(&app, &q, &r, &err) != OTD_OK)
			goto fail;
		lat_ms[after_done++] = (now_s() - s) * 1000;
		otd_slot_result_cleanup(&r);
	}
	qsort(lat_ms, after_done, sizeof(double), cmp_double);
	printf("\n%-44s %9s %9s %9s %9s\n", "in process (app_slots, 14 days)", "requests", "p50 ms",
	       "p99 ms", "max ms");
	printf("%-44s %9zu %9.3f %9.3f %9.3f\n", "warm", requests, warm50, warm99, warmmax);
	printf("%-44s %9zu %9.3f %9.3f %9.3f\n", "just after a booking", after_done,
	       pct(lat_ms, after_done, 0.5), pct(lat_ms, after_done, 0.99),
	       after_done ? lat_ms[after_done - 1] : 0);
	printf("mean windows offered per request: %.1f\n", (double)windows / (double)requests);
	printf("{\"bench\":\"slots_in_process\",\"visitors\":%zu,\"requests\":%zu,\"warm_p50_ms\":%.3f,"
	       "\"warm_p99_ms\":%.3f,\"after_booking_p50_ms\":%.3f,\"after_booking_p99_ms\":%.3f}\n",
	       visitors, requests, warm50, warm99, pct(lat_ms, after_done, 0.5),
	       pct(lat_ms, after_done, 0.99));
	app_close(&app);

	/* ---- over HTTP ---- */
	char portfile[300], logfile[300];
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(logfile, sizeof(logfile), "%s/serve.log", dir);
	pid_t pid = fork();
	if(pid == 0) {
		setenv("ONTHEDOT_BOOKING_SLOTS_BURST", "1000000", 1);
		setenv("ONTHEDOT_BOOKING_SLOTS_PER_MINUTE", "1000000", 1);
		setenv("ONTHEDOT_BOOKING_HOLDS_PER_CLIENT", "100000", 1);
		setenv("ONTHEDOT_BOOKING_LEAD_MINUTES", "0", 1);
		setenv("ONTHEDOT_BOOKING_SMS_CLIENT_PER_HOUR", "1000000", 1);
		setenv("ONTHEDOT_BOOKING_SMS_CLIENT_BURST", "1000000", 1);
		setenv("ONTHEDOT_BOOKING_SMS_NUMBER_PER_DAY", "1000000", 1);
		setenv("ONTHEDOT_BOOKING_SMS_PREFIX_PER_HOUR", "1000000", 1);
		setenv("ONTHEDOT_MESSAGES_RECORD_ONLY", "true", 1);
		setenv("ONTHEDOT_LOG_LEVEL", "warn", 1);
		if(!freopen(logfile, "w", stderr))
			_exit(1);
		execl(bin, bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--port-file", portfile,
		      (char *)NULL);
		_exit(127);
	}
	unsigned port = 0;
	for(int i = 0; i < 400 && !port; i++) {
		FILE *f = fopen(portfile, "r");
		if(f) {
			if(fscanf(f, "%u", &port) != 1)
				port = 0;
			fclose(f);
		}
		if(!port)
			usleep(25000);
	}
	if(!port) {
		fprintf(stderr, "the server did not start (see %s)\n", logfile);
		kill(pid, SIGTERM);
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn conns[CONNECTIONS_MAX];
	memset(conns, 0, sizeof(conns));
	for(int i = 0; i < n_conns; i++) {
		if(!httpc_connect(&conns[i].h, port)) {
			fprintf(stderr, "bench_booking: cannot connect to the server\n");
			kill(pid, SIGTERM);
			return 1;
		}
	}
	/* The first requests of a fresh server build every visitor-day; like
	 * the in-process figures these are warm: WARMUP requests first, not
	 * measured. */
	size_t warmup = requests / 10;
	size_t issued = 0, done = only_bookings ? requests + warmup : 0, non200 = 0, lost = 0;
	char path[512];
	double start_all = now_s();
	for(int i = 0; i < n_conns && !only_bookings; i++) {
		snprintf(path, sizeof(path),
		         "/api/v1/slots?address=%lld&visit_type=1&from=%s&to=%s",
		         (long long)(1 + uni() * ADDRESSES), q.from, q.to);
		httpc_request(&conns[i].h, port, "GET", path, NULL, NULL, 0);
		httpc_arm(&conns[i].h, ep, true, &conns[i]);
		issued++;
	}
	struct epoll_event evs[CONNECTIONS_MAX];
	while(done < requests + warmup) {
		int n = epoll_wait(ep, evs, CONNECTIONS_MAX, 30000);
		if(n <= 0) {
			fprintf(stderr, "bench_booking: the server stopped answering\n");
			break;
		}
		for(int k = 0; k < n && done < requests + warmup; k++) {
			struct conn *c = evs[k].data.ptr;
			const char *body;
			long code = httpc_on_events(&c->h, ep, evs[k].events, &body);
			if(code == 0)
				continue;
			if(code < 0) {
				lost++;
				done = requests + warmup; /* a connection lost: stop, reported */
				break;
			}
			if(code != 200)
				non200++;
			if(done == warmup)
				start_all = now_s();
			if(done >= warmup)
				lat_ms[(done - warmup) % (requests + 1)] =
				    (now_s() - c->h.started) * 1000;
			done++;
			if(issued < requests + warmup) {
				snprintf(path, sizeof(path),
				         "/api/v1/slots?address=%lld&visit_type=1&from=%s&to=%s",
				         (long long)(1 + uni() * ADDRESSES), q.from, q.to);
				httpc_request(&c->h, port, "GET", path, NULL, NULL, 0);
				httpc_arm(&c->h, ep, false, c);
				issued++;
			}
		}
	}
	double http_secs = now_s() - start_all;
	qsort(lat_ms, requests, sizeof(double), cmp_double);
	if(!only_bookings) {
		printf("\nHTTP, %d connections%26s %9s %9s %9s %9s\n", n_conns, "", "requests",
		       "p50 ms", "p99 ms", "req/s");
		printf("%-44s %9zu %9.3f %9.3f %9.0f\n", "GET /api/v1/slots (14 days)", requests,
		       pct(lat_ms, requests, 0.5), pct(lat_ms, requests, 0.99),
		       (double)requests / http_secs);
		printf(
		    "{\"bench\":\"slots_http\",\"visitors\":%zu,\"requests\":%zu,\"p50_ms\":%.3f,"
		    "\"p99_ms\":%.3f,\"rps\":%.0f,\"non_200\":%zu,\"lost\":%zu}\n",
		    visitors, requests, pct(lat_ms, requests, 0.5), pct(lat_ms, requests, 0.99),
		    (double)requests / http_secs, non200, lost);
	}

	/* Bookings: hold + confirm at offered windows, for SECONDS. */
	struct writer_counters w0;
	writer_counters(port, &w0);
	size_t confirmed = 0, conflicts = 0, failures = 0, attempts = 0, next_target = 0;
	size_t lat_cap = 1 << 20, n_lat = 0;
	double *blat = xcalloc(lat_cap, sizeof(double));
	size_t customers = 0;
	double bstart = now_s();
	int active = 0;
	for(int i = 0; i < n_conns && !lost; i++) {
		struct conn *c = &conns[i];
		hold_request(c, port, &targets[next_target++ % n_targets]);
		httpc_arm(&c->h, ep, only_bookings, c); /* added to ep by the slot queries */
		active++;
	}
	while(active > 0) {
		int n = epoll_wait(ep, evs, CONNECTIONS_MAX, 30000);
		if(n <= 0) {
			fprintf(stderr, "bench_booking: the server stopped answering\n");
			failures++;
			break;
		}
		for(int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			const char *reply = "";
			long code = httpc_on_events(&c->h, ep, evs[k].events, &reply);
			if(code == 0)
				continue;
			bool next_booking = true;
			if(code < 0) {
				lost++;
				failures++;
				httpc_close(&c->h, ep);
				active--;
				continue;
			}
			if(c->stage == 0 && code == 201) {
				json_t *j = json_loads(reply, 0, NULL);
				const char *hold = json_string_value(json_object_get(j, "hold"));
				char body[300], headers[80];
				customers++; /* every booking a different customer */
				snprintf(body, sizeof(body),
				         "{\"hold\":\"%s\",\"name\":\"HTTP "
				         "Bench\",\"email\":\"b%zu@example.com\","
				         "\"consent\":{\"sms\":false,\"email\":true}}",
				         hold ? hold : "", customers);
				json_decref(j);
				snprintf(headers, sizeof(headers),
				         "Content-Type: application/json\r\nIdempotency-Key: "
				         "bench-%zu\r\n",
				         customers);
				httpc_request(&c->h, port, "POST", "/api/v1/appointments", headers,
				              body, strlen(body));
				c->stage = 1;
				next_booking = false;
			} else {
				attempts++;
				if(c->stage == 1 && code == 201) {
					confirmed++;
					if(n_lat < lat_cap)
						blat[n_lat++] =
						    (now_s() - c->booking_started) * 1000;
				} else if(code == 409) {
					if(conflicts < 3 && getenv("OTD_BENCH_DEBUG"))
						fprintf(stderr, "409 at stage %d: %.300s\n",
						        c->stage, reply);
					conflicts++;
				} else {
					failures++;
				}
			}
			if(next_booking) {
				if(now_s() - bstart >= seconds) {
					httpc_close(&c->h, ep);
					active--;
					continue;
				}
				hold_request(c, port, &targets[next_target++ % n_targets]);
			}
			httpc_arm(&c->h, ep, false, c);
		}
	}
	double bsecs = now_s() - bstart;
	qsort(blat, n_lat, sizeof(double), cmp_double);
	printf("\nHTTP bookings, %d connections%17s %9s %9s %9s %9s\n", n_conns, "", "attempts",
	       "ok/s", "409 %", "p99 ms");
	printf("%-44s %9zu %9.0f %9.1f %9.2f\n", "hold + confirm (each answer synced)", attempts,
	       (double)confirmed / bsecs,
	       100.0 * (double)conflicts / (double)(attempts ? attempts : 1),
	       pct(blat, n_lat, 0.99));
	printf("{\"bench\":\"bookings_http\",\"visitors\":%zu,\"seconds\":%.1f,\"confirmed\":%zu,"
	       "\"confirmed_per_s\":%.0f,\"conflicts\":%zu,\"failures\":%zu,\"p50_ms\":%.2f,"
	       "\"p99_ms\":%.2f}\n",
	       visitors, bsecs, confirmed, (double)confirmed / bsecs, conflicts, failures,
	       pct(blat, n_lat, 0.5), pct(blat, n_lat, 0.99));
	/* What the writer did during the bookings, from /metrics. */
	{
		struct writer_counters w1;
		writer_counters(port, &w1);
		double jobs = w1.jobs - w0.jobs, commits = w1.commits - w0.commits;
		double pages = w1.pages - w0.pages, busy = w1.busy - w0.busy;
		double in_commit = w1.commit - w0.commit;
		double per = confirmed ? (double)confirmed : 1;
		printf("writer: %.0f jobs in %.0f commits (%.1f a commit), %.0f pages written "
		       "(%.1f a confirmed booking)\n",
		       jobs, commits, commits ? jobs / commits : 0, pages, pages / per);
		printf("writer busy %.0f%% of the time: %.3f ms a confirmed booking, of which "
		       "%.3f ms in COMMIT\n",
		       100 * busy / bsecs, 1000 * busy / per, 1000 * in_commit / per);
		double syncs = w1.syncs - w0.syncs, sync = w1.sync - w0.sync;
		printf("syncer: %.0f syncs of the log (%.1f commits a sync), busy %.0f%% of the "
		       "time, %.3f ms a sync\n",
		       syncs, syncs ? commits / syncs : 0, 100 * sync / bsecs,
		       syncs ? 1000 * sync / syncs : 0);
	}
	for(int i = 0; i < n_conns; i++)
		httpc_close(&conns[i].h, ep);
	close(ep);
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	free(blat);
	free(lat_ms);
	free(targets);
	otd_config_cleanup(&cfg);
	tzload_shutdown();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if(system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return failures || lost ? 1 : 0;
fail:
	fprintf(stderr, "bench_booking: %s\n", err.message);
	return 1;
}
