/* SQLite connections, the read pool and the single writer with group
 * commit (DESIGN.md, Architecture). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/pg.h"
#include "store/sql.h"
#include "store/walvfs.h"

struct write_job {
	store_write_fn fn;
	void *ctx;
	struct otd_error *err;
	enum otd_status result;
	int fault; /* enum otd_store_fault when result is not OTD_OK */
	void (*after_fn)(void *); /* store_after_commit */
	void *after_arg;
	bool started;
	bool done;
	pthread_cond_t cv; /* signalled when done: only its caller wakes */
	struct write_job *next;
	struct write_job *sync_next; /* committed, in the syncer's list */
};

struct otd_store {
	struct otd_store_options opt;
	char *path;
	struct pg_store *pg; /* a PostgreSQL store: everything below but the
	                      * counters and hooks is unused */
	struct otd_conn *wconn;
	struct otd_conn **readers;
	bool *reader_busy;
	int n_readers;

	pthread_mutex_t mu;
	pthread_cond_t cv_writer; /* work arrived or stopping */
	pthread_cond_t cv_reader; /* a read connection was released */
	struct write_job *head, *tail;
	int depth;
	bool stopping;
	pthread_t writer;
	bool writer_started;

	/* The checkpointer: copies the log into the database beside the
	 * writer, on its own connection, so no commit waits for it. */
	struct otd_conn *cconn;
	pthread_t checkpointer;
	bool checkpointer_started;
	pthread_cond_t cv_ckpt;
	int wal_pages; /* pages in the log after the last commit */
	bool ckpt_stopping;

	/* The syncer: the writer commits with synchronous=NORMAL (the log
	 * written, not synced) and goes on with the next transaction while
	 * this thread syncs the log through a handle of its own and only then
	 * answers the jobs the sync covered (writer_main, syncer_main). NULL
	 * wal_file: the writer syncs in COMMIT itself (synchronous=FULL; or
	 * OFF, where nothing is synced). */
	sqlite3_file *wal_file;
	pthread_t syncer;
	bool syncer_started;
	pthread_cond_t cv_sync;
	struct write_job *sync_head, *sync_tail; /* committed, not yet synced */
	bool sync_stopping;
	/* A sync failed: what the log held may not be on disk, so the writer
	 * refuses every change until a restart (syncer_main). */
	_Atomic bool sync_failed;

	_Atomic uint64_t write_jobs, commits, db_errors, busy_rejections, pages_written;
	_Atomic uint64_t busy_ns, commit_ns; /* writer time in transactions, and in COMMIT */
	_Atomic uint64_t syncs, sync_ns;     /* the syncer's syncs of the log, and their time */
	_Atomic uint64_t write_errors[STORE_FAULT_COUNT], writer_reopens;

	/* The writer's view of the storage: the kind of fault writes fail with
	 * now (STORE_FAULT_NONE when they succeed), for the fault hook. Only
	 * the writer thread touches it. */
	int failing;
	void (*fault_hook)(void *, const char *, const char *, const char *);
	void *fault_hook_arg;

	/* Called after a COMMIT that queued messages (the delivery worker's
	 * wake-up); set once, read by the writer. */
	void (*_Atomic outbox_hook)(void *);
	void *_Atomic outbox_hook_arg;
};

void store_on_outbox_commit(struct otd_store *s, void (*fn)(void *), void *arg)
{
	atomic_store(&s->outbox_hook_arg, arg);
	atomic_store(&s->outbox_hook, fn);
}

