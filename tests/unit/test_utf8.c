/* Unit tests: the UTF-8 decoder, against the Unicode Standard's table of
 * well-formed byte sequences (3-7) at every boundary. */
#include <string.h>

#include "onthedot/utf8.h"
#include "testutil.h"

static size_t len_of(const char *bytes, size_t n)
{
	return otd_utf8_char((const unsigned char *)bytes, n);
}

START_TEST(well_formed_sequences)
{
	ck_assert_uint_eq(len_of("A", 1), 1);
	ck_assert_uint_eq(len_of("\x7f", 1), 1);
	ck_assert_uint_eq(len_of("\xc2\x80", 2), 2);         /* U+0080 */
	ck_assert_uint_eq(len_of("\xdf\xbf", 2), 2);         /* U+07FF */
	ck_assert_uint_eq(len_of("\xe0\xa0\x80", 3), 3);     /* U+0800 */
	ck_assert_uint_eq(len_of("\xed\x9f\xbf", 3), 3);     /* U+D7FF */
	ck_assert_uint_eq(len_of("\xee\x80\x80", 3), 3);     /* U+E000 */
	ck_assert_uint_eq(len_of("\xef\xbf\xbf", 3), 3);     /* U+FFFF */
	ck_assert_uint_eq(len_of("\xf0\x90\x80\x80", 4), 4); /* U+10000 */
	ck_assert_uint_eq(len_of("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	ck_assert_uint_eq(len_of("\xc3\xab", 2), 2);         /* ë */
	ck_assert_uint_eq(len_of("\xe1\xbb\x85", 3), 3);     /* ễ */
}
END_TEST

START_TEST(ill_formed_sequences)
{
	ck_assert_uint_eq(len_of("\x80", 1), 0);             /* a lone continuation */
	ck_assert_uint_eq(len_of("\xc0\xaf", 2), 0);         /* overlong '/' */
	ck_assert_uint_eq(len_of("\xc1\xbf", 2), 0);         /* overlong */
	ck_assert_uint_eq(len_of("\xe0\x9f\xbf", 3), 0);     /* overlong U+07FF */
	ck_assert_uint_eq(len_of("\xed\xa0\x80", 3), 0);     /* surrogate U+D800 */
	ck_assert_uint_eq(len_of("\xed\xbf\xbf", 3), 0);     /* surrogate U+DFFF */
	ck_assert_uint_eq(len_of("\xf0\x8f\xbf\xbf", 4), 0); /* overlong U+FFFF */
	ck_assert_uint_eq(len_of("\xf4\x90\x80\x80", 4), 0); /* U+110000 */
	ck_assert_uint_eq(len_of("\xf5\x80\x80\x80", 4), 0);
	ck_assert_uint_eq(len_of("\xff", 1), 0);
	ck_assert_uint_eq(len_of("\xc3", 1), 0);             /* cut short */
	ck_assert_uint_eq(len_of("\xe1\xbb", 2), 0);         /* cut short */
	ck_assert_uint_eq(len_of("\xc3\x41", 2), 0);         /* not a continuation */
	ck_assert_uint_eq(len_of("\xe1\xbb\xc5", 3), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");
	tcase_add_test(tc, well_formed_sequences);
	tcase_add_test(tc, ill_formed_sequences);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
