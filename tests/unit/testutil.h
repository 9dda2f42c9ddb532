/* Helpers shared by the unit tests. */
#ifndef OTD_TESTUTIL_H
#define OTD_TESTUTIL_H

#include <check.h>

struct otd_store;

/* Runs suite s and returns the process exit status (0 when all passed). */
int testutil_run(Suite *s);

/* A fresh empty directory for this test process under OTD_TEST_TMP (or
 * /tmp). Returns a static path; the directory is not removed. */
const char *testutil_tmpdir(void);

/* A fresh database file <tmpdir>/<prefix>-<n>.db with every migration
 * applied; the path is the caller's (free). Fails the test otherwise. */
char *testutil_migrated_db(const char *prefix);

/* Opens the store on the database at path with small settings (one
 * reader, a writer queue of 8, 5 s waits, one job per commit); fails the
 * test otherwise. Close it with store_close. */
struct otd_store *testutil_store_open(const char *path);

/* Runs sql (several statements) on the database at path through a
 * connection of its own, foreign keys on; fails the test on an error. */
void testutil_sql_exec(const char *path, const char *sql);

/* The first column of the first row of query sql on the database at path
 * as an integer, -1 when there is no row; fails the test on an error. */
long long testutil_sql_int(const char *path, const char *sql);

/* The same as text ("NULL" for a null), on the heap (caller frees); fails
 * the test when there is no row. */
char *testutil_sql_text(const char *path, const char *sql);

#endif
