/* Unit tests: store/board.c on a real migrated database: the board's rows
 * (every visitor or one, route order, cancelled visits left out, the
 * customer, address and visit type, "warned" from the messages sent, the
 * open guarantee case), the head figures (booked, kept in the window,
 * warned, open cases), an appointment's message log with its latest
 * receipt, the dispatcher's inbox (open tasks and unhandled texts only,
 * oldest first) and closing an item once. Reference rows are written with
 * sqlite3 directly, as the schema allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/board.h"
#include "store/store.h"
#include "testutil.h"

#define DAY "2026-03-03"

static char *db_path;
static struct otd_store *store;
static struct otd_error last_err;

static void setup(void)
{
	db_path = testutil_migrated_db("store-board");
	struct otd_store_options o = {.path = db_path,
	                              .read_connections = 2,
	                              .writer_queue = 16,
	                              .writer_wait_ms = 5000,
	                              .busy_timeout_ms = 5000,
	                              .group_commit_max = 4};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_open(&o, &store, &err), OTD_OK);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	free(db_path);
}

static void sql_exec(const char *sql)
{
	testutil_sql_exec(db_path, sql);
}

/* Ann (visitor 1) has three visits on DAY: OTD-AAA202 first (09:00-10:00,
 * kept: arrived 09:10), OTD-AAA201 second (11:00-13:00, warned, an open
 * case) and OTD-AAA203 cancelled; Bob (visitor 2) has OTD-AAA205. */
static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "120, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('Ann Lee', 'Gas engineer', 52.0, -1.0, 1, 1), ('Bob Ray', 'Gas engineer', "
	    "52.1, -1.1, 1, 1);"
	    "INSERT INTO addresses(line1, line2, town, postcode, postcode_norm, match_key, lat, "
	    "lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'Flat 2', 'Wrenfield', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, "
	    "-1.5, 1, 1),"
	    "('2 Mill Lane', '', '', 'AB1 9ZZ', 'AB19ZZ', '2 mill lane|AB19ZZ', 52.3, -1.6, 1, 1);"
	    "INSERT INTO customers(name, phone, access_notes, created_at) VALUES "
	    "('Zoë', '+447700900001', 'Side gate', 1);"
	    "INSERT INTO customers(name, email, created_at) VALUES ('Yan', 'yan@example.org', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, route_position, created_at, "
	    "updated_at) VALUES "
	    "('OTD-AAA201', 1, 1, 1, 1, '" DAY "', 1772535600, 1772542800, 2048, 500, 500),"
	    "('OTD-AAA202', 2, 2, 1, 1, '" DAY "', 1772528400, 1772532000, 1024, 500, 500),"
	    "('OTD-AAA203', 1, 1, 1, 1, '" DAY "', 1772546400, 1772553600, 4096, 500, 500),"
	    "('OTD-AAA205', 2, 2, 1, 2, '" DAY "', 1772524800, 1772532000, 1024, 500, 500);"
	    "UPDATE appointments SET status = 'cancelled', cancelled_at = 600, cancelled_by = "
	    "'customer' WHERE id = 3;"
	    "UPDATE appointments SET status = 'arrived', arrived_at = 1772529000 WHERE id = 2;"
	    "INSERT INTO outbox(idem_key, appointment_id, customer_id, channel, template, payload, "
	    "state, attempts, due_at, created_at) VALUES "
	    "('k1', 1, 1, 'sms', 'booking_confirmation', '{}', 'pending', 0, 10, 10),"
	    "('k2', 1, 1, 'sms', 'apology', '{}', 'failed', 3, 20, 20);"
	    "UPDATE outbox SET event_key = 'appt:1:v1:late' WHERE id = 2;"
	    "INSERT INTO outbox(idem_key, appointment_id, customer_id, channel, template, payload, "
	    "state, attempts, due_at, created_at, sent_at, provider, last_error, event_key) VALUES "
	    "('k3', 1, 1, 'email', 'apology', '{}', 'sent', 1, 20, 21, 25, 'smtp', 'first try "
	    "timed out', 'appt:1:v1:late');"
	    "INSERT INTO delivery_receipts(outbox_id, received_at, provider, status) VALUES "
	    "(3, 30, 'smtp', 'queued'), (3, 40, 'smtp', 'delivered');"
	    "INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
	    "rule_version, amount_minor, currency, breached_at, deadline_at, created_at) VALUES "
	    "(1, 1, 'window_missed', 'gb-energy', '2024', 4000, 'GBP', 100, 200, 100);");
}

