/* Unit tests: the pages' shared helpers (http/html.c): escaping of what
 * people typed, en-GB day names, the error next to a field and the error
 * summary (escaped, linked to the field), and the page frame. */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "cli/config_file.h"
#include "http/html.h"
#include "onthedot/mem.h"
#include "testutil.h"

static char *steal(struct otd_buf *b)
{
	otd_buf_append(b, "", 1);
	b->len--;
	return otd_buf_steal(b);
}

START_TEST(only_local_paths_are_followed_after_sign_in)
{
	ck_assert(html_local_path_ok("/visitor"));
	ck_assert(html_local_path_ok("/dispatch?date=2026-03-03"));
	const char *bad[] = {NULL,
	                     "",
	                     "visitor",
	                     "//evil.example/x",
	                     "/\\evil.example",
	                     "https://evil.example/",
	                     "/a b",
	                     "/a\"b",
	                     "/<script>",
	                     "/a\tb",
	                     "/\xc3\xa9"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!html_local_path_ok(bad[i]), "%zu", i);
	char longp[202];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert(!html_local_path_ok(longp));
	longp[200] = '\0';
	ck_assert(html_local_path_ok(longp));
}
END_TEST

START_TEST(escaping_leaves_no_markup)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_esc(&b, "<img src=x onerror=alert(1)> & \"Zoë's\"");
	html_esc(&b, NULL);
	char *s = steal(&b);
	ck_assert_str_eq(s, "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Zoë&#39;s&quot;");
	free(s);
}
END_TEST

START_TEST(days_are_named_in_en_gb)
{
	char out[48];
	html_day_text("2026-12-08", out, sizeof(out));
	ck_assert_str_eq(out, "Tuesday 8 December");
	html_day_text("2027-01-01", out, sizeof(out));
	ck_assert_str_eq(out, "Friday 1 January");
	html_day_text("2028-02-29", out, sizeof(out));
	ck_assert_str_eq(out, "Tuesday 29 February");
	html_day_text("not a date", out, sizeof(out));
	ck_assert_str_eq(out, "not a date");
}
END_TEST

START_TEST(errors_sit_next_to_their_field)
{
	struct html_field_error errs[2] = {{.field = "name"}, {.field = "phone"}};
	snprintf(errs[0].message, sizeof(errs[0].message), "Enter your name <now>.");
	snprintf(errs[1].message, sizeof(errs[1].message), "Enter a phone number.");
	ck_assert_str_eq(html_error_for(errs, 2, "phone"), "Enter a phone number.");
	ck_assert_ptr_null(html_error_for(errs, 2, "email"));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_field_error(&b, errs, 2, "email"); /* nothing for a good field */
	ck_assert_uint_eq(b.len, 0);
	html_field_error(&b, errs, 2, "name");
	char *s = steal(&b);
	ck_assert_ptr_nonnull(strstr(s, "id=\"name-error\""));
	ck_assert_ptr_nonnull(strstr(s, "Enter your name &lt;now&gt;."));
	free(s);
	otd_buf_init(&b, 0);
	html_error_summary(&b, errs, 0);
	ck_assert_uint_eq(b.len, 0);
	html_error_summary(&b, errs, 2);
	s = steal(&b);
	ck_assert_ptr_nonnull(strstr(s, "role=\"alert\""));
	ck_assert_ptr_nonnull(strstr(s, "<a href=\"#name\">Enter your name &lt;now&gt;.</a>"));
	ck_assert_ptr_nonnull(strstr(s, "<a href=\"#phone\">Enter a phone number.</a>"));
	free(s);
}
END_TEST

START_TEST(the_frame_names_the_organisation_escaped)
{
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.organisation);
	cfg.organisation = xstrdup("Exton & <District> Council");
	free(cfg.messages.phone);
	cfg.messages.phone = xstrdup("01632 960000");
	struct otd_app app = {.cfg = &cfg};
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, &app, "Book <a> visit");
	html_end(&b, &app);
	char *s = steal(&b);
	ck_assert_ptr_nonnull(strstr(s, "<html lang=\"en-GB\">"));
	ck_assert_ptr_nonnull(strstr(
	    s, "<title>Book &lt;a&gt; visit - Exton &amp; &lt;District&gt; Council</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<main id=\"main\""));
	ck_assert_ptr_nonnull(strstr(s, "href=\"/privacy\""));
	ck_assert_ptr_nonnull(strstr(s, "01632 960000"));
	ck_assert_ptr_null(strstr(s, "<District>"));
	ck_assert_ptr_nonnull(strstr(s, "</html>"));
	free(s);
	otd_config_cleanup(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("html");
	tcase_add_test(tc, escaping_leaves_no_markup);
	tcase_add_test(tc, only_local_paths_are_followed_after_sign_in);
	tcase_add_test(tc, days_are_named_in_en_gb);
	tcase_add_test(tc, errors_sit_next_to_their_field);
	tcase_add_test(tc, the_frame_names_the_organisation_escaped);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
