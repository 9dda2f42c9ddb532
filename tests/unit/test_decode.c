/* Unit tests: the request decoders (http/decode.h): visitor and visit type
 * bodies for create and update, shift normalisation, EXDATE checks, sign-in
 * bodies, the virtual clock body, page cursors and path ids. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "http/decode.h"
#include "http/http.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "testutil.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(j != NULL, "%s: %s", text, e.text);
	return j;
}

/* ---- visitors ------------------------------------------------------------ */

#define FULL_VISITOR                                                                               \
	"{\"name\":\"Ann Lee\",\"role_title\":\"Gas engineer\",\"phone\":\"01632 960001\","        \
	"\"email\":\"ann@example.org\",\"base\":{\"lat\":52.2,\"lon\":-1.5},\"skills\":[\"gas\","  \
	"\"metering\"],\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":480,"      \
	"\"rrule\":\"FREQ=WEEKLY;BYDAY=MO\",\"exdates\":[\"2026-03-09\",\"2026-03-16\"]},"         \
	"{\"start\":\"2026-03-07T09:30:15\",\"duration_minutes\":60,\"rrule\":\"FREQ=DAILY\","     \
	"\"tzid\":\"Europe/London\"}]}"

/* Decodes text and expects an error with code and field. */
static void visitor_bad(const char *text, bool create, const char *code, const char *field)
{
	json_t *j = parse(text);
	struct otd_visitor v;
	unsigned set = 99;
	bool confirm = true;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(visitor_decode(j, create, &v, &set, &confirm, &err) == OTD_EINVAL,
	              "accepted %s", text);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, field);
	otd_visitor_cleanup(&v); /* whatever was decoded before the error */
	json_decref(j);
}

START_TEST(visitor_create_decodes_every_field)
{
	json_t *j = parse(FULL_VISITOR);
	struct otd_visitor v;
	unsigned set = 0;
	bool confirm = true;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(visitor_decode(j, true, &v, &set, &confirm, &err), OTD_OK);
	json_decref(j);
	ck_assert_uint_eq(set, VISITOR_SET_NAME | VISITOR_SET_ROLE_TITLE | VISITOR_SET_PHONE |
	                           VISITOR_SET_EMAIL | VISITOR_SET_BASE | VISITOR_SET_SKILLS |
	                           VISITOR_SET_SHIFTS);
	ck_assert(!confirm);
	ck_assert_str_eq(v.name, "Ann Lee");
	ck_assert_str_eq(v.role_title, "Gas engineer");
	ck_assert_str_eq(v.phone, "01632 960001"); /* normalised by the use case */
	ck_assert_str_eq(v.email, "ann@example.org");
	ck_assert_double_eq(v.base_lat, 52.2);
	ck_assert_double_eq(v.base_lon, -1.5);
	ck_assert_uint_eq(v.n_skills, 2);
	ck_assert_str_eq(v.skills[1], "metering");
	ck_assert_uint_eq(v.n_shifts, 2);
	/* "YYYY-MM-DDTHH:MM" is stored with seconds. */
	ck_assert_str_eq(v.shifts[0].start, "2026-03-02T08:00:00");
	ck_assert_int_eq(v.shifts[0].duration_min, 480);
	ck_assert_str_eq(v.shifts[0].rrule, "FREQ=WEEKLY;BYDAY=MO");
	ck_assert_str_eq(v.shifts[0].tzid, ""); /* the organisation's, filled in later */
	ck_assert_uint_eq(v.shifts[0].n_exdates, 2);
	ck_assert_str_eq(v.shifts[0].exdates[0], "2026-03-09");
	ck_assert_str_eq(v.shifts[0].exdates[1], "2026-03-16");
	ck_assert_str_eq(v.shifts[1].start, "2026-03-07T09:30:15");
	ck_assert_str_eq(v.shifts[1].tzid, "Europe/London");
	ck_assert_uint_eq(v.shifts[1].n_exdates, 0);
	otd_visitor_cleanup(&v);

	/* The minimum: name, role_title and base. */
	j = parse("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0}}");
	ck_assert_int_eq(visitor_decode(j, true, &v, &set, &confirm, &err), OTD_OK);
	ck_assert_uint_eq(set, VISITOR_SET_NAME | VISITOR_SET_ROLE_TITLE | VISITOR_SET_BASE);
	ck_assert_ptr_null(v.phone);
	ck_assert_ptr_null(v.email);
	ck_assert_uint_eq(v.n_shifts, 0);
	otd_visitor_cleanup(&v);
	json_decref(j);
}
END_TEST

