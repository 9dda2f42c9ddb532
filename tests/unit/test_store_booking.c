/* Unit tests: store/booking.c through the store's writer and read pool:
 * contacts found by their phone and email pair, appointments (insert, get,
 * by reference, move, cancel, the open one of a contact), the dispatcher's
 * search and its filters, a visitor's route items in route order and the
 * order written back, holds (live, expired, offers, per client, expiry
 * handing a lapsed waitlist offer back), customer links (live, expired,
 * revoked, expiry moved), the outbox's one-row-per-key rule and the
 * waitlist's states. Reference rows (visitors, visit types, addresses) are
 * written with sqlite3 directly, as the schema allows. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/booking.h"
#include "store/store.h"
#include "testutil.h"

static char *db_path;
static struct otd_store *store;
static struct otd_error last_err;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/store-booking-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = {.path = db_path,
	                              .read_connections = 2,
	                              .writer_queue = 16,
	                              .writer_wait_ms = 5000,
	                              .busy_timeout_ms = 5000,
	                              .group_commit_max = 4};
	ck_assert_int_eq(store_open(&o, &store, &err), OTD_OK);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	free(db_path);
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

/* Every row of a one-column query, joined with ";". */
static const char *sql_list(const char *sql)
{
	static char out[4096];
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	size_t off = 0;
	out[0] = '\0';
	while(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? ";" : "",
		                        t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Two visitors, one visit type, three addresses. */
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
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, "
	    "updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, -1.5, 1, 1),"
	    "('2 Mill Lane', 'AB1 9ZZ', 'AB19ZZ', '2 mill lane|AB19ZZ', 52.3, -1.6, 1, 1),"
	    "('3 Kiln Row', 'XY9 8WV', 'XY98WV', '3 kiln row|XY98WV', 52.4, -1.7, 1, 1);");
}

static void hash_of(int k, unsigned char out[32])
{
	for(int i = 0; i < 32; i++)
		out[i] = (unsigned char)(k * 31 + i);
}

/* ---- jobs ----------------------------------------------------------------- */

static enum otd_status write_job(store_write_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_write(store, fn, arg, &last_err);
}

static enum otd_status read_job(store_read_fn fn, void *arg)
{
	otd_error_clear(&last_err);
	return store_read(store, fn, arg, &last_err);
}

struct cust_job {
	struct otd_customer c;
	int64_t now;
};

static enum otd_status upsert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct cust_job *j = arg;
	return store_customer_upsert(tx, &j->c, j->now, err);
}

static enum otd_status cust_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct cust_job *j = arg;
	return store_customer_get(c, j->c.id, &j->c, err);
}

static int64_t upsert(const char *name, const char *phone, const char *email, const char *notes)
{
	struct cust_job j = {.now = 1000};
	j.c.name = (char *)name;
	j.c.access_notes = (char *)notes;
	snprintf(j.c.phone, sizeof(j.c.phone), "%s", phone);
	snprintf(j.c.email, sizeof(j.c.email), "%s", email);
	ck_assert_int_eq(write_job(upsert_fn, &j), OTD_OK);
	ck_assert_int_gt(j.c.id, 0);
	return j.c.id;
}

/* The stored contact id as "name|phone|email|notes". */
static const char *customer(int64_t id)
{
	static char out[600];
	struct cust_job j = {.c = {.id = id}};
	enum otd_status st = read_job(cust_get_fn, &j);
	if(st) {
		snprintf(out, sizeof(out), "status %d %s", st, last_err.code);
		return out;
	}
	ck_assert_int_eq(j.c.id, id);
	snprintf(out, sizeof(out), "%s|%s|%s|%s", j.c.name, j.c.phone, j.c.email, j.c.access_notes);
	otd_customer_cleanup(&j.c);
	return out;
}

struct appt_job {
	struct otd_appointment a;
	int64_t now;
	const char *reference;
	/* move / cancel */
	int64_t id, visitor;
	const char *date;
	int64_t start, end;
	int version;
	const char *by, *reason;
	int64_t notice;
	/* open_for */
	int64_t customer, type;
};

static enum otd_status appt_insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct appt_job *j = arg;
	return store_appointment_insert(tx, &j->a, j->now, err);
}

static enum otd_status appt_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct appt_job *j = arg;
	return j->reference ? store_appointment_by_reference(c, j->reference, &j->a, err)
	                    : store_appointment_get(c, j->id, &j->a, err);
}

static enum otd_status appt_move_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct appt_job *j = arg;
	return store_appointment_move(tx, j->id, j->visitor, j->date, j->start, j->end, j->version,
	                              j->now, err);
}

static enum otd_status appt_cancel_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct appt_job *j = arg;
	return store_appointment_cancel(tx, j->id, j->by, j->reason, j->notice, j->now, err);
}

static enum otd_status appt_open_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct appt_job *j = arg;
	return store_appointment_open_for(c, j->customer, j->type, j->now, &j->a, err);
}

static int64_t insert_appt(const char *ref, int64_t customer, int64_t address, int64_t visitor,
                           const char *date, int64_t start, int64_t end)
{
	struct appt_job j = {.now = 1000};
	snprintf(j.a.reference, sizeof(j.a.reference), "%s", ref);
	j.a.customer_id = customer;
	j.a.address_id = address;
	j.a.visit_type_id = 1;
	j.a.visitor_id = visitor;
	snprintf(j.a.local_date, sizeof(j.a.local_date), "%s", date);
	j.a.window_start = start;
	j.a.window_end = end;
	j.a.consent_sms = true;
	ck_assert_int_eq(write_job(appt_insert_fn, &j), OTD_OK);
	ck_assert_int_gt(j.a.id, 0);
	return j.a.id;
}

static struct otd_appointment get_appt(int64_t id)
{
	struct appt_job j = {.id = id};
	ck_assert_int_eq(read_job(appt_get_fn, &j), OTD_OK);
	return j.a;
}

/* ---- customers ------------------------------------------------------------ */

