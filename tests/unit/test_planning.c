/* Unit tests: the planner (app/planning.c) on a real store: the catalog
 * snapshot (active visitors with skills, first names and shift occurrences
 * in the zone, visit types, holidays in its range), its rebuild when
 * another process changes the catalog (the fingerprint) or a use case
 * invalidates it, the day cache (hits, builds, days held, one day dropped,
 * a day that expires with its hold, a day read from a snapshot older than
 * its own change not cached while changes elsewhere do not stop it), routes built from the store
 * with the caller's exclusions and the lunch break placed in them, and plan_route_place falling
 * back to an exact re-time where the O(1) check refuses a fit closer than its tolerance. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/catalog.h"
#include "app/planning.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/route.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z" /* a Monday, GMT */

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_principal cli;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/planning-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_principal_cli(&cli);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

/* ---- direct SQL --------------------------------------------------------- */

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

static void utc(int64_t t, char out[21])
{
	ck_assert_uint_eq(otd_rfc3339_format(t, out, 21), 20);
}

/* Ann (gas, metering; weekdays 08:00 for 8 hours, not Wednesday 4 March),
 * Bob (planning; Mondays 08:00 for 2 hours and Mondays and Wednesdays
 * 13:00 for 3 hours), Cy (inactive); an active and an inactive visit type;
 * holidays just inside and just outside the catalog's range. */
static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas'), ('metering'), ('planning');"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, active, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', 52.0, -1.0, 1, 1, 1),"
	    "('Bob', 'Planner', 52.1, -1.1, 1, 1, 1), ('Cy Retired', 'Gas engineer', 52.0, -1.0, "
	    "0, "
	    "1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1), (1, 2), (2, 3), (3, "
	    "1);"
	    "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, rrule) VALUES "
	    "(1, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'),"
	    "(2, 'Europe/London', '2026-03-02T13:00:00', 180, 'FREQ=WEEKLY;BYDAY=MO,WE'),"
	    "(2, 'Europe/London', '2026-03-02T08:00:00', 120, 'FREQ=WEEKLY;BYDAY=MO'),"
	    "(3, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=DAILY');"
	    "INSERT INTO shift_exdates(shift_id, date) VALUES (1, '2026-03-04');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, active, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, "
	    "0.25, 120, 1, 1, 1), ('meter', 'Meter exchange', 2, 30, 0.2, 60, 0, 1, 1);"
	    "INSERT INTO holidays(date, name) VALUES ('2026-02-27', 'Before'), ('2026-02-28', "
	    "'First'), ('2026-03-20', 'Middle'), ('2026-04-02', 'Last'), ('2026-04-03', 'After');"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, "
	    "updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.01, -1.0, 1, 1),"
	    "('2 High St', 'AB1 2CD', 'AB12CD', '2 high st|AB12CD', 52.02, -1.0, 1, 1),"
	    "('3 High St', 'AB1 2CD', 'AB12CD', '3 high st|AB12CD', 52.03, -1.0, 1, 1);"
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Zoë', '+447700900001', 1);");
}

static void appointment(const char *ref, int visitor, int address, const char *date,
                        const char *from, const char *to, const char *status)
{
	bool cancelled = strcmp(status, "cancelled") == 0;
	char *sql = xasprintf(
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, status, cancelled_at, cancelled_by, "
	    "created_at, updated_at) VALUES ('%s', 1, %d, 1, %d, '%s', %lld, %lld, '%s', %s, %s, "
	    "1, "
	    "1)",
	    ref, address, visitor, date, (long long)at(from), (long long)at(to), status,
	    cancelled ? "1" : "NULL", cancelled ? "'customer'" : "NULL");
	sql_exec(sql);
	free(sql);
}

static void hold(int visitor, int address, const char *date, const char *from, const char *to,
                 int64_t expires, int k)
{
	char *sql =
	    xasprintf("INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, "
	              "window_start, window_end, client_key, token_hash, created_at, "
	              "expires_at) VALUES (%d, 1, %d, '%s', %lld, %lld, 'c', x'%062d%02x', "
	              "1, %lld)",
	              visitor, address, date, (long long)at(from), (long long)at(to), 0, k,
	              (long long)expires);
	sql_exec(sql);
	free(sql);
}

/* ---- planner calls on a read connection ------------------------------------- */

struct plan_job {
	int64_t now;
	struct plan_catalog *cat;
	const struct plan_visitor *v;
	const struct plan_visitor *vs[4];
	size_t n;
	const char *date;
	struct plan_day *day, *days[4];
	int64_t exclude_appointment, exclude_hold;
	struct plan_day built;
};

static enum otd_status catalog_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct plan_job *j = arg;
	return planner_catalog(app.planner, c, j->now, &j->cat, err);
}

static enum otd_status days_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct plan_job *j = arg;
	return planner_days(app.planner, c, j->cat, j->vs, j->n, j->date, j->now,
	                    planner_generation(app.planner), j->days, err);
}

