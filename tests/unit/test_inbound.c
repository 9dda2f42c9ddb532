/* Unit tests: inbound text messages (app/inbound.c) in process, on a real
 * store with a virtual clock, without HTTP: a customer answering an
 * apology. "1" (give or take spaces and a full stop) keeps the window and
 * says so on the appointment; "2" and "3" take the first or second window
 * held for them as an apology offer (the visit moves: promise version 2);
 * an offer that is not there (expired, or only one) is offer_gone; any
 * other text waits in the dispatcher's inbox; a number we do not know is
 * unknown_sender; a gateway's retry of the same message (the same provider
 * id) is a no-op answered "duplicate"; a sender that is not a phone
 * number, a body over 2000 bytes or not UTF-8 is refused with nothing
 * recorded. Zoë's visit is booked through the booking use cases; the
 * apology's offers are written into the holds table directly. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/booking.h"
#include "app/inbound.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z" /* Monday, GMT */
#define TUE_10 1772532000            /* 2026-03-03T10:00:00Z */
#define WED_10 1772618400
#define THU_10 1772704800

static struct otd_config cfg;
static struct otd_app app;
static bool app_started;
static char *db_path;
static struct otd_principal customer;
static struct otd_error last_err;

/* Checked fixture: a migrated database with Olive, who works 10:00-13:00
 * every day, a 40-minute visit in 60-minute windows, one address. */