START_TEST(contacts_are_found_by_their_phone_and_email_pair)
{
	/* Both given: a new contact, then the same pair finds it again and
	 * updates its name and access notes. */
	int64_t zoe = upsert("Zoë O'Brien-Nguyễn", "+447700900001", "zoe@example.org", "Side gate");
	ck_assert_int_eq(zoe, 1);
	ck_assert_int_eq(upsert("Zoë O'Brien", "+447700900001", "zoe@example.org", "Ring twice"),
	                 zoe);
	ck_assert_str_eq(customer(zoe), "Zoë O'Brien|+447700900001|zoe@example.org|Ring twice");
	ck_assert_int_eq(sql_int("SELECT created_at FROM customers WHERE id = 1"), 1000);

	/* By phone alone, then by email alone: each found again the same way. */
	int64_t by_phone = upsert("Łukasz", "+447700900002", "", "");
	ck_assert_int_eq(by_phone, 2);
	ck_assert_int_eq(upsert("Łukasz Nowak", "+447700900002", "", "Dog"), by_phone);
	ck_assert_str_eq(customer(by_phone), "Łukasz Nowak|+447700900002||Dog");
	int64_t by_email = upsert("Cy", "", "cy@example.org", "");
	ck_assert_int_eq(by_email, 3);
	ck_assert_int_eq(upsert("Cy Twain", "", "cy@example.org", ""), by_email);
	ck_assert_str_eq(customer(by_email), "Cy Twain||cy@example.org|");
	ck_assert_str_eq(
	    sql_list("SELECT id || ' ' || coalesce(phone, 'NULL') || ' ' || "
	             "coalesce(email, 'NULL') FROM customers ORDER BY id"),
	    "1 +447700900001 zoe@example.org;2 +447700900002 NULL;3 NULL cy@example.org");

	/* One of the pair differs: another contact; the stored one keeps its
	 * phone and email (a booking never redirects someone else's link). */
	ck_assert_int_eq(upsert("Mallory", "+447700900001", "mallory@example.org", ""), 4);
	ck_assert_int_eq(upsert("Mallory", "+447700900001", "", ""), 5);
	ck_assert_int_eq(upsert("Mallory", "", "zoe@example.org", ""), 6);
	ck_assert_str_eq(customer(zoe), "Zoë O'Brien|+447700900001|zoe@example.org|Ring twice");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM customers"), 6);

	/* An erased contact is never found again. */
	sql_exec("UPDATE customers SET erased_at = 5, phone = NULL, email = NULL, name = '' WHERE "
	         "id = 2");
	ck_assert_int_eq(upsert("Łukasz", "+447700900002", "", ""), 7);

	ck_assert_str_eq(customer(99), "status 4 not_found");
}
END_TEST

/* ---- appointments ---------------------------------------------------------- */

START_TEST(appointments_insert_get_move_and_cancel)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t id =
	    insert_appt("OTD-ABC234", cu, 1, 1, "2026-03-04", 1772618400, 1772625600); /* 10-12Z */
	ck_assert_int_eq(id, 1);
	struct otd_appointment a = get_appt(id);
	ck_assert_str_eq(a.reference, "OTD-ABC234");
	ck_assert_int_eq(a.customer_id, cu);
	ck_assert_int_eq(a.address_id, 1);
	ck_assert_int_eq(a.visit_type_id, 1);
	ck_assert_int_eq(a.visitor_id, 1);
	ck_assert_str_eq(a.local_date, "2026-03-04");
	ck_assert_int_eq(a.window_start, 1772618400);
	ck_assert_int_eq(a.window_end, 1772625600);
	ck_assert_int_eq(a.promise_version, 1);
	ck_assert_str_eq(a.status, "booked");
	ck_assert_str_eq(a.risk, "ok");
	ck_assert_int_eq(a.route_position, -1);
	ck_assert(a.consent_sms);
	ck_assert(!a.consent_email);
	ck_assert_str_eq(a.booked_by, "customer");
	ck_assert_int_eq(a.created_at, 1000);
	ck_assert_int_eq(a.updated_at, 1000);
	ck_assert_int_eq(a.cancelled_at, 0);
	ck_assert_str_eq(a.cancelled_by, "");

	/* By reference; an unknown one and an unknown id are not found. */
	struct appt_job j = {.reference = "OTD-ABC234"};
	ck_assert_int_eq(read_job(appt_get_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, id);
	j = (struct appt_job){.reference = "OTD-ZZZ999"};
	ck_assert_int_eq(read_job(appt_get_fn, &j), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "not_found");
	j = (struct appt_job){.id = 42};
	ck_assert_int_eq(read_job(appt_get_fn, &j), OTD_ENOTFOUND);

	/* A taken reference is a conflict the caller retries; nothing stored. */
	j = (struct appt_job){.now = 1000};
	j.a = a;
	snprintf(j.a.booked_by, sizeof(j.a.booked_by), "dispatcher");
	ck_assert_int_eq(write_job(appt_insert_fn, &j), OTD_ECONFLICT);
	ck_assert_str_eq(last_err.code, "reference_taken");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 1);
	snprintf(j.a.reference, sizeof(j.a.reference), "OTD-ABC235");
	ck_assert_int_eq(write_job(appt_insert_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, 2);
	ck_assert_str_eq(get_appt(2).booked_by, "dispatcher");

	/* Moved: visitor, date, window and promise version; risk back to ok. */
	sql_exec("UPDATE appointments SET risk = 'watch' WHERE id = 1");
	j = (struct appt_job){.id = id,
	                      .visitor = 2,
	                      .date = "2026-03-05",
	                      .start = 1772704800,
	                      .end = 1772708400,
	                      .version = 2,
	                      .now = 5000};
	ck_assert_int_eq(write_job(appt_move_fn, &j), OTD_OK);
	a = get_appt(id);
	ck_assert_int_eq(a.visitor_id, 2);
	ck_assert_str_eq(a.local_date, "2026-03-05");
	ck_assert_int_eq(a.window_start, 1772704800);
	ck_assert_int_eq(a.window_end, 1772708400);
	ck_assert_int_eq(a.promise_version, 2);
	ck_assert_str_eq(a.risk, "ok");
	ck_assert_int_eq(a.updated_at, 5000);
	ck_assert_int_eq(a.created_at, 1000);
	/* A clock behind the creation never makes updated_at earlier. */
	j.now = 10;
	j.version = 3;
	ck_assert_int_eq(write_job(appt_move_fn, &j), OTD_OK);
	ck_assert_int_eq(get_appt(id).updated_at, 1000);

	/* Cancelled by the organisation with a reason and the notice given. */
	sql_exec("UPDATE appointments SET route_position = 3 WHERE id = 1");
	j = (struct appt_job){.id = id,
	                      .by = "organisation",
	                      .reason = "Van broke down",
	                      .notice = 7200,
	                      .now = 6000};
	ck_assert_int_eq(write_job(appt_cancel_fn, &j), OTD_OK);
	a = get_appt(id);
	ck_assert_str_eq(a.status, "cancelled");
	ck_assert_str_eq(a.cancelled_by, "organisation");
	ck_assert_int_eq(a.cancelled_at, 6000);
	ck_assert_int_eq(a.cancel_notice_s, 7200);
	ck_assert_int_eq(a.route_position, -1);
	ck_assert_int_eq(a.updated_at, 6000);
	ck_assert_str_eq(sql_list("SELECT cancel_reason FROM appointments WHERE id = 1"),
	                 "Van broke down");
	/* By the customer, without a reason: none stored (not ""). */
	j = (struct appt_job){.id = 2, .by = "customer", .reason = "", .notice = -60, .now = 6001};
	ck_assert_int_eq(write_job(appt_cancel_fn, &j), OTD_OK);
	ck_assert_str_eq(
	    sql_list("SELECT cancelled_by || ' ' || coalesce(cancel_reason, 'NULL') || "
	             "' ' || cancel_notice_s FROM appointments WHERE id = 2"),
	    "customer NULL -60");
	/* Anything but the two parties is refused by the schema. */
	j = (struct appt_job){.id = 2, .by = "visitor", .now = 6002};
	ck_assert_int_eq(write_job(appt_cancel_fn, &j), OTD_ECONFLICT);
	ck_assert_str_eq(get_appt(2).cancelled_by, "customer");
}
END_TEST

