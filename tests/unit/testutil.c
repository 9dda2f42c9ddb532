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
