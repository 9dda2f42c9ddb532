/* Unit tests: the delivery use cases (app/delivery.c) in process, on a real
 * store with a virtual clock and no network: the test plays the delivery
 * worker, claiming messages and reporting each send's result. Retries
 * wait within full jitter's bounds [1, base * 2^(k-1)] (capped) after
 * attempt k; a provider's attempts used up move to the next provider at
 * once, then the message fails; a failed message falls back to the "alt"
 * rendering on the other channel (once), else puts its appointment on the
 * call list (once, never for a message without one), unless a message of
 * the same event is on its way or arrived; a delivery report of failure
 * after a send falls back the same way, found by our id or the
 * provider's; sends cut off by a crash are recovered as uncertain and
 * counted; a sent payload keeps no link secret. The organisation is
 * written with sqlite3 directly before the application starts. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/delivery.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/booking.h"
#include "store/outbox.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-03T07:30:00Z"
#define ALL (OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK)

static struct otd_config cfg;
static struct otd_app app;
static bool app_started;
static char *db_path;
static struct otd_error last_err;

static void seed(void);

/* Checked fixture: a migrated database with Zoë's two appointments; each
 * test adjusts the configuration and starts the application (start()). */
static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/delivery-app-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	cfg.delivery.max_attempts = 4;
	cfg.delivery.backoff_base_s = 30;
	cfg.delivery.backoff_cap_s = 1800;
	cfg.delivery.sms_uncertain_grace_s = 60;
	app_started = false;
	seed();
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

static int64_t now(void)
{
	return otd_clock_now(app.clock);
}

static void clock_to(int64_t t)
{
	ck_assert(otd_clock_set(app.clock, t));
	ck_assert_int_eq(now(), t);
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

/* A row as "state attempts provider_index due_at-now last_error". */
static char *row(int64_t id)
{
	char *sql = xasprintf("SELECT state || ' ' || attempts || ' ' || provider_index || ' ' || "
	                      "(due_at - %lld) || ' ' || coalesce(last_error, '-') FROM outbox "
	                      "WHERE id = %lld",
	                      (long long)now(), (long long)id);
	char *out = sql_list(sql);
	free(sql);
	return out;
}

#define ASSERT_ROW(id, want)                                                                       \
	do {                                                                                       \
		char *got_ = row(id);                                                              \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

/* Zoë (customer 1) with appointments 1 and 2 on Ann's Tuesday. */
static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1);"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "120, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.21, -1.5, 1, 1);"
	    "INSERT INTO customers(name, phone, email, created_at) VALUES ('Zoë', "
	    "'+447700900001', 'zoe@example.org', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, consent_sms, consent_email, "
	    "created_at, updated_at) VALUES "
	    "('OTD-AAA301', 1, 1, 1, 1, '2026-03-03', 1772528400, 1772535600, 1, 1, 1000, 1000),"
	    "('OTD-AAA302', 1, 1, 1, 1, '2026-03-03', 1772535600, 1772542800, 1, 1, 1000, 1000);");
}

/* ---- the worker's side ------------------------------------------------------ */

struct insert_job {
	struct otd_outbox_row row;
	int64_t now;
};

static enum otd_status insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct insert_job *j = arg;
	return store_outbox_insert(tx, &j->row, j->now, err);
}

/* Queues a message due now (appointment 0: none). */
static int64_t queue(const char *idem, const char *channel, int64_t appt, const char *event,
                     const char *payload)
{
	struct insert_job j = {.row = {.idem_key = idem,
	                               .appointment_id = appt,
	                               .customer_id = appt ? 1 : 0,
	                               .channel = channel,
	                               .template = "booking_confirmation",
	                               .payload = payload,
	                               .due_at = now(),
	                               .event_key = event},
	                       .now = now()};
	otd_error_clear(&last_err);
	ck_assert_msg(store_write(app.store, insert_fn, &j, &last_err) == OTD_OK, "%s",
	              last_err.message);
	return j.row.id;
}

/* Claims every due message of mask (at most 32); *n receives how many. */
static void claim_all(unsigned mask, struct otd_outbox_msg *out, int *n)
{
	memset(out, 0, 32 * sizeof(*out));
	otd_error_clear(&last_err);
	ck_assert_msg(app_delivery_claim(&app, mask, 32, out, n, &last_err) == OTD_OK, "%s",
	              last_err.message);
}

