/* Unit tests: the visitor events decoder (vevents_decode, http/decode.h):
 * one event on its own or a batch {"events": [...]}, every field of every
 * kind, errors naming the field ("events[2].lat" in a batch, "minutes" for
 * a single event), 413 beyond the batch limit, unknown types. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tracking.h"
#include "http/decode.h"
#include "onthedot/civil.h"
#include "testutil.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(j != NULL, "%s: %s", text, e.text);
	return j;
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

/* Decodes text with max and expects status, code and field. */
static void bad(const char *text, size_t max, enum otd_status want, const char *code,
                const char *field)
{
	json_t *j = parse(text);
	struct otd_vevent *v = (struct otd_vevent *)1;
	size_t n = 99;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(vevents_decode(j, max, &v, &n, &err) == want, "accepted %s", text);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, field);
	ck_assert(err.message[0]);
	json_decref(j);
}

#define EV(type, extra)                                                                            \
	"{\"client_event_id\":\"c\",\"type\":\"" type "\",\"at\":\"2026-03-03T09:00:00Z\"" extra "}"

START_TEST(a_single_event_decodes_every_field)
{
	json_t *j =
	    parse("{\"client_event_id\":\"7f3e-0001\",\"type\":\"arrived\",\"at\":"
	          "\"2026-03-03T10:15:30+01:00\",\"appointment\":\"OTD-ABC234\",\"lat\":52.5,"
	          "\"lon\":-1.25,\"accuracy\":12.5,\"note\":\"Side gate\"}");
	struct otd_vevent *v = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(vevents_decode(j, 500, &v, &n, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].index, 0);
	ck_assert_int_eq(v[0].kind, OTD_VEVENT_ARRIVED);
	ck_assert_str_eq(v[0].client_id, "7f3e-0001");
	ck_assert_int_eq(v[0].at, at("2026-03-03T09:15:30Z"));
	ck_assert_str_eq(v[0].reference, "OTD-ABC234");
	ck_assert(v[0].has_position);
	ck_assert_double_eq(v[0].lat, 52.5);
	ck_assert_double_eq(v[0].lon, -1.25);
	ck_assert_double_eq(v[0].accuracy, 12.5);
	ck_assert_str_eq(v[0].note, "Side gate");
	/* The note points into the body. */
	ck_assert_ptr_eq(v[0].note, json_string_value(json_object_get(j, "note")));
	free(v);

	/* No position: none, and accuracy "not given". */
	json_decref(j);
	j = parse(EV("late", ",\"minutes\":25"));
	ck_assert_int_eq(vevents_decode(j, 500, &v, &n, &err), OTD_OK);
	ck_assert_int_eq(v[0].kind, OTD_VEVENT_LATE);
	ck_assert_int_eq(v[0].late_minutes, 25);
	ck_assert(!v[0].has_position);
	ck_assert_double_lt(v[0].accuracy, 0);
	ck_assert_str_eq(v[0].reference, "");
	ck_assert_ptr_null(v[0].note);
	free(v);
	json_decref(j);
	j = parse(EV("unavailable", ",\"reason\":\"breakdown\",\"note\":null"));
	ck_assert_int_eq(vevents_decode(j, 500, &v, &n, &err), OTD_OK);
	ck_assert_int_eq(v[0].kind, OTD_VEVENT_UNAVAILABLE);
	ck_assert_str_eq(v[0].reason, "breakdown");
	ck_assert_ptr_null(v[0].note);
	free(v);
	json_decref(j);
}
END_TEST

