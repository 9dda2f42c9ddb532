/* Unit tests: the catalog use cases (app/catalog.c over store/catalog.c):
 * visitors with skills and shifts, Idempotency-Key replays, partial
 * updates, changes that would break booked appointments, paging, visit
 * types, and shift occurrences across the spring change of the clocks.
 * Appointments are written with sqlite3 directly, as the schema allows. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/catalog.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z" /* a Monday, GMT */
#define START_T 1772442000

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_principal cli;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/catalog-%d.db", testutil_tmpdir(), ++seq);
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

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return db;
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

/* All rows of a one-column query joined with "," into a static buffer. */
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
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? "," : "",
		                        t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
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

/* A customer, an address and a visit type for appointments to point at. */
static void seed_references(void)
{
	sql_exec(
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Cy', '+441632960999', 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', "
	    "'1 high st|AB12CD', 52.2, -1.5, 1, 1);"
	    "INSERT INTO skills(code) VALUES ('appt-skill');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
	    "duration_spread, window_min, created_at, updated_at) VALUES ('appt-type', "
	    "'Visit', (SELECT id FROM skills WHERE code = 'appt-skill'), 60, 0.3, 120, 1, 1);");
}

/* Books an appointment for visitor in [from, to) with status. */
static int64_t appointment(const char *ref, int64_t visitor, const char *from, const char *to,
                           const char *status)
{
	const char *extra = "NULL, NULL, NULL, NULL";
	if(strcmp(status, "arrived") == 0)
		extra = "1, NULL, NULL, NULL";
	else if(strcmp(status, "done") == 0)
		extra = "1, 2, NULL, NULL";
	else if(strcmp(status, "cancelled") == 0)
		extra = "NULL, NULL, 1, 'customer'";
	char date[11];
	snprintf(date, sizeof(date), "%.10s", from);
	char *sql = xasprintf(
	    "INSERT INTO appointments(reference, customer_id, address_id, "
	    "visit_type_id, visitor_id, local_date, window_start, window_end, "
	    "status, arrived_at, done_at, cancelled_at, cancelled_by, created_at, "
	    "updated_at) VALUES ('%s', 1, 1, (SELECT id FROM visit_types WHERE "
	    "code = 'appt-type'), %lld, '%s', %lld, %lld, '%s', %s, 1, 1)",
	    ref, (long long)visitor, date, (long long)at(from), (long long)at(to), status, extra);
	sql_exec(sql);
	free(sql);
	char *q = xasprintf("SELECT id FROM appointments WHERE reference = '%s'", ref);
	long long id = sql_int(q);
	free(q);
	return id;
}

/* ---- visitors ----------------------------------------------------------- */

static void add_shift(struct otd_visitor *v, const char *start, int minutes, const char *rrule)
{
	v->shifts = xrealloc(v->shifts, (v->n_shifts + 1) * sizeof(*v->shifts));
	struct otd_shift *s = &v->shifts[v->n_shifts++];
	memset(s, 0, sizeof(*s));
	snprintf(s->start, sizeof(s->start), "%s", start);
	s->duration_min = minutes;
	snprintf(s->rrule, sizeof(s->rrule), "%s", rrule);
}

static void add_skill(struct otd_visitor *v, const char *code)
{
	v->skills = xrealloc(v->skills, (v->n_skills + 1) * sizeof(char *));
	v->skills[v->n_skills++] = xstrdup(code);
}

/* A visitor working weekdays 08:00-16:00 from Monday 2 March 2026. */
static void weekday_visitor(struct otd_visitor *v, const char *name, const char *email)
{
	memset(v, 0, sizeof(*v));
	v->name = xstrdup(name);
	v->role_title = xstrdup("Gas engineer");
	v->phone = xstrdup("01632 960001");
	v->email = email ? xstrdup(email) : NULL;
	v->base_lat = 52.2;
	v->base_lon = -1.5;
	add_skill(v, "gas");
	add_shift(v, "2026-03-02T08:00:00", 480, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
}

/* Prepares and creates v without an idempotency key; returns its id. */
static int64_t create(struct otd_visitor *v)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_visitor_prepare(&app, v, &err) == OTD_OK, "%s: %s", err.field,
	              err.message);
	bool replayed = true;
	ck_assert_msg(app_visitor_create(&app, &cli, v, NULL, &replayed, &err) == OTD_OK, "%s",
	              err.message);
	ck_assert(!replayed);
	ck_assert_int_gt(v->id, 0);
	return v->id;
}