/* Claims the one message due of mask, which must be id. */
static struct otd_outbox_msg claim_one(unsigned mask, int64_t id)
{
	struct otd_outbox_msg m[32];
	int n = -1;
	claim_all(mask, m, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(m[0].id, id);
	return m[0];
}

static void claim_none(unsigned mask)
{
	struct otd_outbox_msg m[32];
	int n = -1;
	claim_all(mask, m, &n);
	for(int i = 0; i < n; i++)
		store_outbox_msg_cleanup(&m[i]);
	ck_assert_int_eq(n, 0);
}

static enum otd_status report(const struct otd_outbox_msg *m, int n_providers,
                              enum delivery_kind kind, const char *provider, const char *pid,
                              const char *error)
{
	struct delivery_result r = {
	    .kind = kind, .provider = provider, .provider_id = pid, .error = error};
	otd_error_clear(&last_err);
	return app_delivery_outcome(&app, m, n_providers, &r, &last_err);
}

/* Reports and cleans up m; the outcome must be stored. */
static void outcome(struct otd_outbox_msg *m, int n_providers, enum delivery_kind kind,
                    const char *provider, const char *pid, const char *error)
{
	ck_assert_msg(report(m, n_providers, kind, provider, pid, error) == OTD_OK, "%s",
	              last_err.message);
	store_outbox_msg_cleanup(m);
}

static int64_t due_at(int64_t id)
{
	char *sql = xasprintf("SELECT due_at FROM outbox WHERE id = %lld", (long long)id);
	long long v = sql_int(sql);
	free(sql);
	return v;
}

struct counts_job {
	struct otd_outbox_counts c;
};

static enum otd_status counts_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct counts_job *j = arg;
	return store_outbox_counts(c, &j->c, err);
}

static struct otd_outbox_counts counts(void)
{
	struct counts_job j;
	memset(&j, 0, sizeof(j));
	otd_error_clear(&last_err);
	ck_assert_int_eq(store_read(app.store, counts_fn, &j, &last_err), OTD_OK);
	return j.c;
}

static long long calls(void)
{
	return sql_int("SELECT count(*) FROM tasks WHERE kind = 'call'");
}

/* ---- retries ------------------------------------------------------------------ */

START_TEST(retries_wait_within_full_jitter_bounds)
{
	cfg.delivery.max_attempts = 7;
	cfg.delivery.backoff_cap_s = 400; /* 30, 60, 120, 240, then 480 and 960 capped */
	start();
	enum { N = 24 };
	for(int i = 0; i < N; i++) {
		char idem[32];
		snprintf(idem, sizeof(idem), "alert:%d", i);
		queue(idem, "webhook", 0, NULL, "{}");
	}
	const int64_t ceiling[] = {30, 60, 120, 240, 400, 400};
	for(int k = 1; k <= 6; k++) {
		int64_t t = now();
		struct otd_outbox_msg m[32];
		int n = 0;
		claim_all(OTD_CHANNEL_WEBHOOK, m, &n);
		ck_assert_int_eq(n, N);
		int64_t lo = INT64_MAX, hi = 0;
		for(int i = 0; i < n; i++) {
			ck_assert_int_eq(m[i].attempts, k);
			ck_assert_int_eq(m[i].provider_index, 0);
			ck_assert(!m[i].uncertain);
			int64_t id = m[i].id;
			outcome(&m[i], 1, DELIVERY_RETRY, "webhook", NULL, "HTTP 503");
			int64_t wait = due_at(id) - t;
			ck_assert_msg(wait >= 1 && wait <= ceiling[k - 1],
			              "attempt %d: retry in %lld s, outside [1, %lld]", k,
			              (long long)wait, (long long)ceiling[k - 1]);
			lo = wait < lo ? wait : lo;
			hi = wait > hi ? wait : hi;
		}
		ASSERT_LIST(
		    "SELECT DISTINCT state || ' ' || attempts || ' ' || provider_index || ' ' "
		    "|| last_error || ' ' || (claimed_at IS NULL) FROM outbox",
		    k == 1   ? "pending 1 0 HTTP 503 1"
		    : k == 2 ? "pending 2 0 HTTP 503 1"
		    : k == 3 ? "pending 3 0 HTTP 503 1"
		    : k == 4 ? "pending 4 0 HTTP 503 1"
		    : k == 5 ? "pending 5 0 HTTP 503 1"
		             : "pending 6 0 HTTP 503 1");
		/* Jittered: not one wait for all 24 (all equal by chance: < 30^-22). */
		ck_assert_int_lt(lo, hi);
		/* The next due time is the earliest of them; nothing is due before. */
		int64_t due = 0;
		ck_assert_int_eq(app_delivery_next_due(&app, OTD_CHANNEL_WEBHOOK, &due, &last_err),
		                 OTD_OK);
		ck_assert_int_eq(due, t + lo);
		ck_assert_int_eq(app_delivery_next_due(&app, OTD_CHANNEL_EMAIL, &due, &last_err),
		                 OTD_OK);
		ck_assert_int_eq(due, INT64_MAX);
		clock_to(t + lo - 1);
		claim_none(OTD_CHANNEL_WEBHOOK);
		clock_to(t + ceiling[k - 1]);
	}
	/* The seventh attempt failing is the last: failed, no eighth. */
	struct otd_outbox_msg m[32];
	int n = 0;
	claim_all(OTD_CHANNEL_WEBHOOK, m, &n);
	ck_assert_int_eq(n, N);
	for(int i = 0; i < n; i++) {
		ck_assert_int_eq(m[i].attempts, 7);
		outcome(&m[i], 1, DELIVERY_RETRY, "webhook", NULL, "HTTP 503");
	}
	ASSERT_LIST("SELECT DISTINCT state || ' ' || attempts || ' ' || provider || ' ' || "
	            "last_error FROM outbox",
	            "failed 7 webhook HTTP 503");
	clock_to(now() + 86400);
	claim_none(ALL);
	/* No appointment: nobody to call. */
	ck_assert_int_eq(calls(), 0);
	int64_t due = 0;
	ck_assert_int_eq(app_delivery_next_due(&app, ALL, &due, &last_err), OTD_OK);
	ck_assert_int_eq(due, INT64_MAX);
}
END_TEST