static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/inbound-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	free(cfg.public_url);
	cfg.public_url = xstrdup("https://visits.example.org");
	cfg.planning.travel_spread = 0;
	cfg.planning.break_minutes = 0;
	cfg.booking.lead_minutes = 0;
	cfg.booking.max_visits_per_day = 0;
	cfg.booking.holds_per_client = 1000;
	free(cfg.booking.same_day_cutoff);
	cfg.booking.same_day_cutoff = xstrdup("");
	memset(&customer, 0, sizeof(customer));
	app_started = false;
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(
	    db,
	    "INSERT INTO skills(code) VALUES ('oracle');"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES ('1 X Street', 'XX1 1XX', 'XX11XX', "
	    "'1 x street|XX11XX', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('Olive Oracle', 'Inspector', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1);"
	    "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, rrule) VALUES "
	    "(1, 'Europe/London', '2026-03-02T10:00:00', 180, 'FREQ=DAILY');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('exact', 'Exact visit', 1, 40, 0, 60, 1, "
	    "1);",
	    NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s", msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void teardown(void)
{
	if(app_started)
		app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static void start(void)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_started = true;
}

/* ---- direct SQL --------------------------------------------------------- */

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

static long long sql_int(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Every row of a one-column query, joined with ";" (heap; caller frees). */
static char *sql_list(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	int rows = 0;
	while(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		otd_buf_printf(&b, "%s%s", rows++ ? ";" : "", t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return otd_buf_steal(&b);
}

#define ASSERT_LIST(sql, want)                                                                     \
	do {                                                                                       \
		char *got_ = sql_list(sql);                                                        \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

/* ---- the visit and the apology -------------------------------------------------- */

/* Zoë books Tuesday 10:00-11:00 through the use cases; returns its id. */
static int64_t book_zoe(const char *phone)
{
	struct otd_hold_request req = {
	    .address_id = 1, .visit_type_id = 1, .window_start = TUE_10, .client_key = phone};
	struct otd_hold_result h;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_hold_create(&app, &customer, &req, &h, &err) == OTD_OK, "%s: %s",
	              err.code, err.message);
	struct otd_booking_request br = {
	    .hold_token = h.token, .name = "Zoë", .phone = phone, .consent_sms = true};
	struct otd_appointment_view v;
	ck_assert_msg(app_book(&app, &customer, &br, &v, &err) == OTD_OK, "%s: %s", err.code,
	              err.message);
	int64_t id = v.a.id;
	ck_assert_int_eq(v.a.window_start, TUE_10);
	otd_appointment_view_cleanup(&v);
	return id;
}

/* An apology offer of Olive's window at start for appointment id, held
 * until now + ttl. */
static void offer(int64_t id, int64_t start, int64_t ttl)
{
	int64_t now = otd_clock_now(app.clock);
	struct otd_local l;
	otd_tz_to_local(app.tz, start, &l);
	char date[11];
	otd_date_format(l.c.year, l.c.month, l.c.day, date);
	char *sql = xasprintf(
	    "INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, window_start, "
	    "window_end, client_key, token_hash, for_appointment, created_at, expires_at, purpose) "
	    "VALUES (1, 1, 1, '%s', %lld, %lld, 'apology', randomblob(32), %lld, %lld, %lld, "
	    "'apology_offer')",
	    date, (long long)start, (long long)(start + 3600), (long long)id, (long long)now,
	    (long long)(now + ttl));
	sql_exec(sql);
	free(sql);
}

static enum otd_status sms(const char *provider_id, const char *sender, const char *body,
                           struct otd_inbound_result *out)
{
	otd_error_clear(&last_err);
	return app_inbound_sms(&app, "kannel", provider_id, sender, body, out, &last_err);
}

/* Handles body from Zoë's number and returns the outcome. */
static const char *reply(const char *provider_id, const char *body)
{
	static struct otd_inbound_result r;
	ck_assert_msg(sms(provider_id, "07700 900001", body, &r) == OTD_OK, "%s: %s", last_err.code,
	              last_err.message);
	return r.outcome;
}

static char *window_of(int64_t id)
{
	char *sql =
	    xasprintf("SELECT window_start || ' v' || promise_version || ' ' || status FROM "
	              "appointments WHERE id = %lld",
	              (long long)id);
	char *out = sql_list(sql);
	free(sql);
	return out;
}

#define ASSERT_WINDOW(id, want)                                                                    \
	do {                                                                                       \
		char *got_ = window_of(id);                                                        \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(one_keeps_the_window)
{
	start();
	int64_t id = book_zoe("07700 900001");
	offer(id, WED_10, 7200);
	struct otd_inbound_result r;
	ck_assert_int_eq(sms("mo-1", "07700 900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "kept");
	ck_assert_int_eq(r.appointment_id, id);
	ck_assert_int_eq(r.message_id, 1);
	ck_assert_int_eq(strncmp(r.reference, "OTD-", 4), 0);
	char *ref = sql_list("SELECT reference FROM appointments WHERE id = 1");
	ck_assert_str_eq(r.reference, ref);
	free(ref);
	/* Kept as it was; the offer is not taken, and its window is freed. */
	ASSERT_WINDOW(id, "1772532000 v1 booked");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds WHERE purpose = 'apology_offer'"), 0);
	ASSERT_LIST("SELECT provider || ' ' || provider_id || ' ' || sender || ' ' || body || ' ' "
	            "|| customer_id || ' ' || appointment_id || ' ' || outcome || ' ' || state || "
	            "' ' || received_at FROM inbound_messages",
	            "kannel mo-1 +447700900001 1 1 1 kept done 1772442000");
	ASSERT_LIST("SELECT kind || ' ' || actor_kind || ' ' || detail FROM appointment_events "
	            "WHERE kind LIKE 'customer_%'",
	            "customer_keeps_window customer {\"inbound_id\":1,\"reply\":\"kept\"}");
	/* Spaces, a full stop or an exclamation mark around the digit. */
	ck_assert_str_eq(reply("mo-2", " 1 "), "kept");
	ck_assert_str_eq(reply("mo-3", "1."), "kept");
	ck_assert_str_eq(reply("mo-4", "\t1!\n"), "kept");
	/* The sender in any form the gateway gives it. */
	ck_assert_int_eq(sms("mo-5", "+44 7700 900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "kept");
	ck_assert_int_eq(sms("mo-6", "00447700900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "kept");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages WHERE outcome = 'kept' AND "
	                         "sender = '+447700900001'"),
	                 6);
	ASSERT_WINDOW(id, "1772532000 v1 booked");
}
END_TEST

START_TEST(other_text_goes_to_the_inbox)
{
	start();
	int64_t id = book_zoe("07700 900001");
	offer(id, WED_10, 7200);
	const char *bodies[] = {
	    "Can you come after 3?", "12", "2 please", "", "4", "0", "one", "١"};
	for(size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char pid[16];
		snprintf(pid, sizeof(pid), "mo-%zu", i);
		ck_assert_msg(strcmp(reply(pid, bodies[i]), "inbox") == 0, "\"%s\"", bodies[i]);
	}
	ASSERT_WINDOW(id, "1772532000 v1 booked");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages WHERE outcome = 'inbox' "
	                         "AND state = 'open' AND appointment_id = 1 AND customer_id = 1"),
	                 8);
	ASSERT_LIST("SELECT body FROM inbound_messages WHERE id = 1", "Can you come after 3?");
	ASSERT_LIST("SELECT DISTINCT kind || ' ' || json_extract(detail, '$.reply') FROM "
	            "appointment_events WHERE kind LIKE 'customer_%'",
	            "customer_replied inbox");
	/* A contact with nothing coming: "1" keeps nothing, it is read. */
	struct otd_appointment_view v;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_cancel(&app, &customer, id, true, NULL, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	struct otd_inbound_result r;
	ck_assert_int_eq(sms("mo-x", "07700 900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "inbox");
	ck_assert_int_eq(r.appointment_id, 0);
	ck_assert_str_eq(r.reference, "");
	ASSERT_LIST("SELECT customer_id || ' ' || coalesce(appointment_id, '-') || ' ' || state "
	            "FROM inbound_messages WHERE provider_id = 'mo-x'",
	            "1 - open");
}
END_TEST

START_TEST(an_unknown_sender_is_kept_without_a_contact)
{
	start();
	book_zoe("07700 900001");
	struct otd_inbound_result r;
	ck_assert_int_eq(sms("mo-1", "+44 7700 900999", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "unknown_sender");
	ck_assert_int_eq(r.appointment_id, 0);
	ck_assert_str_eq(r.reference, "");
	ck_assert_int_gt(r.message_id, 0);
	ASSERT_LIST("SELECT sender || ' ' || coalesce(customer_id, '-') || ' ' || "
	            "coalesce(appointment_id, '-') || ' ' || outcome || ' ' || state FROM "
	            "inbound_messages",
	            "+447700900999 - - unknown_sender open");
	ck_assert_int_eq(
	    sql_int("SELECT count(*) FROM appointment_events WHERE kind LIKE 'customer_%'"), 0);
}
END_TEST

START_TEST(two_and_three_take_the_offered_windows)
{
	start();
	int64_t id = book_zoe("07700 900001");
	offer(id, THU_10, 7200); /* written first, offered second: earliest first */
	offer(id, WED_10, 7200);
	struct otd_inbound_result r;
	ck_assert_int_eq(sms("mo-1", "07700 900001", " 3.", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "moved");
	ck_assert_int_eq(r.appointment_id, id);
	ASSERT_WINDOW(id, "1772704800 v2 booked");
	/* The held window taken is no longer held, nor the other one: both
	 * belonged to the promise just replaced. */
	ASSERT_LIST("SELECT window_start FROM holds ORDER BY window_start", "");
	ASSERT_LIST("SELECT outcome || ' ' || state FROM inbound_messages", "moved done");
	ASSERT_LIST("SELECT kind FROM appointment_events WHERE kind IN ('rescheduled', "
	            "'customer_replied') ORDER BY id",
	            "rescheduled;customer_replied");
	ASSERT_LIST("SELECT json_extract(detail, '$.by') || ' ' || json_extract(detail, "
	            "'$.to_start') FROM appointment_events WHERE kind = 'rescheduled'",
	            "customer 1772704800");
	/* The customer is told (messages of the move are queued). */
	ck_assert_int_gt(sql_int("SELECT count(*) FROM outbox WHERE idem_key LIKE 'appt:1:v2:%'"),
	                 0);
}
END_TEST

START_TEST(two_takes_the_first_offer)
{
	start();
	int64_t id = book_zoe("07700 900001");
	offer(id, WED_10, 7200);
	offer(id, THU_10, 7200);
	ck_assert_str_eq(reply("mo-1", "2"), "moved");
	ASSERT_WINDOW(id, "1772618400 v2 booked");
}
END_TEST

START_TEST(an_offer_that_is_not_there_is_gone)
{
	start();
	int64_t id = book_zoe("07700 900001");
	/* No offer at all. */
	ck_assert_str_eq(reply("mo-1", "2"), "offer_gone");
	/* One offer: "3" asks for a second. */
	offer(id, WED_10, 600);
	ck_assert_str_eq(reply("mo-2", "3"), "offer_gone");
	ASSERT_WINDOW(id, "1772532000 v1 booked");
	/* Expired: gone too. */
	ck_assert(otd_clock_advance(app.clock, 600));
	ck_assert_str_eq(reply("mo-3", "2"), "offer_gone");
	ASSERT_WINDOW(id, "1772532000 v1 booked");
	ASSERT_LIST("SELECT outcome || ' ' || state || ' ' || appointment_id FROM inbound_messages "
	            "ORDER BY id",
	            "offer_gone open 1;offer_gone open 1;offer_gone open 1");
}
END_TEST

START_TEST(a_gateways_retry_is_a_duplicate)
{
	start();
	int64_t id = book_zoe("07700 900001");
	struct otd_inbound_result r;
	ck_assert_int_eq(sms("mo-1", "07700 900001", "Running late?", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "inbox");
	int64_t first = r.message_id;
	ck_assert_int_eq(sms("mo-1", "07700 900001", "Running late?", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "duplicate");
	ck_assert_int_eq(r.message_id, 0);
	ck_assert_int_eq(last_err.status, OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 1);
	ck_assert_int_eq(
	    sql_int("SELECT count(*) FROM appointment_events WHERE kind LIKE 'customer_%'"), 1);
	/* Another provider's id space; no id at all is never a duplicate. */
	otd_error_clear(&last_err);
	ck_assert_int_eq(
	    app_inbound_sms(&app, "twilio", "mo-1", "07700 900001", "Running late?", &r, &last_err),
	    OTD_OK);
	ck_assert_str_eq(r.outcome, "inbox");
	ck_assert_int_eq(sms(NULL, "07700 900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "kept");
	ck_assert_int_eq(sms(NULL, "07700 900001", "1", &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "kept");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 4);
	ck_assert_int_gt(first, 0);
	ASSERT_WINDOW(id, "1772532000 v1 booked");
}
END_TEST

/* inbound.h: "provider_id makes a gateway's retry of the same message a
 * no-op". A retried "2" must not move the visit a second time, to the
 * window that is now first among the offers left. */
START_TEST(a_retried_choice_moves_the_visit_once)
{
	start();
	int64_t id = book_zoe("07700 900001");
	offer(id, WED_10, 7200);
	offer(id, THU_10, 7200);
	ck_assert_str_eq(reply("mo-1", "2"), "moved");
	ASSERT_WINDOW(id, "1772618400 v2 booked");
	ck_assert_str_eq(reply("mo-1", "2"), "duplicate");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 1);
	ASSERT_WINDOW(id, "1772618400 v2 booked");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events WHERE kind = "
	                         "'rescheduled'"),
	                 1);
}
END_TEST

START_TEST(bad_senders_and_bodies_are_refused)
{
	start();
	book_zoe("07700 900001");
	struct otd_inbound_result r;
	/* Not a phone number. */
	const char *senders[] = {"", "Wrenfield", "12", "+4477009000011234567", NULL};
	for(size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		ck_assert_msg(sms("mo-s", senders[i], "1", &r) == OTD_EINVAL, "%s",
		              senders[i] ? senders[i] : "NULL");
		ck_assert_str_eq(last_err.code, "invalid_phone");
		ck_assert_str_eq(last_err.field, "from");
		ck_assert_str_eq(r.outcome, "");
	}
	/* 2000 bytes fit (in the inbox), 2001 do not. */
	char *body = xmalloc(2002);
	memset(body, 'a', 2001);
	body[2001] = '\0';
	ck_assert_int_eq(sms("mo-long", "07700 900001", body, &r), OTD_EINVAL);
	ck_assert_str_eq(last_err.code, "too_long");
	ck_assert_str_eq(last_err.field, "text");
	body[2000] = '\0';
	ck_assert_int_eq(sms("mo-long", "07700 900001", body, &r), OTD_OK);
	ck_assert_str_eq(r.outcome, "inbox");
	/* 2000 bytes of two-byte characters: 1000 "é" fit. */
	for(int i = 0; i < 1000; i++)
		memcpy(body + 2 * i, "\xc3\xa9", 2);
	body[2000] = '\0';
	ck_assert_int_eq(sms("mo-utf8", "07700 900001", body, &r), OTD_OK);
	free(body);
	/* Not UTF-8: a stray byte, a cut sequence, an overlong form, a
	 * surrogate. */
	const char *bad[] = {"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "ok \x80 no"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(sms("mo-bad", "07700 900001", bad[i], &r) == OTD_EINVAL, "bad[%zu]",
		              i);
		ck_assert_str_eq(last_err.code, "invalid_utf8");
		ck_assert_str_eq(last_err.field, "text");
	}
	/* Nothing was recorded for a refused message. */
	ASSERT_LIST("SELECT provider_id FROM inbound_messages ORDER BY id", "mo-long;mo-utf8");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inbound");
	TCase *tc = tcase_create("inbound");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_keeps_the_window);
	tcase_add_test(tc, other_text_goes_to_the_inbox);
	tcase_add_test(tc, an_unknown_sender_is_kept_without_a_contact);
	tcase_add_test(tc, two_and_three_take_the_offered_windows);
	tcase_add_test(tc, two_takes_the_first_offer);
	tcase_add_test(tc, an_offer_that_is_not_there_is_gone);
	tcase_add_test(tc, a_gateways_retry_is_a_duplicate);
	tcase_add_test(tc, a_retried_choice_moves_the_visit_once);
	tcase_add_test(tc, bad_senders_and_bodies_are_refused);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
