/* Unit tests: application/x-www-form-urlencoded bodies (http/form.c), as
 * Twilio posts them: '+' as a space, %XX in either case, empty values, a
 * name without '=', empty pairs skipped, a body not NUL-terminated; every
 * error (a cut or non-hex escape, a NUL, too many fields, a field too long
 * before or after decoding) naming the field and leaving the form empty;
 * form_get finding the first of repeated names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "onthedot/mem.h"
#include "testutil.h"

static struct form f;
static struct otd_error err;

static enum otd_status parse(const char *body)
{
	otd_error_clear(&err);
	return form_parse(body, strlen(body), &f, &err);
}

/* The fields as "name=value|name=value". */
static const char *fields(void)
{
	static char out[1024];
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < f.n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s=%s", i ? "|" : "",
		                        f.names[i], f.values[i]);
	return out;
}

/* body must fail with a bad_form error whose message holds want. */
static void expect_error(const char *body, const char *want)
{
	ck_assert_msg(parse(body) == OTD_EINVAL, "accepted: %s", body);
	ck_assert_int_eq(err.status, OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_form");
	ck_assert_msg(strstr(err.message, want) != NULL, "%s: \"%s\" lacks \"%s\"", body,
	              err.message, want);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_ptr_null(form_get(&f, "a"));
	form_cleanup(&f);
}

START_TEST(decodes_what_twilio_posts)
{
	ck_assert_int_eq(parse("MessageSid=SM123&From=%2B447700900001&Body=Yes+please%21&To="),
	                 OTD_OK);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(fields(), "MessageSid=SM123|From=+447700900001|Body=Yes please!|To=");
	ck_assert_str_eq(form_get(&f, "From"), "+447700900001");
	ck_assert_str_eq(form_get(&f, "To"), "");
	ck_assert_ptr_null(form_get(&f, "from")); /* names are case-sensitive */
	ck_assert_ptr_null(form_get(&f, "Missing"));
	form_cleanup(&f);
	ck_assert_uint_eq(f.n, 0);
	form_cleanup(&f); /* twice is harmless */

	/* Escapes in either case, in names too; an escaped '+', '&' and '='
	 * are data, not syntax; UTF-8 passes through as bytes. */
	ck_assert_int_eq(parse("a%5fB=%3d%26%2b%2B&%C3%A9t%c3%a9=caf%C3%A9"), OTD_OK);
	ck_assert_str_eq(fields(), "a_B==&++|été=café");
	form_cleanup(&f);

	/* '+' is a space in names as well; a lone '+' and "%20" agree. */
	ck_assert_int_eq(parse("first+name=Zo%C3%AB+O%27Brien&x=+%20"), OTD_OK);
	ck_assert_str_eq(form_get(&f, "first name"), "Zoë O'Brien");
	ck_assert_str_eq(form_get(&f, "x"), "  ");
	form_cleanup(&f);
}
END_TEST

START_TEST(empty_values_bare_names_and_empty_pairs)
{
	/* An empty body: no fields. NULL with length 0 too. */
	ck_assert_int_eq(parse(""), OTD_OK);
	ck_assert_uint_eq(f.n, 0);
	form_cleanup(&f);
	ck_assert_int_eq(form_parse(NULL, 0, &f, &err), OTD_OK);
	ck_assert_uint_eq(f.n, 0);

	/* "a" alone and "a=" both give a = "". */
	ck_assert_int_eq(parse("a"), OTD_OK);
	ck_assert_str_eq(fields(), "a=");
	form_cleanup(&f);
	ck_assert_int_eq(parse("a=&b"), OTD_OK);
	ck_assert_str_eq(fields(), "a=|b=");
	form_cleanup(&f);

	/* Empty pairs (leading, doubled, trailing '&') are skipped. */
	ck_assert_int_eq(parse("&&a=1&&&b=2&"), OTD_OK);
	ck_assert_str_eq(fields(), "a=1|b=2");
	form_cleanup(&f);
	ck_assert_int_eq(parse("&"), OTD_OK);
	ck_assert_uint_eq(f.n, 0);
	form_cleanup(&f);

	/* An empty name is a field; only the first '=' splits. */
	ck_assert_int_eq(parse("=v&k=a=b"), OTD_OK);
	ck_assert_str_eq(fields(), "=v|k=a=b");
	ck_assert_str_eq(form_get(&f, ""), "v");
	form_cleanup(&f);

	/* The length given is what counts: bytes after it are not read. */
	const char body[] = "a=1&b=2&c=3";
	otd_error_clear(&err);
	ck_assert_int_eq(form_parse(body, 5, &f, &err), OTD_OK);
	ck_assert_str_eq(fields(), "a=1|b=");
	form_cleanup(&f);
	/* An escape complete only beyond the length is cut. */
	const char esc[] = "a=%41";
	ck_assert_int_eq(form_parse(esc, 4, &f, &err), OTD_EINVAL);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_int_eq(form_parse(esc, 5, &f, &err), OTD_OK);
	ck_assert_str_eq(fields(), "a=A");
	form_cleanup(&f);
}
END_TEST

START_TEST(form_get_finds_the_first_of_repeated_names)
{
	ck_assert_int_eq(parse("To=1&From=a&To=2&To=3&From=b"), OTD_OK);
	ck_assert_uint_eq(f.n, 5);
	ck_assert_str_eq(form_get(&f, "To"), "1");
	ck_assert_str_eq(form_get(&f, "From"), "a");
	form_cleanup(&f);
	/* A name spelt two ways decodes to one: the first still wins. */
	ck_assert_int_eq(parse("a+b=first&a%20b=second"), OTD_OK);
	ck_assert_str_eq(form_get(&f, "a b"), "first");
	form_cleanup(&f);
}
END_TEST

START_TEST(malformed_escapes_and_nul_name_the_field)
{
	/* An escape cut at the end of the body, of a field, or of a name. */
	expect_error("%4", "Form field 1 has a malformed %-escape.");
	expect_error("a=%4", "Form field 1 has a malformed %-escape.");
	expect_error("a=%", "Form field 1 has a malformed %-escape.");
	expect_error("a=1&b=%4&c=3", "Form field 2 has a malformed %-escape.");
	expect_error("a=1&b=2&c%=3", "Form field 3 has a malformed %-escape.");
	/* Not hex, either digit. */
	expect_error("a=%zz", "Form field 1 has a malformed %-escape.");
	expect_error("a=%4g", "Form field 1 has a malformed %-escape.");
	expect_error("a=%g4", "Form field 1 has a malformed %-escape.");
	expect_error("a=1&b=% 1", "Form field 2 has a malformed %-escape.");
	/* A NUL, in a value or a name. */
	expect_error("a=%00", "Form field 1 holds a NUL byte.");
	expect_error("a=1&b=x%00y", "Form field 2 holds a NUL byte.");
	expect_error("a=1&%00=1", "Form field 2 holds a NUL byte.");
	/* A raw NUL inside the length is refused too. */
	const char raw[] = "a=1&b=x\0y";
	otd_error_clear(&err);
	ck_assert_int_eq(form_parse(raw, sizeof(raw) - 1, &f, &err), OTD_EINVAL);
	ck_assert_str_eq(err.message, "Form field 2 holds a NUL byte.");
	ck_assert_uint_eq(f.n, 0);
	/* Field numbers count fields, not the empty pairs skipped. */
	expect_error("&&a=1&&b=%zz", "Form field 2 has a malformed %-escape.");
}
END_TEST

START_TEST(too_many_fields)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(int i = 0; i < FORM_MAX_FIELDS; i++)
		otd_buf_printf(&b, "%sf%d=%d", i ? "&" : "", i, i);
	char *body = otd_buf_steal(&b);
	/* Exactly the cap: all of them, in order. */
	ck_assert_int_eq(parse(body), OTD_OK);
	ck_assert_uint_eq(f.n, FORM_MAX_FIELDS);
	ck_assert_str_eq(f.names[0], "f0");
	ck_assert_str_eq(form_get(&f, "f63"), "63");
	form_cleanup(&f);
	/* Trailing empty pairs do not count. */
	char *more = xasprintf("%s&&&", body);
	ck_assert_int_eq(parse(more), OTD_OK);
	ck_assert_uint_eq(f.n, FORM_MAX_FIELDS);
	form_cleanup(&f);
	free(more);
	/* One more: refused, nothing kept. */
	more = xasprintf("%s&x=1", body);
	ck_assert_int_eq(parse(more), OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_form");
	ck_assert_str_eq(err.message, "The form has more than 64 fields.");
	ck_assert_uint_eq(f.n, 0);
	free(more);
	/* A bare name as the 65th counts as well. */
	more = xasprintf("%s&x", body);
	ck_assert_int_eq(parse(more), OTD_EINVAL);
	ck_assert_uint_eq(f.n, 0);
	free(more);
	free(body);
}
END_TEST

START_TEST(a_field_too_long)
{
	/* FORM_MAX_VALUE decoded bytes fit, one more does not: in a value, in
	 * a name, whether the bytes are plain or escaped. */
	char *plain = xmalloc(FORM_MAX_VALUE + 2);
	memset(plain, 'x', FORM_MAX_VALUE + 1);
	plain[FORM_MAX_VALUE + 1] = '\0';

	char *body = xasprintf("a=1&b=%.*s", FORM_MAX_VALUE, plain);
	ck_assert_int_eq(parse(body), OTD_OK);
	ck_assert_uint_eq(strlen(form_get(&f, "b")), FORM_MAX_VALUE);
	form_cleanup(&f);
	free(body);

	body = xasprintf("a=1&b=%s", plain);
	expect_error(body, "Form field 2 is longer than 4096 bytes.");
	free(body);
	body = xasprintf("%s=1", plain);
	expect_error(body, "Form field 1 is longer than 4096 bytes.");
	free(body);

	/* Escaped: 4096 "%41" decode to 4096 bytes; one more is too long. */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b, "v=");
	for(int i = 0; i < FORM_MAX_VALUE; i++)
		otd_buf_printf(&b, "%%41");
	char *escaped = otd_buf_steal(&b);
	ck_assert_int_eq(parse(escaped), OTD_OK);
	ck_assert_uint_eq(strlen(form_get(&f, "v")), FORM_MAX_VALUE);
	ck_assert_int_eq(form_get(&f, "v")[FORM_MAX_VALUE - 1], 'A');
	form_cleanup(&f);
	body = xasprintf("%s%%41", escaped);
	expect_error(body, "Form field 1 is longer than 4096 bytes.");
	free(body);
	/* Raw length far over the cap is refused before decoding. */
	body = xasprintf("%s%s%s%s", escaped, escaped + 2, escaped + 2, escaped + 2);
	expect_error(body, "Form field 1 is longer than 4096 bytes.");
	free(body);
	free(escaped);
	free(plain);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("form");
	TCase *tc = tcase_create("form");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, decodes_what_twilio_posts);
	tcase_add_test(tc, empty_values_bare_names_and_empty_pairs);
	tcase_add_test(tc, form_get_finds_the_first_of_repeated_names);
	tcase_add_test(tc, malformed_escapes_and_nul_name_the_field);
	tcase_add_test(tc, too_many_fields);
	tcase_add_test(tc, a_field_too_long);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