START_TEST(visitor_create_refuses_what_is_missing_or_wrong)
{
	visitor_bad("{\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0}}", true, "missing_field",
	            "name");
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\"}", true, "missing_field", "base");
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0}}", true,
	            "missing_field", "base.lon");
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":90.5,\"lon\":0}}", true,
	            "out_of_range", "base.lat");
	visitor_bad(
	    "{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0,\"alt\":1}}", true,
	    "unknown_field", "base.alt");
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\",\"base\":[52,-1]}", true, "wrong_type",
	            "base");
	visitor_bad("{\"name\":\"\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0}}", true,
	            "empty", "name");
	/* confirm_affected belongs to updates. */
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0},"
	            "\"confirm_affected\":true}",
	            true, "unknown_field", "confirm_affected");
	visitor_bad("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0},"
	            "\"skills\":[\"gas\",7]}",
	            true, "wrong_type", "skills[1]");
	char *many = xstrdup("{\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0},"
	                     "\"skills\":[\"s\"");
	for(int i = 0; i < OTD_SKILLS_MAX; i++) {
		char *next = xasprintf("%s,\"s%d\"", many, i);
		free(many);
		many = next;
	}
	char *text = xasprintf("%s]}", many);
	visitor_bad(text, true, "too_many", "skills");
	free(text);
	free(many);
	/* 201 characters of name. */
	char name[202];
	memset(name, 'n', 201);
	name[201] = '\0';
	text = xasprintf("{\"name\":\"%s\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0}}",
	                 name);
	visitor_bad(text, true, "too_long", "name");
	free(text);
}
END_TEST

#define BASE "\"name\":\"A\",\"role_title\":\"B\",\"base\":{\"lat\":0,\"lon\":0}"

START_TEST(shift_errors_name_the_shift_and_its_field)
{
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\"},5]}",
	            true, "wrong_type", "shifts[1]");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02 08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\"}]}",
	            true, "bad_local_time", "shifts[0].start");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-02-30T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\"}]}",
	            true, "bad_local_time", "shifts[0].start");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\"}]}",
	            true, "too_short", "shifts[0].start");
	visitor_bad("{" BASE
	            ",\"shifts\":[{\"start\":\"2026-03-02T08:00:00Z\",\"duration_minutes\":"
	            "60,\"rrule\":\"FREQ=DAILY\"}]}",
	            true, "too_long", "shifts[0].start");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":0,"
	            "\"rrule\":\"FREQ=DAILY\"}]}",
	            true, "out_of_range", "shifts[0].duration_minutes");
	visitor_bad("{" BASE
	            ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60}]}",
	            true, "missing_field", "shifts[0].rrule");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\",\"until\":1}]}",
	            true, "unknown_field", "shifts[0].until");
	/* EXDATEs are real dates, named by index. */
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\",\"exdates\":[\"2026-03-09\",\"2026-02-30\"]}]}",
	            true, "invalid_date", "shifts[0].exdates[1]");
	visitor_bad(
	    "{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	    "\"rrule\":\"FREQ=DAILY\"},{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":"
	    "60,\"rrule\":\"FREQ=DAILY\",\"exdates\":[20260309]}]}",
	    true, "invalid_date", "shifts[1].exdates[0]");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\",\"exdates\":[\"9 March\"]}]}",
	            true, "invalid_date", "shifts[0].exdates[0]");
	visitor_bad("{" BASE ",\"shifts\":[{\"start\":\"2026-03-02T08:00\",\"duration_minutes\":60,"
	            "\"rrule\":\"FREQ=DAILY\",\"exdates\":[\"2026-03-09T00:00\"]}]}",
	            true, "invalid_date", "shifts[0].exdates[0]");
}
END_TEST

