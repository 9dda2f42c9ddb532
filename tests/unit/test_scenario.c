/* Unit tests: scenario files (sim/scenario.c). The files shipped in
 * contrib/scenarios load with the values the issue fixes; every kind of
 * bad value is refused with the JSON path of the member at fault and a
 * message saying what is allowed; unknown and duplicate members, text that
 * is not JSON, a file too big and a missing file are refused too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "sim/scenario.h"
#include "testutil.h"

/* The source tree: OTD_SOURCE_DIR, else the directory this file's path
 * (__FILE__) is in two levels up, else the working directory. */
static const char *source_dir(void)
{
	static char dir[4096];
	const char *env = getenv("OTD_SOURCE_DIR");
	if(env && *env)
		return env;
	static const char suffix[] = "tests/unit/test_scenario.c";
	const char *file = __FILE__;
	size_t n = strlen(file), s = sizeof(suffix) - 1;
	if(n > s && strcmp(file + n - s, suffix) == 0)
		snprintf(dir, sizeof(dir), "%.*s", (int)(n - s), file);
	else
		snprintf(dir, sizeof(dir), ".");
	return dir;
}

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

static struct sim_scenario *load_example(const char *name)
{
	char *path = xasprintf("%s/contrib/scenarios/%s", source_dir(), name);
	struct sim_scenario *s = xmalloc(sizeof(*s));
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = sim_scenario_load(path, s, &e);
	ck_assert_msg(st == OTD_OK, "%s: %s", path, e.message);
	free(path);
	return s;
}

/* A small valid scenario; the tests below each break one member. */
static const char base_json[] =
    "{\"name\": \"Test\", \"timezone\": \"Europe/London\", \"first_day\": \"2026-03-03\",\n"
    " \"area\": {\"centre_lat\": 52.6, \"centre_lon\": -1.1, \"addresses\": 100},\n"
    " \"visitors\": [{\"count\": 2, \"skills\": [\"gas\"], \"shift_start\": \"08:00\",\n"
    "               \"shift_minutes\": 480},\n"
    "              {\"count\": 3, \"skills\": [\"metering\", \"gas\"],\n"
    "               \"shift_start\": \"08:30\", \"shift_minutes\": 450}],\n"
    " \"visit_types\": [{\"code\": \"boiler\", \"name\": \"Boiler\", \"skill\": \"gas\",\n"
    "                  \"duration_median_minutes\": 60}],\n"
    " \"demand\": {\"requests_per_day\": 20}}";

static enum otd_status parse(const char *text, struct sim_scenario *s, struct otd_error *e)
{
	otd_error_clear(e);
	return sim_scenario_parse(text, strlen(text), "test.json", s, e);
}

/* base_json with the first occurrence of from replaced by to. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(base_json, from);
	ck_assert_msg(at != NULL, "base has no %s", from);
	return xasprintf("%.*s%s%s", (int)(at - base_json), base_json, to, at + strlen(from));
}

/* The edit is refused with OTD_EINVAL, field and a message holding want. */
static void assert_refused(const char *from, const char *to, const char *field, const char *want)
{
	char *text = edit(from, to);
	struct sim_scenario s;
	struct otd_error e;
	enum otd_status st = parse(text, &s, &e);
	ck_assert_msg(st == OTD_EINVAL, "%s -> %s: status %d (%s)", from, to, st, e.message);
	ck_assert_msg(strcmp(e.field, field) == 0, "%s -> %s: field %s, want %s (%s)", from, to,
	              e.field, field, e.message);
	ck_assert_msg(strstr(e.message, want) != NULL, "%s -> %s: message \"%s\" lacks \"%s\"",
	              from, to, e.message, want);
	ck_assert_msg(strncmp(e.message, "test.json: ", 11) == 0, "no file name: %s", e.message);
	free(text);
}