static int64_t create_weekday(const char *name, const char *email)
{
	struct otd_visitor v;
	weekday_visitor(&v, name, email);
	int64_t id = create(&v);
	otd_visitor_cleanup(&v);
	return id;
}

START_TEST(visitors_are_normalised_stored_and_read_back)
{
	struct otd_visitor v;
	weekday_visitor(&v, "Zoë O'Brien-Nguyễn", "Zoe@Example.ORG");
	add_skill(&v, "broadband");
	v.shifts[0].exdates = xcalloc(1, sizeof(*v.shifts[0].exdates));
	snprintf(v.shifts[0].exdates[0], 11, "2026-03-04");
	v.shifts[0].n_exdates = 1;
	int64_t id = create(&v);
	ck_assert_int_eq(id, 1);
	ck_assert_str_eq(v.phone, "+441632960001");
	ck_assert_str_eq(v.email, "Zoe@example.org");
	ck_assert_str_eq(v.shifts[0].tzid, "Europe/London");
	otd_visitor_cleanup(&v);

	struct otd_visitor got;
	struct otd_error err;
	ck_assert_int_eq(app_visitor_get(&app, id, &got, &err), OTD_OK);
	ck_assert_int_eq(got.id, 1);
	ck_assert_str_eq(got.name, "Zoë O'Brien-Nguyễn");
	ck_assert_str_eq(got.role_title, "Gas engineer");
	ck_assert_str_eq(got.phone, "+441632960001");
	ck_assert_str_eq(got.email, "Zoe@example.org");
	ck_assert_double_eq(got.base_lat, 52.2);
	ck_assert_double_eq(got.base_lon, -1.5);
	ck_assert(got.active);
	ck_assert_int_eq(got.created_at, START_T);
	ck_assert_int_eq(got.updated_at, START_T);
	ck_assert_uint_eq(got.n_skills, 2);
	ck_assert_str_eq(got.skills[0], "broadband"); /* sorted by code */
	ck_assert_str_eq(got.skills[1], "gas");
	ck_assert_uint_eq(got.n_shifts, 1);
	ck_assert_int_gt(got.shifts[0].id, 0);
	ck_assert_str_eq(got.shifts[0].start, "2026-03-02T08:00:00");
	ck_assert_int_eq(got.shifts[0].duration_min, 480);
	ck_assert_str_eq(got.shifts[0].rrule, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	ck_assert_str_eq(got.shifts[0].tzid, "Europe/London");
	ck_assert_uint_eq(got.shifts[0].n_exdates, 1);
	ck_assert_str_eq(got.shifts[0].exdates[0], "2026-03-04");
	otd_visitor_cleanup(&got);

	ck_assert_str_eq(
	    sql_list("SELECT detail FROM audit_log WHERE action = 'visitor.create' AND "
	             "entity = 'visitor' AND entity_id = 1 AND actor_kind = 'cli'"),
	    "{\"shifts\":1,\"skills\":2}");
	/* Unknown ids are not found. */
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_get(&app, 2, &got, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(err.code, "not_found");
}
END_TEST

START_TEST(prepare_refuses_bad_contact_details_and_emails_are_unique)
{
	struct otd_visitor v;
	struct otd_error err;
	weekday_visitor(&v, "Ann", "ann@example.org");
	free(v.phone);
	v.phone = xstrdup("call me");
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "invalid_phone");
	ck_assert_str_eq(err.field, "phone");
	otd_visitor_cleanup(&v);

	weekday_visitor(&v, "Ann", "ann at example.org");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "email");
	otd_visitor_cleanup(&v);

	/* An empty email is none; a missing phone is "". */
	weekday_visitor(&v, "Ann", "");
	free(v.phone);
	v.phone = NULL;
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_OK);
	ck_assert_ptr_null(v.email);
	ck_assert_str_eq(v.phone, "");
	otd_visitor_cleanup(&v);

	/* A shift in another zone is refused, naming it. */
	weekday_visitor(&v, "Ann", NULL);
	snprintf(v.shifts[0].tzid, sizeof(v.shifts[0].tzid), "Europe/Paris");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "shifts[0].tzid");
	otd_visitor_cleanup(&v);

	create_weekday("Ann", "ann@example.org");
	weekday_visitor(&v, "Another Ann", "ann@example.org");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_OK);
	bool replayed;
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_create(&app, &cli, &v, NULL, &replayed, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "email_taken");
	ck_assert_str_eq(err.field, "email");
	otd_visitor_cleanup(&v);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitors"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM shifts"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 1);
}
END_TEST