START_TEST(the_open_appointment_of_a_contact)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t other = upsert("Cy", "+447700900002", "", "");
	sql_exec(
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
	    "duration_spread, window_min, created_at, updated_at) VALUES ('meter', 'Meter', 1, "
	    "30, 0.2, 60, 1, 1)");
	int64_t late = insert_appt("OTD-AAA222", cu, 1, 1, "2026-03-06", 30000, 37200);
	int64_t early = insert_appt("OTD-AAA333", cu, 1, 1, "2026-03-05", 20000, 27200);
	insert_appt("OTD-AAA444", other, 1, 1, "2026-03-04", 10000, 17200);

	struct appt_job j = {.customer = cu, .type = 1, .now = 1000};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, early); /* the earliest window first */
	/* Another visit type: none, and the error is left clear. */
	j = (struct appt_job){.customer = cu, .type = 2, .now = 1000};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "");
	ck_assert_int_eq(last_err.status, OTD_OK);
	/* A window that has ended is not open: at its end exactly, the next. */
	j = (struct appt_job){.customer = cu, .type = 1, .now = 27200};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, late);
	/* Under way still counts; finished and cancelled do not. */
	sql_exec("UPDATE appointments SET status = 'arrived', arrived_at = 20100 WHERE id = 2");
	j = (struct appt_job){.customer = cu, .type = 1, .now = 21000};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, early);
	sql_exec("UPDATE appointments SET status = 'done', done_at = 21500 WHERE id = 2");
	j = (struct appt_job){.customer = cu, .type = 1, .now = 21000};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_OK);
	ck_assert_int_eq(j.a.id, late);
	j = (struct appt_job){.id = late, .by = "customer", .now = 22000};
	ck_assert_int_eq(write_job(appt_cancel_fn, &j), OTD_OK);
	j = (struct appt_job){.customer = cu, .type = 1, .now = 21000};
	ck_assert_int_eq(read_job(appt_open_fn, &j), OTD_ENOTFOUND);
}
END_TEST

/* ---- search ----------------------------------------------------------------- */

struct search_job {
	struct otd_appointment_filter f;
	int64_t *ids;
	size_t n;
};

static enum otd_status search_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct search_job *j = arg;
	return store_appointment_search(c, &j->f, &j->ids, &j->n, err);
}

/* The ids found, as "1,2,3". */
static const char *found(struct otd_appointment_filter f)
{
	static char out[256];
	if(!f.limit)
		f.limit = 50;
	struct search_job j = {.f = f};
	ck_assert_int_eq(read_job(search_fn, &j), OTD_OK);
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < j.n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%lld", i ? "," : "",
		                        (long long)j.ids[i]);
	free(j.ids);
	return out;
}

static struct otd_appointment_filter q(const char *query)
{
	return (struct otd_appointment_filter){.query = query};
}

START_TEST(search_filters_and_queries)
{
	seed();
	int64_t zoe = upsert("Zoë O'Brien", "+447700900001", "Zoe@Example.org", "");
	int64_t pct = upsert("100% Plumbing", "+447700900002", "", "");
	int64_t hundred = upsert("1000 Homes", "+447700900003", "", "");
	int64_t under = upsert("a_b Lettings", "", "ab@example.org", "");
	int64_t axb = upsert("axb Lettings", "", "axb@example.org", "");
	int64_t slash = upsert("c\\d Ltd", "", "cd@example.org", "");
	int64_t cdx = upsert("cxd Ltd", "", "cxd@example.org", "");
	/* id: reference, customer, address, visitor, date */
	insert_appt("OTD-AAA201", zoe, 1, 1, "2026-03-04", 10000, 17200);     /* 1 */
	insert_appt("OTD-AAA202", pct, 2, 1, "2026-03-04", 20000, 27200);     /* 2 */
	insert_appt("OTD-AAA203", hundred, 3, 2, "2026-03-04", 30000, 37200); /* 3 */
	insert_appt("OTD-AAA204", under, 1, 2, "2026-03-05", 40000, 47200);   /* 4 */
	insert_appt("OTD-AAA205", axb, 2, 1, "2026-03-05", 50000, 57200);     /* 5 */
	insert_appt("OTD-AAA206", slash, 3, 1, "2026-03-05", 60000, 67200);   /* 6 */
	insert_appt("OTD-AAA207", cdx, 3, 2, "2026-03-06", 70000, 77200);     /* 7 */
	sql_exec("UPDATE appointments SET status = 'cancelled', cancelled_at = 5, cancelled_by = "
	         "'customer' WHERE id IN (2, 5)");

	/* No filter: everything, in id order. */
	ck_assert_str_eq(found((struct otd_appointment_filter){0}), "1,2,3,4,5,6,7");
	/* Date, visitor, status, and all three. */
	ck_assert_str_eq(found((struct otd_appointment_filter){.local_date = "2026-03-04"}),
	                 "1,2,3");
	ck_assert_str_eq(found((struct otd_appointment_filter){.visitor_id = 2}), "3,4,7");
	ck_assert_str_eq(found((struct otd_appointment_filter){.status = "cancelled"}), "2,5");
	ck_assert_str_eq(found((struct otd_appointment_filter){
	                     .local_date = "2026-03-05", .visitor_id = 1, .status = "booked"}),
	                 "6");
	ck_assert_str_eq(found((struct otd_appointment_filter){.local_date = "2026-03-07"}), "");

	/* A reference, in any case; not a part of one. */
	ck_assert_str_eq(found(q("OTD-AAA203")), "3");
	ck_assert_str_eq(found(q("otd-aaa203")), "3");
	ck_assert_str_eq(found(q("OTD-AAA20")), "");
	/* A phone exactly as stored; an email in any case. */
	ck_assert_str_eq(found(q("+447700900001")), "1");
	ck_assert_str_eq(found(q("+44770090000")), "");
	ck_assert_str_eq(found(q("zoe@example.ORG")), "1");
	/* A postcode with or without its space, in any case. */
	ck_assert_str_eq(found(q("XY9 8WV")), "3,6,7");
	ck_assert_str_eq(found(q("xy98wv")), "3,6,7");
	ck_assert_str_eq(found(q("x y 9 8 w v")), "3,6,7");
	ck_assert_str_eq(found(q("XY9")), "");
	/* A name by prefix, in any (ASCII) case; never the middle of a name. */
	ck_assert_str_eq(found(q("zo")), "1");
	ck_assert_str_eq(found(q("Zoë O'")), "1");
	ck_assert_str_eq(found(q("Brien")), "");
	/* LIKE's own characters match only themselves. */
	ck_assert_str_eq(found(q("100%")), "2");
	ck_assert_str_eq(found(q("100")), "2,3");
	ck_assert_str_eq(found(q("%")), "");
	ck_assert_str_eq(found(q("a_b")), "4");
	ck_assert_str_eq(found(q("_")), "");
	ck_assert_str_eq(found(q("c\\d")), "6");
	ck_assert_str_eq(found(q("c\\")), "6");
	ck_assert_str_eq(found(q("c")), "6,7");
	/* A query with the other filters. */
	struct otd_appointment_filter f = q("c");
	f.visitor_id = 2;
	ck_assert_str_eq(found(f), "7");
	f = q("100");
	f.status = "booked";
	ck_assert_str_eq(found(f), "3");

	/* Pages: at most limit, after the last id seen. */
	f = (struct otd_appointment_filter){.limit = 3};
	ck_assert_str_eq(found(f), "1,2,3");
	f.after_id = 3;
	ck_assert_str_eq(found(f), "4,5,6");
	f.after_id = 6;
	ck_assert_str_eq(found(f), "7");
	f.after_id = 7;
	ck_assert_str_eq(found(f), "");
}
END_TEST

