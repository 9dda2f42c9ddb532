/* Statements of either backend: the SQLite calls here, PostgreSQL's in
 * pg.c. The query files use only this interface (sql.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/pg.h"
#include "store/sql.h"

/* ---- preparing --------------------------------------------------------- */

static struct otd_stmt *lite_prepare(struct otd_conn *c, const char *sql, bool persistent,
                                     struct otd_error *err)
{
	sqlite3_stmt *ls = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &ls,
	                            NULL);
	if(rc != SQLITE_OK) {
		sqlite3_finalize(ls);
		conn_fail(c, rc, "prepare", err);
		return NULL;
	}
	struct otd_stmt *st = xcalloc(1, sizeof(*st));
	st->conn = c;
	st->lite = ls;
	return st;
}

static struct otd_stmt *backend_prepare(struct otd_conn *c, const char *sql, bool persistent,
                                        struct otd_error *err)
{
	if(c->pg)
		return pg_prepare(c, sql, persistent, err);
	return lite_prepare(c, sql, persistent, err);
}

struct otd_stmt *conn_prepare(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	for(size_t i = 0; i < c->n_cache; i++) {
		if(c->cache[i].sql == sql) {
			struct otd_stmt *st = c->cache[i].stmt;
			if(st->lite) {
				sqlite3_reset(st->lite);
				sqlite3_clear_bindings(st->lite);
			} else {
				pg_stmt_reset(st->pg, true);
			}
			return st;
		}
	}
	struct otd_stmt *st = backend_prepare(c, sql, c->n_cache < CONN_STMT_CACHE, err);
	if(!st)
		return NULL;
	if(c->n_cache < CONN_STMT_CACHE) {
		c->cache[c->n_cache].sql = sql;
		c->cache[c->n_cache].stmt = st;
		c->n_cache++;
	} else {
		/* Not expected: the store has fewer distinct queries than the
		 * cache holds. Keep working, uncached, and leak nothing: the
		 * statement is finalised when the connection closes. */
		db_finalize(c->cache[CONN_STMT_CACHE - 1].stmt);
		c->cache[CONN_STMT_CACHE - 1].sql = sql;
		c->cache[CONN_STMT_CACHE - 1].stmt = st;
	}
	return st;
}

struct otd_stmt *conn_prepare_once(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	return backend_prepare(c, sql, false, err);
}

void db_finalize(struct otd_stmt *st)
{
	if(!st)
		return;
	if(st->lite)
		sqlite3_finalize(st->lite);
	else
		pg_stmt_free(st->pg);
	free(st);
}

void conn_done(struct otd_stmt *st)
{
	if(!st)
		return;
	if(st->lite)
		sqlite3_reset(st->lite);
	else
		pg_stmt_reset(st->pg, false);
}

bool conn_is_pg(const struct otd_conn *c)
{
	return c->pg != NULL;
}

/* ---- stepping and binding ------------------------------------------------ */

int db_step(struct otd_stmt *st)
{
	if(st->lite)
		return sqlite3_step(st->lite);
	return pg_step(st);
}

int db_bind_int64(struct otd_stmt *st, int idx, int64_t v)
{
	if(st->lite)
		return sqlite3_bind_int64(st->lite, idx, v);
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return pg_bind(st->pg, idx, buf, -1, PG_BIND_COPY, 20);
}

int db_bind_int(struct otd_stmt *st, int idx, int v)
{
	return db_bind_int64(st, idx, v);
}

int db_bind_double(struct otd_stmt *st, int idx, double v)
{
	if(st->lite)
		return sqlite3_bind_double(st->lite, idx, v);
	char buf[40];
	snprintf(buf, sizeof(buf), "%.17g", v);
	return pg_bind(st->pg, idx, buf, -1, PG_BIND_COPY, 701);
}

int db_bind_null(struct otd_stmt *st, int idx)
{
	if(st->lite)
		return sqlite3_bind_null(st->lite, idx);
	return pg_bind(st->pg, idx, NULL, 0, PG_BIND_STATIC, 0);
}

int db_bind_text(struct otd_stmt *st, int idx, const char *s)
{
	if(st->lite)
		return s ? sqlite3_bind_text(st->lite, idx, s, -1, SQLITE_STATIC)
		         : sqlite3_bind_null(st->lite, idx);
	return pg_bind(st->pg, idx, s, -1, PG_BIND_STATIC, 0);
}

int db_bind_text_copy(struct otd_stmt *st, int idx, const char *s)
{
	if(st->lite)
		return s ? sqlite3_bind_text(st->lite, idx, s, -1, SQLITE_TRANSIENT)
		         : sqlite3_bind_null(st->lite, idx);
	return pg_bind(st->pg, idx, s, -1, PG_BIND_COPY, 0);
}

int db_bind_blob(struct otd_stmt *st, int idx, const void *p, int n)
{
	if(st->lite)
		return sqlite3_bind_blob(st->lite, idx, p, n, SQLITE_STATIC);
	return pg_bind(st->pg, idx, p, n, PG_BIND_BLOB, 0);
}

int db_bind_parameter_count(struct otd_stmt *st)
{
	if(st->lite)
		return sqlite3_bind_parameter_count(st->lite);
	return pg_param_count(st->pg);
}

/* ---- columns ----------------------------------------------------------- */

int64_t db_column_int64(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_int64(st->lite, i);
	return pg_column_int64(st->pg, i);
}

int db_column_int(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_int(st->lite, i);
	return (int)pg_column_int64(st->pg, i);
}

double db_column_double(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_double(st->lite, i);
	return pg_column_double(st->pg, i);
}

const unsigned char *db_column_text(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_text(st->lite, i);
	return (const unsigned char *)pg_column_text(st->pg, i);
}

const void *db_column_blob(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_blob(st->lite, i);
	int n = 0;
	return pg_column_blob(st->pg, i, &n);
}

int db_column_bytes(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_bytes(st->lite, i);
	int n = 0;
	pg_column_blob(st->pg, i, &n);
	return n;
}

bool db_column_is_null(struct otd_stmt *st, int i)
{
	if(st->lite)
		return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
	return pg_column_text(st->pg, i) == NULL;
}

/* ---- helpers over both ------------------------------------------------- */

const char *conn_errmsg(struct otd_conn *c)
{
	if(c->pg)
		return pg_errmsg(c->pg);
	return sqlite3_errmsg(c->db);
}

enum otd_status conn_exec(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	if(c->pg)
		return pg_exec(c, sql, err);
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if(rc != SQLITE_OK)
		return conn_fail(c, rc, "exec", err);
	return OTD_OK;
}

enum otd_status conn_step_done(struct otd_conn *c, struct otd_stmt *st, const char *what,
                               struct otd_error *err)
{
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(c, rc, what, err);
	return OTD_OK;
}

void conn_column_copy(char *dst, size_t size, struct otd_stmt *st, int i)
{
	const unsigned char *t = db_column_text(st, i);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int conn_bind_text(struct otd_stmt *st, int idx, const char *s)
{
	return db_bind_text_copy(st, idx, s);
}

char *conn_column_dup(struct otd_stmt *st, int i)
{
	const unsigned char *t = db_column_text(st, i);
	return xstrdup(t ? (const char *)t : "");
}

int64_t conn_last_id(struct otd_conn *c)
{
	if(c->pg)
		return pg_last_id(c);
	return sqlite3_last_insert_rowid(c->db);
}

int conn_changes(struct otd_conn *c)
{
	if(c->pg)
		return pg_changes(c->pg);
	return sqlite3_changes(c->db);
}
