/* Unit tests: the CSV imports (app/imports.c over store/gazetteer.c and
 * store/catalog.c): all or nothing per file, problems named by file, line
 * and column, duplicates inside a file, re-imports that update by UPRN or
 * match key, retire what appointments still use, upsert visit types by
 * code and replace visitors' shifts (refusing to strand a booked
 * appointment unless confirmed). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/imports.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
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
	db_path = xasprintf("%s/imports-%d.db", testutil_tmpdir(), ++seq);
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

/* Every row of a one-column query, joined with ";". */
static const char *sql_list(const char *sql)
{
	static char out[8192];
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

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
	char *msg = NULL;
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
	              msg ? msg : "");
	sqlite3_close(db);
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

/* Books an appointment for visitor at address in [from, to), creating the
 * customer and visit type it needs on first use. */
static void book(const char *ref, int64_t visitor, int64_t address, const char *from,
                 const char *to)
{
	if(sql_int("SELECT count(*) FROM customers") == 0)
		sql_exec(
		    "INSERT INTO customers(name, phone, created_at) VALUES ('Cy', "
		    "'+441632960999', 1);"
		    "INSERT INTO skills(code) VALUES ('appt-skill') ON CONFLICT DO NOTHING;"
		    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
		    "duration_spread, window_min, created_at, updated_at) VALUES ('appt-type', "
		    "'Visit', (SELECT id FROM skills WHERE code = 'appt-skill'), 60, 0.3, 120, 1, "
		    "1);");
	if(sql_int("SELECT count(*) FROM visitors") == 0)
		sql_exec("INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, "
		         "updated_at) VALUES ('Stand-in', 'Eng', 52, -1, 1, 1)");
	char *sql =
	    xasprintf("INSERT INTO appointments(reference, customer_id, address_id, "
	              "visit_type_id, visitor_id, local_date, window_start, window_end, "
	              "created_at, updated_at) VALUES ('%s', 1, %lld, (SELECT id FROM "
	              "visit_types WHERE code = 'appt-type'), %lld, '%.10s', %lld, %lld, 1, "
	              "1)",
	              ref, (long long)address, (long long)visitor, from, (long long)at(from),
	              (long long)at(to));
	sql_exec(sql);
	free(sql);
}

/* Runs one import of text named name; returns its status with *r and *err
 * filled (the caller cleans r up). */
enum kind { GAZETTEER, VISIT_TYPES, VISITORS, VISITORS_CONFIRMED };

static enum otd_status import(enum kind k, const char *name, const char *text,
                              struct otd_import_report *r, struct otd_error *err)
{
	otd_error_clear(err);
	switch(k) {
	case GAZETTEER: return app_import_gazetteer(&app, &cli, name, text, strlen(text), r, err);
	case VISIT_TYPES:
		return app_import_visit_types(&app, &cli, name, text, strlen(text), r, err);
	case VISITORS:
		return app_import_visitors(&app, &cli, name, text, strlen(text), false, r, err);
	case VISITORS_CONFIRMED:
		return app_import_visitors(&app, &cli, name, text, strlen(text), true, r, err);
	}
	return OTD_EINTERNAL;
}

static void import_ok(enum kind k, const char *name, const char *text, struct otd_import_report *r)
{
	struct otd_error err;
	enum otd_status st = import(k, name, text, r, &err);
	ck_assert_msg(st == OTD_OK, "%s: %s\n%s", name, err.message,
	              r->problems ? r->problems : "");
	ck_assert_uint_eq(r->bad_rows, 0);
}

/* ---- gazetteer ------------------------------------------------------------ */

#define GAZ "uprn,line1,line2,town,postcode,latitude,longitude\n"