/* ---- routes ------------------------------------------------------------------ */

struct route_job {
	int64_t visitor;
	const char *date;
	int64_t now;
	struct otd_route_item *items;
	size_t n;
};

static enum otd_status route_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct route_job *j = arg;
	return store_route_items(c, j->visitor, j->date, j->now, &j->items, &j->n, err);
}

static enum otd_status order_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct route_job *j = arg;
	return store_route_order(tx, j->items, j->n, err);
}

/* The route as "A3@0,H1@-1,..." (kind, id, position). */
static const char *route(int64_t visitor, const char *date, int64_t now)
{
	static char out[512];
	struct route_job j = {visitor, date, now, NULL, 0};
	ck_assert_int_eq(read_job(route_fn, &j), OTD_OK);
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < j.n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%c%lld@%d", i ? "," : "",
		                        j.items[i].kind == OTD_ITEM_VISIT ? 'A' : 'H',
		                        (long long)j.items[i].id, j.items[i].route_position);
	if(j.n == 0)
		ck_assert_ptr_null(j.items);
	free(j.items);
	return out;
}

static void hold_sql(int64_t visitor, int64_t address, const char *date, int64_t start, int64_t end,
                     const char *client, int hash, int64_t created, int64_t expires,
                     const char *extra_cols, const char *extra_vals)
{
	char *sql = xasprintf("INSERT INTO holds(visitor_id, visit_type_id, address_id, "
	                      "local_date, window_start, window_end, client_key, token_hash, "
	                      "created_at, expires_at%s) VALUES (%lld, 1, %lld, '%s', %lld, %lld, "
	                      "'%s', x'%062d%02x', %lld, %lld%s)",
	                      extra_cols, (long long)visitor, (long long)address, date,
	                      (long long)start, (long long)end, client, 0, hash, (long long)created,
	                      (long long)expires, extra_vals);
	sql_exec(sql);
	free(sql);
}

