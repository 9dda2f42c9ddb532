/* Unit tests: status codes, the error record and the HTTP mapping. */
#include <string.h>

#include "onthedot/status.h"
#include "testutil.h"

START_TEST(maps_every_status_to_design_http_codes)
{
	ck_assert_int_eq(otd_status_http(OTD_OK), 200);
	ck_assert_int_eq(otd_status_http(OTD_EINVAL), 400);
	ck_assert_int_eq(otd_status_http(OTD_EAUTH), 401);
	ck_assert_int_eq(otd_status_http(OTD_EFORBIDDEN), 403);
	ck_assert_int_eq(otd_status_http(OTD_ENOTFOUND), 404);
	ck_assert_int_eq(otd_status_http(OTD_EMETHOD), 405);
	ck_assert_int_eq(otd_status_http(OTD_ECONFLICT), 409);
	ck_assert_int_eq(otd_status_http(OTD_ETOOBIG), 413);
	ck_assert_int_eq(otd_status_http(OTD_ESTATE), 422);
	ck_assert_int_eq(otd_status_http(OTD_ERATE), 429);
	ck_assert_int_eq(otd_status_http(OTD_EBUSY), 503);
	ck_assert_int_eq(otd_status_http(OTD_EIO), 500);
	ck_assert_int_eq(otd_status_http((enum otd_status)999), 500);
	for(int s = 0; s < OTD_STATUS_COUNT; s++)
		ck_assert_str_ne(otd_status_name((enum otd_status)s), "unknown");
	ck_assert_str_eq(otd_status_name((enum otd_status)-1), "unknown");
}
END_TEST

START_TEST(error_set_fills_code_field_and_message)
{
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st =
	    otd_error_set(&e, OTD_EINVAL, "missing_field", "name", "The field %s is required.", "name");
	ck_assert_int_eq(st, OTD_EINVAL);
	ck_assert_int_eq(e.status, OTD_EINVAL);
	ck_assert_str_eq(e.code, "missing_field");
	ck_assert_str_eq(e.field, "name");
	ck_assert_str_eq(e.message, "The field name is required.");
	otd_error_set(&e, OTD_ENOTFOUND, NULL, NULL, "gone");
	ck_assert_str_eq(e.code, "not_found");
	ck_assert_str_eq(e.field, "");
	ck_assert_int_eq(otd_error_set(NULL, OTD_EBUSY, "x", NULL, "y"), OTD_EBUSY);
}
END_TEST

START_TEST(long_message_is_marked_not_silently_cut)
{
	struct otd_error e;
	char big[1000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	otd_error_set(&e, OTD_EINVAL, "x", NULL, "%s", big);
	size_t n = strlen(e.message);
	ck_assert_uint_eq(n, OTD_ERR_MESSAGE_MAX - 1);
	ck_assert_str_eq(e.message + n - 3, "...");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");
	tcase_add_test(tc, maps_every_status_to_design_http_codes);
	tcase_add_test(tc, error_set_fills_code_field_and_message);
	tcase_add_test(tc, long_message_is_marked_not_silently_cut);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
