/* onthedot store internals: the connection object and statement helpers
 * shared by the store's query files. Nothing outside src/store includes
 * this header. */
#ifndef OTD_STORE_SQL_H
#define OTD_STORE_SQL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"
#include "store/store.h"

#define CONN_STMT_CACHE 96

/* Result codes of db_step and the connection's last failure. They keep
 * SQLite's numbers (the PostgreSQL backend maps its SQLSTATEs onto them:
 * 23505 to DB_CONSTRAINT_UNIQUE, 40001 to DB_BUSY, 53100 to DB_FULL, a
 * lost connection to DB_IOERR), so conn_fail treats both alike. */
enum {
	DB_OK = 0,
	DB_ERROR = 1,
	DB_BUSY = 5,
	DB_LOCKED = 6,
	DB_IOERR = 10,
	DB_CORRUPT = 11,
	DB_FULL = 13,
	DB_CONSTRAINT = 19,
	DB_ROW = 100,
	DB_DONE = 101,
	DB_CONSTRAINT_FOREIGNKEY = DB_CONSTRAINT | (3 << 8),
	DB_CONSTRAINT_UNIQUE = DB_CONSTRAINT | (8 << 8),
};

struct pg_conn; /* the PostgreSQL backend's connection state (pg.c) */
struct pg_stmt; /* and its statements */

/* A prepared statement of either backend. Owned by its connection
 * (conn_prepare) or by the caller (conn_prepare_once, db_finalize). */
struct otd_stmt {
	struct otd_conn *conn;
	sqlite3_stmt *lite; /* SQLite: the statement; NULL under PostgreSQL */
	struct pg_stmt *pg; /* PostgreSQL: the statement; NULL under SQLite */
};

struct otd_conn {
	sqlite3 *db;        /* SQLite: the connection; NULL under PostgreSQL */
	struct pg_conn *pg; /* PostgreSQL: the connection; NULL under SQLite */
	struct otd_store *store;
	bool writer;
	bool outbox_dirty; /* this transaction queued a message */
	int fault;         /* enum otd_store_fault of the last conn_fail, reset by the writer */
	int fault_rc;      /* the result code (DB_*) of the last conn_fail */
	/* store_after_commit of the write job running on it (SQLite's writer) */
	void (*after_fn)(void *);
	void *after_arg;
	struct {
		const char *sql; /* keyed by address: callers pass string literals */
		struct otd_stmt *stmt;
	} cache[CONN_STMT_CACHE];
	size_t n_cache;
};

/* Returns a prepared statement for sql (a string literal: the cache is
 * keyed by its address), reset and with bindings cleared. NULL on a
 * prepare error, with err filled (OTD_EIO). The statement stays owned by
 * the connection; callers reset it when done (conn_done).
 *
 * SQL is written once for both backends: parameters are ?N (the
 * PostgreSQL backend rewrites them to $N), and only what both engines
 * accept is used (IS NOT DISTINCT FROM, COALESCE, ON CONFLICT,
 * CASE instead of two-argument MIN/MAX). Where the engines differ, the
 * caller picks the text with conn_is_pg. */
struct otd_stmt *conn_prepare(struct otd_conn *c, const char *sql, struct otd_error *err);

/* Prepares sql outside the cache (statements that run rarely). The
 * caller finalises it with db_finalize. NULL on error, err filled. */
struct otd_stmt *conn_prepare_once(struct otd_conn *c, const char *sql, struct otd_error *err);

/* Frees a statement from conn_prepare_once. NULL is ignored. */
void db_finalize(struct otd_stmt *st);

/* Resets a statement so it holds no read snapshot (TRAPS.md) and no
 * result. NULL is ignored. */
void conn_done(struct otd_stmt *st);

/* True when c is a PostgreSQL connection. */
bool conn_is_pg(const struct otd_conn *c);

/* Steps st: DB_ROW with a row to read, DB_DONE at the end, another DB_*
 * code on failure (pass it to conn_fail). Under PostgreSQL the first step
 * runs the statement and later steps walk its rows. */
int db_step(struct otd_stmt *st);

/* Binds parameter idx (from 1). Text and blobs bound with db_bind_text
 * and db_bind_blob must stay valid until the statement is reset;
 * db_bind_text_copy copies. A NULL text binds SQL NULL. Return DB_OK. */
int db_bind_int64(struct otd_stmt *st, int idx, int64_t v);
int db_bind_int(struct otd_stmt *st, int idx, int v);
int db_bind_double(struct otd_stmt *st, int idx, double v);
int db_bind_null(struct otd_stmt *st, int idx);
int db_bind_text(struct otd_stmt *st, int idx, const char *s);
int db_bind_text_copy(struct otd_stmt *st, int idx, const char *s);
int db_bind_blob(struct otd_stmt *st, int idx, const void *p, int n);

/* How many parameters the statement takes. */
int db_bind_parameter_count(struct otd_stmt *st);

/* Column i (from 0) of the current row. Booleans read as 0 or 1; NULL as
 * 0, 0.0, NULL text, NULL blob. Text and blobs stay valid until the next
 * step or reset. */
int64_t db_column_int64(struct otd_stmt *st, int i);
int db_column_int(struct otd_stmt *st, int i);
double db_column_double(struct otd_stmt *st, int i);
const unsigned char *db_column_text(struct otd_stmt *st, int i);
const void *db_column_blob(struct otd_stmt *st, int i);
int db_column_bytes(struct otd_stmt *st, int i);
bool db_column_is_null(struct otd_stmt *st, int i);

/* The engine's words for the connection's last error. */
const char *conn_errmsg(struct otd_conn *c);

/* Maps a result code to a status and fills err: BUSY/LOCKED give
 * OTD_EBUSY ("database_busy"), FULL and IOERR give OTD_EBUSY too
 * ("storage_full", "storage_unavailable": 503 with Retry-After, the
 * client may retry once the disk recovers), CONSTRAINT gives
 * OTD_ECONFLICT, everything else OTD_EIO. FULL, IOERR and the rest count
 * as database errors for /metrics; c->fault records the kind. what names
 * the operation. */
enum otd_status conn_fail(struct otd_conn *c, int rc, const char *what, struct otd_error *err);

/* Calls s's fault hook (store_on_fault), if one is set, with event, kind
 * and detail. */
void store_tell(struct otd_store *s, const char *event, const char *kind, const char *detail);

/* Steps a statement that returns no rows and resets it: OTD_OK on
 * DB_DONE, else conn_fail naming what. */
enum otd_status conn_step_done(struct otd_conn *c, struct otd_stmt *st, const char *what,
                               struct otd_error *err);

/* Copies column i as text into dst (size bytes; "" for NULL). */
void conn_column_copy(char *dst, size_t size, struct otd_stmt *st, int i);

/* Runs SQL without results (several statements allowed). */
enum otd_status conn_exec(struct otd_conn *c, const char *sql, struct otd_error *err);

/* Binds helpers: bind text that may be NULL (as SQL NULL), copied. */
int conn_bind_text(struct otd_stmt *st, int idx, const char *s);

/* A copy of column i as a heap string ("" for NULL). */
char *conn_column_dup(struct otd_stmt *st, int i);

/* The id of the row the last INSERT on this connection added (a table's
 * INTEGER PRIMARY KEY; under PostgreSQL its identity column). */
int64_t conn_last_id(struct otd_conn *c);

/* Number of rows changed by the last statement. */
int conn_changes(struct otd_conn *c);

#endif
