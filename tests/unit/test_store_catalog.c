/* Unit tests: the parts of store/catalog.c the use cases cannot reach
 * directly: idempotency keys as stored, and which appointments count as
 * open for a visitor, in which order. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/catalog.h"
#include "store/store.h"
#include "testutil.h"

static char *db_path;
static struct otd_store *store;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/store-catalog-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = {.path = db_path,
	                              .read_connections = 2,
	                              .writer_queue = 16,
	                              .writer_wait_ms = 2000,
	                              .busy_timeout_ms = 2000,
	                              .group_commit_max = 4};
	ck_assert_int_eq(store_open(&o, &store, &err), OTD_OK);
}

static void teardown(void)
{
	store_close(store);
	free(db_path);
}

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	char *msg = NULL;
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
	              msg ? msg : "");
	sqlite3_close(db);
}

/* ---- idempotency keys --------------------------------------------------- */

struct idem_job {
	const char *scope, *key, *entity;
	unsigned char hash[32];
	int64_t id;
	char entity_out[16];
	size_t entity_size;
};

static enum otd_status idem_put_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct idem_job *j = arg;
	return store_idem_put(tx, j->scope, j->key, j->hash, j->entity, j->id, 1000, err);
}

static enum otd_status idem_get_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct idem_job *j = arg;
	return store_idem_get(c, j->scope, j->key, j->hash, j->entity_out, j->entity_size, &j->id,
	                      err);
}

static enum otd_status idem_get(const char *scope, const char *key, struct idem_job *out,
                                size_t entity_size)
{
	memset(out, 0, sizeof(*out));
	out->scope = scope;
	out->key = key;
	out->id = -1;
	out->entity_size = entity_size;
	struct otd_error err;
	otd_error_clear(&err);
	return store_read(store, idem_get_job, out, &err);
}

START_TEST(idempotency_keys_round_trip_by_scope_and_key)
{
	struct idem_job got;
	ck_assert_int_eq(idem_get("token:1", "k", &got, sizeof(got.entity_out)), OTD_ENOTFOUND);
	ck_assert_int_eq(got.id, -1);

	struct idem_job put = {.scope = "token:1", .key = "k", .entity = "visitor", .id = 42};
	for(int i = 0; i < 32; i++)
		put.hash[i] = (unsigned char)(i * 7 + 1);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_write(store, idem_put_job, &put, &err), OTD_OK);

	ck_assert_int_eq(idem_get("token:1", "k", &got, sizeof(got.entity_out)), OTD_OK);
	ck_assert_int_eq(got.id, 42);
	ck_assert_str_eq(got.entity_out, "visitor");
	ck_assert(memcmp(got.hash, put.hash, 32) == 0);
	/* Another scope or key is another record. */
	ck_assert_int_eq(idem_get("token:2", "k", &got, sizeof(got.entity_out)), OTD_ENOTFOUND);
	ck_assert_int_eq(idem_get("token:1", "K", &got, sizeof(got.entity_out)), OTD_ENOTFOUND);
	/* The entity name is cut to the caller's buffer, never overflowing it. */
	ck_assert_int_eq(idem_get("token:1", "k", &got, 4), OTD_OK);
	ck_assert_str_eq(got.entity_out, "vis");

	/* The same scope and key cannot be stored twice. */
	put.id = 43;
	otd_error_clear(&err);
	ck_assert_int_eq(store_write(store, idem_put_job, &put, &err), OTD_ECONFLICT);
	ck_assert_int_eq(idem_get("token:1", "k", &got, sizeof(got.entity_out)), OTD_OK);
	ck_assert_int_eq(got.id, 42);
	/* The same key in another scope can. */
	put.scope = "user:7";
	put.entity = "visit_type";
	ck_assert_int_eq(store_write(store, idem_put_job, &put, &err), OTD_OK);
	ck_assert_int_eq(idem_get("user:7", "k", &got, sizeof(got.entity_out)), OTD_OK);
	ck_assert_int_eq(got.id, 43);
	ck_assert_str_eq(got.entity_out, "visit_type");
}
END_TEST

/* ---- open appointments ---------------------------------------------------- */

struct open_job {
	int64_t visitor, now;
	struct otd_appointment_brief *out;
	size_t n;
};

static enum otd_status open_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct open_job *j = arg;
	return store_visitor_open_appointments(c, j->visitor, j->now, &j->out, &j->n, err);
}