static enum otd_status build_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct plan_job *j = arg;
	return planner_build_day(app.planner, c, j->cat, j->v, j->date, j->now,
	                         j->exclude_appointment, j->exclude_hold, &j->built, err);
}

static struct plan_catalog *catalog_at(int64_t now)
{
	struct plan_job j = {.now = now};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_read(app.store, catalog_fn, &j, &err) == OTD_OK, "%s", err.message);
	ck_assert_ptr_nonnull(j.cat);
	return j.cat;
}

/* Day d of visitor v read from a snapshot said to have begun at generation
 * gen (planner_generation before it), as a request's would. */
struct gen_job {
	struct plan_catalog *cat;
	const struct plan_visitor *v;
	const char *date;
	int64_t now;
	uint64_t gen;
	struct plan_day *day;
};

static enum otd_status day_at_gen_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct gen_job *j = arg;
	return planner_day(app.planner, c, j->cat, j->v, j->date, j->now, j->gen, &j->day, err);
}

static struct plan_day *day_since(struct plan_catalog *cat, int64_t visitor, const char *date,
                                  int64_t now, uint64_t gen)
{
	struct gen_job j = {.cat = cat, .date = date, .now = now, .gen = gen};
	j.v = plan_catalog_visitor(cat, visitor);
	ck_assert_ptr_nonnull(j.v);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_read(app.store, day_at_gen_fn, &j, &err) == OTD_OK, "%s", err.message);
	return j.day;
}

/* Day d of visitor v as a request beginning now would read it. */
static struct plan_day *day_of(struct plan_catalog *cat, int64_t visitor, const char *date,
                               int64_t now)
{
	return day_since(cat, visitor, date, now, planner_generation(app.planner));
}

static void build(struct plan_catalog *cat, int64_t visitor, const char *date, int64_t now,
                  int64_t exclude_appointment, int64_t exclude_hold, struct plan_day *out)
{
	struct plan_job j = {.now = now,
	                     .cat = cat,
	                     .date = date,
	                     .exclude_appointment = exclude_appointment,
	                     .exclude_hold = exclude_hold};
	j.v = plan_catalog_visitor(cat, visitor);
	ck_assert_ptr_nonnull(j.v);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_read(app.store, build_fn, &j, &err) == OTD_OK, "%s", err.message);
	*out = j.built;
}

static void stats(uint64_t hits, uint64_t builds, size_t days)
{
	uint64_t h, b;
	size_t d;
	planner_stats(app.planner, &h, &b, &d);
	ck_assert_uint_eq(h, hits);
	ck_assert_uint_eq(b, builds);
	ck_assert_uint_eq(d, days);
}

/* Route r of day d as "H3 V1 B V2" (kind and id), each stop checked
 * against the store item it came from. */
static const char *stops(const struct plan_day *d, size_t r)
{
	static char out[256];
	const struct otd_route *route = &d->routes[r];
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < route->n; i++) {
		const struct otd_stop *s = &route->stops[i];
		long item = d->item_of[r][i];
		if(s->kind == OTD_STOP_BREAK) {
			ck_assert_int_eq(item, -1);
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%sB", i ? " " : "");
			continue;
		}
		ck_assert_int_ge(item, 0);
		ck_assert_int_lt(item, (long)d->n_items);
		const struct otd_route_item *it = &d->items[item];
		ck_assert_int_eq(it->id, s->id);
		ck_assert_int_eq(it->kind == OTD_ITEM_VISIT, s->kind == OTD_STOP_VISIT);
		ck_assert_int_eq(it->window_start, s->a);
		ck_assert_int_eq(it->window_end, s->b);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%c%lld", i ? " " : "",
		                        s->kind == OTD_STOP_VISIT ? 'V' : 'H', (long long)s->id);
	}
	return out;
}

/* ---- the catalog ------------------------------------------------------------ */

