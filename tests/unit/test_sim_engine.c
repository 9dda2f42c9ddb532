/* Unit tests: the day simulator's engine (src/sim/engine.c) and its
 * visitors (src/sim/player.c), in process.
 *
 * A tiny scenario (2 visitors, 12 requests, one visit type, a rough
 * reality) is parsed from a string and run for the onthedot policy with
 * 60-minute windows: the run's object has every member the report's
 * contract needs with the right types (and the renderer takes it), its
 * outcomes add up, its accounting counters are 0, and a second run with
 * the same seed is json_equal to the first. Bad days and widths are
 * refused naming the option, before anything runs.
 *
 * The player alone: one visitor and one booked appointment written into a
 * migrated database, stepped minute by minute through the day with the
 * model's own reality (no spread, no late taps): the visitor leaves so as
 * to reach the door as the window opens, stays the median, and the
 * service ends with the appointment done at the times the truth records;
 * with every "arrived" tap forgotten, the service hears of the arrival
 * only when the visit is done, while the truth keeps when it began. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/log.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "onthedot/reality.h"
#include "onthedot/tz.h"
#include "sim/engine.h"
#include "sim/player.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "testutil.h"

/* ---- the engine ------------------------------------------------------------ */

static const char tiny_json[] =
    "{\"name\": \"Engine test\", \"timezone\": \"Europe/London\",\n"
    " \"first_day\": \"2026-03-03\", \"booking_days\": 1,\n"
    " \"area\": {\"centre_lat\": 52.62, \"centre_lon\": -1.08, \"radius_km\": 3,\n"
    "          \"addresses\": 60},\n"
    " \"visitors\": [{\"count\": 2, \"skills\": [\"inspect\"], \"shift_start\": \"08:30\",\n"
    "               \"shift_minutes\": 480}],\n"
    " \"visit_types\": [{\"code\": \"inspection\", \"name\": \"Inspection\",\n"
    "                  \"skill\": \"inspect\", \"duration_median_minutes\": 50}],\n"
    " \"planning\": {\"rule_set\": \"custom\"},\n"
    " \"demand\": {\"requests_per_day\": 12, \"accept_offer_share\": 0.5},\n"
    " \"reality\": {\"duration_factor\": 1.3, \"duration_spread\": 0.4,\n"
    "             \"overrun_share\": 0.2, \"travel_factor\": 1.2, \"travel_spread\": 0.3,\n"
    "             \"late_tap_share\": 0.2, \"forgotten_tap_share\": 0.1}}";

#define SEED 7

/* libical's built-in zones load once in the parent, before check forks. */
static void zones_setup(void)
{
	struct otd_tz *tz = NULL;
	struct otd_error e;
	if(tzload_build("Europe/London", 2026, 2026, &tz, &e) != OTD_OK)
		abort();
	otd_tz_free(tz);
}

static void zones_teardown(void)
{
	tzload_shutdown();
}

static struct sim_scenario *tiny(void)
{
	struct sim_scenario *sc = xcalloc(1, sizeof(*sc));
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st =
	    sim_scenario_parse(tiny_json, strlen(tiny_json), "engine-test.json", sc, &err);
	ck_assert_msg(st == OTD_OK, "%s", err.message);
	return sc;
}

static enum otd_status run(const struct sim_scenario *sc, int days, int width, json_t **out,
                           struct otd_error *err)
{
	struct otd_config base;
	otd_config_defaults(&base);
	struct sim_run_options o = {.scenario = sc,
	                            .base = &base,
	                            .seed = SEED,
	                            .days = days,
	                            .policy = SIM_ONTHEDOT,
	                            .width_minutes = width,
	                            .tmp_dir = testutil_tmpdir()};
	json_t *timing = NULL;
	otd_error_clear(err);
	enum otd_status st = sim_run(&o, out, &timing, err);
	if(st == OTD_OK) {
		ck_assert_ptr_nonnull(timing);
		ck_assert(json_is_number(json_object_get(timing, "total_s")));
	} else {
		ck_assert_ptr_null(*out);
		ck_assert_ptr_null(timing);
	}
	json_decref(timing);
	otd_config_cleanup(&base);
	return st;
}

