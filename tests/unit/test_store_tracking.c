/* Unit tests: store/tracking.c through the store's writer and read pool on a
 * real migrated database: a visitor's day (not started when nothing is
 * stored, every field round-tripped, the schema's CHECKs), taps kept as
 * evidence with and without a position, client event ids seen in events
 * and positions and unique per visitor, appointment status, the projected
 * risk (p_late clamped), a day's stops in route order without cancelled
 * ones, observations filtered and newest first, learned durations and
 * travel, tasks. Reference rows are written with sqlite3 directly, as the
 * schema allows. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/store.h"
#include "store/tracking.h"
#include "testutil.h"

#define DAY "2026-03-03"

static char *db_path;
static struct otd_store *store;
static struct otd_error last_err;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/store-tracking-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = {.path = db_path,
	                              .read_connections = 2,
	                              .writer_queue = 16,
	                              .writer_wait_ms = 5000,
	                              .busy_timeout_ms = 5000,
	                              .group_commit_max = 4};
	ck_assert_int_eq(store_open(&o, &store, &err), OTD_OK);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	free(db_path);
}

/* ---- direct SQL --------------------------------------------------------- */

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return db;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static long long sql_int(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Every row of a one-column query, joined with ";". */
static const char *sql_list(const char *sql)
{
	static char out[4096];
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	size_t off = 0;
	out[0] = '\0';
	while(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? ";" : "",
		                        t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Two visitors, two visit types, three addresses, one customer; Ann's day
 * DAY holds four appointments: route positions 2048 (id 1), 1024 (id 2),
 * none (id 3, 14:00) and a cancelled one at 512 (id 4); Bob has one (id
 * 5) the same day. */
static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "120, 1, 1), ('meter', 'Meter reading', 1, 20, 0.1, 60, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('Ann Lee', 'Gas engineer', 52.0, -1.0, 1, 1), ('Bob Ray', 'Gas engineer', "
	    "52.1, -1.1, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, "
	    "updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, -1.5, 1, 1),"
	    "('2 Mill Lane', 'AB1 9ZZ', 'AB19ZZ', '2 mill lane|AB19ZZ', 52.3, -1.6, 1, 1),"
	    "('3 Kiln Row', 'XY9 8WV', 'XY98WV', '3 kiln row|XY98WV', 52.4, -1.7, 1, 1);"
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Zoë', '+447700900001', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, route_position, created_at, "
	    "updated_at) VALUES "
	    "('OTD-AAA201', 1, 1, 1, 1, '" DAY "', 1772535600, 1772542800, 2048, 500, 500),"
	    "('OTD-AAA202', 1, 2, 2, 1, '" DAY "', 1772528400, 1772535600, 1024, 500, 500),"
	    "('OTD-AAA203', 1, 3, 1, 1, '" DAY "', 1772546400, 1772553600, NULL, 500, 500),"
	    "('OTD-AAA204', 1, 1, 1, 1, '" DAY "', 1772524800, 1772532000, 512, 500, 500),"
	    "('OTD-AAA205', 1, 1, 1, 2, '" DAY "', 1772524800, 1772532000, 1024, 500, 500);"
	    "UPDATE appointments SET status = 'cancelled', cancelled_at = 600, cancelled_by = "
	    "'customer', route_position = 512 WHERE id = 4;");
}

/* ---- jobs ----------------------------------------------------------------- */

static enum otd_status write_job(store_write_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_write(store, fn, arg, &last_err);
}

static enum otd_status read_job(store_read_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_read(store, fn, arg, &last_err);
}

struct day_job {
	int64_t visitor;
	const char *date;
	struct otd_visitor_day d;
	int64_t now;
};

static enum otd_status day_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct day_job *j = arg;
	return store_visitor_day_get(c, j->visitor, j->date, &j->d, err);
}

static enum otd_status day_put_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct day_job *j = arg;
	return store_visitor_day_put(tx, &j->d, j->now, err);
}

static struct otd_visitor_day day_get(int64_t visitor, const char *date, enum otd_status want)
{
	struct day_job j = {.visitor = visitor, .date = date};
	memset(&j.d, 0x5a, sizeof(j.d)); /* garbage the store must overwrite */
	ck_assert_int_eq(read_job(day_get_fn, &j), want);
	return j.d;
}

static enum otd_status day_put(const struct otd_visitor_day *d, int64_t now)
{
	struct day_job j = {.d = *d, .now = now};
	return write_job(day_put_fn, &j);
}

static struct otd_visitor_day day_of(int64_t visitor, const char *state, int64_t appointment)
{
	struct otd_visitor_day d;
	memset(&d, 0, sizeof(d));
	d.visitor_id = visitor;
	snprintf(d.local_date, sizeof(d.local_date), DAY);
	snprintf(d.state, sizeof(d.state), "%s", state);
	d.appointment_id = appointment;
	d.since = 1000;
	return d;
}

/* ---- visitor days ----------------------------------------------------------- */