START_TEST(used_up_attempts_move_to_the_next_provider_then_fail)
{
	cfg.delivery.max_attempts = 2;
	start();
	int64_t id = queue("alert:1", "sms", 0, NULL, "{\"to\":\"+447700900001\"}");
	/* Provider 0 (kannel): two attempts. */
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_SMS, id);
	ck_assert_int_eq(m.attempts, 1);
	outcome(&m, 2, DELIVERY_RETRY, "kannel", NULL, "connect refused");
	int64_t wait = due_at(id) - now();
	ck_assert_int_ge(wait, 1);
	ck_assert_int_le(wait, 30);
	clock_to(due_at(id));
	m = claim_one(OTD_CHANNEL_SMS, id);
	ck_assert_int_eq(m.attempts, 2);
	ck_assert_int_eq(m.provider_index, 0);
	outcome(&m, 2, DELIVERY_RETRY, "kannel", NULL, "connect refused");
	/* Used up: the next provider, due now, with the error kept. */
	ASSERT_ROW(id, "pending 2 1 0 connect refused");
	m = claim_one(OTD_CHANNEL_SMS, id);
	ck_assert_int_eq(m.attempts, 3);
	ck_assert_int_eq(m.provider_index, 1);
	/* It starts with a full set of attempts: the first retry's bound. */
	outcome(&m, 2, DELIVERY_RETRY, "twilio", NULL, "HTTP 500");
	wait = due_at(id) - now();
	ck_assert_int_ge(wait, 1);
	ck_assert_int_le(wait, 30);
	ASSERT_LIST("SELECT state || ' ' || provider_index FROM outbox", "pending 1");
	clock_to(due_at(id));
	m = claim_one(OTD_CHANNEL_SMS, id);
	ck_assert_int_eq(m.attempts, 4);
	ck_assert_int_eq(m.provider_index, 1);
	/* The last provider used up: failed, naming it and its error. */
	outcome(&m, 2, DELIVERY_RETRY, "twilio", NULL, "HTTP 500");
	ASSERT_LIST("SELECT state || ' ' || attempts || ' ' || provider_index || ' ' || provider "
	            "|| ' ' || last_error || ' ' || (sent_at IS NULL) FROM outbox",
	            "failed 4 1 twilio HTTP 500 1");
	claim_none(ALL);
	ck_assert_int_eq(calls(), 0); /* no appointment: no call */

	/* A permanent refusal moves on at once, however many tries are left;
	 * on the last provider it is failed at once. */
	int64_t p = queue("alert:2", "email", 0, NULL, "{}");
	m = claim_one(OTD_CHANNEL_EMAIL, p);
	outcome(&m, 3, DELIVERY_PERMANENT, "smtp", NULL, "550 5.1.1 no such user");
	ASSERT_ROW(p, "pending 1 1 0 550 5.1.1 no such user");
	m = claim_one(OTD_CHANNEL_EMAIL, p);
	ck_assert_int_eq(m.provider_index, 1);
	outcome(&m, 3, DELIVERY_PERMANENT, "webhook", NULL, "HTTP 400");
	ASSERT_ROW(p, "pending 2 2 0 HTTP 400");
	m = claim_one(OTD_CHANNEL_EMAIL, p);
	ck_assert_int_eq(m.provider_index, 2);
	outcome(&m, 3, DELIVERY_PERMANENT, "webhook2", NULL, "HTTP 400");
	ASSERT_LIST("SELECT state || ' ' || provider FROM outbox WHERE id = 2", "failed webhook2");

	/* An outcome for a message no longer being sent is refused and changes
	 * nothing (the worker reporting twice). */
	int64_t q = queue("alert:3", "email", 0, NULL, "{}");
	m = claim_one(OTD_CHANNEL_EMAIL, q);
	ck_assert_int_eq(report(&m, 1, DELIVERY_SENT, "smtp", "<q@x>", NULL), OTD_OK);
	ck_assert_int_eq(report(&m, 1, DELIVERY_RETRY, "smtp", NULL, "late"), OTD_ENOTFOUND);
	ck_assert_int_eq(report(&m, 1, DELIVERY_SENT, "smtp", "<q2@x>", NULL), OTD_ENOTFOUND);
	store_outbox_msg_cleanup(&m);
	ASSERT_LIST("SELECT state || ' ' || provider_id || ' ' || coalesce(last_error, '-') FROM "
	            "outbox WHERE id = 3",
	            "sent <q@x> -");
}
END_TEST

