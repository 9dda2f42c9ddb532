/* onthedot store: SQLite behind one interface.
 *
 * One writer connection owned by a writer thread and fed by a queue: the
 * changes of each write job are kept or undone as a whole (the first job
 * of a transaction alone in it, each later one in its own SAVEPOINT),
 * several share one COMMIT (group commit), and each caller is answered
 * only after its COMMIT. A caller
 * waits for the writer at most writer_wait_ms, then gets OTD_EBUSY (503
 * with Retry-After). Reads use a small pool of read-only connections, one
 * snapshot (BEGIN ... COMMIT) per store_read call. busy_timeout only
 * guards against other processes (an import, a backup).
 *
 * Serialisation point: store_lock_scope(tx, visitor, day). Under SQLite's
 * single writer it is a no-op; a PostgreSQL store takes an advisory lock.
 *
 * A path of the form postgresql://... (or postgres://...) opens a
 * PostgreSQL store instead (pg.c): a pool of connections, each write job
 * a SERIALIZABLE transaction retried on serialization failure, each read
 * a REPEATABLE READ snapshot. Several nodes may share it.
 * Use cases call it before reading anything they decide a booking on. */
#ifndef OTD_STORE_H
#define OTD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_store;
struct otd_conn; /* one connection, used by one thread at a time */

struct otd_store_options {
	const char *path;
	int read_connections; /* read pool size, >= 1 */
	int writer_queue;     /* jobs waiting before OTD_EBUSY, >= 1 */
	int writer_wait_ms;   /* longest a caller waits for its job to start */
	int busy_timeout_ms;  /* waiting for other processes' locks */
	int group_commit_max; /* jobs per COMMIT, >= 1 */
	bool synchronous_off; /* throw-away databases only (the simulator) */
};

/* True when path is a PostgreSQL connection string (postgresql:// or
 * postgres://) rather than a SQLite file. */
bool store_path_is_pg(const char *path);

/* path as it may be shown (logs, messages): a connection string's password
 * replaced by "***", a file path as it is. A heap string. */
char *store_path_shown(const char *path);

/* The page cache of each connection, KiB: the writer's and each reader's. */
#define STORE_WRITER_CACHE_KIB 65536
#define STORE_READER_CACHE_KIB 16384

/* Gives SQLite's page caches in this process one block of memory of kib
 * KiB (plus SQLite's header for each page), allocated and written now, so
 * that the process's resident memory does not grow as the caches fill
 * with the data: pages come from the block, and once it is nearly used
 * up a connection recycles its own pages before it takes heap memory.
 * Works only before SQLite starts in this process (no database opened
 * yet): otherwise, or when called a second time, fails with OTD_ESTATE
 * and changes nothing. The block lives until exit. */
enum otd_status store_reserve_page_cache(size_t kib, struct otd_error *err);

/* Turns off SQLite's memory statistics in this process (one mutex shared
 * by every connection, taken on each allocation SQLite makes), so
 * sqlite3_memory_used() and the heap limits stop counting. Works only
 * before SQLite starts in this process: returns false, changing nothing,
 * once it has. */
bool store_skip_memory_statistics(void);

/* Opens an existing, migrated database: the writer connection (WAL,
 * foreign keys; synchronous=NORMAL with the syncer thread syncing the log
 * before any write is answered, FULL when the log cannot be opened for it)
 * and the read pool, and starts the writer thread. Fails with
 * OTD_ENOTFOUND when the file does not exist and with OTD_ECONFLICT
 * (pending migrations) or OTD_ESTATE (a newer schema) when its schema is
 * not the one this build knows, naming the command to run. *out is owned
 * by the caller; close with store_close. */
enum otd_status store_open(const struct otd_store_options *opt, struct otd_store **out,
                           struct otd_error *err);

/* Stops the writer after the queued jobs, checkpoints, closes every
 * connection and frees the store. NULL is ignored. */
void store_close(struct otd_store *s);

/* The schema version this build migrates to (the number of the last
 * schema/NNN_*.sql file). */
int store_schema_latest(void);