static enum otd_status read_job(store_read_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_read(store, fn, arg, &last_err);
}

static enum otd_status write_job(store_write_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_write(store, fn, arg, &last_err);
}

struct rows_job {
	int64_t visitor;
	struct otd_board_row *rows;
	size_t n;
	struct otd_board_counts counts;
};

static enum otd_status rows_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct rows_job *j = arg;
	enum otd_status st = store_board_rows(c, DAY, j->visitor, &j->rows, &j->n, err);
	if(st == OTD_OK)
		st = store_board_counts(c, DAY, &j->counts, err);
	return st;
}

START_TEST(board_rows_by_visitor_in_route_order)
{
	seed();
	struct rows_job j = {0};
	ck_assert_int_eq(read_job(rows_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 3); /* the cancelled one left out */
	ck_assert_str_eq(j.rows[0].reference, "OTD-AAA202");
	ck_assert_str_eq(j.rows[1].reference, "OTD-AAA201");
	ck_assert_str_eq(j.rows[2].reference, "OTD-AAA205");
	const struct otd_board_row *a = &j.rows[1];
	ck_assert_int_eq(a->visitor_id, 1);
	ck_assert_str_eq(a->customer_name, "Zoë");
	ck_assert_str_eq(a->phone, "+447700900001");
	ck_assert_str_eq(a->access_notes, "Side gate");
	ck_assert_str_eq(a->line1, "1 High St");
	ck_assert_str_eq(a->line2, "Flat 2");
	ck_assert_str_eq(a->town, "Wrenfield");
	ck_assert_str_eq(a->postcode, "AB1 2CD");
	ck_assert_str_eq(a->visit_type, "Boiler repair");
	ck_assert_str_eq(a->risk.risk, "ok");
	ck_assert(a->warned);
	ck_assert_int_eq(a->case_id, 1);
	ck_assert_int_eq(a->case_amount, 4000);
	const struct otd_board_row *b = &j.rows[0];
	ck_assert_str_eq(b->phone, ""); /* no phone: an email customer */
	ck_assert(!b->warned);
	ck_assert_int_eq(b->case_id, 0);
	ck_assert_str_eq(b->status, "arrived");
	ck_assert_int_eq(b->arrived_at, 1772529000);
	ck_assert_int_eq(j.counts.booked, 3);
	ck_assert_int_eq(j.counts.kept, 1);
	ck_assert_int_eq(j.counts.warned, 1);
	store_board_rows_free(j.rows, j.n);

	/* A warning about an earlier promise, or one that failed, told nothing
	 * about this one. */
	sql_exec("UPDATE appointments SET promise_version = 2 WHERE id = 1;");
	j = (struct rows_job){0};
	ck_assert_int_eq(read_job(rows_fn, &j), OTD_OK);
	ck_assert(!j.rows[1].warned);
	ck_assert_int_eq(j.counts.warned, 0);
	ck_assert_int_eq(j.counts.open_cases, 1);
	store_board_rows_free(j.rows, j.n);

	struct rows_job bob = {.visitor = 2};
	ck_assert_int_eq(read_job(rows_fn, &bob), OTD_OK);
	ck_assert_uint_eq(bob.n, 1);
	ck_assert_str_eq(bob.rows[0].reference, "OTD-AAA205");
	store_board_rows_free(bob.rows, bob.n);
}
END_TEST

struct messages_job {
	struct otd_message_row *rows;
	size_t n;
};

static enum otd_status messages_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct messages_job *j = arg;
	return store_appointment_messages(c, 1, &j->rows, &j->n, err);
}