static void idem_init(struct otd_idem *idem, const char *scope, const char *key, unsigned char h)
{
	memset(idem, 0, sizeof(*idem));
	snprintf(idem->scope, sizeof(idem->scope), "%s", scope);
	idem->key = key;
	memset(idem->hash, h, sizeof(idem->hash));
}

START_TEST(idempotency_key_replays_and_refuses_a_different_request)
{
	struct otd_idem idem;
	struct otd_error err;
	bool replayed = true;
	struct otd_visitor v;

	idem_init(&idem, "token:1", "key-1", 0x11);
	weekday_visitor(&v, "Ann", "ann@example.org");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_OK);
	ck_assert_int_eq(app_visitor_create(&app, &cli, &v, &idem, &replayed, &err), OTD_OK);
	ck_assert(!replayed);
	ck_assert_int_eq(v.id, 1);
	otd_visitor_cleanup(&v);

	/* The retry creates nothing and answers with the first visitor. */
	weekday_visitor(&v, "Ann", "ann@example.org");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_OK);
	ck_assert_int_eq(app_visitor_create(&app, &cli, &v, &idem, &replayed, &err), OTD_OK);
	ck_assert(replayed);
	ck_assert_int_eq(v.id, 1);
	otd_visitor_cleanup(&v);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitors"), 1);

	/* The same key with another request is refused. */
	idem_init(&idem, "token:1", "key-1", 0x22);
	weekday_visitor(&v, "Bob", "bob@example.org");
	ck_assert_int_eq(app_visitor_prepare(&app, &v, &err), OTD_OK);
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_create(&app, &cli, &v, &idem, &replayed, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "idempotency_key_reused");
	ck_assert_str_eq(err.field, "Idempotency-Key");
	ck_assert_int_eq(otd_status_http(err.status), 422);
	ck_assert(!replayed);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitors"), 1);

	/* Keys belong to their scope: another principal may use the same. */
	idem_init(&idem, "token:2", "key-1", 0x22);
	ck_assert_int_eq(app_visitor_create(&app, &cli, &v, &idem, &replayed, &err), OTD_OK);
	ck_assert(!replayed);
	ck_assert_int_eq(v.id, 2);
	otd_visitor_cleanup(&v);

	/* A visit type cannot replay a visitor's key. */
	idem_init(&idem, "token:1", "key-1", 0x11);
	struct otd_visit_type t = {0};
	snprintf(t.code, sizeof(t.code), "survey");
	t.name = xstrdup("Survey");
	snprintf(t.skill, sizeof(t.skill), "survey");
	t.duration_median_min = 30;
	t.duration_spread = 0.3;
	t.window_min = 60;
	otd_error_clear(&err);
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, &idem, &replayed, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "idempotency_key_reused");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visit_types"), 0);
	/* With its own key it is created, and replayed. */
	idem_init(&idem, "token:1", "key-2", 0x33);
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, &idem, &replayed, &err), OTD_OK);
	ck_assert(!replayed);
	int64_t tid = t.id;
	t.id = 0;
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, &idem, &replayed, &err), OTD_OK);
	ck_assert(replayed);
	ck_assert_int_eq(t.id, tid);
	otd_visit_type_cleanup(&t);

	ck_assert_str_eq(
	    sql_list("SELECT scope || '/' || idem_key || '/' || entity || '/' || "
	             "entity_id FROM idempotency_keys ORDER BY scope, idem_key"),
	    "token:1/key-1/visitor/1,token:1/key-2/visit_type/1,token:2/key-1/visitor/2");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE action = 'visitor.create'"),
	                 2);
}
END_TEST

