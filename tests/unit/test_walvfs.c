/* Unit tests: store/walvfs.c, the VFS that writes each commit's log frames
 * in one call. On real files, with plain SQLite connections:
 *   - commits of one page and of many (more than the 124 KiB buffer) are
 *     read back whole by a second connection, with synchronous FULL and
 *     OFF (without a sync, the commit frame alone must trigger the write);
 *   - a reader in another thread always sees whole transactions (every
 *     batch of rows with its own sum) while the writer commits;
 *   - a writer process killed with SIGKILL in the middle of its commits
 *     leaves a database that passes integrity_check and holds only whole
 *     transactions, the last one reported committed among them;
 *   - a big transaction that spills pages to the log before its commit,
 *     reads them back and changes them again (checksums rewritten in
 *     place) is seen whole by another connection, with and without sync,
 *     and after a restart;
 *   - a file opened without power-safe overwrite (psow=0: SQLite pads
 *     commits around a sync) is written straight through, and a reader
 *     never sees an error or a torn transaction.
 * Each case ends with PRAGMA integrity_check. */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/walvfs.h"
#include "testutil.h"

static char *path(const char *name)
{
	static int seq;
	char *p = xasprintf("%s/walvfs-%s-%d-%d.db", testutil_tmpdir(), name, (int)getpid(), ++seq);
	remove(p);
	return p;
}