void store_on_fault(struct otd_store *s,
                    void (*fn)(void *arg, const char *event, const char *kind, const char *detail),
                    void *arg)
{
	pthread_mutex_lock(&s->mu); /* the writer reads them under it */
	s->fault_hook = fn;
	s->fault_hook_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void store_tell(struct otd_store *s, const char *event, const char *kind, const char *detail)
{
	pthread_mutex_lock(&s->mu);
	void (*fn)(void *, const char *, const char *, const char *) = s->fault_hook;
	void *arg = s->fault_hook_arg;
	pthread_mutex_unlock(&s->mu);
	if(fn)
		fn(arg, event, kind, detail);
}

enum otd_status store_hold_node_name(struct otd_store *s, int64_t key, int wait_s,
                                     struct otd_error *err)
{
	return s->pg ? pg_store_hold_name(s->pg, key, wait_s, err) : OTD_OK;
}

enum otd_status store_renew_node_name(struct otd_store *s, struct otd_error *err)
{
	return s->pg ? pg_store_renew_name(s->pg, err) : OTD_OK;
}

struct pg_store *store_pg_backend(struct otd_store *s)
{
	return s->pg;
}

const char *store_fault_name(enum otd_store_fault fault)
{
	switch(fault) {
	case STORE_FAULT_BUSY: return "busy";
	case STORE_FAULT_FULL: return "full";
	case STORE_FAULT_IO: return "io";
	default: return "none";
	}
}

/* A full disk or a failing one is not over in a second: clients are asked
 * to come back later than after a busy answer. */
#define STORAGE_RETRY_AFTER_S 30

/* ---- connections ----------------------------------------------------- */

enum otd_status conn_fail(struct otd_conn *c, int rc, const char *what, struct otd_error *err)
{
	int base = rc & 0xff;
	c->fault_rc = rc;
	if(base == SQLITE_BUSY || base == SQLITE_LOCKED) {
		c->fault = STORE_FAULT_BUSY;
		if(c->store)
			atomic_fetch_add(&c->store->busy_rejections, 1);
		otd_error_set(err, OTD_EBUSY, "database_busy", NULL,
		              "The database is busy; try again in a moment.");
		if(err)
			err->retry_after = 1;
		return OTD_EBUSY;
	}
	if(base == SQLITE_CONSTRAINT) {
		return otd_error_set(err, OTD_ECONFLICT, "conflict", NULL,
		                     "This conflicts with what is stored (%s).", conn_errmsg(c));
	}
	if(c->store)
		atomic_fetch_add(&c->store->db_errors, 1);
	/* The storage failed, not the request: 503, so that clients retry
	 * once the operator has made room (nothing of this change is kept,
	 * everything committed before is). */
	if(base == SQLITE_FULL) {
		c->fault = STORE_FAULT_FULL;
		otd_error_set(
		    err, OTD_EBUSY, "storage_full", NULL,
		    "The server's disk is full, so this change was not saved (nothing saved "
		    "before is lost); try again in a few minutes.");
		if(err)
			err->retry_after = STORAGE_RETRY_AFTER_S;
		return OTD_EBUSY;
	}
	if(c->pg && pg_conn_lost(c->pg)) {
		/* PostgreSQL cannot be reached. Why (libpq's words, with the
		 * server's address) goes to the log once (store_unreachable), not
		 * to whoever asked. */
		c->fault = STORE_FAULT_IO;
		otd_error_set(err, OTD_EBUSY, "database_unreachable", NULL,
		              "The database cannot be reached just now, so this was not done "
		              "(nothing saved before is lost); try again in a moment.");
		if(err)
			err->retry_after = 5; /* a restart or a failover takes seconds */
		return OTD_EBUSY;
	}
	if(base == SQLITE_IOERR) {
		c->fault = STORE_FAULT_IO;
		otd_error_set(
		    err, OTD_EBUSY, "storage_unavailable", NULL,
		    "The server could not use its storage (%s during %s), so this change was "
		    "not saved (nothing saved before is lost); try again in a few minutes.",
		    c->db ? sqlite3_errstr(rc) : conn_errmsg(c), what);
		if(err)
			err->retry_after = STORAGE_RETRY_AFTER_S;
		return OTD_EBUSY;
	}
	return otd_error_set(err, OTD_EIO, "database_error", NULL, "Database error during %s: %s.",
	                     what, conn_errmsg(c));
}

/* Transaction control, run as often as requests: prepared once per
 * connection (sqlite3_exec would parse the text every time). */
static const char SQL_BEGIN[] = "BEGIN", SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE",
                  SQL_COMMIT[] = "COMMIT", SQL_ROLLBACK[] = "ROLLBACK",
                  SQL_SAVEPOINT[] = "SAVEPOINT job", SQL_ROLLBACK_TO[] = "ROLLBACK TO job",
                  SQL_RELEASE[] = "RELEASE job";

/* Runs one statement without results from the connection's cache. */
static enum otd_status conn_control(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, sql, err);
	if(!st)
		return err ? err->status : OTD_EIO;
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE && rc != DB_ROW)
		return conn_fail(c, rc, "exec", err);
	return OTD_OK;
}

static void conn_close(struct otd_conn *c)
{
	if(!c)
		return;
	for(size_t i = 0; i < c->n_cache; i++)
		db_finalize(c->cache[i].stmt);
	sqlite3_close(c->db);
	free(c);
}

static enum otd_status conn_open(struct otd_store *s, bool writer, struct otd_conn **out,
                                 struct otd_error *err)
{
	struct otd_conn *c = xcalloc(1, sizeof(*c));
	c->store = s;
	c->writer = writer;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(s->path, &c->db, flags, store_walvfs());
	if(rc != SQLITE_OK) {
		otd_error_set(err, OTD_EIO, "database_open_failed", "database",
		              "Cannot open the database %s: %s.", s->path,
		              c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_close(c);
		return OTD_EIO;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, s->opt.busy_timeout_ms);
	char pragmas[256];
	/* The writer switches to WAL only after the schema check (store_open),
	 * so a file that is not an onthedot database is left untouched. */
	/* A page cache of 64 MiB for the writer and 16 MiB for each reader:
	 * the default 2 MiB re-reads index pages from the OS on every write.
	 * Temporary storage in memory: write jobs run in savepoints (all but
	 * the first of a transaction), whose sub-journal would otherwise be a
	 * temporary file created, written and deleted on every transaction. secure_delete: what a
	 * write frees (an old row, a cleared payload) is overwritten with
	 * zeros, so an erasure leaves no copy in the file's free space. */
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s; PRAGMA cache_size=%d; "
	         "PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON; %s",
	         s->opt.synchronous_off ? "OFF" : "FULL",
	         writer ? -STORE_WRITER_CACHE_KIB : -STORE_READER_CACHE_KIB,
	         writer ? "" : "PRAGMA query_only=1;");
	enum otd_status st = conn_exec(c, pragmas, err);
	if(st) {
		conn_close(c);
		return st;
	}
	*out = c;
	return OTD_OK;
}

/* ---- schema check ---------------------------------------------------- */

static enum otd_status check_schema(struct otd_conn *c, const char *path, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "PRAGMA user_version", err);
	if(!st)
		return err ? err->status : OTD_EIO;
	int version = 0;
	if(db_step(st) == DB_ROW)
		version = db_column_int(st, 0);
	conn_done(st);
	int latest = store_schema_latest();
	if(version > latest)
		return otd_error_set(err, OTD_ESTATE, "schema_too_new", "database",
		                     "The database %s has schema version %d, newer than this onthedot "
		                     "knows (%d); run a newer onthedot.",
		                     path, version, latest);
	if(version < latest)
		return otd_error_set(err, OTD_ECONFLICT, "schema_pending", "database",
		                     "The database %s needs migrating from schema version %d to %d; run: "
		                     "onthedot migrate --db %s",
		                     path, version, latest, path);
	return OTD_OK;
}

/* ---- the writer ------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void finish_batch(struct otd_store *s, struct write_job **batch, int n)
{
	pthread_mutex_lock(&s->mu);
	for(int i = 0; i < n; i++) {
		batch[i]->done = true;
		pthread_cond_signal(&batch[i]->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Moves up to max - n queued jobs into batch[n..], marking them started.
 * Returns the new count. */