START_TEST(updates_change_only_the_fields_given)
{
	int64_t id = create_weekday("Ann", "ann@example.org");
	create_weekday("Bob", "bob@example.org");
	ck_assert(otd_clock_advance(app.clock, 60));
	struct otd_visitor patch = {0}, out;
	struct otd_appointment_brief *affected = NULL;
	size_t n_affected = 99;
	struct otd_error err;
	otd_error_clear(&err);

	patch.name = xstrdup("Ann Lee");
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_NAME, false, &out,
	                                    &affected, &n_affected, &err),
	                 OTD_OK);
	ck_assert_uint_eq(n_affected, 0);
	ck_assert_ptr_null(affected);
	ck_assert_str_eq(out.name, "Ann Lee");
	ck_assert_str_eq(out.role_title, "Gas engineer");
	ck_assert_str_eq(out.phone, "+441632960001");
	ck_assert_str_eq(out.email, "ann@example.org");
	ck_assert_double_eq(out.base_lat, 52.2);
	ck_assert_uint_eq(out.n_skills, 1);
	ck_assert_uint_eq(out.n_shifts, 1);
	ck_assert_int_eq(out.updated_at, START_T + 60);
	otd_visitor_cleanup(&out);
	struct otd_visitor got;
	ck_assert_int_eq(app_visitor_get(&app, id, &got, &err), OTD_OK);
	ck_assert_str_eq(got.name, "Ann Lee");
	ck_assert_str_eq(got.email, "ann@example.org");
	ck_assert_str_eq(got.shifts[0].start, "2026-03-02T08:00:00");
	ck_assert_int_eq(got.created_at, START_T);
	ck_assert_int_eq(got.updated_at, START_T + 60);
	otd_visitor_cleanup(&got);
	ck_assert_str_eq(sql_list("SELECT detail FROM audit_log WHERE action = 'visitor.update'"),
	                 "{\"affected\":0,\"changed\":[\"name\"]}");

	/* Clearing: email NULL is none, phone "" is none, no skills. */
	patch.email = NULL;
	patch.phone = xstrdup("");
	ck_assert_int_eq(
	    app_visitor_update(&app, &cli, id, &patch,
	                       VISITOR_SET_EMAIL | VISITOR_SET_PHONE | VISITOR_SET_SKILLS, false,
	                       &out, &affected, &n_affected, &err),
	    OTD_OK);
	ck_assert_ptr_null(out.email);
	ck_assert_str_eq(out.phone, "");
	ck_assert_uint_eq(out.n_skills, 0);
	ck_assert_str_eq(out.name, "Ann Lee");
	otd_visitor_cleanup(&out);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_skills WHERE visitor_id = 1"), 0);
	ck_assert_int_eq(sql_int("SELECT email IS NULL FROM visitors WHERE id = 1"), 1);

	/* A bad value changes nothing and names the field. */
	patch.base_lat = 91;
	patch.base_lon = 0;
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_BASE, false, &out,
	                                    &affected, &n_affected, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.field, "base.lat");
	ck_assert_ptr_null(out.name); /* cleaned up on failure */
	free(patch.name);
	patch.name = xstrdup("");
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_NAME, false, &out,
	                                    &affected, &n_affected, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.field, "name");
	ck_assert_int_eq(sql_int("SELECT base_lat = 52.2 AND name = 'Ann Lee' FROM visitors "
	                         "WHERE id = 1"),
	                 1);
	/* Another visitor's email is taken. */
	patch.email = xstrdup("bob@example.org");
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_EMAIL, false, &out,
	                                    &affected, &n_affected, &err),
	                 OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "email_taken");
	/* No such visitor. */
	ck_assert_int_eq(app_visitor_update(&app, &cli, 99, &patch, VISITOR_SET_EMAIL, false, &out,
	                                    &affected, &n_affected, &err),
	                 OTD_ENOTFOUND);
	otd_visitor_cleanup(&patch);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE action = 'visitor.update'"),
	                 2);
}
END_TEST