START_TEST(route_items_in_route_order_with_live_holds)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	const char *d = "2026-03-04";
	const int64_t now = 5000;
	insert_appt("OTD-RRR201", cu, 1, 1, d, 36000, 43200);            /* 1: 10-12, no position */
	insert_appt("OTD-RRR202", cu, 2, 1, d, 28800, 36000);            /* 2: 08-10, position 1 */
	insert_appt("OTD-RRR203", cu, 3, 1, d, 46800, 54000);            /* 3: 13-15, position 0 */
	insert_appt("OTD-RRR204", cu, 1, 1, d, 32400, 39600);            /* 4: 09-11, no position */
	insert_appt("OTD-RRR205", cu, 1, 1, d, 36000, 43200);            /* 5: cancelled */
	insert_appt("OTD-RRR206", cu, 1, 2, d, 36000, 43200);            /* 6: Bob's */
	insert_appt("OTD-RRR207", cu, 1, 1, "2026-03-05", 36000, 43200); /* 7: next day */
	insert_appt("OTD-RRR208", cu, 2, 1, d, 36000, 43200);            /* 8: travelling, as 1 */
	insert_appt("OTD-RRR209", cu, 2, 1, d, 20000, 23000);            /* 9: done */
	sql_exec(
	    "UPDATE appointments SET route_position = 1 WHERE id = 2;"
	    "UPDATE appointments SET route_position = 0 WHERE id = 3;"
	    "UPDATE appointments SET status = 'cancelled', cancelled_at = 5, cancelled_by = "
	    "'customer' WHERE id = 5;"
	    "UPDATE appointments SET status = 'travelling' WHERE id = 8;"
	    "UPDATE appointments SET status = 'done', arrived_at = 1, done_at = 2 WHERE id = 9");
	/* Holds: 1 live (09:30-11:30), 2 expired at now, 3 live one second more,
	 * 4 Bob's, 5 another date. */
	hold_sql(1, 3, d, 34200, 41400, "a", 1, 1000, now + 600, "", "");
	hold_sql(1, 3, d, 34200, 41400, "a", 2, 1000, now, "", "");
	hold_sql(1, 2, d, 50400, 57600, "b", 3, 1000, now + 1, ", route_position", ", 2");
	hold_sql(2, 2, d, 50400, 57600, "b", 4, 1000, now + 600, "", "");
	hold_sql(1, 2, "2026-03-05", 50400, 57600, "b", 5, 1000, now + 600, "", "");

	/* Positioned first, by position (appointments and holds together); then
	 * the rest by window start, then id. */
	ck_assert_str_eq(route(1, d, now), "A3@0,A2@1,H3@2,A4@-1,H1@-1,A1@-1,A8@-1");
	/* What timing needs comes with each item. */
	struct route_job j = {1, d, now, NULL, 0};
	ck_assert_int_eq(read_job(route_fn, &j), OTD_OK);
	ck_assert_uint_eq(j.n, 7);
	const struct otd_route_item *h1 = &j.items[4], *a3 = &j.items[0];
	ck_assert_int_eq(a3->kind, OTD_ITEM_VISIT);
	ck_assert_double_eq(a3->lat, 52.4);
	ck_assert_double_eq(a3->lon, -1.7);
	ck_assert_int_eq(a3->window_start, 46800);
	ck_assert_int_eq(a3->window_end, 54000);
	ck_assert_double_eq(a3->median_min, 45);
	ck_assert_double_eq(a3->spread, 0.25);
	ck_assert_int_eq(a3->expires_at, 0);
	ck_assert_int_eq(a3->for_appointment, 0);
	ck_assert_int_eq(h1->kind, OTD_ITEM_HOLD);
	ck_assert_int_eq(h1->id, 1);
	ck_assert_int_eq(h1->expires_at, now + 600);
	ck_assert_int_eq(h1->window_start, 34200);
	ck_assert_double_eq(h1->lat, 52.4);
	free(j.items);

	/* A hold is gone from the route the second it expires. */
	ck_assert_str_eq(route(1, d, now + 1), "A3@0,A2@1,A4@-1,H1@-1,A1@-1,A8@-1");
	ck_assert_str_eq(route(1, d, now + 600), "A3@0,A2@1,A4@-1,A1@-1,A8@-1");
	ck_assert_str_eq(route(2, d, now), "A6@-1,H4@-1");
	ck_assert_str_eq(route(1, "2026-03-06", now), "");

	/* The order written back: the positions given are stored. */
	j = (struct route_job){1, d, now, NULL, 0};
	ck_assert_int_eq(read_job(route_fn, &j), OTD_OK);
	/* Reverse it. */
	for(size_t i = 0; i < j.n / 2; i++) {
		struct otd_route_item t = j.items[i];
		j.items[i] = j.items[j.n - 1 - i];
		j.items[j.n - 1 - i] = t;
	}
	/* store_route_order writes each item's route_position as given. */
	for(size_t i = 0; i < j.n; i++)
		j.items[i].route_position = (int)i;
	ck_assert_int_eq(write_job(order_fn, &j), OTD_OK);
	free(j.items);
	ck_assert_str_eq(route(1, d, now), "A8@0,A1@1,H1@2,A4@3,H3@4,A2@5,A3@6");
	ck_assert_str_eq(sql_list("SELECT id || '=' || coalesce(route_position, '-') FROM "
	                          "appointments ORDER BY id"),
	                 "1=1;2=5;3=6;4=3;5=-;6=-;7=-;8=0;9=-");
	ck_assert_str_eq(sql_list("SELECT id || '=' || coalesce(route_position, '-') FROM holds "
	                          "ORDER BY id"),
	                 "1=2;2=-;3=4;4=-;5=-");
}
END_TEST

/* ---- holds ------------------------------------------------------------------- */

struct hold_job {
	struct otd_hold h;
	unsigned char hash[32];
	int64_t now, id, appointment;
	int64_t count;
	const char *client;
	struct otd_hold offers[4];
	size_t max, n;
};

static enum otd_status hold_insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_hold_insert(tx, &j->h, j->hash, err);
}

static enum otd_status hold_by_hash_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_hold_by_hash(c, j->hash, j->now, &j->h, err);
}

static enum otd_status hold_get_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_hold_get(c, j->id, j->now, &j->h, err);
}

static enum otd_status hold_delete_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_hold_delete(tx, j->id, err);
}

static enum otd_status holds_live_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_holds_live(c, j->client, j->now, &j->count, err);
}

static enum otd_status offers_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_hold_offers(c, j->appointment, j->now, j->offers, j->max, &j->n, err);
}

static enum otd_status expire_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct hold_job *j = arg;
	return store_holds_expire(tx, j->now, 0, &j->count, err);
}

static int64_t insert_hold(const char *client, int hash, int64_t start, int64_t expires,
                           int64_t for_appointment, const char *purpose)
{
	struct hold_job j = {0};
	j.h.visitor_id = 1;
	j.h.visit_type_id = 1;
	j.h.address_id = 2;
	snprintf(j.h.local_date, sizeof(j.h.local_date), "2026-03-04");
	j.h.window_start = start;
	j.h.window_end = start + 7200;
	snprintf(j.h.client_key, sizeof(j.h.client_key), "%s", client);
	j.h.for_appointment = for_appointment;
	snprintf(j.h.purpose, sizeof(j.h.purpose), "%s", purpose);
	j.h.created_at = 1000;
	j.h.expires_at = expires;
	hash_of(hash, j.hash);
	ck_assert_int_eq(write_job(hold_insert_fn, &j), OTD_OK);
	ck_assert_int_gt(j.h.id, 0);
	return j.h.id;
}

static int64_t live_holds(const char *client, int64_t now)
{
	struct hold_job j = {.client = client, .now = now, .count = -1};
	ck_assert_int_eq(read_job(holds_live_fn, &j), OTD_OK);
	return j.count;
}

/* The live offers held for appointment as "id:start,...". */
static const char *offers(int64_t appointment, int64_t now, size_t max)
{
	static char out[256];
	struct hold_job j = {.appointment = appointment, .now = now, .max = max};
	ck_assert_int_eq(read_job(offers_fn, &j), OTD_OK);
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < j.n; i++) {
		ck_assert_int_eq(j.offers[i].for_appointment, appointment);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%lld:%lld:%s",
		                        i ? "," : "", (long long)j.offers[i].id,
		                        (long long)j.offers[i].window_start, j.offers[i].purpose);
	}
	return out;
}

