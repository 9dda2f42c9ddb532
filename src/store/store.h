/* onthedot store: SQLite behind one interface.
 *
 * One writer connection owned by a writer thread and fed by a queue: each
 * write job runs in its own SAVEPOINT, several share one COMMIT (group
 * commit), and each caller is answered only after its COMMIT. A caller
 * waits for the writer at most writer_wait_ms, then gets OTD_EBUSY (503
 * with Retry-After). Reads use a small pool of read-only connections, one
 * snapshot (BEGIN ... COMMIT) per store_read call. busy_timeout only
 * guards against other processes (an import, a backup).
 *
 * Serialisation point: store_lock_scope(tx, visitor, day). Under SQLite's
 * single writer it is a no-op; a PostgreSQL store takes an advisory lock.
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

/* Opens an existing, migrated database: the writer connection (WAL,
 * synchronous=FULL, foreign keys) and the read pool, and starts the writer
 * thread. Fails with OTD_ENOTFOUND when the file does not exist and with
 * OTD_ECONFLICT (pending migrations) or OTD_ESTATE (a newer schema) when
 * its schema is not the one this build knows, naming the command to run.
 * *out is owned by the caller; close with store_close. */
enum otd_status store_open(const struct otd_store_options *opt, struct otd_store **out,
                           struct otd_error *err);

/* Stops the writer after the queued jobs, checkpoints, closes every
 * connection and frees the store. NULL is ignored. */
void store_close(struct otd_store *s);

/* The schema version this build migrates to (the number of the last
 * schema/NNN_*.sql file). */
int store_schema_latest(void);

/* Brings the database at path to the latest schema, creating the file when
 * create is true. A database that already has a schema is first copied to
 * "PATH.vFROM-YYYYMMDDTHHMMSSZ.bak" with SQLite's backup API (the copy's
 * name is returned in backup, which may be NULL; the caller frees it). Each
 * migration runs in its own transaction. A database from a newer onthedot
 * is refused with OTD_ESTATE. *from and *to receive the versions. */
enum otd_status store_migrate(const char *path, bool create, int busy_timeout_ms, int *from,
                              int *to, char **backup, struct otd_error *err);

/* A write job: runs on the writer thread inside its own SAVEPOINT. Return
 * OTD_OK to keep its changes; any other status rolls back to the savepoint
 * (other jobs in the same COMMIT are unaffected) and is returned to the
 * caller with err. The job must not block on anything but SQLite. */
typedef enum otd_status (*store_write_fn)(struct otd_conn *tx, void *ctx, struct otd_error *err);

/* Queues fn and waits until its transaction committed (or failed).
 * OTD_EBUSY when the queue is full or the job did not start within
 * writer_wait_ms (err->retry_after set); OTD_EIO when the COMMIT failed, in
 * which case nothing of the job is stored. */
enum otd_status store_write(struct otd_store *s, store_write_fn fn, void *ctx,
                            struct otd_error *err);

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

/* Registers fn(arg), called on the writer thread after each COMMIT that
 * queued an outbox message (it must only wake someone: it may not block
 * or write). Set it once, before anything it wakes can be stopped. */
void store_on_outbox_commit(struct otd_store *s, void (*fn)(void *), void *arg);

struct otd_store_stats {
	int writer_queue_depth;
	uint64_t write_jobs;
	uint64_t commits;
	uint64_t db_errors;
	uint64_t busy_rejections;
	uint64_t pages_written; /* pages the writer wrote to the log, in all */
	double busy_seconds;    /* the writer's time inside transactions */
	double commit_seconds;  /* of which in COMMIT: the log written and synced */
	int64_t wal_bytes;
};

/* A consistent-enough snapshot of counters for /metrics. */
void store_stats(struct otd_store *s, struct otd_store_stats *out);

/* Runs PRAGMA integrity_check and quick foreign key check on a read
 * connection; OTD_EIO with the first problem in err when not "ok". */
enum otd_status store_integrity_check(struct otd_store *s, struct otd_error *err);

#endif
