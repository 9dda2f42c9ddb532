/* Unit tests: SMS alphabets, units and segments (core/sms.c). Real names
 * that are and are not GSM-7 (e with diaeresis is not; e with acute is),
 * every character of the default alphabet and its extension table, the
 * segment boundaries of both alphabets, euro signs and an emoji on a part
 * boundary (never split), the empty text and ill-formed UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/sms.h"
#include "testutil.h"

/* A heap string of before, then unit repeated n times, then after. */
static char *repeat(const char *before, const char *unit, int n, const char *after)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, before);
	for(int i = 0; i < n; i++)
		otd_buf_puts(&b, unit);
	otd_buf_puts(&b, after);
	return otd_buf_steal(&b);
}

static void assert_info(const char *text, bool gsm7, int units, int segments)
{
	struct otd_sms_info info;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_sms_info(text, &info, &e), OTD_OK);
	ck_assert_msg(info.gsm7 == gsm7, "gsm7 %d for \"%.40s\"", info.gsm7, text);
	ck_assert_int_eq(info.units, units);
	ck_assert_int_eq(info.segments, segments);
	ck_assert(otd_sms_is_gsm7(text) == gsm7);
}

/* Repeats unit n times between before and after, then checks. */
static void assert_repeat(const char *before, const char *unit, int n, const char *after, bool gsm7,
                          int units, int segments)
{
	char *s = repeat(before, unit, n, after);
	assert_info(s, gsm7, units, segments);
	free(s);
}

START_TEST(real_names)
{
	/* ễ (U+1EC5) and ë (U+00EB) are not GSM-7: UCS-2, one unit each. */
	assert_info("Zoë O'Brien-Nguyễn", false, 18, 1);
	assert_info("Zoë", false, 3, 1);
	assert_info("Łukasz", false, 6, 1);
	/* é, ñ, ü, Ø, ß and the Greek capitals are. */
	assert_info("Zoé", true, 3, 1);
	assert_info("Begoña Müller-Øster Straße", true, 26, 1);
	assert_info("ΔΦΓΛΩΠΨΣΘΞ", true, 10, 1);
	assert_info("Dear Zoë, Ann (gas engineer) comes Tue 3 Mar, 10:00-11:00.", false, 58, 1);
}
END_TEST

START_TEST(every_gsm7_character_and_nothing_like_them)
{
	/* The default alphabet: 3GPP TS 23.038 table 6.2.1, ESC left out. */
	const char *basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
	                    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
	assert_info(basic, true, 127, 1);
	/* The extension table: two septets each. */
	assert_info("\f^{}\\[~]|€", true, 20, 1);
	assert_info("€", true, 2, 1);

	const char *not_gsm7[] = {"ë", "ç", "`", "\t", "\x01", "\x7f", "Ł", "ễ",        "á", "í",
	                          "ó", "ú", "Ê", "«",  "’",    "“",    "–", "\xc2\xa0", "😀"};
	for(size_t i = 0; i < sizeof(not_gsm7) / sizeof(not_gsm7[0]); i++) {
		char *s = repeat("Hello ", not_gsm7[i], 1, " there");
		ck_assert_msg(!otd_sms_is_gsm7(s), "%s", s);
		free(s);
	}
}
END_TEST

START_TEST(gsm7_boundaries)
{
	assert_repeat("", "a", 160, "", true, 160, 1);
	assert_repeat("", "a", 161, "", true, 161, 2);
	assert_repeat("", "a", 153 * 2, "", true, 306, 2);
	assert_repeat("", "a", 153 * 2 + 1, "", true, 307, 3);
	assert_repeat("", "a", 153 * 3, "", true, 459, 3);
	/* Euro signs: 80 fill one message exactly; the 81st splits it, and a
	 * part then holds 76 (152 septets), never half an escape pair. */
	assert_repeat("", "€", 80, "", true, 160, 1);
	assert_repeat("", "€", 81, "", true, 162, 2);
	assert_repeat("", "€", 153, "", true, 306, 3);
	/* An escape pair across septet 153 only matters once split. */
	assert_repeat("", "a", 152, "€a", true, 155, 1);
	assert_repeat("", "a", 152, "€aaaaaa", true, 160, 1);
	assert_repeat("", "a", 152, "€aaaaaaa", true, 161, 2);
	/* 306 septets would be 2 parts, but the euro sign at septets
	 * 153-154 moves to the second part, which then overflows. */
	char *s = repeat("", "a", 152, "€");
	char *t = repeat(s, "a", 152, "");
	assert_info(t, true, 306, 3);
	free(t);
	/* The same text with the euro sign one place earlier fits in 2. */
	t = repeat("", "a", 151, "€");
	char *u = repeat(t, "a", 153, "");
	assert_info(u, true, 306, 2);
	free(u);
	free(t);
	free(s);
}
END_TEST

