/* Unit tests: the page cache block SQLite takes its cache pages from
 * (store_reserve_page_cache) and SQLite's memory statistics
 * (store_skip_memory_statistics). check runs each test in a process of its
 * own, so each starts with SQLite not yet started. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "testutil.h"

/* Opens path, makes a table of n rows of 1 KiB and reads it all back. */
static void fill_and_read(const char *path, int n)
{
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	char sql[256];
	snprintf(
	    sql, sizeof(sql),
	    "PRAGMA cache_size=-8192; CREATE TABLE t(x); WITH RECURSIVE c(i) AS (SELECT 1 "
	    "UNION ALL SELECT i + 1 FROM c WHERE i < %d) INSERT INTO t SELECT randomblob(1024) "
	    "FROM c; SELECT sum(length(x)) FROM t;",
	    n);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(pages_come_from_the_block)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_reserve_page_cache(4096, &err), OTD_OK); /* 4 MiB: 1,024 pages */
	char path[512];
	snprintf(path, sizeof(path), "%s/pc.db", testutil_tmpdir());
	remove(path);
	fill_and_read(path, 8000); /* about 2,700 pages: more than the block */
	int cur = 0, high = 0;
	ck_assert_int_eq(sqlite3_status(SQLITE_STATUS_PAGECACHE_USED, &cur, &high, 0), SQLITE_OK);
	/* The block was used up (SQLite keeps a few slots back), and once it
	 * was, the cache recycled its own pages rather than take more from
	 * the heap: the whole read still worked. */
	ck_assert_int_ge(high, 1000);
	ck_assert_int_le(high, 1024);
}
END_TEST

START_TEST(only_once_and_only_before_sqlite_starts)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_reserve_page_cache(1024, &err), OTD_OK);
	otd_error_clear(&err);
	ck_assert_int_eq(store_reserve_page_cache(1024, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "page_cache");
}
END_TEST

START_TEST(refused_once_sqlite_started)
{
	ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_reserve_page_cache(1024, &err), OTD_ESTATE);
	ck_assert_ptr_nonnull(strstr(err.message, "before any database is opened"));
	/* Nothing changed: SQLite still works, from the heap. */
	char path[512];
	snprintf(path, sizeof(path), "%s/pc2.db", testutil_tmpdir());
	remove(path);
	fill_and_read(path, 100);
	int cur = 0, high = 0;
	ck_assert_int_eq(sqlite3_status(SQLITE_STATUS_PAGECACHE_USED, &cur, &high, 0), SQLITE_OK);
	ck_assert_int_eq(high, 0);
}
END_TEST

START_TEST(zero_is_refused)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_reserve_page_cache(0, &err), OTD_ESTATE);
}
END_TEST

/* Memory statistics off: SQLite counts no allocation (the count a
 * database's use would raise stays at zero), and only before it starts. */
START_TEST(memory_statistics_off_before_sqlite_starts)
{
	ck_assert(store_skip_memory_statistics());
	char path[512];
	snprintf(path, sizeof(path), "%s/pc3.db", testutil_tmpdir());
	remove(path);
	fill_and_read(path, 100);
	ck_assert_int_eq(sqlite3_memory_used(), 0);
}
END_TEST

START_TEST(memory_statistics_stay_on_once_sqlite_started)
{
	ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
	ck_assert(!store_skip_memory_statistics());
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_gt(sqlite3_memory_used(), 0);
	sqlite3_close(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagecache");
	TCase *tc = tcase_create("pagecache");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pages_come_from_the_block);
	tcase_add_test(tc, only_once_and_only_before_sqlite_starts);
	tcase_add_test(tc, refused_once_sqlite_started);
	tcase_add_test(tc, zero_is_refused);
	tcase_add_test(tc, memory_statistics_off_before_sqlite_starts);
	tcase_add_test(tc, memory_statistics_stay_on_once_sqlite_started);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