/* delivery.h: an outcome is recorded for a claimed ('sending') message;
 * store/outbox.h: OTD_ENOTFOUND when it is not in 'sending'. A failure
 * reported late (twice, or after a retry already sent it) must not undo a
 * send the customer has, nor fall back and reach them a second time. */
START_TEST(a_late_failure_for_a_sent_message_is_refused)
{
	start();
	int64_t q = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked",
	                  "{\"alt\":{\"channel\":\"sms\",\"text\":\"x\"}}");
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_EMAIL, q);
	ck_assert_int_eq(report(&m, 1, DELIVERY_SENT, "smtp", "<q@x>", NULL), OTD_OK);
	enum otd_status st = report(&m, 1, DELIVERY_PERMANENT, "smtp", NULL, "late");
	store_outbox_msg_cleanup(&m);
	ASSERT_LIST("SELECT state || ' ' || coalesce(provider_id, '-') || ' ' || "
	            "coalesce(last_error, '-') FROM outbox ORDER BY id",
	            "sent <q@x> -");
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(st, OTD_ENOTFOUND);
}
END_TEST

/* ---- fallback ------------------------------------------------------------------ */

/* Fails message id for good (claimed alone, one provider, permanent). */
static void fail_for_good(unsigned mask, int64_t id, const char *error)
{
	struct otd_outbox_msg m = claim_one(mask, id);
	outcome(&m, 1, DELIVERY_PERMANENT, "smtp", NULL, error);
}

START_TEST(a_failed_message_puts_its_appointment_on_the_call_list_once)
{
	start();
	int64_t e = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked",
	                  "{\"to\":\"zoe@example.org\"}");
	fail_for_good(OTD_CHANNEL_EMAIL, e, "550 no such user");
	char *sql = xasprintf("SELECT kind || ' ' || appointment_id || ' ' || state || ' ' || "
	                      "(created_at = %lld) || ' ' || note FROM tasks",
	                      (long long)now());
	ASSERT_LIST(sql, "call 1 open 1 We could not reach the customer by any channel they agreed "
	                 "to (email message, last error: 550 no such user). Please call them.");
	free(sql);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 1); /* no fallback row */
	/* Another event of the same visit failing: still one call open. */
	int64_t s = queue("appt:1:v2:moved:sms", "sms", 1, "appt:1:v2:moved", "{}");
	fail_for_good(OTD_CHANNEL_SMS, s, "HTTP 400");
	ck_assert_int_eq(calls(), 1);
	/* The other appointment has its own. */
	int64_t o = queue("appt:2:v1:booked:sms", "sms", 2, "appt:2:v1:booked", "{}");
	fail_for_good(OTD_CHANNEL_SMS, o, "HTTP 400");
	ASSERT_LIST("SELECT appointment_id FROM tasks ORDER BY id", "1;2");
	/* Once the call is done, a new failure asks for another. */
	sql_exec("UPDATE tasks SET state = 'done', done_at = 1 WHERE appointment_id = 1");
	int64_t r = queue("appt:1:v3:reminder:sms", "sms", 1, "appt:1:v3:reminder", "{}");
	fail_for_good(OTD_CHANNEL_SMS, r, "HTTP 400");
	ASSERT_LIST("SELECT appointment_id || ' ' || state FROM tasks ORDER BY id",
	            "1 done;2 open;1 open");
	/* A message without an appointment (a dispatcher alert) calls nobody. */
	int64_t a = queue("alert:1", "webhook", 0, NULL, "{}");
	fail_for_good(OTD_CHANNEL_WEBHOOK, a, "HTTP 500");
	ck_assert_int_eq(calls(), 3);
	/* Without an event key, no siblings to consult: the call. */
	sql_exec("UPDATE tasks SET state = 'done', done_at = 1");
	int64_t k = queue("appt:2:nokey", "email", 2, NULL, "{}");
	fail_for_good(OTD_CHANNEL_EMAIL, k, "550");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tasks WHERE state = 'open' AND "
	                         "appointment_id = 2"),
	                 1);
}
END_TEST