START_TEST(a_shift_change_that_strands_appointments_needs_confirmation)
{
	seed_references();
	int64_t id = create_weekday("Ann", "ann@example.org");
	/* Now is Monday 09:00Z. */
	int64_t a1 =
	    appointment("OTD-A00001", id, "2026-03-04T10:00:00Z", "2026-03-04T12:00:00Z", "booked");
	appointment("OTD-A00002", id, "2026-03-05T13:00:00Z", "2026-03-05T14:00:00Z", "travelling");
	appointment("OTD-A00003", id, "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z", "done");
	appointment("OTD-A00004", id, "2026-03-04T08:00:00Z", "2026-03-04T09:00:00Z", "cancelled");
	appointment("OTD-A00005", id, "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z", "booked");
	int64_t a6 = appointment("OTD-A00006", id, "2026-03-06T08:30:00Z", "2026-03-06T09:30:00Z",
	                         "arrived");

	/* Shifts move to 12:00-16:00: a1 and a6 fall outside; a2 is inside;
	 * a3 is done, a4 cancelled, a5 already over. */
	struct otd_visitor patch = {0}, out;
	add_shift(&patch, "2026-03-02T12:00:00", 240, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	struct otd_appointment_brief *affected = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_SHIFTS, false, &out,
	                                    &affected, &n, &err),
	                 OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "promises_affected");
	ck_assert_ptr_nonnull(strstr(err.message, "2 booked appointments"));
	ck_assert_int_eq(otd_status_http(err.status), 409);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(affected[0].id, a1);
	ck_assert_str_eq(affected[0].reference, "OTD-A00001");
	ck_assert_int_eq(affected[0].window_start, at("2026-03-04T10:00:00Z"));
	ck_assert_int_eq(affected[0].window_end, at("2026-03-04T12:00:00Z"));
	ck_assert_str_eq(affected[0].local_date, "2026-03-04");
	ck_assert_str_eq(affected[0].status, "booked");
	ck_assert_int_eq(affected[1].id, a6);
	ck_assert_str_eq(affected[1].status, "arrived");
	free(affected);
	ck_assert_ptr_null(out.name);
	/* Nothing changed. */
	ck_assert_str_eq(sql_list("SELECT dtstart_local FROM shifts"), "2026-03-02T08:00:00");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE action = 'visitor.update'"),
	                 0);

	/* Confirmed, it goes through and each stranded appointment gets an event. */
	ck_assert(otd_clock_advance(app.clock, 60));
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_SHIFTS, true, &out,
	                                    &affected, &n, &err),
	                 OTD_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(affected[0].id, a1);
	ck_assert_int_eq(affected[1].id, a6);
	free(affected);
	ck_assert_uint_eq(out.n_shifts, 1);
	ck_assert_str_eq(out.shifts[0].start, "2026-03-02T12:00:00");
	ck_assert_int_eq(out.shifts[0].duration_min, 240);
	otd_visitor_cleanup(&out);
	ck_assert_str_eq(sql_list("SELECT dtstart_local FROM shifts"), "2026-03-02T12:00:00");
	char *q =
	    xasprintf("SELECT appointment_id || ' ' || kind || ' ' || actor_kind || ' ' || "
	              "coalesce(actor_id, 'null') || ' ' || received_at || ' ' || detail FROM "
	              "appointment_events WHERE kind = 'visitor_change' ORDER BY appointment_id");
	char *want = xasprintf("%lld visitor_change cli null %d "
	                       "{\"reason\":\"shift_changed\",\"visitor_id\":1},"
	                       "%lld visitor_change cli null %d "
	                       "{\"reason\":\"shift_changed\",\"visitor_id\":1}",
	                       (long long)a1, START_T + 60, (long long)a6, START_T + 60);
	ck_assert_str_eq(sql_list(q), want);
	free(q);
	free(want);
	/* Tracking forces the booked one at_risk; a6 is already on site. */
	ck_assert_str_eq(sql_list("SELECT appointment_id || ' ' || kind FROM appointment_events "
	                          "WHERE kind <> 'visitor_change' ORDER BY id"),
	                 "1 risk,1 at_risk");
	ck_assert_str_eq(sql_list("SELECT risk || ' ' || risk_forced FROM appointments WHERE id = 1"),
	                 "at_risk 1");
	ck_assert_str_eq(sql_list("SELECT detail FROM audit_log WHERE action = 'visitor.update'"),
	                 "{\"affected\":2,\"changed\":[\"shifts\"]}");
	/* Other fields never consult the appointments. */
	free(patch.name);
	patch.name = xstrdup("Ann Lee");
	ck_assert_int_eq(app_visitor_update(&app, &cli, id, &patch, VISITOR_SET_NAME, false, &out,
	                                    &affected, &n, &err),
	                 OTD_OK);
	ck_assert_uint_eq(n, 0);
	otd_visitor_cleanup(&out);
	otd_visitor_cleanup(&patch);
}
END_TEST