START_TEST(a_batch_keeps_its_order_and_indexes)
{
	json_t *j =
	    parse("{\"events\":[" EV("start_travel", ",\"appointment\":\"OTD-AAA3B2\"") "," EV(
	        "position",
	        ",\"lat\":52.1,\"lon\":-1.1") "," EV("break_start",
	                                             "") "," EV("cannot_attend",
	                                                        ",\"appointment\":\"OTD-AAA3C2\","
	                                                        "\"note\":\"Van\"") "]}");
	struct otd_vevent *v = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(vevents_decode(j, 4, &v, &n, &err), OTD_OK);
	ck_assert_uint_eq(n, 4);
	for(size_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i].index, i);
	ck_assert_int_eq(v[0].kind, OTD_VEVENT_START_TRAVEL);
	ck_assert_str_eq(v[0].reference, "OTD-AAA3B2");
	ck_assert_int_eq(v[1].kind, OTD_VEVENT_POSITION);
	ck_assert(v[1].has_position);
	ck_assert_double_eq(v[1].lat, 52.1);
	ck_assert_int_eq(v[2].kind, OTD_VEVENT_BREAK_START);
	ck_assert_int_eq(v[3].kind, OTD_VEVENT_CANNOT_ATTEND);
	ck_assert_str_eq(v[3].note, "Van");
	free(v);
	/* One over the limit: 413, nothing decoded. */
	otd_error_clear(&err);
	v = NULL;
	ck_assert_int_eq(vevents_decode(j, 3, &v, &n, &err), OTD_ETOOBIG);
	ck_assert_int_eq(otd_status_http(OTD_ETOOBIG), 413);
	ck_assert_str_eq(err.field, "events");
	ck_assert_str_eq(err.code, "too_many_events");
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	json_decref(j);
}
END_TEST

START_TEST(batch_errors_name_the_event_and_its_field)
{
	bad("{\"events\":[" EV("break_start", "") "," EV("break_end", "") "," EV(
	        "position", ",\"lat\":91,\"lon\":0") "]}",
	    500, OTD_EINVAL, "out_of_range", "events[2].lat");
	bad("{\"events\":[" EV("break_start", "") "," EV("break_end", "") "," EV("position",
	                                                                         ",\"lon\":0") "]}",
	    500, OTD_EINVAL, "missing_field", "events[2].lat");
	bad("{\"events\":[" EV("position", ",\"lat\":1") "]}", 500, OTD_EINVAL, "missing_field",
	    "events[0].lon");
	bad("{\"events\":[" EV("break_start", "") ",\"x\"]}", 500, OTD_EINVAL, "wrong_type",
	    "events[1]");
	bad("{\"events\":[" EV("done", "") "]}", 500, OTD_EINVAL, "missing_field",
	    "events[0].appointment");
	bad("{\"events\":[" EV("late", ",\"minutes\":0") "]}", 500, OTD_EINVAL, "out_of_range",
	    "events[0].minutes");
	bad("{\"events\":[" EV("late", ",\"minutes\":1441") "]}", 500, OTD_EINVAL, "out_of_range",
	    "events[0].minutes");
	bad("{\"events\":[" EV("break_end", "") "," EV("teleport", "") "]}", 500, OTD_EINVAL,
	    "bad_type", "events[1].type");
	bad("{\"events\":[" EV("break_end", ",\"colour\":\"red\"") "]}", 500, OTD_EINVAL,
	    "unknown_field", "events[0].colour");
	bad("{\"events\":[]}", 500, OTD_EINVAL, "empty", "events");
	bad("{\"events\":{}}", 500, OTD_EINVAL, "wrong_type", "events");
	bad("{\"events\":[" EV("break_end", "") "],\"more\":1}", 500, OTD_EINVAL, "unknown_field",
	    "");
	/* Beyond the limit is 413 before any event is looked at. */
	bad("{\"events\":[1,2,3]}", 2, OTD_ETOOBIG, "too_many_events", "events");
}
END_TEST