START_TEST(visitor_patch_sets_only_what_is_given)
{
	json_t *j = parse("{\"name\":\"B\"}");
	struct otd_visitor v;
	unsigned set = 0;
	bool confirm = true;
	struct otd_error err;
	ck_assert_int_eq(visitor_decode(j, false, &v, &set, &confirm, &err), OTD_OK);
	ck_assert_uint_eq(set, VISITOR_SET_NAME);
	ck_assert(!confirm);
	ck_assert_str_eq(v.name, "B");
	ck_assert_ptr_null(v.role_title);
	otd_visitor_cleanup(&v);
	json_decref(j);

	/* null clears email and phone; an empty list clears shifts. */
	j = parse("{\"email\":null,\"phone\":null,\"shifts\":[],\"confirm_affected\":true}");
	ck_assert_int_eq(visitor_decode(j, false, &v, &set, &confirm, &err), OTD_OK);
	ck_assert_uint_eq(set, VISITOR_SET_EMAIL | VISITOR_SET_PHONE | VISITOR_SET_SHIFTS);
	ck_assert(confirm);
	ck_assert_ptr_null(v.email);
	ck_assert_str_eq(v.phone, "");
	ck_assert_uint_eq(v.n_shifts, 0);
	otd_visitor_cleanup(&v);
	json_decref(j);

	j = parse("{\"email\":\"\",\"base\":{\"lat\":1,\"lon\":2}}");
	ck_assert_int_eq(visitor_decode(j, false, &v, &set, &confirm, &err), OTD_OK);
	ck_assert_uint_eq(set, VISITOR_SET_EMAIL | VISITOR_SET_BASE);
	ck_assert_ptr_null(v.email);
	ck_assert_double_eq(v.base_lon, 2);
	otd_visitor_cleanup(&v);
	json_decref(j);

	/* A patch must change something; confirmation alone does not. */
	visitor_bad("{}", false, "empty_update", "");
	visitor_bad("{\"confirm_affected\":true}", false, "empty_update", "");
	visitor_bad("{\"confirm_affected\":\"yes\"}", false, "wrong_type", "confirm_affected");
	visitor_bad("{\"name\":null}", false, "wrong_type", "name");
}
END_TEST

