/* Unit tests: the trust figures use case (app/trust.c, store/trust.c) on a
 * real database holding a small hand-made history, each figure worked out
 * by hand from the definitions in onthedot/trust.h: promises due, kept and
 * early by window width over 30 and 90 days (cancelled by the customer not
 * due; by us due and not kept; "no access" kept by the visitor's report;
 * a window ending at "now" not yet due); notice before delays (the first
 * message per appointment, about the window in force then, negative after
 * it opened, none after it ended, cancelled messages not counted);
 * compensation paid; feedback by mark and moderation and the latest
 * published words only. Then the cache: reused for a minute, recomputed
 * after it, when the clock goes back, and after a moderation. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/feedback.h"
#include "app/trust.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-03T12:00:00Z"
#define NOW INT64_C(1772539200) /* 2026-03-03 12:00Z */
#define H INT64_C(3600)
#define D INT64_C(86400)
#define M INT64_C(60)

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_error err;

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

static int n_appt;

/* An appointment with a window of width minutes starting at ws, in status
 * (with arrived_at when arrived > 0); its id. */
static int appt(const char *status, int64_t ws, int width, int64_t arrived, int version)
{
	n_appt++;
	char ref[11];
	snprintf(ref, sizeof(ref), "OTD-A%05d", n_appt);
	bool done = strcmp(status, "done") == 0;
	bool cancelled = strncmp(status, "cancelled", 9) == 0;
	char arr[24] = "NULL", done_at[24] = "NULL";
	if(arrived > 0)
		snprintf(arr, sizeof(arr), "%lld", (long long)arrived);
	if(done)
		snprintf(done_at, sizeof(done_at), "%lld", (long long)(arrived + 1800));
	const char *by = !cancelled                                  ? "NULL"
	                 : strcmp(status, "cancelled_customer") == 0 ? "'customer'"
	                                                             : "'organisation'";
	char *sql = xasprintf(
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, promise_version, status, "
	    "arrived_at, done_at, cancelled_at, cancelled_by, created_at, updated_at) VALUES "
	    "('%s', 1, 1, 1, %s, '2026-01-01', %lld, %lld, %d, '%s', %s, %s, %s, %s, 1000, 1000)",
	    ref, cancelled ? "NULL" : "1", (long long)ws, (long long)(ws + width * M), version,
	    cancelled ? "cancelled" : status, arr, done_at, cancelled ? "1000" : "NULL", by);
	sql_exec(sql);
	free(sql);
	return n_appt;
}

static int n_msg;

/* A message about appointment id queued at t. */
static void message(int id, int version, const char *template, int64_t t, const char *state)
{
	n_msg++;
	char *sql = xasprintf(
	    "INSERT INTO outbox(idem_key, appointment_id, channel, template, payload, state, "
	    "due_at, "
	    "created_at, event_key, sent_at) VALUES ('k%d', %d, 'email', '%s', '{}', '%s', %lld, "
	    "%lld, 'appt:%d:v%d:%s', %s)",
	    n_msg, id, template, state, (long long)t, (long long)t, id, version,
	    strcmp(template, "update") == 0 ? "update1" : "apology",
	    strcmp(state, "sent") == 0 ? "1" : "NULL");
	sql_exec(sql);
	free(sql);
}

/* Ids of the appointments, for the figures below. */
static int a1, a2, a3, a4, a5, a7, a8, moved, b1, b2;