START_TEST(holds_by_hash_per_client_and_as_offers)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t appt = insert_appt("OTD-HHH201", cu, 1, 1, "2026-03-06", 90000, 97200);

	int64_t h1 = insert_hold("client-a", 1, 36000, 2000, 0, "");
	ck_assert_int_eq(h1, 1);
	struct hold_job j = {.now = 1999};
	hash_of(1, j.hash);
	ck_assert_int_eq(read_job(hold_by_hash_fn, &j), OTD_OK);
	ck_assert_int_eq(j.h.id, h1);
	ck_assert_int_eq(j.h.visitor_id, 1);
	ck_assert_int_eq(j.h.visit_type_id, 1);
	ck_assert_int_eq(j.h.address_id, 2);
	ck_assert_str_eq(j.h.local_date, "2026-03-04");
	ck_assert_int_eq(j.h.window_start, 36000);
	ck_assert_int_eq(j.h.window_end, 43200);
	ck_assert_str_eq(j.h.client_key, "client-a");
	ck_assert_int_eq(j.h.for_appointment, 0);
	ck_assert_str_eq(j.h.purpose, "booking"); /* the default */
	ck_assert_int_eq(j.h.created_at, 1000);
	ck_assert_int_eq(j.h.expires_at, 2000);
	ck_assert_str_eq(sql_list("SELECT coalesce(for_appointment, 'NULL') FROM holds"), "NULL");
	/* Expired at its expiry; an unknown token never found. */
	j = (struct hold_job){.now = 2000};
	hash_of(1, j.hash);
	ck_assert_int_eq(read_job(hold_by_hash_fn, &j), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "hold_expired");
	ck_assert_str_eq(last_err.field, "hold");
	j = (struct hold_job){.now = 0};
	hash_of(9, j.hash);
	ck_assert_int_eq(read_job(hold_by_hash_fn, &j), OTD_ENOTFOUND);
	/* By id: the same rule. */
	j = (struct hold_job){.id = h1, .now = 1999};
	ck_assert_int_eq(read_job(hold_get_fn, &j), OTD_OK);
	ck_assert_str_eq(j.h.client_key, "client-a");
	ck_assert_int_eq(j.h.expires_at, 2000);
	j = (struct hold_job){.id = h1, .now = 2000};
	ck_assert_int_eq(read_job(hold_get_fn, &j), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "hold_expired");

	/* The same token twice is refused (a hash identifies one hold). */
	struct hold_job dup = {0};
	dup.h = (struct otd_hold){.visitor_id = 1,
	                          .visit_type_id = 1,
	                          .address_id = 2,
	                          .local_date = "2026-03-04",
	                          .window_start = 1,
	                          .window_end = 2,
	                          .client_key = "x",
	                          .created_at = 1,
	                          .expires_at = 2};
	hash_of(1, dup.hash);
	ck_assert_int_eq(write_job(hold_insert_fn, &dup), OTD_ECONFLICT);

	/* Live holds per client. */
	insert_hold("client-a", 2, 36000, 3000, 0, "booking");
	insert_hold("client-b", 3, 36000, 3000, 0, "booking");
	ck_assert_int_eq(live_holds("client-a", 1500), 2);
	ck_assert_int_eq(live_holds("client-a", 2000), 1);
	ck_assert_int_eq(live_holds("client-b", 2999), 1);
	ck_assert_int_eq(live_holds("client-b", 3000), 0);
	ck_assert_int_eq(live_holds("client-c", 0), 0);

	/* Offers held for an appointment: waitlist and apology offers, live,
	 * earliest window first, at most max; not holds made to reschedule. */
	int64_t o1 = insert_hold("waitlist", 4, 50000, 5000, appt, "waitlist_offer");
	int64_t o2 = insert_hold("system", 5, 40000, 6000, appt, "apology_offer");
	int64_t o3 = insert_hold("client-a", 6, 30000, 6000, appt, "reschedule");
	int64_t o4 = insert_hold("waitlist", 7, 45000, 4000, appt, "waitlist_offer");
	char want[128];
	snprintf(want, sizeof(want),
	         "%lld:40000:apology_offer,%lld:45000:waitlist_offer,%lld:50000:"
	         "waitlist_offer",
	         (long long)o2, (long long)o4, (long long)o1);
	ck_assert_str_eq(offers(appt, 3500, 4), want);
	snprintf(want, sizeof(want), "%lld:40000:apology_offer", (long long)o2);
	ck_assert_str_eq(offers(appt, 3500, 1), want);
	snprintf(want, sizeof(want), "%lld:40000:apology_offer,%lld:50000:waitlist_offer",
	         (long long)o2, (long long)o1);
	ck_assert_str_eq(offers(appt, 4000, 4), want);
	ck_assert_str_eq(offers(appt, 6000, 4), "");
	ck_assert_str_eq(offers(appt + 1, 0, 4), "");
	ck_assert_str_eq(sql_list("SELECT purpose FROM holds WHERE id = 6"), "reschedule");
	(void)o3;

	/* Deleted: gone. */
	j = (struct hold_job){.id = o2};
	ck_assert_int_eq(write_job(hold_delete_fn, &j), OTD_OK);
	j = (struct hold_job){.id = o2, .now = 0};
	ck_assert_int_eq(read_job(hold_get_fn, &j), OTD_ENOTFOUND);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 6);
}
END_TEST

/* ---- waitlist ----------------------------------------------------------------- */

struct wait_job {
	int64_t appointment, hold, now;
	bool on;
	char state[16];
	int64_t *ids;
	size_t n;
};

static enum otd_status wait_set_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct wait_job *j = arg;
	return store_waitlist_set(tx, j->appointment, j->on, j->now, err);
}

static enum otd_status wait_offered_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct wait_job *j = arg;
	return store_waitlist_offered(tx, j->appointment, j->hold, j->now, err);
}

static enum otd_status wait_done_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct wait_job *j = arg;
	return store_waitlist_done(tx, j->appointment, j->now, err);
}

static enum otd_status wait_state_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct wait_job *j = arg;
	return store_waitlist_state(c, j->appointment, j->state, sizeof(j->state), err);
}

static enum otd_status wait_list_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct wait_job *j = arg;
	return store_waitlist_waiting(c, &j->ids, &j->n, err);
}

static void waitlist_set(int64_t appointment, bool on, int64_t now)
{
	struct wait_job j = {.appointment = appointment, .on = on, .now = now};
	ck_assert_int_eq(write_job(wait_set_fn, &j), OTD_OK);
}

static void waitlist_offered(int64_t appointment, int64_t hold, int64_t now)
{
	struct wait_job j = {.appointment = appointment, .hold = hold, .now = now};
	ck_assert_int_eq(write_job(wait_offered_fn, &j), OTD_OK);
}

static const char *waitlist_state(int64_t appointment)
{
	static char out[16];
	struct wait_job j = {.appointment = appointment};
	ck_assert_int_eq(read_job(wait_state_fn, &j), OTD_OK);
	snprintf(out, sizeof(out), "%s", j.state);
	return out;
}

static const char *waiting(void)
{
	static char out[128];
	struct wait_job j = {0};
	ck_assert_int_eq(read_job(wait_list_fn, &j), OTD_OK);
	size_t off = 0;
	out[0] = '\0';
	for(size_t i = 0; i < j.n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%lld", i ? "," : "",
		                        (long long)j.ids[i]);
	free(j.ids);
	return out;
}