START_TEST(examples_parse_with_their_values)
{
	struct sim_scenario *s = load_example("utility-region.json");
	ck_assert_str_eq(s->name, "Utility region");
	ck_assert_str_eq(s->timezone, "Europe/London");
	ck_assert_str_eq(s->first_day, "2026-03-03");
	ck_assert_int_eq(sim_scenario_visitors(s), 60);
	ck_assert_uint_eq(s->n_groups, 2);
	ck_assert_str_eq(s->groups[1].skills, "metering gas");
	ck_assert_uint_eq(s->n_types, 3);
	ck_assert_int_eq(s->addresses, 4000);
	/* The reality the issue fixes. */
	ck_assert_double_eq_tol(s->reality.duration_factor, 1.10, 1e-12);
	ck_assert_double_eq_tol(s->reality.duration_spread, 0.35, 1e-12);
	ck_assert_double_eq_tol(s->reality.travel_factor, 1.15, 1e-12);
	ck_assert_double_eq_tol(s->reality.travel_spread, 0.25, 1e-12);
	ck_assert_double_eq_tol(s->reality.overrun_share, 0.05, 1e-12);
	ck_assert_int_eq(s->reality.overrun_min_s, 30 * 60);
	ck_assert_int_eq(s->reality.overrun_max_s, 90 * 60);
	ck_assert_int_eq(s->sick_visitors, 1);
	ck_assert_str_eq(s->sick_from, "10:00");
	ck_assert_uint_eq(s->reality.n_traffic, 2);
	ck_assert_int_eq(s->reality.traffic[0].from_minute, 7 * 60 + 30);
	ck_assert_int_eq(s->reality.traffic[1].to_minute, 18 * 60);
	ck_assert_int_eq(s->reality.late_tap_max_s, 600);
	ck_assert_str_eq(s->rule_set, "gb-energy");
	free(s);

	s = load_example("utility-region-bad-weather.json");
	ck_assert_double_eq_tol(s->reality.weather_factor, 1.5, 1e-12);
	ck_assert_double_eq_tol(s->reality.travel_spread, 0.35, 1e-12);
	free(s);
	s = load_example("utility-region-sickness.json");
	ck_assert_int_eq(s->sick_visitors, 6);
	ck_assert_str_eq(s->sick_from, "09:30");
	free(s);
	s = load_example("small-council.json");
	ck_assert_int_eq(sim_scenario_visitors(s), 8);
	ck_assert_str_eq(s->groups[0].skills, "planning");
	ck_assert_str_eq(s->groups[0].shift_start, "08:30");
	ck_assert_int_eq(s->types[0].duration_median_minutes, 45);
	ck_assert_int_eq(s->types[1].duration_median_minutes, 60);
	ck_assert_int_eq(s->sick_visitors, 0);
	free(s);
}
END_TEST

START_TEST(defaults_fill_what_the_file_leaves_out)
{
	struct sim_scenario s;
	struct otd_error e;
	ck_assert_int_eq(parse(base_json, &s, &e), OTD_OK);
	ck_assert_str_eq(s.description, "");
	ck_assert_int_eq(s.booking_days, 5);
	ck_assert_double_eq(s.radius_km, 8);
	ck_assert_str_eq(s.town, "Wrenfield");
	ck_assert_str_eq(s.postcode_area, "ZZ");
	ck_assert_str_eq(s.groups[0].role_title, "Visitor");
	ck_assert_str_eq(s.groups[0].days, "MO,TU,WE,TH,FR");
	ck_assert_double_eq(s.types[0].duration_spread, 0.3);
	ck_assert_double_eq(s.types[0].share, 1);
	ck_assert_double_eq(s.speed_kmh, 30);
	ck_assert_double_eq(s.road_factor, 1.3);
	ck_assert_str_eq(s.break_start, "12:00");
	ck_assert_str_eq(s.break_end, "14:00");
	ck_assert_int_eq(s.break_minutes, 30);
	ck_assert_str_eq(s.rule_set, "gb-energy");
	ck_assert_double_eq(s.cancel_share, 0.03);
	ck_assert_double_eq(s.reschedule_share, 0.04);
	ck_assert_double_eq(s.sms_consent_share, 0.7);
	ck_assert_double_eq(s.email_consent_share, 0.9);
	ck_assert_double_eq(s.accept_offer_share, 0.3);
	struct otd_reality def;
	otd_reality_default(&def);
	ck_assert_int_eq(memcmp(&s.reality, &def, sizeof(def)), 0);
	ck_assert_int_eq(s.sick_visitors, 0);
	ck_assert_str_eq(s.sick_from, "10:00");
	ck_assert_int_eq(s.tick_minutes, 5);

	/* No break: "" for its span, and no rule set. */
	char *text =
	    edit("\"demand\"", "\"planning\": {\"break_minutes\": 0, \"break_start\": \"\", "
	                       "\"break_end\": \"\", \"rule_set\": \"\"}, \"demand\"");
	ck_assert_int_eq(parse(text, &s, &e), OTD_OK);
	ck_assert_str_eq(s.break_start, "");
	ck_assert_str_eq(s.rule_set, "");
	free(text);
	/* The other built-in rule sets are known; a traffic band may end at 24:00. */
	text = edit("\"demand\"",
	            "\"planning\": {\"rule_set\": \"england-water\"}, \"reality\": {\"traffic\": "
	            "[{\"from\": \"23:00\", \"to\": \"24:00\", \"factor\": 0.8}]}, \"demand\"");
	ck_assert_int_eq(parse(text, &s, &e), OTD_OK);
	ck_assert_int_eq(s.reality.traffic[0].to_minute, 1440);
	free(text);
}
END_TEST