static void seed(void)
{
	sql_exec("INSERT INTO skills(code) VALUES ('gas');"
	         "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	         "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	         "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
	         "duration_spread, window_min, created_at, updated_at) VALUES ('boiler', "
	         "'Boiler repair', 1, 45, 0.25, 60, 1, 1);"
	         "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	         "created_at, updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', "
	         "'1 high st|AB12CD', 52.21, -1.5, 1, 1);"
	         "INSERT INTO customers(name, phone, email, created_at) VALUES ('Zoë', "
	         "'+447700900001', 'zoe@example.org', 1);"
	         "INSERT INTO users(login, display_name, role, password_hash, created_at, "
	         "updated_at) VALUES ('dee', 'Dee', 'dispatcher', '$argon2id$v=19$x', 1, 1);");
	n_appt = n_msg = 0;
	int64_t d1 = NOW - 1 * D - 3 * H; /* yesterday 09:00 */
	/* Last 30 days, 60-minute windows. */
	a1 = appt("done", d1, 60, d1 + 20 * M, 1);            /* kept */
	a2 = appt("done", d1 - D, 60, d1 - D - 5 * M, 1);     /* kept, early */
	a3 = appt("done", d1 - 2 * D, 60, d1 - 2 * D + H, 1); /* at the end: not kept */
	a4 = appt("booked", d1 - 3 * D, 60, 0, 1);            /* never came */
	/* 120-minute windows. */
	a5 = appt("done", d1 - 4 * D, 120, d1 - 4 * D + 90 * M, 1); /* kept */
	appt("cancelled_customer", d1 - 5 * D, 120, 0, 2);          /* not due */
	a7 = appt("cancelled_org", d1 - 6 * D, 120, 0, 2);          /* due, not kept */
	a8 = appt("no_access", d1 - 7 * D, 120, 0, 1);              /* kept by the report */
	/* Not due yet: ends in an hour, and ends exactly now. */
	appt("booked", NOW, 60, 0, 1);
	appt("arrived", NOW - H, 60, NOW - 30 * M, 1);
	/* Rescheduled (promise 2) and kept in its new window. */
	int64_t s2 = d1 - 8 * D;
	moved = appt("done", s2, 60, s2 + 10 * M, 2);
	/* 31 to 90 days ago. */
	b1 = appt("done", NOW - 40 * D, 240, NOW - 40 * D + H, 1); /* kept */
	b2 = appt("booked", NOW - 60 * D, 60, 0, 1);               /* never came */
	/* Over 90 days ago: in no period. */
	appt("done", NOW - 100 * D, 60, NOW - 100 * D + 10 * M, 1);

	char *sql = xasprintf(
	    "INSERT INTO appointment_events(appointment_id, kind, received_at, claimed_at, "
	    "actor_kind) VALUES (%d, 'no_access', %lld, %lld, 'user');"
	    "INSERT INTO appointment_events(appointment_id, kind, received_at, actor_kind, detail) "
	    "VALUES (%d, 'rescheduled', %lld, 'customer', '{\"promise_version\":2,\"from_start\":"
	    "%lld,\"from_end\":%lld,\"to_start\":%lld,\"to_end\":%lld}')",
	    a8, (long long)(d1 - 7 * D + 3 * H), (long long)(d1 - 7 * D + 100 * M), moved,
	    (long long)(s2 - D - 20 * M), (long long)(s2 - D), (long long)(s2 - D + H),
	    (long long)s2, (long long)(s2 + H));
	sql_exec(sql);
	free(sql);

	/* Messages about delays. */
	int64_t ws4 = d1 - 3 * D, ws7 = d1 - 6 * D, ws3 = d1 - 2 * D;
	message(a4, 1, "apology", ws4 - 45 * M, "sent");          /* 45 */
	message(a4, 1, "apology", ws4 - 44 * M, "pending");       /* its SMS: not first */
	message(a7, 1, "cannot_attend", ws7 - 2 * H, "sent");     /* 120 */
	message(a7, 1, "update", ws7 - H, "sent");                /* not first */
	message(a3, 1, "apology", ws3 + 10 * M - 30, "sent");     /* -10 (9.5 after) */
	message(a5, 1, "apology", d1 - 4 * D - H, "cancelled");   /* never sent */
	message(a1, 1, "update", d1 + H + 5 * M, "sent");         /* after the window ended */
	message(moved, 1, "apology", s2 - D - 30 * M, "sent");    /* 30, about the old window */
	message(b2, 1, "apology", NOW - 60 * D - 15 * M, "sent"); /* 15, 90 days only */
	message(a2, 1, "on_the_way", d1 - D - H, "sent");         /* not a delay */

	/* Compensation. */
	sql = xasprintf(
	    "INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	    "rule_version, amount_minor, currency, breached_at, deadline_at, state, exempt_reason, "
	    "paid_at, paid_minor, penalty_minor, created_at) VALUES "
	    "(%d, 1, 'window_missed', 'gb', '1', 4000, 'GBP', %lld, %lld, 'paid', NULL, %lld, "
	    "4000, "
	    "0, 1),"
	    "(%d, 1, 'window_missed', 'gb', '1', 4000, 'GBP', %lld, %lld, 'paid', NULL, %lld, "
	    "5000, "
	    "1000, 1),"
	    "(%d, 1, 'window_missed', 'gb', '1', 4000, 'GBP', %lld, %lld, 'open', NULL, NULL, "
	    "NULL, "
	    "0, 1),"
	    "(%d, 2, 'window_missed', 'gb', '1', 4000, 'GBP', %lld, %lld, 'exempt', "
	    "'force_majeure', "
	    "NULL, NULL, 0, 1)",
	    a4, (long long)(NOW - 12 * D), (long long)(NOW + D), (long long)(NOW - 10 * D), b2,
	    (long long)(NOW - 59 * D), (long long)(NOW - 55 * D), (long long)(NOW - 50 * D), a3,
	    (long long)(NOW - 3 * D), (long long)(NOW + 9 * D), a7, (long long)(NOW - 7 * D),
	    (long long)(NOW + 9 * D));
	sql_exec(sql);
	free(sql);

	/* Feedback, in the order it was given. */
	sql = xasprintf(
	    "INSERT INTO feedback(appointment_id, rating, comment, publish_consent, moderation, "
	    "published_comment, created_at) VALUES "
	    "(%d, 4, 'Good, Ann was great', 1, 'published', 'Good, Ann was great', %lld),"
	    "(%d, 1, 'Late and Bob was rude', 1, 'redacted', 'Late [name removed]', %lld),"
	    "(%d, 5, 'On time', 1, 'published', 'On time', %lld),"
	    "(%d, 2, 'My neighbour at no 5 is a thief', 0, 'withheld', NULL, %lld),"
	    "(%d, 3, 'OK', 0, 'pending', NULL, %lld)",
	    b1, (long long)(NOW - 40 * D), a5, (long long)(NOW - 3 * D), a1,
	    (long long)(NOW - 2 * D), a2, (long long)(NOW - D), a8, (long long)(NOW - D));
	sql_exec(sql);
	free(sql);
}