static int take_jobs(struct otd_store *s, struct write_job **batch, int n, int max)
{
	pthread_mutex_lock(&s->mu);
	while(s->head && n < max) {
		struct write_job *j = s->head;
		s->head = j->next;
		if(!s->head)
			s->tail = NULL;
		s->depth--;
		j->started = true;
		batch[n++] = j;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Marks jobs batch[from..n) failed with e (and fault). With ok_only, only
 * those that had succeeded: their changes went with the transaction. */
static void batch_fail(struct write_job **batch, int from, int n, const struct otd_error *e,
                       int fault, bool ok_only)
{
	for(int i = from; i < n; i++) {
		if(ok_only && batch[i]->result != OTD_OK)
			continue;
		*batch[i]->err = *e;
		batch[i]->result = e->status != OTD_OK ? e->status : OTD_EIO;
		batch[i]->fault = fault;
	}
}

/* Runs the jobs of one transaction. Jobs that arrive while earlier ones run
 * join it before the COMMIT (up to max): under load a commit, with its
 * sync and the pages every transaction rewrites, serves more callers.
 * Returns the fault that cost the whole transaction (STORE_FAULT_NONE when
 * it committed), for writer_recover. */
static int run_batch(struct otd_store *s, struct write_job **batch, int *np, int max,
                     uint64_t *commit_ns, int *pages)
{
	int n = *np, i = 0, fault = STORE_FAULT_NONE;
	struct otd_conn *c = s->wconn;
	struct otd_error berr, rerr;
	otd_error_clear(&berr);
	c->outbox_dirty = false;
	c->fault = STORE_FAULT_NONE;
	*pages = 0;
	if(conn_control(c, SQL_BEGIN_IMMEDIATE, &berr) != OTD_OK) {
		batch_fail(batch, 0, n, &berr, c->fault, false);
		return c->fault;
	}
	/* jobs_in: jobs whose changes the open transaction holds. The first
	 * job of a transaction runs without a savepoint: should it fail, the
	 * whole transaction, which holds nothing else, is rolled back and
	 * begun again, and the page copies a savepoint keeps are not made. */
	int jobs_in = 0;
	for(i = 0; i < n; i++) {
		struct write_job *j = batch[i];
		struct otd_error serr;
		if(i == n - 1)
			*np = n = take_jobs(s, batch, n, max);
		c->fault = STORE_FAULT_NONE;
		bool savepoint = jobs_in > 0;
		if(savepoint && conn_control(c, SQL_SAVEPOINT, &serr) != OTD_OK) {
			berr = serr;
			goto abort;
		}
		c->after_fn = NULL;
		j->result = j->fn(c, j->ctx, j->err);
		j->after_fn = j->result == OTD_OK ? c->after_fn : NULL;
		j->after_arg = c->after_arg;
		c->after_fn = NULL;
		if(j->result != OTD_OK) {
			if(j->err->status == OTD_OK)
				otd_error_set(j->err, j->result, NULL, NULL, "The change was not made (%s).",
				              otd_status_name(j->result));
			/* Query code returns OTD_EIO after a failed prepare whose
			 * err says busy or storage: the err is what it meant. */
			if(j->result == OTD_EIO && j->err->status == OTD_EBUSY)
				j->result = OTD_EBUSY;
			if(j->result == OTD_EBUSY || j->result == OTD_EIO)
				j->fault = c->fault;
			if(sqlite3_get_autocommit(c->db)) {
				/* SQLite rolled the whole transaction back (an I/O
				 * error, or a full disk outside a statement journal):
				 * the jobs before this one lost their changes too, and
				 * the rest must not run outside a transaction. */
				berr = *j->err;
				goto abort;
			}
			if(!savepoint) {
				/* Its transaction held nothing else: undone whole, and
				 * begun anew only for jobs still to run (the lock is not
				 * held for nothing). */
				if(conn_control(c, SQL_ROLLBACK, &serr) != OTD_OK) {
					berr = serr;
					goto abort;
				}
				c->outbox_dirty = false;
				if(i + 1 == n)
					return STORE_FAULT_NONE; /* nothing committed */
				if(conn_control(c, SQL_BEGIN_IMMEDIATE, &serr) != OTD_OK) {
					berr = serr;
					goto abort;
				}
				continue;
			}
			if(conn_control(c, SQL_ROLLBACK_TO, &serr) != OTD_OK) {
				berr = serr;
				goto abort;
			}
		}
		if(savepoint && conn_control(c, SQL_RELEASE, &serr) != OTD_OK) {
			berr = serr;
			goto abort;
		}
		if(j->result == OTD_OK && sqlite3_get_autocommit(c->db)) {
			/* The job said OK, but the transaction is gone (it ended it,
			 * or SQLite rolled it back under an error it did not pass
			 * on): nothing of it or before it is kept. */
			goto abort; /* which says the transaction was lost */
		}
		if(j->result == OTD_OK)
			jobs_in++;
	}
	c->fault = STORE_FAULT_NONE;
	uint64_t commit_start = mono_ns();
	enum otd_status cst = conn_control(c, SQL_COMMIT, &berr);
	*commit_ns = mono_ns() - commit_start;
	if(cst != OTD_OK) {
		/* A COMMIT that failed on a full disk or an I/O error has
		 * already been rolled back by SQLite; a busy one has not. */
		fault = c->fault;
		if(!sqlite3_get_autocommit(c->db))
			conn_control(c, SQL_ROLLBACK, &rerr);
		batch_fail(batch, 0, n, &berr, fault, true);
		return fault;
	}
	atomic_fetch_add(&s->commits, 1);
	for(int k = 0; k < n; k++)
		if(batch[k]->result == OTD_OK && batch[k]->after_fn)
			batch[k]->after_fn(batch[k]->after_arg);
	void (*hook)(void *) = atomic_load(&s->outbox_hook);
	if(c->outbox_dirty && hook)
		hook(atomic_load(&s->outbox_hook_arg));
	int cur = 0, hi = 0;
	if(sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 1) == SQLITE_OK) {
		atomic_fetch_add(&s->pages_written, (uint64_t)cur);
		*pages = cur;
	}
	return STORE_FAULT_NONE;
abort:
	fault = c->fault != STORE_FAULT_NONE ? c->fault : STORE_FAULT_IO;
	if(berr.status == OTD_OK)
		otd_error_set(&berr, OTD_EIO, "database_error", NULL,
		              "The change was not made: the database transaction was lost.");
	if(!sqlite3_get_autocommit(c->db))
		conn_control(c, SQL_ROLLBACK, &rerr);
	/* The jobs done before, this one unless it failed itself, and those
	 * that never ran. */
	batch_fail(batch, 0, i + 1, &berr, fault, true);
	batch_fail(batch, i + 1, n, &berr, fault, false);
	return fault;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages);

/* What every writer connection needs beyond conn_open: the log trimmed
 * back to 64 MiB after a checkpoint, the checkpoint hook, and, when the
 * syncer syncs the log, COMMIT without a sync of its own (checkpoints
 * still sync the log before copying it and the database after). */
static enum otd_status writer_setup(struct otd_store *s, struct otd_conn *c, struct otd_error *err)
{
	enum otd_status st = conn_exec(c, "PRAGMA journal_size_limit=67108864", err);
	if(st == OTD_OK && s->wal_file)
		st = conn_exec(c, "PRAGMA synchronous=NORMAL", err);
	if(st == OTD_OK)
		sqlite3_wal_hook(c->db, wal_hook, s);
	return st;
}

/* After a transaction lost to the storage: no statement may keep the
 * connection in SQLite's error state, and after an I/O error the writer
 * takes a fresh connection (SQLite may not trust the old one's view of
 * the files any more). Returns whether the connection was replaced. A
 * connection that cannot be opened now (the disk still failing) is tried
 * again after the next failure; the old one keeps serving meanwhile. */
static bool writer_recover(struct otd_store *s, int fault)
{
	struct otd_conn *c = s->wconn;
	for(sqlite3_stmt *st = sqlite3_next_stmt(c->db, NULL); st;
	    st = sqlite3_next_stmt(c->db, st))
		sqlite3_reset(st);
	struct otd_error e;
	if(!sqlite3_get_autocommit(c->db))
		conn_control(c, SQL_ROLLBACK, &e);
	if(fault != STORE_FAULT_IO && sqlite3_get_autocommit(c->db))
		return false;
	struct otd_conn *fresh = NULL;
	if(conn_open(s, true, &fresh, &e) != OTD_OK)
		return false;
	fresh->fault = STORE_FAULT_NONE;
	if(writer_setup(s, fresh, &e) != OTD_OK) {
		conn_close(fresh);
		return false;
	}
	s->wconn = fresh;
	conn_close(c);
	atomic_fetch_add(&s->writer_reopens, 1);
	return true;
}

/* The log is copied back once it holds this many pages (64 MiB: a page
 * changed many times in between is copied once); should the checkpointer
 * fall far behind, the writer checkpoints itself. */
#define CKPT_PAGES 16384
#define CKPT_WRITER_PAGES (4 * CKPT_PAGES)

/* Whether the log may be copied into the database: not after a failed
 * sync, when pages of the log the kernel could not write may read back
 * as what was on the disk before, and a checkpoint would copy them over
 * good pages. The log stays as it is for the restart to recover. */
static bool may_checkpoint(struct otd_store *s)
{
	return !atomic_load(&s->sync_failed);
}

/* Called by SQLite on the writer's thread after every commit. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct otd_store *s = arg;
	if(!may_checkpoint(s))
		return SQLITE_OK;
	if(pages >= CKPT_WRITER_PAGES) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if(pages >= CKPT_PAGES && s->checkpointer_started) {
		pthread_mutex_lock(&s->mu);
		s->wal_pages = pages;
		pthread_cond_signal(&s->cv_ckpt);
		pthread_mutex_unlock(&s->mu);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-checkpoint");
	struct otd_store *s = arg;
	pthread_mutex_lock(&s->mu);
	for(;;) {
		while(s->wal_pages < CKPT_PAGES && !s->ckpt_stopping)
			pthread_cond_wait(&s->cv_ckpt, &s->mu);
		if(s->ckpt_stopping)
			break;
		s->wal_pages = 0;
		pthread_mutex_unlock(&s->mu);
		/* PASSIVE: copies what no reader still needs, never blocks the
		 * writer; the writer restarts the log once all of it is copied. */
		if(may_checkpoint(s))
			sqlite3_wal_checkpoint_v2(s->cconn->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
			                          NULL, NULL);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Tells the fault hook when writes start failing for the storage or a
 * lock, and when they reach the disk again (pages written). */
static void writer_note(struct otd_store *s, int fault, int pages, bool reopened,
                        const char *detail)
{
	if(fault == STORE_FAULT_NONE && s->failing == STORE_FAULT_NONE)
		return; /* the usual case: nothing to tell */
	pthread_mutex_lock(&s->mu);
	void (*fn)(void *, const char *, const char *, const char *) = s->fault_hook;
	void *arg = s->fault_hook_arg;
	pthread_mutex_unlock(&s->mu);
	if(fault != STORE_FAULT_NONE && fault != s->failing) {
		s->failing = fault;
		if(fn)
			fn(arg, "store_writes_failing", store_fault_name(fault), detail);
	}
	if(reopened && fn)
		fn(arg, "store_writer_reopened", store_fault_name(fault), detail);
	if(fault == STORE_FAULT_NONE && pages > 0 && s->failing != STORE_FAULT_NONE) {
		if(fn)
			fn(arg, "store_writes_recovered", store_fault_name(s->failing), "");
		s->failing = STORE_FAULT_NONE;
	}
}

/* Opens the syncer's own handle on the log through the store's VFS (so a
 * test VFS below sees its syncs), creating the file if SQLite has not yet:
 * a log created here is synced with its directory on the first sync, as
 * SQLite does for its own. The name comes from c, which must stay open
 * as long as the handle. NULL when it cannot be opened: the writer then
 * syncs in COMMIT as before. */
static sqlite3_file *wal_file_open(struct otd_conn *c)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(store_walvfs());
	sqlite3_filename db = sqlite3_db_filename(c->db, "main");
	if(!vfs || !db)
		return NULL;
	sqlite3_file *f = xcalloc(1, (size_t)vfs->szOsFile);
	int out = 0;
	int rc = vfs->xOpen(vfs, sqlite3_filename_wal(db), f,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL, &out);
	if(rc != SQLITE_OK || !f->pMethods) {
		if(f->pMethods)
			f->pMethods->xClose(f);
		free(f);
		return NULL;
	}
	return f;
}

