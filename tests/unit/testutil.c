#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/store.h"

int testutil_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *testutil_tmpdir(void)
{
	static char path[512];
	if(path[0])
		return path;
	const char *base = getenv("OTD_TEST_TMP");
	if(!base || !*base)
		base = "/tmp";
	mkdir(base, 0700);
	snprintf(path, sizeof(path), "%s/unit-%ld-XXXXXX", base, (long)getpid());
	if(!mkdtemp(path)) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

struct otd_store *testutil_store_open(const char *path)
{
	struct otd_store_options o = {.path = path,
	                              .read_connections = 1,
	                              .writer_queue = 8,
	                              .writer_wait_ms = 5000,
	                              .busy_timeout_ms = 5000,
	                              .group_commit_max = 1};
	struct otd_store *store = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(store_open(&o, &store, &err) == OTD_OK, "%s", err.message);
	return store;
}

char *testutil_migrated_db(const char *prefix)
{
	static int seq;
	char *path = xasprintf("%s/%s-%d.db", testutil_tmpdir(), prefix, ++seq);
	remove(path);
	struct otd_error err;
	otd_error_clear(&err);
	int from, to;
	ck_assert_msg(store_migrate(path, true, 1000, &from, &to, NULL, &err) == OTD_OK, "%s",
	              err.message);
	return path;
}

void testutil_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* The query's one statement, prepared on a connection of its own. */
static sqlite3_stmt *query(const char *path, const char *sql, sqlite3 **db)
{
	ck_assert_int_eq(sqlite3_open(path, db), SQLITE_OK);
	sqlite3_busy_timeout(*db, 5000);
	sqlite3_stmt *st = NULL;
	ck_assert_msg(sqlite3_prepare_v2(*db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(*db));
	return st;
}

long long testutil_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = query(path, sql, &db);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

char *testutil_sql_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = query(path, sql, &db);
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	char *out = xstrdup(t ? t : "NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}
