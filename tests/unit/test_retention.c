/* Unit tests: the retention pass (app/retention.c, store/privacy.c) on a
 * real migrated database with a virtual clock at 2026-06-01 12:00 UTC and
 * the default rules (contacts 90 days, evidence 365, positions 30, IP
 * addresses 30). Each rule removes what is older than its limit and keeps
 * what is newer, what an open guarantee case needs as evidence, and the
 * contact of a visit still to come or of a case still owed; the pass runs
 * once a day of the app clock; 0 keeps everything; big backlogs go in
 * batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/retention.h"
#include "cli/config_file.h"
#include "onthedot/clock.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-06-01T12:00:00Z"
#define NOW 1780315200LL

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_error err;

#define ASSERT_SQL(sql, want)                                                                      \
	do {                                                                                       \
		char *got_ = testutil_sql_text(db_path, sql);                                      \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

static void seed(void)
{
	testutil_sql_exec(
	    db_path,
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "60, 1, 1);"
	    "INSERT INTO addresses(uprn, line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES ('100', '1 High St', 'AB1 2CD', 'AB12CD', "
	    "'1 high st|AB12CD', 52.2, -1.5, 1, 1);"
	    "INSERT INTO users(login, display_name, role, password_hash, created_at, updated_at) "
	    "VALUES ('dee', 'Dee Spatcher', 'dispatcher', '$argon2id$v=19$unused', 1, 1);"
	    /* 1 done long ago; 2 done lately; 3 done long ago but owed; 4 with a visit to
	     * come; 5 wrote once long ago (no visit). */
	    "INSERT INTO customers(name, phone, email, created_at) VALUES "
	    "('Old Anna', '+447700900001', NULL, 1), ('Recent Ben', '+447700900002', NULL, 1),"
	    "('Owed Cara', '+447700900003', NULL, 1), ('Future Dan', '+447700900004', NULL, 1),"
	    "('Form Eve', '+447700900005', NULL, 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, status, arrived_at, done_at, "
	    "created_at, updated_at) VALUES "
	    "('OTD-AAAAA2', 1, 1, 1, 1, '2026-02-20', 1771576200, 1771579800, 'done', 1771576300, "
	    "1771578000, 1000, 1000),"
	    "('OTD-BBBBB2', 2, 1, 1, 1, '2026-05-20', 1779264000, 1779267600, 'done', 1779264100, "
	    "1779266000, 1000, 1000),"
	    "('OTD-CCCCC2', 3, 1, 1, 1, '2026-02-13', 1771000000, 1771003600, 'done', 1771003700, "
	    "1771005000, 1000, 1000),"
	    "('OTD-DDDDD2', 4, 1, 1, 1, '2026-02-20', 1771576200, 1771579800, 'done', 1771576300, "
	    "1771578000, 1000, 1000),"
	    "('OTD-DDDDD3', 4, 1, 1, 1, '2026-06-10', 1781078400, 1781082000, 'booked', NULL, "
	    "NULL, "
	    "1000, 1000);"
	    "INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	    "rule_version, amount_minor, currency, breached_at, deadline_at, created_at) VALUES "
	    "(3, 1, 'window_missed', 'gb-energy', '2026', 4000, 'GBP', 1771003600, 1790000000, "
	    "1771003600);"
	    "INSERT INTO inbound_messages(provider, provider_id, sender, body, customer_id, "
	    "outcome, received_at) VALUES "
	    "('web', NULL, '+447700900005', 'My address is not listed', 5, 'inbox', 1000),"
	    "('kannel', 'u1', '+447700900099', 'who is this', NULL, 'unknown_sender', 1000),"
	    "('kannel', 'u2', '+447700900098', 'hello?', NULL, 'unknown_sender', 1780000000);"
	    /* Evidence: a year and more old (1700000000), and lately. */
	    "INSERT INTO appointment_events(appointment_id, kind, received_at, actor_kind) VALUES "
	    "(2, 'booked', 1700000000, 'system'), (3, 'booked', 1700000000, 'system'),"
	    "(2, 'arrived', 1779264100, 'user');"
	    "INSERT INTO visitor_events(visitor_id, local_date, kind, appointment_id, received_at, "
	    "claimed_at, actor_kind) VALUES (1, '2023-11-14', 'arrived', 2, 1700000000, "
	    "1700000000, 'user'), (1, '2026-05-20', 'arrived', 2, 1779264100, 1779264100, 'user');"
	    "INSERT INTO outbox(idem_key, appointment_id, customer_id, channel, template, payload, "
	    "state, due_at, created_at, sent_at) VALUES "
	    "('m2', 2, 2, 'sms', 'booking_confirmation', '{}', 'sent', 1, 1, 2),"
	    "('m3', 3, 3, 'sms', 'booking_confirmation', '{}', 'sent', 1, 1, 2);"
	    "INSERT INTO delivery_receipts(outbox_id, received_at, provider, status) VALUES "
	    "(1, 1700000000, 'kannel', 'delivered'), (2, 1700000000, 'kannel', 'delivered'),"
	    "(1, 1779000000, 'kannel', 'delivered');"
	    /* Positions: old; old but near the owed visit's window; lately. */
	    "INSERT INTO visitor_positions(visitor_id, at, lat, lon) VALUES "
	    "(1, 1700000000, 52.2, -1.5), (1, 1771000100, 52.2, -1.5), (1, 1780000000, 52.2, "
	    "-1.5);"
	    "INSERT INTO visitor_days(visitor_id, local_date, since, pos_lat, pos_lon, pos_at, "
	    "updated_at) VALUES (1, '2026-02-20', 1, 52.2, -1.5, 1771576000, 1),"
	    "(1, '2026-05-31', 1, 52.2, -1.5, 1780200000, 1);"
	    "INSERT INTO sessions(user_id, token_hash, csrf_token, ip, created_at, expires_at) "
	    "VALUES (1, randomblob(32), '0123456789012345678901234567890123456789012', "
	    "'198.51.100.1', 1700000000, 1700003600),"
	    "(1, randomblob(32), '0123456789012345678901234567890123456789012', '198.51.100.2', "
	    "1780300000, 1780303600);"
	    "INSERT INTO audit_log(at, actor_kind, action, entity, ip) VALUES "
	    "(1700000000, 'user', 'old.thing', 'x', '198.51.100.1'),"
	    "(1700000000, 'cli', 'old.cli', 'x', 'cli'),"
	    "(1780300000, 'user', 'new.thing', 'x', '198.51.100.2');");
}

