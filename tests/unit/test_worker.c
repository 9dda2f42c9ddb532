/* Unit tests: the delivery worker (notify/worker.c) carries on after its
 * claims fail: each failure is counted (app->delivery.errors) and retried
 * after a pause, and once the fault is gone the message is claimed and
 * tried. The fault: a trigger that makes every UPDATE of the outbox fail,
 * as a broken disk would, then dropped. The gateway is a closed port, so
 * nothing leaves the machine. */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "cli/config_file.h"
#include "notify/notify.h"
#include "onthedot/mem.h"
#include "store/booking.h"
#include "store/outbox.h"
#include "store/store.h"
#include "testutil.h"

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;

static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void setup(void)
{
	db_path = testutil_migrated_db("worker");
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup("2026-03-02T09:00:00Z");
	free(cfg.delivery.webhook_url);
	cfg.delivery.webhook_url = xasprintf("http://127.0.0.1:%d/hook", closed_port());
	free(cfg.delivery.webhook_secret);
	cfg.delivery.webhook_secret = xstrdup("a-test-key");
	cfg.delivery.connect_timeout_ms = 500;
	cfg.delivery.timeout_ms = 1000;
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

struct insert_job {
	struct otd_outbox_row row;
	int64_t now;
};

static enum otd_status insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct insert_job *j = arg;
	return store_outbox_insert(tx, &j->row, j->now, err);
}

START_TEST(the_worker_survives_failing_claims_and_recovers)
{
	int64_t now = otd_clock_now(app.clock);
	struct insert_job j = {.row = {.idem_key = "worker:1",
	                               .channel = "webhook",
	                               .template = "booking_confirmation",
	                               .payload = "{\"text\":\"hello\"}",
	                               .due_at = now},
	                       .now = now};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_write(app.store, insert_fn, &j, &err) == OTD_OK, "%s", err.message);
	testutil_sql_exec(db_path, "CREATE TRIGGER broken BEFORE UPDATE ON outbox BEGIN "
	                           "SELECT RAISE(ABORT, 'disk on fire'); END");
	struct otd_notifier *n = NULL;
	ck_assert_msg(notifier_start(&app, &n, &err) == OTD_OK, "%s", err.message);
	ck_assert_ptr_nonnull(n);
	/* Claims fail, again and again, after pauses: 200, 400, 800 ms. */
	for(int i = 0; i < 200 && atomic_load(&app.delivery.errors) < 3; i++)
		sleep_ms(50);
	ck_assert_uint_ge(atomic_load(&app.delivery.errors), 3);
	ck_assert_uint_le(atomic_load(&app.delivery.errors), 6); /* paused, not spinning */
	ck_assert_uint_eq(atomic_load(&app.delivery.transfers), 0);
	ck_assert(atomic_load(&app.delivery.running));

	/* The fault mends: the same thread claims the message and tries it. */
	testutil_sql_exec(db_path, "DROP TRIGGER broken");
	uint64_t errors = atomic_load(&app.delivery.errors);
	long long tried = 0;
	/* The claim commits (attempts + 1) before the transfer is started and
	 * counted, so wait for both. */
	for(int i = 0; i < 400 && (tried == 0 || atomic_load(&app.delivery.transfers) == 0); i++) {
		sleep_ms(50);
		tried = testutil_sql_int(db_path, "SELECT attempts FROM outbox WHERE idem_key = "
		                                  "'worker:1'");
	}
	ck_assert_int_ge(tried, 1);
	ck_assert_uint_ge(atomic_load(&app.delivery.transfers), 1);
	ck_assert_uint_le(atomic_load(&app.delivery.errors), errors + 1);
	notifier_stop(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_worker_survives_failing_claims_and_recovers);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
