/* Unit tests: store/proposals.c on a migrated SQLite database through the
 * store: a proposal stored is read back while live and not once expired;
 * storing the next forgets the expired ones; removing tells whether it was
 * there, so a second remove (another node applying the same proposal)
 * finds nothing; an id stored twice is refused. Three nodes applying the
 * same proposal at once run in the PostgreSQL slice (test_pg_nodes.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/proposals.h"
#include "store/store.h"
#include "testutil.h"

static char *db_path;
static struct otd_store *store;

static void setup(void)
{
	db_path = testutil_migrated_db("proposals");
	store = testutil_store_open(db_path);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	remove(db_path);
	free(db_path);
}

struct job {
	const char *id, *body;
	int64_t expires_at, now;
	char *got;
	bool removed;
};

static enum otd_status put_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct job *j = arg;
	return store_proposal_put(tx, j->id, j->expires_at, j->body, j->now, err);
}

static enum otd_status get_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct job *j = arg;
	return store_proposal_get(c, j->id, j->now, &j->got, err);
}

static enum otd_status remove_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct job *j = arg;
	return store_proposal_remove(tx, j->id, &j->removed, err);
}

static enum otd_status put(const char *id, const char *body, int64_t expires_at, int64_t now)
{
	struct job j = {.id = id, .body = body, .expires_at = expires_at, .now = now};
	struct otd_error err;
	otd_error_clear(&err);
	return store_write(store, put_job, &j, &err);
}

/* The body stored for id at now (a heap string), or NULL. */
static char *get(const char *id, int64_t now)
{
	struct job j = {.id = id, .now = now};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_read(store, get_job, &j, &err) == OTD_OK, "%s", err.message);
	return j.got;
}

static bool take(const char *id)
{
	struct job j = {.id = id};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_write(store, remove_job, &j, &err) == OTD_OK, "%s", err.message);
	return j.removed;
}

START_TEST(stored_read_while_live_then_forgotten)
{
	ck_assert_int_eq(put("p1", "{\"date\":\"2026-03-05\"}", 1000, 100), OTD_OK);
	char *b = get("p1", 999);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b, "{\"date\":\"2026-03-05\"}");
	free(b);
	ck_assert_ptr_null(get("p1", 1000)); /* expired at expires_at */
	ck_assert_ptr_null(get("nope", 100));
	/* Storing the next deletes the expired ones. */
	ck_assert_int_eq(put("p2", "{}", 3000, 1000), OTD_OK);
	ck_assert_int_eq(testutil_sql_int(db_path, "SELECT count(*) FROM rebalance_proposals"), 1);
	ck_assert_int_eq(
	    testutil_sql_int(db_path, "SELECT count(*) FROM rebalance_proposals WHERE id = 'p2'"),
	    1);
}
END_TEST

START_TEST(taken_once)
{
	ck_assert_int_eq(put("p1", "{}", 1000, 100), OTD_OK);
	ck_assert(take("p1"));
	ck_assert(!take("p1")); /* another node got it first */
	ck_assert(!take("never"));
	ck_assert_ptr_null(get("p1", 100));
}
END_TEST

START_TEST(an_id_is_stored_once)
{
	ck_assert_int_eq(put("p1", "{}", 1000, 100), OTD_OK);
	ck_assert_int_eq(put("p1", "{\"other\":1}", 1000, 100), OTD_ECONFLICT);
	char *b = get("p1", 100);
	ck_assert_str_eq(b, "{}"); /* the first is kept */
	free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proposals");
	TCase *tc = tcase_create("proposals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stored_read_while_live_then_forgotten);
	tcase_add_test(tc, taken_once);
	tcase_add_test(tc, an_id_is_stored_once);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