START_TEST(no_call_when_another_message_of_the_event_reached_them)
{
	start();
	/* The email went; the SMS of the same event failing changes nothing. */
	int64_t e = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked", "{}");
	int64_t s = queue("appt:1:v1:booked:sms", "sms", 1, "appt:1:v1:booked",
	                  "{\"alt\":{\"channel\":\"email\",\"to\":\"zoe@example.org\"}}");
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_EMAIL, e);
	outcome(&m, 1, DELIVERY_SENT, "smtp", "<e@x>", NULL);
	fail_for_good(OTD_CHANNEL_SMS, s, "HTTP 400");
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2); /* no alt row either */

	/* A sibling still on its way (pending) counts as reaching them. */
	int64_t e2 = queue("appt:1:v2:moved:email", "email", 1, "appt:1:v2:moved", "{}");
	int64_t s2 = queue("appt:1:v2:moved:sms", "sms", 1, "appt:1:v2:moved", "{}");
	fail_for_good(OTD_CHANNEL_SMS, s2, "HTTP 400");
	ck_assert_int_eq(calls(), 0);
	/* ... until it fails too: then the call. */
	fail_for_good(OTD_CHANNEL_EMAIL, e2, "550");
	ck_assert_int_eq(calls(), 1);
	ASSERT_LIST("SELECT note FROM tasks",
	            "We could not reach the customer by any channel they agreed to (email "
	            "message, last error: 550). Please call them.");
}
END_TEST

START_TEST(a_failed_message_falls_back_to_its_alt_rendering_once)
{
	start();
	const char *payload =
	    "{\"to\":\"zoe@example.org\",\"subject\":\"Booked\",\"template\":\"booking_"
	    "confirmation\",\"alt\":{\"channel\":\"sms\",\"to\":\"+447700900001\",\"text\":"
	    "\"Booked: "
	    "Tue 3 Mar 10:00-12:00\"}}";
	int64_t e = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked", payload);
	clock_to(now() + 5);
	fail_for_good(OTD_CHANNEL_EMAIL, e, "550 no such user");
	/* A new row on the other channel, due now, in the same event. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);
	char *sql = xasprintf(
	    "SELECT idem_key || '|' || appointment_id || '|' || customer_id || '|' || channel || "
	    "'|' || template || '|' || payload || '|' || state || '|' || (due_at - %lld) || '|' "
	    "|| event_key || '|' || fallback_of || '|' || provider_index || '|' || attempts FROM "
	    "outbox WHERE id = 2",
	    (long long)now());
	ASSERT_LIST(sql, "appt:1:v1:booked:email:fallback|1|1|sms|booking_confirmation|"
	                 "{\"text\":\"Booked: Tue 3 Mar 10:00-12:00\",\"to\":\"+447700900001\"}|"
	                 "pending|0|appt:1:v1:booked|1|0|0");
	free(sql);
	ck_assert_int_eq(calls(), 0);
	/* It is claimed like any message; sent, nothing more happens. */
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_SMS, 2);
	ck_assert_str_eq(m.payload,
	                 "{\"text\":\"Booked: Tue 3 Mar 10:00-12:00\",\"to\":\"+447700900001\"}");
	outcome(&m, 1, DELIVERY_SENT, "kannel", NULL, NULL);
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);

	/* A fallback that fails does not fall back again: the call list. */
	int64_t e3 = queue("appt:2:v1:booked:email", "email", 2, "appt:2:v1:booked",
	                   "{\"alt\":{\"channel\":\"sms\",\"to\":\"+447700900001\",\"text\":\"x\"},"
	                   "\"template\":7}");
	fail_for_good(OTD_CHANNEL_EMAIL, e3, "550");
	ASSERT_LIST("SELECT template || ' ' || fallback_of FROM outbox WHERE id = 4",
	            "fallback 3"); /* no template named: "fallback" */
	fail_for_good(OTD_CHANNEL_SMS, 4, "HTTP 400");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 4);
	ASSERT_LIST("SELECT appointment_id || ' ' || note FROM tasks",
	            "2 We could not reach the customer by any channel they agreed to (sms "
	            "message, last error: HTTP 400). Please call them.");

	/* An alt without a channel, or a payload that is not JSON: the call. */
	int64_t n1 =
	    queue("appt:1:v5:x:email", "email", 1, "appt:1:v5:x", "{\"alt\":{\"to\":\"y\"}}");
	fail_for_good(OTD_CHANNEL_EMAIL, n1, "550");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 5);
	ck_assert_int_eq(calls(), 2);
	sql_exec("UPDATE tasks SET state = 'done', done_at = 1");
	int64_t n2 = queue("appt:1:v6:x:email", "email", 1, "appt:1:v6:x", "not json");
	fail_for_good(OTD_CHANNEL_EMAIL, n2, "550");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 6);
	ck_assert_int_eq(calls(), 3);

	/* Without an appointment, the alt still goes (an alert's other route). */
	int64_t w = queue("alert:9", "email", 0, "alert:9", "{\"alt\":{\"channel\":\"webhook\"}}");
	fail_for_good(OTD_CHANNEL_EMAIL, w, "550");
	ASSERT_LIST("SELECT idem_key || ' ' || channel || ' ' || payload || ' ' || "
	            "coalesce(appointment_id, '-') FROM outbox WHERE fallback_of = 7",
	            "alert:9:fallback webhook {} -");
}
END_TEST

