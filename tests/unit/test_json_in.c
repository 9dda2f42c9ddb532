/* Unit tests: strict JSON field checking (http/json_in.c): unknown,
 * missing and wrongly typed fields, lengths in characters, ranges,
 * nullable fields, arrays, and the field prefix in errors. */
#include <jansson.h>
#include <string.h>

#include "http/json_in.h"
#include "testutil.h"

static const struct field_spec spec[] = {
    {"name", FIELD_STRING, true, 1, 5, false},   {"count", FIELD_INT, false, 1, 10, false},
    {"ratio", FIELD_NUMBER, false, 0, 1, false}, {"flag", FIELD_BOOL, false, 0, 0, false},
    {"tags", FIELD_ARRAY, false, 1, 2, false},   {"obj", FIELD_OBJECT, false, 0, 0, false},
    {"note", FIELD_STRING, false, 0, 3, true},   {"any", FIELD_NUMBER, false, 0, 0, false},
    {"code", FIELD_STRING, false, 2, 0, false},
};
#define N_SPEC (sizeof(spec) / sizeof(spec[0]))

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(j != NULL, "%s: %s", text, e.text);
	return j;
}

static void ok(const char *text)
{
	json_t *j = parse(text);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(json_check(j, spec, N_SPEC, NULL, &err) == OTD_OK, "%s: %s %s", text,
	              err.code, err.field);
	json_decref(j);
}

static void bad(const char *text, const char *prefix, const char *code, const char *field)
{
	json_t *j = parse(text);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(json_check(j, spec, N_SPEC, prefix, &err) == OTD_EINVAL, "accepted %s", text);
	ck_assert_int_eq(err.status, OTD_EINVAL);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, field);
	ck_assert_int_eq(otd_status_http(err.status), 400);
	json_decref(j);
}

START_TEST(good_objects_pass)
{
	ok("{\"name\":\"abc\"}");
	ok("{\"name\":\"a\",\"count\":1,\"ratio\":0,\"flag\":false,\"tags\":[1],\"obj\":{},"
	   "\"note\":\"xyz\",\"any\":-1e9,\"code\":\"ab\"}");
	ok("{\"name\":\"abcde\",\"count\":10,\"ratio\":1,\"tags\":[\"a\",\"b\"]}");
	ok("{\"name\":\"x\",\"ratio\":0.5}");
	ok("{\"name\":\"x\",\"ratio\":1.0}"); /* a real where a number is wanted */
	ok("{\"name\":\"x\",\"note\":null}"); /* nullable: null is absent */
	ok("{\"name\":\"x\",\"code\":\"a long code has no upper bound\"}");
}
END_TEST

START_TEST(unknown_fields_are_refused_first)
{
	bad("{\"name\":\"abc\",\"nmae\":1}", NULL, "unknown_field", "nmae");
	bad("{\"extra\":1}", NULL, "unknown_field", "extra"); /* before "name is missing" */
	bad("{\"name\":\"abc\",\"Name\":\"x\"}", NULL, "unknown_field", "Name");
	bad("{\"name\":\"abc\",\"x\":1}", "base.", "unknown_field", "base.x");
}
END_TEST