START_TEST(catalog_holds_active_visitors_types_and_holidays)
{
	seed();
	int64_t now = at(START);
	struct plan_catalog *cat = catalog_at(now);
	ck_assert_int_eq(cat->built_at, now);
	ck_assert_int_eq(cat->from, now - 2 * 86400);
	ck_assert_int_eq(cat->to, now + 31 * 86400); /* horizon 28 + 3 days */
	ck_assert_str_eq(cat->fingerprint, "3:1|2:1|5:2026-04-03|4:1|0:0:0");

	/* Active visitors only, in id order. */
	ck_assert_uint_eq(cat->n_visitors, 2);
	const struct plan_visitor *ann = plan_catalog_visitor(cat, 1);
	const struct plan_visitor *bob = plan_catalog_visitor(cat, 2);
	ck_assert_ptr_eq(ann, &cat->visitors[0]);
	ck_assert_ptr_eq(bob, &cat->visitors[1]);
	ck_assert_ptr_null(plan_catalog_visitor(cat, 3));
	ck_assert_ptr_null(plan_catalog_visitor(cat, 0));
	ck_assert_ptr_null(plan_catalog_visitor(cat, 99));
	ck_assert_str_eq(ann->name, "Ann Lee");
	ck_assert_str_eq(ann->first_name, "Ann");
	ck_assert_str_eq(ann->role_title, "Gas engineer");
	ck_assert_double_eq(ann->base_lat, 52.0);
	ck_assert_double_eq(ann->base_lon, -1.0);
	ck_assert_str_eq(bob->first_name, "Bob");
	ck_assert(plan_visitor_has_skill(ann, "gas"));
	ck_assert(plan_visitor_has_skill(ann, "metering"));
	ck_assert(!plan_visitor_has_skill(ann, "planning"));
	ck_assert(!plan_visitor_has_skill(ann, "ga"));
	ck_assert(plan_visitor_has_skill(bob, "planning"));
	ck_assert_uint_eq(bob->n_skills, 1);

	/* Ann: every weekday from Monday 2 March to Thursday 2 April (which
	 * overlaps the range), but Wednesday 4 March; local 08:00, so 07:00Z
	 * from 30 March; 8 hours each. */
	ck_assert_uint_eq(ann->n_occ, 23);
	char s[21], e[21];
	utc(ann->occ[0].start, s);
	utc(ann->occ[0].end, e);
	ck_assert_str_eq(s, "2026-03-02T08:00:00Z");
	ck_assert_str_eq(e, "2026-03-02T16:00:00Z");
	utc(ann->occ[1].start, s);
	ck_assert_str_eq(s, "2026-03-03T08:00:00Z");
	utc(ann->occ[2].start, s);
	ck_assert_str_eq(s, "2026-03-05T08:00:00Z");
	utc(ann->occ[19].start, s);
	utc(ann->occ[19].end, e);
	ck_assert_str_eq(s, "2026-03-30T07:00:00Z");
	ck_assert_str_eq(e, "2026-03-30T15:00:00Z");
	utc(ann->occ[22].start, s);
	ck_assert_str_eq(s, "2026-04-02T07:00:00Z");
	for(size_t i = 1; i < ann->n_occ; i++)
		ck_assert_int_gt(ann->occ[i].start, ann->occ[i - 1].start);
	/* Bob: two rules interleaved in time order. */
	ck_assert_uint_eq(bob->n_occ, 15);
	utc(bob->occ[0].start, s);
	utc(bob->occ[0].end, e);
	ck_assert_str_eq(s, "2026-03-02T08:00:00Z");
	ck_assert_str_eq(e, "2026-03-02T10:00:00Z");
	utc(bob->occ[1].start, s);
	utc(bob->occ[1].end, e);
	ck_assert_str_eq(s, "2026-03-02T13:00:00Z");
	ck_assert_str_eq(e, "2026-03-02T16:00:00Z");
	utc(bob->occ[2].start, s);
	ck_assert_str_eq(s, "2026-03-04T13:00:00Z");
	utc(bob->occ[3].start, s);
	ck_assert_str_eq(s, "2026-03-09T08:00:00Z");
	for(size_t i = 1; i < bob->n_occ; i++)
		ck_assert_int_gt(bob->occ[i].start, bob->occ[i - 1].start);

	/* Visit types, inactive ones included (marked). */
	ck_assert_uint_eq(cat->n_types, 2);
	const struct plan_visit_type *boiler = plan_catalog_type(cat, 1);
	const struct plan_visit_type *meter = plan_catalog_type(cat, 2);
	ck_assert_ptr_nonnull(boiler);
	ck_assert_ptr_nonnull(meter);
	ck_assert_ptr_null(plan_catalog_type(cat, 3));
	ck_assert_str_eq(boiler->code, "boiler");
	ck_assert_str_eq(boiler->name, "Boiler repair");
	ck_assert_str_eq(boiler->skill, "gas");
	ck_assert_double_eq(boiler->median_min, 45);
	ck_assert_double_eq(boiler->spread, 0.25);
	ck_assert_int_eq(boiler->window_min, 120);
	ck_assert(boiler->active);
	ck_assert_str_eq(meter->skill, "metering");
	ck_assert(!meter->active);

	/* Holidays from the range's first local date to its last. */
	ck_assert_uint_eq(cat->n_holidays, 3);
	ck_assert_str_eq(cat->holidays[0], "2026-02-28");
	ck_assert_str_eq(cat->holidays[1], "2026-03-20");
	ck_assert_str_eq(cat->holidays[2], "2026-04-02");
	ck_assert(plan_catalog_holiday(cat, "2026-03-20"));
	ck_assert(!plan_catalog_holiday(cat, "2026-03-21"));
	ck_assert(!plan_catalog_holiday(cat, "2026-04-03"));

	/* The same snapshot again while nothing changed. */
	struct plan_catalog *again = catalog_at(now + 1);
	ck_assert_ptr_eq(again, cat);
	planner_catalog_release(app.planner, again);
	planner_catalog_release(app.planner, cat);
}
END_TEST

