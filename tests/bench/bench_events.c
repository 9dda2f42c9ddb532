/* Benchmark: visitors' events over HTTP against the real binary (issue 4's
 * goals: p99 from an event POST to its stored risk state at most 5 ms;
 * at least 5,000 single-event POSTs a second from 200 visitor sessions,
 * 90% positions and 10% status taps, with the ticker running).
 *
 *   bench_events ONTHEDOT_BINARY [VISITORS [TAPS [SECONDS [CONNECTIONS]]]]
 *
 *   ONTHEDOT_BINARY  the release binary (build/release/onthedot)
 *   VISITORS         visitors, each with a visitor user and session (default 200)
 *   TAPS             status events of the latency run (default 1000)
 *   SECONDS          length of the throughput run (default 10)
 *   CONNECTIONS      concurrent connections of the throughput run (default 64)
 *
 * Setup, in process (not measured): a throw-away database in a temporary
 * folder, migrated; a fixed synthetic organisation (seeded): VISITORS
 * visitors with a base uniform in a 40 x 40 km area, working 08:00-17:00,
 * each with 8 appointments today at addresses within 6 km of the base
 * (all in the area), one visit type (median 45 min, spread 0.3), windows 2
 * or 3 hours wide promised around a plan walked at mean travel and
 * durations; a visitor user per visitor (app_user_add, argon2id).
 *
 * The server runs on a virtual clock held at 08:05 London on 2 June 2026
 * (a Tuesday), just after the shifts start, so that the figures do not
 * depend on the hour the bench is run at (on the real clock, outside
 * working hours every window has passed); every event's "at" is that
 * instant. Every visitor signs in (POST /api/v1/auth/login, 4 connections
 * at a time: argon2id), before anything is measured; the session cookie
 * and CSRF token go in prepared headers.
 *
 * (a) Latency: the server started with the ticker idle
 * (tracking.ticker_seconds 3600), one connection, nothing else running:
 * TAPS single status events, one at a time: first every visitor's
 * start_travel to the first appointment (the first word of the day), then
 * "late N" taps (N varying, each re-projects the route). The time is the
 * POST's round trip: the server applies the event, re-projects the day and
 * writes the new risk states in the same write transaction and answers
 * only after its COMMIT, so the answer means the risk state is stored.
 * The bench checks afterwards, on its own read-only connection, that every
 * event is in visitor_events and that the appointments were projected.
 *
 * (b) Throughput: the server restarted (the sessions live in the
 * database) with tracking.ticker_seconds 5 (the default is 30), so the
 * ticker re-projects every active route twice in a 10-second run, and a
 * visitor's positions re-project their day at most every 5 seconds; every visitor is travelling
 * (from (a)), so positions are kept. CONNECTIONS keep-alive connections
 * (a plain HTTP/1.1 client on epoll, lighter than libcurl so that the
 * load generator takes less of the cores it shares with the server) send
 * single-event POSTs for SECONDS seconds, the
 * requests going round the sessions in turn: 9 in 10 positions, 1 in 10
 * "late N" taps; client event ids are unique; bodies are built before the
 * clock starts. It reports POSTs per second, the mix, errors by HTTP
 * status, p50/p99 round trip under load, the CPU time the server and the
 * bench used (both share this machine's cores), and what the writer did
 * (from /metrics).
 *
 * Prints a table and JSON lines. Run it from the release tree. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/accounts.h"
#include "app/app.h"
#include "app/audit.h"
#include "app/catalog.h"
#include "app/imports.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "httpc.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/reference.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"
#include "store/booking.h"
#include "store/store.h"

#define CENTRE_LAT 52.2
#define CENTRE_LON (-1.5)
#define AREA_KM 40.0
#define RADIUS_KM 6.0
#define APPOINTMENTS 8
#define MIN 60
#define HOUR 3600
#define VIRTUAL_START "2026-06-02T07:05:00Z" /* 08:05 BST */
#define PASSWORD "bench-password-0123"
#define LOGIN_CONNECTIONS 4
#define TICKER_IDLE "3600"
#define TICKER_LOAD "5" /* the default is 30: passes six times as often */
#define BODY_MAX 256
#define LATE_EVERY 10 /* one request in LATE_EVERY is a "late N" tap */

static uint64_t rng = 20260602;

/* splitmix64: the same organisation on every run. */
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-quantile of sorted v[0..n). */
static double pct(const double *v, size_t n, double p)
{
	if(!n)
		return 0;
	size_t i = (size_t)ceil(p * (double)n);
	i = i ? i - 1 : 0;
	return v[i < n ? i : n - 1];
}

static const double km_lat = 1 / 111.195;

static double km_lon(void)
{
	return 1 / (111.195 * cos(CENTRE_LAT * M_PI / 180));
}

static int64_t floor_to(int64_t t, int64_t step)
{
	return t - ((t % step) + step) % step;
}

/* ---- the organisation (setup) ---------------------------------------- */