START_TEST(bad_values_name_their_json_path)
{
	/* Top level. */
	assert_refused("\"Test\"", "\"\"", "name", "must not be empty");
	assert_refused("\"Test\"", "7", "name", "7 is not a string");
	assert_refused("\"Europe/London\"", "\"Mars/Olympus_Mons\"", "timezone",
	               "\"Mars/Olympus_Mons\" is not a time zone");
	assert_refused("\"Europe/London\"", "\"../../etc/passwd\"", "timezone", "IANA name");
	assert_refused("\"2026-03-03\"", "\"2026-02-30\"", "first_day",
	               "\"2026-02-30\" is not a date YYYY-MM-DD");
	assert_refused("\"2026-03-03\"", "\"3 March\"", "first_day", "is not a date");
	assert_refused("\"first_day\": \"2026-03-03\",",
	               "\"first_day\": \"2026-03-03\", \"booking_days\": 31,", "booking_days",
	               "31 is out of range: allowed 1 to 30");
	assert_refused("\"first_day\": \"2026-03-03\",",
	               "\"first_day\": \"2026-03-03\", \"tick_minutes\": 2.5,", "tick_minutes",
	               "2.5 is not a whole number from 1 to 60");
	/* The area. */
	assert_refused("52.6", "91", "area.centre_lat", "allowed -90 to 90");
	assert_refused("-1.1", "\"west\"", "area.centre_lon", "\"west\" is not a number");
	assert_refused("\"addresses\": 100", "\"addresses\": 9", "area.addresses",
	               "allowed 10 to 50000");
	assert_refused("\"addresses\": 100", "\"addresses\": 100, \"radius_km\": 0.4",
	               "area.radius_km", "allowed 0.5 to 100");
	assert_refused("\"addresses\": 100", "\"addresses\": 100, \"postcode_area\": \"zz\"",
	               "area.postcode_area", "one or two capital letters");
	assert_refused("\"addresses\": 100", "\"addresses\": 100, \"postcode_area\": \"ZZZ\"",
	               "area.postcode_area", "at most 2 bytes");
	/* Visitors. */
	assert_refused("\"08:30\"", "\"8am\"", "visitors[1].shift_start",
	               "visitors[1].shift_start: \"8am\" is not a time HH:MM");
	assert_refused("\"08:00\"", "\"24:00\"", "visitors[0].shift_start", "is not a time HH:MM");
	assert_refused("\"08:00\"", "\"12:60\"", "visitors[0].shift_start", "is not a time HH:MM");
	assert_refused("\"count\": 2", "\"count\": 0", "visitors[0].count", "allowed 1 to 500");
	assert_refused("\"count\": 3", "\"count\": 499", "visitors",
	               "501 visitors in all; at most 500");
	assert_refused("480", "59", "visitors[0].shift_minutes", "allowed 60 to 1440");
	assert_refused("[\"gas\"]", "[\"Gas\"]", "visitors[0].skills[0]",
	               "\"Gas\" is not a skill code");
	assert_refused("[\"gas\"]", "[]", "visitors[0].skills", "is empty");
	assert_refused("[\"gas\"]", "\"gas\"", "visitors[0].skills", "is not an array");
	assert_refused("[\"metering\", \"gas\"]", "[\"gas\", \"gas\"]", "visitors[1].skills[1]",
	               "listed twice");
	assert_refused("\"shift_minutes\": 480", "\"shift_minutes\": 480, \"days\": \"MO,XX\"",
	               "visitors[0].days", "\"MO,XX\" is not a list of days");
	assert_refused("\"shift_minutes\": 480", "\"shift_minutes\": 480, \"days\": \"MO,MO\"",
	               "visitors[0].days", "each once");
	assert_refused("[{\"count\": 2", "[7, {\"count\": 2", "visitors[0]", "is not an object");
	/* Visit types. */
	assert_refused("\"skill\": \"gas\"", "\"skill\": \"plumbing\"", "visit_types[0].skill",
	               "no visitor group has the skill \"plumbing\"");
	assert_refused("\"code\": \"boiler\"", "\"code\": \"Boiler Service\"",
	               "visit_types[0].code", "is not a code");
	assert_refused("\"duration_median_minutes\": 60", "\"duration_median_minutes\": 481",
	               "visit_types[0].duration_median_minutes", "allowed 5 to 480");
	assert_refused("\"duration_median_minutes\": 60",
	               "\"duration_median_minutes\": 60, \"share\": 0", "visit_types[0].share",
	               "allowed more than 0");
	assert_refused("\"duration_median_minutes\": 60",
	               "\"duration_median_minutes\": 60, \"duration_spread\": 2.5",
	               "visit_types[0].duration_spread", "allowed 0 to 2");
	assert_refused("\"duration_median_minutes\": 60}]",
	               "\"duration_median_minutes\": 60}, {\"code\": \"boiler\", \"name\": \"B\", "
	               "\"skill\": \"gas\", \"duration_median_minutes\": 30}]",
	               "visit_types[1].code", "also visit_types[0].code");
	/* Planning. */
	const char *at = "\"demand\"";
	assert_refused(at, "\"planning\": {\"speed_kmh\": 200}, \"demand\"", "planning.speed_kmh",
	               "allowed 5 to 130");
	assert_refused(at, "\"planning\": {\"road_factor\": 0.9}, \"demand\"",
	               "planning.road_factor", "allowed 1 to 3");
	assert_refused(at, "\"planning\": {\"break_minutes\": 121}, \"demand\"",
	               "planning.break_minutes", "allowed 0 to 120");
	assert_refused(at, "\"planning\": {\"break_start\": \"\"}, \"demand\"",
	               "planning.break_start", "break_minutes is 30");
	assert_refused(at, "\"planning\": {\"break_end\": \"\"}, \"demand\"", "planning.break_end",
	               "give a time HH:MM");
	assert_refused(at,
	               "\"planning\": {\"break_start\": \"14:00\", \"break_end\": \"12:00\"}, "
	               "\"demand\"",
	               "planning.break_end", "\"12:00\" is not after planning.break_start");
	assert_refused(at, "\"planning\": {\"break_start\": \"noon\"}, \"demand\"",
	               "planning.break_start", "\"noon\" is not a time HH:MM");
	assert_refused(at, "\"planning\": {\"rule_set\": \"gb-gas\"}, \"demand\"",
	               "planning.rule_set", "gb-energy");
	assert_refused(at, "\"planning\": 3, \"demand\"", "planning", "3 is not an object");
	/* Demand. */
	assert_refused("\"requests_per_day\": 20", "\"requests_per_day\": 0",
	               "demand.requests_per_day", "allowed 1 to 20000");
	assert_refused("\"requests_per_day\": 20",
	               "\"requests_per_day\": 20, \"sms_consent_share\": 1.2",
	               "demand.sms_consent_share", "allowed 0 to 1");
	assert_refused("\"requests_per_day\": 20",
	               "\"requests_per_day\": 20, \"cancel_share\": 0.6, \"reschedule_share\": 0.5",
	               "demand.reschedule_share", "add up to more than 1");
	/* Reality. */
	assert_refused(at, "\"reality\": {\"duration_factor\": 0}, \"demand\"",
	               "reality.duration_factor", "allowed 0.1 to 10");
	assert_refused(at, "\"reality\": {\"travel_spread\": -0.1}, \"demand\"",
	               "reality.travel_spread", "allowed 0 to 2");
	assert_refused(at, "\"reality\": {\"overrun_share\": 1.5}, \"demand\"",
	               "reality.overrun_share", "allowed 0 to 1");
	assert_refused(at, "\"reality\": {\"overrun_minutes\": [90, 30]}, \"demand\"",
	               "reality.overrun_minutes", "below the minimum");
	assert_refused(at, "\"reality\": {\"overrun_minutes\": [30]}, \"demand\"",
	               "reality.overrun_minutes", "is not a pair [min, max]");
	assert_refused(at, "\"reality\": {\"overrun_minutes\": [30, 1441]}, \"demand\"",
	               "reality.overrun_minutes[1]", "0 to 1440");
	assert_refused(at, "\"reality\": {\"weather_factor\": 11}, \"demand\"",
	               "reality.weather_factor", "allowed 0.1 to 10");
	assert_refused(at,
	               "\"reality\": {\"traffic\": [{\"from\": \"09:00\", \"to\": \"08:00\", "
	               "\"factor\": 1.2}]}, \"demand\"",
	               "reality.traffic[0].to", "\"08:00\" is not after \"from\" \"09:00\"");
	assert_refused(at,
	               "\"reality\": {\"traffic\": [{\"from\": \"07:00\", \"to\": \"08:00\"}]}, "
	               "\"demand\"",
	               "reality.traffic[0].factor", "is missing");
	assert_refused(at,
	               "\"reality\": {\"traffic\": [{\"from\": \"24:00\", \"to\": \"24:00\", "
	               "\"factor\": 1}]}, \"demand\"",
	               "reality.traffic[0].from", "is not a time HH:MM");
	assert_refused(at, "\"reality\": {\"traffic\": [1,2,3,4,5,6,7,8,9]}, \"demand\"",
	               "reality.traffic", "at most 8");
	assert_refused(at, "\"reality\": {\"late_tap_max_minutes\": 121}, \"demand\"",
	               "reality.late_tap_max_minutes", "allowed 0 to 120");
	assert_refused(at, "\"reality\": {\"forgotten_tap_share\": -1}, \"demand\"",
	               "reality.forgotten_tap_share", "allowed 0 to 1");
	assert_refused(at, "\"reality\": {\"sick_visitors\": 6}, \"demand\"",
	               "reality.sick_visitors", "6 is more than the 5 visitors");
	assert_refused(at, "\"reality\": {\"sick_from\": \"10\"}, \"demand\"", "reality.sick_from",
	               "\"10\" is not a time HH:MM");
}
END_TEST

