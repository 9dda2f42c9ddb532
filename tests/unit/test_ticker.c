/* Unit tests: the ticker thread (app/ticker.c) carries on after a failed
 * step: the failure is counted (app->ticker.errors), the next pass waits
 * longer (ticker_backoff_s), and once the fault is gone a pass succeeds
 * and sets app->ticker.last_success. The fault: the holds table renamed
 * away under the running service, then renamed back. */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "app/app.h"
#include "app/ticker.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "testutil.h"

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;

static void setup(void)
{
	db_path = testutil_migrated_db("ticker");
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup("2026-03-02T09:00:00Z");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

START_TEST(backoff_doubles_up_to_a_cap)
{
	ck_assert_int_eq(ticker_backoff_s(30, 0), 30);
	ck_assert_int_eq(ticker_backoff_s(30, 1), 30);
	ck_assert_int_eq(ticker_backoff_s(30, 2), 60);
	ck_assert_int_eq(ticker_backoff_s(30, 3), 120);
	ck_assert_int_eq(ticker_backoff_s(30, 4), 240);
	ck_assert_int_eq(ticker_backoff_s(30, 5), 300); /* BACKOFF_MAX_S */
	ck_assert_int_eq(ticker_backoff_s(30, 1000), 300);
	ck_assert_int_eq(ticker_backoff_s(1, 3), 4);
	ck_assert_int_eq(ticker_backoff_s(1, 100), 16);  /* 16 periods at most */
	ck_assert_int_eq(ticker_backoff_s(600, 9), 600); /* never below the period */
}
END_TEST

START_TEST(a_clean_pass_counts_and_stamps)
{
	ck_assert_uint_eq(atomic_load(&app.ticker.passes), 0);
	ck_assert_int_eq(atomic_load(&app.ticker.last_success), 0);
	time_t before = time(NULL);
	ck_assert_int_eq(ticker_pass_checked(&app, NULL), OTD_OK);
	ck_assert_uint_eq(atomic_load(&app.ticker.passes), 1);
	ck_assert_uint_eq(atomic_load(&app.ticker.errors), 0);
	ck_assert_int_ge(atomic_load(&app.ticker.last_success), (int64_t)before);
}
END_TEST

START_TEST(the_thread_survives_a_failing_step_and_recovers)
{
	testutil_sql_exec(db_path, "ALTER TABLE holds RENAME TO holds_away");
	/* A pass on this thread fails and says why. */
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_ne(ticker_pass_checked(&app, &err), OTD_OK);
	ck_assert_uint_ge(atomic_load(&app.ticker.errors), 1);
	ck_assert_int_eq(atomic_load(&app.ticker.last_success), 0);

	struct otd_ticker *t = ticker_start(&app, 1);
	ck_assert_ptr_nonnull(t);
	/* Passes keep coming, each failing: 1 s, then 2 s after two failures. */
	uint64_t errors0 = atomic_load(&app.ticker.errors);
	for(int i = 0; i < 100 && atomic_load(&app.ticker.errors) < errors0 + 2; i++)
		sleep_ms(50);
	ck_assert_uint_ge(atomic_load(&app.ticker.errors), errors0 + 2);
	ck_assert_int_eq(atomic_load(&app.ticker.last_success), 0);

	/* The fault mends; a later pass succeeds on the same thread. */
	testutil_sql_exec(db_path, "ALTER TABLE holds_away RENAME TO holds");
	for(int i = 0; i < 400 && atomic_load(&app.ticker.last_success) == 0; i++)
		sleep_ms(50);
	ck_assert_int_gt(atomic_load(&app.ticker.last_success), 0);
	uint64_t errors1 = atomic_load(&app.ticker.errors);
	uint64_t passes1 = atomic_load(&app.ticker.passes);
	/* Back to one pass a period, without errors. */
	for(int i = 0; i < 100 && atomic_load(&app.ticker.passes) < passes1 + 2; i++)
		sleep_ms(50);
	ck_assert_uint_ge(atomic_load(&app.ticker.passes), passes1 + 2);
	ck_assert_uint_eq(atomic_load(&app.ticker.errors), errors1);
	ticker_stop(t);
}
END_TEST

static Suite *ticker_suite(void)
{
	Suite *s = suite_create("ticker");
	TCase *tc = tcase_create("ticker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, backoff_doubles_up_to_a_cap);
	tcase_add_test(tc, a_clean_pass_counts_and_stamps);
	tcase_add_test(tc, the_thread_survives_a_failing_step_and_recovers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(ticker_suite());
}