START_TEST(gazetteer_is_all_or_nothing)
{
	struct otd_import_report r;
	struct otd_error err;
	ck_assert_int_eq(import(GAZETTEER, "gaz.csv",
	                        GAZ "1001,1 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                            "1002,2 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                            ",3 High St,,Wrenfield,AB1 2CD,95,-1.5\n"
	                            "1004,4 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "import_rejected");
	ck_assert_str_eq(err.message, "gaz.csv: 1 row with problems; nothing was imported.");
	ck_assert_str_eq(
	    r.problems,
	    "gaz.csv line 4: latitude must be a number from -90 to 90. (column latitude)\n");
	ck_assert_uint_eq(r.bad_rows, 1);
	ck_assert_uint_eq(r.rows, 4);
	ck_assert_uint_eq(r.inserted, 0);
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM addresses"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 0);

	/* Several problems are all listed, each with its own line. */
	ck_assert_int_eq(import(GAZETTEER, "gaz.csv",
	                        GAZ "1001,,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                            "\n"
	                            "1002,2 High St,,Wrenfield,AB1-2CD,52.2,-1.5\n"
	                            "1003,3 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.message, "gaz.csv: 2 rows with problems; nothing was imported.");
	ck_assert_str_eq(r.problems,
	                 "gaz.csv line 2: The field \"line1\" must not be empty. (column line1)\n"
	                 "gaz.csv line 4: postcode must be 2 to 10 letters and digits (spaces "
	                 "allowed). (column postcode)\n");
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM addresses"), 0);
}
END_TEST

START_TEST(gazetteer_problems_are_capped_and_the_reader_names_its_line)
{
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, GAZ);
	for(int i = 0; i < 23; i++)
		otd_buf_printf(&csv, "%d,%d High St,,,AB1 2CD,north,-1.5\n", 2000 + i, i);
	struct otd_import_report r;
	struct otd_error err;
	ck_assert_int_eq(import(GAZETTEER, "big.csv", csv.data, &r, &err), OTD_EINVAL);
	otd_buf_cleanup(&csv);
	ck_assert_uint_eq(r.bad_rows, 23);
	ck_assert_str_eq(err.message, "big.csv: 23 rows with problems; nothing was imported.");
	/* 20 lines, then a count of the rest. */
	size_t lines = 0;
	for(const char *p = r.problems; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, OTD_IMPORT_MAX_ERRORS + 1);
	ck_assert_ptr_nonnull(strstr(r.problems, "big.csv line 21: latitude must be"));
	ck_assert_ptr_null(strstr(r.problems, "big.csv line 22:"));
	ck_assert_ptr_nonnull(
	    strstr(r.problems, "\nbig.csv: 3 more rows with problems not shown\n"));
	otd_import_report_cleanup(&r);

	/* A broken CSV line: the reader's message already carries the line. */
	ck_assert_int_eq(import(GAZETTEER, "broken.csv",
	                        GAZ "1001,1 High St,,,AB1 2CD,52.2,-1.5\n"
	                            "1002,\"2 High St,,,AB1 2CD,52.2,-1.5\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_int_eq(strncmp(r.problems, "broken.csv: line 3: ", 20), 0);
	ck_assert_uint_eq(r.bad_rows, 1);
	otd_import_report_cleanup(&r);

	/* An empty file, and a header without a required column. */
	ck_assert_int_eq(import(GAZETTEER, "empty.csv", "", &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "empty_file");
	ck_assert_ptr_nonnull(strstr(err.message, "empty.csv is empty"));
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(import(GAZETTEER, "cols.csv", "line1,postcode,latitude\n", &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_missing_column");
	ck_assert_str_eq(err.field, "longitude");
	ck_assert_int_eq(strncmp(err.message, "cols.csv: line 1: ", 18), 0);
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(
	    import(GAZETTEER, "cols.csv", "line1,postcode,latitude,longitude,colour\n", &r, &err),
	    OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_unknown_column");
	ck_assert_str_eq(err.field, "colour");
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM addresses"), 0);
}
END_TEST

START_TEST(gazetteer_duplicates_inside_a_file_are_problems)
{
	struct otd_import_report r;
	struct otd_error err;
	ck_assert_int_eq(import(GAZETTEER, "dup.csv",
	                        GAZ "1001,1 High St,,,AB1 2CD,52.2,-1.5\n"
	                            ",2 High St,,,AB1 2CD,52.2,-1.5\n"
	                            "1001,1a High St,,,AB1 2CD,52.2,-1.5\n"
	                            ",\"2  HIGH ST.\",,,ab12cd,52.3,-1.6\n"
	                            ",2 High St,,,AB1 2CE,52.2,-1.5\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(r.problems,
	                 "dup.csv line 4: the same uprn as line 2 (\"1001\") (column uprn)\n"
	                 "dup.csv line 5: the same address as line 3 (\"2 high st|AB12CD\") "
	                 "(column address)\n");
	ck_assert_uint_eq(r.bad_rows, 2);
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM addresses"), 0);
}
END_TEST

START_TEST(gazetteer_reimport_updates_removes_and_retires)
{
	struct otd_import_report r;
	import_ok(GAZETTEER, "a.csv",
	          GAZ "1001,1 High St,,Wrenfield,AB1 2CD,52.2001,-1.5001\n"
	              ",2 High St,,Wrenfield,AB1 2CD,52.2002,-1.5002\n"
	              ",3 High St,,Wrenfield,AB1 2CD,52.2003,-1.5003\n"
	              "1005,5 High St,,Wrenfield,AB1 2CD,52.2005,-1.5005\n"
	              "1007,7 High St,,Wrenfield,AB1 2CD,52.2007,-1.5007\n",
	          &r);
	ck_assert_uint_eq(r.rows, 5);
	ck_assert_uint_eq(r.inserted, 5);
	ck_assert_uint_eq(r.updated, 0);
	ck_assert_int_eq(r.removed, 0);
	ck_assert_int_eq(r.retired, 0);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(
	    sql_list("SELECT id || ' ' || coalesce(uprn, '-') || ' ' || line1 || ' ' || "
	             "postcode || ' ' || match_key FROM addresses ORDER BY id"),
	    "1 1001 1 High St AB1 2CD 1 high st|AB12CD;"
	    "2 - 2 High St AB1 2CD 2 high st|AB12CD;"
	    "3 - 3 High St AB1 2CD 3 high st|AB12CD;"
	    "4 1005 5 High St AB1 2CD 5 high st|AB12CD;"
	    "5 1007 7 High St AB1 2CD 7 high st|AB12CD");
	/* An appointment at 5 High St, a booking in progress (a hold) at 7. */
	book("OTD-G00001", 1, 4, "2026-03-04T10:00:00Z", "2026-03-04T12:00:00Z");
	sql_exec(
	    "INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, window_start, "
	    "window_end, client_key, token_hash, created_at, expires_at) VALUES (1, 1, 5, "
	    "'2026-03-05', 100, 200, 'k', zeroblob(32), 1, 2)");

	/* The next file: 1001 renamed (by UPRN), 2 High St written differently
	 * and given a UPRN (by match key), 3 and 5 gone, 6 new. */
	ck_assert(otd_clock_advance(app.clock, 3600));
	import_ok(GAZETTEER, "b.csv",
	          GAZ "1001,1 High Street,Flat A,Wrenfield,ab1 2cd,52.3001,-1.6001\n"
	              "1002,\"2 HIGH ST.\",,Wrenfield,AB12CD,52.3002,-1.6002\n"
	              ",6 High St,,Wrenfield,AB1 2CD,52.2006,-1.5006\n",
	          &r);
	ck_assert_uint_eq(r.rows, 3);
	ck_assert_uint_eq(r.inserted, 1);
	ck_assert_uint_eq(r.updated, 2);
	ck_assert_int_eq(r.removed, 1);
	ck_assert_int_eq(r.retired, 2);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(
	    sql_list("SELECT id || ' ' || coalesce(uprn, '-') || ' ' || line1 || ' ' || "
	             "line2 || ' ' || postcode || ' ' || lat || ' ' || retired FROM "
	             "addresses ORDER BY id"),
	    "1 1001 1 High Street Flat A AB1 2CD 52.3001 0;"
	    "2 1002 2 HIGH ST.  AB12CD 52.3002 0;"
	    "4 1005 5 High St  AB1 2CD 52.2005 1;"
	    "5 1007 7 High St  AB1 2CD 52.2007 1;"
	    "6 - 6 High St  AB1 2CD 52.2006 0");
	ck_assert_int_eq(sql_int("SELECT updated_at - created_at FROM addresses WHERE id = 4"),
	                 3600);
	ck_assert_str_eq(
	    sql_list("SELECT detail FROM audit_log WHERE action = 'import.gazetteer' "
	             "ORDER BY id"),
	    "{\"file\":\"a.csv\",\"inserted\":5,\"removed\":0,\"retired\":0,\"rows\":5,"
	    "\"updated\":0};"
	    "{\"file\":\"b.csv\",\"inserted\":1,\"removed\":1,\"retired\":2,\"rows\":3,"
	    "\"updated\":2}");

	/* Listed again, the retired address comes back under its own id. */
	import_ok(GAZETTEER, "c.csv", GAZ "1005,5 High St,,Wrenfield,AB1 2CD,52.2005,-1.5005\n",
	          &r);
	ck_assert_uint_eq(r.updated, 1);
	ck_assert_uint_eq(r.inserted, 0);
	ck_assert_int_eq(r.removed, 3);
	ck_assert_int_eq(r.retired, 0);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(sql_list("SELECT id || ' ' || retired FROM addresses ORDER BY id"),
	                 "4 0;5 1");
}
END_TEST

/* ---- visit types ---------------------------------------------------------- */

#define VT "code,name,skill,duration_median_minutes,window_minutes,duration_spread\n"

START_TEST(visit_types_are_upserted_by_code)
{
	struct otd_import_report r;
	import_ok(VISIT_TYPES, "vt.csv",
	          VT "boiler-repair,Boiler repair,gas,75,120,0.4\n"
	             "meter-exchange,Meter exchange,metering,40,60,\n",
	          &r);
	ck_assert_uint_eq(r.rows, 2);
	ck_assert_uint_eq(r.inserted, 2);
	ck_assert_uint_eq(r.updated, 0);
	otd_import_report_cleanup(&r);
	import_ok(VISIT_TYPES, "vt2.csv",
	          "code,name,skill,duration_median_minutes,window_minutes\n"
	          "boiler-repair,Boiler repair (gas),gas,80,180\n"
	          "broadband,Broadband installation,broadband,90,120\n",
	          &r);
	ck_assert_uint_eq(r.inserted, 1);
	ck_assert_uint_eq(r.updated, 1);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(
	    sql_list("SELECT t.id || ' ' || t.code || ' ' || t.name || ' ' || s.code || "
	             "' ' || t.duration_median_min || ' ' || t.window_min || ' ' || "
	             "t.duration_spread || ' ' || t.active FROM visit_types t JOIN skills "
	             "s ON s.id = t.skill_id ORDER BY t.id"),
	    "1 boiler-repair Boiler repair (gas) gas 80.0 180 0.3 1;"
	    "2 meter-exchange Meter exchange metering 40.0 60 0.3 1;"
	    "3 broadband Broadband installation broadband 90.0 120 0.3 1");
	ck_assert_str_eq(sql_list("SELECT entity_id || ' ' || detail FROM audit_log WHERE action = "
	                          "'visit_type.import' ORDER BY id"),
	                 "1 {\"code\":\"boiler-repair\",\"file\":\"vt.csv\"};"
	                 "2 {\"code\":\"meter-exchange\",\"file\":\"vt.csv\"};"
	                 "1 {\"code\":\"boiler-repair\",\"file\":\"vt2.csv\"};"
	                 "3 {\"code\":\"broadband\",\"file\":\"vt2.csv\"}");

	/* A code twice in one file, or a bad row: nothing changes. */
	struct otd_error err;
	ck_assert_int_eq(import(VISIT_TYPES, "vt3.csv",
	                        VT "survey,Survey,survey,30,60,0.2\n"
	                           "boiler-repair,Boiler,gas,60,60,0.2\n"
	                           "survey,Survey again,survey,30,60,0.2\n"
	                           "meter-exchange,Meter,metering,40,61,0.2\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(
	    r.problems,
	    "vt3.csv line 5: The window width must be 15 to 720 minutes, in steps of 5. "
	    "(column window_minutes)\n"
	    "vt3.csv line 4: the same code as line 2 (\"survey\") (column code)\n");
	ck_assert_uint_eq(r.bad_rows, 2);
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visit_types"), 3);
	ck_assert_int_eq(sql_int("SELECT window_min FROM visit_types WHERE code = 'boiler-repair'"),
	                 180);
}
END_TEST

/* ---- visitors ------------------------------------------------------------- */

#define VIS                                                                                        \
	"email,name,role_title,base_lat,base_lon,phone,skills,shift_start,shift_minutes,shift_"    \
	"rrule,"                                                                                   \
	"shift_exdates\n"
#define WEEKDAYS "\"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\""

START_TEST(rows_with_one_email_add_shifts_to_one_visitor)
{
	struct otd_import_report r;
	import_ok(VISITORS, "vis.csv",
	          VIS "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,01632 960001,gas metering,"
	              "2026-03-02T08:00,240," WEEKDAYS ",\n"
	              "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,01632 960001,gas metering,"
	              "2026-03-02T13:00,180," WEEKDAYS ",2026-03-06\n"
	              "bob@example.org,Bob Ray,Planner,52.21,-1.51,,planning,,,,\n",
	          &r);
	ck_assert_uint_eq(r.rows, 3);
	ck_assert_uint_eq(r.inserted, 2);
	ck_assert_uint_eq(r.updated, 0);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(
	    sql_list("SELECT id || ' ' || email || ' ' || name || ' ' || phone || ' ' || "
	             "base_lat FROM visitors ORDER BY id"),
	    "1 ann@example.org Ann Lee +441632960001 52.2;"
	    "2 bob@example.org Bob Ray  52.21");
	ck_assert_str_eq(
	    sql_list("SELECT visitor_id || ' ' || tzid || ' ' || dtstart_local || ' ' || "
	             "duration_min || ' ' || rrule FROM shifts ORDER BY id"),
	    "1 Europe/London 2026-03-02T08:00:00 240 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;"
	    "1 Europe/London 2026-03-02T13:00:00 180 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	ck_assert_str_eq(sql_list("SELECT shift_id || ' ' || date FROM shift_exdates"),
	                 "2 2026-03-06");
	ck_assert_str_eq(sql_list("SELECT v.visitor_id || ' ' || s.code FROM visitor_skills v JOIN "
	                          "skills s ON s.id = v.skill_id ORDER BY 1"),
	                 "1 gas;1 metering;2 planning");
	ck_assert_str_eq(
	    sql_list("SELECT entity_id || ' ' || detail FROM audit_log WHERE action = "
	             "'visitor.import' ORDER BY id"),
	    "1 {\"file\":\"vis.csv\",\"shifts\":2};2 {\"file\":\"vis.csv\",\"shifts\":0}");
}
END_TEST

START_TEST(rows_for_one_email_that_disagree_are_refused)
{
	struct otd_import_report r;
	struct otd_error err;
	ck_assert_int_eq(import(VISITORS, "vis.csv",
	                        VIS "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,,gas,"
	                            "2026-03-02T08:00,240," WEEKDAYS ",\n"
	                            "bob@example.org,Bob Ray,Planner,52.21,-1.51,,planning,,,,\n"
	                            "ann@example.org,Ann Smith,Gas engineer,52.2,-1.5,,gas,"
	                            "2026-03-02T13:00,180," WEEKDAYS ",\n"
	                            "cy@example.org,Cy,Planner,52.21,-1.51,,planning,"
	                            "2026-03-02T13:00,180,FREQ=HOURLY,\n"
	                            "dee@example.org,Dee,Planner,52.21,-1.51,,Planning,,,,\n",
	                        &r, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "import_rejected");
	ck_assert_uint_eq(r.bad_rows, 3);
	ck_assert_uint_eq(r.rows, 5);
	/* Each problem names the file's column, not the API's field. */
	ck_assert_str_eq(r.problems,
	                 "vis.csv line 4: ann@example.org is on line 2 with different details; "
	                 "rows for one visitor differ only in their shift (column email)\n"
	                 "vis.csv line 5: The shift's RRULE is not usable: FREQ must be DAILY, "
	                 "WEEKLY or MONTHLY. Give one such as FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR. "
	                 "(column shift_rrule)\n"
	                 "vis.csv line 6: A code is 1 to 64 of a-z, 0-9, '_' and '-' (got "
	                 "\"Planning\"). (column skills)\n");
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitors"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 0);
}
END_TEST

START_TEST(reimport_replaces_shifts_and_refuses_to_strand_appointments)
{
	struct otd_import_report r;
	import_ok(
	    VISITORS, "a.csv",
	    VIS "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,,gas,2026-03-02T08:00,240," WEEKDAYS
	        ",\n"
	        "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,,gas,2026-03-02T13:00,180," WEEKDAYS
	        ",\n"
	        "bob@example.org,Bob Ray,Planner,52.21,-1.51,,planning,,,,\n",
	    &r);
	otd_import_report_cleanup(&r);
	sql_exec("INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	         "created_at, updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', "
	         "'1 high st|AB12CD', 52.2, -1.5, 1, 1)");
	/* Wednesday 08:30-09:30 is inside Ann's morning shift. */
	book("OTD-V00001", 1, 1, "2026-03-04T08:30:00Z", "2026-03-04T09:30:00Z");

	/* Her new shift starts at 09:00: refused, and nothing changes. */
	const char *b = VIS "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,,gas water,"
	                    "2026-03-02T09:00,420," WEEKDAYS ",\n";
	struct otd_error err;
	ck_assert_int_eq(import(VISITORS, "b.csv", b, &r, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "promises_affected");
	ck_assert_str_eq(err.message,
	                 "b.csv: the new shifts of ann@example.org leave appointment OTD-V00001 "
	                 "outside every shift; nothing was imported (use --confirm-affected to go "
	                 "ahead).");
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(
	    sql_list("SELECT dtstart_local FROM shifts WHERE visitor_id = 1 ORDER BY id"),
	    "2026-03-02T08:00:00;2026-03-02T13:00:00");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_skills WHERE visitor_id = 1"), 1);

	/* Confirmed: the shifts are replaced, Bob (not in the file) stays, and
	 * the appointment gets an event. */
	import_ok(VISITORS_CONFIRMED, "b.csv", b, &r);
	ck_assert_uint_eq(r.updated, 1);
	ck_assert_uint_eq(r.inserted, 0);
	otd_import_report_cleanup(&r);
	ck_assert_str_eq(sql_list("SELECT dtstart_local || ' ' || duration_min FROM shifts WHERE "
	                          "visitor_id = 1"),
	                 "2026-03-02T09:00:00 420");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitor_skills WHERE visitor_id = 1"), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM visitors"), 2);
	ck_assert_str_eq(sql_list("SELECT kind || ' ' || actor_kind || ' ' || detail FROM "
	                          "appointment_events"),
	                 "visitor_change cli {\"reason\":\"shift_changed\",\"visitor_id\":1}");

	/* A re-import that keeps the appointment inside needs no confirmation. */
	import_ok(
	    VISITORS, "c.csv",
	    VIS "ann@example.org,Ann Lee,Gas engineer,52.2,-1.5,,gas,2026-03-02T07:00,600," WEEKDAYS
	        ",\n",
	    &r);
	ck_assert_uint_eq(r.updated, 1);
	otd_import_report_cleanup(&r);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM shifts WHERE visitor_id = 1"), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("imports");
	TCase *tc = tcase_create("imports");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, gazetteer_is_all_or_nothing);
	tcase_add_test(tc, gazetteer_problems_are_capped_and_the_reader_names_its_line);
	tcase_add_test(tc, gazetteer_duplicates_inside_a_file_are_problems);
	tcase_add_test(tc, gazetteer_reimport_updates_removes_and_retires);
	tcase_add_test(tc, visit_types_are_upserted_by_code);
	tcase_add_test(tc, rows_with_one_email_add_shifts_to_one_visitor);
	tcase_add_test(tc, rows_for_one_email_that_disagree_are_refused);
	tcase_add_test(tc, reimport_replaces_shifts_and_refuses_to_strand_appointments);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