START_TEST(missing_and_null_required_fields)
{
	bad("{}", NULL, "missing_field", "name");
	bad("{\"count\":3}", NULL, "missing_field", "name");
	bad("{}", "shifts[2].", "missing_field", "shifts[2].name");
	/* null for a field that is not nullable is the wrong type. */
	bad("{\"name\":null}", NULL, "wrong_type", "name");
	bad("{\"name\":\"x\",\"count\":null}", NULL, "wrong_type", "count");
	/* A required nullable field given as null is missing. */
	static const struct field_spec req_null[] = {{"to", FIELD_STRING, true, 1, 9, true}};
	json_t *j = parse("{\"to\":null}");
	struct otd_error err;
	ck_assert_int_eq(json_check(j, req_null, 1, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "missing_field");
	ck_assert_str_eq(err.field, "to");
	json_decref(j);
}
END_TEST

START_TEST(wrong_types_name_what_is_wanted)
{
	bad("{\"name\":5}", NULL, "wrong_type", "name");
	bad("{\"name\":[\"abc\"]}", NULL, "wrong_type", "name");
	bad("{\"name\":\"x\",\"count\":\"3\"}", NULL, "wrong_type", "count");
	bad("{\"name\":\"x\",\"count\":2.5}", NULL, "wrong_type", "count");
	bad("{\"name\":\"x\",\"count\":3.0}", NULL, "wrong_type",
	    "count"); /* a real is not an int */
	bad("{\"name\":\"x\",\"ratio\":\"0.5\"}", NULL, "wrong_type", "ratio");
	bad("{\"name\":\"x\",\"flag\":\"true\"}", NULL, "wrong_type", "flag");
	bad("{\"name\":\"x\",\"flag\":1}", NULL, "wrong_type", "flag");
	bad("{\"name\":\"x\",\"tags\":{}}", NULL, "wrong_type", "tags");
	bad("{\"name\":\"x\",\"obj\":[]}", NULL, "wrong_type", "obj");
	bad("{\"name\":\"x\",\"note\":4}", "p.", "wrong_type", "p.note");
	json_t *j = parse("{\"name\":\"x\",\"count\":\"3\"}");
	struct otd_error err;
	ck_assert_int_eq(json_check(j, spec, N_SPEC, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.message, "The field \"count\" must be an integer.");
	json_decref(j);
}
END_TEST

START_TEST(string_lengths_count_characters)
{
	ok("{\"name\":\"héllo\"}");           /* 5 characters, 6 bytes */
	ok("{\"name\":\"日本語日本\"}");      /* 5 characters, 15 bytes */
	ok("{\"name\":\"\\ud83d\\ude00😀\"}"); /* 2 characters, 8 bytes */
	bad("{\"name\":\"héllo!\"}", NULL, "too_long", "name");
	bad("{\"name\":\"日本語日本語\"}", NULL, "too_long", "name");
	bad("{\"name\":\"\"}", NULL, "empty", "name");
	bad("{\"name\":\"x\",\"code\":\"a\"}", NULL, "too_short", "code");
	bad("{\"name\":\"x\",\"note\":\"abcd\"}", "shifts[0].", "too_long", "shifts[0].note");
	json_t *j = parse("{\"name\":\"abcdef\"}");
	struct otd_error err;
	ck_assert_int_eq(json_check(j, spec, N_SPEC, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.message, "The field \"name\" is at most 5 characters long.");
	json_decref(j);
	ck_assert_uint_eq(utf8_length(""), 0);
	ck_assert_uint_eq(utf8_length("aé😀日"), 4);
}
END_TEST

START_TEST(numbers_must_be_in_range)
{
	bad("{\"name\":\"x\",\"count\":0}", NULL, "out_of_range", "count");
	bad("{\"name\":\"x\",\"count\":11}", NULL, "out_of_range", "count");
	bad("{\"name\":\"x\",\"count\":-9223372036854775808}", NULL, "out_of_range", "count");
	bad("{\"name\":\"x\",\"ratio\":1.0000001}", NULL, "out_of_range", "ratio");
	bad("{\"name\":\"x\",\"ratio\":-0.5}", NULL, "out_of_range", "ratio");
	bad("{\"name\":\"x\",\"ratio\":2}", NULL, "out_of_range",
	    "ratio");                         /* integer for a number */
	ok("{\"name\":\"x\",\"any\":1e300}"); /* no range when min == max */
	json_t *j = parse("{\"name\":\"x\",\"count\":11}");
	struct otd_error err;
	ck_assert_int_eq(json_check(j, spec, N_SPEC, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.message, "The field \"count\" must be from 1 to 10.");
	json_decref(j);
}
END_TEST

START_TEST(arrays_count_their_items)
{
	bad("{\"name\":\"x\",\"tags\":[]}", NULL, "too_few", "tags");
	bad("{\"name\":\"x\",\"tags\":[1,2,3]}", NULL, "too_many", "tags");
	ok("{\"name\":\"x\",\"tags\":[null,{}]}"); /* items are the caller's to check */
}
END_TEST

START_TEST(accessors_read_checked_fields)
{
	json_t *j = parse("{\"s\":\"v\",\"i\":7,\"r\":2.5,\"b\":true,\"n\":null}");
	ck_assert_str_eq(json_get_str(j, "s"), "v");
	ck_assert_ptr_null(json_get_str(j, "i"));
	ck_assert_ptr_null(json_get_str(j, "missing"));
	ck_assert_int_eq(json_get_int(j, "i", -1), 7);
	ck_assert_int_eq(json_get_int(j, "r", -1), -1);
	ck_assert_int_eq(json_get_int(j, "missing", 42), 42);
	ck_assert_double_eq(json_get_num(j, "r", 0), 2.5);
	ck_assert_double_eq(json_get_num(j, "i", 0), 7);
	ck_assert_double_eq(json_get_num(j, "s", -3), -3);
	ck_assert(json_get_bool(j, "b", false));
	ck_assert(!json_get_bool(j, "i", false));
	ck_assert(json_get_bool(j, "missing", true));
	ck_assert(json_has(j, "s"));
	ck_assert(!json_has(j, "n")); /* null is absent */
	ck_assert(!json_has(j, "missing"));
	json_decref(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json_in");
	TCase *tc = tcase_create("json_in");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, good_objects_pass);
	tcase_add_test(tc, unknown_fields_are_refused_first);
	tcase_add_test(tc, missing_and_null_required_fields);
	tcase_add_test(tc, wrong_types_name_what_is_wanted);
	tcase_add_test(tc, string_lengths_count_characters);
	tcase_add_test(tc, numbers_must_be_in_range);
	tcase_add_test(tc, arrays_count_their_items);
	tcase_add_test(tc, accessors_read_checked_fields);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
