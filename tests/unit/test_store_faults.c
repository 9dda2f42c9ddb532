/* Unit tests: the store when the disk fails (store/db.c, store/walvfs.c).
 *
 * A test VFS ("faulty") is registered as the default before anything else,
 * so walvfs sits on it exactly as it sits on the unix VFS in the service. It
 * passes everything through, except that writes to the write-ahead log fail
 * on demand with SQLITE_FULL (ENOSPC) or SQLITE_IOERR_WRITE (EIO), at once
 * or after a number of writes that succeed, and syncs of the log with
 * SQLITE_IOERR_FSYNC; it counts how many log writes each good sync
 * covered. The tests check:
 *   - walvfs hands the failed write's error to SQLite, which rolls back;
 *     what was committed before is read back whole, and the same
 *     connection commits again once the disk does (also when the failure
 *     hits a held buffer in the middle of a big transaction);
 *   - store_write answers 503-style OTD_EBUSY with "storage_full" or
 *     "storage_unavailable" and a Retry-After, counts the fault by kind,
 *     tells the fault hook once when writes start failing and once when
 *     they recover, reopens the writer after an I/O error, and the next
 *     write succeeds without reopening the store;
 *   - a failed COMMIT of a group of jobs fails every job of it (none is
 *     stored), and a transaction SQLite rolled back under a job fails the
 *     jobs before it and never runs the rest outside a transaction;
 *   - a write is answered only after a sync of the log that covers its
 *     commit (the syncer's); a failed sync answers "outcome_unknown" to
 *     the jobs it covered and refuses every write after it, while reads go
 *     on, until the store is opened again;
 *   - a lock held by another process gives "database_busy" within
 *     busy_timeout_ms, reads go on, and writes work after it is released.
 * Each case ends with PRAGMA integrity_check. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/walvfs.h"
#include "testutil.h"

/* ---- the faulty VFS ------------------------------------------------------ */

static _Atomic int fail_rc;       /* SQLITE_OK: writes go through */
static _Atomic int fail_after;    /* log writes that still succeed first */
static _Atomic int wal_writes;    /* log writes seen */
static _Atomic int failed_writes; /* log writes refused */
static _Atomic int sync_fail_rc;  /* SQLITE_OK: syncs of the log succeed */
static _Atomic int wal_syncs;     /* syncs of the log that succeeded */
static _Atomic int synced_writes; /* log writes before the last good sync began */
/* While sync_hold, a sync of the log waits (sync_entered says one does). */
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cv = PTHREAD_COND_INITIALIZER;
static bool sync_hold, sync_entered;
static sqlite3_vfs *unix_vfs;
static sqlite3_vfs faulty_vfs;
static sqlite3_io_methods faulty_methods;

struct faulty_file {
	sqlite3_file base;
	sqlite3_file *real;
	int is_wal;
};

static void faults_set(int rc, int after)
{
	atomic_store(&fail_after, after);
	atomic_store(&failed_writes, 0);
	atomic_store(&fail_rc, rc);
}