START_TEST(a_catalog_change_rebuilds_the_catalog_and_drops_cached_days)
{
	seed();
	int64_t now = at(START);
	struct plan_catalog *cat = catalog_at(now);
	struct plan_day *d = day_of(cat, 1, "2026-03-09", now);
	planner_day_release(app.planner, d);
	stats(0, 1, 1);

	/* Another process (an import) changes Ann's role. */
	sql_exec(
	    "UPDATE visitors SET role_title = 'Senior gas engineer', updated_at = 2 WHERE id = "
	    "1");
	/* Within the check interval the snapshot stands. */
	struct plan_catalog *c4 = catalog_at(now + 4);
	ck_assert_ptr_eq(c4, cat);
	ck_assert_str_eq(plan_catalog_visitor(c4, 1)->role_title, "Gas engineer");
	planner_catalog_release(app.planner, c4);
	stats(0, 1, 1);
	/* Then the fingerprint differs: a new catalog, every cached day gone.
	 * The old snapshot stays whole for whoever still holds it. */
	struct plan_catalog *c5 = catalog_at(now + 5);
	ck_assert_ptr_ne(c5, cat);
	ck_assert_str_eq(c5->fingerprint, "3:2|2:1|5:2026-04-03|4:1|0:0:0");
	ck_assert_int_eq(c5->built_at, now + 5);
	ck_assert_str_eq(plan_catalog_visitor(c5, 1)->role_title, "Senior gas engineer");
	ck_assert_str_eq(plan_catalog_visitor(cat, 1)->role_title, "Gas engineer");
	stats(0, 1, 0);
	planner_catalog_release(app.planner, cat);

	/* Checked again with nothing changed: kept. */
	struct plan_catalog *c11 = catalog_at(now + 11);
	ck_assert_ptr_eq(c11, c5);
	ck_assert_int_eq(c11->checked_at, now + 11);
	planner_catalog_release(app.planner, c11);

	/* A visitor updated through the use case drops the catalog at once. */
	d = day_of(c5, 1, "2026-03-09", now + 11);
	planner_day_release(app.planner, d);
	stats(0, 2, 1);
	struct otd_visitor patch = {0}, out = {0};
	patch.role_title = xstrdup("Lead gas engineer");
	struct otd_appointment_brief *affected = NULL;
	size_t n_affected = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_visitor_update(&app, &cli, 1, &patch, VISITOR_SET_ROLE_TITLE, false, &out,
	                                 &affected, &n_affected, &err) == OTD_OK,
	              "%s", err.message);
	otd_visitor_cleanup(&patch);
	otd_visitor_cleanup(&out);
	free(affected);
	stats(0, 2, 0);
	struct plan_catalog *c12 = catalog_at(now + 12);
	ck_assert_ptr_ne(c12, c5);
	ck_assert_str_eq(plan_catalog_visitor(c12, 1)->role_title, "Lead gas engineer");
	planner_catalog_release(app.planner, c12);
	planner_catalog_release(app.planner, c5);

	/* A holiday added by another process is seen too. */
	sql_exec("INSERT INTO holidays(date, name) VALUES ('2026-03-10', 'New')");
	struct plan_catalog *c17 = catalog_at(now + 17);
	ck_assert(plan_catalog_holiday(c17, "2026-03-10"));
	planner_catalog_release(app.planner, c17);
	/* A catalog built for an earlier "now" is not used for a later range. */
	struct plan_catalog *later = catalog_at(now + 3 * 86400);
	ck_assert_int_eq(later->built_at, now + 3 * 86400);
	planner_catalog_release(app.planner, later);
}
END_TEST

/* ---- the day cache ------------------------------------------------------------ */