START_TEST(an_expired_offer_puts_its_customer_back_in_the_queue)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t a1 = insert_appt("OTD-WWW201", cu, 1, 1, "2026-03-06", 90000, 97200);
	int64_t a2 = insert_appt("OTD-WWW202", cu, 2, 1, "2026-03-07", 190000, 197200);
	int64_t a3 = insert_appt("OTD-WWW203", cu, 3, 1, "2026-03-08", 290000, 297200);
	waitlist_set(a1, true, 100);
	waitlist_set(a2, true, 200);
	waitlist_set(a3, true, 300);
	int64_t lapsing = insert_hold("waitlist", 1, 36000, 2000, a1, "waitlist_offer");
	int64_t lasting = insert_hold("waitlist", 2, 36000, 9000, a2, "waitlist_offer");
	insert_hold("client-a", 3, 36000, 2000, 0, "booking");
	waitlist_offered(a1, lapsing, 1500);
	waitlist_offered(a2, lasting, 1500);
	ck_assert_str_eq(waitlist_state(a1), "offered");
	ck_assert_str_eq(waiting(), "3");

	/* Before the expiry nothing happens. */
	struct hold_job j = {.now = 1999, .count = -1};
	ck_assert_int_eq(write_job(expire_fn, &j), OTD_OK);
	ck_assert_int_eq(j.count, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 3);
	/* At it: both lapsed holds go, a1 waits again (first in the queue, as it
	 * asked first), a2's offer still stands. */
	j = (struct hold_job){.now = 2000, .count = -1};
	ck_assert_int_eq(write_job(expire_fn, &j), OTD_OK);
	ck_assert_int_eq(j.count, 2);
	ck_assert_str_eq(sql_list("SELECT id FROM holds"), "2");
	ck_assert_str_eq(waitlist_state(a1), "waiting");
	ck_assert_str_eq(waitlist_state(a2), "offered");
	ck_assert_str_eq(waiting(), "1,3");
	ck_assert_str_eq(sql_list("SELECT appointment_id || ' ' || state || ' ' || "
	                          "coalesce(offered_hold, '-') || ' ' || updated_at FROM waitlist "
	                          "ORDER BY id"),
	                 "1 waiting - 2000;2 offered 2 1500;3 waiting - 300");
}
END_TEST

START_TEST(waitlist_states)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t a1 = insert_appt("OTD-WWW301", cu, 1, 1, "2026-03-06", 90000, 97200);
	int64_t a2 = insert_appt("OTD-WWW302", cu, 2, 1, "2026-03-07", 190000, 197200);
	ck_assert_str_eq(waitlist_state(a1), "none");
	ck_assert_str_eq(waiting(), "");
	waitlist_set(a2, true, 100);
	waitlist_set(a1, true, 200);
	ck_assert_str_eq(waitlist_state(a1), "waiting");
	ck_assert_str_eq(waiting(), "2,1"); /* oldest first */
	/* Asking again changes nothing (not even the place in the queue). */
	waitlist_set(a2, true, 300);
	ck_assert_str_eq(sql_list("SELECT created_at || ' ' || updated_at FROM waitlist WHERE "
	                          "appointment_id = 2"),
	                 "100 100");
	/* Offered, then withdrawn: off the queue. */
	int64_t h = insert_hold("waitlist", 1, 36000, 9000, a2, "waitlist_offer");
	waitlist_offered(a2, h, 400);
	ck_assert_str_eq(waitlist_state(a2), "offered");
	ck_assert_str_eq(waiting(), "1");
	waitlist_set(a2, false, 500);
	ck_assert_str_eq(waitlist_state(a2), "withdrawn");
	/* Withdrawing twice, or what never waited, changes nothing. */
	waitlist_set(a2, false, 600);
	waitlist_set(a1 + 10, false, 600);
	ck_assert_str_eq(sql_list("SELECT state || ' ' || updated_at FROM waitlist WHERE "
	                          "appointment_id = 2"),
	                 "withdrawn 500");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM waitlist"), 2);
	/* Asking again after withdrawing: waiting, the old offer forgotten. */
	waitlist_set(a2, true, 700);
	ck_assert_str_eq(sql_list("SELECT state || ' ' || coalesce(offered_hold, '-') || ' ' || "
	                          "updated_at FROM waitlist WHERE appointment_id = 2"),
	                 "waiting - 700");
	/* Done: the earlier window was taken. */
	struct wait_job j = {.appointment = a1, .now = 800};
	ck_assert_int_eq(write_job(wait_done_fn, &j), OTD_OK);
	ck_assert_str_eq(waitlist_state(a1), "done");
	ck_assert_str_eq(waiting(), "2");
	/* A deleted offer hold leaves the entry without it. */
	waitlist_offered(a2, h, 900);
	sql_exec("DELETE FROM holds");
	ck_assert_str_eq(
	    sql_list("SELECT state || ' ' || coalesce(offered_hold, '-') FROM waitlist "
	             "WHERE appointment_id = 2"),
	    "offered -");
}
END_TEST

/* ---- links ---------------------------------------------------------------------- */

struct link_job {
	int64_t appointment, now, expires, found;
	unsigned char hash[32];
};

static enum otd_status link_insert_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct link_job *j = arg;
	return store_link_insert(tx, j->appointment, j->hash, j->now, j->expires, err);
}

static enum otd_status link_lookup_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct link_job *j = arg;
	return store_link_lookup(c, j->hash, j->now, &j->found, err);
}

static enum otd_status links_revoke_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct link_job *j = arg;
	return store_links_revoke(tx, j->appointment, j->now, err);
}

static enum otd_status links_expire_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct link_job *j = arg;
	return store_links_expire_at(tx, j->appointment, j->expires, err);
}

static void link_insert(int64_t appointment, int hash, int64_t now, int64_t expires)
{
	struct link_job j = {.appointment = appointment, .now = now, .expires = expires};
	hash_of(hash, j.hash);
	ck_assert_int_eq(write_job(link_insert_fn, &j), OTD_OK);
}

/* The appointment link hash reaches at now, or 0 when none. */
static int64_t link_lookup(int hash, int64_t now)
{
	struct link_job j = {.now = now};
	hash_of(hash, j.hash);
	enum otd_status st = read_job(link_lookup_fn, &j);
	if(st == OTD_ENOTFOUND)
		return 0;
	ck_assert_int_eq(st, OTD_OK);
	return j.found;
}