/* Brings the database at path to the latest schema, creating the file when
 * create is true. A postgresql:// connection string migrates that
 * database instead (the same schema files, translated; no backup copy:
 * that is pg_dump's, see the README). A database that already has a schema is first copied to
 * "PATH.vFROM-YYYYMMDDTHHMMSSZ.bak" with SQLite's backup API (the copy's
 * name is returned in backup, which may be NULL; the caller frees it). Each
 * migration runs in its own transaction. A database from a newer onthedot
 * is refused with OTD_ESTATE. *from and *to receive the versions. */
enum otd_status store_migrate(const char *path, bool create, int busy_timeout_ms, int *from,
                              int *to, char **backup, struct otd_error *err);

/* A write job: runs on the writer thread inside a transaction. Return
 * OTD_OK to keep its changes; any other status undoes all of them (other
 * jobs in the same COMMIT are unaffected) and is returned to the caller
 * with err. The job must not block on anything but SQLite, and must not
 * end the transaction (no COMMIT, ROLLBACK or RELEASE of its own). */
typedef enum otd_status (*store_write_fn)(struct otd_conn *tx, void *ctx, struct otd_error *err);

/* Queues fn and waits until its transaction committed and (SQLite) a sync
 * of the log that covers the commit succeeded, or until it failed.
 * OTD_EBUSY with err->retry_after set when the queue is full, the job did
 * not start within writer_wait_ms, another process held the database
 * longer than busy_timeout_ms (code "database_busy"), or the storage
 * failed: the disk is full ("storage_full") or an I/O error
 * ("storage_unavailable"). On any failure nothing of the job is stored;
 * what was committed before stays. After a storage failure the writer
 * rolls back and, after an I/O error, reopens its connection, so later
 * jobs succeed once the disk does. One exception: when the sync of its
 * commit fails the job's changes may or may not be on the disk
 * ("outcome_unknown"), and every later job fails with
 * "storage_unavailable" until the store is opened again. */
enum otd_status store_write(struct otd_store *s, store_write_fn fn, void *ctx,
                            struct otd_error *err);

/* Asks the writer to call fn(arg) once the transaction holding the
 * current write job (tx) has committed: on the writer's thread, before the
 * job's caller is answered, in the order the jobs ran, so in commit order.
 * Not called when the job fails or its transaction is not committed. One
 * per job (a second call replaces the first). false, and fn is never
 * called, where commits have no single order (PostgreSQL, whose write
 * transactions run side by side) or tx is not in a write job. fn must be
 * quick and must not use the store. */
bool store_after_commit(struct otd_conn *tx, void (*fn)(void *), void *arg);

/* A read job: runs on a pooled read connection inside one snapshot. */
typedef enum otd_status (*store_read_fn)(struct otd_conn *c, void *ctx, struct otd_error *err);

/* Runs fn on a read connection and returns its status. OTD_EBUSY when no
 * connection frees up within writer_wait_ms. */
enum otd_status store_read(struct otd_store *s, store_read_fn fn, void *ctx,
                           struct otd_error *err);

/* The serialisation point for bookings: everything fn reads after this
 * call about visitor's route on local_date is stable until COMMIT. A no-op
 * under SQLite, whose writer is single. */
void store_lock_scope(struct otd_conn *tx, int64_t visitor_id, const char *local_date);

/* Asks for READ COMMITTED instead of SERIALIZABLE for this write job,
 * under PostgreSQL; a no-op under SQLite. Must be the job's first call,
 * before it reads anything. For jobs that lock what they change
 * themselves (FOR UPDATE SKIP LOCKED: the outbox's claims), which
 * SERIALIZABLE would only make collide with each other. */
void store_relax_isolation(struct otd_conn *tx);

/* Registers fn(arg), called on the writer thread after each COMMIT that
 * queued an outbox message (it must only wake someone: it may not block
 * or write). Set it once, before anything it wakes can be stopped. */
void store_on_outbox_commit(struct otd_store *s, void (*fn)(void *), void *arg);

/* Why a write job failed, for /metrics (otd_store_write_errors_total). */
enum otd_store_fault {
	STORE_FAULT_NONE = 0,
	STORE_FAULT_BUSY, /* queue full, wait over, or another process held the lock */
	STORE_FAULT_FULL, /* the disk is full (SQLITE_FULL) */
	STORE_FAULT_IO,   /* an I/O error (SQLITE_IOERR and its kinds) */
	STORE_FAULT_COUNT
};