START_TEST(the_day_cache_counts_hits_and_builds_and_drops_one_day)
{
	seed();
	int64_t now = at(START);
	hold(1, 2, "2026-03-09", "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z", now + 600, 1);
	struct plan_catalog *cat = catalog_at(now);
	stats(0, 0, 0);
	struct plan_day *d1 = day_of(cat, 1, "2026-03-09", now);
	stats(0, 1, 1);
	ck_assert_int_eq(d1->visitor_id, 1);
	ck_assert_str_eq(d1->local_date, "2026-03-09");
	ck_assert_int_eq(d1->built_at, now);
	ck_assert_int_eq(d1->valid_until, now + 600); /* the hold's expiry */
	ck_assert_uint_eq(d1->n_items, 1);
	struct plan_day *again = day_of(cat, 1, "2026-03-09", now + 599);
	ck_assert_ptr_eq(again, d1);
	stats(1, 1, 1);
	planner_day_release(app.planner, again);
	struct plan_day *d2 = day_of(cat, 1, "2026-03-10", now);
	ck_assert_ptr_ne(d2, d1);
	ck_assert_int_eq(d2->valid_until, INT64_MAX);
	stats(1, 2, 2);

	/* Several visitors at once: Ann's day is a hit, Bob's is built. */
	struct plan_job j = {.now = now, .cat = cat, .date = "2026-03-09", .n = 2};
	j.vs[0] = plan_catalog_visitor(cat, 1);
	j.vs[1] = plan_catalog_visitor(cat, 2);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_read(app.store, days_fn, &j, &err), OTD_OK);
	ck_assert_ptr_eq(j.days[0], d1);
	ck_assert_int_eq(j.days[1]->visitor_id, 2);
	ck_assert_uint_eq(j.days[1]->n_routes, 2);
	stats(2, 3, 3);
	planner_day_release(app.planner, j.days[0]);
	planner_day_release(app.planner, j.days[1]);

	/* One day dropped (after a commit that touched it): built again; the
	 * copy still held stays readable. */
	planner_day_invalidate(app.planner, 1, "2026-03-09");
	stats(2, 3, 2);
	planner_day_invalidate(app.planner, 1, "2026-03-09");  /* twice: nothing more */
	planner_day_invalidate(app.planner, 99, "2026-03-09"); /* nobody */
	stats(2, 3, 2);
	struct plan_day *d1b = day_of(cat, 1, "2026-03-09", now + 1);
	ck_assert_ptr_ne(d1b, d1);
	ck_assert_str_eq(d1->local_date, "2026-03-09");
	ck_assert_uint_eq(d1->n_items, 1);
	stats(2, 4, 3);
	planner_day_release(app.planner, d1);
	planner_day_release(app.planner, d1b);
	/* The other days stayed. */
	struct plan_day *d2b = day_of(cat, 1, "2026-03-10", now + 2);
	ck_assert_ptr_eq(d2b, d2);
	stats(3, 4, 3);
	planner_day_release(app.planner, d2b);
	planner_day_release(app.planner, d2);

	/* The hold expires: the day is stale and is built without it. */
	struct plan_day *d1c = day_of(cat, 1, "2026-03-09", now + 600);
	ck_assert_uint_eq(d1c->n_items, 0);
	ck_assert_int_eq(d1c->valid_until, INT64_MAX);
	stats(3, 5, 3);
	planner_day_release(app.planner, d1c);
	/* A date outside the catalog's range is built every time, never cached. */
	struct plan_day *far = day_of(cat, 1, "2026-06-01", now);
	ck_assert_uint_eq(far->n_routes, 0);
	planner_day_release(app.planner, far);
	far = day_of(cat, 1, "2026-06-01", now);
	planner_day_release(app.planner, far);
	stats(3, 7, 3);
	planner_catalog_release(app.planner, cat);
}
END_TEST

START_TEST(a_day_read_before_its_own_change_is_not_cached_but_others_are)
{
	seed();
	int64_t now = at(START);
	struct plan_catalog *cat = catalog_at(now);
	stats(0, 0, 0);
	uint64_t g0 = planner_generation(app.planner);
	/* Other days change while the request reads: its day is still cached. */
	planner_day_invalidate(app.planner, 1, "2026-03-10");
	planner_day_invalidate(app.planner, 2, "2026-03-09");
	struct plan_day *d = day_since(cat, 1, "2026-03-09", now, g0);
	stats(0, 1, 1);
	struct plan_day *hit = day_of(cat, 1, "2026-03-09", now);
	ck_assert_ptr_eq(hit, d);
	stats(1, 1, 1);
	planner_day_release(app.planner, hit);
	planner_day_release(app.planner, d);

	/* Its own day changes after the snapshot began: built, not cached. */
	uint64_t g1 = planner_generation(app.planner);
	planner_day_invalidate(app.planner, 2, "2026-03-10");
	d = day_since(cat, 2, "2026-03-10", now, g1);
	stats(1, 2, 1);
	planner_day_release(app.planner, d);
	d = day_of(cat, 2, "2026-03-10", now); /* a later snapshot: cached */
	stats(1, 3, 2);
	planner_day_release(app.planner, d);

	/* A change to someone not in the catalog counts for every day. */
	uint64_t g2 = planner_generation(app.planner);
	planner_day_invalidate(app.planner, 99, "2026-03-11");
	d = day_since(cat, 1, "2026-03-11", now, g2);
	stats(1, 4, 2);
	planner_day_release(app.planner, d);
	/* So does a catalog change (a snapshot from before it caches nothing
	 * in the new table). */
	uint64_t g3 = planner_generation(app.planner);
	planner_catalog_release(app.planner, cat);
	planner_catalog_invalidate(app.planner);
	cat = catalog_at(now);
	d = day_since(cat, 1, "2026-03-11", now, g3);
	stats(1, 5, 0);
	planner_day_release(app.planner, d);
	planner_catalog_release(app.planner, cat);
}
END_TEST

/* ---- building a day from the store ------------------------------------------------ */