START_TEST(confirm_body_is_optional)
{
	bool confirm = true;
	struct otd_error err;
	ck_assert_int_eq(confirm_decode(NULL, &confirm, &err), OTD_OK);
	ck_assert(!confirm);
	json_t *j = parse("{\"confirm_affected\":true}");
	ck_assert_int_eq(confirm_decode(j, &confirm, &err), OTD_OK);
	ck_assert(confirm);
	json_decref(j);
	j = parse("{}");
	ck_assert_int_eq(confirm_decode(j, &confirm, &err), OTD_OK);
	ck_assert(!confirm);
	json_decref(j);
	j = parse("{\"confirm\":true}");
	ck_assert_int_eq(confirm_decode(j, &confirm, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "confirm");
	json_decref(j);
}
END_TEST

/* ---- visit types ------------------------------------------------------- */

START_TEST(visit_type_create_and_patch)
{
	json_t *j =
	    parse("{\"code\":\"boiler-repair\",\"name\":\"Boiler repair\",\"skill\":\"gas\","
	          "\"duration_median_minutes\":75.5,\"window_minutes\":120}");
	struct otd_visit_type t;
	unsigned set = 0;
	struct otd_error err;
	ck_assert_int_eq(visit_type_decode(j, true, &t, &set, &err), OTD_OK);
	ck_assert_uint_eq(set, VISIT_TYPE_SET_CODE | VISIT_TYPE_SET_NAME | VISIT_TYPE_SET_SKILL |
	                           VISIT_TYPE_SET_MEDIAN | VISIT_TYPE_SET_WINDOW);
	ck_assert_str_eq(t.code, "boiler-repair");
	ck_assert_str_eq(t.name, "Boiler repair");
	ck_assert_str_eq(t.skill, "gas");
	ck_assert_double_eq(t.duration_median_min, 75.5);
	ck_assert_double_eq(t.duration_spread, 0.3); /* the default */
	ck_assert_int_eq(t.window_min, 120);
	otd_visit_type_cleanup(&t);
	json_decref(j);

	j = parse("{\"code\":\"x\",\"name\":\"X\",\"skill\":\"gas\",\"duration_median_minutes\":75,"
	          "\"window_minutes\":120,\"active\":false}");
	ck_assert_int_eq(visit_type_decode(j, true, &t, &set, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_field");
	ck_assert_str_eq(err.field, "active");
	otd_visit_type_cleanup(&t);
	json_decref(j);

	j = parse(
	    "{\"code\":\"x\",\"name\":\"X\",\"skill\":\"gas\",\"duration_median_minutes\":75}");
	ck_assert_int_eq(visit_type_decode(j, true, &t, &set, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "missing_field");
	ck_assert_str_eq(err.field, "window_minutes");
	otd_visit_type_cleanup(&t);
	json_decref(j);

	j = parse("{\"active\":false,\"duration_spread\":0}");
	ck_assert_int_eq(visit_type_decode(j, false, &t, &set, &err), OTD_OK);
	ck_assert_uint_eq(set, VISIT_TYPE_SET_ACTIVE | VISIT_TYPE_SET_SPREAD);
	ck_assert(!t.active);
	ck_assert_double_eq(t.duration_spread, 0);
	otd_visit_type_cleanup(&t);
	json_decref(j);

	static const struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{}", "empty_update", ""},
	    {"{\"window_minutes\":14}", "out_of_range", "window_minutes"},
	    {"{\"window_minutes\":60.0}", "wrong_type", "window_minutes"},
	    {"{\"duration_median_minutes\":0.05}", "out_of_range", "duration_median_minutes"},
	    {"{\"duration_spread\":3.5}", "out_of_range", "duration_spread"},
	    {"{\"code\":\"\"}", "empty", "code"},
	    {"{\"active\":\"no\"}", "wrong_type", "active"},
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i].body);
		otd_error_clear(&err);
		ck_assert_msg(visit_type_decode(j, false, &t, &set, &err) == OTD_EINVAL, "%s",
		              bad[i].body);
		ck_assert_str_eq(err.code, bad[i].code);
		ck_assert_str_eq(err.field, bad[i].field);
		otd_visit_type_cleanup(&t);
		json_decref(j);
	}
}
END_TEST

/* ---- sign-in and clock ------------------------------------------------- */

START_TEST(login_body_lower_cases_the_login)
{
	char login[OTD_LOGIN_MAX + 1], password[64];
	struct otd_error err;
	json_t *j = parse("{\"login\":\"Ann.Admin\",\"password\":\"Secret Password 1\"}");
	ck_assert_int_eq(login_decode(j, login, password, sizeof(password), &err), OTD_OK);
	ck_assert_str_eq(login, "ann.admin");
	ck_assert_str_eq(password, "Secret Password 1"); /* passwords keep their case */
	json_decref(j);

	static const struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{\"login\":\"ann\"}", "missing_field", "password"},
	    {"{\"password\":\"x\"}", "missing_field", "login"},
	    {"{\"login\":\"\",\"password\":\"x\"}", "empty", "login"},
	    {"{\"login\":\"ann\",\"password\":\"\"}", "empty", "password"},
	    {"{\"login\":1,\"password\":\"x\"}", "wrong_type", "login"},
	    {"{\"login\":\"ann\",\"password\":\"x\",\"remember\":true}", "unknown_field",
	     "remember"},
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i].body);
		otd_error_clear(&err);
		ck_assert_msg(login_decode(j, login, password, sizeof(password), &err) ==
		                  OTD_EINVAL,
		              "%s", bad[i].body);
		ck_assert_str_eq(err.code, bad[i].code);
		ck_assert_str_eq(err.field, bad[i].field);
		json_decref(j);
	}
	/* 64 characters of two bytes each: within the character count, too
	 * long in bytes for a login. */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "{\"login\":\"");
	for(int i = 0; i < 64; i++)
		otd_buf_puts(&b, "é");
	otd_buf_puts(&b, "\",\"password\":\"x\"}");
	j = parse(b.data);
	otd_buf_cleanup(&b);
	ck_assert_int_eq(login_decode(j, login, password, sizeof(password), &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "too_long");
	ck_assert_str_eq(err.field, "login");
	json_decref(j);
	/* A password longer than the caller's buffer. */
	j = parse("{\"login\":\"ann\",\"password\":\"0123456789\"}");
	ck_assert_int_eq(login_decode(j, login, password, 10, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "password");
	ck_assert_int_eq(login_decode(j, login, password, 11, &err), OTD_OK);
	ck_assert_str_eq(password, "0123456789");
	json_decref(j);
}
END_TEST

START_TEST(clock_body_takes_exactly_one_of_seconds_and_to)
{
	int64_t seconds = -1, to = -1;
	struct otd_error err;
	json_t *j = parse("{\"seconds\":3600}");
	ck_assert_int_eq(clock_decode(j, &seconds, &to, &err), OTD_OK);
	ck_assert_int_eq(seconds, 3600);
	ck_assert_int_eq(to, 0);
	json_decref(j);
	j = parse("{\"to\":\"2026-03-29T01:00:00Z\"}");
	ck_assert_int_eq(clock_decode(j, &seconds, &to, &err), OTD_OK);
	ck_assert_int_eq(seconds, 0);
	ck_assert_int_eq(to, 1774746000);
	json_decref(j);
	j = parse("{\"to\":\"2026-03-29T02:00:00+01:00\"}");
	ck_assert_int_eq(clock_decode(j, &seconds, &to, &err), OTD_OK);
	ck_assert_int_eq(to, 1774746000);
	json_decref(j);
	j = parse("{\"seconds\":0}");
	ck_assert_int_eq(clock_decode(j, &seconds, &to, &err), OTD_OK);
	ck_assert_int_eq(seconds, 0);
	json_decref(j);

	static const struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{}", "missing_field", "seconds"},
	    {"{\"seconds\":60,\"to\":\"2026-03-29T01:00:00Z\"}", "missing_field", "seconds"},
	    {"{\"seconds\":-1}", "out_of_range", "seconds"},
	    {"{\"seconds\":31622401}", "out_of_range", "seconds"},
	    {"{\"seconds\":1.5}", "wrong_type", "seconds"},
	    {"{\"seconds\":\"60\"}", "wrong_type", "seconds"},
	    {"{\"to\":\"tomorrow\"}", "bad_time", "to"},
	    {"{\"to\":\"2026-03-29 01:00:00Z\"}", "bad_time", "to"},
	    {"{\"to\":\"\"}", "empty", "to"},
	    {"{\"minutes\":5}", "unknown_field", "minutes"},
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i].body);
		otd_error_clear(&err);
		ck_assert_msg(clock_decode(j, &seconds, &to, &err) == OTD_EINVAL, "%s",
		              bad[i].body);
		ck_assert_str_eq(err.code, bad[i].code);
		ck_assert_str_eq(err.field, bad[i].field);
		json_decref(j);
	}
	j = parse("{\"seconds\":31622400}"); /* 366 days exactly */
	ck_assert_int_eq(clock_decode(j, &seconds, &to, &err), OTD_OK);
	ck_assert_int_eq(seconds, 31622400);
	json_decref(j);
}
END_TEST