/* ---- receipts -------------------------------------------------------------------- */

static enum otd_status receipt(int64_t id, const char *provider, const char *status)
{
	otd_error_clear(&last_err);
	return app_delivery_receipt(&app, id, provider, status, "{\"gw\":1}", &last_err);
}

START_TEST(a_failed_receipt_after_sending_falls_back)
{
	start();
	int64_t s = queue("appt:1:v1:booked:sms", "sms", 1, "appt:1:v1:booked",
	                  "{\"to\":\"+447700900001\"}");
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_SMS, s);
	outcome(&m, 1, DELIVERY_SENT, "kannel", "k-1", NULL);
	/* Accepted, then delivered: recorded, nothing else changes. */
	ck_assert_int_eq(receipt(s, "kannel", "accepted"), OTD_OK);
	ck_assert_int_eq(receipt(s, "kannel", "delivered"), OTD_OK);
	ASSERT_LIST("SELECT state FROM outbox", "sent");
	ASSERT_LIST("SELECT outbox_id || ' ' || provider || ' ' || status || ' ' || detail FROM "
	            "delivery_receipts ORDER BY id",
	            "1 kannel accepted {\"gw\":1};1 kannel delivered {\"gw\":1}");
	ck_assert_int_eq(calls(), 0);
	/* Then the network says it failed: failed, and the call list. */
	ck_assert_int_eq(receipt(s, "kannel", "failed"), OTD_OK);
	ASSERT_LIST("SELECT state || ' ' || (sent_at IS NULL) || ' ' || last_error FROM outbox",
	            "failed 1 kannel reported the message undelivered");
	ASSERT_LIST("SELECT appointment_id || ' ' || note FROM tasks",
	            "1 We could not reach the customer by any channel they agreed to (sms "
	            "message, last error: kannel reported the message undelivered). Please call "
	            "them.");
	/* A second failure report: recorded, nothing more. */
	sql_exec("UPDATE tasks SET state = 'done', done_at = 1");
	ck_assert_int_eq(receipt(s, "kannel", "failed"), OTD_OK);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM delivery_receipts"), 4);

	/* Unknown ids are not found, and nothing is recorded. */
	ck_assert_int_eq(receipt(99, "kannel", "failed"), OTD_ENOTFOUND);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM delivery_receipts"), 4);

	/* A failure report for a message not yet sent changes nothing. */
	int64_t p = queue("appt:2:v1:booked:sms", "sms", 2, "appt:2:v1:booked", "{}");
	ck_assert_int_eq(receipt(p, "kannel", "failed"), OTD_OK);
	ASSERT_LIST("SELECT state FROM outbox WHERE id = 2", "pending");
	ck_assert_int_eq(calls(), 1);
}
END_TEST

