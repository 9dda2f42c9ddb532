/* Unit tests: the dispatcher's board and the visitor page's day
 * (app/board.c), with the dispatcher's route actions beside it
 * (app_reassign_options, app_reorder), in process on a real store with a
 * virtual clock: every working visitor with their shift, break and planned
 * arrivals in route order; the visits at risk earliest first with the
 * notice clock; the visitor's details; a visitor who is not active; who
 * could take a visit instead; a reorder that breaks a promise refused and
 * one that keeps them written. The organisation is written with sqlite3
 * directly before the application starts. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/board.h"
#include "app/booking.h"
#include "app/rebalance.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

/* Tuesday 3 March 2026, GMT: local times are UTC times. */
#define DAY "2026-03-03"
#define MIDNIGHT 1772496000
#define START "2026-03-03T07:30:00Z"

static struct otd_config cfg;
static struct otd_app app;
static bool app_started;
static char *db_path;
static struct otd_principal cli;

static int64_t hm(int h, int m)
{
	return MIDNIGHT + h * 3600 + m * 60;
}

static void sql_exec(const char *sql)
{
	testutil_sql_exec(db_path, sql);
}

/* Ann and Bob work 08:00-16:00 from the same base; Ann has three visits
 * (09:00-11:00, 10:00-12:00, 14:00-16:00), Bob none; Cy is inactive. */
static void seed(void)
{
	char *sql = xasprintf(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1), ('Bob Ray', "
	    "'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, active, created_at, "
	    "updated_at) VALUES ('Cy Old', 'Gas engineer', '', 52.2, -1.5, 0, 1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1), (2, 1), (3, 1);"
	    "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, rrule) VALUES "
	    "(1, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'),"
	    "(2, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 30, 0.2, "
	    "120, 1, 1);"
	    "INSERT INTO addresses(line1, town, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'Wrenfield', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.21, -1.5, 1, "
	    "1),"
	    "('2 Mill Lane', '', 'AB1 9ZZ', 'AB19ZZ', '2 mill lane|AB19ZZ', 52.22, -1.5, 1, 1),"
	    "('3 Kiln Row', '', 'XY9 8WV', 'XY98WV', '3 kiln row|XY98WV', 52.215, -1.5, 1, 1);"
	    "INSERT INTO customers(name, phone, access_notes, created_at) VALUES "
	    "('Zoë', '+447700900001', 'Ring twice', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, route_position, consent_sms, "
	    "created_at, updated_at) VALUES "
	    "('OTD-AAA301', 1, 1, 1, 1, '" DAY "', %lld, %lld, 1024, 1, 1000, 1000),"
	    "('OTD-AAA302', 1, 2, 1, 1, '" DAY "', %lld, %lld, 2048, 1, 1000, 1000),"
	    "('OTD-AAA303', 1, 3, 1, 1, '" DAY "', %lld, %lld, 3072, 1, 1000, 1000);",
	    (long long)hm(9, 0), (long long)hm(11, 0), (long long)hm(10, 0), (long long)hm(12, 0),
	    (long long)hm(14, 0), (long long)hm(16, 0));
	sql_exec(sql);
	free(sql);
}

static void setup(void)
{
	struct otd_error err;
	otd_error_clear(&err);
	db_path = testutil_migrated_db("board");
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	app_principal_cli(&cli);
	seed();
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_started = true;
}

static void teardown(void)
{
	if(app_started)
		app_close(&app);
	app_started = false;
	otd_config_cleanup(&cfg);
	free(db_path);
}

static int64_t at(const json_t *o, const char *key)
{
	int64_t t = 0;
	const char *s = json_string_value(json_object_get(o, key));
	ck_assert_msg(s, "%s missing", key);
	ck_assert_int_eq(otd_rfc3339_parse(s, &t, NULL), OTD_OK);
	return t;
}

START_TEST(the_board_has_every_working_visitor_and_their_plan)
{
	json_t *b = NULL;
	struct otd_error err = {0};
	ck_assert_int_eq(app_board(&app, DAY, &b, &err), OTD_OK);
	ck_assert_str_eq(json_string_value(json_object_get(b, "date")), DAY);
	ck_assert_str_eq(json_string_value(json_object_get(b, "now")), START);
	ck_assert_str_eq(json_string_value(json_object_get(b, "timezone")), "Europe/London");
	const json_t *vs = json_object_get(b, "visitors");
	ck_assert_uint_eq(json_array_size(vs), 2); /* Cy is not active */
	const json_t *ann = json_array_get(vs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(ann, "name")), "Ann Lee");
	ck_assert_str_eq(json_string_value(json_object_get(ann, "state")), "not_started");
	const json_t *shift = json_array_get(json_object_get(ann, "shifts"), 0);
	ck_assert_int_eq(at(shift, "start"), hm(8, 0));
	ck_assert_int_eq(at(shift, "end"), hm(16, 0));
	const json_t *stops = json_object_get(ann, "stops");
	ck_assert_uint_eq(json_array_size(stops), 3);
	int64_t prev = hm(8, 0);
	for(size_t i = 0; i < 3; i++) {
		const json_t *s = json_array_get(stops, i);
		int64_t planned = at(s, "planned_arrival");
		ck_assert_int_gt(planned, prev);
		ck_assert_int_lt(planned, at(s, "window_end"));
		ck_assert_int_ge(json_integer_value(json_object_get(s, "travel_minutes")), 0);
		ck_assert_str_eq(json_string_value(json_object_get(s, "customer_name")), "Zoë");
		prev = planned;
	}
	ck_assert_int_gt(json_integer_value(json_object_get(ann, "travel_minutes")), 0);
	const json_t *bob = json_array_get(vs, 1);
	ck_assert_uint_eq(json_array_size(json_object_get(bob, "stops")), 0);
	const json_t *f = json_object_get(b, "figures");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "booked")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "at_risk")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(b, "at_risk")), 0);
	json_decref(b);
	ck_assert_int_eq(app_board(&app, "2026-02-30", &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "date");
}
END_TEST