START_TEST(a_visitor_day_not_stored_is_not_started)
{
	seed();
	struct otd_visitor_day d = day_get(1, DAY, OTD_ENOTFOUND);
	ck_assert_int_eq(d.visitor_id, 1);
	ck_assert_str_eq(d.local_date, DAY);
	ck_assert_str_eq(d.state, "not_started");
	ck_assert_int_eq(d.appointment_id, 0);
	ck_assert_int_eq(d.since, 0);
	ck_assert(!d.has_from);
	ck_assert_int_eq(d.late_s, 0);
	ck_assert_int_eq(d.last_event_at, 0);
	ck_assert_str_eq(d.unavailable_reason, "");
	ck_assert(!d.silent);
	ck_assert(!d.break_taken);
	ck_assert_int_eq(d.pos_at, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_days"), 0);
}
END_TEST

START_TEST(a_visitor_day_round_trips_every_field)
{
	seed();
	struct otd_visitor_day d = day_of(1, "travelling", 2);
	d.since = 1772526000;
	d.has_from = true;
	d.from_lat = 52.05;
	d.from_lon = -1.25;
	d.late_s = 900;
	d.last_event_at = 1772526100;
	d.silent = true;
	d.break_taken = true;
	d.pos_at = 1772526200;
	d.pos_lat = 52.125;
	d.pos_lon = -1.375;
	ck_assert_int_eq(day_put(&d, 1772526300), OTD_OK);
	struct otd_visitor_day g = day_get(1, DAY, OTD_OK);
	ck_assert_int_eq(g.visitor_id, 1);
	ck_assert_str_eq(g.local_date, DAY);
	ck_assert_str_eq(g.state, "travelling");
	ck_assert_int_eq(g.appointment_id, 2);
	ck_assert_int_eq(g.since, 1772526000);
	ck_assert(g.has_from);
	ck_assert_double_eq(g.from_lat, 52.05);
	ck_assert_double_eq(g.from_lon, -1.25);
	ck_assert_int_eq(g.late_s, 900);
	ck_assert_int_eq(g.last_event_at, 1772526100);
	ck_assert_str_eq(g.unavailable_reason, "");
	ck_assert(g.silent);
	ck_assert(g.break_taken);
	ck_assert_int_eq(g.pos_at, 1772526200);
	ck_assert_double_eq(g.pos_lat, 52.125);
	ck_assert_double_eq(g.pos_lon, -1.375);
	ck_assert_str_eq(sql_list("SELECT updated_at FROM visitor_days"), "1772526300");
	/* Another day and another visitor are other rows. */
	ck_assert_int_eq(day_get(1, "2026-03-04", OTD_ENOTFOUND).appointment_id, 0);
	ck_assert_str_eq(day_get(2, DAY, OTD_ENOTFOUND).state, "not_started");

	/* Written again: the same row, updated; no position or start place,
	 * no last event: NULLs, read back as absent. */
	struct otd_visitor_day u = day_of(1, "unavailable", 0);
	u.since = 1772530000;
	snprintf(u.unavailable_reason, sizeof(u.unavailable_reason), "breakdown");
	ck_assert_int_eq(day_put(&u, 1772530001), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_days"), 1);
	g = day_get(1, DAY, OTD_OK);
	ck_assert_str_eq(g.state, "unavailable");
	ck_assert_str_eq(g.unavailable_reason, "breakdown");
	ck_assert_int_eq(g.appointment_id, 0);
	ck_assert_int_eq(g.since, 1772530000);
	ck_assert(!g.has_from);
	ck_assert_int_eq(g.pos_at, 0);
	ck_assert_int_eq(g.late_s, 0);
	ck_assert_int_eq(g.last_event_at, 0);
	ck_assert(!g.silent);
	ck_assert(!g.break_taken);
	ck_assert_str_eq(sql_list("SELECT coalesce(from_lat, 'NULL') || ' ' || coalesce(pos_lat, "
	                          "'NULL') || ' ' || coalesce(pos_at, 'NULL') || ' ' || "
	                          "coalesce(last_event_at, 'NULL') || ' ' || "
	                          "coalesce(appointment_id, 'NULL') || ' ' || updated_at FROM "
	                          "visitor_days"),
	                 "NULL NULL NULL NULL NULL 1772530001");
}
END_TEST

START_TEST(the_schema_refuses_impossible_visitor_days)
{
	seed();
	struct otd_visitor_day ok = day_of(1, "on_site", 1);
	ck_assert_int_eq(day_put(&ok, 2000), OTD_OK);
	/* Travelling or on site names the appointment; nothing else does. */
	struct otd_visitor_day d = day_of(1, "travelling", 0);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	ck_assert_str_eq(last_err.code, "conflict");
	d = day_of(1, "on_site", 0);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	d = day_of(1, "idle", 3);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	/* Unavailable exactly when there is a reason, one of three. */
	d = day_of(1, "unavailable", 0);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	snprintf(d.unavailable_reason, sizeof(d.unavailable_reason), "bored");
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	d = day_of(1, "idle", 0);
	snprintf(d.unavailable_reason, sizeof(d.unavailable_reason), "sick");
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	/* Unknown states, places off the globe, negative lateness. */
	d = day_of(1, "asleep", 0);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	d = day_of(1, "idle", 0);
	d.has_from = true;
	d.from_lat = 91;
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	d = day_of(1, "idle", 0);
	d.pos_at = 5;
	d.pos_lon = 181;
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	d = day_of(1, "idle", 0);
	d.late_s = -60;
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	/* An appointment that does not exist (foreign key). */
	d = day_of(1, "travelling", 99);
	ck_assert_int_eq(day_put(&d, 2001), OTD_ECONFLICT);
	/* The first row is untouched by every refusal. */
	struct otd_visitor_day g = day_get(1, DAY, OTD_OK);
	ck_assert_str_eq(g.state, "on_site");
	ck_assert_int_eq(g.appointment_id, 1);
	ck_assert_str_eq(sql_list("SELECT updated_at FROM visitor_days"), "2000");
}
END_TEST

/* ---- evidence ----------------------------------------------------------------- */

struct event_job {
	struct otd_visitor_event_row row;
	/* positions */
	int64_t visitor, at;
	double lat, lon, accuracy;
	const char *client_id;
	bool seen;
};

static enum otd_status event_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct event_job *j = arg;
	return store_visitor_event_insert(tx, &j->row, err);
}

static enum otd_status position_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct event_job *j = arg;
	bool inserted;
	enum otd_status st = store_position_insert(tx, j->visitor, j->at, j->at + 5, j->lat, j->lon,
	                                           j->accuracy, j->client_id, &inserted, err);
	if(st == OTD_OK && !inserted)
		st = otd_error_set(err, OTD_ECONFLICT, "duplicate", NULL, "seen");
	return st;
}