START_TEST(deactivating_a_visitor_with_appointments_needs_confirmation)
{
	seed_references();
	int64_t id = create_weekday("Ann", "ann@example.org");
	int64_t a1 =
	    appointment("OTD-B00001", id, "2026-03-04T10:00:00Z", "2026-03-04T12:00:00Z", "booked");
	int64_t a2 =
	    appointment("OTD-B00002", id, "2026-03-05T13:00:00Z", "2026-03-05T14:00:00Z", "booked");
	struct otd_visitor out;
	struct otd_appointment_brief *affected = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, id, false, false, &out, &affected, &n, &err),
	    OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "promises_affected");
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(affected[0].id, a1);
	ck_assert_int_eq(affected[1].id, a2);
	free(affected);
	ck_assert_int_eq(sql_int("SELECT active FROM visitors WHERE id = 1"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events"), 0);

	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, id, false, true, &out, &affected, &n, &err), OTD_OK);
	ck_assert(!out.active);
	ck_assert_uint_eq(n, 2);
	free(affected);
	otd_visitor_cleanup(&out);
	ck_assert_int_eq(sql_int("SELECT active FROM visitors WHERE id = 1"), 0);
	ck_assert_str_eq(sql_list("SELECT detail FROM appointment_events WHERE kind = "
	                          "'visitor_change' ORDER BY id"),
	                 "{\"reason\":\"visitor_deactivated\",\"visitor_id\":1},"
	                 "{\"reason\":\"visitor_deactivated\",\"visitor_id\":1}");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events WHERE kind = 'at_risk'"), 2);
	ck_assert_str_eq(sql_list("SELECT action || ' ' || detail FROM audit_log WHERE entity = "
	                          "'visitor' AND action <> 'visitor.create'"),
	                 "visitor.deactivate {\"affected\":2}");
	/* Deactivating again changes and records nothing. */
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, id, false, false, &out, &affected, &n, &err),
	    OTD_OK);
	ck_assert(!out.active);
	ck_assert_uint_eq(n, 0);
	otd_visitor_cleanup(&out);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 2);
	/* Reactivating needs no confirmation. */
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, id, true, false, &out, &affected, &n, &err), OTD_OK);
	ck_assert(out.active);
	otd_visitor_cleanup(&out);
	ck_assert_str_eq(sql_list("SELECT action || ' ' || detail FROM audit_log WHERE id = 3"),
	                 "visitor.activate {\"affected\":0}");
	/* A visitor without appointments goes at once. */
	int64_t other = create_weekday("Bob", NULL);
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, other, false, false, &out, &affected, &n, &err),
	    OTD_OK);
	otd_visitor_cleanup(&out);
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, 99, false, true, &out, &affected, &n, &err),
	    OTD_ENOTFOUND);
}
END_TEST

/* Lists and renders the ids as "1,2|next". */
static const char *list_ids(int64_t after, int limit, int active)
{
	static char out[256];
	struct otd_visitor *items = NULL;
	size_t n = 99;
	int64_t next = -1;
	struct otd_error err;
	ck_assert_int_eq(app_visitor_list(&app, after, limit, active, &items, &n, &next, &err),
	                 OTD_OK);
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(items[i].name); /* full records */
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%lld", i ? "," : "",
		                        (long long)items[i].id);
		otd_visitor_cleanup(&items[i]);
	}
	free(items);
	snprintf(out + off, sizeof(out) - off, "|%lld", (long long)next);
	return out;
}

START_TEST(lists_page_in_id_order_with_a_next_cursor)
{
	for(int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "Visitor %d", i + 1);
		create_weekday(name, NULL);
	}
	struct otd_visitor out;
	struct otd_appointment_brief *affected;
	size_t n;
	struct otd_error err;
	ck_assert_int_eq(
	    app_visitor_set_active(&app, &cli, 3, false, false, &out, &affected, &n, &err), OTD_OK);
	otd_visitor_cleanup(&out);
	ck_assert_str_eq(list_ids(0, 2, -1), "1,2|2");
	ck_assert_str_eq(list_ids(2, 2, -1), "3,4|4");
	ck_assert_str_eq(list_ids(4, 2, -1), "5|0");
	ck_assert_str_eq(list_ids(3, 2, -1), "4,5|0"); /* exactly the rest: no next */
	ck_assert_str_eq(list_ids(5, 2, -1), "|0");
	ck_assert_str_eq(list_ids(0, 10, 1), "1,2,4,5|0");
	ck_assert_str_eq(list_ids(0, 3, 1), "1,2,4|4");
	ck_assert_str_eq(list_ids(4, 3, 1), "5|0");
	ck_assert_str_eq(list_ids(0, 10, 0), "3|0");
	ck_assert_str_eq(list_ids(0, 1, -1), "1|1");
}
END_TEST

/* ---- visit types ---------------------------------------------------------- */

static void boiler(struct otd_visit_type *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->code, sizeof(t->code), "boiler-repair");
	t->name = xstrdup("Boiler repair");
	snprintf(t->skill, sizeof(t->skill), "gas");
	t->duration_median_min = 75;
	t->duration_spread = 0.4;
	t->window_min = 120;
}