static void setup(void)
{
	static int seq;
	otd_error_clear(&err);
	db_path = xasprintf("%s/trust-%d.db", testutil_tmpdir(), ++seq);
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
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static struct otd_trust_stats *stats_at(int64_t now)
{
	struct otd_trust_stats *s = xmalloc(sizeof(*s));
	ck_assert_msg(app_trust_stats(&app, now, s, &err) == OTD_OK, "%s", err.message);
	return s;
}

static void assert_kept(const struct otd_trust_kept *k, int width, int64_t due, int64_t kept,
                        int64_t early, int percent)
{
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->width_min, width);
	ck_assert_int_eq(k->due, due);
	ck_assert_int_eq(k->kept, kept);
	ck_assert_int_eq(k->early, early);
	ck_assert_int_eq(k->percent, percent);
}

START_TEST(promises_kept_by_width)
{
	struct otd_trust_stats *s = stats_at(NOW);
	ck_assert_int_eq(s->computed_at, NOW);
	const struct otd_trust_period *p = &s->periods[0];
	ck_assert_int_eq(p->days, 30);
	ck_assert_int_eq(p->from, NOW - 30 * D);
	ck_assert_int_eq(p->to, NOW);
	/* 60: a1 kept, a2 kept early, a3 at the end, a4 never, moved kept. */
	ck_assert_uint_eq(p->n_widths, 2);
	assert_kept(&p->widths[0], 60, 5, 3, 1, 60);
	/* 120: a5 kept, a7 cancelled by us, a8 no access reported in time. */
	assert_kept(&p->widths[1], 120, 3, 2, 0, 66);
	assert_kept(&p->overall, 0, 8, 5, 1, 62);
	ck_assert(!p->widths_truncated);
	p = &s->periods[1];
	ck_assert_int_eq(p->days, 90);
	ck_assert_uint_eq(p->n_widths, 3);
	assert_kept(&p->widths[0], 60, 6, 3, 1, 50);
	assert_kept(&p->widths[1], 120, 3, 2, 0, 66);
	assert_kept(&p->widths[2], 240, 1, 1, 0, 100);
	assert_kept(&p->overall, 0, 10, 6, 1, 60);
	free(s);
	/* For the booking page. */
	int pct;
	int64_t due;
	ck_assert_int_eq(app_trust_kept_rate(&app, 60, &pct, &due, &err), OTD_OK);
	ck_assert_int_eq(pct, 60);
	ck_assert_int_eq(due, 5);
	ck_assert_int_eq(app_trust_kept_rate(&app, 240, &pct, &due, &err), OTD_OK);
	ck_assert_int_eq(pct, -1); /* none in the last 30 days */
	ck_assert_int_eq(due, 0);
}
END_TEST