static enum otd_status seen_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct event_job *j = arg;
	return store_client_event_seen(c, j->visitor, j->client_id, &j->seen, err);
}

static bool seen(int64_t visitor, const char *client_id)
{
	struct event_job j = {.visitor = visitor, .client_id = client_id, .seen = true};
	ck_assert_int_eq(read_job(seen_fn, &j), OTD_OK);
	bool first = j.seen;
	j.seen = false; /* the answer does not depend on what was there */
	ck_assert_int_eq(read_job(seen_fn, &j), OTD_OK);
	ck_assert_int_eq(j.seen, first);
	return j.seen;
}

static struct otd_visitor_event_row tap(int64_t visitor, const char *kind, int64_t appointment,
                                        const char *client_id)
{
	return (struct otd_visitor_event_row){.visitor_id = visitor,
	                                      .local_date = DAY,
	                                      .kind = kind,
	                                      .appointment_id = appointment,
	                                      .received_at = 1772527000,
	                                      .claimed_at = 1772526940,
	                                      .actor_kind = "user",
	                                      .actor_id = 7,
	                                      .client_id = client_id};
}

START_TEST(taps_are_kept_with_and_without_a_position)
{
	seed();
	struct event_job j = {.row = tap(1, "start_travel", 2, "c-1")};
	j.row.has_position = true;
	j.row.lat = 52.01;
	j.row.lon = -1.02;
	j.row.accuracy = 12.5;
	j.row.detail = "{\"note\":\"gate\"}";
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	/* No position, no appointment, no client id, no actor, no detail. */
	j.row = tap(1, "late", 0, NULL);
	j.row.actor_kind = "system";
	j.row.actor_id = 0;
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	ck_assert_str_eq(
	    sql_list("SELECT visitor_id || '|' || local_date || '|' || kind || '|' || "
	             "coalesce(appointment_id, 'NULL') || '|' || received_at || '|' || claimed_at "
	             "|| '|' || actor_kind || '|' || coalesce(actor_id, 'NULL') || '|' || "
	             "coalesce(client_event_id, 'NULL') || '|' || coalesce(lat, 'NULL') || '|' || "
	             "coalesce(lon, 'NULL') || '|' || coalesce(accuracy_m, 'NULL') || '|' || "
	             "detail FROM visitor_events ORDER BY id"),
	    "1|" DAY "|start_travel|2|1772527000|1772526940|user|7|c-1|52.01|-1.02|12.5|"
	    "{\"note\":\"gate\"};"
	    "1|" DAY "|late|NULL|1772527000|1772526940|system|NULL|NULL|NULL|NULL|NULL|{}");
	/* The schema keeps the evidence honest: kinds and actors it knows. */
	j.row = tap(1, "teleported", 0, NULL);
	ck_assert_int_eq(write_job(event_fn, &j), OTD_ECONFLICT);
	j.row = tap(1, "done", 0, NULL);
	j.row.actor_kind = "customer";
	ck_assert_int_eq(write_job(event_fn, &j), OTD_ECONFLICT);
	j.row = tap(1, "done", 0, NULL);
	j.row.has_position = true;
	j.row.lat = 95;
	ck_assert_int_eq(write_job(event_fn, &j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_events"), 2);
}
END_TEST

START_TEST(a_client_event_id_is_unique_per_visitor)
{
	seed();
	ck_assert(!seen(1, "c-1"));
	struct event_job j = {.row = tap(1, "start_travel", 2, "c-1")};
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	ck_assert(seen(1, "c-1"));
	ck_assert(!seen(1, "c-2"));
	ck_assert(!seen(2, "c-1"));
	/* The same id again for Ann: refused by the unique index, nothing
	 * added; for Bob the same id is his own. */
	j.row = tap(1, "arrived", 2, "c-1");
	ck_assert_int_eq(write_job(event_fn, &j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_events"), 1);
	j.row = tap(2, "start_travel", 5, "c-1");
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	ck_assert(seen(2, "c-1"));
	/* Taps without a client id never collide. */
	j.row = tap(1, "late", 0, NULL);
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	ck_assert_int_eq(write_job(event_fn, &j), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_events"), 4);

	/* Positions carry client ids too, seen the same way. */
	j = (struct event_job){.visitor = 1,
	                       .at = 1772527100,
	                       .lat = 52.1,
	                       .lon = -1.2,
	                       .accuracy = 8,
	                       .client_id = "p-1"};
	ck_assert(!seen(1, "p-1"));
	ck_assert_int_eq(write_job(position_fn, &j), OTD_OK);
	ck_assert(seen(1, "p-1"));
	ck_assert(!seen(2, "p-1"));
	ck_assert_int_eq(write_job(position_fn, &j), OTD_ECONFLICT);
	j.visitor = 2;
	ck_assert_int_eq(write_job(position_fn, &j), OTD_OK);
	/* Without a client id or an accuracy (< 0: not given). */
	j = (struct event_job){
	    .visitor = 1, .at = 1772527200, .lat = 52.2, .lon = -1.3, .accuracy = -1};
	ck_assert_int_eq(write_job(position_fn, &j), OTD_OK);
	ck_assert_int_eq(write_job(position_fn, &j), OTD_OK);
	ck_assert_str_eq(sql_list("SELECT visitor_id || '|' || at || '|' || lat || '|' || lon || "
	                          "'|' || coalesce(accuracy_m, 'NULL') || '|' || "
	                          "coalesce(client_event_id, 'NULL') FROM visitor_positions ORDER "
	                          "BY id"),
	                 "1|1772527100|52.1|-1.2|8.0|p-1;2|1772527100|52.1|-1.2|8.0|p-1;"
	                 "1|1772527200|52.2|-1.3|NULL|NULL;1|1772527200|52.2|-1.3|NULL|NULL");
	/* A position off the globe is refused. */
	j.lat = -90.5;
	ck_assert_int_eq(write_job(position_fn, &j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_positions"), 4);
}
END_TEST

/* ---- appointment status and risk ------------------------------------------------ */

struct status_job {
	int64_t id;
	const char *status;
	int64_t arrived, done, now;
	struct otd_appointment_risk r;
};

static enum otd_status status_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct status_job *j = arg;
	return store_appointment_status(tx, j->id, j->status, j->arrived, j->done, j->now, err);
}

static enum otd_status risk_put_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct status_job *j = arg;
	return store_appointment_risk_put(tx, j->id, &j->r, j->now, err);
}

static enum otd_status risk_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct status_job *j = arg;
	return store_appointment_risk_get(c, j->id, &j->r, err);
}

static enum otd_status set_status(int64_t id, const char *status, int64_t arrived, int64_t done,
                                  int64_t now)
{
	struct status_job j = {
	    .id = id, .status = status, .arrived = arrived, .done = done, .now = now};
	return write_job(status_fn, &j);
}

#define APPT_STATUS(id)                                                                            \
	sql_list(                                                                                  \
	    "SELECT status || '|' || coalesce(arrived_at, 'NULL') || '|' || "                      \
	    "coalesce(done_at, 'NULL') || '|' || updated_at FROM appointments WHERE id = " #id)

START_TEST(appointment_status_keeps_its_times)
{
	seed();
	ck_assert_int_eq(set_status(1, "travelling", 0, 0, 2000), OTD_OK);
	ck_assert_str_eq(APPT_STATUS(1), "travelling|NULL|NULL|2000");
	ck_assert_int_eq(set_status(1, "arrived", 2100, 0, 2101), OTD_OK);
	ck_assert_str_eq(APPT_STATUS(1), "arrived|2100|NULL|2101");
	/* Times not given (0) keep what was stored. */
	ck_assert_int_eq(set_status(1, "done", 0, 2900, 2901), OTD_OK);
	ck_assert_str_eq(APPT_STATUS(1), "done|2100|2900|2901");
	/* A clock behind the creation never makes updated_at earlier. */
	ck_assert_int_eq(set_status(2, "travelling", 0, 0, 10), OTD_OK);
	ck_assert_str_eq(APPT_STATUS(2), "travelling|NULL|NULL|500");
	/* The schema refuses arrived without an arrival time and unknown
	 * statuses; the row stays as it was. */
	ck_assert_int_eq(set_status(2, "arrived", 0, 0, 3000), OTD_ECONFLICT);
	ck_assert_int_eq(set_status(2, "lost", 0, 0, 3000), OTD_ECONFLICT);
	ck_assert_str_eq(APPT_STATUS(2), "travelling|NULL|NULL|500");
	/* Another appointment is untouched throughout. */
	ck_assert_str_eq(APPT_STATUS(3), "booked|NULL|NULL|500");
}
END_TEST

START_TEST(risk_round_trips_and_clamps_p_late)
{
	seed();
	struct status_job j = {.id = 2};
	/* As booked: ok, nothing projected. */
	ck_assert_int_eq(read_job(risk_get_fn, &j), OTD_OK);
	ck_assert_str_eq(j.r.risk, "ok");
	ck_assert_double_eq(j.r.p_late, 0);
	ck_assert_int_eq(j.r.expected_arrival, 0);
	ck_assert_int_eq(j.r.band_early, 0);
	ck_assert_int_eq(j.r.band_late, 0);
	ck_assert_str_eq(j.r.reason, "");
	ck_assert(!j.r.forced);
	ck_assert_int_eq(j.r.changed_at, 0);

	j = (struct status_job){.id = 2, .now = 3000};
	snprintf(j.r.risk, sizeof(j.r.risk), "at_risk");
	j.r.p_late = 0.625;
	j.r.expected_arrival = 1772534000;
	j.r.band_early = 1772533000;
	j.r.band_late = 1772536000;
	snprintf(j.r.reason, sizeof(j.r.reason), "cannot attend: van");
	j.r.forced = true;
	j.r.changed_at = 2999;
	ck_assert_int_eq(write_job(risk_put_fn, &j), OTD_OK);
	struct status_job g = {.id = 2};
	ck_assert_int_eq(read_job(risk_get_fn, &g), OTD_OK);
	ck_assert_str_eq(g.r.risk, "at_risk");
	ck_assert_double_eq(g.r.p_late, 0.625);
	ck_assert_int_eq(g.r.expected_arrival, 1772534000);
	ck_assert_int_eq(g.r.band_early, 1772533000);
	ck_assert_int_eq(g.r.band_late, 1772536000);
	ck_assert_str_eq(g.r.reason, "cannot attend: van");
	ck_assert(g.r.forced);
	ck_assert_int_eq(g.r.changed_at, 2999);
	ck_assert_str_eq(sql_list("SELECT updated_at FROM appointments WHERE id = 2"), "3000");

	/* p_late outside [0, 1] is clamped; no reason and no change time are
	 * stored as NULL, read back as "" and 0. */
	j.r.p_late = 1.75;
	j.r.reason[0] = '\0';
	j.r.changed_at = 0;
	j.r.forced = false;
	ck_assert_int_eq(write_job(risk_put_fn, &j), OTD_OK);
	ck_assert_int_eq(read_job(risk_get_fn, &g), OTD_OK);
	ck_assert_double_eq(g.r.p_late, 1.0);
	ck_assert_str_eq(g.r.reason, "");
	ck_assert(!g.r.forced);
	ck_assert_int_eq(g.r.changed_at, 0);
	ck_assert_str_eq(
	    sql_list("SELECT coalesce(risk_reason, 'NULL') || ' ' || "
	             "coalesce(risk_changed_at, 'NULL') FROM appointments WHERE id = 2"),
	    "NULL NULL");
	j.r.p_late = -0.25;
	ck_assert_int_eq(write_job(risk_put_fn, &j), OTD_OK);
	ck_assert_int_eq(read_job(risk_get_fn, &g), OTD_OK);
	ck_assert_double_eq(g.r.p_late, 0.0);
	/* Unknown risk names are refused; unknown appointments not found. */
	snprintf(j.r.risk, sizeof(j.r.risk), "doomed");
	ck_assert_int_eq(write_job(risk_put_fn, &j), OTD_ECONFLICT);
	ck_assert_str_eq(sql_list("SELECT risk FROM appointments WHERE id = 2"), "at_risk");
	g = (struct status_job){.id = 42};
	ck_assert_int_eq(read_job(risk_get_fn, &g), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "not_found");
	/* The other appointments kept their risk. */
	ck_assert_str_eq(sql_list("SELECT group_concat(risk) FROM appointments WHERE id <> 2"),
	                 "ok,ok,ok,ok");
}
END_TEST

/* ---- day stops --------------------------------------------------------------------- */

struct stops_job {
	int64_t visitor;
	const char *date;
	struct otd_day_stop *stops;
	size_t n;
};

static enum otd_status stops_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct stops_job *j = arg;
	return store_day_stops(c, j->visitor, j->date, &j->stops, &j->n, err);
}

START_TEST(day_stops_come_in_route_order_without_cancelled_ones)
{
	seed();
	ck_assert_int_eq(set_status(1, "arrived", 1772535700, 0, 1772535700), OTD_OK);
	sql_exec("UPDATE appointments SET risk = 'watch', p_late = 0.25, expected_arrival = "
	         "1772535650, band_early = 1772535000, band_late = 1772536000, risk_reason = 'r', "
	         "risk_forced = 1, risk_changed_at = 77 WHERE id = 3");
	struct stops_job j = {.visitor = 1, .date = DAY};
	ck_assert_int_eq(read_job(stops_fn, &j), OTD_OK);
	/* 1024 (id 2), 2048 (id 1), then no position (id 3); not the cancelled
	 * one at 512, not Bob's. */
	ck_assert_uint_eq(j.n, 3);
	ck_assert_int_eq(j.stops[0].appointment_id, 2);
	ck_assert_int_eq(j.stops[1].appointment_id, 1);
	ck_assert_int_eq(j.stops[2].appointment_id, 3);
	const struct otd_day_stop *s = &j.stops[0];
	ck_assert_str_eq(s->reference, "OTD-AAA202");
	ck_assert_str_eq(s->status, "booked");
	ck_assert_double_eq(s->lat, 52.3);
	ck_assert_double_eq(s->lon, -1.6);
	ck_assert_int_eq(s->window_start, 1772528400);
	ck_assert_int_eq(s->window_end, 1772535600);
	ck_assert_int_eq(s->visit_type_id, 2);
	ck_assert_double_eq(s->median_min, 20);
	ck_assert_double_eq(s->spread, 0.1);
	ck_assert_int_eq(s->arrived_at, 0);
	ck_assert_str_eq(s->risk.risk, "ok");
	s = &j.stops[1];
	ck_assert_str_eq(s->status, "arrived");
	ck_assert_int_eq(s->arrived_at, 1772535700);
	ck_assert_int_eq(s->done_at, 0);
	ck_assert_double_eq(s->median_min, 45);
	s = &j.stops[2];
	ck_assert_str_eq(s->risk.risk, "watch");
	ck_assert_double_eq(s->risk.p_late, 0.25);
	ck_assert_int_eq(s->risk.expected_arrival, 1772535650);
	ck_assert_int_eq(s->risk.band_early, 1772535000);
	ck_assert_int_eq(s->risk.band_late, 1772536000);
	ck_assert_str_eq(s->risk.reason, "r");
	ck_assert(s->risk.forced);
	ck_assert_int_eq(s->risk.changed_at, 77);
	free(j.stops);

	/* Done and no_access stay on the day; a day with nothing is empty. */
	ck_assert_int_eq(set_status(1, "done", 0, 1772538000, 1772538000), OTD_OK);
	ck_assert_int_eq(set_status(2, "no_access", 0, 0, 1772538000), OTD_OK);
	j = (struct stops_job){.visitor = 1, .date = DAY};
	ck_assert_int_eq(read_job(stops_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 3);
	ck_assert_str_eq(j.stops[0].status, "no_access");
	ck_assert_str_eq(j.stops[1].status, "done");
	ck_assert_int_eq(j.stops[1].done_at, 1772538000);
	free(j.stops);
	j = (struct stops_job){.visitor = 2, .date = DAY};
	ck_assert_int_eq(read_job(stops_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 1);
	ck_assert_int_eq(j.stops[0].appointment_id, 5);
	free(j.stops);
	j = (struct stops_job){.visitor = 1, .date = "2026-03-04"};
	ck_assert_int_eq(read_job(stops_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 0);
	free(j.stops);
}
END_TEST

/* ---- observations and learning -------------------------------------------------------- */

struct obs_job {
	const char *kind;
	int64_t visitor, type;
	int hour;
	double value;
	int64_t appointment, at;
	double out[16];
	size_t max, n;
};

static enum otd_status obs_insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct obs_job *j = arg;
	return store_observation_insert(tx, j->kind, j->visitor, j->type, j->hour, j->value,
	                                j->appointment, j->at, err);
}

static enum otd_status obs_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct obs_job *j = arg;
	return store_observations(c, j->kind, j->type, j->visitor, j->hour, j->out, j->max, &j->n,
	                          err);
}

static void observe(const char *kind, int64_t visitor, int64_t type, int hour, double value,
                    int64_t at)
{
	struct obs_job j = {.kind = kind,
	                    .visitor = visitor,
	                    .type = type,
	                    .hour = hour,
	                    .value = value,
	                    .appointment = 1,
	                    .at = at};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_OK);
}

/* The values matched, newest first, as "v,v,v". */
static const char *observed(const char *kind, int64_t type, int64_t visitor, int hour, size_t max)
{
	static char out[256];
	struct obs_job j = {
	    .kind = kind, .type = type, .visitor = visitor, .hour = hour, .max = max};
	for(size_t i = 0; i < 16; i++)
		j.out[i] = -1;
	ck_assert_int_eq(read_job(obs_fn, &j), OTD_OK);
	ck_assert_uint_le(j.n, max);
	for(size_t i = j.n; i < 16; i++)
		ck_assert_double_eq(j.out[i], -1); /* nothing written past n */
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < j.n; i++)
		off +=
		    (size_t)snprintf(out + off, sizeof(out) - off, "%s%g", i ? "," : "", j.out[i]);
	return out;
}

START_TEST(observations_filter_and_come_newest_first)
{
	seed();
	/* Durations (visitor, visit type): type 1 by Ann (three), type 1 by
	 * Bob, type 2 by Ann. */
	observe("duration", 1, 1, -1, 2700, 100);
	observe("duration", 1, 1, -1, 3000, 300);
	observe("duration", 2, 1, -1, 3300, 200);
	observe("duration", 1, 2, -1, 1200, 250);
	observe("duration", 1, 1, -1, 2400, 400);
	/* Journeys: Ann at 08 (two) and 14, Bob at 08. */
	observe("travel", 1, 0, 8, 1.25, 100);
	observe("travel", 1, 0, 14, 0.75, 200);
	observe("travel", 2, 0, 8, 2.5, 150);
	observe("travel", 1, 0, 8, 1.5, 300);

	ck_assert_str_eq(observed("duration", 1, 0, -1, 16), "2400,3000,3300,2700");
	ck_assert_str_eq(observed("duration", 1, 1, -1, 16), "2400,3000,2700");
	ck_assert_str_eq(observed("duration", 1, 2, -1, 16), "3300");
	ck_assert_str_eq(observed("duration", 2, 2, -1, 16), "");
	ck_assert_str_eq(observed("duration", 2, 0, -1, 16), "1200");
	ck_assert_str_eq(observed("duration", 0, 0, -1, 16), "2400,3000,1200,3300,2700");
	/* At most max, the newest. */
	ck_assert_str_eq(observed("duration", 1, 0, -1, 2), "2400,3000");
	ck_assert_str_eq(observed("duration", 1, 0, -1, 0), "");
	ck_assert_str_eq(observed("travel", 0, 1, -1, 16), "1.5,0.75,1.25");
	ck_assert_str_eq(observed("travel", 0, 1, 8, 16), "1.5,1.25");
	ck_assert_str_eq(observed("travel", 0, 0, 8, 16), "1.5,2.5,1.25");
	ck_assert_str_eq(observed("travel", 0, 1, 9, 16), "");
	ck_assert_str_eq(observed("travel", 0, 2, -1, 1), "2.5");
	/* The same time: the later insert first. */
	observe("travel", 1, 0, 8, 3.0, 300);
	ck_assert_str_eq(observed("travel", 0, 1, 8, 1), "3");

	/* The schema: a duration names its visit type, a journey none; values
	 * are positive; hours 0..23; the two kinds only. */
	struct obs_job j = {
	    .kind = "duration", .visitor = 1, .type = 0, .hour = -1, .value = 60, .at = 5};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_ECONFLICT);
	j = (struct obs_job){
	    .kind = "travel", .visitor = 1, .type = 1, .hour = 3, .value = 1, .at = 5};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_ECONFLICT);
	j = (struct obs_job){.kind = "travel", .visitor = 1, .hour = 3, .value = 0, .at = 5};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_ECONFLICT);
	j = (struct obs_job){.kind = "travel", .visitor = 1, .hour = 24, .value = 1, .at = 5};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_ECONFLICT);
	j = (struct obs_job){.kind = "speed", .visitor = 1, .hour = 3, .value = 1, .at = 5};
	ck_assert_int_eq(write_job(obs_insert_fn, &j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM observations"), 10);
	ck_assert_str_eq(sql_list("SELECT kind || ' ' || coalesce(visit_type_id, 'NULL') || ' ' || "
	                          "coalesce(hour, 'NULL') || ' ' || appointment_id FROM "
	                          "observations WHERE id IN (1, 6)"),
	                 "duration 1 NULL 1;travel NULL 8 1");
}
END_TEST

struct learned_job {
	int64_t type, visitor;
	int hour;
	size_t n;
	double median, sigma;
	int64_t now;
	struct otd_learned_duration *all;
	size_t n_all;
	struct otd_learned_travel t;
};

static enum otd_status ld_put_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct learned_job *j = arg;
	return store_learned_duration_put(tx, j->type, j->visitor, j->n, j->median, j->sigma,
	                                  j->now, err);
}