struct vday {
	int64_t visitor_id;
	double base_lat, base_lon;
	double lat[APPOINTMENTS], lon[APPOINTMENTS];
	int64_t a[APPOINTMENTS], b[APPOINTMENTS];
	char ref[APPOINTMENTS][OTD_REFERENCE_LEN + 1];
	char cookie[128];
	char csrf[128];
	struct curl_slist *hdr; /* Content-Type, Cookie, X-CSRF-Token */
};

struct org {
	struct otd_app *app;
	struct vday *days;
	size_t n;
	int64_t visit_type_id;
	char date[11];
	int64_t now;
};

static void place_near(double base_lat, double base_lon, double *lat, double *lon)
{
	double half = AREA_KM / 2;
	double dy = (base_lat - CENTRE_LAT) / km_lat + (uni() * 2 - 1) * RADIUS_KM;
	double dx = (base_lon - CENTRE_LON) / km_lon() + (uni() * 2 - 1) * RADIUS_KM;
	dy = fmax(-half, fmin(half, dy));
	dx = fmax(-half, fmin(half, dx));
	*lat = CENTRE_LAT + dy * km_lat;
	*lon = CENTRE_LON + dx * km_lon();
}

/* Walks the plan from 08:00 at mean travel and durations: windows are
 * promised up to an hour before the planned arrival. */
static void plan_day(struct vday *d, const struct otd_app *app, int64_t shift_start)
{
	const struct otd_travel_model *tm = planner_plan(app->planner)->travel;
	double t = (double)shift_start, lat = d->base_lat, lon = d->base_lon;
	bool lunch = false;
	for(size_t k = 0; k < APPOINTMENTS; k++) {
		double leg, var;
		otd_travel_leg(tm, app->tz, otd_distance_km(lat, lon, d->lat[k], d->lon[k]),
		               (int64_t)t, (int64_t)t, &leg, &var);
		t += leg;
		d->a[k] = floor_to((int64_t)(t - uni() * 60 * MIN), 30 * MIN);
		d->b[k] = d->a[k] + (uni() < 0.5 ? 2 : 3) * HOUR;
		t = fmax(t, (double)d->a[k]) + 45 * MIN * exp(0.3 * 0.3 / 2);
		if(!lunch && t >= (double)(shift_start + 4 * HOUR)) {
			t += 30 * MIN;
			lunch = true;
		}
		lat = d->lat[k];
		lon = d->lon[k];
	}
}

static enum otd_status fill_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct org *o = arg;
	size_t seq = 0;
	for(size_t vi = 0; vi < o->n; vi++) {
		struct vday *d = &o->days[vi];
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

/* Builds the organisation and the visitor users in db. */
static bool org_build(struct org *o, struct otd_config *cfg, size_t visitors, double *users_s,
                      struct otd_error *err)
{
	struct otd_app *app = o->app;
	if(app_open(app, cfg, OTD_APP_CLI, err) != OTD_OK)
		return false;
	bool ok = false;
	struct otd_principal cli;
	app_principal_cli(&cli);
	o->n = visitors;
	o->days = xcalloc(visitors, sizeof(*o->days));
	o->now = otd_clock_now(app->clock);
	struct otd_local l;
	otd_tz_to_local(app->tz, o->now, &l);
	otd_date_format(l.c.year, l.c.month, l.c.day, o->date);
	struct otd_civil c8 = {l.c.year, l.c.month, l.c.day, 8, 0, 0};
	int64_t shift_start;
	otd_tz_from_local(app->tz, &c8, &shift_start, NULL);

	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, "uprn,line1,postcode,latitude,longitude\n");
	size_t seq = 0;
	for(size_t i = 0; i < visitors; i++) {
		struct vday *d = &o->days[i];
		d->base_lat = CENTRE_LAT + (uni() - 0.5) * AREA_KM * km_lat;
		d->base_lon = CENTRE_LON + (uni() - 0.5) * AREA_KM * km_lon();
		for(size_t k = 0; k < APPOINTMENTS; k++, seq++) {
			place_near(d->base_lat, d->base_lon, &d->lat[k], &d->lon[k]);
			otd_buf_printf(&csv, "%zu,%zu Event Road,EV%zu 1AA,%.6f,%.6f\n", 100000 + seq,
			               seq + 1, seq % 99 + 1, d->lat[k], d->lon[k]);
		}
	}
	struct otd_import_report rep;
	enum otd_status st = app_import_gazetteer(app, &cli, "bench", csv.data, csv.len, &rep, err);
	otd_buf_cleanup(&csv);
	if(st != OTD_OK)
		goto out;
	otd_import_report_cleanup(&rep);
	struct otd_visit_type vt = {.code = "repair", .skill = "gas", .duration_median_min = 45,
	                            .duration_spread = 0.3, .window_min = 120};
	vt.name = xstrdup("Repair");
	bool replayed;
	st = app_visit_type_create(app, &cli, &vt, NULL, &replayed, err);
	o->visit_type_id = vt.id ? vt.id : 1;
	otd_visit_type_cleanup(&vt);
	if(st != OTD_OK)
		goto out;
	for(size_t i = 0; i < visitors; i++) {
		struct otd_visitor v = {0};
		v.name = xasprintf("Visitor %zu", i + 1);
		v.role_title = xstrdup("Engineer");
		v.phone = xstrdup("");
		v.base_lat = o->days[i].base_lat;
		v.base_lon = o->days[i].base_lon;
		v.n_skills = 1;
		v.skills = xcalloc(1, sizeof(char *));
		v.skills[0] = xstrdup("gas");
		v.n_shifts = 1;
		v.shifts = xcalloc(1, sizeof(*v.shifts));
		snprintf(v.shifts[0].start, sizeof(v.shifts[0].start), "%sT08:00:00", o->date);
		v.shifts[0].duration_min = 540;
		snprintf(v.shifts[0].rrule, sizeof(v.shifts[0].rrule), "FREQ=DAILY");
		if(app_visitor_prepare(app, &v, err) != OTD_OK ||
		   app_visitor_create(app, &cli, &v, NULL, &replayed, err) != OTD_OK) {
			otd_visitor_cleanup(&v);
			goto out;
		}
		o->days[i].visitor_id = v.id ? v.id : (int64_t)i + 1;
		otd_visitor_cleanup(&v);
		plan_day(&o->days[i], app, shift_start);
	}
	if(store_write(app->store, fill_job, o, err) != OTD_OK)
		goto out;
	double t = now_s();
	for(size_t i = 0; i < visitors; i++) {
		char login[32], name[32];
		snprintf(login, sizeof(login), "visitor%zu", i + 1);
		snprintf(name, sizeof(name), "Visitor %zu", i + 1);
		int64_t uid;
		if(app_user_add(app, &cli, login, name, OTD_ROLE_VISITOR, o->days[i].visitor_id,
		                PASSWORD, &uid, err) != OTD_OK)
			goto out;
	}
	*users_s = now_s() - t;
	ok = true;
out:
	app_close(app);
	return ok;
}