START_TEST(visit_types_create_read_update_and_list)
{
	struct otd_visit_type t, got, out;
	struct otd_error err;
	bool replayed;
	otd_error_clear(&err);
	boiler(&t);
	t.window_min = 17;
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, NULL, &replayed, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "window_minutes");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visit_types"), 0);
	t.window_min = 120;
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, NULL, &replayed, &err), OTD_OK);
	ck_assert_int_eq(t.id, 1);
	ck_assert(t.active);
	otd_visit_type_cleanup(&t);
	/* The code is unique. */
	boiler(&t);
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, NULL, &replayed, &err),
	                 OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "code_taken");
	ck_assert_str_eq(err.field, "code");
	snprintf(t.code, sizeof(t.code), "meter-exchange");
	snprintf(t.skill, sizeof(t.skill), "metering");
	ck_assert_int_eq(app_visit_type_create(&app, &cli, &t, NULL, &replayed, &err), OTD_OK);
	ck_assert_int_eq(t.id, 2);
	otd_visit_type_cleanup(&t);

	ck_assert_int_eq(app_visit_type_get(&app, 1, &got, &err), OTD_OK);
	ck_assert_str_eq(got.code, "boiler-repair");
	ck_assert_str_eq(got.name, "Boiler repair");
	ck_assert_str_eq(got.skill, "gas");
	ck_assert_double_eq(got.duration_median_min, 75);
	ck_assert_double_eq(got.duration_spread, 0.4);
	ck_assert_int_eq(got.window_min, 120);
	ck_assert(got.active);
	ck_assert_int_eq(got.created_at, START_T);
	otd_visit_type_cleanup(&got);
	ck_assert_int_eq(app_visit_type_get(&app, 3, &got, &err), OTD_ENOTFOUND);

	/* A patch of two fields leaves the others. */
	struct otd_visit_type patch = {0};
	patch.name = xstrdup("Boiler repair (gas)");
	patch.window_min = 180;
	ck_assert(otd_clock_advance(app.clock, 30));
	ck_assert_int_eq(app_visit_type_update(&app, &cli, 1, &patch,
	                                       VISIT_TYPE_SET_NAME | VISIT_TYPE_SET_WINDOW, &out,
	                                       &err),
	                 OTD_OK);
	ck_assert_str_eq(out.name, "Boiler repair (gas)");
	ck_assert_int_eq(out.window_min, 180);
	ck_assert_str_eq(out.code, "boiler-repair");
	ck_assert_str_eq(out.skill, "gas");
	ck_assert_double_eq(out.duration_median_min, 75);
	otd_visit_type_cleanup(&out);
	ck_assert_int_eq(sql_int("SELECT updated_at FROM visit_types WHERE id = 1"), START_T + 30);
	/* A new skill is created on the way. */
	snprintf(patch.skill, sizeof(patch.skill), "heat-pumps");
	ck_assert_int_eq(
	    app_visit_type_update(&app, &cli, 1, &patch, VISIT_TYPE_SET_SKILL, &out, &err), OTD_OK);
	ck_assert_str_eq(out.skill, "heat-pumps");
	otd_visit_type_cleanup(&out);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM skills WHERE code = 'heat-pumps'"), 1);
	/* Invalid values and taken codes change nothing. */
	patch.duration_spread = 3.5;
	ck_assert_int_eq(
	    app_visit_type_update(&app, &cli, 1, &patch, VISIT_TYPE_SET_SPREAD, &out, &err),
	    OTD_EINVAL);
	ck_assert_str_eq(err.field, "duration_spread");
	ck_assert_ptr_null(out.name);
	snprintf(patch.code, sizeof(patch.code), "meter-exchange");
	ck_assert_int_eq(
	    app_visit_type_update(&app, &cli, 1, &patch, VISIT_TYPE_SET_CODE, &out, &err),
	    OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "code_taken");
	ck_assert_int_eq(
	    app_visit_type_update(&app, &cli, 9, &patch, VISIT_TYPE_SET_NAME, &out, &err),
	    OTD_ENOTFOUND);
	ck_assert_str_eq(
	    sql_list("SELECT code || ' ' || duration_spread FROM visit_types ORDER BY id"),
	    "boiler-repair 0.4,meter-exchange 0.4");
	/* Deactivate through the patch; the list filters on it. */
	patch.active = false;
	ck_assert_int_eq(
	    app_visit_type_update(&app, &cli, 1, &patch, VISIT_TYPE_SET_ACTIVE, &out, &err),
	    OTD_OK);
	ck_assert(!out.active);
	otd_visit_type_cleanup(&out);
	otd_visit_type_cleanup(&patch);
	struct otd_visit_type *items;
	size_t n;
	int64_t next;
	ck_assert_int_eq(app_visit_type_list(&app, 0, 10, 1, &items, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(items[0].code, "meter-exchange");
	ck_assert_int_eq(next, 0);
	otd_visit_type_cleanup(&items[0]);
	free(items);
	ck_assert_int_eq(app_visit_type_list(&app, 0, 1, -1, &items, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(items[0].id, 1);
	ck_assert_int_eq(next, 1);
	otd_visit_type_cleanup(&items[0]);
	free(items);
	ck_assert_str_eq(
	    sql_list("SELECT action FROM audit_log WHERE entity = 'visit_type' ORDER BY "
	             "id"),
	    "visit_type.create,visit_type.create,visit_type.update,visit_type.update,"
	    "visit_type.update");
}
END_TEST

/* ---- shift occurrences ---------------------------------------------------- */

START_TEST(shift_occurrences_follow_local_time_across_spring_forward)
{
	struct otd_visitor v = {0};
	v.name = xstrdup("Ann");
	v.role_title = xstrdup("Engineer");
	v.base_lat = 52;
	v.base_lon = -1;
	add_shift(&v, "2026-03-27T08:00:00", 480, "FREQ=DAILY");
	add_shift(&v, "2026-03-27T17:00:00", 60, "FREQ=DAILY");
	int64_t id = create(&v);
	otd_visitor_cleanup(&v);

	struct otd_interval *occ = NULL;
	size_t n = 0;
	struct otd_error err;
	ck_assert_int_eq(app_visitor_shifts(&app, id, at("2026-03-28T00:00:00Z"),
	                                    at("2026-03-31T00:00:00Z"), &occ, &n, &err),
	                 OTD_OK);
	static const char *const want[][2] = {
	    {"2026-03-28T08:00:00Z", "2026-03-28T16:00:00Z"}, /* GMT */
	    {"2026-03-28T17:00:00Z", "2026-03-28T18:00:00Z"},
	    {"2026-03-29T07:00:00Z", "2026-03-29T15:00:00Z"}, /* BST from 01:00Z */
	    {"2026-03-29T16:00:00Z", "2026-03-29T17:00:00Z"},
	    {"2026-03-30T07:00:00Z", "2026-03-30T15:00:00Z"},
	    {"2026-03-30T16:00:00Z", "2026-03-30T17:00:00Z"},
	};
	ck_assert_uint_eq(n, 6);
	for(size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(occ[i].start, at(want[i][0]));
		ck_assert_int_eq(occ[i].end, at(want[i][1]));
	}
	free(occ);
	/* The range is checked. */
	otd_error_clear(&err);
	ck_assert_int_eq(app_visitor_shifts(&app, id, at("2026-03-28T00:00:00Z"),
	                                    at("2026-03-28T00:00:00Z"), &occ, &n, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_range");
	ck_assert_str_eq(err.field, "to");
	ck_assert_ptr_null(occ);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(app_visitor_shifts(&app, id, at("2026-01-01T00:00:00Z"),
	                                    at("2026-01-01T00:00:00Z") + 366 * 86400 + 1, &occ, &n,
	                                    &err),
	                 OTD_EINVAL);
	ck_assert_int_eq(app_visitor_shifts(&app, id, at("2026-01-01T00:00:00Z"),
	                                    at("2026-01-01T00:00:00Z") + 366 * 86400, &occ, &n,
	                                    &err),
	                 OTD_OK);
	ck_assert_uint_eq(n, 2 * (366 - 85)); /* from 27 March to 1 January 2027 */
	free(occ);
	ck_assert_int_eq(app_visitor_shifts(&app, 42, at("2026-03-28T00:00:00Z"),
	                                    at("2026-03-29T00:00:00Z"), &occ, &n, &err),
	                 OTD_ENOTFOUND);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, visitors_are_normalised_stored_and_read_back);
	tcase_add_test(tc, prepare_refuses_bad_contact_details_and_emails_are_unique);
	tcase_add_test(tc, idempotency_key_replays_and_refuses_a_different_request);
	tcase_add_test(tc, updates_change_only_the_fields_given);
	tcase_add_test(tc, a_shift_change_that_strands_appointments_needs_confirmation);
	tcase_add_test(tc, deactivating_a_visitor_with_appointments_needs_confirmation);
	tcase_add_test(tc, lists_page_in_id_order_with_a_next_cursor);
	tcase_add_test(tc, visit_types_create_read_update_and_list);
	tcase_add_test(tc, shift_occurrences_follow_local_time_across_spring_forward);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