START_TEST(single_event_errors_name_the_field)
{
	bad(EV("late", ""), 500, OTD_EINVAL, "missing_field", "minutes");
	bad(EV("done", ",\"minutes\":5,\"appointment\":\"OTD-AAA3B2\""), 500, OTD_EINVAL,
	    "unexpected_field", "minutes");
	bad(EV("arrived", ""), 500, OTD_EINVAL, "missing_field", "appointment");
	bad(EV("arrived", ",\"appointment\":null"), 500, OTD_EINVAL, "missing_field",
	    "appointment");
	bad(EV("late", ",\"minutes\":5,\"appointment\":\"OTD-AAA3B2\""), 500, OTD_EINVAL,
	    "unexpected_field", "appointment");
	bad(EV("arrived", ",\"appointment\":\"ABC-123456\""), 500, OTD_EINVAL, "bad_reference",
	    "appointment");
	bad(EV("arrived", ",\"appointment\":\"OTD-AAA30\""), 500, OTD_EINVAL, "too_short",
	    "appointment");
	bad(EV("unknown_thing", ""), 500, OTD_EINVAL, "bad_type", "type");
	bad(EV("unavailable", ",\"reason\":\"bored\""), 500, OTD_EINVAL, "bad_reason", "reason");
	bad(EV("unavailable", ""), 500, OTD_EINVAL, "bad_reason", "reason");
	bad(EV("break_start", ",\"reason\":\"sick\""), 500, OTD_EINVAL, "unexpected_field",
	    "reason");
	bad(EV("cannot_attend", ",\"appointment\":\"OTD-AAA3B2\""), 500, OTD_EINVAL,
	    "missing_field", "note");
	bad(EV("cannot_attend", ",\"appointment\":\"OTD-AAA3B2\",\"note\":\"\""), 500, OTD_EINVAL,
	    "missing_field", "note");
	bad(EV("position", ""), 500, OTD_EINVAL, "missing_field", "lat");
	bad(EV("position", ",\"lat\":1,\"lon\":181"), 500, OTD_EINVAL, "out_of_range", "lon");
	bad(EV("position", ",\"lat\":1,\"lon\":1,\"accuracy\":-1"), 500, OTD_EINVAL, "out_of_range",
	    "accuracy");
	bad("{\"type\":\"break_start\",\"at\":\"2026-03-03T09:00:00Z\"}", 500, OTD_EINVAL,
	    "missing_field", "client_event_id");
	bad("{\"client_event_id\":\"\",\"type\":\"break_start\",\"at\":\"2026-03-03T09:00:00Z\"}",
	    500, OTD_EINVAL, "empty", "client_event_id");
	bad("{\"client_event_id\":\"c\",\"type\":\"break_start\",\"at\":\"yesterday at nine\"}",
	    500, OTD_EINVAL, "too_short", "at");
	json_t *j = parse("{\"client_event_id\":\"c\",\"type\":\"break_start\",\"at\":"
	                  "\"2026-03-03 09:00:00 in the morning\"}");
	struct otd_vevent *v = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(vevents_decode(j, 500, &v, &n, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "at");
	ck_assert_ptr_null(v);
	json_decref(j);
	/* A client id of 64 characters is the longest. */
	char text[256];
	char id[66];
	memset(id, 'k', 65);
	id[65] = '\0';
	snprintf(text, sizeof(text),
	         "{\"client_event_id\":\"%s\",\"type\":\"break_start\",\"at\":"
	         "\"2026-03-03T09:00:00Z\"}",
	         id);
	bad(text, 500, OTD_EINVAL, "too_long", "client_event_id");
	id[64] = '\0';
	snprintf(text, sizeof(text),
	         "{\"client_event_id\":\"%s\",\"type\":\"break_start\",\"at\":"
	         "\"2026-03-03T09:00:00Z\"}",
	         id);
	j = parse(text);
	ck_assert_int_eq(vevents_decode(j, 500, &v, &n, &err), OTD_OK);
	ck_assert_uint_eq(strlen(v[0].client_id), 64);
	free(v);
	json_decref(j);
}
END_TEST

/* Regression (found by fuzz_vevents): "appointment" was checked only for
 * 10 code points and the "OTD-" prefix, so "OTD-éééééé" (16 bytes) was cut
 * mid-character and the error reply could not be encoded (a 500). A
 * reference must now parse as one (otd_reference_parse). */
START_TEST(a_reference_with_multibyte_characters_is_refused)
{
	bad(EV("arrived", ",\"appointment\":\"OTD-\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\""), 500,
	    OTD_EINVAL, "bad_reference", "appointment");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decode_tracking");
	TCase *tc = tcase_create("decode_tracking");
	tcase_add_test(tc, a_single_event_decodes_every_field);
	tcase_add_test(tc, a_batch_keeps_its_order_and_indexes);
	tcase_add_test(tc, batch_errors_name_the_event_and_its_field);
	tcase_add_test(tc, single_event_errors_name_the_field);
	suite_add_tcase(s, tc);
	/* Defects these tests found, fixed since: kept as regressions. */
	TCase *bugs = tcase_create("regressions");
	tcase_add_test(bugs, a_reference_with_multibyte_characters_is_refused);
	suite_add_tcase(s, bugs);
	return testutil_run(s);
}