START_TEST(notice_before_delays)
{
	struct otd_trust_stats *s = stats_at(NOW);
	/* 30 days: a4 45, a7 120, a3 -10 (told 9.5 minutes into the window),
	 * moved 30 (about its first window); a5's message was cancelled and a1's
	 * came after its window: not counted. Median of -10 30 45 120. */
	const struct otd_trust_period *p = &s->periods[0];
	ck_assert_int_eq(p->delays, 4);
	ck_assert_int_eq(p->told_before_start, 3);
	ck_assert(p->has_median);
	ck_assert_int_eq(p->median_notice_min, 37);
	p = &s->periods[1];
	ck_assert_int_eq(p->delays, 5);
	ck_assert_int_eq(p->told_before_start, 4);
	ck_assert_int_eq(p->median_notice_min, 30);
	free(s);
}
END_TEST

START_TEST(compensation_and_feedback)
{
	struct otd_trust_stats *s = stats_at(NOW);
	const struct otd_trust_period *p = &s->periods[0];
	ck_assert_int_eq(p->paid_cases, 1);
	ck_assert_int_eq(p->paid_minor, 4000);
	ck_assert_str_eq(p->currency, "GBP");
	ck_assert_int_eq(p->feedback, 4);
	ck_assert_int_eq(p->good, 1);
	ck_assert_int_eq(p->neutral, 1);
	ck_assert_int_eq(p->bad, 2);
	ck_assert_int_eq(p->published, 2);
	ck_assert_int_eq(p->published_good, 1);
	ck_assert_int_eq(p->published_bad, 1);
	ck_assert_int_eq(p->withheld, 1);
	ck_assert_int_eq(p->pending, 1);
	p = &s->periods[1];
	ck_assert_int_eq(p->paid_cases, 2);
	ck_assert_int_eq(p->paid_minor, 9000);
	ck_assert_int_eq(p->feedback, 5);
	ck_assert_int_eq(p->good, 2);
	ck_assert_int_eq(p->published, 3);
	ck_assert_int_eq(p->published_good, 2);
	/* The latest published, newest first, the moderated words only. */
	ck_assert_uint_eq(s->n_latest, 3);
	ck_assert_int_eq(s->latest[0].rating, 5);
	ck_assert_str_eq(s->latest[0].comment, "On time");
	ck_assert_str_eq(s->latest[0].date, "2026-03-01");
	ck_assert_str_eq(s->latest[0].visit_type, "Boiler repair");
	ck_assert(!s->latest[0].redacted);
	ck_assert_str_eq(s->latest[1].comment, "Late [name removed]");
	ck_assert(s->latest[1].redacted);
	ck_assert_str_eq(s->latest[2].comment, "Good, Ann was great");
	ck_assert_str_eq(s->latest[2].date, "2026-01-22");
	free(s);
}
END_TEST

