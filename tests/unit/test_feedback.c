/* Unit tests: the feedback use cases (app/feedback.c, store/feedback.c) on a
 * real migrated database with a virtual clock. A customer gives feedback
 * only once the visit is done, with a mark of 1 to 5 and at most 2,000
 * characters (counted as characters, line ends once); may change it while
 * it is pending; a moderator publishes (the words as given), redacts (the
 * public sees the moderator's text, the customer's words stay) or
 * withholds (with a reason); publishing needs the customer's consent;
 * every moderation is audited; the list pages by id. The organisation is
 * written with sqlite3 directly before the application starts. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/feedback.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-03T12:00:00Z"
#define DONE 1   /* Zoë's visit, done */
#define BOOKED 2 /* still to come */
#define CANCEL 3 /* cancelled by the customer */
#define NOACC 4  /* no access */
#define DONE2 5  /* another visit done */

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_error err;
static struct otd_principal dispatcher;

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return db;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* The first column of the first row as text ("NULL" for NULL); heap. */
static char *sql_text(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	char *out = NULL;
	if(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		out = xstrdup(t ? t : "NULL");
	} else {
		out = xstrdup("(no row)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

#define ASSERT_SQL(sql, want)                                                                      \
	do {                                                                                       \
		char *got_ = sql_text(sql);                                                        \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "60, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.21, -1.5, 1, 1);"
	    "INSERT INTO customers(name, phone, email, created_at) VALUES ('Zoë', "
	    "'+447700900001', 'zoe@example.org', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, status, arrived_at, done_at, "
	    "cancelled_at, cancelled_by, created_at, updated_at) VALUES "
	    "('OTD-AAA301', 1, 1, 1, 1, '2026-03-03', 1772528400, 1772532000, 'done', "
	    "1772529000, 1772531400, NULL, NULL, 1000, 1000),"
	    "('OTD-AAA302', 1, 1, 1, 1, '2026-03-03', 1772550000, 1772553600, 'booked', NULL, "
	    "NULL, NULL, NULL, 1000, 1000),"
	    "('OTD-AAA303', 1, 1, 1, NULL, '2026-03-03', 1772532000, 1772535600, 'cancelled', "
	    "NULL, NULL, 1100, 'customer', 1000, 1100),"
	    "('OTD-AAA304', 1, 1, 1, 1, '2026-03-03', 1772532000, 1772535600, 'no_access', "
	    "NULL, NULL, NULL, NULL, 1000, 1000),"
	    "('OTD-AAA305', 1, 1, 1, 1, '2026-03-02', 1772442000, 1772445600, 'done', "
	    "1772442100, 1772444000, NULL, NULL, 1000, 1000);"
	    "INSERT INTO users(login, display_name, role, password_hash, created_at, updated_at) "
	    "VALUES ('dee', 'Dee Spatcher', 'dispatcher', '$argon2id$v=19$unused', 1, 1);");
}

static void setup(void)
{
	static int seq;
	otd_error_clear(&err);
	db_path = xasprintf("%s/feedback-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	seed();
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	memset(&dispatcher, 0, sizeof(dispatcher));
	dispatcher.kind = OTD_PRINCIPAL_SESSION;
	dispatcher.role = OTD_ROLE_DISPATCHER;
	dispatcher.user_id = 1;
	snprintf(dispatcher.ip, sizeof(dispatcher.ip), "192.0.2.7");
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static enum otd_status submit(int64_t appt, int rating, const char *comment, bool consent)
{
	otd_error_clear(&err);
	return app_feedback_submit(&app, appt, rating, comment, consent, NULL, NULL, &err);
}

static enum otd_status moderate(int64_t id, const char *action, const char *comment,
                                const char *reason)
{
	otd_error_clear(&err);
	return app_feedback_moderate(&app, &dispatcher, id, action, comment, reason, NULL, &err);
}

/* A string of n copies of the UTF-8 character ch; heap. */
static char *repeat(const char *ch, size_t n)
{
	size_t k = strlen(ch);
	char *s = xmalloc(n * k + 1);
	for(size_t i = 0; i < n; i++)
		memcpy(s + i * k, ch, k);
	s[n * k] = '\0';
	return s;
}

START_TEST(only_after_the_visit)
{
	ck_assert_int_eq(submit(BOOKED, 5, "great", true), OTD_ESTATE);
	ck_assert_str_eq(err.code, "feedback_not_yet");
	ck_assert_ptr_nonnull(strstr(err.message, "once the visit is done"));
	ck_assert_int_eq(submit(CANCEL, 5, "", true), OTD_ESTATE);
	ck_assert_str_eq(err.code, "feedback_not_yet");
	ck_assert_ptr_nonnull(strstr(err.message, "cancelled"));
	ck_assert_int_eq(submit(NOACC, 1, "nobody came", false), OTD_ESTATE);
	ck_assert_str_eq(err.code, "feedback_not_yet");
	ck_assert_int_eq(submit(99, 3, "", false), OTD_ENOTFOUND);
	ASSERT_SQL("SELECT count(*) FROM feedback", "0");
	ck_assert_int_eq(submit(DONE, 5, "On the dot.", true), OTD_OK);
	ASSERT_SQL("SELECT rating || ' ' || comment || ' ' || publish_consent || ' ' || moderation "
	           "FROM feedback",
	           "5 On the dot. 1 pending");
}
END_TEST

START_TEST(marks_and_comments_are_checked)
{
	for(int bad = -1; bad <= 7; bad += 1) {
		if(bad >= 1 && bad <= 5)
			continue;
		ck_assert_int_eq(submit(DONE, bad, "", false), OTD_EINVAL);
		ck_assert_str_eq(err.field, "rating");
		ck_assert_str_eq(err.code, "bad_rating");
	}
	/* 2,000 characters of two bytes each are fine; 2,001 are not. */
	char *ok = repeat("ë", 2000), *long1 = repeat("ë", 2001);
	ck_assert_int_eq(submit(DONE, 4, long1, false), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	ck_assert_str_eq(err.code, "too_long");
	ck_assert_int_eq(submit(DONE, 4, ok, false), OTD_OK);
	ASSERT_SQL("SELECT length(comment) || ' ' || length(CAST(comment AS BLOB)) FROM feedback",
	           "2000 4000");
	free(ok);
	free(long1);
	/* A line end from a browser (CRLF) counts once: 1,999 characters and
	 * a CRLF fit; white space around the comment is trimmed. */
	char *body = repeat("a", 1998);
	char *crlf = xasprintf("  \r\n%s\r\nb \r\n", body);
	ck_assert_int_eq(submit(DONE, 4, crlf, false), OTD_OK);
	ASSERT_SQL("SELECT length(comment) || ' ' || instr(comment, char(13)) || ' ' || "
	           "instr(comment, char(10)) FROM feedback",
	           "2000 0 1999");
	free(body);
	free(crlf);
	/* Control characters and invalid UTF-8 are refused, naming comment. */
	ck_assert_int_eq(submit(DONE, 4, "bell\x07", false), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	ck_assert_int_eq(submit(DONE, 4, "bad \xff byte", false), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	/* An HTML tag is text like any other, stored as given. */
	ck_assert_int_eq(submit(DONE, 1, "<img src=x onerror=alert(1)>", false), OTD_OK);
	ASSERT_SQL("SELECT comment FROM feedback", "<img src=x onerror=alert(1)>");
	/* No comment at all is fine. */
	ck_assert_int_eq(submit(DONE, 3, NULL, false), OTD_OK);
	ASSERT_SQL("SELECT quote(comment) FROM feedback", "''");
}
END_TEST

START_TEST(changed_while_pending_then_fixed)
{
	struct otd_feedback f;
	bool created = false;
	ck_assert_int_eq(app_feedback_submit(&app, DONE, 2, "Late.", false, &f, &created, &err),
	                 OTD_OK);
	ck_assert(created);
	ck_assert_int_eq(f.rating, 2);
	ck_assert_str_eq(f.comment, "Late.");
	ck_assert_str_eq(f.moderation, "pending");
	ck_assert_str_eq(f.reference, "OTD-AAA301");
	ck_assert_str_eq(f.visit_type, "Boiler repair");
	ck_assert_ptr_null(f.published_comment);
	int64_t id = f.id, given = f.created_at;
	otd_feedback_cleanup(&f);
	ck_assert(otd_clock_set(app.clock, given + 600));
	ck_assert_int_eq(
	    app_feedback_submit(&app, DONE, 4, "Late, but they said so.", true, &f, &created, &err),
	    OTD_OK);
	ck_assert(!created);
	ck_assert_int_eq(f.id, id);
	ck_assert_int_eq(f.rating, 4);
	ck_assert(f.publish_consent);
	ck_assert_int_eq(f.created_at, given);
	ck_assert_int_eq(f.updated_at, given + 600);
	otd_feedback_cleanup(&f);
	ASSERT_SQL("SELECT count(*) FROM feedback", "1");
	/* Each is an appointment event, with the mark and consent, not the words. */
	ASSERT_SQL("SELECT group_concat(detail, ' ') FROM appointment_events WHERE kind = "
	           "'feedback' AND appointment_id = 1 AND actor_kind = 'customer'",
	           "{\"rating\":2,\"publish_consent\":false,\"changed\":false} "
	           "{\"rating\":4,\"publish_consent\":true,\"changed\":true}");
	/* Once a moderator has acted, it stays as it is. */
	ck_assert_int_eq(moderate(id, "publish", NULL, NULL), OTD_OK);
	ck_assert_int_eq(submit(DONE, 1, "Changed my mind", true), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "feedback_given");
	ASSERT_SQL("SELECT rating || ' ' || comment FROM feedback", "4 Late, but they said so.");
}
END_TEST

START_TEST(what_the_customer_page_sees)
{
	struct otd_feedback_view v;
	ck_assert_int_eq(app_feedback_get(&app, BOOKED, &v, &err), OTD_OK);
	ck_assert(!v.can_give && !v.given && !v.changeable);
	ck_assert_str_eq(v.status, "booked");
	otd_feedback_view_cleanup(&v);
	ck_assert_int_eq(app_feedback_get(&app, DONE, &v, &err), OTD_OK);
	ck_assert(v.can_give && !v.given && !v.changeable);
	otd_feedback_view_cleanup(&v);
	ck_assert_int_eq(submit(DONE, 5, "Lovely", true), OTD_OK);
	ck_assert_int_eq(app_feedback_get(&app, DONE, &v, &err), OTD_OK);
	ck_assert(v.can_give && v.given && v.changeable);
	ck_assert_str_eq(v.fb.comment, "Lovely");
	int64_t id = v.fb.id;
	otd_feedback_view_cleanup(&v);
	ck_assert_int_eq(moderate(id, "redact", "Lovely [name removed]", NULL), OTD_OK);
	ck_assert_int_eq(app_feedback_get(&app, DONE, &v, &err), OTD_OK);
	ck_assert(!v.can_give && v.given && !v.changeable);
	ck_assert_str_eq(v.fb.moderation, "redacted");
	ck_assert_str_eq(v.fb.published_comment, "Lovely [name removed]");
	otd_feedback_view_cleanup(&v);
	ck_assert_int_eq(app_feedback_get(&app, 77, &v, &err), OTD_ENOTFOUND);
}
END_TEST

START_TEST(moderation_rules)
{
	ck_assert_int_eq(submit(DONE, 1, "Awful, Bob Smith at no 3 is rude", false), OTD_OK);
	ck_assert_int_eq(submit(DONE2, 5, "Brilliant, thanks Ann", true), OTD_OK);
	/* Without consent only withholding is possible. */
	ck_assert_int_eq(moderate(1, "publish", NULL, NULL), OTD_ESTATE);
	ck_assert_str_eq(err.code, "no_consent");
	ck_assert_ptr_nonnull(strstr(err.message, "did not agree"));
	ck_assert_int_eq(moderate(1, "redact", "Awful", NULL), OTD_ESTATE);
	ck_assert_str_eq(err.code, "no_consent");
	/* Bad requests name the field. */
	ck_assert_int_eq(moderate(1, "delete", NULL, NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "action");
	ck_assert_int_eq(moderate(1, NULL, NULL, NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "action");
	ck_assert_int_eq(moderate(1, "withhold", NULL, NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "reason");
	ck_assert_int_eq(moderate(1, "withhold", NULL, ""), OTD_EINVAL);
	ck_assert_str_eq(err.field, "reason");
	ck_assert_int_eq(moderate(2, "redact", NULL, NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	ck_assert_int_eq(moderate(2, "redact", " \r\n ", NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	ck_assert_int_eq(moderate(2, "publish", "something else", NULL), OTD_EINVAL);
	ck_assert_str_eq(err.field, "comment");
	char *long_reason = repeat("r", 301);
	ck_assert_int_eq(moderate(2, "publish", NULL, long_reason), OTD_EINVAL);
	ck_assert_str_eq(err.field, "reason");
	free(long_reason);
	ck_assert_int_eq(moderate(2, "publish", NULL, "a\nb"), OTD_EINVAL);
	ck_assert_str_eq(err.field, "reason");
	ck_assert_int_eq(moderate(42, "publish", NULL, NULL), OTD_ENOTFOUND);
	ASSERT_SQL("SELECT count(*) FROM audit_log", "0");
	ASSERT_SQL("SELECT group_concat(moderation) FROM feedback", "pending,pending");

	/* Withheld with a reason; redacted; then published after all. */
	ck_assert_int_eq(moderate(1, "withhold", NULL, "Names a neighbour"), OTD_OK);
	struct otd_feedback f;
	ck_assert(otd_clock_set(app.clock, otd_clock_now(app.clock) + 60));
	ck_assert_int_eq(app_feedback_moderate(&app, &dispatcher, 2, "redact", "Brilliant, thanks",
	                                       "first name of our visitor", &f, &err),
	                 OTD_OK);
	ck_assert_str_eq(f.moderation, "redacted");
	ck_assert_str_eq(f.comment, "Brilliant, thanks Ann");
	ck_assert_str_eq(f.published_comment, "Brilliant, thanks");
	ck_assert_str_eq(f.moderation_reason, "first name of our visitor");
	ck_assert_int_eq(f.moderated_by, 1);
	ck_assert_int_eq(f.moderated_at, otd_clock_now(app.clock));
	otd_feedback_cleanup(&f);
	ck_assert_int_eq(moderate(2, "publish", NULL, NULL), OTD_OK);
	ASSERT_SQL("SELECT moderation || '|' || published_comment || '|' || "
	           "quote(moderation_reason) FROM feedback WHERE id = 2",
	           "published|Brilliant, thanks Ann|NULL");
	ASSERT_SQL("SELECT moderation || '|' || quote(published_comment) || '|' || "
	           "moderation_reason || '|' || comment FROM feedback WHERE id = 1",
	           "withheld|NULL|Names a neighbour|Awful, Bob Smith at no 3 is rude");
	/* Published feedback can be withheld later; the words stay. */
	ck_assert_int_eq(moderate(2, "withhold", NULL, "Asked by the customer"), OTD_OK);
	ASSERT_SQL("SELECT moderation || '|' || quote(published_comment) || '|' || comment FROM "
	           "feedback WHERE id = 2",
	           "withheld|NULL|Brilliant, thanks Ann");
	/* Every decision audited: who, what, from where; no words in the detail. */
	ASSERT_SQL("SELECT group_concat(actor_kind || ':' || actor_id || ':' || ip || ':' || "
	           "entity || ':' || entity_id || ':' || detail, ' ') FROM (SELECT * FROM "
	           "audit_log WHERE action = 'feedback.moderate' ORDER BY id)",
	           "user:1:192.0.2.7:feedback:1:{\"action\":\"withhold\",\"appointment_id\":1,"
	           "\"from\":\"pending\",\"to\":\"withheld\"} "
	           "user:1:192.0.2.7:feedback:2:{\"action\":\"redact\",\"appointment_id\":5,"
	           "\"from\":\"pending\",\"to\":\"redacted\"} "
	           "user:1:192.0.2.7:feedback:2:{\"action\":\"publish\",\"appointment_id\":5,"
	           "\"from\":\"redacted\",\"to\":\"published\"} "
	           "user:1:192.0.2.7:feedback:2:{\"action\":\"withhold\",\"appointment_id\":5,"
	           "\"from\":\"published\",\"to\":\"withheld\"}");
}
END_TEST

START_TEST(the_queue_pages)
{
	ck_assert_int_eq(submit(DONE, 4, "one", true), OTD_OK);
	ck_assert_int_eq(submit(DONE2, 2, "two", true), OTD_OK);
	struct otd_feedback *list;
	size_t n;
	int64_t next;
	ck_assert_int_eq(app_feedback_list(&app, NULL, 0, 1, &list, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].comment, "one");
	ck_assert_str_eq(list[0].visit_date, "2026-03-03");
	ck_assert_int_eq(next, list[0].id);
	int64_t after = next;
	otd_feedback_list_free(list, n);
	ck_assert_int_eq(app_feedback_list(&app, "", after, 1, &list, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].comment, "two");
	ck_assert_int_eq(next, 0);
	otd_feedback_list_free(list, n);
	ck_assert_int_eq(moderate(1, "publish", NULL, NULL), OTD_OK);
	ck_assert_int_eq(app_feedback_list(&app, "pending", 0, 50, &list, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].comment, "two");
	otd_feedback_list_free(list, n);
	ck_assert_int_eq(app_feedback_list(&app, "published", 0, 50, &list, &n, &next, &err),
	                 OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].published_comment, "one");
	otd_feedback_list_free(list, n);
	ck_assert_int_eq(app_feedback_list(&app, "withheld", 0, 50, &list, &n, &next, &err),
	                 OTD_OK);
	ck_assert_uint_eq(n, 0);
	otd_feedback_list_free(list, n);
	ck_assert_int_eq(app_feedback_list(&app, "deleted", 0, 50, &list, &n, &next, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.field, "state");
}
END_TEST

START_TEST(the_database_refuses_inconsistent_rows)
{
	/* The schema's own guard: nothing published without consent. */
	ck_assert_int_eq(submit(DONE, 4, "x", false), OTD_OK);
	sqlite3 *db = sql_open();
	ck_assert_int_ne(
	    sqlite3_exec(db, "UPDATE feedback SET moderation = 'published'", NULL, NULL, NULL),
	    SQLITE_OK);
	char *big = xasprintf("UPDATE feedback SET published_comment = '%s'", "");
	ck_assert_int_eq(sqlite3_exec(db, big, NULL, NULL, NULL), SQLITE_OK);
	free(big);
	char *over = repeat("x", 2001);
	char *sql = xasprintf("UPDATE feedback SET published_comment = '%s'", over);
	ck_assert_int_ne(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	free(over);
	sqlite3_close(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("feedback");
	TCase *tc = tcase_create("feedback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, only_after_the_visit);
	tcase_add_test(tc, marks_and_comments_are_checked);
	tcase_add_test(tc, changed_while_pending_then_fixed);
	tcase_add_test(tc, what_the_customer_page_sees);
	tcase_add_test(tc, moderation_rules);
	tcase_add_test(tc, the_queue_pages);
	tcase_add_test(tc, the_database_refuses_inconsistent_rows);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