/* ---- the server ------------------------------------------------------- */

struct server {
	pid_t pid;
	unsigned port;
	char base[64];
};

static bool server_start(struct server *s, const char *bin, const char *dir, const char *db,
                         const char *ticker_seconds)
{
	char portfile[300], logfile[300];
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(logfile, sizeof(logfile), "%s/serve.log", dir);
	unlink(portfile);
	s->port = 0;
	s->pid = fork();
	if(s->pid < 0)
		return false;
	if(s->pid == 0) {
		setenv("ONTHEDOT_TRACKING_TICKER_SECONDS", ticker_seconds, 1);
		setenv("ONTHEDOT_LIMITS_LOGIN_IP_BURST", "100000", 1);
		setenv("ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE", "100000", 1);
		setenv("ONTHEDOT_LIMITS_LOGIN_ACCOUNT_BURST", "100000", 1);
		setenv("ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE", "100000", 1);
		setenv("ONTHEDOT_HTTP_PER_IP_CONNECTIONS", "1000", 1);
		setenv("ONTHEDOT_MESSAGES_RECORD_ONLY", "true", 1);
		setenv("ONTHEDOT_LOG_LEVEL", "warn", 1);
		if(!freopen(logfile, "a", stderr))
			_exit(1);
		execl(bin, bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--port-file", portfile,
		      "--virtual-clock", "--virtual-start", VIRTUAL_START, (char *)NULL);
		_exit(127);
	}
	for(int i = 0; i < 400 && !s->port; i++) {
		FILE *f = fopen(portfile, "r");
		if(f) {
			if(fscanf(f, "%u", &s->port) != 1)
				s->port = 0;
			fclose(f);
		}
		if(!s->port)
			usleep(25000);
	}
	if(!s->port) {
		fprintf(stderr, "bench_events: the server did not start (see %s)\n", logfile);
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		return false;
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
	return true;
}

static int server_stop(struct server *s)
{
	int status = 0;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	return status;
}

/* CPU seconds (user + system) process pid has used, from /proc. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if(!f)
		return NAN;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long ut = 0, st = 0;
	if(!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return NAN;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- HTTP --------------------------------------------------------------- */

#define REPLY_MAX 2048

struct conn {
	CURL *h;
	char reply[REPLY_MAX];
	size_t reply_len;
	char cookie[128]; /* logins: the otd_session cookie from Set-Cookie */
	double started;
	size_t visitor; /* logins and taps: whose */
	bool late;      /* throughput: a "late" tap */
	char *body;     /* throughput: built on the fly when the prepared ones run out */
};

static size_t on_data(char *p, size_t s, size_t n, void *u)
{
	struct conn *c = u;
	size_t k = s * n, room = REPLY_MAX - 1 - c->reply_len;
	memcpy(c->reply + c->reply_len, p, k < room ? k : room);
	c->reply_len += k < room ? k : room;
	c->reply[c->reply_len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
	struct conn *c = u;
	size_t k = s * n;
	static const char want[] = "set-cookie: otd_session=";
	if(k > sizeof(want) && strncasecmp(p, want, sizeof(want) - 1) == 0) {
		const char *v = p + sizeof(want) - 1;
		size_t len = strcspn(v, ";\r\n");
		if(len < sizeof(c->cookie)) {
			memcpy(c->cookie, v, len);
			c->cookie[len] = '\0';
		}
	}
	return k;
}

static void conn_init(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
}

static void conn_post(struct conn *c, const char *url, struct curl_slist *hdr, const char *body,
                      size_t len)
{
	c->reply_len = 0;
	c->reply[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)len);
	c->started = now_s();
}

static void conn_cleanup(struct conn *c)
{
	curl_easy_cleanup(c->h);
	free(c->body);
}

/* Signs every visitor in, LOGIN_CONNECTIONS at a time. */
static bool login_all(struct org *o, const char *base, double *secs)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/api/v1/auth/login", base);
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	CURLM *multi = curl_multi_init();
	struct conn conns[LOGIN_CONNECTIONS];
	char bodies[LOGIN_CONNECTIONS][128];
	size_t next = 0, done = 0, failed = 0;
	double t0 = now_s();
	for(int i = 0; i < LOGIN_CONNECTIONS; i++)
		conn_init(&conns[i]);
	for(int i = 0; i < LOGIN_CONNECTIONS && next < o->n; i++, next++) {
		conns[i].visitor = next;
		int len = snprintf(bodies[i], sizeof(bodies[i]),
		                   "{\"login\":\"visitor%zu\",\"password\":\"%s\"}", next + 1, PASSWORD);
		conn_post(&conns[i], url, json, bodies[i], (size_t)len);
		curl_multi_add_handle(multi, conns[i].h);
	}
	while(done < o->n) {
		int running;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left, seen = 0;
		while((m = curl_multi_info_read(multi, &left))) {
			if(m->msg != CURLMSG_DONE)
				continue;
			seen++;
			struct conn *c;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			long code = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(multi, c->h);
			done++;
			struct vday *d = &o->days[c->visitor];
			json_t *j = code == 200 ? json_loadb(c->reply, c->reply_len, 0, NULL) : NULL;
			const char *csrf = json_string_value(json_object_get(j, "csrf_token"));
			if(!csrf || !c->cookie[0]) {
				if(failed++ < 3)
					fprintf(stderr, "bench_events: login of visitor%zu: %ld %.300s\n",
					        c->visitor + 1, code, c->reply);
			} else {
				char h[200];
				snprintf(d->cookie, sizeof(d->cookie), "%s", c->cookie);
				snprintf(d->csrf, sizeof(d->csrf), "%s", csrf);
				d->hdr = curl_slist_append(NULL, "Content-Type: application/json");
				snprintf(h, sizeof(h), "Cookie: otd_session=%s", d->cookie);
				d->hdr = curl_slist_append(d->hdr, h);
				snprintf(h, sizeof(h), "X-CSRF-Token: %s", d->csrf);
				d->hdr = curl_slist_append(d->hdr, h);
			}
			json_decref(j);
			if(next < o->n) {
				int i = (int)(c - conns);
				c->visitor = next;
				c->cookie[0] = '\0';
				int len = snprintf(bodies[i], sizeof(bodies[i]),
				                   "{\"login\":\"visitor%zu\",\"password\":\"%s\"}", next + 1,
				                   PASSWORD);
				next++;
				conn_post(c, url, json, bodies[i], (size_t)len);
				curl_multi_add_handle(multi, c->h);
			}
		}
		if(!seen)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	*secs = now_s() - t0;
	for(int i = 0; i < LOGIN_CONNECTIONS; i++)
		conn_cleanup(&conns[i]);
	curl_multi_cleanup(multi);
	curl_slist_free_all(json);
	return failed == 0;
}

/* ---- (a) latency ---------------------------------------------------------- */

struct latency {
	size_t n_start, n_late, non200;
	double *start_ms, *late_ms, *all_ms;
};

static bool run_latency(struct org *o, const char *base, const char *at, size_t taps,
                        struct latency *r)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/api/v1/visitor/events", base);
	memset(r, 0, sizeof(*r));
	r->start_ms = xcalloc(taps + 1, sizeof(double));
	r->late_ms = xcalloc(taps + 1, sizeof(double));
	r->all_ms = xcalloc(taps + 1, sizeof(double));
	struct conn c;
	conn_init(&c);
	char body[BODY_MAX];
	size_t n_all = 0;
	for(size_t i = 0; i < taps; i++) {
		size_t v = i % o->n;
		struct vday *d = &o->days[v];
		bool start = i < o->n;
		int len = start ? snprintf(body, sizeof(body),
		                           "{\"client_event_id\":\"lat-%zu\",\"type\":\"start_travel\","
		                           "\"at\":\"%s\",\"appointment\":\"%s\"}",
		                           i, at, d->ref[0])
		                : snprintf(body, sizeof(body),
		                           "{\"client_event_id\":\"lat-%zu\",\"type\":\"late\","
		                           "\"at\":\"%s\",\"minutes\":%zu}",
		                           i, at, 5 + (i * 7) % 56);
		conn_post(&c, url, d->hdr, body, (size_t)len);
		CURLcode cc = curl_easy_perform(c.h);
		double ms = (now_s() - c.started) * 1e3;
		long code = 0;
		curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
		if(cc != CURLE_OK || code != 200) {
			if(r->non200++ < 3)
				fprintf(stderr, "bench_events: tap %zu: %s %ld %.300s\n", i,
				        curl_easy_strerror(cc), code, c.reply);
			continue;
		}
		r->all_ms[n_all++] = ms;
		if(start)
			r->start_ms[r->n_start++] = ms;
		else
			r->late_ms[r->n_late++] = ms;
	}
	conn_cleanup(&c);
	qsort(r->start_ms, r->n_start, sizeof(double), cmp_double);
	qsort(r->late_ms, r->n_late, sizeof(double), cmp_double);
	qsort(r->all_ms, n_all, sizeof(double), cmp_double);
	return r->non200 == 0;
}