/* The member at a dotted path ("outcomes.kept"), or NULL. */
static json_t *member(json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for(char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

static json_int_t integer(json_t *o, const char *path)
{
	json_t *v = member(o, path);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

/* Every member the report's contract (issue 9, sim/report.h) needs, with
 * its type: i integer, n number, N number or null, s string, o object,
 * a array. */
static const struct {
	const char *path;
	char type;
} contract[] = {
    {"policy", 's'},
    {"width_minutes", 'i'},
    {"requests", 'i'},
    {"booked", 'i'},
    {"turned_away", 'i'},
    {"appointments", 'i'},
    {"outcomes.kept", 'i'},
    {"outcomes.broken", 'i'},
    {"outcomes.cancelled", 'i'},
    {"outcomes.moved", 'i'},
    {"kept_rate", 'N'},
    {"early_arrivals", 'i'},
    {"reassigned", 'i'},
    {"utilisation", 'N'},
    {"service_hours", 'n'},
    {"travel_hours", 'n'},
    {"shift_hours", 'n'},
    {"travel_km", 'n'},
    {"at_risk_promises", 'i'},
    {"apologies", 'i'},
    {"false_alarms", 'i'},
    {"false_alarm_share", 'N'},
    {"updates", 'i'},
    {"back_on_time", 'i'},
    {"broken_warned", 'i'},
    {"warned_share", 'N'},
    {"warned_60_share", 'N'},
    {"lead_minutes.median", 'N'},
    {"lead_minutes.p10", 'N'},
    {"lead_minutes.histogram", 'a'},
    {"messages", 'i'},
    {"messages_per_customer", 'N'},
    {"messages_by_kind", 'o'},
    {"held_windows.offered", 'i'},
    {"held_windows.taken", 'i'},
    {"guarantee_cases", 'i'},
    {"compensation_minor", 'i'},
    {"currency", 's'},
    {"timeline.date", 's'},
    {"timeline.day_start_minute", 'i'},
    {"timeline.day_end_minute", 'i'},
    {"timeline.visitors", 'a'},
    {"accounting.unaccounted", 'i'},
    {"accounting.broken_without_case", 'i'},
    {"accounting.at_risk_without_one_apology", 'i'},
    {"accounting.too_many_updates", 'i'},
    {"accounting.update_after_small_move", 'i'},
};

static void assert_contract(json_t *r)
{
	for(size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		json_t *v = member(r, contract[i].path);
		bool ok = false;
		switch(contract[i].type) {
		case 'i': ok = json_is_integer(v); break;
		case 'n': ok = json_is_number(v); break;
		case 'N': ok = json_is_number(v) || json_is_null(v); break;
		case 's': ok = json_is_string(v); break;
		case 'o': ok = json_is_object(v); break;
		case 'a': ok = json_is_array(v); break;
		}
		ck_assert_msg(ok, "run.%s: missing or not of type %c", contract[i].path,
		              contract[i].type);
	}
	json_t *hist = member(r, "lead_minutes.histogram");
	ck_assert_uint_eq(json_array_size(hist), 6);
	static const int from[] = {0, 15, 30, 60, 120, 240};
	for(size_t b = 0; b < 6; b++) {
		json_t *x = json_array_get(hist, b);
		ck_assert_int_eq(integer(x, "from"), from[b]);
		if(b < 5)
			ck_assert_int_eq(integer(x, "to"), from[b + 1]);
		else
			ck_assert(json_is_null(json_object_get(x, "to")));
		ck_assert_int_ge(integer(x, "count"), 0);
	}
	json_t *vis = member(r, "timeline.visitors");
	ck_assert_uint_ge(json_array_size(vis), 1);
	ck_assert_uint_le(json_array_size(vis), 12);
	size_t i;
	json_t *v;
	json_array_foreach(vis, i, v)
	{
		ck_assert(json_is_string(json_object_get(v, "name")));
		ck_assert_uint_eq(json_array_size(json_object_get(v, "shift")), 2);
		json_t *sick = json_object_get(v, "sick_from");
		ck_assert(json_is_null(sick) || json_is_integer(sick));
		size_t j;
		json_t *s;
		json_array_foreach(json_object_get(v, "stops"), j, s)
		{
			ck_assert(json_is_string(json_object_get(s, "reference")));
			ck_assert_uint_eq(json_array_size(json_object_get(s, "window")), 2);
			const char *outcome = json_string_value(json_object_get(s, "outcome"));
			ck_assert_ptr_nonnull(outcome);
			ck_assert_msg(
			    strcmp(outcome, "kept") == 0 || strcmp(outcome, "broken") == 0 ||
			        strcmp(outcome, "moved") == 0 || strcmp(outcome, "cancelled") == 0,
			    "outcome %s", outcome);
		}
	}
}

START_TEST(a_run_has_the_report_contract_adds_up_and_repeats)
{
	struct sim_scenario *sc = tiny();
	struct otd_error err;
	json_t *a = NULL, *b = NULL;
	ck_assert_msg(run(sc, 1, 60, &a, &err) == OTD_OK, "%s", err.message);
	assert_contract(a);
	ck_assert_str_eq(json_string_value(json_object_get(a, "policy")), "onthedot");
	ck_assert_int_eq(integer(a, "width_minutes"), 60);
	ck_assert_str_eq(json_string_value(member(a, "timeline.date")), "2026-03-03");

	/* The outcomes add up. */
	json_int_t kept = integer(a, "outcomes.kept"), broken = integer(a, "outcomes.broken");
	json_int_t cancelled = integer(a, "outcomes.cancelled"),
	           moved = integer(a, "outcomes.moved");
	ck_assert_int_eq(integer(a, "requests"), 12);
	ck_assert_int_eq(integer(a, "booked") + integer(a, "turned_away"), 12);
	ck_assert_int_eq(kept + broken + cancelled + moved, integer(a, "appointments"));
	ck_assert_int_eq(integer(a, "appointments"), integer(a, "booked"));
	ck_assert_int_gt(kept + broken, 0);
	double rate = json_real_value(json_object_get(a, "kept_rate"));
	ck_assert_double_eq_tol(rate, (double)kept / (double)(kept + broken), 1e-9);
	ck_assert_int_eq(integer(a, "held_windows.taken"), moved);
	ck_assert_int_le(integer(a, "broken_warned"), broken);
	static const char *const counters[] = {"unaccounted", "broken_without_case",
	                                       "at_risk_without_one_apology", "too_many_updates",
	                                       "update_after_small_move"};
	for(size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "accounting.%s", counters[i]);
		ck_assert_msg(integer(a, path) == 0, "%s = %lld", path,
		              (long long)integer(a, path));
	}

	/* The renderer takes it as it is. */
	json_t *report = sim_report_head(sc, SEED, 1);
	json_object_set_new(report, "runs", json_pack("[O]", a));
	struct otd_buf page;
	otd_buf_init(&page, 0);
	otd_error_clear(&err);
	ck_assert_msg(sim_report_html(report, &page, &err) == OTD_OK, "%s: %s", err.field,
	              err.message);
	ck_assert_ptr_nonnull(strstr(page.data, "<svg"));
	otd_buf_cleanup(&page);
	json_decref(report);

	/* The same seed, the same run: nothing random or timed leaks in. */
	ck_assert_msg(run(sc, 1, 60, &b, &err) == OTD_OK, "%s", err.message);
	if(!json_equal(a, b)) {
		char *ta = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
		char *tb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
		size_t k = 0;
		while(ta[k] && ta[k] == tb[k])
			k++;
		size_t from = k > 120 ? k - 120 : 0;
		ck_abort_msg("two runs with seed %d differ at byte %zu:\n%.200s\n%.200s", SEED, k,
		             ta + from, tb + from);
	}
	json_decref(a);
	json_decref(b);
	free(sc);
}
END_TEST

START_TEST(bad_days_and_widths_are_refused_naming_them)
{
	struct sim_scenario *sc = tiny();
	struct otd_error err;
	json_t *r = NULL;
	static const struct {
		int days, width;
		const char *field;
	} bad[] = {{0, 60, "days"}, {15, 60, "days"}, {-1, 60, "days"},
	           {1, 5, "width"}, {1, 0, "width"},  {1, 481, "width"}};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(run(sc, bad[i].days, bad[i].width, &r, &err), OTD_EINVAL);
		ck_assert_str_eq(err.field, bad[i].field);
		char want[32];
		snprintf(want, sizeof(want), "--%s", bad[i].field);
		ck_assert_msg(strstr(err.message, want) != NULL, "%s", err.message);
	}
	free(sc);
}
END_TEST

START_TEST(policy_names_round_trip)
{
	enum sim_policy p = SIM_ONTHEDOT;
	ck_assert(sim_policy_parse("baseline", &p));
	ck_assert_int_eq(p, SIM_BASELINE);
	ck_assert_str_eq(sim_policy_name(p), "baseline");
	ck_assert(sim_policy_parse("onthedot", &p));
	ck_assert_int_eq(p, SIM_ONTHEDOT);
	ck_assert_str_eq(sim_policy_name(p), "onthedot");
	static const enum sim_policy all[] = {SIM_BASELINE, SIM_ONTHEDOT};
	for(size_t i = 0; i < 2; i++) {
		enum sim_policy back;
		ck_assert(sim_policy_parse(sim_policy_name(all[i]), &back));
		ck_assert_int_eq(back, all[i]);
	}
	static const char *const not_names[] = {"", "fast", "Baseline", "onthedot ", "on"};
	for(size_t i = 0; i < sizeof(not_names) / sizeof(not_names[0]); i++) {
		p = SIM_ONTHEDOT;
		ck_assert_msg(!sim_policy_parse(not_names[i], &p), "\"%s\"", not_names[i]);
		ck_assert_int_eq(p, SIM_ONTHEDOT); /* untouched */
	}
}
END_TEST

/* ---- the player alone --------------------------------------------------------- */

/* Tuesday 3 March 2026, GMT (UTC offset 0): local times are UTC times. */
#define DAY "2026-03-03"
#define MIDNIGHT 1772496000
#define BASE_LAT 52.2
#define BASE_LON -1.5
#define DOOR_LAT 52.23 /* about 3.3 km north of the base */
#define MEDIAN_MIN 45

static int64_t hm(int h, int m)
{
	return MIDNIGHT + h * 3600 + m * 60;
}

static struct otd_config cfg;
static struct otd_app app;
static bool app_started;
static char *db_path;

/* Checked fixture: Ann (visitor 1) works 08:00 for 8 hours from the base;
 * one inspection (45 minutes) booked with her for 10:00-11:00 at a door
 * about 3 km away, on her route; the application on a virtual clock at
 * 07:30. */
static void player_setup(void)
{
	db_path = testutil_migrated_db("player");
	char *sql = xasprintf(
	    "INSERT INTO skills(code) VALUES ('inspect');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Inspector', '', %.6f, %.6f, 1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1);"
	    "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, rrule) VALUES "
	    "(1, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('inspection', 'Inspection', 1, %d, 0.25, "
	    "60, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, "
	    "updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', %.6f, %.6f, "
	    "1, 1);"
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Zoe', '+447700900001', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, route_position, consent_email, "
	    "created_at, updated_at) VALUES ('OTD-AAA301', 1, 1, 1, 1, '" DAY
	    "', %lld, %lld, 1024, 1, 1000, 1000);",
	    BASE_LAT, BASE_LON, MEDIAN_MIN, DOOR_LAT, BASE_LON, (long long)hm(10, 0),
	    (long long)hm(11, 0));
	testutil_sql_exec(db_path, sql);
	free(sql);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup("2026-03-03T07:30:00Z");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_SIMULATION, &err) == OTD_OK, "%s", err.message);
	app_started = true;
}

