/* Unit tests: health, the figures /metrics shows, and the test-only
 * virtual clock call (app/system.c). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/system.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z"
#define START_T 1772442000

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_principal cli;

static void open_app(bool virtual_clock)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/system-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = virtual_clock;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(virtual_clock ? START : "");
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_principal_cli(&cli);
}

static void setup_virtual(void)
{
	open_app(true);
}

static void setup_real(void)
{
	open_app(false);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long sql_int(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static const char *sql_list(const char *sql)
{
	static char out[2048];
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
	size_t off = 0;
	out[0] = '\0';
	while(sqlite3_step(st) == SQLITE_ROW)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? ";" : "",
		                        (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

START_TEST(health_answers_on_a_working_database)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_health(&app, &err), OTD_OK);
	ck_assert_str_eq(err.code, "");
}
END_TEST

START_TEST(metrics_count_writes_and_the_outbox)
{
	struct otd_app_metrics m;
	struct otd_error err;
	memset(&m, 0xff, sizeof(m));
	ck_assert_int_eq(app_metrics(&app, &m, &err), OTD_OK);
	ck_assert_int_eq(m.now, START_T);
	ck_assert(m.virtual_clock);
	ck_assert_int_eq(m.outbox_pending, 0);
	ck_assert_int_eq(m.outbox_uncertain, 0);
	ck_assert_uint_eq(m.store.write_jobs, 0);
	ck_assert_uint_eq(m.store.db_errors, 0);
	ck_assert_int_eq(m.store.writer_queue_depth, 0);

	sqlite3 *db = sql_open();
	const char *sql =
	    "INSERT INTO outbox(idem_key, channel, template, payload, state, due_at, claimed_at, "
	    "sent_at, created_at) VALUES "
	    "('a', 'email', 't', '{}', 'pending', 1, NULL, NULL, 1),"
	    "('b', 'sms', 't', '{}', 'pending', 1, NULL, NULL, 1),"
	    "('c', 'sms', 't', '{}', 'sending', 1, 5, NULL, 1),"
	    "('d', 'email', 't', '{}', 'uncertain', 1, 5, NULL, 1),"
	    "('e', 'email', 't', '{}', 'sent', 1, 5, 6, 1),"
	    "('f', 'email', 't', '{}', 'failed', 1, 5, NULL, 1),"
	    "('g', 'email', 't', '{}', 'cancelled', 1, NULL, NULL, 1)";
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	int64_t now;
	ck_assert_int_eq(app_clock_advance(&app, &cli, 10, 0, &now, &err), OTD_OK);
	ck_assert_int_eq(app_clock_advance(&app, &cli, 10, 0, &now, &err), OTD_OK);
	ck_assert_int_eq(app_metrics(&app, &m, &err), OTD_OK);
	ck_assert_int_eq(m.outbox_pending, 3); /* pending and sending */
	ck_assert_int_eq(m.outbox_uncertain, 1);
	ck_assert_uint_eq(m.store.write_jobs, 2);
	ck_assert_uint_ge(m.store.commits, 1);
	ck_assert_uint_le(m.store.commits, 2);
	ck_assert_int_eq(m.now, START_T + 20);
	ck_assert_int_ge(m.store.wal_bytes, 0);
}
END_TEST

/* The figures the example alerts watch (contrib/prometheus). */
START_TEST(ops_gauges_for_the_alerts)
{
	struct otd_app_metrics m;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_metrics(&app, &m, &err), OTD_OK);
	ck_assert_int_eq(m.ops.oldest_due_age, 0);
	ck_assert_int_eq(m.ops.at_risk_unmessaged, 0);
	ck_assert_int_eq(m.ops.guarantee_due_24h, 0);
	ck_assert_int_eq(m.ops.guarantee_overdue, 0);
	char *sql = xasprintf(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler', 1, 45, 0.25, 120, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, created_at, "
	    "updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, -1.5, "
	    "1, 1);"
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Zoe', '+447700900001', 1);"
	    /* 1: at risk, nothing sent; 2: its apology sent; 3: its apology waits;
	     * 4: cancelled; 5: at risk but long past; 6: fine. */
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, status, risk, cancelled_at, "
	    "cancelled_by, created_at, updated_at) VALUES "
	    "('OTD-AAA001', 1, 1, 1, 1, '2026-03-02', %d, %d, 'booked', 'at_risk', NULL, NULL, 1, 1),"
	    "('OTD-AAA002', 1, 1, 1, 1, '2026-03-02', %d, %d, 'booked', 'at_risk', NULL, NULL, 1, 1),"
	    "('OTD-AAA003', 1, 1, 1, 1, '2026-03-02', %d, %d, 'travelling', 'at_risk', NULL, NULL, "
	    "1, 1),"
	    "('OTD-AAA004', 1, 1, 1, 1, '2026-03-02', %d, %d, 'cancelled', 'at_risk', 5, "
	    "'customer', 1, 1),"
	    "('OTD-AAA005', 1, 1, 1, 1, '2026-02-20', 1000, 2000, 'booked', 'at_risk', NULL, NULL, "
	    "1, 1),"
	    "('OTD-AAA006', 1, 1, 1, 1, '2026-03-02', %d, %d, 'booked', 'ok', NULL, NULL, 1, 1);"
	    "INSERT INTO outbox(idem_key, appointment_id, channel, template, payload, state, "
	    "due_at, claimed_at, sent_at, created_at) VALUES "
	    "('a2', 2, 'sms', 'apology', '{}', 'sent', %d, %d, %d, 1),"
	    "('a3', 3, 'sms', 'apology', '{}', 'pending', %d, NULL, NULL, 1),"
	    "('x', NULL, 'email', 't', '{}', 'pending', %d, NULL, NULL, 1),"
	    "('y', NULL, 'email', 't', '{}', 'pending', %d, NULL, NULL, 1);"
	    "INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	    "rule_version, amount_minor, currency, breached_at, deadline_at, state, paid_at, "
	    "paid_minor, created_at) VALUES "
	    "(1, 1, 'window_missed', 'r', '1', 3000, 'GBP', %d, %d, 'open', NULL, NULL, 1),"
	    "(2, 1, 'window_missed', 'r', '1', 3000, 'GBP', %d, %d, 'open', NULL, NULL, 1),"
	    "(3, 1, 'window_missed', 'r', '1', 3000, 'GBP', %d, %d, 'open', NULL, NULL, 1),"
	    "(4, 1, 'window_missed', 'r', '1', 3000, 'GBP', %d, %d, 'paid', 7, 3000, 1);",
	    START_T + 3600, START_T + 7200, START_T + 3600, START_T + 7200, START_T + 3600,
	    START_T + 7200, START_T + 3600, START_T + 7200, START_T + 3600, START_T + 7200,
	    START_T - 900, START_T - 800, START_T - 800, START_T - 60, START_T - 600, START_T + 100,
	    START_T - 100, START_T + 3600, START_T - 100, START_T + 2 * 86400, START_T - 100,
	    START_T - 10, START_T - 100, START_T + 100);
	testutil_sql_exec(db_path, sql);
	free(sql);
	ck_assert_int_eq(app_metrics(&app, &m, &err), OTD_OK);
	ck_assert_int_eq(m.ops.oldest_due_age, 600);   /* 'x', not the future 'y' */
	ck_assert_int_eq(m.ops.at_risk_unmessaged, 2); /* 1 and 3 */
	ck_assert_int_eq(m.ops.guarantee_due_24h, 1);  /* 1, not 2 (later) or 4 (paid) */
	ck_assert_int_eq(m.ops.guarantee_overdue, 1);  /* 3 */
}
END_TEST