START_TEST(missing_required_members_are_named)
{
	assert_refused("\"name\": \"Test\", ", "", "name", "is missing");
	assert_refused("\"timezone\": \"Europe/London\", ", "", "timezone", "is missing");
	assert_refused("\"first_day\": \"2026-03-03\",", "", "first_day", "is missing");
	assert_refused("\"centre_lat\": 52.6, ", "", "area.centre_lat", "is missing");
	assert_refused(", \"addresses\": 100", "", "area.addresses", "is missing");
	assert_refused("\"requests_per_day\": 20", "", "demand.requests_per_day", "is missing");
	assert_refused("\"count\": 2, ", "", "visitors[0].count", "is missing");
	assert_refused("\"name\": \"Boiler\", ", "", "visit_types[0].name", "is missing");
	char *text = edit(",\n \"demand\": {\"requests_per_day\": 20}", "");
	struct sim_scenario s;
	struct otd_error e;
	ck_assert_int_eq(parse(text, &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "demand");
	free(text);
	/* An empty list of visitors is as good as none. */
	const char *start = strstr(base_json, "\"visitors\": [");
	const char *end = strstr(base_json, " \"visit_types\"");
	text = xasprintf("%.*s\"visitors\": [],\n%s", (int)(start - base_json), base_json, end);
	ck_assert_int_eq(parse(text, &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "visitors");
	ck_assert_msg(strstr(e.message, "is empty"), "%s", e.message);
	free(text);
}
END_TEST

START_TEST(unknown_members_are_refused_not_ignored)
{
	/* A typo: the nearest name is offered. */
	assert_refused("\"demand\"", "\"reality\": {\"overun_share\": 0.05}, \"demand\"",
	               "reality.overun_share", "did you mean \"overrun_share\"?");
	assert_refused("\"count\": 3", "\"count\": 3, \"shift_minute\": 480",
	               "visitors[1].shift_minute", "did you mean \"shift_minutes\"?");
	/* Something else entirely: the known names are listed. */
	assert_refused("\"name\": \"Test\"", "\"name\": \"Test\", \"policy\": \"onthedot\"",
	               "policy", "is not a known member (known: name, description, timezone");
	assert_refused("\"addresses\": 100", "\"addresses\": 100, \"streets\": 9", "area.streets",
	               "known: centre_lat");
	assert_refused("\"duration_median_minutes\": 60",
	               "\"duration_median_minutes\": 60, \"x\": 1", "visit_types[0].x",
	               "is not a known member");
	assert_refused("\"demand\"",
	               "\"reality\": {\"traffic\": [{\"from\": \"07:00\", \"to\": \"08:00\", "
	               "\"factor\": 1.2, \"label\": \"rush\"}]}, \"demand\"",
	               "reality.traffic[0].label", "is not a known member");
	/* A name with control characters is shown safely. */
	assert_refused("\"name\": \"Test\"", "\"name\": \"Test\", \"a\\nb\\\"c\": 1", "a?b?c",
	               "is not a known member");
}
END_TEST

START_TEST(duplicates_bad_json_and_sizes_are_refused)
{
	struct sim_scenario s;
	struct otd_error e;
	/* A duplicate member: jansson says which, with where. */
	char *text = edit("\"name\": \"Test\"", "\"name\": \"Test\", \"name\": \"Other\"");
	ck_assert_int_eq(parse(text, &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "bad_json");
	ck_assert_msg(strstr(e.message, "duplicate") && strstr(e.message, "name"), "%s", e.message);
	ck_assert_msg(strstr(e.message, "line 1"), "%s", e.message);
	free(text);

	/* Not JSON at all: the line and column (jansson counts the column at
	 * the end of the token it stumbled on). */
	ck_assert_int_eq(parse("{\"name\": \"Test\",\n  oops}", &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "bad_json");
	ck_assert_str_eq(e.field, "");
	ck_assert_msg(strstr(e.message, "test.json: not valid JSON at line 2, column 6"), "%s",
	              e.message);
	ck_assert_int_eq(parse("", &s, &e), OTD_EINVAL);
	ck_assert_int_eq(parse("scenario: small", &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "bad_json");
	/* JSON, but not an object. */
	ck_assert_int_eq(parse("[1, 2]", &s, &e), OTD_EINVAL);
	ck_assert_msg(strstr(e.message, "one JSON object"), "%s", e.message);
	/* Nothing is kept from a file that failed. */
	ck_assert_str_eq(s.name, "");

	/* Too big, before any parsing. */
	size_t big = SIM_SCENARIO_MAX_BYTES + 1;
	char *huge = xmalloc(big);
	memset(huge, ' ', big);
	otd_error_clear(&e);
	ck_assert_int_eq(sim_scenario_parse(huge, big, "big.json", &s, &e), OTD_ETOOBIG);
	ck_assert_msg(strstr(e.message, "big.json"), "%s", e.message);

	/* And as files: too big, missing, fine. */
	const char *dir = testutil_tmpdir();
	char *path = xasprintf("%s/huge.json", dir);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(huge, 1, big, f), big);
	fclose(f);
	otd_error_clear(&e);
	ck_assert_int_eq(sim_scenario_load(path, &s, &e), OTD_ETOOBIG);
	free(path);
	free(huge);

	path = xasprintf("%s/no-such-scenario.json", dir);
	otd_error_clear(&e);
	ck_assert_int_eq(sim_scenario_load(path, &s, &e), OTD_ENOTFOUND);
	ck_assert_msg(strstr(e.message, "no-such-scenario.json"), "%s", e.message);
	free(path);

	/* A file's errors name its base name, not the path. */
	path = xasprintf("%s/typo.json", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs("{\"nmae\": 1}", f);
	fclose(f);
	otd_error_clear(&e);
	ck_assert_int_eq(sim_scenario_load(path, &s, &e), OTD_EINVAL);
	ck_assert_msg(strncmp(e.message, "typo.json: nmae: ", 17) == 0, "%s", e.message);
	ck_assert_str_eq(e.field, "nmae");
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("scenario");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, examples_parse_with_their_values);
	tcase_add_test(tc, defaults_fill_what_the_file_leaves_out);
	tcase_add_test(tc, bad_values_name_their_json_path);
	tcase_add_test(tc, missing_required_members_are_named);
	tcase_add_test(tc, unknown_members_are_refused_not_ignored);
	tcase_add_test(tc, duplicates_bad_json_and_sizes_are_refused);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