static void player_teardown(void)
{
	if(app_started)
		app_close(&app);
	app_started = false;
	otd_config_cleanup(&cfg);
	free(db_path);
}

/* Plays Ann's day with reality r, minute by minute from 07:30 to 18:00;
 * returns the player (the caller frees it). */
static struct sim_player *play(const struct otd_reality *r)
{
	struct sim_player *p = sim_player_new(&app, r, 42, DAY);
	sim_player_visit_type(p, 1, MEDIAN_MIN * 60.0);
	sim_player_add(p, 1, BASE_LAT, BASE_LON, hm(8, 0), hm(16, 0), 0);
	int64_t ids[4];
	ck_assert_uint_eq(sim_player_visitors(p, ids, 4), 1);
	ck_assert_int_eq(ids[0], 1);
	ck_assert_int_eq(sim_player_next(p), hm(8, 0));
	struct otd_error err;
	otd_error_clear(&err);
	for(int64_t t = hm(7, 30); t <= hm(18, 0); t += 60) {
		ck_assert(otd_clock_set(app.clock, t));
		ck_assert_msg(sim_player_step(p, t, &err) == OTD_OK, "%s", err.message);
		ck_assert_int_gt(sim_player_next(p), t);
	}
	return p;
}

START_TEST(a_visitor_reaches_the_door_as_the_window_opens_and_finishes)
{
	struct otd_reality r;
	otd_reality_default(&r);
	struct sim_player *p = play(&r);
	struct sim_truth t;
	ck_assert(!sim_player_truth(p, 2, &t)); /* no such appointment */
	ck_assert(sim_player_truth(p, 1, &t));
	ck_assert_int_eq(t.visitor_id, 1);
	/* Left to arrive as the window opens, on the model's own travel time:
	 * reached within a minute of 10:00, began at 10:00 or on reaching,
	 * stayed the median exactly. */
	ck_assert_int_le(t.reached, t.arrived);
	ck_assert_int_le(t.arrived, t.done);
	ck_assert_int_ge(t.reached, hm(9, 59));
	ck_assert_int_le(t.reached, hm(10, 1));
	ck_assert_int_eq(t.arrived, t.reached > hm(10, 0) ? t.reached : hm(10, 0));
	ck_assert_int_eq(t.done - t.arrived, MEDIAN_MIN * 60);
	ck_assert(t.travel_km > 3.0 && t.travel_km < 6.0);
	ck_assert(!t.after_long);
	/* The service heard it all, on time. */
	char *status = testutil_sql_text(db_path, "SELECT status FROM appointments WHERE id = 1");
	ck_assert_str_eq(status, "done");
	free(status);
	ck_assert_int_eq(
	    testutil_sql_int(db_path, "SELECT arrived_at FROM appointments WHERE id = 1"),
	    t.arrived);
	ck_assert_int_eq(testutil_sql_int(db_path, "SELECT done_at FROM appointments WHERE id = 1"),
	                 t.done);
	struct sim_player_totals tot;
	sim_player_totals(p, &tot);
	ck_assert_double_eq_tol(tot.service_s, MEDIAN_MIN * 60.0, 0.5);
	ck_assert_double_eq_tol(tot.shift_s, 8 * 3600.0, 0.5);
	ck_assert(tot.travel_s > 0);
	ck_assert_int_ge(tot.taps, 3); /* start_travel, arrived, done (and the break) */
	ck_assert_int_eq(tot.taps_late, 0);
	ck_assert_int_eq(tot.taps_forgotten, 0);
	ck_assert_int_eq(tot.taps_refused, 0);
	sim_player_free(p);
}
END_TEST