START_TEST(a_day_is_built_with_exclusions_and_a_break)
{
	seed();
	int64_t now = at(START);
	const char *d = "2026-03-09"; /* a Monday, GMT */
	appointment("OTD-PPP201", 1, 1, d, "2026-03-09T10:00:00Z", "2026-03-09T12:00:00Z",
	            "booked"); /* 1 */
	appointment("OTD-PPP202", 1, 3, d, "2026-03-09T13:00:00Z", "2026-03-09T15:00:00Z",
	            "booked"); /* 2 */
	appointment("OTD-PPP203", 1, 2, d, "2026-03-09T10:00:00Z", "2026-03-09T12:00:00Z",
	            "cancelled"); /* 3 */
	appointment("OTD-PPP204", 1, 2, "2026-03-10", "2026-03-10T10:00:00Z",
	            "2026-03-10T12:00:00Z", "booked"); /* 4 */
	appointment("OTD-PPP205", 2, 2, d, "2026-03-09T13:30:00Z", "2026-03-09T14:30:00Z",
	            "booked"); /* 5 */
	appointment("OTD-PPP206", 2, 2, d, "2026-03-09T17:00:00Z", "2026-03-09T18:00:00Z",
	            "booked"); /* 6: outside Bob's shifts */
	hold(1, 2, d, "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z", now + 600, 1); /* 1 */
	hold(1, 2, d, "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z", now, 2);       /* expired */
	struct plan_catalog *cat = catalog_at(now);

	struct plan_day day;
	build(cat, 1, d, now, 0, 0, &day);
	ck_assert_int_eq(day.visitor_id, 1);
	ck_assert_uint_eq(day.n_routes, 1);
	ck_assert_uint_eq(day.n_items, 3);
	const struct otd_route *r = &day.routes[0];
	ck_assert_int_eq(r->shift_start, at("2026-03-09T08:00:00Z"));
	ck_assert_int_eq(r->shift_end, at("2026-03-09T16:00:00Z"));
	ck_assert_double_eq(r->base_lat, 52.0);
	/* In window order (nothing positioned yet), the break between the
	 * morning and the afternoon: the only place its window allows. */
	ck_assert_str_eq(stops(&day, 0), "H1 V1 B V2");
	ck_assert(r->timed);
	ck_assert(r->feasible);
	const struct otd_stop *br = &r->stops[2];
	ck_assert_int_eq(br->a, at("2026-03-09T12:00:00Z"));
	ck_assert_int_eq(br->b, at("2026-03-09T14:00:00Z"));
	ck_assert_double_eq(br->service_mean, 30 * 60.0);
	ck_assert_int_eq(day.valid_until, now + 600);
	ck_assert_int_eq(day.built_at, now);
	/* The visit's duration model comes from its visit type. */
	double mean, var;
	otd_lognormal_moments(45 * 60.0, 0.25, &mean, &var);
	ck_assert_double_eq_tol(r->stops[1].service_mean, mean, 1e-9);
	ck_assert_double_eq_tol(r->stops[1].service_var, var, 1e-6);
	plan_day_cleanup(&day);
	ck_assert_uint_eq(day.n_routes, 0);

	/* Leaving out the appointment being moved and the hold being booked. */
	build(cat, 1, d, now, 1, 1, &day);
	ck_assert_uint_eq(day.n_items, 1);
	ck_assert_str_eq(stops(&day, 0), "B V2");
	ck_assert_int_eq(day.valid_until, INT64_MAX);
	plan_day_cleanup(&day);
	build(cat, 1, d, now, 2, 0, &day);
	ck_assert_str_eq(stops(&day, 0), "H1 V1 B");
	plan_day_cleanup(&day);
	/* Ids of the other kind are not confused: appointment 1 is not hold 1. */
	build(cat, 1, d, now, 0, 1, &day);
	ck_assert_str_eq(stops(&day, 0), "V1 B V2");
	plan_day_cleanup(&day);

	/* Bob: one route per shift; the morning one is too short for a break,
	 * the afternoon one starts inside the break's window. The visit outside
	 * every shift still counts, on the first route. */
	build(cat, 2, d, now, 0, 0, &day);
	ck_assert_uint_eq(day.n_routes, 2);
	ck_assert_int_eq(day.routes[0].shift_start, at("2026-03-09T08:00:00Z"));
	ck_assert_int_eq(day.routes[1].shift_start, at("2026-03-09T13:00:00Z"));
	ck_assert_str_eq(stops(&day, 0), "V6");
	ck_assert(!day.routes[0].feasible);
	ck_assert_str_eq(stops(&day, 1), "B V5");
	ck_assert_int_eq(day.routes[1].stops[0].a, at("2026-03-09T13:00:00Z"));
	ck_assert_int_eq(day.routes[1].stops[0].b, at("2026-03-09T14:00:00Z"));
	ck_assert_int_eq(
	    plan_day_route_for(&day, at("2026-03-09T08:30:00Z"), at("2026-03-09T09:30:00Z")), 0);
	ck_assert_int_eq(
	    plan_day_route_for(&day, at("2026-03-09T13:00:00Z"), at("2026-03-09T14:00:00Z")), 1);
	ck_assert_int_eq(
	    plan_day_route_for(&day, at("2026-03-09T11:00:00Z"), at("2026-03-09T12:00:00Z")), -1);
	ck_assert_int_eq(
	    plan_day_route_for(&day, at("2026-03-09T07:00:00Z"), at("2026-03-09T08:30:00Z")), -1);
	plan_day_cleanup(&day);

	/* A day without a shift: no route, nothing counted. */
	build(cat, 2, "2026-03-10", now, 0, 0, &day);
	ck_assert_uint_eq(day.n_routes, 0);
	plan_day_cleanup(&day);
	planner_catalog_release(app.planner, cat);
}
END_TEST