/* ---- cursors and ids --------------------------------------------------- */

static char *b64(const char *raw)
{
	char out[128];
	sodium_bin2base64(out, sizeof(out), (const unsigned char *)raw, strlen(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return xstrdup(out);
}

START_TEST(cursors_round_trip_and_refuse_forgeries)
{
	static const int64_t ids[] = {0, 1, 42, 999999, INT64_C(9007199254740993), INT64_MAX};
	for(size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char *c = page_cursor(ids[i]);
		int64_t after = -1;
		ck_assert_msg(cursor_decode(c, &after) == OTD_OK, "%s", c);
		ck_assert_int_eq(after, ids[i]);
		/* Opaque, URL-safe text. */
		for(const char *p = c; *p; p++)
			ck_assert_msg(strchr("=+/&?# ", *p) == NULL, "%s", c);
		free(c);
	}
	char *c = page_cursor(42);
	ck_assert_str_eq(c, "djE6NDI"); /* base64url("v1:42") */
	free(c);

	static const char *const raw_bad[] = {
	    "v2:1",  "v1:",   "v1:01", "v1:-1", "v1:+1",
	    "v1:1a", "v1: 1", "V1:1",  "1",     "v1:9223372036854775808",
	    "v1:00"};
	for(size_t i = 0; i < sizeof(raw_bad) / sizeof(raw_bad[0]); i++) {
		char *enc = b64(raw_bad[i]);
		int64_t after = -7;
		ck_assert_msg(cursor_decode(enc, &after) == OTD_EINVAL, "accepted %s", raw_bad[i]);
		ck_assert_int_eq(after, -7);
		free(enc);
	}
	static const char *const text_bad[] = {
	    "",           "42",       "!!!!",    "djE6NDI=",
	    "djE6NDI===", "djE6N DI", "djE+NDI", "djE6NDIxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA"};
	for(size_t i = 0; i < sizeof(text_bad) / sizeof(text_bad[0]); i++) {
		int64_t after = -7;
		ck_assert_msg(cursor_decode(text_bad[i], &after) == OTD_EINVAL, "accepted %s",
		              text_bad[i]);
		ck_assert_int_eq(after, -7);
	}
}
END_TEST

START_TEST(ids_are_positive_decimals_without_decoration)
{
	int64_t id = -1;
	ck_assert_int_eq(id_decode("1", &id), OTD_OK);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(id_decode("42", &id), OTD_OK);
	ck_assert_int_eq(id, 42);
	ck_assert_int_eq(id_decode("9223372036854775807", &id), OTD_OK);
	ck_assert_int_eq(id, INT64_MAX);
	static const char *const bad[] = {"0",   "-1", "+1",  "01",  "1a",  "",
	                                  " 1",  "1 ", "1.0", "0x1", "1e3", "9223372036854775808",
	                                  "abc", "00"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = -7;
		ck_assert_msg(id_decode(bad[i], &id) == OTD_EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(id, -7);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, visitor_create_decodes_every_field);
	tcase_add_test(tc, visitor_create_refuses_what_is_missing_or_wrong);
	tcase_add_test(tc, shift_errors_name_the_shift_and_its_field);
	tcase_add_test(tc, visitor_patch_sets_only_what_is_given);
	tcase_add_test(tc, confirm_body_is_optional);
	tcase_add_test(tc, visit_type_create_and_patch);
	tcase_add_test(tc, login_body_lower_cases_the_login);
	tcase_add_test(tc, clock_body_takes_exactly_one_of_seconds_and_to);
	tcase_add_test(tc, cursors_round_trip_and_refuse_forgeries);
	tcase_add_test(tc, ids_are_positive_decimals_without_decoration);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
