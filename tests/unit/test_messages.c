/* Unit tests: the message templates in use (app/messages.c): the built-in
 * ones alone, one replaced by a file in messages.templates_dir, and every
 * way a directory can be wrong, each named with its file (and line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/messages.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "testutil.h"

#define LINK "https://visits.example.org/a/AbCdEfGhIjKlMnOpQrStUv"

static struct otd_tz *london;
static struct otd_config cfg;

static void setup(void)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(
	    tzload_build("Europe/London", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &london, &e), OTD_OK);
	otd_config_defaults(&cfg);
}

static void teardown(void)
{
	otd_config_cleanup(&cfg);
	otd_tz_free(london);
	london = NULL;
	tzload_shutdown();
}

/* A new empty directory under the test directory; the caller frees the path. */
static char *new_dir(const char *name)
{
	char *dir = xasprintf("%s/%s", testutil_tmpdir(), name);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	return dir;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

static void use_dir(const char *dir)
{
	free(cfg.messages.templates_dir);
	cfg.messages.templates_dir = xstrdup(dir);
}

static struct otd_message render(const struct otd_message_set *set, enum otd_message_kind kind)
{
	int64_t start = 0;
	struct otd_error e;
	ck_assert_int_eq(otd_rfc3339_parse("2026-03-03T10:00:00Z", &start, &e), OTD_OK);
	struct otd_message_context c = {
	    .tz = london,
	    .organisation = "Wrenfield Water",
	    .signature = "Priya Shah",
	    .phone = "01632 960123",
	    .customer_name = "Zoë O'Brien-Nguyễn",
	    .visit_type = "Boiler repair",
	    .visitor_first_name = "Ann",
	    .visitor_role = "Gas engineer",
	    .address = "1 High St, AB1 2CD",
	    .start = start,
	    .end = start + 3600,
	    .link = LINK,
	    .set = set,
	};
	struct otd_message m;
	otd_message_render(kind, &c, &m);
	return m;
}

#define OWN_REMINDER                                                                               \
	"# Wrenfield's own reminder.\n"                                                            \
	"[subject]\nTomorrow: your {{visit_type}}\n"                                               \
	"[text]\nHello {{customer_name}}, see you {{window}}.\n"                                   \
	"[html]\n<p>Hello {{customer_name}}</p>\n"                                                 \
	"[sms]\n{{customer_name}}, see you {{window_brief}}. {{link}}\n"

START_TEST(without_a_directory_the_built_in_words)
{
	struct otd_message_set *set = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_str_eq(cfg.messages.templates_dir, "");
	ck_assert_int_eq(app_messages_load(&cfg, &set, &err), OTD_OK);
	ck_assert_ptr_nonnull(set);
	struct otd_message a = render(set, OTD_MSG_REMINDER), b = render(NULL, OTD_MSG_REMINDER);
	ck_assert_str_eq(a.text, b.text);
	ck_assert_str_eq(a.sms, b.sms);
	otd_message_cleanup(&a);
	otd_message_cleanup(&b);
	otd_message_set_free(set);
}
END_TEST

START_TEST(a_file_in_the_directory_replaces_its_message_only)
{
	char *dir = new_dir("one-override");
	write_file(dir, "reminder.tmpl", OWN_REMINDER);
	/* Not templates: left alone. */
	write_file(dir, "README", "notes");
	write_file(dir, ".reminder.tmpl.swp", "editor junk");
	use_dir(dir);
	struct otd_message_set *set = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_messages_load(&cfg, &set, &err) == OTD_OK, "%s", err.message);
	struct otd_message m = render(set, OTD_MSG_REMINDER);
	ck_assert_str_eq(m.subject, "Tomorrow: your boiler repair");
	ck_assert_str_eq(m.text,
	                 "Hello Zoë O'Brien-Nguyễn, see you Tuesday 3 March, 10:00 to 11:00.\n");
	ck_assert_str_eq(m.html, "<p>Hello Zoë O&#39;Brien-Nguyễn</p>\n");
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, see you Tue 3 Mar, 10:00-11:00. " LINK);
	otd_message_cleanup(&m);
	struct otd_message a = render(set, OTD_MSG_BOOKED), b = render(NULL, OTD_MSG_BOOKED);
	ck_assert_str_eq(a.text, b.text);
	otd_message_cleanup(&a);
	otd_message_cleanup(&b);
	otd_message_set_free(set);
	free(dir);
}
END_TEST

/* app_messages_load with dir fails with status st and a message want
 * (after "DIR/" when prefixed). */
static void expect_error(const char *dir, enum otd_status st, const char *code, bool prefixed,
                         const char *want)
{
	use_dir(dir);
	struct otd_message_set *set = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_messages_load(&cfg, &set, &err), st);
	ck_assert_ptr_null(set);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, "messages.templates_dir");
	char *full = prefixed ? xasprintf("%s/%s", dir, want) : xstrdup(want);
	ck_assert_msg(strncmp(err.message, full, strlen(full)) == 0, "%s", err.message);
	free(full);
}

START_TEST(a_bad_directory_stops_the_start_naming_file_and_line)
{
	char *dir = new_dir("bad-variable");
	write_file(dir, "apology.tmpl",
	           "[subject]\nSorry\n[text]\nDear {{customer_nme}}\n"
	           "[html]\nx\n[sms]\nx\n");
	expect_error(dir, OTD_EINVAL, "template_variable", true,
	             "apology.tmpl line 4: unknown variable {{customer_nme}}");
	free(dir);

	dir = new_dir("missing-section");
	write_file(dir, "reminder.tmpl", "[subject]\nx\n[text]\nx\n[html]\nx\n");
	expect_error(dir, OTD_EINVAL, "template_section", true, "reminder.tmpl: no [sms] section");
	free(dir);

	dir = new_dir("misspelt-name");
	write_file(dir, "remindr.tmpl", OWN_REMINDER);
	expect_error(dir, OTD_EINVAL, "template_name", true,
	             "remindr.tmpl: no message has this template");
	free(dir);

	/* A file that cannot be read (a directory by that name). */
	dir = new_dir("unreadable");
	char *sub = xasprintf("%s/reminder.tmpl", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	expect_error(dir, OTD_EIO, "template_unreadable", true, "reminder.tmpl: cannot be read");
	free(sub);
	free(dir);

	/* Too big. */
	dir = new_dir("too-big");
	char *big = xmalloc(APP_MESSAGES_MAX_FILE + 2);
	memset(big, 'x', APP_MESSAGES_MAX_FILE + 1);
	big[APP_MESSAGES_MAX_FILE + 1] = '\0';
	write_file(dir, "reminder.tmpl", big);
	free(big);
	expect_error(dir, OTD_EINVAL, "template_too_big", true, "reminder.tmpl: larger than");
	free(dir);

	/* No such directory. */
	char *none = xasprintf("%s/no-such-dir", testutil_tmpdir());
	char *want = xasprintf("%s: cannot read the directory", none);
	expect_error(none, OTD_EIO, "template_unreadable", false, want);
	free(want);
	free(none);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("messages");
	TCase *tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, without_a_directory_the_built_in_words);
	tcase_add_test(tc, a_file_in_the_directory_replaces_its_message_only);
	tcase_add_test(tc, a_bad_directory_stops_the_start_naming_file_and_line);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