#define REAL(file) (((struct faulty_file *)(file))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	if(((struct faulty_file *)f)->is_wal) {
		atomic_fetch_add(&wal_writes, 1);
		int rc = atomic_load(&fail_rc);
		if(rc != SQLITE_OK && atomic_fetch_sub(&fail_after, 1) <= 0) {
			atomic_fetch_add(&failed_writes, 1);
			return rc;
		}
	}
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	if(!((struct faulty_file *)f)->is_wal)
		return REAL(f)->pMethods->xSync(REAL(f), flags);
	pthread_mutex_lock(&sync_mu);
	if(sync_hold) {
		sync_entered = true;
		pthread_cond_broadcast(&sync_cv);
		while(sync_hold)
			pthread_cond_wait(&sync_cv, &sync_mu);
	}
	pthread_mutex_unlock(&sync_mu);
	int covers = atomic_load(&wal_writes);
	int rc = atomic_load(&sync_fail_rc);
	if(rc == SQLITE_OK)
		rc = REAL(f)->pMethods->xSync(REAL(f), flags);
	if(rc == SQLITE_OK) {
		atomic_fetch_add(&wal_syncs, 1);
		int was = atomic_load(&synced_writes);
		while(was < covers && !atomic_compare_exchange_weak(&synced_writes, &was, covers))
			;
	}
	return rc;
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int f_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int f_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                  int *out_flags)
{
	(void)vfs;
	struct faulty_file *f = (struct faulty_file *)file;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
	if(rc != SQLITE_OK || !f->real->pMethods) {
		f->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->base.pMethods = &faulty_methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xRandomness(unix_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return unix_vfs->xSleep(unix_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTime(unix_vfs, out);
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

static int v_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xGetLastError(unix_vfs, n, out);
}

/* Makes "faulty" the default VFS: walvfs, registered later, then wraps it. */
static void faulty_register(void)
{
	unix_vfs = sqlite3_vfs_find(NULL);
	if(!unix_vfs)
		abort();
	faulty_methods = (sqlite3_io_methods){
	    .iVersion = 3,
	    .xClose = f_close,
	    .xRead = f_read,
	    .xWrite = f_write,
	    .xTruncate = f_truncate,
	    .xSync = f_sync,
	    .xFileSize = f_file_size,
	    .xLock = f_lock,
	    .xUnlock = f_unlock,
	    .xCheckReservedLock = f_check_reserved,
	    .xFileControl = f_file_control,
	    .xSectorSize = f_sector_size,
	    .xDeviceCharacteristics = f_device_characteristics,
	    .xShmMap = f_shm_map,
	    .xShmLock = f_shm_lock,
	    .xShmBarrier = f_shm_barrier,
	    .xShmUnmap = f_shm_unmap,
	    .xFetch = f_fetch,
	    .xUnfetch = f_unfetch,
	};
	faulty_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct faulty_file) + unix_vfs->szOsFile,
	    .mxPathname = unix_vfs->mxPathname,
	    .zName = "faulty",
	    .xOpen = v_open,
	    .xDelete = v_delete,
	    .xAccess = v_access,
	    .xFullPathname = v_full_pathname,
	    .xDlOpen = unix_vfs->xDlOpen,
	    .xDlError = unix_vfs->xDlError,
	    .xDlSym = unix_vfs->xDlSym,
	    .xDlClose = unix_vfs->xDlClose,
	    .xRandomness = v_randomness,
	    .xSleep = v_sleep,
	    .xCurrentTime = v_current_time,
	    .xGetLastError = v_get_last_error,
	    .xCurrentTimeInt64 = v_current_time_int64,
	};
	if(sqlite3_vfs_register(&faulty_vfs, 1) != SQLITE_OK)
		abort(); /* outside a test: nothing to report to */
}

/* ---- helpers ----------------------------------------------------------------- */

static char *path(const char *name)
{
	static int seq;
	char *p = xasprintf("%s/faults-%s-%d.db", testutil_tmpdir(), name, ++seq);
	remove(p);
	return p;
}

static sqlite3 *open_db(const char *file)
{
	const char *vfs = store_walvfs();
	ck_assert_ptr_nonnull(vfs);
	sqlite3 *db = NULL;
	ck_assert_int_eq(
	    sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	                              "PRAGMA wal_autocheckpoint=0",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
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

/* Inserts rows of size bytes as batch b in one transaction; returns the
 * first error (the transaction then rolled back) or SQLITE_OK. */
static int insert_batch(sqlite3 *db, int b, int rows, int size)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if(rc != SQLITE_OK)
		return rc;
	sqlite3_stmt *st;
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "INSERT INTO t(batch, n, pad) VALUES (?1, ?2, randomblob(?3))",
	                       -1, &st, NULL),
	    SQLITE_OK);
	for(int i = 0; i < rows && rc == SQLITE_OK; i++) {
		sqlite3_bind_int(st, 1, b);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_int(st, 3, size);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if(rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if(rc != SQLITE_OK && !sqlite3_get_autocommit(db))
		ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	return rc;
}

/* Every batch in t is whole: rows 1..k with nothing missing. */
static void batches_whole(sqlite3 *db)
{
	ck_assert_int_eq(one(db, "SELECT count(*) FROM (SELECT batch FROM t GROUP BY batch "
	                         "HAVING count(*) != max(n))"),
	                 0);
}

/* ---- walvfs over a failing disk ------------------------------------------------ */

static void walvfs_failure(int fail, int after, int rows, int size, bool small_cache)
{
	char *file = path("walvfs");
	sqlite3 *w = open_db(file);
	if(small_cache) {
		/* A small cache: the big transaction spills pages to the log
		 * before its commit, so the failure meets held writes. */
		ck_assert_int_eq(sqlite3_exec(w, "PRAGMA cache_size=20", NULL, NULL, NULL),
		                 SQLITE_OK);
	}
	ck_assert_int_eq(sqlite3_exec(w,
	                              "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INT, n INT, "
	                              "pad BLOB)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3 *r = open_db(file);
	ck_assert_int_eq(insert_batch(w, 1, 50, 500), SQLITE_OK);
	faults_set(fail, after);
	int rc = insert_batch(w, 2, rows, size);
	ck_assert_int_eq(rc & 0xff, fail & 0xff);
	ck_assert_int_gt(atomic_load(&failed_writes), 0);
	ck_assert_int_eq(sqlite3_get_autocommit(w), 1);
	/* The reader sees what was committed, and nothing of the failed batch. */
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t WHERE batch = 1"), 50);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t WHERE batch = 2"), 0);
	/* The disk recovers: the same connection commits again. */
	faults_set(SQLITE_OK, 0);
	ck_assert_int_eq(insert_batch(w, 3, rows, size), SQLITE_OK);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t WHERE batch = 3"), rows);
	ck_assert_int_eq(one(r, "SELECT count(*) FROM t"), 50 + rows);
	batches_whole(r);
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
	/* And so does a fresh connection, after the log is replayed. */
	w = open_db(file);
	ck_assert_int_eq(one(w, "SELECT count(*) FROM t"), 50 + rows);
	batches_whole(w);
	integrity_ok(w);
	ck_assert_int_eq(sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
	                 SQLITE_OK);
	integrity_ok(w);
	sqlite3_close(w);
	free(file);
}

START_TEST(walvfs_returns_a_full_disk_at_commit)
{
	walvfs_failure(SQLITE_FULL, 0, 5, 100, false);
}
END_TEST

START_TEST(walvfs_returns_an_io_error_at_commit)
{
	walvfs_failure(SQLITE_IOERR_WRITE, 0, 5, 100, false);
}
END_TEST

START_TEST(walvfs_drops_a_held_buffer_that_failed_mid_transaction)
{
	/* ~600 pages through a 20-page cache: frames are held and flushed
	 * (about 30 pages at a time) many times before the commit; the fourth
	 * write to the log fails. */
	walvfs_failure(SQLITE_FULL, 3, 600, 3000, true);
}
END_TEST

START_TEST(walvfs_fails_late_in_a_big_commit)
{
	walvfs_failure(SQLITE_IOERR_WRITE, 8, 600, 3000, true);
}
END_TEST

/* ---- the store's writer ---------------------------------------------------------- */

struct events {
	pthread_mutex_t mu;
	char log[1024];
	int n;
};

static void on_fault(void *arg, const char *event, const char *kind, const char *detail)
{
	struct events *e = arg;
	pthread_mutex_lock(&e->mu);
	size_t len = strlen(e->log);
	snprintf(e->log + len, sizeof(e->log) - len, "%s:%s;", event, kind);
	e->n++;
	(void)detail;
	pthread_mutex_unlock(&e->mu);
}

static struct otd_store *open_store(char **out_path, int busy_ms, int wait_ms, struct events *ev)
{
	char *p = testutil_migrated_db("faults");
	testutil_sql_exec(p, "CREATE TABLE t(id INTEGER PRIMARY KEY, tag TEXT NOT NULL, "
	                     "pad BLOB)");
	struct otd_store_options o = {.path = p,
	                              .read_connections = 2,
	                              .writer_queue = 64,
	                              .writer_wait_ms = wait_ms,
	                              .busy_timeout_ms = busy_ms,
	                              .group_commit_max = 16};
	struct otd_store *s = NULL;
	struct otd_error err;
	ck_assert_msg(store_open(&o, &s, &err) == OTD_OK, "%s", err.message);
	if(ev) {
		memset(ev, 0, sizeof(*ev));
		pthread_mutex_init(&ev->mu, NULL);
		store_on_fault(s, on_fault, ev);
	}
	*out_path = p;
	return s;
}

static enum otd_status insert_tag(struct otd_conn *tx, void *ctx, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx, "INSERT INTO t(tag, pad) VALUES (?1, randomblob(3000))", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, ctx);
	return conn_step_done(tx, st, "insert", err);
}

static enum otd_status count_tag(struct otd_conn *c, void *ctx, struct otd_error *err)
{
	const char **q = ctx;
	struct otd_stmt *st = conn_prepare(c, "SELECT count(*) FROM t WHERE tag GLOB ?1", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, q[0]);
	int rc = db_step(st);
	*(long long *)q[1] = rc == DB_ROW ? db_column_int64(st, 0) : -1;
	conn_done(st);
	return rc == DB_ROW ? OTD_OK : conn_fail(c, rc, "count", err);
}

static long long count(struct otd_store *s, const char *glob)
{
	long long n = -2;
	const char *q[2] = {glob, (const char *)&n};
	struct otd_error err;
	ck_assert_int_eq(store_read(s, count_tag, q, &err), OTD_OK);
	return n;
}

static void write_ok(struct otd_store *s, const char *tag)
{
	struct otd_error err;
	enum otd_status st = store_write(s, insert_tag, (void *)tag, &err);
	ck_assert_msg(st == OTD_OK, "%s: %s", tag, err.message);
}

static void store_fault(int fail, const char *code, enum otd_store_fault kind, bool reopens)
{
	char *p;
	struct events ev;
	struct otd_store *s = open_store(&p, 1000, 2000, &ev);
	write_ok(s, "before-1");
	write_ok(s, "before-2");
	faults_set(fail, 0);
	for(int i = 0; i < 3; i++) {
		struct otd_error err;
		char tag[32];
		snprintf(tag, sizeof(tag), "lost-%d", i);
		ck_assert_int_eq(store_write(s, insert_tag, tag, &err), OTD_EBUSY);
		ck_assert_str_eq(err.code, code);
		ck_assert_int_eq(otd_status_http(err.status), 503);
		ck_assert_int_ge(err.retry_after, 1);
		ck_assert_msg(strstr(err.message, "nothing saved before is lost"), "%s",
		              err.message);
		/* Reads go on meanwhile. */
		ck_assert_int_eq(count(s, "before-*"), 2);
	}
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_int_eq(stats.write_errors[kind], 3);
	ck_assert_int_eq(stats.write_errors[STORE_FAULT_BUSY], 0);
	ck_assert_int_eq(stats.writer_reopens > 0, reopens);
	/* The disk recovers: no reopening of the store needed. */
	faults_set(SQLITE_OK, 0);
	write_ok(s, "after-1");
	write_ok(s, "after-2");
	ck_assert_int_eq(count(s, "before-*"), 2);
	ck_assert_int_eq(count(s, "lost-*"), 0);
	ck_assert_int_eq(count(s, "after-*"), 2);
	store_stats(s, &stats);
	ck_assert_int_eq(stats.write_errors[kind], 3);
	struct otd_error err;
	ck_assert_int_eq(store_integrity_check(s, &err), OTD_OK);
	store_close(s); /* the hook runs after the callers are answered: wait for it */
	char want[256];
	snprintf(want, sizeof(want), "store_writes_failing:%s;%sstore_writes_recovered:%s;",
	         store_fault_name(kind), reopens ? "store_writer_reopened:io;" : "",
	         store_fault_name(kind));
	if(reopens) {
		/* One reopening per failed write: each was an I/O error. */
		char three[256];
		snprintf(
		    three, sizeof(three),
		    "store_writes_failing:io;store_writer_reopened:io;store_writer_reopened:io;"
		    "store_writer_reopened:io;store_writes_recovered:io;");
		ck_assert_str_eq(ev.log, three);
	} else {
		ck_assert_str_eq(ev.log, want);
	}
	ck_assert_int_eq(testutil_sql_int(p, "SELECT count(*) FROM t"), 4);
	free(p);
}

/* Every write answered is covered by a sync of the log counted after its
 * commit was written: the syncer's, beside the writer. */
START_TEST(every_write_answered_is_covered_by_a_sync_of_the_log)
{
	char *p;
	struct otd_store *s = open_store(&p, 1000, 2000, NULL);
	int syncs_before = atomic_load(&wal_syncs);
	for(int i = 0; i < 20; i++) {
		char tag[32];
		snprintf(tag, sizeof(tag), "durable-%d", i);
		write_ok(s, tag);
		/* Nothing else writes to the log here: all written so far is
		 * this commit and those before it. */
		int written = atomic_load(&wal_writes), synced = atomic_load(&synced_writes);
		ck_assert_msg(synced >= written, "answered with %d log writes, %d synced", written,
		              synced);
	}
	ck_assert_int_ge(atomic_load(&wal_syncs) - syncs_before, 20);
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_int_ge(stats.syncs, 20); /* by the syncer, not in COMMIT */
	ck_assert_int_le(stats.syncs, stats.commits);
	ck_assert(stats.sync_seconds > 0);
	ck_assert_int_eq(count(s, "durable-*"), 20);
	store_close(s);
	free(p);
}
END_TEST

/* A failed sync of the log: the jobs it covered are told their outcome is
 * unknown, no change is taken after it until a restart, reads go on, and
 * the restarted store serves writes again. */
START_TEST(a_failed_log_sync_answers_outcome_unknown_and_stops_writes_until_restart)
{
	char *p;
	struct events ev;
	struct otd_store *s = open_store(&p, 1000, 2000, &ev);
	write_ok(s, "before");
	atomic_store(&sync_fail_rc, SQLITE_IOERR_FSYNC);
	struct otd_error err;
	ck_assert_int_eq(store_write(s, insert_tag, "unsure", &err), OTD_EBUSY);
	ck_assert_str_eq(err.code, "outcome_unknown");
	ck_assert_int_eq(otd_status_http(err.status), 503);
	ck_assert_int_ge(err.retry_after, 1);
	ck_assert_msg(strstr(err.message, "may or may not have been saved"), "%s", err.message);
	/* The disk answers again: the store still takes nothing, since what
	 * the failed sync covered may be lost under it, and copies nothing of
	 * the log into the database. */
	atomic_store(&sync_fail_rc, SQLITE_OK);
	bool truncated = true;
	ck_assert_int_eq(store_checkpoint_truncate(s, &truncated, &err), OTD_EBUSY);
	ck_assert_str_eq(err.code, "storage_unavailable");
	ck_assert(!truncated);
	for(int i = 0; i < 2; i++) {
		ck_assert_int_eq(store_write(s, insert_tag, "refused", &err), OTD_EBUSY);
		ck_assert_str_eq(err.code, "storage_unavailable");
		ck_assert_msg(strstr(err.message, "restarted"), "%s", err.message);
	}
	ck_assert_int_eq(count(s, "before"), 1); /* reads go on */
	ck_assert_int_eq(count(s, "refused"), 0);
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_int_eq(stats.write_errors[STORE_FAULT_IO], 3);
	store_close(s);
	ck_assert_str_eq(ev.log, "store_sync_failed:io;store_writes_failing:io;");
	/* Closed without a checkpoint: the log is still there. */
	char *wal = xasprintf("%s-wal", p);
	struct stat sb;
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_gt(sb.st_size, 0);
	free(wal);
	/* Restarted: the log is read back from the disk (here the sync only
	 * said it failed, so the unsure row is there) and writes work. */
	struct otd_store_options o = {.path = p,
	                              .read_connections = 1,
	                              .writer_queue = 8,
	                              .writer_wait_ms = 2000,
	                              .busy_timeout_ms = 1000,
	                              .group_commit_max = 4};
	ck_assert_msg(store_open(&o, &s, &err) == OTD_OK, "%s", err.message);
	write_ok(s, "after");
	ck_assert_int_eq(count(s, "*"), 3);
	ck_assert_int_eq(count(s, "unsure"), 1);
	ck_assert_int_eq(store_integrity_check(s, &err), OTD_OK);
	store_close(s);
	free(p);
}
END_TEST

START_TEST(a_full_disk_answers_storage_full_and_recovers)
{
	store_fault(SQLITE_FULL, "storage_full", STORE_FAULT_FULL, false);
}
END_TEST

START_TEST(an_io_error_reopens_the_writer_and_recovers)
{
	store_fault(SQLITE_IOERR_WRITE, "storage_unavailable", STORE_FAULT_IO, true);
}
END_TEST

/* A group of jobs whose COMMIT fails: a first job holds the writer until
 * the others are queued; they are then taken as one transaction. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;

static enum otd_status gate_job(struct otd_conn *tx, void *ctx, struct otd_error *err)
{
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while(!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return insert_tag(tx, ctx, err);
}

struct writer_arg {
	struct otd_store *s;
	store_write_fn fn;
	char tag[32];
	enum otd_status st;
	struct otd_error err;
	_Atomic bool returned;
};

static void *writer_thread(void *arg)
{
	struct writer_arg *a = arg;
	a->st = store_write(a->s, a->fn, a->tag, &a->err);
	atomic_store(&a->returned, true);
	return NULL;
}

/* A write's caller is not answered while the sync of the log after its
 * commit is held up, though readers already see the change (the price of
 * syncing beside the writer, README: Decisions). */
START_TEST(a_write_waits_for_the_sync_of_its_log)
{
	char *p;
	struct otd_store *s = open_store(&p, 1000, 10000, NULL);
	write_ok(s, "before");
	pthread_mutex_lock(&sync_mu);
	sync_hold = true;
	sync_entered = false;
	pthread_mutex_unlock(&sync_mu);
	struct writer_arg a = {.s = s, .fn = insert_tag, .tag = "held"};
	pthread_t t;
	pthread_create(&t, NULL, writer_thread, &a);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&sync_mu);
	while(!sync_entered && pthread_cond_timedwait(&sync_cv, &sync_mu, &until) == 0)
		;
	bool entered = sync_entered;
	pthread_mutex_unlock(&sync_mu);
	ck_assert_msg(entered, "no sync of the log began after the commit");
	usleep(200 * 1000);
	ck_assert_msg(!atomic_load(&a.returned), "answered before the sync of its log");
	ck_assert_int_eq(count(s, "held"), 1);
	pthread_mutex_lock(&sync_mu);
	sync_hold = false;
	pthread_cond_broadcast(&sync_cv);
	pthread_mutex_unlock(&sync_mu);
	pthread_join(t, NULL);
	ck_assert_msg(a.st == OTD_OK, "%s", a.err.message);
	store_close(s);
	free(p);
}
END_TEST