static enum otd_status ld_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct learned_job *j = arg;
	return store_learned_duration_get(c, j->type, j->visitor, &j->n, &j->median, &j->sigma,
	                                  err);
}

static enum otd_status ld_list_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct learned_job *j = arg;
	return store_learned_durations(c, &j->all, &j->n_all, err);
}

static enum otd_status lt_put_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct learned_job *j = arg;
	return store_learned_travel_put(tx, j->visitor, j->hour, j->n, j->median, j->sigma, j->now,
	                                err);
}

static enum otd_status lt_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct learned_job *j = arg;
	return store_learned_travel_get(c, j->visitor, &j->t, err);
}

static void ld_put(int64_t type, int64_t visitor, size_t n, double median, double sigma,
                   int64_t now, enum otd_status want)
{
	struct learned_job j = {
	    .type = type, .visitor = visitor, .n = n, .median = median, .sigma = sigma, .now = now};
	ck_assert_int_eq(write_job(ld_put_fn, &j), want);
}

START_TEST(learned_durations_put_get_and_list)
{
	seed();
	struct learned_job j = {.type = 1, .visitor = 0, .n = 99, .median = -1, .sigma = -1};
	ck_assert_int_eq(read_job(ld_get_fn, &j), OTD_ENOTFOUND);
	ld_put(1, 0, 3, 2800.5, 0.2, 100, OTD_OK);
	ld_put(1, 1, 2, 2650, 0.15, 100, OTD_OK);
	ld_put(2, 2, 25, 1300, 0.05, 100, OTD_OK);
	j = (struct learned_job){.type = 1, .visitor = 1};
	ck_assert_int_eq(read_job(ld_get_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 2);
	ck_assert_double_eq(j.median, 2650);
	ck_assert_double_eq(j.sigma, 0.15);
	j = (struct learned_job){.type = 1, .visitor = 2};
	ck_assert_int_eq(read_job(ld_get_fn, &j), OTD_ENOTFOUND);
	/* Written again: replaced, not added. */
	ld_put(1, 0, 4, 2900, 0.25, 200, OTD_OK);
	j = (struct learned_job){.type = 1, .visitor = 0};
	ck_assert_int_eq(read_job(ld_get_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 4);
	ck_assert_double_eq(j.median, 2900);
	ck_assert_double_eq(j.sigma, 0.25);
	ck_assert_str_eq(
	    sql_list("SELECT updated_at FROM learned_durations WHERE visit_type_id = 1 "
	             "AND visitor_id = 0"),
	    "200");
	/* The schema: a median is positive, a sigma not negative, the visit
	 * type exists. */
	ld_put(1, 0, 4, 0, 0.25, 300, OTD_ECONFLICT);
	ld_put(1, 0, 4, 60, -0.1, 300, OTD_ECONFLICT);
	ld_put(9, 0, 4, 60, 0.1, 300, OTD_ECONFLICT);

	/* Every model, by visit type then visitor. */
	ck_assert_int_eq(read_job(ld_list_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n_all, 3);
	ck_assert_int_eq(j.all[0].visit_type_id, 1);
	ck_assert_int_eq(j.all[0].visitor_id, 0);
	ck_assert_uint_eq(j.all[0].n, 4);
	ck_assert_double_eq(j.all[0].median_s, 2900);
	ck_assert_int_eq(j.all[1].visit_type_id, 1);
	ck_assert_int_eq(j.all[1].visitor_id, 1);
	ck_assert_double_eq(j.all[1].sigma, 0.15);
	ck_assert_int_eq(j.all[2].visit_type_id, 2);
	ck_assert_int_eq(j.all[2].visitor_id, 2);
	ck_assert_uint_eq(j.all[2].n, 25);
	ck_assert_double_eq(j.all[2].median_s, 1300);
	ck_assert_double_eq(j.all[2].sigma, 0.05);
	free(j.all);
}
END_TEST

START_TEST(learned_travel_by_hour_and_overall)
{
	seed();
	struct learned_job j = {.visitor = 1};
	memset(&j.t, 0xff, sizeof(j.t));
	ck_assert_int_eq(read_job(lt_get_fn, &j), OTD_OK);
	for(int h = 0; h < 25; h++)
		ck_assert(!j.t.has[h]);
	struct learned_job p = {
	    .visitor = 1, .hour = -1, .n = 5, .median = 1.2, .sigma = 0.3, .now = 100};
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	p = (struct learned_job){
	    .visitor = 1, .hour = 8, .n = 2, .median = 1.5, .sigma = 0.2, .now = 100};
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	p.hour = 0;
	p.median = 0.9;
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	p.hour = 23;
	p.median = 1.1;
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	/* Bob's are his own. */
	p = (struct learned_job){
	    .visitor = 2, .hour = 9, .n = 1, .median = 3, .sigma = 0.1, .now = 100};
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	/* Written again: replaced. */
	p = (struct learned_job){
	    .visitor = 1, .hour = 8, .n = 3, .median = 1.4, .sigma = 0.25, .now = 200};
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_OK);
	/* Hours outside -1..23 and factors not positive are refused. */
	p.hour = 24;
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_ECONFLICT);
	p.hour = -2;
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_ECONFLICT);
	p.hour = 7;
	p.median = 0;
	ck_assert_int_eq(write_job(lt_put_fn, &p), OTD_ECONFLICT);

	j = (struct learned_job){.visitor = 1};
	ck_assert_int_eq(read_job(lt_get_fn, &j), OTD_OK);
	for(int h = 0; h < 25; h++)
		ck_assert_msg(j.t.has[h] == (h == 0 || h == 8 || h == 23 || h == 24), "hour %d", h);
	ck_assert_uint_eq(j.t.n[24], 5);
	ck_assert_double_eq(j.t.factor[24], 1.2);
	ck_assert_double_eq(j.t.spread[24], 0.3);
	ck_assert_uint_eq(j.t.n[8], 3);
	ck_assert_double_eq(j.t.factor[8], 1.4);
	ck_assert_double_eq(j.t.spread[8], 0.25);
	ck_assert_double_eq(j.t.factor[0], 0.9);
	ck_assert_double_eq(j.t.factor[23], 1.1);
	j = (struct learned_job){.visitor = 2};
	ck_assert_int_eq(read_job(lt_get_fn, &j), OTD_OK);
	for(int h = 0; h < 25; h++)
		ck_assert(j.t.has[h] == (h == 9));
	ck_assert_double_eq(j.t.factor[9], 3);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM learned_travel"), 5);
}
END_TEST