START_TEST(virtual_clock_moves_forward_only_and_is_audited)
{
	int64_t now = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_clock_advance(&app, &cli, 3600, 0, &now, &err), OTD_OK);
	ck_assert_int_eq(now, START_T + 3600);
	ck_assert_int_eq(otd_clock_now(app.clock), START_T + 3600);
	ck_assert_int_eq(app_clock_advance(&app, &cli, 0, START_T + 86400, &now, &err), OTD_OK);
	ck_assert_int_eq(now, START_T + 86400);
	/* To the same instant is allowed (nothing moves). */
	ck_assert_int_eq(app_clock_advance(&app, &cli, 0, START_T + 86400, &now, &err), OTD_OK);
	ck_assert_int_eq(now, START_T + 86400);
	/* Backwards, either way, is refused naming the field. */
	now = -1;
	ck_assert_int_eq(app_clock_advance(&app, &cli, 0, START_T, &now, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "clock_backwards");
	ck_assert_str_eq(err.field, "to");
	ck_assert_int_eq(now, -1);
	ck_assert_int_eq(app_clock_advance(&app, &cli, -1, 0, &now, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "seconds");
	ck_assert_int_eq(otd_clock_now(app.clock), START_T + 86400);
	/* Each move is in the audit log, at the new time. */
	char *want =
	    xasprintf("%d cli {\"from\":%d,\"to\":%d};"
	              "%d cli {\"from\":%d,\"to\":%d};"
	              "%d cli {\"from\":%d,\"to\":%d}",
	              START_T + 3600, START_T, START_T + 3600, START_T + 86400, START_T + 3600,
	              START_T + 86400, START_T + 86400, START_T + 86400, START_T + 86400);
	ck_assert_str_eq(
	    sql_list("SELECT at || ' ' || actor_kind || ' ' || detail FROM audit_log "
	             "WHERE action = 'clock.advance' AND entity = 'clock' ORDER BY id"),
	    want);
	free(want);
}
END_TEST

START_TEST(a_real_clock_has_no_advance_call)
{
	int64_t now = -1;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_clock_advance(&app, &cli, 60, 0, &now, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(err.code, "not_found");
	ck_assert_int_eq(otd_status_http(err.status), 404);
	ck_assert_int_eq(now, -1);
	ck_assert_int_eq(app_clock_advance(&app, &cli, 0, START_T, &now, &err), OTD_ENOTFOUND);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 0);
	struct otd_app_metrics m;
	ck_assert_int_eq(app_metrics(&app, &m, &err), OTD_OK);
	ck_assert(!m.virtual_clock);
	time_t t = time(NULL);
	ck_assert_int_ge(m.now, (int64_t)t - 2);
	ck_assert_int_le(m.now, (int64_t)t + 2);
	ck_assert_int_eq(app_health(&app, &err), OTD_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("system");
	TCase *tv = tcase_create("virtual");
	tcase_add_checked_fixture(tv, setup_virtual, teardown);
	tcase_set_timeout(tv, 60);
	tcase_add_test(tv, health_answers_on_a_working_database);
	tcase_add_test(tv, metrics_count_writes_and_the_outbox);
	tcase_add_test(tv, virtual_clock_moves_forward_only_and_is_audited);
	tcase_add_test(tv, ops_gauges_for_the_alerts);
	suite_add_tcase(s, tv);
	TCase *tr = tcase_create("real");
	tcase_add_checked_fixture(tr, setup_real, teardown);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, a_real_clock_has_no_advance_call);
	suite_add_tcase(s, tr);
	return testutil_run(s);
}