START_TEST(empty_figures)
{
	sql_exec("DELETE FROM feedback; DELETE FROM guarantee_cases; DELETE FROM outbox; DELETE "
	         "FROM appointment_events; DELETE FROM appointments");
	struct otd_trust_stats *s = stats_at(NOW);
	for(int i = 0; i < 2; i++) {
		const struct otd_trust_period *p = &s->periods[i];
		ck_assert_int_eq(p->overall.due, 0);
		ck_assert_int_eq(p->overall.percent, -1);
		ck_assert_uint_eq(p->n_widths, 0);
		ck_assert(!p->has_median);
		ck_assert_int_eq(p->paid_cases, 0);
		ck_assert_str_eq(p->currency, "");
		ck_assert_int_eq(p->feedback, 0);
	}
	ck_assert_uint_eq(s->n_latest, 0);
	free(s);
}
END_TEST

START_TEST(cached_for_a_minute)
{
	struct otd_trust_stats *s = stats_at(NOW);
	ck_assert_int_eq(s->periods[0].overall.due, 8);
	free(s);
	/* Another promise kept yesterday: not seen for a minute. */
	appt("done", NOW - D, 60, NOW - D + 5 * M, 1);
	s = stats_at(NOW + 59);
	ck_assert_int_eq(s->computed_at, NOW);
	ck_assert_int_eq(s->periods[0].overall.due, 8);
	free(s);
	/* A minute on: that one, and the one whose window ended at NOW. */
	s = stats_at(NOW + 60);
	ck_assert_int_eq(s->computed_at, NOW + 60);
	ck_assert_int_eq(s->periods[0].overall.due, 10);
	free(s);
	/* A clock set back recomputes (figures from the future are not kept). */
	s = stats_at(NOW + 30);
	ck_assert_int_eq(s->computed_at, NOW + 30);
	free(s);
	/* A moderation shows at once. */
	s = stats_at(NOW + 31);
	ck_assert_int_eq(s->computed_at, NOW + 30);
	ck_assert_uint_eq(s->n_latest, 3);
	free(s);
	struct otd_principal dee = {
	    .kind = OTD_PRINCIPAL_SESSION, .role = OTD_ROLE_DISPATCHER, .user_id = 1};
	ck_assert_int_eq(
	    app_feedback_moderate(&app, &dee, 3, "withhold", NULL, "asked to", NULL, &err), OTD_OK);
	s = stats_at(NOW + 32);
	ck_assert_int_eq(s->computed_at, NOW + 32);
	ck_assert_uint_eq(s->n_latest, 2);
	ck_assert_int_eq(s->periods[0].withheld, 2);
	free(s);
}
END_TEST

struct reader {
	int64_t computed_at, due;
	enum otd_status st;
};

static void *read_stats(void *arg)
{
	struct reader *r = arg;
	struct otd_trust_stats *s = xmalloc(sizeof(*s));
	struct otd_error e;
	r->st = app_trust_stats(&app, NOW, s, &e);
	r->computed_at = s->computed_at;
	r->due = s->periods[0].overall.due;
	free(s);
	return NULL;
}

START_TEST(many_readers_one_answer)
{
	pthread_t t[8];
	struct reader r[8];
	for(int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, read_stats, &r[i]), 0);
	for(int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].st, OTD_OK);
		ck_assert_int_eq(r[i].computed_at, NOW);
		ck_assert_int_eq(r[i].due, 8);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trust_stats");
	TCase *tc = tcase_create("trust_stats");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, promises_kept_by_width);
	tcase_add_test(tc, notice_before_delays);
	tcase_add_test(tc, compensation_and_feedback);
	tcase_add_test(tc, empty_figures);
	tcase_add_test(tc, cached_for_a_minute);
	tcase_add_test(tc, many_readers_one_answer);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
