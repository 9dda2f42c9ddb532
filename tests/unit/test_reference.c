/* Unit tests: appointment references (core/reference.c). */
#include <string.h>

#include "onthedot/reference.h"
#include "testutil.h"

static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

START_TEST(made_from_the_unambiguous_alphabet)
{
	char out[OTD_REFERENCE_LEN + 1];
	int seen[256] = {0};
	unsigned char random[6];
	/* Every byte value in every position. */
	for(int v = 0; v < 256; v++) {
		for(int i = 0; i < 6; i++)
			random[i] = (unsigned char)(v + 37 * i);
		memset(out, 'x', sizeof(out));
		otd_reference_make(random, out);
		ck_assert_uint_eq(strlen(out), OTD_REFERENCE_LEN);
		ck_assert_int_eq(memcmp(out, "OTD-", 4), 0);
		for(int i = 4; i < OTD_REFERENCE_LEN; i++) {
			ck_assert_ptr_nonnull(strchr(alphabet, out[i]));
			ck_assert(!strchr("0O1I", out[i]));
			seen[(unsigned char)out[i]]++;
		}
	}
	/* All 32 symbols are used, equally often. */
	for(const char *a = alphabet; *a; a++)
		ck_assert_int_eq(seen[(unsigned char)*a], 256 * 6 / 32);
	ck_assert_uint_eq(strlen(alphabet), 32);
	const unsigned char zero[6] = {0, 1, 2, 31, 32, 255};
	otd_reference_make(zero, out);
	ck_assert_str_eq(out, "OTD-234Z2Z");
}
END_TEST

START_TEST(parse_tolerates_case_spaces_and_a_missing_prefix)
{
	char out[OTD_REFERENCE_LEN + 1];
	static const char *const good[] = {
	    "OTD-7K3F9Q", "otd-7k3f9q", " OTD-7K3F9Q ",        "7K3F9Q", "7k3f9q", "7K3 F9Q",
	    "OTD7K3F9Q",  "otd 7k3f9q", "O T D - 7 K 3 F 9 Q",
	};
	for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(out, 0, sizeof(out));
		ck_assert_msg(otd_reference_parse(good[i], out), "%s", good[i]);
		ck_assert_str_eq(out, "OTD-7K3F9Q");
	}
	/* What make writes parses back to itself. */
	unsigned char random[6] = {9, 200, 77, 3, 150, 64};
	char made[OTD_REFERENCE_LEN + 1];
	otd_reference_make(random, made);
	ck_assert(otd_reference_parse(made, out));
	ck_assert_str_eq(out, made);
}
END_TEST

START_TEST(parse_rejects_what_is_not_a_reference)
{
	char out[OTD_REFERENCE_LEN + 1] = "unchanged";
	static const char *const bad[] = {
	    "",           "OTD-",        "OTD-7K3F9",   "OTD-7K3F9QQ",
	    "7K3F9",      "7K3F9QQ",     "OTD-7K3F9O",  "OTD-7K3F90",
	    "OTD-1K3F9Q", "OTD-IK3F9Q",  "OTD-7K3F9-",  "XTD-7K3F9Q",
	    "OTD_7K3F9Q", "OTD--7K3F9Q", "OTD-7K3F9Q!", "OTD-7K\t3F9Q",
	    "0TD-7K3F9Q", "OTD-ÄK3F9Q",  "7K3F9Q OTD-", "OTD-7K3F9Q  OTD-7K3F9Q",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!otd_reference_parse(bad[i], out), "%s", bad[i]);
	ck_assert(!otd_reference_parse(NULL, out));
	ck_assert_str_eq(out, "unchanged");
	/* A long input is refused without reading past what it needs. */
	char longer[4096];
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert(!otd_reference_parse(longer, out));
}
END_TEST

START_TEST(doorstep_codes_are_four_digits_per_visit_and_key)
{
	unsigned char k1[32] = {1}, k2[32] = {2};
	char a[5], b[5];
	otd_doorstep_code(k1, 7, a);
	ck_assert_int_eq(strlen(a), 4);
	for(int i = 0; i < 4; i++)
		ck_assert(a[i] >= '0' && a[i] <= '9');
	otd_doorstep_code(k1, 7, b);
	ck_assert_str_eq(a, b); /* stable */
	int same_id = 0, same_key = 0;
	for(int64_t id = 1; id <= 40; id++) {
		char x[5], y[5];
		otd_doorstep_code(k1, id, x);
		otd_doorstep_code(k2, id, y);
		same_id += strcmp(x, a) == 0;
		same_key += strcmp(x, y) == 0;
	}
	ck_assert_int_lt(same_id, 5);  /* another visit, another code (7 itself is one) */
	ck_assert_int_lt(same_key, 5); /* another database, other codes */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reference");
	TCase *tc = tcase_create("reference");
	tcase_add_test(tc, made_from_the_unambiguous_alphabet);
	tcase_add_test(tc, parse_tolerates_case_spaces_and_a_missing_prefix);
	tcase_add_test(tc, parse_rejects_what_is_not_a_reference);
	tcase_add_test(tc, doorstep_codes_are_four_digits_per_visit_and_key);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
