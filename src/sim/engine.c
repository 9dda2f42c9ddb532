/* One simulated run, and the report's head (engine.h). */
#include "sim/engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/booking.h"
#include "app/imports.h"
#include "app/simfacts.h"
#include "app/ticker.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "sim/player.h"

/* Stream labels for otd_rng_derive: one per kind of draw. */
enum {
	S_AREA = 1,
	S_BASE,
	S_CUSTOMER,
	S_ACCEPT,
	S_SICK,
};

#define DAY_S 86400
/* The optimiser's budget per look of the auto-rebalance: a fortieth of the
 * server's default keeps a 60-visitor day within seconds (measured: the
 * server's 20,000 took 90% of a 70-second run; 2,000 still two thirds). */
#define SIM_REBALANCE_ITERATIONS 500
#define TIMELINE_VISITORS 12
#define SIM_PLAYED_MAX 24     /* history days + simulated days */
#define OFFER_READ_MIN_S 300  /* a customer reads an apology 5 ... */
#define OFFER_READ_MAX_S 1800 /* ... to 30 minutes after it is sent */

const char *sim_policy_name(enum sim_policy p)
{
	return p == SIM_BASELINE ? "baseline" : "onthedot";
}

bool sim_policy_parse(const char *s, enum sim_policy *out)
{
	if(strcmp(s, "baseline") == 0)
		*out = SIM_BASELINE;
	else if(strcmp(s, "onthedot") == 0)
		*out = SIM_ONTHEDOT;
	else
		return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- dates ------------------------------------------------------------ */

/* The local date days after (or before, negative) date. */
static void date_add(const char *date, int days, char out[11])
{
	int y, m, d;
	if(sscanf(date, "%d-%d-%d", &y, &m, &d) != 3) {
		snprintf(out, 11, "%s", date);
		return;
	}
	int64_t n = otd_days_from_civil(y, m, d) + days;
	otd_civil_from_days(n, &y, &m, &d);
	otd_date_format(y, m, d, out);
}

/* The instant local date + "HH:MM" (sim_local_time), or + minutes from
 * its first second when hhmm is NULL. */
static int64_t local_at(const struct otd_tz *tz, const char *date, const char *hhmm, int minutes)
{
	if(hhmm)
		return sim_local_time(tz, date, hhmm);
	int y, m, d;
	if(sscanf(date, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	return otd_tz_day_start(tz, y, m, d) + (int64_t)minutes * 60;
}

/* Minutes from local midnight of date (may be negative or past 1440). */
static int minute_in(const struct otd_tz *tz, const char *date, int64_t t)
{
	return (int)((t - local_at(tz, date, NULL, 0)) / 60);
}

/* 0 = Monday .. 6 = Sunday. */
static int weekday_of(const char *date)
{
	int y, m, d;
	if(sscanf(date, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	return otd_weekday(otd_days_from_civil(y, m, d));
}

static bool works_on(const struct sim_visitor_group *g, const char *date)
{
	static const char *const names[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
	return strstr(g->days, names[weekday_of(date)]) != NULL;
}

/* ---- the run's world ------------------------------------------------- */

struct sim_visitor {
	int64_t id;
	const struct sim_visitor_group *g;
	double lat, lon;
	char name[64];
};

enum outcome { O_NONE, O_KEPT, O_BROKEN, O_CANCELLED, O_MOVED };

struct customer {
	size_t index;
	int64_t arrives; /* when they ask */
	int day;         /* the simulated day wanted */
	int64_t address_id, type_id;
	int prefer_minute; /* local minute of day they would like */
	bool picky;        /* choose by preference, else the first window */
	bool sms, email;
	int64_t cancel_at, reschedule_at; /* 0: never */
	/* what happened */
	int64_t appointment_id;
	int64_t window_start, window_end; /* as the customer last chose it */
	bool cancelled, moved, turned_away;
	int64_t accept_at; /* reading an apology: take a held window then */
};

struct action {
	int64_t at;
	int kind; /* 0 ask, 1 cancel, 2 reschedule */
	size_t customer;
};

struct run {
	const struct sim_run_options *o;
	const struct sim_scenario *sc;
	struct otd_config cfg;
	struct otd_app app;
	bool app_open;
	char dir[512], db[600], virtual_start[32], step_buf[8];
	char days[SIM_PLAYED_MAX][11]; /* played: the history days, then the measured ones */
	int n_played, first_measured;
	int n_addresses;
	struct sim_visitor *visitors;
	int n_visitors;
	struct customer *customers;
	size_t n_customers;
	int64_t *appt_customer; /* appointment id -> customer index + 1 */
	size_t n_appt_customer;
	struct sim_player *players[SIM_PLAYED_MAX];
	int64_t sick[SIM_PLAYED_MAX][SIM_VISITORS_MAX];
	int n_sick[SIM_PLAYED_MAX];
	struct action *acts; /* the customers' actions in time order */
	size_t n_acts, next_act;
	int64_t next_hour;
	int64_t last_outbox;
	int refused_actions; /* a customer's change the service would not take */
	int held_taken;
	double t_setup, t_booking, t_days, t_report;
};

static void appt_map(struct run *r, int64_t appointment_id, size_t customer)
{
	if(appointment_id <= 0)
		return;
	if((size_t)appointment_id >= r->n_appt_customer) {
		size_t n = (size_t)appointment_id * 2 + 64;
		r->appt_customer = xrealloc(r->appt_customer, n * sizeof(*r->appt_customer));
		memset(r->appt_customer + r->n_appt_customer, 0,
		       (n - r->n_appt_customer) * sizeof(*r->appt_customer));
		r->n_appt_customer = n;
	}
	r->appt_customer[appointment_id] = (int64_t)customer + 1;
}

static struct customer *customer_of(struct run *r, int64_t appointment_id)
{
	if(appointment_id <= 0 || (size_t)appointment_id >= r->n_appt_customer ||
	   !r->appt_customer[appointment_id])
		return NULL;
	return &r->customers[r->appt_customer[appointment_id] - 1];
}

static enum otd_status clock_to(struct run *r, int64_t t)
{
	if(t > otd_clock_now(r->app.clock))
		otd_clock_set(r->app.clock, t);
	return OTD_OK;
}

/* ---- set-up: the area, the visit types, the visitors ----------------- */

static void gazetteer_csv(struct run *r, struct otd_buf *csv)
{
	const struct sim_scenario *sc = r->sc;
	struct otd_rng g;
	otd_rng_seed(&g, otd_rng_derive(r->o->seed, S_AREA, 0));
	otd_buf_puts(csv, "uprn,line1,line2,town,postcode,latitude,longitude\n");
	double m_lat = 111320.0, m_lon = 111320.0 * cos(sc->centre_lat * M_PI / 180.0);
	double radius = sc->radius_km * 1000.0;
	int n = 0, street = 0;
	while(n < sc->addresses) {
		/* A street: uniform over the disc, 20 to 60 houses 12 to 20 m apart. */
		double rr = radius * sqrt(otd_rng_uniform(&g)), a = otd_rng_uniform(&g) * 2 * M_PI;
		double heading = otd_rng_uniform(&g) * 2 * M_PI;
		double x = rr * cos(a), y = rr * sin(a);
		int district = 1 + (int)(8.0 * rr / radius);
		int houses = (int)otd_rng_range(&g, 20, 60);
		street++;
		for(int h = 1; h <= houses && n < sc->addresses; h++, n++) {
			double step = 12 + otd_rng_uniform(&g) * 8;
			x += step * cos(heading);
			y += step * sin(heading);
			double side = h % 2 ? 7.0 : -7.0;
			double hx = x + side * -sin(heading), hy = y + side * cos(heading);
			otd_buf_printf(csv, "%d,%d Street %d,,%s,%s%d %d%c%c,%.6f,%.6f\n",
			               100000 + n, h, street, sc->town, sc->postcode_area,
			               district > 9 ? 9 : district, 1 + street % 9,
			               'A' + street % 20, 'A' + (h / 8) % 20,
			               sc->centre_lat + hy / m_lat, sc->centre_lon + hx / m_lon);
		}
	}
	r->n_addresses = n;
}

static void visit_types_csv(struct run *r, struct otd_buf *csv)
{
	otd_buf_puts(csv,
	             "code,name,skill,duration_median_minutes,window_minutes,duration_spread\n");
	for(size_t i = 0; i < r->sc->n_types; i++) {
		const struct sim_visit_type *t = &r->sc->types[i];
		otd_buf_printf(csv, "%s,\"%s\",%s,%d,%d,%.3f\n", t->code, t->name, t->skill,
		               t->duration_median_minutes, r->o->width_minutes, t->duration_spread);
	}
}

static void visitors_csv(struct run *r, struct otd_buf *csv)
{
	const struct sim_scenario *sc = r->sc;
	/* Shifts repeat weekly from the Monday before the first booking day. */
	char first[11], monday[11];
	date_add(r->days[0], -sc->booking_days - 1, first);
	date_add(first, -weekday_of(first), monday);
	otd_buf_puts(csv, "email,name,role_title,base_lat,base_lon,phone,skills,shift_start,"
	                  "shift_minutes,shift_rrule\n");
	double m_lat = 111320.0, m_lon = 111320.0 * cos(sc->centre_lat * M_PI / 180.0);
	int k = 0;
	r->n_visitors = sim_scenario_visitors(sc);
	r->visitors = xcalloc((size_t)r->n_visitors, sizeof(*r->visitors));
	for(size_t gi = 0; gi < sc->n_groups; gi++) {
		const struct sim_visitor_group *g = &sc->groups[gi];
		for(int j = 0; j < g->count; j++, k++) {
			struct otd_rng rng;
			otd_rng_seed(&rng, otd_rng_derive(r->o->seed, S_BASE, (uint64_t)k));
			double rr = sc->radius_km * 1000.0 * 0.8 * sqrt(otd_rng_uniform(&rng));
			double a = otd_rng_uniform(&rng) * 2 * M_PI;
			struct sim_visitor *v = &r->visitors[k];
			v->id = k + 1; /* a fresh database numbers them in file order */
			v->g = g;
			v->lat = sc->centre_lat + rr * sin(a) / m_lat;
			v->lon = sc->centre_lon + rr * cos(a) / m_lon;
			snprintf(v->name, sizeof(v->name), "Visitor %d", k + 1);
			otd_buf_printf(
			    csv,
			    "visitor%d@sim.example,%s,\"%s\",%.6f,%.6f,01632 960%03d,%s,%sT%s,%d,"
			    "\"FREQ=WEEKLY;BYDAY=%s\"\n",
			    k + 1, v->name, g->role_title, v->lat, v->lon, k % 1000, g->skills,
			    monday, g->shift_start, g->shift_minutes, g->days);
		}
	}
}

static enum otd_status setup_world(struct run *r, struct otd_error *err)
{
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_import_report rep;
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	gazetteer_csv(r, &csv);
	enum otd_status st =
	    app_import_gazetteer(&r->app, &cli, "area", csv.data, csv.len, &rep, err);
	otd_import_report_cleanup(&rep);
	otd_buf_cleanup(&csv);
	if(st)
		return st;
	otd_buf_init(&csv, 0);
	visit_types_csv(r, &csv);
	st = app_import_visit_types(&r->app, &cli, "visit types", csv.data, csv.len, &rep, err);
	otd_import_report_cleanup(&rep);
	otd_buf_cleanup(&csv);
	if(st)
		return st;
	otd_buf_init(&csv, 0);
	visitors_csv(r, &csv);
	st = app_import_visitors(&r->app, &cli, "visitors", csv.data, csv.len, false, &rep, err);
	if(st && rep.problems)
		otd_error_set(err, st, "bad_scenario", "visitors",
		              "The visitors did not import: %s", rep.problems);
	otd_import_report_cleanup(&rep);
	otd_buf_cleanup(&csv);
	return st;
}

/* ---- demand --------------------------------------------------------------- */

static int cmp_action(const void *a, const void *b)
{
	const struct action *x = a, *y = b;
	if(x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if(x->customer != y->customer)
		return x->customer < y->customer ? -1 : 1;
	return x->kind - y->kind;
}

static int64_t pick_type(const struct sim_scenario *sc, double u)
{
	double total = 0;
	for(size_t i = 0; i < sc->n_types; i++)
		total += sc->types[i].share;
	double acc = 0;
	for(size_t i = 0; i < sc->n_types; i++) {
		acc += sc->types[i].share / total;
		if(u < acc)
			return (int64_t)i + 1;
	}
	return (int64_t)sc->n_types;
}

/* Every customer's wishes, drawn from their own stream. */
static void make_customers(struct run *r)
{
	const struct sim_scenario *sc = r->sc;
	r->n_customers = (size_t)sc->requests_per_day * (size_t)r->n_played;
	r->customers = xcalloc(r->n_customers, sizeof(*r->customers));
	for(size_t i = 0; i < r->n_customers; i++) {
		struct customer *c = &r->customers[i];
		struct otd_rng g;
		otd_rng_seed(&g, otd_rng_derive(r->o->seed, S_CUSTOMER, i));
		c->index = i;
		c->day = (int)(i % (size_t)r->n_played);
		int before = (int)otd_rng_range(&g, 1, sc->booking_days);
		char date[11];
		date_add(r->days[c->day], -before, date);
		c->arrives =
		    local_at(r->app.tz, date, NULL, (int)otd_rng_range(&g, 8 * 60, 20 * 60));
		c->address_id = otd_rng_range(&g, 1, r->n_addresses);
		c->type_id = pick_type(sc, otd_rng_uniform(&g));
		c->prefer_minute = (int)otd_rng_range(&g, 8 * 60, 17 * 60);
		c->picky = otd_rng_uniform(&g) < 0.6;
		c->sms = otd_rng_uniform(&g) < sc->sms_consent_share;
		c->email = otd_rng_uniform(&g) < sc->email_consent_share;
		if(!c->sms && !c->email)
			c->email = true;
		int64_t day_start = local_at(r->app.tz, r->days[c->day], "07:00", 0);
		double u = otd_rng_uniform(&g), when = otd_rng_uniform(&g);
		if(u < sc->cancel_share)
			c->cancel_at =
			    c->arrives + 60 + (int64_t)(when * (double)(day_start - c->arrives));
		else if(u < sc->cancel_share + sc->reschedule_share)
			c->reschedule_at =
			    c->arrives + 60 +
			    (int64_t)(when * (double)(day_start - DAY_S / 2 - c->arrives));
		if(c->reschedule_at && c->reschedule_at <= c->arrives + 60)
			c->reschedule_at = 0;
	}
}

/* The window the customer takes among those offered on their day: the
 * nearest to the time they would like, or simply the first. -1: none. */
static long choose(const struct run *r, const struct customer *c, const struct otd_slot_day *d,
                   int64_t not_start)
{
	long best = -1;
	int64_t best_d = INT64_MAX;
	for(size_t i = 0; i < d->n; i++) {
		if(d->windows[i].start == not_start)
			continue;
		if(!c->picky)
			return (long)i;
		int64_t m = minute_in(r->app.tz, d->date, d->windows[i].start);
		int64_t dist = llabs(m - c->prefer_minute);
		if(dist < best_d) {
			best_d = dist;
			best = (long)i;
		}
	}
	return best;
}

static enum otd_status offer_for(struct run *r, const struct customer *c, int64_t for_appt,
                                 struct otd_slot_result *res, struct otd_error *err)
{
	struct otd_slot_query q = {
	    .address_id = c->address_id, .visit_type_id = c->type_id, .for_appointment = for_appt};
	memcpy(q.from, r->days[c->day], 11);
	memcpy(q.to, r->days[c->day], 11);
	return app_slots(&r->app, &q, res, err);
}

static enum otd_status customer_asks(struct run *r, struct customer *c, struct otd_error *err)
{
	struct otd_principal anyone;
	memset(&anyone, 0, sizeof(anyone));
	/* Someone else may take the window between the offer and the hold:
	 * a customer tries a few times, as people do. */
	for(int attempt = 0; attempt < 3; attempt++) {
		struct otd_slot_result res;
		enum otd_status st = offer_for(r, c, 0, &res, err);
		if(st)
			return st;
		long w = res.n_days ? choose(r, c, &res.days[0], 0) : -1;
		if(w < 0) {
			otd_slot_result_cleanup(&res);
			c->turned_away = true;
			return OTD_OK;
		}
		char key[32];
		snprintf(key, sizeof(key), "customer-%zu", c->index);
		struct otd_hold_request hr = {.address_id = c->address_id,
		                              .visit_type_id = c->type_id,
		                              .window_start = res.days[0].windows[w].start,
		                              .client_key = key};
		otd_slot_result_cleanup(&res);
		struct otd_hold_result h;
		st = app_hold_create(&r->app, &anyone, &hr, &h, err);
		if(st == OTD_ECONFLICT) {
			otd_error_clear(err);
			continue;
		}
		if(st)
			return st;
		char name[64], phone[24], email[64];
		snprintf(name, sizeof(name), "Customer %zu", c->index + 1);
		snprintf(phone, sizeof(phone), "07700 9%05zu", c->index % 100000);
		snprintf(email, sizeof(email), "customer%zu@sim.example", c->index + 1);
		struct otd_booking_request br = {.hold_token = h.token,
		                                 .name = name,
		                                 .phone = phone,
		                                 .email = email,
		                                 .access_notes = "",
		                                 .consent_sms = c->sms,
		                                 .consent_email = c->email};
		struct otd_appointment_view v;
		st = app_book(&r->app, &anyone, &br, &v, err);
		if(st == OTD_ECONFLICT || (st == OTD_ERATE && c->sms)) {
			/* Taken meanwhile; or too many texts lately: as the form
			 * advises, by email only. */
			if(st == OTD_ERATE)
				c->sms = false;
			otd_appointment_view_cleanup(&v);
			otd_error_clear(err);
			continue;
		}
		if(st == OTD_OK) {
			c->appointment_id = v.a.id;
			c->window_start = v.a.window_start;
			c->window_end = v.a.window_end;
			appt_map(r, v.a.id, c->index);
		}
		otd_appointment_view_cleanup(&v);
		return st;
	}
	c->turned_away = true;
	return OTD_OK;
}

static enum otd_status customer_cancels(struct run *r, struct customer *c, struct otd_error *err)
{
	if(!c->appointment_id || c->cancelled || c->moved)
		return OTD_OK;
	struct otd_principal anyone;
	memset(&anyone, 0, sizeof(anyone));
	struct otd_appointment_view v;
	enum otd_status st =
	    app_cancel(&r->app, &anyone, c->appointment_id, true, "Cannot be in that day", &v, err);
	otd_appointment_view_cleanup(&v);
	if(st == OTD_OK)
		c->cancelled = true;
	return st;
}

static enum otd_status customer_reschedules(struct run *r, struct customer *c,
                                            struct otd_error *err)
{
	if(!c->appointment_id || c->cancelled || c->moved)
		return OTD_OK;
	struct otd_principal anyone;
	memset(&anyone, 0, sizeof(anyone));
	struct otd_slot_result res;
	enum otd_status st = offer_for(r, c, c->appointment_id, &res, err);
	if(st)
		return st;
	/* Another time of the same day: they now would like it 3 hours on. */
	c->prefer_minute = 8 * 60 + (c->prefer_minute - 8 * 60 + 180) % (9 * 60);
	long w = res.n_days ? choose(r, c, &res.days[0], c->window_start) : -1;
	if(w < 0) {
		otd_slot_result_cleanup(&res);
		return OTD_OK; /* nothing else that day: they keep the window */
	}
	char key[32];
	snprintf(key, sizeof(key), "customer-%zu", c->index);
	struct otd_hold_request hr = {.address_id = c->address_id,
	                              .visit_type_id = c->type_id,
	                              .window_start = res.days[0].windows[w].start,
	                              .for_appointment = c->appointment_id,
	                              .client_key = key};
	otd_slot_result_cleanup(&res);
	struct otd_hold_result h;
	st = app_hold_create(&r->app, &anyone, &hr, &h, err);
	if(st == OTD_ECONFLICT || st == OTD_ERATE) {
		otd_error_clear(err);
		return OTD_OK;
	}
	if(st)
		return st;
	struct otd_appointment_view v;
	st = app_reschedule(&r->app, &anyone, c->appointment_id, h.token, 0, true, NULL, &v, err);
	if(st == OTD_OK) {
		c->window_start = v.a.window_start;
		c->window_end = v.a.window_end;
	} else if(st == OTD_ECONFLICT) {
		otd_error_clear(err);
		st = OTD_OK;
	}
	otd_appointment_view_cleanup(&v);
	return st;
}

/* The customers' actions (asking, cancelling, moving), in time order. */
static void queue_actions(struct run *r)
{
	size_t cap = r->n_customers * 3;
	r->acts = xcalloc(cap ? cap : 1, sizeof(*r->acts));
	for(size_t i = 0; i < r->n_customers; i++) {
		const struct customer *c = &r->customers[i];
		r->acts[r->n_acts++] = (struct action){c->arrives, 0, i};
		if(c->cancel_at)
			r->acts[r->n_acts++] = (struct action){c->cancel_at, 1, i};
		if(c->reschedule_at)
			r->acts[r->n_acts++] = (struct action){c->reschedule_at, 2, i};
	}
	qsort(r->acts, r->n_acts, sizeof(*r->acts), cmp_action);
	r->next_hour = otd_clock_now(r->app.clock) + 3600;
}

/* Runs the actions due by until, each at its time (the clock moves
 * forward only: one due while a day was played runs when the day lets
 * it). With hourly, the ticker's pass runs every hour in between (holds,
 * reminders) as it would between working days. */
static enum otd_status run_actions(struct run *r, int64_t until, bool hourly, struct otd_error *err)
{
	enum otd_status st = OTD_OK;
	while(st == OTD_OK && r->next_act < r->n_acts && r->acts[r->next_act].at <= until) {
		const struct action *a = &r->acts[r->next_act++];
		while(hourly && r->next_hour <= a->at) {
			clock_to(r, r->next_hour);
			st = ticker_pass_checked(&r->app, err);
			r->next_hour += 3600;
			if(st)
				return st;
		}
		clock_to(r, a->at);
		struct customer *c = &r->customers[a->customer];
		if(a->kind == 0)
			st = customer_asks(r, c, err);
		else if(a->kind == 1)
			st = customer_cancels(r, c, err);
		else
			st = customer_reschedules(r, c, err);
		if(st) {
			char what[OTD_ERR_MESSAGE_MAX], code[OTD_ERR_CODE_MAX];
			snprintf(what, sizeof(what), "%s", err->message);
			snprintf(code, sizeof(code), "%s",
			         err->code[0] ? err->code : "simulation_failed");
			otd_error_set(err, st, code, NULL, "Customer %zu could not %s: %s",
			              c->index + 1,
			              a->kind == 0   ? "book"
			              : a->kind == 1 ? "cancel"
			                             : "move their visit",
			              what);
		}
	}
	if(hourly)
		while(st == OTD_OK && r->next_hour <= until) {
			clock_to(r, r->next_hour);
			st = ticker_pass_checked(&r->app, err);
			r->next_hour += 3600;
		}
	return st;
}

/* ---- the day -------------------------------------------------------------- */

/* Customers read their apologies: some take the held window (moved by
 * us), at a time drawn from their own stream. */
static enum otd_status read_apologies(struct run *r, struct otd_error *err)
{
	struct otd_sim_message *m;
	size_t n;
	enum otd_status st = app_sim_messages_after(&r->app, &r->last_outbox, &m, &n, err);
	if(st)
		return st;
	int64_t now = otd_clock_now(r->app.clock);
	for(size_t i = 0; i < n; i++) {
		size_t kl = strlen(m[i].event_key);
		if(kl < 8 || strcmp(m[i].event_key + kl - 8, ":apology") != 0)
			continue;
		struct customer *c = customer_of(r, m[i].appointment_id);
		if(!c || c->accept_at || c->moved || c->cancelled)
			continue;
		struct otd_rng g;
		otd_rng_seed(&g, otd_rng_derive(r->o->seed, S_ACCEPT, c->index));
		if(otd_rng_uniform(&g) < r->sc->accept_offer_share)
			c->accept_at = now + otd_rng_range(&g, OFFER_READ_MIN_S, OFFER_READ_MAX_S);
	}
	free(m);
	return OTD_OK;
}

static enum otd_status take_offers(struct run *r, int64_t now, struct otd_error *err)
{
	for(size_t i = 0; i < r->n_customers; i++) {
		struct customer *c = &r->customers[i];
		if(!c->accept_at || c->accept_at > now || c->moved || c->cancelled)
			continue;
		c->accept_at = INT64_MAX; /* once */
		struct otd_appointment_view v;
		enum otd_status st = app_appointment_view(&r->app, c->appointment_id, &v, err);
		if(st)
			return st;
		bool open = strcmp(v.a.status, "booked") == 0 && v.n_offers > 0;
		int64_t offer = open ? v.offers[0].id : 0;
		otd_appointment_view_cleanup(&v);
		if(!offer)
			continue; /* the offer lapsed, or the visitor is already on the way */
		struct otd_principal anyone;
		memset(&anyone, 0, sizeof(anyone));
		st = app_reschedule(&r->app, &anyone, c->appointment_id, NULL, offer, true, NULL,
		                    &v, err);
		otd_appointment_view_cleanup(&v);
		if(st == OTD_OK) {
			c->moved = true;
			r->held_taken++;
		} else if(st == OTD_ECONFLICT || st == OTD_ESTATE || st == OTD_ENOTFOUND) {
			r->refused_actions++;
			otd_error_clear(err);
		} else {
			return st;
		}
	}
	return OTD_OK;
}

/* Who is off sick on day k: sick_visitors of those working, drawn from
 * the day's stream (the same for every policy). */
static void choose_sick(struct run *r, int k)
{
	int want = r->sc->sick_visitors, n = 0;
	int64_t *working = xcalloc((size_t)r->n_visitors, sizeof(*working));
	for(int i = 0; i < r->n_visitors; i++)
		if(works_on(r->visitors[i].g, r->days[k]))
			working[n++] = r->visitors[i].id;
	struct otd_rng g;
	otd_rng_seed(&g, otd_rng_derive(r->o->seed, S_SICK, (uint64_t)k));
	int cap = (int)(sizeof(r->sick[0]) / sizeof(r->sick[0][0]));
	for(int j = 0; j < want && j < n && j < cap; j++) {
		int pick = (int)otd_rng_range(&g, j, n - 1);
		int64_t t = working[j];
		working[j] = working[pick];
		working[pick] = t;
		r->sick[k][r->n_sick[k]++] = working[j];
	}
	free(working);
}

static int64_t sick_from(const struct run *r, int k, int64_t visitor_id)
{
	for(int j = 0; j < r->n_sick[k]; j++)
		if(r->sick[k][j] == visitor_id)
			return local_at(r->app.tz, r->days[k], r->sc->sick_from, 0);
	return 0;
}

static enum otd_status play_day(struct run *r, int k, struct otd_error *err)
{
	struct sim_player *p =
	    sim_player_new(&r->app, &r->sc->reality,
	                   otd_rng_derive(r->o->seed, 0x646179ull, (uint64_t)k), r->days[k]);
	r->players[k] = p;
	for(size_t i = 0; i < r->sc->n_types; i++)
		sim_player_visit_type(p, (int64_t)i + 1,
		                      r->sc->types[i].duration_median_minutes * 60.0);
	choose_sick(r, k);
	int64_t first = INT64_MAX, last = 0;
	for(int i = 0; i < r->n_visitors; i++) {
		const struct sim_visitor *v = &r->visitors[i];
		if(!works_on(v->g, r->days[k]))
			continue;
		int64_t s = local_at(r->app.tz, r->days[k], v->g->shift_start, 0);
		int64_t e = s + (int64_t)v->g->shift_minutes * 60;
		sim_player_add(p, v->id, v->lat, v->lon, s, e, sick_from(r, k, v->id));
		if(s < first)
			first = s;
		if(e > last)
			last = e;
	}
	if(first == INT64_MAX)
		return run_actions(r, local_at(r->app.tz, r->days[k], NULL, 24 * 60), true, err);
	int64_t tick = (int64_t)r->sc->tick_minutes * 60;
	int64_t end = last + SIM_OVERTIME_S + 2 * 3600;
	int64_t next_tick = first - 30 * 60;
	enum otd_status st = run_actions(r, first - 30 * 60, true, err);
	for(int64_t t = first - 30 * 60; t <= end && st == OTD_OK; t += 60) {
		clock_to(r, t);
		st = run_actions(r, t, false, err);
		if(st == OTD_OK)
			st = sim_player_step(p, t, err);
		if(st == OTD_OK)
			st = take_offers(r, t, err);
		if(st == OTD_OK && t >= next_tick) {
			st = ticker_pass_checked(&r->app, err);
			next_tick += tick;
			if(st == OTD_OK)
				st = read_apologies(r, err);
		}
	}
	r->next_hour = end + 3600;
	return st;
}

/* ---- the figures ------------------------------------------------------- */

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of v[0..n), sorted; n > 0. */
static int64_t quantile(const int64_t *v, size_t n, double q)
{
	size_t i = (size_t)ceil(q * (double)n);
	if(i < 1)
		i = 1;
	return v[i - 1];
}

static json_t *ratio(double num, double den)
{
	return den > 0 ? json_real(num / den) : json_null();
}

/* "appt:<id>:v<n>:<event>" */
static bool parse_key(const char *key, int64_t *id, int *version, const char **event)
{
	long long a;
	int v, used = 0;
	if(sscanf(key, "appt:%lld:v%d:%n", &a, &v, &used) != 2 || !used)
		return false;
	*id = a;
	*version = v;
	*event = key + used;
	return true;
}

struct appt_eval {
	bool skip; /* a history day's: not in the figures */
	enum outcome outcome;
	int apologies, updates_by_version[16];
	int64_t first_apology;
	bool warned;
	int64_t lead_s;
	bool early, reassigned, has_case, at_risk;
	int versions_at_risk[16];
	int apology_by_version[16];
	int64_t last_told; /* band_early last told (apology or update) */
	bool small_update; /* an update after a move under 15 minutes */
};

static json_t *timeline(struct run *r, const struct otd_sim_facts *f, const struct appt_eval *ev)
{
	const int day = r->first_measured;
	const char *date = r->days[day];
	const struct otd_tz *tz = r->app.tz;
	json_t *vis = json_array();
	int shown = 0, day_start = 24 * 60, day_end = 0;
	for(int i = 0; i < r->n_visitors && shown < TIMELINE_VISITORS; i++) {
		const struct sim_visitor *v = &r->visitors[i];
		bool sick = sick_from(r, day, v->id) != 0;
		/* The first visitors, and the sick one wherever it is. */
		if(!works_on(v->g, date) || (shown >= TIMELINE_VISITORS - r->n_sick[day] && !sick))
			continue;
		shown++;
		int64_t s = local_at(tz, date, v->g->shift_start, 0);
		int ms = minute_in(tz, date, s), me = ms + v->g->shift_minutes;
		if(ms < day_start)
			day_start = ms;
		if(me > day_end)
			day_end = me;
		json_t *stops = json_array();
		for(size_t j = 0; j < f->n_appts; j++) {
			const struct otd_sim_appt *a = &f->appts[j];
			const struct customer *c = customer_of(r, a->id);
			struct sim_truth t;
			bool reached =
			    r->players[day] && sim_player_truth(r->players[day], a->id, &t);
			/* Stops this visitor made, or still has on the day. */
			bool mine =
			    reached ? t.visitor_id == v->id
			            : (a->visitor_id == v->id && strcmp(a->local_date, date) == 0);
			if(!mine || !c || c->day != day || ev[j].outcome == O_NONE ||
			   ev[j].outcome == O_CANCELLED)
				continue;
			static const char *const names[] = {"", "kept", "broken", "cancelled",
			                                    "moved"};
			/* References are random (a secret's cousin): the report names
			 * the appointment by its number, the same in every run. */
			char label[24];
			snprintf(label, sizeof(label), "#%lld", (long long)a->id);
			json_array_append_new(
			    stops,
			    json_pack("{s:s,s:[i,i],s:o,s:o,s:s,s:o}", "reference", label, "window",
			              minute_in(tz, date, c->window_start),
			              minute_in(tz, date, c->window_end), "arrived",
			              reached ? json_integer(minute_in(tz, date, t.arrived))
			                      : json_null(),
			              "done",
			              reached && t.done ? json_integer(minute_in(tz, date, t.done))
			                                : json_null(),
			              "outcome", names[ev[j].outcome], "warned",
			              ev[j].first_apology
			                  ? json_integer(minute_in(tz, date, ev[j].first_apology))
			                  : json_null()));
		}
		int64_t sf = sick_from(r, day, v->id);
		json_array_append_new(
		    vis,
		    json_pack("{s:s,s:[i,i],s:o,s:o}", "name", v->name, "shift", ms, me,
		              "sick_from", sf ? json_integer(minute_in(tz, date, sf)) : json_null(),
		              "stops", stops));
	}
	if(day_start > day_end) {
		day_start = 8 * 60;
		day_end = 18 * 60;
	}
	return json_pack("{s:s,s:i,s:i,s:o}", "date", date, "day_start_minute",
	                 (day_start / 60) * 60, "day_end_minute", ((day_end + 119) / 60) * 60,
	                 "visitors", vis);
}

static json_t *figures(struct run *r, struct otd_error *err)
{
	struct otd_sim_facts f;
	if(app_sim_facts(&r->app, &f, err) != OTD_OK)
		return NULL;
	struct appt_eval *ev = xcalloc(f.n_appts ? f.n_appts : 1, sizeof(*ev));
	/* index of appointment id in f.appts */
	size_t max_id = f.n_appts ? (size_t)f.appts[f.n_appts - 1].id + 1 : 1;
	long *at = xcalloc(max_id, sizeof(*at));
	for(size_t i = 0; i < f.n_appts; i++)
		at[f.appts[i].id] = (long)i + 1;
#define EV_OF(id)                                                                                  \
	((id) > 0 && (size_t)(id) < max_id && at[(id)] && !ev[at[(id)] - 1].skip                   \
	     ? &ev[at[(id)] - 1]                                                                   \
	     : NULL)

	int unaccounted = 0;
	int cause_overrun = 0, cause_late = 0, cause_sick = 0, cause_not_reached = 0;
	int64_t *lateness = xcalloc(f.n_appts ? f.n_appts : 1, sizeof(*lateness));
	size_t n_late = 0;
	int n_kept = 0, n_broken = 0, n_cancelled = 0, n_moved = 0, n_early = 0, n_reassigned = 0;
	for(size_t i = 0; i < f.n_appts; i++) {
		const struct otd_sim_appt *a = &f.appts[i];
		struct customer *c = customer_of(r, a->id);
		struct appt_eval *e = &ev[i];
		if(!c) {
			unaccounted++; /* an appointment no customer of ours made */
			continue;
		}
		if(c->day < r->first_measured) {
			e->skip = true;
			continue;
		}
		struct sim_truth t;
		bool reached =
		    r->players[c->day] && sim_player_truth(r->players[c->day], a->id, &t);
		if(c->cancelled) {
			e->outcome = O_CANCELLED;
			if(strcmp(a->status, "cancelled") != 0)
				unaccounted++;
		} else if(c->moved) {
			e->outcome = O_MOVED;
			if(a->window_start == c->window_start && a->window_end == c->window_end)
				unaccounted++;
		} else if(reached && t.reached <= c->window_end) {
			e->outcome = O_KEPT;
			e->early = t.reached < c->window_start;
			if(a->window_start != c->window_start || !a->arrived_at)
				unaccounted++;
		} else {
			e->outcome = O_BROKEN;
			if(strcmp(a->status, "cancelled") == 0 ||
			   a->window_start != c->window_start)
				unaccounted++;
			if(reached) {
				int64_t late = (t.reached - c->window_end + 59) / 60;
				lateness[n_late++] = late;
				if(t.after_long)
					cause_overrun++;
				else
					cause_late++;
			} else if(sick_from(r, c->day, a->visitor_id)) {
				cause_sick++;
			} else {
				cause_not_reached++;
			}
		}
		n_kept += e->outcome == O_KEPT;
		n_broken += e->outcome == O_BROKEN;
		n_cancelled += e->outcome == O_CANCELLED;
		n_moved += e->outcome == O_MOVED;
		n_early += e->early;
	}
	/* Promise events, in order. */
	int at_risk_promises = 0, held_offered = 0;
	for(size_t i = 0; i < f.n_events; i++) {
		const struct otd_sim_event *x = &f.events[i];
		struct appt_eval *e = EV_OF(x->appointment_id);
		if(!e)
			continue;
		json_t *d = json_loads(x->detail, 0, NULL);
		if(strcmp(x->kind, "reassigned") == 0) {
			e->reassigned = true;
		} else if(strcmp(x->kind, "at_risk") == 0) {
			int v = (int)json_integer_value(json_object_get(d, "promise_version"));
			if(v > 0 && v < 16 && !e->versions_at_risk[v]) {
				e->versions_at_risk[v] = 1;
				at_risk_promises++;
			}
			e->at_risk = true;
		} else if(strcmp(x->kind, "apology") == 0) {
			held_offered += (int)json_array_size(json_object_get(d, "offers"));
			e->last_told = json_integer_value(json_object_get(d, "expected_early"));
		} else if(strcmp(x->kind, "notice") == 0) {
			const char *what = json_string_value(json_object_get(d, "event"));
			int64_t band = json_integer_value(json_object_get(d, "expected_early"));
			if(what && strncmp(what, "update", 6) == 0) {
				if(e->last_told && llabs(band - e->last_told) < 15 * 60)
					e->small_update = true;
				e->last_told = band;
			} else if(band) {
				/* On the way, back on time: the service weighs an update
				 * against the last time the customer was told. */
				e->last_told = band;
			}
		}
		json_decref(d);
	}
	n_reassigned = 0;
	for(size_t i = 0; i < f.n_appts; i++)
		n_reassigned += ev[i].reassigned && ev[i].outcome != O_NONE;
	/* Messages. */
	json_t *by_kind = json_object();
	int apologies = 0, false_alarms = 0, updates = 0, back_on_time = 0, counted = 0;
	int too_many_updates = 0;
	for(size_t i = 0; i < f.n_messages; i++) {
		int64_t id;
		int version;
		const char *event;
		if(!parse_key(f.messages[i].event_key, &id, &version, &event))
			continue;
		char kind[32];
		snprintf(kind, sizeof(kind), "%s", event);
		if(strncmp(kind, "update", 6) == 0)
			kind[6] = '\0';
		struct appt_eval *e = EV_OF(id);
		const struct customer *c = customer_of(r, id);
		if(!e || !c)
			continue;
		json_object_set_new(
		    by_kind, kind,
		    json_integer(json_integer_value(json_object_get(by_kind, kind)) + 1));
		/* What we send on our own about the visit on its day; not the
		 * confirmations of the customer's own changes, the day-before
		 * reminder or the request for feedback. */
		if(strcmp(kind, "booked") != 0 && strcmp(kind, "rescheduled") != 0 &&
		   strcmp(kind, "cancelled") != 0 && strcmp(kind, "new_link") != 0 &&
		   strcmp(kind, "reminder") != 0 && strcmp(kind, "feedback") != 0)
			counted++;
		int vv = version > 0 && version < 16 ? version : 0;
		if(strcmp(kind, "apology") == 0) {
			apologies++;
			e->apologies++;
			e->apology_by_version[vv]++;
			if(e->outcome == O_KEPT)
				false_alarms++;
			if(!e->first_apology || f.messages[i].created_at < e->first_apology)
				e->first_apology = f.messages[i].created_at;
		} else if(strcmp(kind, "update") == 0) {
			updates++;
			if(++e->updates_by_version[vv] == 3)
				too_many_updates++;
		} else if(strcmp(kind, "back_on_time") == 0) {
			back_on_time++;
		}
	}
	/* Guarantee cases. */
	int64_t owed = 0;
	char currency[4] = "GBP";
	int cases = 0, cases_for_kept = 0;
	for(size_t i = 0; i < f.n_cases; i++) {
		struct appt_eval *e = EV_OF(f.cases[i].appointment_id);
		if(!e)
			continue;
		cases++;
		if(strcmp(f.cases[i].state, "exempt") != 0)
			owed += f.cases[i].amount_minor;
		snprintf(currency, sizeof(currency), "%s", f.cases[i].currency);
		e->has_case = true;
		if(e->outcome == O_KEPT)
			cases_for_kept++;
	}
	/* Warnings of broken promises, and the accounting. */
	int warned = 0, warned60 = 0, broken_without_case = 0, not_one_apology = 0, small = 0;
	int64_t *leads = xcalloc(f.n_appts ? f.n_appts : 1, sizeof(*leads));
	size_t n_leads = 0;
	for(size_t i = 0; i < f.n_appts; i++) {
		struct appt_eval *e = &ev[i];
		const struct customer *c = customer_of(r, f.appts[i].id);
		if(!c || e->skip)
			continue;
		if(e->outcome == O_BROKEN) {
			if(e->first_apology && e->first_apology < c->window_end) {
				e->warned = true;
				e->lead_s = c->window_end - e->first_apology;
				warned++;
				warned60 += e->lead_s >= 3600;
				leads[n_leads++] = e->lead_s / 60;
			}
			if(r->sc->rule_set[0] && !e->has_case)
				broken_without_case++;
		}
		if(r->cfg.messages.proactive) {
			for(int v = 1; v < 16; v++)
				if((e->versions_at_risk[v] && e->apology_by_version[v] != 1) ||
				   (!e->versions_at_risk[v] && e->apology_by_version[v]))
					not_one_apology++;
		}
		small += e->small_update;
	}
	qsort(leads, n_leads, sizeof(*leads), cmp_int64);
	static const int edges[] = {0, 15, 30, 60, 120, 240};
	json_t *hist = json_array();
	for(size_t b = 0; b < 6; b++) {
		int count = 0;
		for(size_t i = 0; i < n_leads; i++)
			count += leads[i] >= edges[b] && (b == 5 || leads[i] < edges[b + 1]);
		json_array_append_new(hist,
		                      json_pack("{s:i,s:o,s:i}", "from", edges[b], "to",
		                                b == 5 ? json_null() : json_integer(edges[b + 1]),
		                                "count", count));
	}
	json_t *values = json_array();
	for(size_t i = 0; i < n_leads; i++)
		json_array_append_new(values, json_integer(leads[i]));
	struct sim_player_totals tot = {0};
	for(int k = r->first_measured; k < r->n_played; k++) {
		struct sim_player_totals t;
		if(!r->players[k])
			continue;
		sim_player_totals(r->players[k], &t);
		tot.travel_s += t.travel_s;
		tot.service_s += t.service_s;
		tot.shift_s += t.shift_s;
		tot.wait_s += t.wait_s;
		tot.travel_km += t.travel_km;
		tot.taps += t.taps;
		tot.taps_late += t.taps_late;
		tot.taps_forgotten += t.taps_forgotten;
		tot.taps_refused += t.taps_refused;
		tot.journeys_wasted += t.journeys_wasted;
	}
	int booked = 0, turned_away = 0;
	size_t requests = 0;
	for(size_t i = 0; i < r->n_customers; i++) {
		if(r->customers[i].day < r->first_measured)
			continue;
		requests++;
		booked += r->customers[i].appointment_id != 0;
		turned_away += r->customers[i].turned_away;
	}
	int visited = n_kept + n_broken + n_moved; /* customers with a visit due on the day */
	json_t *run = json_object();
	json_object_set_new(run, "policy", json_string(sim_policy_name(r->o->policy)));
	json_object_set_new(run, "width_minutes", json_integer(r->o->width_minutes));
	json_object_set_new(run, "planning_quantile", json_real(r->cfg.planning.quantile));
	json_object_set_new(run, "requests", json_integer((json_int_t)requests));
	json_object_set_new(run, "booked", json_integer(booked));
	json_object_set_new(run, "turned_away", json_integer(turned_away));
	json_object_set_new(run, "appointments",
	                    json_integer(n_kept + n_broken + n_cancelled + n_moved));
	json_object_set_new(run, "outcomes",
	                    json_pack("{s:i,s:i,s:i,s:i}", "kept", n_kept, "broken", n_broken,
	                              "cancelled", n_cancelled, "moved", n_moved));
	json_object_set_new(run, "kept_rate", ratio(n_kept, n_kept + n_broken));
	qsort(lateness, n_late, sizeof(*lateness), cmp_int64);
	json_object_set_new(
	    run, "broken_causes",
	    json_pack("{s:i,s:i,s:i,s:i,s:o,s:o}", "late_after_long_visit", cause_overrun,
	              "late_otherwise", cause_late, "not_reached_visitor_sick", cause_sick,
	              "not_reached", cause_not_reached, "lateness_median_minutes",
	              n_late ? json_integer(quantile(lateness, n_late, 0.5)) : json_null(),
	              "lateness_max_minutes",
	              n_late ? json_integer(lateness[n_late - 1]) : json_null()));
	json_object_set_new(run, "early_arrivals", json_integer(n_early));
	json_object_set_new(run, "reassigned", json_integer(n_reassigned));
	json_object_set_new(run, "utilisation", ratio(tot.service_s + tot.travel_s, tot.shift_s));
	json_object_set_new(run, "service_hours", json_real(round(tot.service_s / 36.0) / 100.0));
	json_object_set_new(run, "travel_hours", json_real(round(tot.travel_s / 36.0) / 100.0));
	json_object_set_new(run, "wait_hours", json_real(round(tot.wait_s / 36.0) / 100.0));
	json_object_set_new(run, "shift_hours", json_real(round(tot.shift_s / 36.0) / 100.0));
	json_object_set_new(run, "travel_km", json_real(round(tot.travel_km * 10.0) / 10.0));
	json_object_set_new(run, "at_risk_promises", json_integer(at_risk_promises));
	json_object_set_new(run, "apologies", json_integer(apologies));
	json_object_set_new(run, "false_alarms", json_integer(false_alarms));
	json_object_set_new(run, "false_alarm_share", ratio(false_alarms, apologies));
	json_object_set_new(run, "updates", json_integer(updates));
	json_object_set_new(run, "back_on_time", json_integer(back_on_time));
	json_object_set_new(run, "broken_warned", json_integer(warned));
	json_object_set_new(run, "warned_share", ratio(warned, n_broken));
	json_object_set_new(run, "warned_60_share", ratio(warned60, n_broken));
	json_object_set_new(
	    run, "lead_minutes",
	    json_pack("{s:o,s:o,s:o,s:o}", "median",
	              n_leads ? json_integer(quantile(leads, n_leads, 0.5)) : json_null(), "p10",
	              n_leads ? json_integer(quantile(leads, n_leads, 0.1)) : json_null(),
	              "histogram", hist, "values", values));
	json_object_set_new(run, "messages", json_integer(counted));
	json_object_set_new(run, "messages_per_customer", ratio(counted, visited));
	json_object_set_new(run, "messages_by_kind", by_kind);
	json_object_set_new(run, "held_windows",
	                    json_pack("{s:i,s:i}", "offered", held_offered, "taken", n_moved));
	json_object_set_new(run, "guarantee_cases", json_integer(cases));
	json_object_set_new(run, "cases_for_kept_visits", json_integer(cases_for_kept));
	json_object_set_new(run, "compensation_minor", json_integer(owed));
	json_object_set_new(run, "currency", json_string(currency));
	json_object_set_new(run, "taps",
	                    json_pack("{s:i,s:i,s:i,s:i,s:i}", "sent", tot.taps, "late",
	                              tot.taps_late, "forgotten", tot.taps_forgotten, "refused",
	                              tot.taps_refused, "wasted_journeys", tot.journeys_wasted));
	json_object_set_new(run, "customer_changes_refused", json_integer(r->refused_actions));
	json_object_set_new(run, "timeline", timeline(r, &f, ev));
	json_object_set_new(
	    run, "accounting",
	    json_pack("{s:i,s:i,s:i,s:i,s:i}", "unaccounted", unaccounted, "broken_without_case",
	              broken_without_case, "at_risk_without_one_apology", not_one_apology,
	              "too_many_updates", too_many_updates, "update_after_small_move", small));
#undef EV_OF
	free(leads);
	free(lateness);
	free(at);
	free(ev);
	otd_sim_facts_cleanup(&f);
	return run;
}

/* ---- the run ------------------------------------------------------------ */

static char *const no_speeds[] = {NULL};

static void configure(struct run *r)
{
	const struct sim_run_options *o = r->o;
	const struct sim_scenario *sc = r->sc;
	r->cfg = *o->base; /* shallow: every string the run changes points at run-owned text */
	r->cfg.database = r->db;
	r->cfg.timezone = (char *)sc->timezone;
	r->cfg.virtual_clock = true;
	r->cfg.virtual_start = r->virtual_start;
	r->cfg.listen = (char *)"127.0.0.1:0";
	r->cfg.public_url = (char *)"https://visits.example";
	r->cfg.planning.quantile = o->policy == SIM_BASELINE ? 0.5 : 0.8;
	if(o->quantile > 0 && o->policy == SIM_ONTHEDOT)
		r->cfg.planning.quantile = o->quantile;
	r->cfg.planning.step_minutes = o->policy == SIM_BASELINE
	                                   ? o->width_minutes
	                                   : (o->width_minutes < 30 ? o->width_minutes : 30);
	r->cfg.planning.speed_kmh = sc->speed_kmh;
	r->cfg.planning.road_factor = sc->road_factor;
	r->cfg.planning.speed_by_hour = (char **)no_speeds;
	r->cfg.planning.break_minutes = sc->break_minutes;
	r->cfg.planning.break_start = (char *)sc->break_start;
	r->cfg.planning.break_end = (char *)sc->break_end;
	r->cfg.booking.horizon_days = sc->booking_days + r->n_played + 7;
	r->cfg.booking.same_day_cutoff = (char *)"";
	r->cfg.booking.holds_per_client = 3;
	/* The caps on text messages guard a public form against abuse, which
	 * is not what is simulated (every simulated number shares a prefix). */
	r->cfg.booking.sms_prefix_per_hour = 1000000;
	r->cfg.booking.sms_number_per_day = 1000000;
	r->cfg.guarantees.rule_set = (char *)sc->rule_set;
	r->cfg.guarantees.dir = (char *)"";
	r->cfg.messages.record_only = true;
	r->cfg.messages.templates_dir = (char *)"";
	r->cfg.messages.quiet_start = (char *)"";
	r->cfg.messages.quiet_end = (char *)"";
	r->cfg.messages.proactive = o->policy == SIM_ONTHEDOT;
	r->cfg.dispatch.auto_rebalance = o->policy == SIM_ONTHEDOT;
	r->cfg.dispatch.rebalance_iterations = SIM_REBALANCE_ITERATIONS;
	r->cfg.store.read_connections = 2;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = {"sim.sqlite", "sim.sqlite-wal", "sim.sqlite-shm",
	                                    "sim.sqlite-journal"};
	char path[700];
	for(size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static enum otd_status copy_file(const char *from, const char *to, struct otd_error *err)
{
	FILE *in = fopen(from, "rb");
	if(!in)
		return otd_error_set(err, OTD_EIO, "io_error", NULL, "Cannot read %s: %s", from,
		                     strerror(errno));
	FILE *out = fopen(to, "wb");
	if(!out) {
		fclose(in);
		return otd_error_set(err, OTD_EIO, "io_error", NULL, "Cannot write %s: %s", to,
		                     strerror(errno));
	}
	char buf[65536];
	size_t n;
	bool ok = true;
	while((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = ok && fwrite(buf, 1, n, out) == n;
	ok = ok && !ferror(in);
	fclose(in);
	if(fclose(out) != 0 || !ok)
		return otd_error_set(err, OTD_EIO, "io_error", NULL, "Cannot write %s", to);
	return OTD_OK;
}

enum otd_status sim_run(const struct sim_run_options *o, json_t **run_out, json_t **timing,
                        struct otd_error *err)
{
	*run_out = NULL;
	*timing = NULL;
	if(o->days < 1 || o->days > 14)
		return otd_error_set(err, OTD_EINVAL, "bad_days", "days",
		                     "--days must be 1 to 14 (got %d).", o->days);
	if(o->quantile != 0 && (o->quantile < 0.5 || o->quantile > 0.99))
		return otd_error_set(err, OTD_EINVAL, "bad_quantile", "quantile",
		                     "--quantile must be 0.5 to 0.99 (got %g).", o->quantile);
	if(o->width_minutes < 15 || o->width_minutes > 480)
		return otd_error_set(err, OTD_EINVAL, "bad_width", "width",
		                     "--width must be 15 to 480 minutes (got %d).",
		                     o->width_minutes);
	struct run *r = xcalloc(1, sizeof(*r));
	r->o = o;
	r->sc = o->scenario;
	double t0 = now_s();
	const char *tmp = o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
	snprintf(r->dir, sizeof(r->dir), "%s/onthedot-sim-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	enum otd_status st = OTD_OK;
	if(!mkdtemp(r->dir)) {
		st = otd_error_set(err, OTD_EIO, "io_error", NULL,
		                   "Cannot make a temporary folder in %s: %s",
		                   tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
		free(r);
		return st;
	}
	snprintf(r->db, sizeof(r->db), "%s/sim.sqlite", r->dir);
	/* Played: the history days (the working days just before the first
	 * simulated day), then the simulated days. */
	char newest_first[7][11];
	int found = 0;
	for(int back = 1; found < r->sc->history_days && back <= 60; back++) {
		char d[11];
		date_add(r->sc->first_day, -back, d);
		bool any = false;
		for(size_t g = 0; g < r->sc->n_groups; g++)
			any = any || works_on(&r->sc->groups[g], d);
		if(any)
			memcpy(newest_first[found++], d, 11);
	}
	for(int k = 0; k < found; k++)
		memcpy(r->days[k], newest_first[found - 1 - k], 11);
	r->first_measured = found;
	r->n_played = found + o->days;
	for(int k = 0; k < o->days; k++)
		date_add(r->sc->first_day, k, r->days[found + k]);
	configure(r);
	st = app_create_database(r->db, err);
	if(st == OTD_OK) {
		/* The clock starts at local midnight of the first booking day;
		 * the zone is loaded by app_open, so the start is found from a
		 * first opening with any start, then set. */
		snprintf(r->virtual_start, sizeof(r->virtual_start), "%sT00:00:00Z", r->days[0]);
		st = app_open(&r->app, &r->cfg, OTD_APP_SIMULATION, err);
		r->app_open = st == OTD_OK;
	}
	if(st == OTD_OK) {
		/* The virtual clock cannot go back: it was opened at the first day;
		 * open again at the start of the booking days. */
		char first[11];
		date_add(r->days[0], -r->sc->booking_days, first);
		int64_t start = local_at(r->app.tz, first, NULL, 0);
		app_close(&r->app);
		r->app_open = false;
		time_t ts = (time_t)start;
		struct tm tm;
		gmtime_r(&ts, &tm);
		strftime(r->virtual_start, sizeof(r->virtual_start), "%Y-%m-%dT%H:%M:%SZ", &tm);
		st = app_open(&r->app, &r->cfg, OTD_APP_SIMULATION, err);
		r->app_open = st == OTD_OK;
	}
	if(st == OTD_OK)
		st = setup_world(r, err);
	double t1 = now_s();
	double t_hist = 0;
	if(st == OTD_OK) {
		make_customers(r);
		queue_actions(r);
		/* The booking days before the first played day. */
		st = run_actions(r, local_at(r->app.tz, r->days[0], NULL, 0), true, err);
	}
	double t2 = now_s();
	for(int k = 0; k < r->n_played && st == OTD_OK; k++) {
		if(k == r->first_measured)
			t_hist = now_s() - t2;
		st = play_day(r, k, err);
	}
	double t3 = now_s();
	json_t *run = NULL;
	if(st == OTD_OK) {
		run = figures(r, err);
		if(!run)
			st = err->status ? err->status : OTD_EINTERNAL;
	}
	double t4 = now_s();
	if(r->app_open)
		app_close(&r->app);
	if(st == OTD_OK && o->keep_db)
		st = copy_file(r->db, o->keep_db, err);
	remove_dir(r->dir);
	if(st == OTD_OK) {
		*run_out = run;
		*timing =
		    json_pack("{s:s,s:i,s:f,s:f,s:f,s:f,s:f,s:f}", "policy",
		              sim_policy_name(o->policy), "width_minutes", o->width_minutes,
		              "setup_s", t1 - t0, "booking_s", t2 - t1, "history_s", t_hist,
		              "days_s", t3 - t2 - t_hist, "figures_s", t4 - t3, "total_s", t4 - t0);
	} else {
		json_decref(run);
	}
	for(int k = 0; k < r->n_played; k++)
		sim_player_free(r->players[k]);
	free(r->acts);
	free(r->visitors);
	free(r->customers);
	free(r->appt_customer);
	free(r);
	return st;
}

json_t *sim_report_head(const struct sim_scenario *s, uint64_t seed, int days)
{
	json_t *scenario = json_pack(
	    "{s:s,s:s,s:i,s:s,s:i,s:i,s:i,s:I,s:s,s:i}", "name", s->name, "description",
	    s->description, "visitors", sim_scenario_visitors(s), "first_day", s->first_day, "days",
	    days, "booking_days", s->booking_days, "history_days", s->history_days, "seed",
	    (json_int_t)seed, "timezone", s->timezone, "requests_per_day", s->requests_per_day);
	json_t *defs = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s}", "utilisation",
	    "(time on site + time driving) / shift time, over every visitor working the day "
	    "(waiting outside for a window to open is not counted as work)",
	    "kept",
	    "the visitor reached the door by the end of the window as the customer last chose it "
	    "(booked, or moved themselves before the day); an early arrival counts as kept",
	    "moved",
	    "appointments we moved: the customer took a window we held for them after an apology; "
	    "reported apart, never as kept. A visit given to another visitor in the same window is "
	    "judged like any other (and counted as reassigned)",
	    "false_alarm", "an apology for a window that was then kept", "warned",
	    "a broken promise whose customer had an apology before the window ended; the lead is "
	    "how long before the end",
	    "messages",
	    "messages we sent on our own about the visit on its day (on the way, apology, "
	    "updates, back on time, another visitor, promise broken), each counted once whatever "
	    "the channels; not the confirmations of the customer's own changes, the reminder the "
	    "day before or the request for feedback; per customer with a visit due");
	return json_pack("{s:o,s:o}", "scenario", scenario, "definitions", defs);
}
