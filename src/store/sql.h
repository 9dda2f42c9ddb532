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

struct otd_conn {
	sqlite3 *db;
	struct otd_store *store;
	bool writer;
	bool outbox_dirty; /* this transaction queued a message */
	int fault;         /* enum otd_store_fault of the last conn_fail, reset by the writer */
	int fault_rc;      /* the SQLite result code of the last conn_fail */
	struct {
		const char *sql; /* keyed by address: callers pass string literals */
		sqlite3_stmt *stmt;
	} cache[CONN_STMT_CACHE];
	size_t n_cache;
};

/* Returns a prepared statement for sql (a string literal: the cache is
 * keyed by its address), reset and with bindings cleared. NULL on a
 * prepare error, with err filled (OTD_EIO). The statement stays owned by
 * the connection; callers reset it when done (conn_done). */
sqlite3_stmt *conn_prepare(struct otd_conn *c, const char *sql, struct otd_error *err);

/* Resets a statement so it holds no read snapshot (TRAPS.md). */
void conn_done(sqlite3_stmt *st);

/* Maps a SQLite result code to a status and fills err: BUSY/LOCKED give
 * OTD_EBUSY ("database_busy"), FULL and IOERR give OTD_EBUSY too
 * ("storage_full", "storage_unavailable": 503 with Retry-After, the
 * client may retry once the disk recovers), CONSTRAINT gives
 * OTD_ECONFLICT, everything else OTD_EIO. FULL, IOERR and the rest count
 * as database errors for /metrics; c->fault records the kind. what names
 * the operation. */
enum otd_status conn_fail(struct otd_conn *c, int rc, const char *what, struct otd_error *err);

/* Steps a statement that returns no rows and resets it: OTD_OK on
 * SQLITE_DONE, else conn_fail naming what. */
enum otd_status conn_step_done(struct otd_conn *c, sqlite3_stmt *st, const char *what,
                               struct otd_error *err);

/* Copies column i as text into dst (size bytes; "" for NULL). */
void conn_column_copy(char *dst, size_t size, sqlite3_stmt *st, int i);

/* Runs SQL without results (several statements allowed). */
enum otd_status conn_exec(struct otd_conn *c, const char *sql, struct otd_error *err);

/* Binds helpers: bind text that may be NULL (as SQL NULL). */
int conn_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* A copy of column i as a heap string ("" for NULL). */
char *conn_column_dup(sqlite3_stmt *st, int i);

/* The last inserted rowid on this connection. */
int64_t conn_last_id(struct otd_conn *c);

/* Number of rows changed by the last statement. */
int conn_changes(struct otd_conn *c);

#endif
