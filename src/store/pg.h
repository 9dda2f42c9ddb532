/* onthedot store internals: the PostgreSQL backend (libpq). The store's
 * public functions (store.h) dispatch here when the database setting is a
 * postgresql:// connection string; statements come through stmt.c.
 * Nothing outside src/store includes this header. */
#ifndef OTD_STORE_PG_H
#define OTD_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"
#include "store/store.h"

struct otd_conn;
struct otd_stmt;
struct pg_stmt;
struct pg_conn;
struct pg_store;

/* How pg_bind holds a value: pointing at the caller's bytes (valid until
 * the statement is reset), a copy, or the caller's bytes as binary. */
enum pg_bind_kind { PG_BIND_STATIC, PG_BIND_COPY, PG_BIND_BLOB };

/* The connection string with any password replaced by "***", for logs and
 * messages (a heap string). */
char *pg_url_redacted(const char *url);

/* Rewrites a statement written for both engines into PostgreSQL's
 * dialect: ?N and ? parameters to $N, "IS ?N" to IS NOT DISTINCT FROM,
 * two-argument min and max to LEAST and GREATEST, LIKE to ILIKE (SQLite's
 * LIKE ignores ASCII case), instr to strpos. String literals and quoted
 * names are left alone. *nparams receives the highest parameter number.
 * Returns a heap string. */
char *pg_translate(const char *sql, int *nparams);

/* Rewrites a migration (schema/NNN_*.sql, written for SQLite) for
 * PostgreSQL: INTEGER PRIMARY KEY becomes a BIGINT identity, INTEGER
 * BIGINT, REAL DOUBLE PRECISION, BLOB BYTEA, then pg_translate's
 * expression rules. Returns a heap string. */
char *pg_translate_schema(const char *ddl);

/* ---- statements (for stmt.c) -------------------------------------------- */

/* Prepares sql on c (a PostgreSQL connection); the server-side prepare
 * happens at the first step, once the parameters' kinds are known. */
struct otd_stmt *pg_prepare(struct otd_conn *c, const char *sql, bool persistent,
                            struct otd_error *err);
void pg_stmt_reset(struct pg_stmt *ps, bool clear_bindings);
void pg_stmt_free(struct pg_stmt *ps);
int pg_step(struct otd_stmt *st);
/* type: the PostgreSQL type OID to prepare the parameter with (20 bigint,
 * 701 double precision; 0 lets the server infer it). */
int pg_bind(struct pg_stmt *ps, int idx, const void *p, int n, enum pg_bind_kind kind,
            unsigned type);
int pg_param_count(struct pg_stmt *ps);
int64_t pg_column_int64(struct pg_stmt *ps, int i);
double pg_column_double(struct pg_stmt *ps, int i);
/* NULL for SQL NULL. */
const char *pg_column_text(struct pg_stmt *ps, int i);
const void *pg_column_blob(struct pg_stmt *ps, int i, int *n);
const char *pg_errmsg(struct pg_conn *pc);
/* Takes the session advisory lock key on a connection of its own, held
 * until pg_store_close, waiting at most wait_s seconds for another
 * process holding it to go: OTD_ECONFLICT "node_name_taken" if it does
 * not, OTD_EIO if the server cannot be reached. */
enum otd_status pg_store_hold_name(struct pg_store *ps, int64_t key, int wait_s,
                                   struct otd_error *err);

/* Takes the name lock of pg_store_hold_name again if its connection was
 * lost (the server restarted) and connects again: OTD_ECONFLICT
 * "node_name_taken" if another process took it meanwhile, OTD_EBUSY if the
 * server cannot be reached; OTD_OK otherwise (or when no name is held).
 * One thread (the ticker's) calls it. */
enum otd_status pg_store_renew_name(struct pg_store *ps, struct otd_error *err);

/* True when pc's connection to the server is gone (the server stopped or
 * restarted, the network failed, the session was ended). */
bool pg_conn_lost(struct pg_conn *pc);
enum otd_status pg_exec(struct otd_conn *c, const char *sql, struct otd_error *err);
int64_t pg_last_id(struct otd_conn *c);
int pg_changes(struct pg_conn *pc);

/* ---- the store (for db.c) ------------------------------------------------ */

/* Connects the pool (read_connections + PG_WRITE_CONNECTIONS) to the
 * database at opt->path and checks its schema version like the SQLite
 * store does. owner is the store the connections report counters to. */
enum otd_status pg_store_open(struct otd_store *owner, const struct otd_store_options *opt,
                              struct pg_store **out, struct otd_error *err);
void pg_store_close(struct pg_store *ps);

/* Runs fn in a SERIALIZABLE transaction on a pooled connection (at most
 * 12 write jobs of a node at once); a serialization failure or deadlock
 * rolls back and runs fn again (up to PG_RETRIES times), so a job behaves
 * as if it had been alone, as under SQLite's single writer. Every job
 * holds the write gate shared; after PG_ALONE_AFTER failures it holds it
 * exclusively, and runs alone across all nodes. fn must not start another
 * write job (it would wait behind a job waiting to run alone). Failures:
 * "database_busy" when the retries are spent or a lock waited past
 * lock_timeout, "database_unreachable" when the server cannot be reached,
 * "outcome_unknown" when the connection went during COMMIT (the job is not
 * run again). *outbox_dirty tells whether the committed transaction
 * queued a message. */
enum otd_status pg_store_write(struct pg_store *ps, store_write_fn fn, void *ctx,
                               bool *outbox_dirty, struct otd_error *err);

/* Runs fn in a REPEATABLE READ, READ ONLY transaction on a pooled
 * connection. */
enum otd_status pg_store_read(struct pg_store *ps, store_read_fn fn, void *ctx,
                              struct otd_error *err);

/* SET TRANSACTION ISOLATION LEVEL READ COMMITTED: store_relax_isolation. */
void pg_relax_isolation(struct otd_conn *tx);

/* pg_advisory_xact_lock on (visitor, day): held until the transaction ends. */
void pg_lock_scope(struct otd_conn *tx, int64_t visitor_id, const char *local_date);

/* Migrates the database at url to the latest schema (the translated
 * schema/NNN_*.sql), each migration in its own transaction, under a
 * session advisory lock so that nodes starting together migrate once.
 * *from and *to receive the versions. */
enum otd_status pg_migrate(const char *url, int *from, int *to, struct otd_error *err);

/* Counters for store_stats: write jobs run again, write jobs that went on
 * to run alone (the write gate), connections in use, the committed write
 * jobs' seconds in their transactions and in COMMIT. */
void pg_store_stats(struct pg_store *ps, uint64_t *retries, uint64_t *alone, int *pool_in_use,
                    double *busy_s, double *commit_s);

/* ---- notifications (for notify.c) ----------------------------------------- */

/* The connection string the store was opened with (password included:
 * never log it; pg_url_redacted for that). Lives as long as ps. */
const char *pg_store_url(struct pg_store *ps);

/* Runs SELECT pg_notify(channel, payload) on a pooled connection outside
 * any transaction, so the other sessions LISTENing on channel get payload
 * at once. Waits for a free connection like a write does (OTD_EBUSY);
 * OTD_EIO when the server refuses it (a payload of 8000 bytes or more). */
enum otd_status pg_store_notify(struct pg_store *ps, const char *channel, const char *payload,
                                struct otd_error *err);

/* The PostgreSQL backend of s; NULL for a SQLite store (db.c). */
struct pg_store *store_pg_backend(struct otd_store *s);

#endif