/* Checks on a read-only connection of our own that the taps are stored:
 * events kept, and today's appointments projected. */
static void check_stored(const char *db, const char *date, long long *events,
                         long long *projected, long long *positions)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	*events = *projected = *positions = -1;
	if(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(h, 5000);
	if(sqlite3_prepare_v2(h, "SELECT count(*) FROM visitor_events", -1, &q, NULL) == SQLITE_OK &&
	   sqlite3_step(q) == SQLITE_ROW)
		*events = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if(sqlite3_prepare_v2(h, "SELECT count(*) FROM visitor_positions", -1, &q, NULL) ==
	       SQLITE_OK &&
	   sqlite3_step(q) == SQLITE_ROW)
		*positions = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if(sqlite3_prepare_v2(h,
	                      "SELECT count(*) FROM appointments WHERE local_date = ?1 AND "
	                      "expected_arrival > 0",
	                      -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
		if(sqlite3_step(q) == SQLITE_ROW)
			*projected = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
out:
	sqlite3_close(h);
}

/* ---- (b) throughput ---------------------------------------------------------- */

struct load {
	size_t sent, done, positions, lates, applied, ignored, other;
	size_t codes[600];
	size_t transport; /* no HTTP answer */
	double secs, server_cpu, client_cpu;
	size_t n_lat;
	double *lat_ms;
};

/* Request r's body: its visitor is r % n; positions near the visitor's
 * route to the first appointment, taps "late N". */
static int load_body(const struct org *o, size_t r, const char *at, char *out, size_t size)
{
	const struct vday *d = &o->days[r % o->n];
	if(r % LATE_EVERY == LATE_EVERY - 1)
		return snprintf(out, size,
		                "{\"client_event_id\":\"load-%zu\",\"type\":\"late\",\"at\":\"%s\","
		                "\"minutes\":%zu}",
		                r, at, 1 + (r / LATE_EVERY) % 60);
	double f = (double)(r / o->n % 100) / 100;
	return snprintf(out, size,
	                "{\"client_event_id\":\"load-%zu\",\"type\":\"position\",\"at\":\"%s\","
	                "\"lat\":%.6f,\"lon\":%.6f,\"accuracy\":%zu}",
	                r, at, d->base_lat + f * (d->lat[0] - d->base_lat),
	                d->base_lon + f * (d->lon[0] - d->base_lon), 5 + r % 20);
}

/* One keep-alive connection of the load: a plain HTTP/1.1 client on a
 * non-blocking socket (libcurl's multi interface cost this bench most of a
 * core at 5,000 requests a second, taken from the server it measures). */
struct lconn {
	struct httpc h;
	bool late;
};

/* Builds request q into c (headers from the visitor's prepared list). */
static void lconn_request(struct lconn *c, const struct org *o, unsigned port, size_t q,
                          const char *body, size_t len)
{
	struct otd_buf hdr;
	otd_buf_init(&hdr, 256);
	for(const struct curl_slist *h = o->days[q % o->n].hdr; h; h = h->next)
		otd_buf_printf(&hdr, "%s\r\n", h->data);
	char *headers = otd_buf_steal(&hdr);
	httpc_request(&c->h, port, "POST", "/api/v1/visitor/events", headers, body, len);
	free(headers);
	c->late = q % LATE_EVERY == LATE_EVERY - 1;
}

/* The bodies of the load: prepared before the clock starts, then built on
 * the fly into spare once they run out. */
struct load_bodies {
	const struct org *o;
	const char *at;
	char *bodies;
	unsigned short *lens;
	size_t prepared;
	char *spare;
};

/* Puts request q (the q-th of the run) on connection c. */
static void lconn_next(struct lconn *c, const struct load_bodies *b, unsigned port, size_t q)
{
	if(q < b->prepared) {
		lconn_request(c, b->o, port, q, b->bodies + q * BODY_MAX, b->lens[q]);
	} else {
		size_t len = (size_t)load_body(b->o, q, b->at, b->spare, BODY_MAX);
		lconn_request(c, b->o, port, q, b->spare, len);
	}
}

static void run_load(struct org *o, const struct server *srv, const char *at, double seconds,
                     int connections, struct load *r)
{
	memset(r, 0, sizeof(*r));
	/* Bodies for up to 20,000 POSTs a second, one block. */
	size_t prepared = (size_t)(seconds * 20000) + 1;
	char *bodies = xmalloc(prepared * BODY_MAX);
	unsigned short *lens = xmalloc(prepared * sizeof(*lens));
	for(size_t i = 0; i < prepared; i++)
		lens[i] = (unsigned short)load_body(o, i, at, bodies + i * BODY_MAX, BODY_MAX);
	size_t lat_cap = prepared * 2;
	r->lat_ms = xmalloc(lat_cap * sizeof(double));
	char *spare = xmalloc(BODY_MAX);
	const struct load_bodies lb = {
	    .o = o, .at = at, .bodies = bodies, .lens = lens, .prepared = prepared, .spare = spare};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct lconn *conns = xcalloc((size_t)connections, sizeof(*conns));
	double cpu0 = proc_cpu_s(srv->pid), self0 = self_cpu_s();
	double t0 = now_s();
	int active = 0;
	for(int i = 0; i < connections; i++) {
		struct lconn *c = &conns[i];
		if(!httpc_connect(&c->h, srv->port)) {
			r->transport++;
			continue;
		}
		lconn_next(c, &lb, srv->port, r->sent++);
		httpc_arm(&c->h, ep, true, c);
		active++;
	}
	struct epoll_event evs[128];
	while(active > 0) {
		int n = epoll_wait(ep, evs, 128, 1000);
		if(n < 0 && errno != EINTR)
			break;
		if(n == 0 && now_s() - t0 > seconds + 30)
			break; /* the server stopped answering */
		double now = now_s();
		for(int k = 0; k < n; k++) {
			struct lconn *c = evs[k].data.ptr;
			const char *reply = NULL;
			long code = httpc_on_events(&c->h, ep, evs[k].events, &reply);
			bool dead = code < 0;
			if(dead) {
				/* Counted, and the connection opened again while the run
				 * lasts, so a closed connection does not thin the load. */
				r->done++;
				r->transport++;
				httpc_close(&c->h, ep);
				if(now - t0 >= seconds || !httpc_connect(&c->h, srv->port)) {
					active--;
					continue;
				}
				lconn_next(c, &lb, srv->port, r->sent++);
				httpc_arm(&c->h, ep, true, c);
				continue;
			}
			if(code == 0)
				continue;
			r->done++;
			if(code >= 600) {
				r->transport++;
			} else {
				r->codes[code]++;
				if(code == 200) {
					if(r->n_lat < lat_cap)
						r->lat_ms[r->n_lat++] = (now - c->h.started) * 1e3;
					if(c->late)
						r->lates++;
					else
						r->positions++;
					if(strstr(reply, "\"applied\":1"))
						r->applied++;
					else if(strstr(reply, "\"ignored\":1"))
						r->ignored++;
					else
						r->other++;
				} else if(r->codes[code] <= 2) {
					fprintf(stderr, "bench_events: HTTP %ld: %.300s\n", code,
					        reply);
				}
			}
			if(now - t0 >= seconds) {
				httpc_close(&c->h, ep);
				active--;
				continue;
			}
			lconn_next(c, &lb, srv->port, r->sent++);
			httpc_arm(&c->h, ep, false, c);
		}
	}
	r->secs = now_s() - t0;
	r->server_cpu = proc_cpu_s(srv->pid) - cpu0;
	r->client_cpu = self_cpu_s() - self0;
	for(int i = 0; i < connections; i++)
		httpc_close(&conns[i].h, ep);
	free(conns);
	close(ep);
	free(spare);
	free(bodies);
	free(lens);
	qsort(r->lat_ms, r->n_lat, sizeof(double), cmp_double);
}

/* Reads counter name from the server's /metrics (0 when absent). */
static unsigned long long metric(const char *text, const char *name)
{
	char key[128];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = text ? strstr(text, key) : NULL;
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static size_t on_metrics(char *p, size_t s, size_t n, void *u)
{
	otd_buf_append(u, p, s * n);
	return s * n;
}

/* The server's /metrics page (heap, NUL-terminated), or NULL. */
static char *fetch_metrics(const char *base)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", base);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_metrics);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	char *out = NULL;
	if(curl_easy_perform(h) == CURLE_OK && b.data)
		out = xstrdup(b.data);
	curl_easy_cleanup(h);
	otd_buf_cleanup(&b);
	return out;
}

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: bench_events ONTHEDOT_BINARY [VISITORS [TAPS [SECONDS [CONNECTIONS]]]]\n"
	        "  ONTHEDOT_BINARY  the release binary (build/release/onthedot)\n"
	        "  VISITORS         visitors with a session each (default 200)\n"
	        "  TAPS             status events of the latency run, one connection (default "
	        "1000)\n"
	        "  SECONDS          length of the throughput run (default 10)\n"
	        "  CONNECTIONS      connections of the throughput run (default 64)\n"
	        "Latency: single status taps, one at a time, ticker idle; the POST's round trip\n"
	        "is the time to the stored risk state (the answer follows the COMMIT).\n"
	        "Throughput: single-event POSTs, 90%% positions and 10%% \"late N\" taps,\n"
	        "ticker every second.\n");
}