START_TEST(a_failed_group_commit_fails_every_job_of_it)
{
	char *p;
	struct otd_store *s = open_store(&p, 1000, 10000, NULL);
	write_ok(s, "before");
	gate_entered = gate_open = false;
	struct writer_arg a[6];
	pthread_t t[6];
	for(int i = 0; i < 6; i++) {
		a[i] = (struct writer_arg){.s = s, .fn = i == 0 ? gate_job : insert_tag};
		snprintf(a[i].tag, sizeof(a[i].tag), "group-%d", i);
		pthread_create(&t[i], NULL, writer_thread, &a[i]);
		if(i == 0) {
			pthread_mutex_lock(&gate_mu);
			while(!gate_entered)
				pthread_cond_wait(&gate_cv, &gate_mu);
			pthread_mutex_unlock(&gate_mu);
		}
	}
	struct otd_store_stats stats;
	for(int i = 0; i < 400; i++) {
		store_stats(s, &stats);
		if(stats.writer_queue_depth == 5)
			break;
		usleep(5000);
	}
	ck_assert_int_eq(stats.writer_queue_depth, 5);
	faults_set(SQLITE_FULL, 0);
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	for(int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(a[i].st, OTD_EBUSY);
		ck_assert_str_eq(a[i].err.code, "storage_full");
	}
	store_stats(s, &stats);
	ck_assert_int_eq(stats.write_errors[STORE_FAULT_FULL], 6);
	faults_set(SQLITE_OK, 0);
	ck_assert_int_eq(count(s, "group-*"), 0);
	write_ok(s, "after");
	ck_assert_int_eq(count(s, "*"), 2);
	store_close(s);
	free(p);
}
END_TEST

