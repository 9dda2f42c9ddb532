/* Unit tests: the address search use case (app/addresses.c): the index
 * built at start, rebuilt when an import from another process changes the
 * gazetteer (by the watcher within about a second, or on request), retired
 * addresses left out, and searches that keep their index through a swap. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/addresses.h"
#include "app/app.h"
#include "app/audit.h"
#include "app/imports.h"
#include "app/log.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z"
#define GAZ "uprn,line1,line2,town,postcode,latitude,longitude\n"

static struct otd_config cfg;
static struct otd_app app; /* the server's */
static char *db_path;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/addresses-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_SERVER, &err) == OTD_OK, "%s", err.message);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

/* Imports text as `onthedot import gazetteer` does: another app object on
 * the same file, with its own connections, as another process would. */
static void import_elsewhere(const char *text)
{
	struct otd_app cli_app;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_open(&cli_app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_import_report r;
	enum otd_status st =
	    app_import_gazetteer(&cli_app, &cli, "gaz.csv", text, strlen(text), &r, &err);
	ck_assert_msg(st == OTD_OK, "%s %s", err.message, r.problems ? r.problems : "");
	otd_import_report_cleanup(&r);
	app_close(&cli_app);
}

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
	              msg ? msg : "");
	sqlite3_close(db);
}

/* The line1 of each address a search finds, joined with ";". */
static const char *found(const char *q)
{
	static char out[4096];
	struct otd_address_hits h;
	struct otd_error err;
	ck_assert_int_eq(app_address_search(&app, q, 10, &h, &err), OTD_OK);
	size_t len = 0;
	out[0] = '\0';
	for(size_t i = 0; i < h.n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? ";" : "",
		                        h.items[i].line1);
	app_address_hits_release(&h);
	return out;
}

static bool refresh(bool force)
{
	bool rebuilt = false;
	struct otd_error err;
	ck_assert_int_eq(app_addresses_refresh(&app, force, &rebuilt, &err), OTD_OK);
	return rebuilt;
}

START_TEST(an_import_elsewhere_is_seen_once_and_only_once)
{
	ck_assert_str_eq(found("high"), "");
	struct otd_addresses_stats s;
	app_addresses_stats(&app, &s);
	ck_assert_uint_eq(s.addresses, 0);
	ck_assert_int_eq(s.generation, 0);
	ck_assert_uint_eq(s.builds, 1);
	import_elsewhere(GAZ "1001,10 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                     "1002,2 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                     "1003,10 Downing Street,,London,SW1A 1AA,51.5,-0.12\n");
	ck_assert(refresh(false));
	ck_assert_str_eq(found("high"), "2 High St;10 High St");
	ck_assert_str_eq(found("sw1a1aa"), "10 Downing Street");
	ck_assert_str_eq(found("SW1A 1AA"), "10 Downing Street");
	/* Nothing changed since: no rebuild. */
	ck_assert(!refresh(false));
	app_addresses_stats(&app, &s);
	ck_assert_uint_eq(s.addresses, 3);
	ck_assert_int_gt(s.generation, 0);
	ck_assert_uint_gt(s.bytes, 0);
	ck_assert_uint_eq(s.builds, 2);
	/* Forced, it rebuilds the same. */
	ck_assert(refresh(true));
	ck_assert_str_eq(found("high"), "2 High St;10 High St");
}
END_TEST