int main(int argc, char **argv)
{
	if(argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if(argc < 2 || argc > 6) {
		usage(stderr);
		return 2;
	}
	const char *bin = argv[1];
	long visitors = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
	long taps = argc > 3 ? strtol(argv[3], NULL, 10) : 1000;
	double seconds = argc > 4 ? strtod(argv[4], NULL) : 10;
	long connections = argc > 5 ? strtol(argv[5], NULL, 10) : 64;
	if(visitors < 1 || visitors > 100000 || taps < 1 || !(seconds > 0) || seconds > 3600 ||
	   connections < 1 || connections > 1000 || access(bin, X_OK) != 0) {
		usage(stderr);
		return 2;
	}
	if(sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	otd_log_set_level(OTD_LOG_ERROR);
	char dir[] = "/tmp/otd-bench-events-XXXXXX";
	if(!mkdtemp(dir))
		return 1;
	char db[256];
	snprintf(db, sizeof(db), "%s/events.db", dir);
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db);
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(VIRTUAL_START);
	cfg.virtual_clock = true;
	cfg.messages.record_only = true;
	struct otd_error err;
	otd_error_clear(&err);
	struct otd_app app;
	struct org o = {.app = &app};
	int from, to, rc = 1;
	struct server srv = {0};
	double t0 = now_s(), users_s = 0, login_s = 0;
	if(store_migrate(db, true, 5000, &from, &to, NULL, &err) != OTD_OK ||
	   !org_build(&o, &cfg, (size_t)visitors, &users_s, &err)) {
		fprintf(stderr, "bench_events: %s\n", err.message);
		goto out;
	}
	printf("organisation: %zu visitors x %d appointments on %s, a visitor user each "
	       "(setup %.1f s, of which argon2id users %.1f s)\n",
	       o.n, APPOINTMENTS, o.date, now_s() - t0, users_s);
	char at[40];
	otd_rfc3339_format(o.now, at, sizeof(at));

	/* (a) latency, the ticker idle. */
	if(!server_start(&srv, bin, dir, db, TICKER_IDLE))
		goto out;
	if(!login_all(&o, srv.base, &login_s)) {
		fprintf(stderr, "bench_events: some visitors could not sign in\n");
		server_stop(&srv);
		goto out;
	}
	printf("signed in %zu visitors in %.1f s (%d connections, argon2id)\n", o.n, login_s,
	       LOGIN_CONNECTIONS);
	struct latency lat;
	bool lat_ok = run_latency(&o, srv.base, at, (size_t)taps, &lat);
	long long ev_stored, projected, positions;
	check_stored(db, o.date, &ev_stored, &projected, &positions);
	int status = server_stop(&srv);
	if(!lat_ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_events: latency run failed (server status %d)\n", status);
		goto out;
	}
	size_t n_all = lat.n_start + lat.n_late;
	printf("\n%-52s %8s %9s %9s %9s\n",
	       "(a) one connection, ticker idle: POST round trip", "events", "p50 ms", "p99 ms",
	       "max ms");
	printf("%-52s %8zu %9.3f %9.3f %9.3f\n", "start_travel (first tap of the day)", lat.n_start,
	       pct(lat.start_ms, lat.n_start, 0.5), pct(lat.start_ms, lat.n_start, 0.99),
	       lat.n_start ? lat.start_ms[lat.n_start - 1] : 0);
	printf("%-52s %8zu %9.3f %9.3f %9.3f\n", "late N (re-projects the route)", lat.n_late,
	       pct(lat.late_ms, lat.n_late, 0.5), pct(lat.late_ms, lat.n_late, 0.99),
	       lat.n_late ? lat.late_ms[lat.n_late - 1] : 0);
	printf("%-52s %8zu %9.3f %9.3f %9.3f\n", "all status taps", n_all,
	       pct(lat.all_ms, n_all, 0.5), pct(lat.all_ms, n_all, 0.99),
	       n_all ? lat.all_ms[n_all - 1] : 0);
	printf("the answer comes after the COMMIT that holds the event and the new risk states, so "
	       "the round trip is the time to the stored risk state; stored: %lld of %zu events in "
	       "visitor_events, %lld of %zu appointments projected\n",
	       ev_stored, n_all, projected, o.n * APPOINTMENTS);
	printf("{\"bench\":\"events_latency\",\"visitors\":%zu,\"taps\":%zu,\"start_p50_ms\":%.3f,"
	       "\"start_p99_ms\":%.3f,\"late_p50_ms\":%.3f,\"late_p99_ms\":%.3f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"stored_events\":%lld}\n",
	       o.n, n_all, pct(lat.start_ms, lat.n_start, 0.5), pct(lat.start_ms, lat.n_start, 0.99),
	       pct(lat.late_ms, lat.n_late, 0.5), pct(lat.late_ms, lat.n_late, 0.99),
	       pct(lat.all_ms, n_all, 0.5), pct(lat.all_ms, n_all, 0.99),
	       n_all ? lat.all_ms[n_all - 1] : 0, ev_stored);

	/* (b) throughput, the ticker every second. */
	if(!server_start(&srv, bin, dir, db, TICKER_LOAD))
		goto out;
	struct load ld;
	long long pos_before = positions;
	run_load(&o, &srv, at, seconds, (int)connections, &ld);
	char *metrics = fetch_metrics(srv.base);
	check_stored(db, o.date, &ev_stored, &projected, &positions);
	status = server_stop(&srv);
	size_t ok = ld.codes[200], errors = ld.done - ok;
	printf("\n(b) %ld connections over %zu sessions for %.1f s, ticker every 5 s "
	       "(tracking.ticker_seconds " TICKER_LOAD ")\n",
	       connections, o.n, ld.secs);
	printf("%-40s %9s %9s %9s %9s %9s\n", "single-event POSTs", "answered", "200/s", "p50 ms",
	       "p99 ms", "max ms");
	printf("%-40s %9zu %9.0f %9.3f %9.3f %9.3f\n", "90% position, 10% late N", ld.done,
	       (double)ok / ld.secs, pct(ld.lat_ms, ld.n_lat, 0.5), pct(ld.lat_ms, ld.n_lat, 0.99),
	       ld.n_lat ? ld.lat_ms[ld.n_lat - 1] : 0);
	printf("mix of the 200s: %zu positions (%.1f%%), %zu late taps; results: %zu applied, %zu "
	       "ignored, %zu other\n",
	       ld.positions, 100.0 * (double)ld.positions / (double)(ok ? ok : 1), ld.lates,
	       ld.applied, ld.ignored, ld.other);
	printf("errors: %zu without an HTTP answer", ld.transport);
	char codes_json[512];
	size_t cj = (size_t)snprintf(codes_json, sizeof(codes_json), "{");
	for(int code = 100; code < 600; code++) {
		if(!ld.codes[code])
			continue;
		if(code != 200)
			printf(", %zu HTTP %d", ld.codes[code], code);
		if(cj < sizeof(codes_json))
			cj += (size_t)snprintf(codes_json + cj, sizeof(codes_json) - cj, "%s\"%d\":%zu",
			                       cj > 1 ? "," : "", code, ld.codes[code]);
	}
	if(cj < sizeof(codes_json))
		snprintf(codes_json + cj, sizeof(codes_json) - cj, "}");
	printf("%s\n", errors ? "" : " (no error)");
	printf("stored: %lld positions kept in visitor_positions (%zu accepted as applied)\n",
	       positions - pos_before, ld.applied - ld.lates);
	printf("CPU during the run: server %.2f s (%.2f cores), this bench %.2f s (%.2f cores), on "
	       "%ld online cores shared by both\n",
	       ld.server_cpu, ld.server_cpu / ld.secs, ld.client_cpu, ld.client_cpu / ld.secs,
	       sysconf(_SC_NPROCESSORS_ONLN));
	unsigned long long jobs = metric(metrics, "otd_writer_jobs_total"),
	                   commits = metric(metrics, "otd_writer_commits_total");
	if(metrics)
		printf("writer: %llu jobs in %llu commits (%.1f a commit)\n", jobs, commits,
		       commits ? (double)jobs / (double)commits : 0);
	free(metrics);
	printf("{\"bench\":\"events_http\",\"visitors\":%zu,\"connections\":%ld,\"seconds\":%.2f,"
	       "\"answered\":%zu,\"ok\":%zu,\"ok_per_s\":%.0f,\"positions\":%zu,\"lates\":%zu,"
	       "\"applied\":%zu,\"ignored\":%zu,\"transport_errors\":%zu,\"codes\":%s,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"server_cores\":%.2f,\"client_cores\":%.2f,"
	       "\"writer_jobs\":%llu,\"writer_commits\":%llu}\n",
	       o.n, connections, ld.secs, ld.done, ok, (double)ok / ld.secs, ld.positions, ld.lates,
	       ld.applied, ld.ignored, ld.transport, codes_json, pct(ld.lat_ms, ld.n_lat, 0.5),
	       pct(ld.lat_ms, ld.n_lat, 0.99), ld.server_cpu / ld.secs, ld.client_cpu / ld.secs,
	       jobs, commits);
	free(ld.lat_ms);
	free(lat.start_ms);
	free(lat.late_ms);
	free(lat.all_ms);
	if(!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "bench_events: the server exited with status %d\n", status);
	else
		rc = errors || ld.transport ? 1 : 0;
out:
	for(size_t i = 0; i < o.n; i++)
		curl_slist_free_all(o.days[i].hdr);
	free(o.days);
	otd_config_cleanup(&cfg);
	tzload_shutdown();
	curl_global_cleanup();
	if(getenv("OTD_BENCH_KEEP")) {
		fprintf(stderr, "bench_events: kept %s\n", dir);
	} else {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if(system(cmd) != 0)
			fprintf(stderr, "bench_events: could not remove %s\n", dir);
	}
	return rc;
}