START_TEST(receipts_by_the_providers_id_and_the_alt_fallback)
{
	start();
	int64_t s = queue("appt:1:v1:booked:sms", "sms", 1, "appt:1:v1:booked",
	                  "{\"to\":\"+447700900001\",\"alt\":{\"channel\":\"email\","
	                  "\"to\":\"zoe@example.org\",\"subject\":\"Booked\"}}");
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_SMS, s);
	outcome(&m, 1, DELIVERY_SENT, "twilio", "SM42", NULL);
	otd_error_clear(&last_err);
	ck_assert_int_eq(app_delivery_receipt_by_provider_id(&app, "twilio", "SM42", "delivered",
	                                                     "{}", &last_err),
	                 OTD_OK);
	ck_assert_int_eq(
	    app_delivery_receipt_by_provider_id(&app, "twilio", "SM43", "failed", "{}", &last_err),
	    OTD_ENOTFOUND);
	ck_assert_int_eq(
	    app_delivery_receipt_by_provider_id(&app, "kannel", "SM42", "failed", "{}", &last_err),
	    OTD_ENOTFOUND);
	ASSERT_LIST("SELECT outbox_id || ' ' || status FROM delivery_receipts", "1 delivered");
	/* The failure: the email rendering goes out instead; no call. */
	ck_assert_int_eq(app_delivery_receipt_by_provider_id(&app, "twilio", "SM42", "failed",
	                                                     "{\"ErrorCode\":30005}", &last_err),
	                 OTD_OK);
	ASSERT_LIST("SELECT id || ' ' || state || ' ' || channel || ' ' || coalesce(fallback_of, "
	            "'-') || ' ' || idem_key || ' ' || payload FROM outbox ORDER BY id",
	            "1 failed sms - appt:1:v1:booked:sms {\"to\":\"+447700900001\",\"alt\":{"
	            "\"channel\":\"email\",\"to\":\"zoe@example.org\",\"subject\":\"Booked\"}};"
	            "2 pending email 1 appt:1:v1:booked:sms:fallback "
	            "{\"subject\":\"Booked\",\"to\":\"zoe@example.org\"}");
	ck_assert_int_eq(calls(), 0);
	/* Were the message counted as sent again and reported failed again
	 * (its fallback failed meanwhile): no second fallback, and no error. */
	sql_exec("UPDATE outbox SET state = 'failed' WHERE id = 2;"
	         "UPDATE outbox SET state = 'sent', sent_at = 1 WHERE id = 1");
	ck_assert_int_eq(
	    app_delivery_receipt_by_provider_id(&app, "twilio", "SM42", "failed", "{}", &last_err),
	    OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);
	ck_assert_int_eq(calls(), 0);
}
END_TEST

/* ---- recovery ------------------------------------------------------------------- */