START_TEST(the_watcher_offers_a_new_address_within_two_seconds)
{
	import_elsewhere(GAZ "1001,1 Mill Road,,Benchton,BT1 1AA,52.2,-1.5\n");
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double waited = 0;
	while(strcmp(found("mill"), "1 Mill Road") != 0 && waited < 5.0) {
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	ck_assert_msg(waited < 2.0, "seen after %.2f s", waited);
	ck_assert_str_eq(found("mill"), "1 Mill Road");
}
END_TEST

START_TEST(retired_addresses_are_not_offered)
{
	import_elsewhere(GAZ "1001,1 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                     "1002,2 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n"
	                     "1003,3 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n");
	ck_assert(refresh(false));
	ck_assert_str_eq(found("high st"), "1 High St;2 High St;3 High St");
	/* An appointment at 2 High St keeps it, retired, when the next file
	 * leaves it out; 3 High St, unused, goes. */
	sql_exec(
	    "INSERT INTO customers(name, phone, created_at) VALUES ('Cy', '+441632960999', 1);"
	    "INSERT INTO skills(code) VALUES ('s');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
	    "duration_spread, window_min, created_at, updated_at) VALUES ('t', 'Visit', "
	    "(SELECT id FROM skills WHERE code = 's'), 60, 0.3, 120, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('V', 'Eng', 52, -1, 1, 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, created_at, updated_at) VALUES "
	    "('OTD-A00001', 1, (SELECT id FROM addresses WHERE uprn = '1002'), 1, 1, "
	    "'2026-03-04', 1772618400, 1772625600, 1, 1)");
	import_elsewhere(GAZ "1001,1 High St,,Wrenfield,AB1 2CD,52.2,-1.5\n");
	ck_assert(refresh(false));
	ck_assert_str_eq(found("high st"), "1 High St");
	ck_assert_str_eq(found("wrenfield"), "1 High St");
}
END_TEST

START_TEST(a_search_keeps_its_index_through_a_swap)
{
	import_elsewhere(GAZ "1001,1 Old Road,,Wrenfield,AB1 2CD,52.2,-1.5\n");
	ck_assert(refresh(false));
	struct otd_address_hits held;
	struct otd_error err;
	ck_assert_int_eq(app_address_search(&app, "old", 10, &held, &err), OTD_OK);
	ck_assert_uint_eq(held.n, 1);
	import_elsewhere(GAZ "1002,1 New Road,,Wrenfield,AB1 2CD,52.2,-1.5\n");
	ck_assert(refresh(false));
	ck_assert_str_eq(found("old"), "");
	ck_assert_str_eq(found("new"), "1 New Road");
	/* The held answer still reads its own index (AddressSanitizer checks). */
	ck_assert_str_eq(held.items[0].line1, "1 Old Road");
	ck_assert_str_eq(held.items[0].postcode, "AB1 2CD");
	app_address_hits_release(&held);
	ck_assert_ptr_null(held.ref);
	app_address_hits_release(&held); /* twice is harmless */
}
END_TEST

struct searcher {
	atomic_bool stop;
	atomic_long searches;
};

static void *search_loop(void *arg)
{
	struct searcher *s = arg;
	const char *qs[] = {"1", "high", "sw1a 1aa", "10 high st", "wrenfield"};
	for(long i = 0; !atomic_load(&s->stop); i++) {
		struct otd_address_hits h;
		struct otd_error err;
		if(app_address_search(&app, qs[i % 5], 10, &h, &err) == OTD_OK)
			for(size_t k = 0; k < h.n; k++)
				ck_assert(strlen(h.items[k].line1) > 0);
		app_address_hits_release(&h);
		atomic_fetch_add(&s->searches, 1);
	}
	return NULL;
}

START_TEST(searches_run_while_the_index_is_rebuilt)
{
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, GAZ);
	for(int i = 0; i < 2000; i++)
		otd_buf_printf(&csv, "%d,%d High St,,Wrenfield,AB1 %dCD,52.2,-1.5\n", 5000 + i,
		               i + 1, i % 9 + 1);
	import_elsewhere(csv.data);
	otd_buf_cleanup(&csv);
	struct searcher s = {false, 0};
	pthread_t th[4];
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, search_loop, &s), 0);
	for(int i = 0; i < 8; i++)
		ck_assert(refresh(true));
	atomic_store(&s.stop, true);
	for(int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_gt(atomic_load(&s.searches), 8);
	ck_assert_str_eq(found("1 high st "), "1 High St");
	ck_assert_str_eq(found("high st 1 "), "1 High St");
}
END_TEST

START_TEST(the_command_line_has_no_index)
{
	struct otd_app cli_app;
	struct otd_error err;
	ck_assert_int_eq(app_open(&cli_app, &cfg, OTD_APP_CLI, &err), OTD_OK);
	struct otd_address_hits h;
	ck_assert_int_eq(app_address_search(&cli_app, "high", 10, &h, &err), OTD_ESTATE);
	ck_assert_uint_eq(h.n, 0);
	app_address_hits_release(&h);
	bool rebuilt = true;
	ck_assert_int_eq(app_addresses_refresh(&cli_app, false, &rebuilt, &err), OTD_ESTATE);
	ck_assert(!rebuilt);
	struct otd_addresses_stats s;
	app_addresses_stats(&cli_app, &s);
	ck_assert_uint_eq(s.builds, 0);
	app_close(&cli_app);
}
END_TEST

int main(void)
{
	otd_log_set_level(OTD_LOG_WARN); /* each build logs a line at info */
	Suite *s = suite_create("addresses");
	TCase *tc = tcase_create("addresses");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, an_import_elsewhere_is_seen_once_and_only_once);
	tcase_add_test(tc, the_watcher_offers_a_new_address_within_two_seconds);
	tcase_add_test(tc, retired_addresses_are_not_offered);
	tcase_add_test(tc, a_search_keeps_its_index_through_a_swap);
	tcase_add_test(tc, searches_run_while_the_index_is_rebuilt);
	tcase_add_test(tc, the_command_line_has_no_index);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