START_TEST(links_live_expired_revoked_and_moved)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "", "");
	int64_t a1 = insert_appt("OTD-LLL201", cu, 1, 1, "2026-03-06", 90000, 97200);
	int64_t a2 = insert_appt("OTD-LLL202", cu, 2, 1, "2026-03-07", 190000, 197200);
	link_insert(a1, 1, 1000, 50000);
	link_insert(a1, 2, 1100, 50000);
	link_insert(a2, 3, 1200, 60000);
	ck_assert_int_eq(link_lookup(1, 1000), a1);
	ck_assert_int_eq(link_lookup(2, 49999), a1);
	ck_assert_int_eq(link_lookup(3, 1200), a2);
	ck_assert_int_eq(link_lookup(1, 50000), 0); /* expired */
	ck_assert_int_eq(link_lookup(9, 1000), 0);  /* unknown */
	/* An expiry at or before the creation is stored a second after it. */
	link_insert(a2, 4, 2000, 1500);
	ck_assert_int_eq(sql_int("SELECT expires_at FROM appointment_links WHERE id = 4"), 2001);
	ck_assert_int_eq(link_lookup(4, 2000), a2);
	ck_assert_int_eq(link_lookup(4, 2001), 0);

	/* The visit moved: a1's live links now expire later. */
	struct link_job j = {.appointment = a1, .expires = 80000};
	ck_assert_int_eq(write_job(links_expire_fn, &j), OTD_OK);
	ck_assert_int_eq(link_lookup(1, 79999), a1);
	ck_assert_int_eq(link_lookup(2, 79999), a1);
	ck_assert_int_eq(link_lookup(1, 80000), 0);
	ck_assert_int_eq(link_lookup(3, 59999), a2); /* the other's unchanged */
	ck_assert_int_eq(link_lookup(3, 60000), 0);
	/* Never before its creation. */
	j = (struct link_job){.appointment = a1, .expires = 0};
	ck_assert_int_eq(write_job(links_expire_fn, &j), OTD_OK);
	ck_assert_str_eq(sql_list("SELECT expires_at FROM appointment_links WHERE appointment_id = "
	                          "1 ORDER BY id"),
	                 "1001;1101");
	j = (struct link_job){.appointment = a1, .expires = 80000};
	ck_assert_int_eq(write_job(links_expire_fn, &j), OTD_OK);

	/* "Send me a new link": every live link of a1 revoked, a2's kept. */
	j = (struct link_job){.appointment = a1, .now = 3000};
	ck_assert_int_eq(write_job(links_revoke_fn, &j), OTD_OK);
	ck_assert_int_eq(link_lookup(1, 3000), 0);
	ck_assert_int_eq(link_lookup(2, 3000), 0);
	ck_assert_int_eq(link_lookup(3, 3000), a2);
	/* A link minted afterwards works; revoking again keeps the first time. */
	link_insert(a1, 5, 3100, 80000);
	ck_assert_int_eq(link_lookup(5, 3100), a1);
	ck_assert_str_eq(sql_list("SELECT id || ':' || coalesce(revoked_at, '-') FROM "
	                          "appointment_links ORDER BY id"),
	                 "1:3000;2:3000;3:-;4:-;5:-");
	/* Moving the expiry leaves revoked links revoked and as they were. */
	j = (struct link_job){.appointment = a1, .expires = 99000};
	ck_assert_int_eq(write_job(links_expire_fn, &j), OTD_OK);
	ck_assert_str_eq(sql_list("SELECT expires_at FROM appointment_links WHERE appointment_id = "
	                          "1 ORDER BY id"),
	                 "80000;80000;99000");
	ck_assert_int_eq(link_lookup(1, 3000), 0);
}
END_TEST

/* ---- outbox --------------------------------------------------------------------- */

struct outbox_job {
	struct otd_outbox_row row;
	int64_t now;
};

static enum otd_status outbox_fn(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct outbox_job *j = arg;
	return store_outbox_insert(tx, &j->row, j->now, err);
}

START_TEST(an_outbox_key_is_written_once)
{
	seed();
	int64_t cu = upsert("Zoë", "+447700900001", "zoe@example.org", "");
	int64_t a1 = insert_appt("OTD-OOO201", cu, 1, 1, "2026-03-06", 90000, 97200);
	struct outbox_job j = {.row = {.idem_key = "appt:1:v1:booked:email",
	                               .appointment_id = a1,
	                               .customer_id = cu,
	                               .channel = "email",
	                               .template = "booking_confirmation",
	                               .payload = "{\"to\":\"zoe@example.org\"}",
	                               .due_at = 1234},
	                       .now = 1200};
	ck_assert_int_eq(write_job(outbox_fn, &j), OTD_OK);
	ck_assert_int_eq(j.row.id, 1);
	/* The same key again: refused, nothing added, the first row unchanged. */
	struct outbox_job again = j;
	again.row.id = 0;
	again.row.channel = "sms";
	again.row.payload = "{\"to\":\"+447700900001\"}";
	ck_assert_int_eq(write_job(outbox_fn, &again), OTD_ECONFLICT);
	ck_assert_int_eq(again.row.id, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 1);
	ck_assert_str_eq(
	    sql_list("SELECT idem_key || '|' || appointment_id || '|' || customer_id || "
	             "'|' || channel || '|' || template || '|' || payload || '|' || "
	             "state || '|' || attempts || '|' || due_at || '|' || created_at "
	             "FROM outbox"),
	    "appt:1:v1:booked:email|1|1|email|booking_confirmation|"
	    "{\"to\":\"zoe@example.org\"}|pending|0|1234|1200");
	/* Another key: a second row; no appointment or customer stored as NULL. */
	struct outbox_job other = {.row = {.idem_key = "alert:1",
	                                   .channel = "webhook",
	                                   .template = "dispatcher_alert",
	                                   .payload = "{}",
	                                   .due_at = 5},
	                           .now = 6};
	ck_assert_int_eq(write_job(outbox_fn, &other), OTD_OK);
	ck_assert_int_eq(other.row.id, 2);
	ck_assert_str_eq(sql_list("SELECT coalesce(appointment_id, 'NULL') || ' ' || "
	                          "coalesce(customer_id, 'NULL') FROM outbox WHERE id = 2"),
	                 "NULL NULL");
	/* A channel outside the four is refused by the schema. */
	struct outbox_job bad = {
	    .row = {.idem_key = "k3", .channel = "fax", .template = "t", .payload = "{}"},
	    .now = 6};
	ck_assert_int_eq(write_job(outbox_fn, &bad), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_booking");
	TCase *tc = tcase_create("store_booking");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, contacts_are_found_by_their_phone_and_email_pair);
	tcase_add_test(tc, appointments_insert_get_move_and_cancel);
	tcase_add_test(tc, the_open_appointment_of_a_contact);
	tcase_add_test(tc, search_filters_and_queries);
	tcase_add_test(tc, route_items_in_route_order_with_live_holds);
	tcase_add_test(tc, holds_by_hash_per_client_and_as_offers);
	tcase_add_test(tc, an_expired_offer_puts_its_customer_back_in_the_queue);
	tcase_add_test(tc, waitlist_states);
	tcase_add_test(tc, links_live_expired_revoked_and_moved);
	tcase_add_test(tc, an_outbox_key_is_written_once);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