/* A job under which SQLite rolled the whole transaction back (as it does
 * after an I/O error in a statement): simulated with a ROLLBACK. */
static enum otd_status lose_transaction(struct otd_conn *tx, void *ctx, struct otd_error *err)
{
	(void)ctx;
	ck_assert_int_eq(sqlite3_exec(tx->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	return conn_fail(tx, SQLITE_IOERR_WRITE, "insert", err);
}

START_TEST(a_transaction_lost_under_a_job_fails_the_whole_group)
{
	char *p;
	struct otd_store *s = open_store(&p, 1000, 10000, NULL);
	gate_entered = gate_open = false;
	struct writer_arg a[4];
	pthread_t t[4];
	store_write_fn fns[4] = {gate_job, insert_tag, lose_transaction, insert_tag};
	for(int i = 0; i < 4; i++) {
		a[i] = (struct writer_arg){.s = s, .fn = fns[i]};
		snprintf(a[i].tag, sizeof(a[i].tag), "job-%d", i);
		pthread_create(&t[i], NULL, writer_thread, &a[i]);
		if(i == 0) {
			pthread_mutex_lock(&gate_mu);
			while(!gate_entered)
				pthread_cond_wait(&gate_cv, &gate_mu);
			pthread_mutex_unlock(&gate_mu);
		}
		/* Queued in this order. */
		struct otd_store_stats stats;
		for(int k = 0; k < 400; k++) {
			store_stats(s, &stats);
			if(stats.writer_queue_depth == i)
				break;
			usleep(5000);
		}
		ck_assert_int_eq(stats.writer_queue_depth, i);
	}
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	/* The gate job committed alone; jobs 1 to 3 were one transaction. */
	pthread_join(t[0], NULL);
	ck_assert_int_eq(a[0].st, OTD_OK);
	for(int i = 1; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(a[i].st == OTD_EBUSY, "job %d: %s", i, a[i].err.message);
		ck_assert_str_eq(a[i].err.code, "storage_unavailable");
	}
	/* Nothing of the lost group is stored, not even job 3, which never
	 * ran outside a transaction of its own. */
	ck_assert_int_eq(count(s, "job-*"), 1);
	ck_assert_int_eq(count(s, "job-0"), 1);
	write_ok(s, "after");
	ck_assert_int_eq(count(s, "*"), 2);
	struct otd_error err;
	ck_assert_int_eq(store_integrity_check(s, &err), OTD_OK);
	store_close(s);
	free(p);
}
END_TEST

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(a_lock_held_by_another_process_answers_busy_in_time)
{
	char *p;
	struct events ev;
	struct otd_store *s = open_store(&p, 300, 200, &ev);
	write_ok(s, "before");
	sqlite3 *other;
	ck_assert_int_eq(sqlite3_open(p, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	double t0 = mono_s();
	struct otd_error err;
	ck_assert_int_eq(store_write(s, insert_tag, "locked", &err), OTD_EBUSY);
	double waited = mono_s() - t0;
	ck_assert_str_eq(err.code, "database_busy");
	ck_assert_int_ge(err.retry_after, 1);
	ck_assert_msg(waited >= 0.25 && waited < 0.3 + 0.2 + 1.0, "waited %.3f s", waited);
	ck_assert_int_eq(count(s, "before"), 1); /* reads go on (WAL) */
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_int_eq(stats.write_errors[STORE_FAULT_BUSY], 1);
	ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	write_ok(s, "after");
	ck_assert_int_eq(count(s, "*"), 2);
	store_close(s);
	ck_assert_str_eq(ev.log, "store_writes_failing:busy;store_writes_recovered:busy;");
	free(p);
}
END_TEST

START_TEST(fault_names)
{
	ck_assert_str_eq(store_fault_name(STORE_FAULT_BUSY), "busy");
	ck_assert_str_eq(store_fault_name(STORE_FAULT_FULL), "full");
	ck_assert_str_eq(store_fault_name(STORE_FAULT_IO), "io");
	ck_assert_str_eq(store_fault_name(STORE_FAULT_NONE), "none");
	ck_assert_str_eq(store_fault_name(STORE_FAULT_COUNT), "none");
}
END_TEST

int main(void)
{
	faulty_register();
	Suite *s = suite_create("store_faults");
	TCase *tc = tcase_create("walvfs");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, walvfs_returns_a_full_disk_at_commit);
	tcase_add_test(tc, walvfs_returns_an_io_error_at_commit);
	tcase_add_test(tc, walvfs_drops_a_held_buffer_that_failed_mid_transaction);
	tcase_add_test(tc, walvfs_fails_late_in_a_big_commit);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_write_answered_is_covered_by_a_sync_of_the_log);
	tcase_add_test(tc, a_write_waits_for_the_sync_of_its_log);
	tcase_add_test(tc,
	               a_failed_log_sync_answers_outcome_unknown_and_stops_writes_until_restart);
	tcase_add_test(tc, a_full_disk_answers_storage_full_and_recovers);
	tcase_add_test(tc, an_io_error_reopens_the_writer_and_recovers);
	tcase_add_test(tc, a_failed_group_commit_fails_every_job_of_it);
	tcase_add_test(tc, a_transaction_lost_under_a_job_fails_the_whole_group);
	tcase_add_test(tc, a_lock_held_by_another_process_answers_busy_in_time);
	tcase_add_test(tc, fault_names);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