/* ---- tasks ------------------------------------------------------------------------ */

struct task_job {
	const char *kind;
	int64_t appointment;
	const char *note;
	int64_t now;
};

static enum otd_status task_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct task_job *j = arg;
	return store_task_insert(tx, j->kind, j->appointment, j->note, j->now, err);
}

START_TEST(tasks_are_open_work_for_a_dispatcher)
{
	seed();
	struct task_job j = {
	    .kind = "rebook", .appointment = 1, .note = "Needs a part", .now = 700};
	ck_assert_int_eq(write_job(task_fn, &j), OTD_OK);
	j = (struct task_job){.kind = "call", .appointment = 2, .note = NULL, .now = 800};
	ck_assert_int_eq(write_job(task_fn, &j), OTD_OK);
	ck_assert_str_eq(
	    sql_list("SELECT id || '|' || kind || '|' || appointment_id || '|' || state "
	             "|| '|' || note || '|' || created_at || '|' || "
	             "coalesce(done_at, 'NULL') FROM tasks ORDER BY id"),
	    "1|rebook|1|open|Needs a part|700|NULL;2|call|2|open||800|NULL");
	/* Unknown kinds and appointments are refused. */
	j = (struct task_job){.kind = "email", .appointment = 1, .now = 900};
	ck_assert_int_eq(write_job(task_fn, &j), OTD_ECONFLICT);
	j = (struct task_job){.kind = "call", .appointment = 99, .now = 900};
	ck_assert_int_eq(write_job(task_fn, &j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tasks"), 2);
}
END_TEST

/* ---- active visitors --------------------------------------------------------------- */

struct active_job {
	const char *date;
	int64_t *ids;
	size_t n;
};

static enum otd_status active_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct active_job *j = arg;
	return store_active_visitors(c, j->date, &j->ids, &j->n, err);
}

START_TEST(active_visitors_have_something_left_to_visit)
{
	seed();
	struct active_job j = {.date = DAY};
	ck_assert_int_eq(read_job(active_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 2);
	ck_assert_int_eq(j.ids[0], 1);
	ck_assert_int_eq(j.ids[1], 2);
	free(j.ids);
	/* Bob's one visit done: only Ann; Ann's arrived one still counts. */
	ck_assert_int_eq(set_status(5, "arrived", 1772525000, 0, 1772525000), OTD_OK);
	ck_assert_int_eq(set_status(5, "done", 0, 1772526000, 1772526000), OTD_OK);
	ck_assert_int_eq(set_status(1, "no_access", 0, 0, 1772526000), OTD_OK);
	ck_assert_int_eq(set_status(2, "arrived", 1772529000, 0, 1772529000), OTD_OK);
	ck_assert_int_eq(set_status(3, "no_access", 0, 0, 1772526000), OTD_OK);
	j = (struct active_job){.date = DAY};
	ck_assert_int_eq(read_job(active_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 1);
	ck_assert_int_eq(j.ids[0], 1);
	free(j.ids);
	j = (struct active_job){.date = "2026-03-04"};
	ck_assert_int_eq(read_job(active_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 0);
	free(j.ids);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_tracking");
	TCase *tc = tcase_create("store_tracking");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_visitor_day_not_stored_is_not_started);
	tcase_add_test(tc, a_visitor_day_round_trips_every_field);
	tcase_add_test(tc, the_schema_refuses_impossible_visitor_days);
	tcase_add_test(tc, taps_are_kept_with_and_without_a_position);
	tcase_add_test(tc, a_client_event_id_is_unique_per_visitor);
	tcase_add_test(tc, appointment_status_keeps_its_times);
	tcase_add_test(tc, risk_round_trips_and_clamps_p_late);
	tcase_add_test(tc, day_stops_come_in_route_order_without_cancelled_ones);
	tcase_add_test(tc, observations_filter_and_come_newest_first);
	tcase_add_test(tc, learned_durations_put_get_and_list);
	tcase_add_test(tc, learned_travel_by_hour_and_overall);
	tcase_add_test(tc, tasks_are_open_work_for_a_dispatcher);
	tcase_add_test(tc, active_visitors_have_something_left_to_visit);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