START_TEST(the_break_keeps_local_hours_in_summer_time)
{
	seed();
	int64_t now = at(START);
	struct plan_catalog *cat = catalog_at(now);
	struct plan_day day;
	/* Monday 30 March, BST: the break window 12:00-14:00 local is 11-13Z. */
	build(cat, 1, "2026-03-30", now, 0, 0, &day);
	ck_assert_uint_eq(day.n_routes, 1);
	ck_assert_int_eq(day.routes[0].shift_start, at("2026-03-30T07:00:00Z"));
	ck_assert_str_eq(stops(&day, 0), "B");
	ck_assert_int_eq(day.routes[0].stops[0].a, at("2026-03-30T11:00:00Z"));
	ck_assert_int_eq(day.routes[0].stops[0].b, at("2026-03-30T13:00:00Z"));
	plan_day_cleanup(&day);
	/* The local day's bounds on the day the clocks go forward: 23 hours. */
	int64_t s, e;
	ck_assert(planner_day_bounds(app.planner, "2026-03-29", &s, &e));
	ck_assert_int_eq(s, at("2026-03-29T00:00:00Z"));
	ck_assert_int_eq(e, at("2026-03-28T23:00:00Z") + 86400);
	ck_assert(planner_day_bounds(app.planner, "2026-10-25", &s, &e));
	ck_assert_int_eq(s, at("2026-10-24T23:00:00Z"));
	ck_assert_int_eq(e - s, 25 * 3600);
	ck_assert(!planner_day_bounds(app.planner, "2026-02-30", &s, &e));
	char date[11];
	planner_local_date(app.planner, at("2026-03-30T23:30:00Z"), date);
	ck_assert_str_eq(date, "2026-03-31");
	planner_local_date(app.planner, at("2026-03-28T23:30:00Z"), date);
	ck_assert_str_eq(date, "2026-03-28");
	/* A date the planner cannot read is refused. */
	struct plan_job j = {.now = now, .cat = cat, .date = "2026-13-01"};
	j.v = plan_catalog_visitor(cat, 1);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_read(app.store, build_fn, &j, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "invalid_date");
	planner_catalog_release(app.planner, cat);
}
END_TEST

/* ---- plan_route_place ----------------------------------------------------------- */

/* The latitude north of (lat, lon) whose leg from there, departing at t,
 * lasts `seconds` under plan (bisection: legs grow with distance). */
static double lat_for_leg(const struct otd_plan *plan, double lat, double lon, int64_t t,
                          double seconds)
{
	double lo = 0, hi = 1;
	for(int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2, mean, var;
		otd_travel_leg(plan->travel, plan->tz, otd_distance_km(lat, lon, lat + mid, lon), t,
		               t, &mean, &var);
		if(mean < seconds)
			lo = mid;
		else
			hi = mid;
	}
	return lat + (lo + hi) / 2;
}