START_TEST(a_message_log_has_the_latest_receipt)
{
	seed();
	struct messages_job j = {0};
	ck_assert_int_eq(read_job(messages_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 3);
	ck_assert_str_eq(j.rows[0].template_name, "booking_confirmation");
	ck_assert_str_eq(j.rows[0].receipt_status, "");
	ck_assert_int_eq(j.rows[0].sent_at, 0);
	ck_assert_str_eq(j.rows[1].state, "failed");
	ck_assert_int_eq(j.rows[1].attempts, 3);
	ck_assert_str_eq(j.rows[2].channel, "email");
	ck_assert_str_eq(j.rows[2].provider, "smtp");
	ck_assert_str_eq(j.rows[2].last_error, "first try timed out");
	ck_assert_str_eq(j.rows[2].receipt_status, "delivered");
	ck_assert_int_eq(j.rows[2].receipt_at, 40);
	store_message_rows_free(j.rows, j.n);
}
END_TEST

struct inbox_job {
	struct otd_inbox_item *items;
	size_t n;
	bool message;
	int64_t id;
};

static enum otd_status inbox_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct inbox_job *j = arg;
	return store_inbox(c, 10, &j->items, &j->n, err);
}

static enum otd_status done_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct inbox_job *j = arg;
	return store_inbox_done(tx, j->message, j->id, 99, err);
}

START_TEST(the_inbox_lists_open_work_and_closes_it_once)
{
	seed();
	sql_exec(
	    "INSERT INTO tasks(kind, appointment_id, note, created_at) VALUES "
	    "('call', 1, 'No answer to the apology', 50), ('rebook', 2, '', 40);"
	    "INSERT INTO tasks(kind, appointment_id, created_at, state, done_at) VALUES "
	    "('call', 1, 30, 'done', 31);"
	    "INSERT INTO inbound_messages(provider, sender, body, customer_id, appointment_id, "
	    "outcome, received_at) VALUES "
	    "('kannel', '+447700900001', 'Can you come later?', 1, 1, 'inbox', 60),"
	    "('kannel', '+447700900001', '1', 1, 1, 'kept', 61),"
	    "('web', '+447700900999', 'Flat 3, The Old Mill', NULL, NULL, 'inbox', 55);");
	struct inbox_job j = {0};
	ck_assert_int_eq(read_job(inbox_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 4);
	ck_assert_str_eq(j.items[0].kind, "rebook"); /* tasks, oldest first */
	ck_assert_str_eq(j.items[1].kind, "call");
	ck_assert_str_eq(j.items[1].text, "No answer to the apology");
	ck_assert_str_eq(j.items[1].reference, "OTD-AAA201");
	ck_assert_str_eq(j.items[1].customer_name, "Zoë");
	ck_assert_str_eq(j.items[2].kind, "message"); /* then texts, oldest first */
	ck_assert_str_eq(j.items[2].text, "Flat 3, The Old Mill");
	ck_assert_str_eq(j.items[2].reference, "");
	ck_assert_str_eq(j.items[2].customer_name, "");
	ck_assert_str_eq(j.items[3].text, "Can you come later?");
	ck_assert_str_eq(j.items[3].outcome, "inbox");
	ck_assert_str_eq(j.items[3].phone, "+447700900001");
	int64_t task = j.items[1].id, message = j.items[3].id;
	store_inbox_free(j.items, j.n);

	struct inbox_job d = {.message = true, .id = message};
	ck_assert_int_eq(write_job(done_fn, &d), OTD_OK);
	ck_assert_int_eq(write_job(done_fn, &d), OTD_ENOTFOUND);
	d = (struct inbox_job){.message = false, .id = task};
	ck_assert_int_eq(write_job(done_fn, &d), OTD_OK);
	ck_assert_int_eq(write_job(done_fn, &d), OTD_ENOTFOUND);
	d = (struct inbox_job){.message = true, .id = 2}; /* "kept": never in the inbox */
	ck_assert_int_eq(write_job(done_fn, &d), OTD_ENOTFOUND);
	struct inbox_job after = {0};
	ck_assert_int_eq(read_job(inbox_fn, &after), OTD_OK);
	ck_assert_uint_eq(after.n, 2);
	store_inbox_free(after.items, after.n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_board");
	TCase *tc = tcase_create("store_board");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, board_rows_by_visitor_in_route_order);
	tcase_add_test(tc, a_message_log_has_the_latest_receipt);
	tcase_add_test(tc, the_inbox_lists_open_work_and_closes_it_once);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