START_TEST(visits_at_risk_come_earliest_first)
{
	sql_exec("UPDATE appointments SET risk = 'at_risk', p_late = 0.6, risk_reason = 'late' "
	         "WHERE id = 3;"
	         "UPDATE appointments SET risk = 'broken', p_late = 1, risk_reason = 'no show' "
	         "WHERE id = 2;");
	json_t *b = NULL;
	struct otd_error err = {0};
	ck_assert_int_eq(app_board(&app, DAY, &b, &err), OTD_OK);
	const json_t *list = json_object_get(b, "at_risk");
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "reference")),
	                 "OTD-AAA302");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "reference")),
	                 "OTD-AAA303");
	/* No rules in force: no notice clock, nothing at stake. */
	ck_assert(json_is_null(json_object_get(json_array_get(list, 0), "notice_deadline")));
	ck_assert(json_is_null(json_object_get(json_array_get(list, 0), "compensation")));
	json_decref(b);
}
END_TEST

START_TEST(the_visitor_page_gets_the_details_of_their_visits)
{
	json_t *x = NULL;
	struct otd_error err = {0};
	ck_assert_int_eq(app_visitor_day_extra(&app, 1, DAY, &x, &err), OTD_OK);
	ck_assert_str_eq(json_string_value(json_object_get(x, "visitor_name")), "Ann Lee");
	const json_t *d = json_object_get(json_object_get(x, "details"), "OTD-AAA301");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "phone")), "+447700900001");
	ck_assert_str_eq(json_string_value(json_object_get(d, "access_notes")), "Ring twice");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "address"), "town")),
	                 "Wrenfield");
	ck_assert_str_eq(json_string_value(json_object_get(d, "visit_type")), "Boiler repair");
	ck_assert_uint_eq(json_object_size(json_object_get(x, "details")), 3);
	json_decref(x);
	/* Bob has nothing; Cy is not active; nobody is id 0. */
	const int64_t others[] = {2, 3, 0};
	for(size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(app_visitor_day_extra(&app, others[i], DAY, &x, &err), OTD_OK);
		ck_assert_uint_eq(json_object_size(json_object_get(x, "details")), 0);
		ck_assert(json_is_null(json_object_get(x, "visitor_name")) == (others[i] != 2));
		json_decref(x);
	}
}
END_TEST

START_TEST(who_could_take_a_visit_and_reordering)
{
	struct otd_reassign_option *o = NULL;
	size_t n = 0;
	struct otd_error err = {0};
	ck_assert_int_eq(app_reassign_options(&app, 2, 10, &o, &n, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(o[0].visitor_id, 2); /* Bob; never Ann herself, never Cy */
	ck_assert_int_eq(o[0].position, 1);
	ck_assert(o[0].travel_added_s > 0);
	free(o);

	/* The afternoon visit first breaks the morning promises. */
	const char *late[] = {"OTD-AAA303", "OTD-AAA301", "OTD-AAA302"};
	ck_assert_int_eq(app_reorder(&app, &cli, 1, DAY, late, 3, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "order_breaks_promise");
	/* The two morning windows overlap enough to swap them. */
	const char *swapped[] = {"OTD-AAA302", "OTD-AAA301", "OTD-AAA303"};
	otd_error_clear(&err);
	ck_assert_msg(app_reorder(&app, &cli, 1, DAY, swapped, 3, &err) == OTD_OK, "%s",
	              err.message);
	json_t *b = NULL;
	ck_assert_int_eq(app_board(&app, DAY, &b, &err), OTD_OK);
	const json_t *stops =
	    json_object_get(json_array_get(json_object_get(b, "visitors"), 0), "stops");
	for(size_t i = 0; i < 3; i++)
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_array_get(stops, i), "reference")),
		    swapped[i]);
	json_decref(b);
	const char *missing[] = {"OTD-AAA302", "OTD-AAA301"};
	ck_assert_int_eq(app_reorder(&app, &cli, 1, DAY, missing, 2, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "order_mismatch");
	ck_assert_int_eq(app_reorder(&app, &cli, 3, DAY, swapped, 3, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_visitor");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("board");
	TCase *tc = tcase_create("board");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, the_board_has_every_working_visitor_and_their_plan);
	tcase_add_test(tc, visits_at_risk_come_earliest_first);
	tcase_add_test(tc, the_visitor_page_gets_the_details_of_their_visits);
	tcase_add_test(tc, who_could_take_a_visit_and_reordering);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