/* Several nodes on one database (PostgreSQL): holds key, standing for this
 * node's name, for as long as s is open, so that no second process runs
 * under the same name, waiting up to wait_s seconds for one that is
 * stopping. OTD_ECONFLICT ("node_name_taken") when another holds it still.
 * SQLite (one process): does nothing, OTD_OK. */
enum otd_status store_hold_node_name(struct otd_store *s, int64_t key, int wait_s,
                                     struct otd_error *err);

/* Holds the name of store_hold_node_name again after its connection was
 * lost (the server restarted), from one thread (the ticker's, each pass):
 * OTD_ECONFLICT ("node_name_taken") if another process took it
 * meanwhile, OTD_EBUSY if the server cannot be reached. SQLite: OTD_OK. */
enum otd_status store_renew_node_name(struct otd_store *s, struct otd_error *err);

/* "busy", "full" or "io" ("none" for STORE_FAULT_NONE); never NULL. */
const char *store_fault_name(enum otd_store_fault fault);

/* Registers fn(arg, event, kind, detail), called on the writer thread when
 * writes start to fail for a reason outside the job (event
 * "store_writes_failing", kind "busy" for another process's lock, "full"
 * or "io", detail SQLite's words, never personal data), when the writer
 * replaced its connection after an I/O error ("store_writer_reopened")
 * and when a write reaches the disk again after such failures
 * ("store_writes_recovered", kind the one that had failed). PostgreSQL:
 * on the thread of the job that found out, "store_unreachable" (kind
 * "io", detail libpq's words) when the server cannot be reached and
 * "store_reachable" when it answers again. Each is called once per
 * change, not per failed job. fn may only log: it must not block or
 * write. Set it once, before writes start. */
void store_on_fault(struct otd_store *s,
                    void (*fn)(void *arg, const char *event, const char *kind, const char *detail),
                    void *arg);

struct otd_store_stats {
	int writer_queue_depth;
	uint64_t write_jobs;
	uint64_t commits;
	uint64_t db_errors;
	uint64_t busy_rejections;
	uint64_t pages_written; /* pages the writer wrote to the log, in all */
	double busy_seconds;    /* the writer's time inside transactions */
	double commit_seconds;  /* of which in COMMIT: the log written (and synced, when
	                         * the writer syncs it itself) */
	uint64_t syncs;         /* the syncer's syncs of the log (SQLite) */
	double sync_seconds;    /* their time, beside the writer's */
	int64_t wal_bytes;
	/* Write jobs answered with an error by kind ([STORE_FAULT_NONE] is
	 * unused): busy includes the queue and wait refusals above. */
	uint64_t write_errors[STORE_FAULT_COUNT];
	uint64_t writer_reopens; /* writer connections replaced after I/O errors */
	/* PostgreSQL: write jobs run again after a serialization failure (the
	 * queue depth above is then the pool's connections in use). */
	uint64_t serialization_retries;
	uint64_t writes_run_alone; /* of those, jobs that then ran alone (the write gate) */
};

/* A consistent-enough snapshot of counters for /metrics. */
void store_stats(struct otd_store *s, struct otd_store_stats *out);

/* Runs PRAGMA integrity_check and quick foreign key check on a read
 * connection; OTD_EIO with the first problem in err when not "ok". */
enum otd_status store_integrity_check(struct otd_store *s, struct otd_error *err);

/* Copies the whole write-ahead log into the database and truncates the
 * log to zero bytes (PRAGMA wal_checkpoint(TRUNCATE)) on a connection of
 * its own, waiting busy_timeout_ms for readers on older snapshots. After an
 * erasure no old page image stays in the log. *truncated false (and
 * OTD_OK) when readers or another writer kept it from finishing; the
 * writer truncates the log again once idle. OTD_EBUSY
 * ("storage_unavailable") after a failed sync of the log, which is kept for
 * the restart to recover. */
enum otd_status store_checkpoint_truncate(struct otd_store *s, bool *truncated,
                                          struct otd_error *err);

#endif