/* The open appointments of visitor at now as "REF status,REF status". */
static const char *open_refs(int64_t visitor, int64_t now)
{
	static char buf[512];
	struct open_job j = {visitor, now, NULL, 99};
	struct otd_error err;
	ck_assert_int_eq(store_read(store, open_job, &j, &err), OTD_OK);
	size_t off = 0;
	buf[0] = '\0';
	for(size_t i = 0; i < j.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s %s", i ? "," : "",
		                        j.out[i].reference, j.out[i].status);
	if(j.n == 0)
		ck_assert_ptr_null(j.out);
	free(j.out);
	return buf;
}

static void appt(const char *ref, int visitor, int64_t start, int64_t end, const char *status)
{
	const char *extra = "NULL, NULL, NULL, NULL";
	if(strcmp(status, "arrived") == 0)
		extra = "1, NULL, NULL, NULL";
	else if(strcmp(status, "done") == 0)
		extra = "1, 2, NULL, NULL";
	else if(strcmp(status, "cancelled") == 0)
		extra = "NULL, NULL, 1, 'organisation'";
	char *sql =
	    xasprintf("INSERT INTO appointments(reference, customer_id, address_id, "
	              "visit_type_id, visitor_id, local_date, window_start, window_end, "
	              "status, arrived_at, done_at, cancelled_at, cancelled_by, created_at, "
	              "updated_at) VALUES ('%s', 1, 1, 1, %d, '2026-03-04', %lld, %lld, '%s', "
	              "%s, 1, 1)",
	              ref, visitor, (long long)start, (long long)end, status, extra);
	sql_exec(sql);
	free(sql);
}

START_TEST(open_appointments_filter_by_status_and_window_in_order)
{
	sql_exec(
	    "INSERT INTO customers(name, email, created_at) VALUES ('Cy', 'cy@example.org', 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES ('1 High St', 'AB1 2CD', 'AB12CD', "
	    "'1 high st|AB12CD', 52.2, -1.5, 1, 1);"
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, "
	    "duration_spread, window_min, created_at, updated_at) VALUES ('boiler', 'Boiler', "
	    "1, 60, 0.3, 120, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann', 'Eng', 52, -1, 1, 1), ('Bob', 'Eng', 52, -1, 1, 1);");
	const int64_t now = 100000;
	/* Inserted out of order; two share a start (then the id decides). */
	appt("OTD-000005", 1, now + 5000, now + 6000, "booked");
	appt("OTD-000002", 1, now + 1000, now + 3000, "travelling");
	appt("OTD-000003", 1, now + 1000, now + 2000, "arrived");
	appt("OTD-000001", 1, now - 500, now + 1, "booked");      /* ends just after now */
	appt("OTD-000009", 1, now - 1000, now, "booked");         /* ends exactly now: over */
	appt("OTD-000006", 1, now + 100, now + 200, "done");      /* finished */
	appt("OTD-000007", 1, now + 100, now + 200, "no_access"); /* finished */
	appt("OTD-000008", 1, now + 100, now + 200, "cancelled"); /* finished */
	appt("OTD-000010", 2, now + 100, now + 200, "booked");    /* someone else's */
	ck_assert_str_eq(open_refs(1, now), "OTD-000001 booked,OTD-000002 travelling,"
	                                    "OTD-000003 arrived,OTD-000005 booked");
	ck_assert_str_eq(open_refs(2, now), "OTD-000010 booked");
	ck_assert_str_eq(open_refs(3, now), "");
	/* Later, fewer remain. */
	ck_assert_str_eq(open_refs(1, now + 2000), "OTD-000002 travelling,OTD-000005 booked");
	ck_assert_str_eq(open_refs(1, now + 6000), "");

	/* The brief carries the window and date. */
	struct open_job j = {2, now, NULL, 0};
	struct otd_error err;
	ck_assert_int_eq(store_read(store, open_job, &j, &err), OTD_OK);
	ck_assert_uint_eq(j.n, 1);
	ck_assert_int_gt(j.out[0].id, 0);
	ck_assert_int_eq(j.out[0].window_start, now + 100);
	ck_assert_int_eq(j.out[0].window_end, now + 200);
	ck_assert_str_eq(j.out[0].local_date, "2026-03-04");
	free(j.out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_catalog");
	TCase *tc = tcase_create("store_catalog");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, idempotency_keys_round_trip_by_scope_and_key);
	tcase_add_test(tc, open_appointments_filter_by_status_and_window_in_order);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