START_TEST(plan_route_place_falls_back_to_an_exact_retime)
{
	/* Exact travel and durations: arrivals are plain sums. */
	struct otd_config c;
	otd_config_defaults(&c);
	c.planning.travel_spread = 0;
	struct otd_error err;
	otd_error_clear(&err);
	struct otd_planner *p = planner_new(&c, app.tz, &err);
	ck_assert_ptr_nonnull(p);
	const struct otd_plan *plan = planner_plan(p);
	const int64_t S = at("2026-03-03T10:00:00Z");
	const double base_lat = 52.0, base_lon = -1.0;

	/* A stop reached 0.5 ms before its window closes: the model keeps it
	 * (arrival strictly before the end), the O(1) check refuses a fit
	 * closer than its tolerance (1 ms). */
	double lat = lat_for_leg(plan, base_lat, base_lon, S, 600 - 0.0005);
	double mean, var;
	otd_travel_leg(plan->travel, plan->tz, otd_distance_km(base_lat, base_lon, lat, base_lon),
	               S, S, &mean, &var);
	ck_assert_double_eq_tol(mean, 600 - 0.0005, 1e-6);
	ck_assert_double_eq(var, 0);
	struct otd_stop s = {.kind = OTD_STOP_VISIT,
	                     .id = 7,
	                     .lat = lat,
	                     .lon = base_lon,
	                     .a = S,
	                     .b = S + 600,
	                     .service_mean = 360,
	                     .service_var = 0};
	struct otd_route r;
	otd_route_init(&r, base_lat, base_lon, S, S + 7200);
	ck_assert(otd_route_time(&r, plan));
	ck_assert_int_eq(otd_route_best_insertion(&r, plan, &s, NULL), -1);
	ck_assert(!otd_route_can_insert(&r, plan, 0, &s, NULL));
	ck_assert_int_eq(plan_route_place(p, &r, &s), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(r.stops[0].id, 7);
	ck_assert(r.timed);
	ck_assert(r.feasible);
	ck_assert_double_eq_tol(r.arr_mean[0], S + 600 - 0.0005, 1e-6);
	otd_route_cleanup(&r);

	/* 0.5 ms after the window closes: refused by both, the route unchanged. */
	lat = lat_for_leg(plan, base_lat, base_lon, S, 600 + 0.0005);
	s.lat = lat;
	otd_route_init(&r, base_lat, base_lon, S, S + 7200);
	ck_assert_int_eq(plan_route_place(p, &r, &s), -1);
	ck_assert_uint_eq(r.n, 0);
	ck_assert(r.timed);
	ck_assert(r.feasible);
	otd_route_cleanup(&r);

	/* A comfortable fit goes through the O(1) check, at its best place:
	 * after the morning visit (the windows say so), then a third on the
	 * way between the two rather than before or after them. */
	otd_route_init(&r, base_lat, base_lon, S, S + 4 * 3600);
	struct otd_stop near = {.kind = OTD_STOP_VISIT,
	                        .id = 1,
	                        .lat = 52.01,
	                        .lon = base_lon,
	                        .a = S,
	                        .b = S + 3600,
	                        .service_mean = 600};
	struct otd_stop far = {.kind = OTD_STOP_VISIT,
	                       .id = 2,
	                       .lat = 52.01,
	                       .lon = -0.97,
	                       .a = S + 3600,
	                       .b = S + 3 * 3600,
	                       .service_mean = 600};
	struct otd_stop mid = {.kind = OTD_STOP_VISIT,
	                       .id = 3,
	                       .lat = 52.01,
	                       .lon = -0.985,
	                       .a = S,
	                       .b = S + 3 * 3600,
	                       .service_mean = 600};
	ck_assert_int_eq(plan_route_place(p, &r, &near), 0);
	ck_assert_int_eq(plan_route_place(p, &r, &far), 1);
	ck_assert_int_ge(otd_route_best_insertion(&r, plan, &mid, NULL), 0);
	ck_assert_int_eq(plan_route_place(p, &r, &mid), 1);
	ck_assert_int_eq(r.stops[0].id, 1);
	ck_assert_int_eq(r.stops[1].id, 3);
	ck_assert_int_eq(r.stops[2].id, 2);
	ck_assert(r.feasible);
	/* A stop that fits nowhere leaves the route as it was, timed. */
	struct otd_stop late = {.kind = OTD_STOP_VISIT,
	                        .id = 4,
	                        .lat = 52.5,
	                        .lon = base_lon,
	                        .a = S,
	                        .b = S + 600,
	                        .service_mean = 600};
	ck_assert_int_eq(plan_route_place(p, &r, &late), -1);
	ck_assert_uint_eq(r.n, 3);
	ck_assert(r.timed);
	ck_assert(r.feasible);
	otd_route_cleanup(&r);
	planner_free(p);
	otd_config_cleanup(&c);
}
END_TEST

START_TEST(planner_new_refuses_a_bad_speed_entry)
{
	struct otd_config c;
	otd_config_defaults(&c);
	free(c.planning.speed_by_hour);
	c.planning.speed_by_hour = xcalloc(2, sizeof(char *));
	c.planning.speed_by_hour[0] = xstrdup("rush hour");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_ptr_null(planner_new(&c, app.tz, &err));
	ck_assert_str_eq(err.code, "bad_speed");
	ck_assert_str_eq(err.field, "planning.speed_by_hour");
	otd_config_cleanup(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("planning");
	TCase *tc = tcase_create("planning");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, catalog_holds_active_visitors_types_and_holidays);
	tcase_add_test(tc, a_catalog_change_rebuilds_the_catalog_and_drops_cached_days);
	tcase_add_test(tc, the_day_cache_counts_hits_and_builds_and_drops_one_day);
	tcase_add_test(tc, a_day_read_before_its_own_change_is_not_cached_but_others_are);
	tcase_add_test(tc, a_day_is_built_with_exclusions_and_a_break);
	tcase_add_test(tc, the_break_keeps_local_hours_in_summer_time);
	tcase_add_test(tc, plan_route_place_falls_back_to_an_exact_retime);
	tcase_add_test(tc, planner_new_refuses_a_bad_speed_entry);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