START_TEST(a_forgotten_arrival_is_tapped_with_done_and_the_truth_keeps_it)
{
	struct otd_reality r;
	otd_reality_default(&r);
	r.forgotten_tap_share = 1.0;
	struct sim_player *p = play(&r);
	struct sim_truth t;
	ck_assert(sim_player_truth(p, 1, &t));
	ck_assert_int_le(t.reached, t.arrived);
	ck_assert_int_eq(t.done - t.arrived, MEDIAN_MIN * 60);
	char *status = testutil_sql_text(db_path, "SELECT status FROM appointments WHERE id = 1");
	ck_assert_str_eq(status, "done");
	free(status);
	/* The service heard of the arrival only when the visit was done. */
	long long arrived_at =
	    testutil_sql_int(db_path, "SELECT arrived_at FROM appointments WHERE id = 1");
	ck_assert_int_ge(arrived_at, t.done);
	ck_assert_int_le(
	    arrived_at, testutil_sql_int(db_path, "SELECT done_at FROM appointments WHERE id = 1"));
	struct sim_player_totals tot;
	sim_player_totals(p, &tot);
	ck_assert_int_eq(tot.taps_forgotten, 1);
	ck_assert_int_eq(tot.taps_refused, 0);
	sim_player_free(p);
}
END_TEST

int main(void)
{
	otd_log_set_level(OTD_LOG_ERROR); /* a run logs every apology and rebalance */
	Suite *s = suite_create("sim_engine");
	TCase *tc = tcase_create("engine");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 240); /* two simulated runs under ASan */
	tcase_add_test(tc, a_run_has_the_report_contract_adds_up_and_repeats);
	tcase_add_test(tc, bad_days_and_widths_are_refused_naming_them);
	tcase_add_test(tc, policy_names_round_trip);
	suite_add_tcase(s, tc);
	TCase *pl = tcase_create("player");
	tcase_add_unchecked_fixture(pl, zones_setup, zones_teardown);
	tcase_add_checked_fixture(pl, player_setup, player_teardown);
	tcase_set_timeout(pl, 120);
	tcase_add_test(pl, a_visitor_reaches_the_door_as_the_window_opens_and_finishes);
	tcase_add_test(pl, a_forgotten_arrival_is_tapped_with_done_and_the_truth_keeps_it);
	suite_add_tcase(s, pl);
	return testutil_run(s);
}