static void open_app(bool rules)
{
	static int seq;
	otd_error_clear(&err);
	db_path = xasprintf("%s/retention-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	if(!rules)
		cfg.retention.contact_days = cfg.retention.evidence_days =
		    cfg.retention.position_days = cfg.retention.ip_days = 0;
	seed();
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
}

static void setup(void)
{
	open_app(true);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

START_TEST(defaults_are_the_documented_ones)
{
	ck_assert_int_eq(cfg.retention.contact_days, 90);
	ck_assert_int_eq(cfg.retention.evidence_days, 365);
	ck_assert_int_eq(cfg.retention.position_days, 30);
	ck_assert_int_eq(cfg.retention.ip_days, 30);
}
END_TEST

START_TEST(each_rule_keeps_what_it_must)
{
	struct otd_retention_report r;
	ck_assert_msg(app_retention_pass(&app, &r, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_eq(r.contacts, 2);
	ck_assert_int_eq(r.inbound, 1);
	ck_assert_int_eq(r.events, 2);
	ck_assert_int_eq(r.receipts, 1);
	ck_assert_int_eq(r.positions, 2);
	ck_assert_int_eq(r.ips, 2);
	ck_assert(r.log_truncated);
	/* Contacts: Anna and Eve anonymised; Ben (lately), Cara (owed), Dan
	 * (a visit to come) kept. */
	ASSERT_SQL("SELECT group_concat(name || ':' || coalesce(phone, '-'), ',') FROM (SELECT * "
	           "FROM customers ORDER BY id)",
	           "erased:-,Recent Ben:+447700900002,Owed Cara:+447700900003,"
	           "Future Dan:+447700900004,erased:-");
	ASSERT_SQL("SELECT group_concat(sender || ':' || body, ',') FROM (SELECT * FROM "
	           "inbound_messages ORDER BY id)",
	           "erased:,erased:,+447700900098:hello?");
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE action = 'customer.anonymise' AND "
	           "actor_kind = 'system'",
	           "2");
	/* Evidence: the owed case's event stays. */
	ASSERT_SQL("SELECT group_concat(appointment_id || kind, ',') FROM (SELECT * FROM "
	           "appointment_events WHERE kind <> 'erased' ORDER BY id)",
	           "3booked,2arrived");
	ASSERT_SQL("SELECT count(*) FROM visitor_events", "1");
	ASSERT_SQL("SELECT group_concat(outbox_id || ':' || received_at, ',') FROM (SELECT * FROM "
	           "delivery_receipts ORDER BY id)",
	           "2:1700000000,1:1779000000");
	/* Positions: the one near the owed visit stays, and the recent one. */
	ASSERT_SQL("SELECT group_concat(at, ',') FROM (SELECT at FROM visitor_positions ORDER BY "
	           "id)",
	           "1771000100,1780000000");
	ASSERT_SQL("SELECT group_concat(local_date || ':' || coalesce(pos_at, '-'), ',') FROM "
	           "(SELECT * FROM visitor_days ORDER BY local_date)",
	           "2026-02-20:-,2026-05-31:1780200000");
	/* Addresses: old ones blanked, "cli" and new ones kept. */
	ASSERT_SQL("SELECT group_concat(ip, ',') FROM (SELECT ip FROM sessions ORDER BY id)",
	           ",198.51.100.2");
	ASSERT_SQL("SELECT group_concat(action || '=' || ip, ',') FROM (SELECT * FROM audit_log "
	           "WHERE entity = 'x' ORDER BY id)",
	           "old.thing=,old.cli=cli,new.thing=198.51.100.2");
	ck_assert_uint_eq(atomic_load(&app.retention.contacts), 2);
	ck_assert_uint_eq(atomic_load(&app.retention.runs), 1);
	/* A second pass finds nothing more. */
	ck_assert_int_eq(app_retention_pass(&app, &r, &err), OTD_OK);
	ck_assert_int_eq(r.contacts + r.inbound + r.events + r.receipts + r.positions + r.ips, 0);
}
END_TEST

START_TEST(runs_once_a_day_of_the_app_clock)
{
	bool ran = false;
	ck_assert_int_eq(app_retention_due(&app, &ran, &err), OTD_OK);
	ck_assert(ran);
	ck_assert_int_eq(app_retention_due(&app, &ran, &err), OTD_OK);
	ck_assert(!ran);
	otd_clock_set(app.clock, NOW + 86399);
	ck_assert_int_eq(app_retention_due(&app, &ran, &err), OTD_OK);
	ck_assert(!ran);
	otd_clock_set(app.clock, NOW + 86400);
	ck_assert_int_eq(app_retention_due(&app, &ran, &err), OTD_OK);
	ck_assert(ran);
	ck_assert_uint_eq(atomic_load(&app.retention.runs), 2);
	ck_assert_int_eq(atomic_load(&app.retention.last_run), NOW + 86400);
}
END_TEST

START_TEST(big_backlogs_go_in_batches)
{
	testutil_sql_exec(
	    db_path, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < "
	             "1234) INSERT INTO visitor_positions(visitor_id, at, lat, lon) SELECT 1, "
	             "1600000000 + i, 52.2, -1.5 FROM n;");
	struct otd_retention_report r;
	ck_assert_int_eq(app_retention_pass(&app, &r, &err), OTD_OK);
	ck_assert_int_eq(r.positions, 1234 + 2);
	ASSERT_SQL("SELECT count(*) FROM visitor_positions", "2");
}
END_TEST

START_TEST(a_dry_run_counts_and_changes_nothing)
{
	struct otd_retention_report dry, r;
	ck_assert_msg(app_retention_dry_run(&app, &dry, &err) == OTD_OK, "%s", err.message);
	ASSERT_SQL("SELECT count(*) FROM customers WHERE erased_at IS NOT NULL", "0");
	ASSERT_SQL("SELECT count(*) FROM visitor_positions", "3");
	ASSERT_SQL("SELECT count(*) FROM sessions WHERE ip <> ''", "2");
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE action = 'customer.anonymise'", "0");
	ck_assert_int_eq(app_retention_pass(&app, &r, &err), OTD_OK);
	ck_assert_int_eq(dry.contacts, r.contacts);
	ck_assert_int_eq(dry.inbound, r.inbound);
	ck_assert_int_eq(dry.events, r.events);
	ck_assert_int_eq(dry.receipts, r.receipts);
	ck_assert_int_eq(dry.positions, r.positions);
	ck_assert_int_eq(dry.ips, r.ips);
	ck_assert_int_eq(dry.contacts, 2);
}
END_TEST

START_TEST(zero_keeps_everything)
{
	teardown();
	open_app(false);
	bool ran = true;
	ck_assert_int_eq(app_retention_due(&app, &ran, &err), OTD_OK);
	ck_assert(!ran);
	struct otd_retention_report r;
	ck_assert_int_eq(app_retention_pass(&app, &r, &err), OTD_OK);
	ck_assert_int_eq(r.contacts + r.inbound + r.events + r.receipts + r.positions + r.ips, 0);
	ASSERT_SQL("SELECT count(*) FROM customers WHERE erased_at IS NULL", "5");
	ASSERT_SQL("SELECT count(*) FROM visitor_positions", "3");
	ASSERT_SQL("SELECT count(*) FROM sessions WHERE ip <> ''", "2");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("retention");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, defaults_are_the_documented_ones);
	tcase_add_test(tc, each_rule_keeps_what_it_must);
	tcase_add_test(tc, runs_once_a_day_of_the_app_clock);
	tcase_add_test(tc, big_backlogs_go_in_batches);
	tcase_add_test(tc, a_dry_run_counts_and_changes_nothing);
	tcase_add_test(tc, zero_keeps_everything);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
