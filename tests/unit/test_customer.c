/* Unit tests: the customer pages' use cases (app/customer.c) on a real
 * store with a virtual clock: an address by id; "my address isn't
 * listed" (the field named for each mistake, nothing stored for a refused
 * request, the inbox message and the contact for a good one); the
 * doorstep code (4 digits, stable, differing between visits, the same the
 * visitor's route shows); keeping the window after an apology (refused
 * when nothing is held; lets the held windows go); and the status the page
 * shows (risk, projected band, guarantee cases). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/booking.h"
#include "app/customer.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z" /* Monday, GMT */
#define TUE_10 1772532000            /* 2026-03-03T10:00:00Z */
#define WED_10 1772618400

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_principal customer;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/customer-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	cfg.planning.travel_spread = 0;
	cfg.planning.break_minutes = 0;
	cfg.booking.lead_minutes = 0;
	cfg.booking.holds_per_client = 1000;
	free(cfg.booking.same_day_cutoff);
	cfg.booking.same_day_cutoff = xstrdup("");
	memset(&customer, 0, sizeof(customer));
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(
	    db,
	    "INSERT INTO skills(code) VALUES ('oracle');"
	    "INSERT INTO addresses(line1, line2, town, postcode, postcode_norm, match_key, lat, "
	    "lon, retired, created_at, updated_at) VALUES ('1 X Street', 'Flat 2', 'Exton', "
	    "'XX1 1XX', 'XX11XX', '1 x street|XX11XX', 52.2, -1.5, 0, 1, 1), ('2 Old Lane', '', "
	    "'', 'XX1 2XX', 'XX12XX', '2 old lane|XX12XX', 52.2, -1.5, 1, 1, 1);"
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
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static long long sql_int(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *sql_text(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
	char *v = NULL;
	if(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v ? v : xstrdup("(null)");
}

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

static int64_t book(int64_t start, const char *phone)
{
	struct otd_hold_request req = {
	    .address_id = 1, .visit_type_id = 1, .window_start = start, .client_key = phone};
	struct otd_hold_result h;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_hold_create(&app, &customer, &req, &h, &err) == OTD_OK, "%s",
	              err.message);
	struct otd_booking_request br = {
	    .hold_token = h.token, .name = "Zoë", .phone = phone, .consent_sms = true};
	struct otd_appointment_view v;
	ck_assert_msg(app_book(&app, &customer, &br, &v, &err) == OTD_OK, "%s", err.message);
	int64_t id = v.a.id;
	otd_appointment_view_cleanup(&v);
	return id;
}

START_TEST(an_address_by_id)
{
	struct otd_address a;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_address_get(&app, 1, &a, &err), OTD_OK);
	ck_assert_str_eq(a.line1, "1 X Street");
	ck_assert_str_eq(a.line2, "Flat 2");
	ck_assert_str_eq(a.postcode, "XX1 1XX");
	ck_assert(!a.retired);
	otd_address_cleanup(&a);
	ck_assert_int_eq(app_address_get(&app, 2, &a, &err), OTD_OK);
	ck_assert(a.retired); /* the page refuses it; an old booking may still show it */
	otd_address_cleanup(&a);
	ck_assert_int_eq(app_address_get(&app, 99, &a, &err), OTD_ENOTFOUND);
}
END_TEST

static const char *request_field(const char *address, const char *name, const char *phone,
                                 const char *email)
{
	static struct otd_error err;
	otd_error_clear(&err);
	struct otd_address_request r = {
	    .address = address, .name = name, .phone = phone, .email = email, .visit_type_id = 1};
	if(app_address_request(&app, &r, &err) == OTD_OK)
		return "ok";
	return err.field;
}

START_TEST(an_unlisted_address_names_each_mistake)
{
	ck_assert_str_eq(request_field("", "Zoë", "07700 900001", ""), "address");
	ck_assert_str_eq(request_field("1 A", "Zoë", "07700 900001", ""), "address");
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, XX9 9XX", "", "07700 900001", ""),
	                 "name");
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, XX9 9XX", "Zoë", "", ""), "contact");
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, XX9 9XX", "Zoë", "12", ""), "phone");
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, XX9 9XX", "Zoë", "", "zoe@"), "email");
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, XX9 9XX", "Zoë\x01", "", "z@e.org"),
	                 "name");
	/* Nothing is stored for a refused request. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM customers"), 0);
}
END_TEST

START_TEST(an_unlisted_address_goes_to_the_inbox)
{
	ck_assert_str_eq(request_field("Flat 3, 9 New Road, <b>XX9 9XX</b>", "Zoë", "07700 900001",
	                               "Zoe@Example.ORG"),
	                 "ok");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages WHERE provider = 'web' AND "
	                         "outcome = 'inbox' AND state = 'open' AND appointment_id IS NULL"),
	                 1);
	char *body = sql_text("SELECT body FROM inbound_messages");
	ck_assert_str_eq(body, "Address not listed for a visit: Exact visit. The customer wrote: "
	                       "Flat 3, 9 New Road, <b>XX9 9XX</b>");
	free(body);
	char *who = sql_text("SELECT c.name || '|' || c.phone || '|' || c.email FROM customers c "
	                     "JOIN inbound_messages m ON m.customer_id = c.id");
	ck_assert_str_eq(who, "Zoë|+447700900001|Zoe@example.org");
	free(who);
	/* No address was guessed into the gazetteer. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM addresses"), 2);
}
END_TEST

START_TEST(an_unlisted_address_never_changes_a_stored_contact)
{
	book(TUE_10, "07700 900001"); /* Zoë, by phone only */
	ck_assert_str_eq(
	    request_field("Flat 3, 9 New Road, XX9 9XX", "Mallory", "07700 900001", ""), "ok");
	char *who = sql_text("SELECT name || '|' || access_notes FROM customers WHERE id = "
	                     "(SELECT customer_id FROM appointments)");
	ck_assert_str_eq(who, "Zoë|");
	free(who);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM customers WHERE phone = '+447700900001'"),
	                 2);
}
END_TEST