/* file may be a URI (file:...?psow=0). */
static sqlite3 *open_db(const char *file, const char *sync)
{
	const char *vfs = store_walvfs();
	ck_assert_ptr_nonnull(vfs);
	sqlite3 *db = NULL;
	ck_assert_int_eq(
	    sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
	                    vfs),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char sql[200];
	snprintf(sql, sizeof(sql),
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA wal_autocheckpoint=0",
	         sync);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static sqlite3_int64 one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	sqlite3_int64 v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* Inserts `rows` rows of `size` bytes in one transaction: batch b. */
static void insert_batch(sqlite3 *db, int b, int rows, int size)
{
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "INSERT INTO t(batch, n, pad) VALUES (?1, ?2, randomblob(?3))",
	                       -1, &st, NULL),
	    SQLITE_OK);
	for(int i = 0; i < rows; i++) {
		sqlite3_bind_int(st, 1, b);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_int(st, 3, size);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static const char *SCHEMA = "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INT, n INT, pad BLOB);"
                            "CREATE INDEX t_batch ON t(batch, n)";

static void small_and_large_commits(const char *sync)
{
	char *file = path(sync);
	sqlite3 *w = open_db(file, sync);
	ck_assert_int_eq(sqlite3_exec(w, SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	sqlite3 *r = open_db(file, sync);
	insert_batch(w, 1, 1, 10); /* a page or two */
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t"), 1);
	insert_batch(w, 2, 200, 3000); /* ~150 pages: several buffers */
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t WHERE batch = 2"), 200);
	ck_assert_int_eq(one(r, "SELECT sum(length(pad)) FROM t WHERE batch = 2"), 200 * 3000);
	insert_batch(w, 3, 3, 10);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t"), 204);
	integrity_ok(r);
	/* Everything also reaches the database file through a checkpoint. */
	ck_assert_int_eq(sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t"), 204);
	integrity_ok(w);
	sqlite3_close(r);
	sqlite3_close(w);
	free(file);
}

START_TEST(commits_are_read_back_whole_with_sync_full)
{
	small_and_large_commits("FULL");
}
END_TEST

START_TEST(commits_are_read_back_whole_without_sync)
{
	small_and_large_commits("OFF");
}
END_TEST

START_TEST(the_vfs_registers_once_and_is_not_the_default)
{
	const char *a = store_walvfs(), *b = store_walvfs();
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_nonnull(sqlite3_vfs_find(a));
	ck_assert_ptr_ne(sqlite3_vfs_find(NULL), sqlite3_vfs_find(a));
}
END_TEST

struct reader_arg {
	const char *file; /* may be a URI */
	volatile int stop;
	int checks;
	int torn;
};

static void *reader_main(void *p)
{
	struct reader_arg *a = p;
	sqlite3 *r = open_db(a->file, "FULL");
	sqlite3_stmt *st;
	/* Every batch b holds rows n = 1..b: a torn read would show a batch
	 * with fewer rows or a sum that does not match. */
	sqlite3_prepare_v2(r, "SELECT batch, count(*), sum(n) FROM t GROUP BY batch", -1, &st,
	                   NULL);
	while(!a->stop) {
		if(sqlite3_exec(r, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			a->torn++;
		int rc;
		while((rc = sqlite3_step(st)) == SQLITE_ROW) {
			sqlite3_int64 b = sqlite3_column_int64(st, 0),
			              c = sqlite3_column_int64(st, 1),
			              s = sqlite3_column_int64(st, 2);
			if(c != b || s != b * (b + 1) / 2)
				a->torn++;
		}
		if(rc != SQLITE_DONE && rc != SQLITE_BUSY) {
			/* a short read or corruption, not just an empty answer */
			a->torn++;
			fprintf(stderr, "reader: %s\n", sqlite3_errmsg(r));
		}
		sqlite3_reset(st);
		sqlite3_exec(r, "COMMIT", NULL, NULL, NULL);
		a->checks++;
	}
	sqlite3_finalize(st);
	sqlite3_close(r);
	return NULL;
}

static void concurrent_reader(const char *file, const char *sync)
{
	sqlite3 *w = open_db(file, sync);
	ck_assert_int_eq(sqlite3_exec(w, SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	struct reader_arg a = {.file = file};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, reader_main, &a), 0);
	for(int b = 1; b <= 120; b++) {
		insert_batch(w, b, b, b % 7 == 0 ? 3000 : 40);
		if(b % 40 == 0)
			sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	a.stop = 1;
	pthread_join(th, NULL);
	ck_assert_int_gt(a.checks, 0);
	ck_assert_int_eq(a.torn, 0);
	ck_assert_int_eq(one(w, "SELECT count(DISTINCT batch) FROM t"), 120);
	integrity_ok(w);
	sqlite3_close(w);
}

START_TEST(a_concurrent_reader_sees_only_whole_transactions)
{
	char *file = path("readers");
	concurrent_reader(file, "FULL");
	free(file);
}
END_TEST

START_TEST(a_concurrent_reader_sees_only_whole_transactions_without_sync)
{
	char *file = path("readers-off");
	concurrent_reader(file, "OFF");
	free(file);
}
END_TEST

/* Without power-safe overwrite SQLite pads each commit to a sector around
 * a sync; the layer then writes straight through. */
START_TEST(a_file_that_is_not_power_safe_is_written_straight_through)
{
	char *file = path("psow");
	char *uri = xasprintf("file:%s?psow=0", file);
	concurrent_reader(uri, "FULL");
	sqlite3 *r = open_db(uri, "FULL");
	insert_batch(r, 500, 3, 10);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t WHERE batch = 500"), 3);
	integrity_ok(r);
	sqlite3_close(r);
	free(uri);
	free(file);
}
END_TEST

START_TEST(a_killed_writer_leaves_only_whole_transactions)
{
	char *file = path("kill");
	sqlite3 *w = open_db(file, "FULL");
	ck_assert_int_eq(sqlite3_exec(w, SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);
	int pipefd[2];
	ck_assert_int_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if(pid == 0) {
		close(pipefd[0]);
		sqlite3 *c = open_db(file, "FULL");
		for(int b = 1;; b++) {
			insert_batch(c, b, b % 50 + 1, b % 5 == 0 ? 2500 : 30);
			int done = b;
			if(write(pipefd[1], &done, sizeof(done)) != sizeof(done))
				_exit(1);
		}
	}
	close(pipefd[1]);
	int last = 0, got;
	/* Let it commit for a while, then kill it in mid-stride. */
	while(last < 150 && read(pipefd[0], &got, sizeof(got)) == sizeof(got))
		last = got;
	kill(pid, SIGKILL);
	while(read(pipefd[0], &got, sizeof(got)) == sizeof(got))
		last = got;
	close(pipefd[0]);
	int status;
	waitpid(pid, &status, 0);
	ck_assert(WIFSIGNALED(status));
	sqlite3 *r = open_db(file, "FULL");
	integrity_ok(r);
	/* Every batch present is whole; every batch reported committed is there. */
	sqlite3_stmt *st;
	ck_assert_int_eq(
	    sqlite3_prepare_v2(r, "SELECT batch, count(*) FROM t GROUP BY batch", -1, &st, NULL),
	    SQLITE_OK);
	int batches = 0, max_batch = 0;
	while(sqlite3_step(st) == SQLITE_ROW) {
		int b = sqlite3_column_int(st, 0);
		ck_assert_int_eq(sqlite3_column_int(st, 1), b % 50 + 1);
		batches++;
		if(b > max_batch)
			max_batch = b;
	}
	sqlite3_finalize(st);
	ck_assert_int_ge(max_batch, last);
	ck_assert_int_eq(batches, max_batch);
	sqlite3_close(r);
	free(file);
}
END_TEST

/* A transaction bigger than its cache spills pages to the log before its
 * commit, reads them back, and may change them again (SQLite then
 * rewrites their checksums in place); another connection must see the
 * result whole, with and without a sync. */
static void spill(const char *sync)
{
	char *file = path(sync);
	sqlite3 *w = open_db(file, sync);
	ck_assert_int_eq(sqlite3_exec(w, "PRAGMA cache_size=10", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(w, SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	sqlite3 *r = open_db(file, sync);
	ck_assert_int_eq(sqlite3_exec(w, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(w,
	                 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
	                 "WHERE i < 2000) INSERT INTO t(batch, n, pad) "
	                 "SELECT 1, i, randomblob(500) FROM k",
	                 NULL, NULL, NULL),
	    SQLITE_OK); /* ~250 pages through a 10-page cache */
	ck_assert_int_eq(sqlite3_exec(w, "UPDATE t SET n = n + 1 WHERE n <= 100", NULL, NULL, NULL),
	                 SQLITE_OK); /* changes pages already spilled */
	ck_assert_int_eq(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(one(w, "SELECT count(*) FROM t"), 2000);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t"), 2000);
	ck_assert_int_eq(one(r, "SELECT sum(n) FROM t"), 2000 * 2001 / 2 + 100);
	/* Then a one-row change, seen by the reader at once. */
	ck_assert_int_eq(sqlite3_exec(w, "UPDATE t SET n = 0 WHERE id = 1", NULL, NULL, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(one(r, "SELECT n FROM t WHERE id = 1"), 0);
	integrity_ok(r);
	sqlite3_close(r);
	/* And after a restart, from the log alone. */
	sqlite3_close(w);
	sqlite3 *again = open_db(file, sync);
	ck_assert_int_eq(one(again, "SELECT sum(n) FROM t"), 2000 * 2001 / 2 + 100 - 2);
	integrity_ok(again);
	sqlite3_close(again);
	free(file);
}

START_TEST(a_transaction_larger_than_the_cache_reads_its_own_spilled_pages)
{
	spill("FULL");
}
END_TEST

START_TEST(a_spilled_transaction_is_whole_without_sync)
{
	spill("OFF");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walvfs");
	TCase *tc = tcase_create("walvfs");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_vfs_registers_once_and_is_not_the_default);
	tcase_add_test(tc, commits_are_read_back_whole_with_sync_full);
	tcase_add_test(tc, commits_are_read_back_whole_without_sync);
	tcase_add_test(tc, a_concurrent_reader_sees_only_whole_transactions);
	tcase_add_test(tc, a_killed_writer_leaves_only_whole_transactions);
	tcase_add_test(tc, a_transaction_larger_than_the_cache_reads_its_own_spilled_pages);
	tcase_add_test(tc, a_spilled_transaction_is_whole_without_sync);
	tcase_add_test(tc, a_concurrent_reader_sees_only_whole_transactions_without_sync);
	tcase_add_test(tc, a_file_that_is_not_power_safe_is_written_straight_through);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