static void wal_file_close(sqlite3_file *f)
{
	if(!f)
		return;
	f->pMethods->xClose(f);
	free(f);
}

/* Syncs the log for the jobs the writer has committed, then answers them:
 * one sync covers every commit written before it began, so while it runs
 * the writer goes on and the next sync covers all that committed
 * meanwhile. Jobs are answered in commit order, a job only after the sync
 * of its commit succeeded. A failed sync leaves unknown what of the log
 * reached the disk (the kernel may drop the pages it could not write and
 * report success to a later sync): the jobs it covered are told so
 * ("outcome_unknown"; their changes are visible until a restart, which
 * recovers the log from the disk), and the store takes no more changes
 * (writer_main) until it is restarted, as PostgreSQL stops on a failed
 * fsync. */
static void *syncer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-syncer");
	struct otd_store *s = arg;
	pthread_mutex_lock(&s->mu);
	for(;;) {
		while(!s->sync_head && !s->sync_stopping)
			pthread_cond_wait(&s->cv_sync, &s->mu);
		if(!s->sync_head)
			break; /* stopping, and every job answered */
		struct write_job *list = s->sync_head;
		s->sync_head = s->sync_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		int rc = SQLITE_IOERR_FSYNC;
		bool failed_before = atomic_load(&s->sync_failed);
		if(!failed_before) {
			uint64_t t0 = mono_ns();
			rc = s->wal_file->pMethods->xSync(s->wal_file, SQLITE_SYNC_NORMAL);
			atomic_fetch_add(&s->sync_ns, mono_ns() - t0);
			atomic_fetch_add(&s->syncs, 1);
		}
		if(rc != SQLITE_OK) {
			struct otd_error e;
			otd_error_set(
			    &e, OTD_EBUSY, "outcome_unknown", NULL,
			    "The server's disk failed while this change was being saved, so "
			    "it may or may not have been saved; check before trying again "
			    "(a request with an Idempotency-Key may be repeated with the "
			    "same key once the service is back).");
			e.retry_after = STORAGE_RETRY_AFTER_S;
			for(struct write_job *j = list; j; j = j->sync_next)
				if(j->result == OTD_OK) {
					*j->err = e;
					j->result = OTD_EBUSY;
					j->fault = STORE_FAULT_IO;
				}
			if(!failed_before) {
				atomic_store(&s->sync_failed, true);
				char detail[256];
				snprintf(
				    detail, sizeof(detail),
				    "%s (%d) syncing the write-ahead log: the changes since the "
				    "last good sync may not be on disk; the service takes no more "
				    "changes until it is restarted (check the disk first)",
				    sqlite3_errstr(rc), rc);
				store_tell(s, "store_sync_failed", store_fault_name(STORE_FAULT_IO),
				           detail);
			}
		}
		pthread_mutex_lock(&s->mu);
		for(struct write_job *j = list; j; j = j->sync_next) {
			j->done = true;
			pthread_cond_signal(&j->cv);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Answers batch[0..n): at once when nothing of it waits for a sync (the
 * writer synced in COMMIT, or the transaction failed), else through the
 * syncer. */
static void answer_batch(struct otd_store *s, struct write_job **batch, int n, bool committed)
{
	if(!s->syncer_started || !committed) {
		finish_batch(s, batch, n);
		return;
	}
	pthread_mutex_lock(&s->mu);
	for(int i = 0; i < n; i++) {
		batch[i]->sync_next = NULL;
		if(s->sync_tail)
			s->sync_tail->sync_next = batch[i];
		else
			s->sync_head = batch[i];
		s->sync_tail = batch[i];
	}
	pthread_cond_signal(&s->cv_sync);
	pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-writer"); /* as top -H shows it */
	struct otd_store *s = arg;
	int max = s->opt.group_commit_max;
	struct write_job **batch = xcalloc((size_t)max, sizeof(*batch));
	bool dirty = false;
	for(;;) {
		pthread_mutex_lock(&s->mu);
		while(!s->head && !s->stopping) {
			if(dirty) {
				/* Idle: checkpoint once after a quiet second so the
				 * WAL does not grow without bound (TRAPS.md). */
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 1;
				if(pthread_cond_timedwait(&s->cv_writer, &s->mu, &ts) == ETIMEDOUT &&
				   !s->head) {
					pthread_mutex_unlock(&s->mu);
					if(may_checkpoint(s))
						sqlite3_wal_checkpoint_v2(
						    s->wconn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						    NULL, NULL);
					dirty = false;
					pthread_mutex_lock(&s->mu);
				}
			} else {
				pthread_cond_wait(&s->cv_writer, &s->mu);
			}
		}
		if(!s->head && s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		int n = take_jobs(s, batch, 0, max), pages = 0;
		if(atomic_load(&s->sync_failed)) {
			struct otd_error e;
			otd_error_set(
			    &e, OTD_EBUSY, "storage_unavailable", NULL,
			    "The server's disk failed to save changes, so this change was not "
			    "saved; the service takes no changes until it has been "
			    "restarted.");
			e.retry_after = STORAGE_RETRY_AFTER_S;
			batch_fail(batch, 0, n, &e, STORE_FAULT_IO, false);
			finish_batch(s, batch, n);
			writer_note(s, STORE_FAULT_IO, 0, false, "a sync of the log failed before");
			continue;
		}
		uint64_t t0 = mono_ns(), in_commit = 0;
		int fault = run_batch(s, batch, &n, max, &in_commit, &pages);
		/* busy first, read last (store_stats): commit never exceeds it */
		atomic_fetch_add(&s->busy_ns, mono_ns() - t0);
		atomic_fetch_add(&s->commit_ns, in_commit);
		dirty = true;
		char detail[160] = "";
		if(fault != STORE_FAULT_NONE)
			snprintf(detail, sizeof(detail), "%s (%d)",
			         sqlite3_errstr(s->wconn->fault_rc), s->wconn->fault_rc);
		bool reopened = (fault == STORE_FAULT_FULL || fault == STORE_FAULT_IO) &&
		                writer_recover(s, fault);
		/* Answer the callers first (once their commit is synced), then
		 * tell the operator. */
		answer_batch(s, batch, n, fault == STORE_FAULT_NONE);
		writer_note(s, fault, pages, reopened, detail);
	}
	free(batch);
	return NULL;
}

enum otd_status store_write(struct otd_store *s, store_write_fn fn, void *ctx,
                            struct otd_error *err)
{
	struct otd_error local;
	if(!err)
		err = &local;
	otd_error_clear(err);
	atomic_fetch_add(&s->write_jobs, 1);
	if(s->pg) {
		bool dirty = false;
		enum otd_status st = pg_store_write(s->pg, fn, ctx, &dirty, err);
		if(st == OTD_OK) {
			atomic_fetch_add(&s->commits, 1);
			void (*hook)(void *) = atomic_load(&s->outbox_hook);
			if(dirty && hook)
				hook(atomic_load(&s->outbox_hook_arg));
		} else if(err->status == OTD_EBUSY) {
			atomic_fetch_add(&s->write_errors[STORE_FAULT_BUSY], 1);
		}
		return st;
	}
	struct write_job job = {.fn = fn, .ctx = ctx, .err = err};
	pthread_mutex_lock(&s->mu);
	if(s->stopping || s->depth >= s->opt.writer_queue) {
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->busy_rejections, 1);
		atomic_fetch_add(&s->write_errors[STORE_FAULT_BUSY], 1);
		otd_error_set(err, OTD_EBUSY, "busy", NULL,
		              "The service is busy saving other changes; try again in a moment.");
		err->retry_after = 1;
		return OTD_EBUSY;
	}
	pthread_cond_init(&job.cv, NULL);
	if(s->tail)
		s->tail->next = &job;
	else
		s->head = &job;
	s->tail = &job;
	s->depth++;
	pthread_cond_signal(&s->cv_writer);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += s->opt.writer_wait_ms / 1000;
	deadline.tv_nsec += (long)(s->opt.writer_wait_ms % 1000) * 1000000L;
	if(deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while(!job.done) {
		if(job.started) {
			pthread_cond_wait(&job.cv, &s->mu);
			continue;
		}
		if(pthread_cond_timedwait(&job.cv, &s->mu, &deadline) == ETIMEDOUT &&
		   !job.started) {
			/* Still queued: take it out and tell the caller to retry. */
			struct write_job **pp = &s->head, *prev = NULL;
			while(*pp && *pp != &job) {
				prev = *pp;
				pp = &(*pp)->next;
			}
			if(*pp) {
				*pp = job.next;
				if(s->tail == &job)
					s->tail = prev;
				s->depth--;
			}
			pthread_mutex_unlock(&s->mu);
			pthread_cond_destroy(&job.cv);
			atomic_fetch_add(&s->busy_rejections, 1);
			atomic_fetch_add(&s->write_errors[STORE_FAULT_BUSY], 1);
			otd_error_set(err, OTD_EBUSY, "busy", NULL,
			              "The service is busy saving other changes; try again in a moment.");
			err->retry_after = 1;
			return OTD_EBUSY;
		}
	}
	pthread_mutex_unlock(&s->mu);
	pthread_cond_destroy(&job.cv);
	if(job.result != OTD_OK && job.fault > STORE_FAULT_NONE && job.fault < STORE_FAULT_COUNT)
		atomic_fetch_add(&s->write_errors[job.fault], 1);
	return job.result;
}

bool store_after_commit(struct otd_conn *tx, void (*fn)(void *), void *arg)
{
	if(!tx || !tx->db || !tx->writer || tx != tx->store->wconn)
		return false;
	tx->after_fn = fn;
	tx->after_arg = arg;
	return true;
}

/* ---- reads ----------------------------------------------------------- */

enum otd_status store_read(struct otd_store *s, store_read_fn fn, void *ctx,
                           struct otd_error *err)
{
	struct otd_error local;
	if(!err)
		err = &local;
	otd_error_clear(err);
	if(s->pg)
		return pg_store_read(s->pg, fn, ctx, err);
	pthread_mutex_lock(&s->mu);
	int idx = -1;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += s->opt.writer_wait_ms / 1000 + 1;
	for(;;) {
		for(int i = 0; i < s->n_readers; i++) {
			if(!s->reader_busy[i]) {
				idx = i;
				break;
			}
		}
		if(idx >= 0)
			break;
		if(pthread_cond_timedwait(&s->cv_reader, &s->mu, &deadline) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->mu);
			otd_error_set(err, OTD_EBUSY, "busy", NULL,
			              "The service is busy; try again in a moment.");
			err->retry_after = 1;
			return OTD_EBUSY;
		}
	}
	s->reader_busy[idx] = true;
	pthread_mutex_unlock(&s->mu);

	struct otd_conn *c = s->readers[idx];
	enum otd_status st = conn_control(c, SQL_BEGIN, err);
	if(st == OTD_OK) {
		st = fn(c, ctx, err);
		if(st == OTD_EIO && err->status == OTD_EBUSY)
			st = OTD_EBUSY; /* as in run_batch */
		struct otd_error cerr;
		conn_control(c, SQL_COMMIT, &cerr);
	}
	pthread_mutex_lock(&s->mu);
	s->reader_busy[idx] = false;
	pthread_cond_signal(&s->cv_reader);
	pthread_mutex_unlock(&s->mu);
	return st;
}

void store_relax_isolation(struct otd_conn *tx)
{
	if(tx->pg)
		pg_relax_isolation(tx);
}

void store_lock_scope(struct otd_conn *tx, int64_t visitor_id, const char *local_date)
{
	if(tx->pg) {
		pg_lock_scope(tx, visitor_id, local_date);
		return;
	}
	/* SQLite has one writer: the whole transaction is already serialised. */
	(void)tx;
	(void)visitor_id;
	(void)local_date;
}

/* ---- open and close -------------------------------------------------- */

enum otd_status store_open(const struct otd_store_options *opt, struct otd_store **out,
                           struct otd_error *err)
{
	if(store_path_is_pg(opt->path)) {
		struct otd_store *s = xcalloc(1, sizeof(*s));
		s->opt = *opt;
		s->path = pg_url_redacted(opt->path);
		s->opt.path = s->path;
		pthread_mutex_init(&s->mu, NULL);
		enum otd_status st = pg_store_open(s, opt, &s->pg, err);
		if(st) {
			pthread_mutex_destroy(&s->mu);
			free(s->path);
			free(s);
			return st;
		}
		*out = s;
		return OTD_OK;
	}
	struct stat sb;
	if(stat(opt->path, &sb) != 0)
		return otd_error_set(err, OTD_ENOTFOUND, "database_missing", "database",
		                     "The database %s does not exist; create it with: onthedot migrate "
		                     "--db %s (or onthedot demo --db %s for a demo town).",
		                     opt->path, opt->path, opt->path);
	struct otd_store *s = xcalloc(1, sizeof(*s));
	s->opt = *opt;
	s->path = xstrdup(opt->path);
	s->opt.path = s->path;
	if(s->opt.read_connections < 1)
		s->opt.read_connections = 1;
	if(s->opt.writer_queue < 1)
		s->opt.writer_queue = 1;
	if(s->opt.group_commit_max < 1)
		s->opt.group_commit_max = 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv_writer, NULL);
	pthread_cond_init(&s->cv_reader, NULL);
	pthread_cond_init(&s->cv_ckpt, NULL);
	pthread_cond_init(&s->cv_sync, NULL);
	enum otd_status st = conn_open(s, true, &s->wconn, err);
	if(st)
		goto fail;
	st = check_schema(s->wconn, s->path, err);
	if(st == OTD_OK)
		st = conn_exec(s->wconn, "PRAGMA journal_mode=WAL", err);
	if(st)
		goto fail;
	/* Checkpoints copy log pages into the database and sync it: on their
	 * own thread (wal_hook, checkpointer_main; the wal_hook replaces
	 * SQLite's automatic checkpoints), a commit never waits for one; idle
	 * periods still checkpoint at once and trim the file (writer_main). */
	if((st = conn_open(s, true, &s->cconn, err)))
		goto fail;
	if(pthread_create(&s->checkpointer, NULL, checkpointer_main, s) == 0)
		s->checkpointer_started = true;
	/* The log is synced beside the writer (syncer_main), unless nothing is
	 * synced at all (synchronous_off) or it cannot be: then in COMMIT. */
	if(!s->opt.synchronous_off && (s->wal_file = wal_file_open(s->cconn)) &&
	   pthread_create(&s->syncer, NULL, syncer_main, s) == 0)
		s->syncer_started = true;
	if(!s->syncer_started) {
		wal_file_close(s->wal_file);
		s->wal_file = NULL;
	}
	if((st = writer_setup(s, s->wconn, err)))
		goto fail;
	s->n_readers = s->opt.read_connections;
	s->readers = xcalloc((size_t)s->n_readers, sizeof(*s->readers));
	s->reader_busy = xcalloc((size_t)s->n_readers, sizeof(*s->reader_busy));
	for(int i = 0; i < s->n_readers; i++) {
		st = conn_open(s, false, &s->readers[i], err);
		if(st)
			goto fail;
	}
	if(pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		st = otd_error_set(err, OTD_EIO, "thread_failed", NULL,
		                   "The database writer thread could not start.");
		goto fail;
	}
	s->writer_started = true;
	*out = s;
	return OTD_OK;
fail:
	store_close(s);
	return st;
}

/* Sets *stopping under the store's lock, wakes the thread waiting on cv
 * and waits for it to end. */
static void stop_thread(struct otd_store *s, bool *stopping, pthread_cond_t *cv, pthread_t t)
{
	pthread_mutex_lock(&s->mu);
	*stopping = true;
	pthread_cond_signal(cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(t, NULL);
}

static void no_checkpoint_on_close(struct otd_conn *c)
{
	if(c)
		sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
}

void store_close(struct otd_store *s)
{
	if(!s)
		return;
	if(s->pg) {
		pg_store_close(s->pg);
		pthread_mutex_destroy(&s->mu);
		free(s->path);
		free(s);
		return;
	}
	if(s->writer_started)
		stop_thread(s, &s->stopping, &s->cv_writer, s->writer);
	if(s->syncer_started) /* after the writer: it answers what is left */
		stop_thread(s, &s->sync_stopping, &s->cv_sync, s->syncer);
	s->syncer_started = false;
	wal_file_close(s->wal_file); /* before cconn, whose name it uses */
	s->wal_file = NULL;
	if(s->checkpointer_started)
		stop_thread(s, &s->ckpt_stopping, &s->cv_ckpt, s->checkpointer);
	s->checkpointer_started = false;
	/* After a failed sync the log is left for the next start to recover:
	 * no checkpoint, not even SQLite's own as its last connection closes. */
	bool keep_log = !may_checkpoint(s);
	if(keep_log) {
		no_checkpoint_on_close(s->cconn);
		no_checkpoint_on_close(s->wconn);
		for(int i = 0; s->readers && i < s->n_readers; i++)
			no_checkpoint_on_close(s->readers[i]);
	}
	if(s->cconn)
		conn_close(s->cconn);
	for(int i = 0; s->readers && i < s->n_readers; i++)
		conn_close(s->readers[i]);
	if(s->wconn) {
		if(s->writer_started && !keep_log)
			sqlite3_wal_checkpoint_v2(s->wconn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
			                          NULL);
		conn_close(s->wconn);
	}
	free(s->readers);
	free(s->reader_busy);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv_writer);
	pthread_cond_destroy(&s->cv_reader);
	pthread_cond_destroy(&s->cv_ckpt);
	pthread_cond_destroy(&s->cv_sync);
	free(s->path);
	free(s);
}

void store_stats(struct otd_store *s, struct otd_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	out->writer_queue_depth = s->depth;
	pthread_mutex_unlock(&s->mu);
	out->write_jobs = atomic_load(&s->write_jobs);
	out->commits = atomic_load(&s->commits);
	out->db_errors = atomic_load(&s->db_errors);
	out->busy_rejections = atomic_load(&s->busy_rejections);
	out->pages_written = atomic_load(&s->pages_written);
	out->commit_seconds = (double)atomic_load(&s->commit_ns) / 1e9;
	out->busy_seconds = (double)atomic_load(&s->busy_ns) / 1e9;
	out->syncs = atomic_load(&s->syncs);
	out->sync_seconds = (double)atomic_load(&s->sync_ns) / 1e9;
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	struct stat sb;
	out->wal_bytes = !s->pg && stat(wal, &sb) == 0 ? (int64_t)sb.st_size : 0;
	for(int k = 0; k < STORE_FAULT_COUNT; k++)
		out->write_errors[k] = atomic_load(&s->write_errors[k]);
	out->writer_reopens = atomic_load(&s->writer_reopens);
	if(s->pg) {
		out->wal_bytes = 0;
		int in_use = 0;
		uint64_t retries = 0, alone = 0;
		pg_store_stats(s->pg, &retries, &alone, &in_use, &out->busy_seconds,
		               &out->commit_seconds);
		out->writer_queue_depth = in_use;
		out->serialization_retries = retries;
		out->writes_run_alone = alone;
	}
}

static enum otd_status integrity_job(struct otd_conn *c, void *ctx, struct otd_error *err)
{
	(void)ctx;
	if(c->pg) /* PostgreSQL checks its own pages (data checksums) */
		return OTD_OK;
	struct otd_stmt *st = conn_prepare(c, "PRAGMA integrity_check", err);
	if(!st)
		return OTD_EIO;
	enum otd_status result = OTD_OK;
	if(db_step(st) == DB_ROW) {
		const char *r = (const char *)db_column_text(st, 0);
		if(!r || strcmp(r, "ok") != 0)
			result = otd_error_set(err, OTD_EIO, "integrity_failed", NULL,
			                       "The database failed its integrity check: %s.",
			                       r ? r : "(no answer)");
	}
	conn_done(st);
	if(result)
		return result;
	st = conn_prepare(c, "PRAGMA foreign_key_check", err);
	if(!st)
		return OTD_EIO;
	if(db_step(st) == DB_ROW)
		result = otd_error_set(err, OTD_EIO, "foreign_key_failed", NULL,
		                       "The database has a broken reference in table %s.",
		                       db_column_text(st, 0));
	conn_done(st);
	return result;
}

enum otd_status store_integrity_check(struct otd_store *s, struct otd_error *err)
{
	return store_read(s, integrity_job, NULL, err);
}

enum otd_status store_checkpoint_truncate(struct otd_store *s, bool *truncated,
                                          struct otd_error *err)
{
	*truncated = false;
	if(s->pg) { /* no log of ours to truncate: VACUUM is PostgreSQL's */
		*truncated = true;
		return OTD_OK;
	}
	if(!may_checkpoint(s)) {
		otd_error_set(err, OTD_EBUSY, "storage_unavailable", NULL,
		              "The server's disk failed to save changes, so the log is kept as it "
		              "is until the service has been restarted.");
		if(err)
			err->retry_after = STORAGE_RETRY_AFTER_S;
		return OTD_EBUSY;
	}
	/* Its own connection: the writer's is busy in transactions and the
	 * checkpointer's belongs to its thread. The busy handler waits for
	 * readers on older snapshots (busy_timeout_ms). */
	struct otd_conn *c = NULL;
	enum otd_status st = conn_open(s, true, &c, err);
	if(st)
		return st;
	int log = -1, done = -1;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	if(rc == SQLITE_OK)
		*truncated = true;
	else if((rc & 0xff) != SQLITE_BUSY)
		st = conn_fail(c, rc, "checkpoint", err);
	conn_close(c);
	return st;
}