START_TEST(the_doorstep_code_is_stable_and_per_visit)
{
	char a[5], b[5];
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_doorstep_code(&app, 1, a, &err), OTD_OK);
	ck_assert_int_eq(strlen(a), 4);
	for(int i = 0; i < 4; i++)
		ck_assert(a[i] >= '0' && a[i] <= '9');
	ck_assert_int_eq(app_doorstep_code(&app, 1, b, &err), OTD_OK);
	ck_assert_str_eq(a, b);
	/* Different visits get different codes (not all of 20 the same). */
	int same = 0;
	for(int64_t id = 2; id <= 21; id++) {
		ck_assert_int_eq(app_doorstep_code(&app, id, b, &err), OTD_OK);
		same += strcmp(a, b) == 0;
	}
	ck_assert_int_lt(same, 20);
}
END_TEST

START_TEST(keeping_the_window_needs_something_held)
{
	int64_t id = book(TUE_10, "07700 900001");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_offer_keep(&app, id, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "nothing_held");
	int64_t now = otd_clock_now(app.clock);
	char *sql = xasprintf(
	    "INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, window_start, "
	    "window_end, client_key, token_hash, for_appointment, created_at, expires_at, purpose) "
	    "VALUES (1, 1, 1, '2026-03-04', %lld, %lld, 'apology', randomblob(32), %lld, %lld, "
	    "%lld, 'apology_offer')",
	    (long long)WED_10, (long long)(WED_10 + 3600), (long long)id, (long long)now,
	    (long long)(now + 3600));
	sql_exec(sql);
	free(sql);
	otd_error_clear(&err);
	ck_assert_msg(app_offer_keep(&app, id, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds WHERE purpose = 'apology_offer'"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_events WHERE kind = "
	                         "'customer_keeps_window'"),
	                 1);
	/* The promise itself is untouched. */
	ck_assert_int_eq(sql_int("SELECT window_start FROM appointments"), TUE_10);
	ck_assert_int_eq(sql_int("SELECT promise_version FROM appointments"), 1);
}
END_TEST

START_TEST(the_status_shows_risk_and_cases)
{
	int64_t id = book(TUE_10, "07700 900001");
	struct otd_customer_status cs;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_customer_status(&app, id, &cs, &err), OTD_OK);
	ck_assert_str_eq(cs.risk.risk, "ok");
	ck_assert_int_eq(cs.risk.band_early, 0);
	ck_assert_int_eq(cs.n_cases, 0);
	sql_exec("UPDATE appointments SET risk = 'at_risk', band_early = 1772535600, band_late = "
	         "1772536500 WHERE id = 1");
	sql_exec("INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	         "rule_version, amount_minor, currency, breached_at, deadline_at, state, notice_s, "
	         "created_at) VALUES (1, 1, 'window_missed', 'gb-energy', '2026', 4000, 'GBP', "
	         "1772535600, 1773000000, 'open', -1, 1772535600)");
	ck_assert_msg(app_customer_status(&app, id, &cs, &err) == OTD_OK, "%s", err.message);
	ck_assert_str_eq(cs.risk.risk, "at_risk");
	ck_assert_int_eq(cs.risk.band_early, 1772535600);
	ck_assert_int_eq(cs.risk.band_late, 1772536500);
	ck_assert_int_eq(cs.n_cases, 1);
	ck_assert_int_eq(cs.cases[0].amount_minor, 4000);
	ck_assert_str_eq(cs.cases[0].state, "open");
	ck_assert_int_eq(app_customer_status(&app, 999, &cs, &err), OTD_OK);
	ck_assert_int_eq(cs.n_cases, 0);
}
END_TEST

START_TEST(a_hold_can_be_let_go_at_once)
{
	struct otd_hold_request req = {
	    .address_id = 1, .visit_type_id = 1, .window_start = TUE_10, .client_key = "c"};
	struct otd_hold_result h;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_hold_create(&app, &customer, &req, &h, &err) == OTD_OK, "%s",
	              err.message);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 1);
	ck_assert_int_eq(app_hold_release(&app, h.hold.id, &err), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	/* Gone already: not an error. */
	ck_assert_int_eq(app_hold_release(&app, h.hold.id, &err), OTD_OK);
	/* And the window can be held again. */
	ck_assert_msg(app_hold_create(&app, &customer, &req, &h, &err) == OTD_OK, "%s",
	              err.message);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("customer");
	TCase *tc = tcase_create("customer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, an_address_by_id);
	tcase_add_test(tc, an_unlisted_address_names_each_mistake);
	tcase_add_test(tc, an_unlisted_address_goes_to_the_inbox);
	tcase_add_test(tc, an_unlisted_address_never_changes_a_stored_contact);
	tcase_add_test(tc, the_doorstep_code_is_stable_and_per_visit);
	tcase_add_test(tc, keeping_the_window_needs_something_held);
	tcase_add_test(tc, the_status_shows_risk_and_cases);
	tcase_add_test(tc, a_hold_can_be_let_go_at_once);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