START_TEST(ucs2_boundaries)
{
	assert_repeat("", "ë", 70, "", false, 70, 1);
	assert_repeat("", "ë", 71, "", false, 71, 2);
	assert_repeat("", "ë", 67 * 3, "", false, 201, 3);
	assert_repeat("", "ë", 67 * 3 + 1, "", false, 202, 4);
	/* One non-GSM character turns a GSM-sized text into UCS-2. */
	assert_repeat("Ł", "a", 69, "", false, 70, 1);
	assert_repeat("Ł", "a", 70, "", false, 71, 2);
	/* The euro sign is one UTF-16 unit in UCS-2. */
	assert_repeat("ë", "€", 69, "", false, 70, 1);
}
END_TEST

START_TEST(emoji_is_a_surrogate_pair_never_split)
{
	assert_info("😀", false, 2, 1);
	assert_info("Thanks 😀", false, 9, 1);
	assert_repeat("", "😀", 35, "", false, 70, 1);
	assert_repeat("", "😀", 36, "", false, 72, 2);
	/* 134 units = 2 x 67, but the pair at units 67-68 cannot straddle. */
	char *s = repeat("", "ë", 66, "😀");
	char *t = repeat(s, "ë", 66, "");
	assert_info(t, false, 134, 3);
	free(t);
	t = repeat("", "ë", 65, "😀");
	char *u = repeat(t, "ë", 67, "");
	assert_info(u, false, 134, 2);
	free(u);
	free(t);
	free(s);
}
END_TEST

START_TEST(empty_text_is_one_segment)
{
	assert_info("", true, 0, 1);
}
END_TEST

START_TEST(ill_formed_utf8_is_refused)
{
	const char *bad[] = {"\xc3",         "Zo\xc3",           "\xc0\xaf", "\xe0\x80\xaf",
	                     "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",     "ok\x80"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct otd_sms_info info = {true, 7, 7};
		struct otd_error e;
		otd_error_clear(&e);
		ck_assert_int_eq(otd_sms_info(bad[i], &info, &e), OTD_EINVAL);
		ck_assert_str_eq(e.code, "invalid_utf8");
		ck_assert_ptr_nonnull(strstr(e.message, "not valid UTF-8"));
		ck_assert_int_eq(info.units, 0);
		ck_assert_int_eq(info.segments, 0);
		ck_assert(!otd_sms_is_gsm7(bad[i]));
	}
	struct otd_sms_info info;
	struct otd_error e;
	ck_assert_int_eq(otd_sms_info("Zo\xc3", &info, &e), OTD_EINVAL);
	ck_assert_str_eq(e.message, "The text is not valid UTF-8 (at byte 2).");
	/* err may be NULL. */
	ck_assert_int_eq(otd_sms_info("\xff", &info, NULL), OTD_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sms");
	TCase *tc = tcase_create("sms");
	tcase_add_test(tc, real_names);
	tcase_add_test(tc, every_gsm7_character_and_nothing_like_them);
	tcase_add_test(tc, gsm7_boundaries);
	tcase_add_test(tc, ucs2_boundaries);
	tcase_add_test(tc, emoji_is_a_surrogate_pair_never_split);
	tcase_add_test(tc, empty_text_is_one_segment);
	tcase_add_test(tc, ill_formed_utf8_is_refused);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