START_TEST(recover_counts_uncertain_sends_and_resends_them)
{
	start();
	int64_t e = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked", "{}");
	int64_t s = queue("appt:1:v1:booked:sms", "sms", 1, "appt:1:v1:booked", "{}");
	int64_t s2 = queue("appt:2:v1:booked:sms", "sms", 2, "appt:2:v1:booked", "{}");
	int64_t n = -1;
	ck_assert_int_eq(app_delivery_recover(&app, &n, &last_err), OTD_OK);
	ck_assert_int_eq(n, 0);
	struct otd_outbox_msg m[32];
	int k = 0;
	claim_all(ALL, m, &k);
	ck_assert_int_eq(k, 3);
	for(int i = 0; i < k; i++)
		store_outbox_msg_cleanup(&m[i]);
	/* The process dies here; the next one starts 10 s later. */
	clock_to(now() + 10);
	int64_t t = now();
	ck_assert_int_eq(app_delivery_recover(&app, &n, &last_err), OTD_OK);
	ck_assert_int_eq(n, 3);
	ASSERT_LIST("SELECT state || ' ' || (due_at - uncertain_at) || ' ' || (claimed_at IS NULL) "
	            "FROM outbox ORDER BY id",
	            "uncertain 0 1;uncertain 60 1;uncertain 60 1");
	/* A delivery report for one SMS arrives within the grace. */
	ck_assert_int_eq(receipt(s2, "kannel", "delivered"), OTD_OK);
	/* Email goes again at once, marked uncertain for the Message-ID. */
	struct otd_outbox_msg one = claim_one(ALL, e);
	ck_assert(one.uncertain);
	ck_assert_int_eq(one.attempts, 2);
	outcome(&one, 1, DELIVERY_SENT, "smtp", "<e@x>", NULL);
	/* The grace over: the reported SMS is sent, the other goes again. */
	clock_to(t + 60);
	one = claim_one(ALL, s);
	ck_assert(one.uncertain);
	outcome(&one, 1, DELIVERY_RETRY, "kannel", NULL, "HTTP 503");
	ASSERT_LIST("SELECT state FROM outbox ORDER BY id", "sent;uncertain;sent");
	/* Counted for /metrics: three sends were cut off, whatever came of them. */
	struct otd_outbox_counts c = counts();
	ck_assert_int_eq(c.uncertain_total, 3);
	ck_assert_int_eq(c.sent, 2);
	ck_assert_int_eq(c.failed, 0);
	/* A later restart with nothing in flight adds nothing. */
	ck_assert_int_eq(app_delivery_recover(&app, &n, &last_err), OTD_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* ---- what is kept -------------------------------------------------------------- */

START_TEST(a_sent_message_keeps_no_link_secret)
{
	start();
	const char *tok = "AbCdEfGhIjKlMnOpQrStUv";
	char *payload = xasprintf("{\"link\":\"https://v.example.org/a/%s\",\"text\":\"See "
	                          "https://v.example.org/a/%s or reply.\"}",
	                          tok, tok);
	int64_t id = queue("appt:1:v1:booked:email", "email", 1, "appt:1:v1:booked", payload);
	/* Sent: the secret is gone everywhere; before, the worker had it. */
	struct otd_outbox_msg m = claim_one(OTD_CHANNEL_EMAIL, id);
	ck_assert_ptr_nonnull(strstr(m.payload, tok));
	outcome(&m, 1, DELIVERY_SENT, "smtp", "<1@x>", NULL);
	ASSERT_LIST("SELECT payload FROM outbox",
	            "{\"link\":\"https://v.example.org/a/REDACTED\",\"text\":\"See "
	            "https://v.example.org/a/REDACTED or reply.\"}");
	/* A retry keeps it (the next attempt needs it). */
	int64_t r = queue("appt:2:v1:booked:email", "email", 2, "appt:2:v1:booked", payload);
	m = claim_one(OTD_CHANNEL_EMAIL, r);
	outcome(&m, 1, DELIVERY_RETRY, "smtp", NULL, "421");
	ASSERT_LIST("SELECT count(*) FROM outbox WHERE payload LIKE '%AbCdEfGhIjKlMnOpQrStUv%'",
	            "1");
	/* Something too short for a link secret is not taken for one. */
	const char *other = "{\"link\":\"https://v.example.org/a/short\",\"text\":\"short\"}";
	int64_t o = queue("appt:1:v9:x:email", "email", 1, "appt:1:v9:x", other);
	m = claim_one(OTD_CHANNEL_EMAIL, o);
	outcome(&m, 1, DELIVERY_SENT, "smtp", "<2@x>", NULL);
	char *sql = xasprintf("SELECT payload FROM outbox WHERE id = %lld", (long long)o);
	ASSERT_LIST(sql, other);
	free(sql);
	free(payload);
	/* The URL key the callbacks are signed with is the database's. */
	unsigned char key[32];
	ck_assert_int_eq(app_url_key(&app, key, &last_err), OTD_OK);
	char hex[65];
	for(int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02X", key[i]);
	char *want = sql_list("SELECT hex(key) FROM server_keys WHERE name = 'url'");
	ck_assert_str_eq(hex, want);
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("delivery_app");
	TCase *tc = tcase_create("delivery_app");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, retries_wait_within_full_jitter_bounds);
	tcase_add_test(tc, used_up_attempts_move_to_the_next_provider_then_fail);
	tcase_add_test(tc, a_late_failure_for_a_sent_message_is_refused);
	tcase_add_test(tc, a_failed_message_puts_its_appointment_on_the_call_list_once);
	tcase_add_test(tc, no_call_when_another_message_of_the_event_reached_them);
	tcase_add_test(tc, a_failed_message_falls_back_to_its_alt_rendering_once);
	tcase_add_test(tc, a_failed_receipt_after_sending_falls_back);
	tcase_add_test(tc, receipts_by_the_providers_id_and_the_alt_fallback);
	tcase_add_test(tc, recover_counts_uncertain_sends_and_resends_them);
	tcase_add_test(tc, a_sent_message_keeps_no_link_secret);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
