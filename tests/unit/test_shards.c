/* Unit tests: store/shards.c on a migrated SQLite database through the
 * store's writer: the shard of a visitor; the nodes alive (rank by id, the
 * count, nodes not seen within the window forgotten); claiming a shard
 * (the first claim, none again before due, again once due, by another
 * node once overdue, the row recording who passed it when). The advisory
 * locks are PostgreSQL's and run in the integration suite's PostgreSQL
 * slice (test_pg_nodes.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/shards.h"
#include "store/store.h"
#include "testutil.h"

static char *db_path;
static struct otd_store *store;

static void setup(void)
{
	db_path = testutil_migrated_db("shards");
	store = testutil_store_open(db_path);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	remove(db_path);
	free(db_path);
}

struct beat {
	const char *node;
	int64_t now, window;
	int rank, live;
};

static enum otd_status beat_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct beat *b = arg;
	return store_node_heartbeat(tx, b->node, b->now, b->window, &b->rank, &b->live, err);
}

static struct beat beat(const char *node, int64_t now)
{
	struct beat b = {.node = node, .now = now, .window = 3000, .rank = -1, .live = -1};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_write(store, beat_job, &b, &err) == OTD_OK, "%s", err.message);
	return b;
}

struct claim {
	int shard;
	const char *node;
	int64_t now, due;
	bool mine;
};

static enum otd_status claim_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct claim *c = arg;
	return store_shard_claim(tx, c->shard, c->node, c->now, c->due, &c->mine, err);
}

static bool claim(int shard, const char *node, int64_t now, int64_t due)
{
	struct claim c = {.shard = shard, .node = node, .now = now, .due = due, .mine = false};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_write(store, claim_job, &c, &err) == OTD_OK, "%s", err.message);
	return c.mine;
}

START_TEST(shard_of_a_visitor)
{
	ck_assert_int_eq(store_shard_of(0), 0);
	ck_assert_int_eq(store_shard_of(1), 1);
	ck_assert_int_eq(store_shard_of(STORE_TICKER_SHARDS), 0);
	ck_assert_int_eq(store_shard_of(STORE_TICKER_SHARDS * 7 + 5), 5);
	ck_assert_int_eq(store_shard_of(-1), STORE_TICKER_SHARDS - 1);
	for(int64_t v = 0; v < 1000; v++) {
		int s = store_shard_of(v);
		ck_assert(s >= 0 && s < STORE_TICKER_SHARDS);
	}
}
END_TEST

START_TEST(nodes_alive_rank_and_forgetting)
{
	struct beat b = beat("node-b", 10000);
	ck_assert_int_eq(b.live, 1);
	ck_assert_int_eq(b.rank, 0);
	b = beat("node-a", 10500);
	ck_assert_int_eq(b.live, 2);
	ck_assert_int_eq(b.rank, 0); /* sorted by id: a before b */
	b = beat("node-b", 11000);
	ck_assert_int_eq(b.live, 2);
	ck_assert_int_eq(b.rank, 1);
	b = beat("node-c", 11200);
	ck_assert_int_eq(b.live, 3);
	ck_assert_int_eq(b.rank, 2);
	/* node-a was last seen at 10500: more than 3000 ms before 13600. */
	b = beat("node-c", 13600);
	ck_assert_int_eq(b.live, 2);
	ck_assert_int_eq(b.rank, 1);
	ck_assert_int_eq(testutil_sql_int(db_path, "SELECT count(*) FROM ticker_nodes"), 2);
	ck_assert_int_eq(
	    testutil_sql_int(db_path, "SELECT count(*) FROM ticker_nodes WHERE node = 'node-a'"),
	    0);
}
END_TEST

START_TEST(claims_once_per_due_time)
{
	/* The first claim of a shard never passed. */
	ck_assert(claim(3, "node-a", 1000, 500));
	char *who = testutil_sql_text(db_path, "SELECT node || ':' || pass_at FROM ticker_shards "
	                                       "WHERE shard = 3");
	ck_assert_str_eq(who, "node-a:1000");
	free(who);
	/* Not again before the last pass is at or before due. */
	ck_assert(!claim(3, "node-a", 1200, 999));
	ck_assert(!claim(3, "node-b", 1200, 999));
	/* Due: passed at 1000 <= 1000. */
	ck_assert(claim(3, "node-b", 2000, 1000));
	who = testutil_sql_text(db_path, "SELECT node || ':' || pass_at FROM ticker_shards WHERE "
	                                 "shard = 3");
	ck_assert_str_eq(who, "node-b:2000");
	free(who);
	/* Other shards are separate. */
	ck_assert(claim(4, "node-a", 2000, 0));
	ck_assert_int_eq(testutil_sql_int(db_path, "SELECT count(*) FROM ticker_shards"), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shards");
	TCase *tc = tcase_create("shards");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, shard_of_a_visitor);
	tcase_add_test(tc, nodes_alive_rank_and_forgetting);
	tcase_add_test(tc, claims_once_per_due_time);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
