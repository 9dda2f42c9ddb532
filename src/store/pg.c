/* The PostgreSQL backend: libpq connections, statements behind stmt.c's
 * interface, a pooled store whose write jobs are SERIALIZABLE
 * transactions retried on serialization failures, and migrations from the
 * same schema files as SQLite, translated (DESIGN.md, Storage and scale). */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "onthedot/asset.h"
#include "onthedot/mem.h"
#include "store/inspect.h"
#include "store/pg.h"
#include "store/sql.h"

#define OID_BYTEA 17
#define OID_BOOL 16
#define OID_TEXT 25
/* Connections beyond the read pool, for write jobs running at once. */
#define PG_WRITE_CONNECTIONS 12
/* A write job meeting serialization failures runs at most this often. */
#define PG_RETRIES 12
/* Every write job holds the write gate ("otdw", a session advisory lock)
 * shared while it runs; one that has met this many serialization failures
 * takes it exclusively for its next attempts, so it runs alone and cannot
 * fail that way again (a job must not starve under contention). */
#define PG_GATE_LOCK 0x6f746477LL
#define PG_ALONE_AFTER 3
/* The session advisory lock migrations hold (a fixed key: "otd1"). */
#define PG_MIGRATE_LOCK 0x6f746431LL

/* Booking scopes (visitor, day) one write job locks at most, remembered
 * to lock before the transaction when it runs again. */
#define PG_MAX_SCOPES 8

struct pg_conn {
	PGconn *pq;
	char errmsg[512];
	char sqlstate[6];
	int changes;
	unsigned next_name;
	/* In the current write job: a serialization failure or deadlock was
	 * met (the statements after it fail as "transaction aborted"), the
	 * scopes it locked, and whether it asked for READ COMMITTED. */
	bool conflict;
	char last_tag[32]; /* the command tag of the last simple(): "COMMIT", "ROLLBACK" */
	int scopes[PG_MAX_SCOPES][2];
	int n_scopes;
	bool relaxed;
};

struct pg_stmt {
	struct pg_conn *pc;
	char *sql; /* translated */
	int nparams;
	bool persistent;
	char name[24];     /* server-side name once prepared ("" before) */
	unsigned *types;       /* per parameter: the type of the bound value (0: inferred) */
	uint64_t used;         /* parameters the text refers to (bit n-1 for ?n) */
	unsigned *prepared_as; /* per parameter: the type it was prepared with */
	const char **values;
	int *lengths;
	int *formats;
	char **owned;
	PGresult *res;
	int row, nrows;
	bool ran;
	int rc; /* the last step's result */
	unsigned char *blob;
	size_t blob_n;
	int blob_row, blob_col;
};

static void *memdup(const void *p, size_t n)
{
	void *q = xmalloc(n ? n : 1);
	memcpy(q, p, n);
	return q;
}

/* ---- connection strings ------------------------------------------------- */

bool store_path_is_pg(const char *path)
{
	return path &&
	       (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

char *store_path_shown(const char *path)
{
	return store_path_is_pg(path) ? pg_url_redacted(path) : xstrdup(path);
}

static char *pg_url_redacted_userinfo(const char *url);

/* Masks every "password=VALUE" (a query parameter) in out, in place. */
static void mask_password_param(char *out)
{
	for(char *p = strstr(out, "password="); p; p = strstr(p, "password=")) {
		char *v = p + 9;
		size_t n = strcspn(v, "&");
		if(n > 3) {
			memset(v, '*', 3);
			memmove(v + 3, v + n, strlen(v + n) + 1);
		} else {
			memset(v, '*', n);
		}
		p = v;
	}
}

char *pg_url_redacted(const char *url)
{
	char *out = pg_url_redacted_userinfo(url);
	mask_password_param(out);
	return out;
}

/* Hides the password of user:password@host. */
static char *pg_url_redacted_userinfo(const char *url)
{
	/* postgresql://user:password@host/db: hide what lies between the
	 * first ':' after the scheme and the '@'. */
	const char *p = strstr(url, "://");
	const char *at = p ? strchr(p + 3, '@') : NULL;
	const char *colon = p ? strchr(p + 3, ':') : NULL;
	if(!p || !at || !colon || colon > at)
		return xstrdup(url);
	size_t head = (size_t)(colon - url) + 1;
	size_t n = head + 3 + strlen(at) + 1;
	char *out = xmalloc(n);
	snprintf(out, n, "%.*s***%s", (int)head, url, at);
	return out;
}

/* ---- dialect ------------------------------------------------------------ */

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if(b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static bool word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* Whether the word at s (length n) equals w, ignoring case. */
static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* For "name(" at s: whether its argument list has a comma at its own
 * level (a two-argument min or max rather than the aggregate). */
static bool two_args(const char *open)
{
	int depth = 0;
	for(const char *q = open; *q; q++) {
		if(*q == '\'') {
			for(q++; *q && !(*q == '\'' && q[1] != '\''); q++)
				if(*q == '\'')
					q++;
			if(!*q)
				return false;
			continue;
		}
		if(*q == '(')
			depth++;
		else if(*q == ')') {
			if(--depth == 0)
				return false;
		} else if(*q == ',' && depth == 1)
			return true;
	}
	return false;
}

/* Whether a '+' written after what b holds is a unary plus: after an
 * operator, an opening parenthesis, a comma or a keyword. */
static bool unary_plus(const struct buf *b)
{
	size_t i = b->n;
	while(i > 0 && b->p[i - 1] == ' ')
		i--;
	if(i == 0)
		return true;
	char last = b->p[i - 1];
	if(strchr("=(,<>", last))
		return true;
	if(!word_char(last))
		return false;
	size_t end = i;
	while(i > 0 && word_char(b->p[i - 1]))
		i--;
	static const char *const kw[] = {"AND",  "OR",   "NOT",  "WHERE",  "ON",
	                                 "WHEN", "THEN", "ELSE", "SELECT", "BY"};
	for(size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if(word_is(b->p + i, end - i, kw[k]))
			return true;
	return false;
}

static char *translate(const char *sql, int *nparams, uint64_t *used, bool schema)
{
	struct buf b = {0};
	int seq = 0, maxp = 0;
	const char *s = sql;
	const char *prev_word = NULL;
	size_t prev_len = 0;
	while(*s) {
		char ch = *s;
		if(ch == '\'' || ch == '"') {
			const char *q = s + 1;
			while(*q && !(*q == ch && q[1] != ch)) {
				if(*q == ch)
					q++;
				q++;
			}
			if(*q)
				q++;
			buf_add(&b, s, (size_t)(q - s));
			s = q;
			continue;
		}
		if(ch == '-' && s[1] == '-') {
			const char *q = strchr(s, '\n');
			q = q ? q : s + strlen(s);
			buf_add(&b, s, (size_t)(q - s));
			s = q;
			continue;
		}
		if(ch == '?') {
			const char *q = s + 1;
			int n = 0;
			while(isdigit((unsigned char)*q))
				n = n * 10 + (*q++ - '0');
			if(q == s + 1)
				n = ++seq;
			if(n > maxp)
				maxp = n;
			if(used && n >= 1 && n <= 64)
				*used |= UINT64_C(1) << (n - 1);
			char num[16];
			snprintf(num, sizeof(num), "$%d", n);
			buf_str(&b, num);
			s = q;
			prev_word = NULL;
			continue;
		}
		if(word_char(ch) && (s == sql || !word_char(s[-1]))) {
			const char *q = s;
			while(word_char(*q))
				q++;
			size_t n = (size_t)(q - s);
			const char *after = q;
			while(*after == ' ')
				after++;
			if(!schema && prev_word && word_is(prev_word, prev_len, "IS") &&
			   *after == '?' && word_is(s, n, "NOT")) {
				/* "x IS NOT ?N" */
				buf_str(&b, "DISTINCT FROM");
			} else if(word_is(s, n, "LIKE")) {
				buf_str(&b, "ILIKE");
			} else if(word_is(s, n, "instr") && *after == '(') {
				buf_str(&b, "strpos");
			} else if((word_is(s, n, "max") || word_is(s, n, "min")) && *after == '(' &&
			          two_args(after)) {
				buf_str(&b, word_is(s, n, "max") ? "GREATEST" : "LEAST");
			} else if(schema && word_is(s, n, "INTEGER")) {
				const char *pk = after;
				if(strncasecmp(pk, "PRIMARY KEY", 11) == 0) {
					buf_str(
					    &b,
					    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
					q = pk + 11;
					const char *ai = q;
					while(*ai == ' ')
						ai++;
					if(strncasecmp(ai, "AUTOINCREMENT", 13) == 0)
						q = ai + 13;
				} else {
					buf_str(&b, "BIGINT");
				}
			} else if(schema && word_is(s, n, "randomblob") && *after == '(') {
				/* A key made at migration time (server_keys): random
				 * bytes from libsodium as a bytea literal. */
				char *end;
				long len = strtol(after + 1, &end, 10);
				if(len <= 0 || len > 256 || *end != ')') {
					buf_add(&b, s, n);
				} else {
					unsigned char key[256];
					randombytes_buf(key, (size_t)len);
					buf_str(&b, "'\\x");
					for(long i = 0; i < len; i++) {
						char hx[3];
						snprintf(hx, sizeof(hx), "%02x", key[i]);
						buf_str(&b, hx);
					}
					buf_str(&b, "'::bytea");
					sodium_memzero(key, sizeof(key));
					q = end + 1;
				}
			} else if(schema && word_is(s, n, "REAL")) {
				buf_str(&b, "DOUBLE PRECISION");
			} else if(schema && word_is(s, n, "BLOB")) {
				buf_str(&b, "BYTEA");
			} else if(!schema && word_is(s, n, "IS") && *after == '?') {
				/* "x IS ?N": SQLite's null-safe equality */
				buf_str(&b, "IS NOT DISTINCT FROM");
			} else {
				buf_add(&b, s, n);
			}
			prev_word = s;
			prev_len = n;
			s = q;
			continue;
		}
		if(ch == '+' && !schema && unary_plus(&b)) {
			/* SQLite's "+column" keeps its planner off an index;
			 * PostgreSQL has no unary plus on text. */
			s++;
			continue;
		}
		buf_add(&b, s, 1);
		s++;
	}
	if(!b.p)
		buf_add(&b, "", 0);
	if(nparams)
		*nparams = maxp;
	return b.p;
}

char *pg_translate(const char *sql, int *nparams)
{
	return translate(sql, nparams, NULL, false);
}

char *pg_translate_schema(const char *ddl)
{
	return translate(ddl, NULL, NULL, true);
}

/* ---- errors ------------------------------------------------------------- */

/* Records the error of res (or of the connection) and maps its SQLSTATE. */
static int pg_error_code(struct pg_conn *pc, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	if(!msg || !*msg)
		msg = PQerrorMessage(pc->pq);
	snprintf(pc->errmsg, sizeof(pc->errmsg), "%s", msg ? msg : "unknown error");
	size_t len = strlen(pc->errmsg);
	while(len && (pc->errmsg[len - 1] == '\n' || pc->errmsg[len - 1] == ' '))
		pc->errmsg[--len] = '\0';
	snprintf(pc->sqlstate, sizeof(pc->sqlstate), "%s", state ? state : "");
	if(state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		pc->conflict = true;
	if(PQstatus(pc->pq) != CONNECTION_OK || !state)
		return DB_IOERR;
	if(strcmp(state, "23505") == 0)
		return DB_CONSTRAINT_UNIQUE;
	if(strcmp(state, "23503") == 0)
		return DB_CONSTRAINT_FOREIGNKEY;
	if(strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	if(strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	   strcmp(state, "55P03") == 0)
		return DB_BUSY;
	if(strcmp(state, "53100") == 0)
		return DB_FULL;
	if(strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	   strncmp(state, "58", 2) == 0 || strncmp(state, "53", 2) == 0)
		return DB_IOERR;
	return DB_ERROR;
}

const char *pg_errmsg(struct pg_conn *pc)
{
	return pc->errmsg[0] ? pc->errmsg : "not an error";
}

/* ---- statements ---------------------------------------------------------- */

struct otd_stmt *pg_prepare(struct otd_conn *c, const char *sql, bool persistent,
                            struct otd_error *err)
{
	(void)err;
	struct pg_stmt *ps = xcalloc(1, sizeof(*ps));
	ps->pc = c->pg;
	ps->sql = translate(sql, &ps->nparams, &ps->used, false);
	ps->persistent = persistent;
	int n = ps->nparams > 0 ? ps->nparams : 1;
	ps->types = xcalloc((size_t)n, sizeof(*ps->types));
	ps->prepared_as = xcalloc((size_t)n, sizeof(*ps->prepared_as));
	ps->values = xcalloc((size_t)n, sizeof(*ps->values));
	ps->lengths = xcalloc((size_t)n, sizeof(*ps->lengths));
	ps->formats = xcalloc((size_t)n, sizeof(*ps->formats));
	ps->owned = xcalloc((size_t)n, sizeof(*ps->owned));
	struct otd_stmt *st = xcalloc(1, sizeof(*st));
	st->conn = c;
	st->pg = ps;
	return st;
}

static void clear_result(struct pg_stmt *ps)
{
	if(ps->res)
		PQclear(ps->res);
	ps->res = NULL;
	ps->row = -1;
	ps->nrows = 0;
	ps->ran = false;
	ps->blob_row = -1;
}

void pg_stmt_reset(struct pg_stmt *ps, bool clear_bindings)
{
	clear_result(ps);
	if(!clear_bindings)
		return;
	for(int i = 0; i < ps->nparams; i++) {
		free(ps->owned[i]);
		ps->owned[i] = NULL;
		ps->values[i] = NULL;
		ps->lengths[i] = 0;
		ps->formats[i] = 0;
		ps->types[i] = 0;
	}
}

void pg_stmt_free(struct pg_stmt *ps)
{
	if(!ps)
		return;
	pg_stmt_reset(ps, true);
	if(ps->name[0] && ps->pc && ps->pc->pq && PQstatus(ps->pc->pq) == CONNECTION_OK) {
		char q[64];
		snprintf(q, sizeof(q), "DEALLOCATE %s", ps->name);
		PQclear(PQexec(ps->pc->pq, q));
	}
	free(ps->sql);
	free(ps->types);
	free(ps->prepared_as);
	free(ps->values);
	free(ps->lengths);
	free(ps->formats);
	free(ps->owned);
	free(ps->blob);
	free(ps);
}

int pg_bind(struct pg_stmt *ps, int idx, const void *p, int n, enum pg_bind_kind kind,
            unsigned type)
{
	if(idx < 1 || idx > ps->nparams)
		return DB_ERROR;
	int i = idx - 1;
	ps->types[i] = kind == PG_BIND_BLOB ? OID_BYTEA : type;
	free(ps->owned[i]);
	ps->owned[i] = NULL;
	ps->formats[i] = kind == PG_BIND_BLOB ? 1 : 0;
	ps->lengths[i] = kind == PG_BIND_BLOB ? n : 0;
	if(!p) {
		ps->values[i] = NULL;
	} else if(kind == PG_BIND_COPY) {
		ps->owned[i] = n < 0 ? xstrdup(p) : memdup(p, (size_t)n);
		ps->values[i] = ps->owned[i];
	} else {
		ps->values[i] = p;
	}
	return DB_OK;
}

int pg_param_count(struct pg_stmt *ps)
{
	return ps->nparams;
}

/* The type parameter i is prepared with: its bound value's, except that
 * one the text never mentions (SQLite ignores those) is declared text, as
 * the server could not infer its type. */
static unsigned param_type(const struct pg_stmt *ps, int i)
{
	if(i < 64 && !(ps->used & (UINT64_C(1) << i)))
		return OID_TEXT;
	return ps->types[i];
}

/* Prepares ps on the server for the types of its bound values (integers
 * as bigint, reals as double precision, blobs as bytea; text and NULL
 * left for the server to infer from where they stand), again when those
 * types change. */
static int ensure_prepared(struct pg_stmt *ps)
{
	bool same = ps->name[0] != '\0';
	for(int i = 0; same && i < ps->nparams; i++)
		if(ps->prepared_as[i] != ps->types[i])
			same = false;
	if(same)
		return DB_OK;
	struct pg_conn *pc = ps->pc;
	if(ps->name[0]) {
		char q[64];
		snprintf(q, sizeof(q), "DEALLOCATE %s", ps->name);
		PQclear(PQexec(pc->pq, q));
		ps->name[0] = '\0';
	}
	unsigned int types[ps->nparams > 0 ? ps->nparams : 1];
	for(int i = 0; i < ps->nparams; i++) {
		ps->prepared_as[i] = ps->types[i];
		types[i] = param_type(ps, i);
	}
	char name[24];
	snprintf(name, sizeof(name), "otd%u", ++pc->next_name);
	PGresult *r = PQprepare(pc->pq, name, ps->sql, ps->nparams, types);
	int rc = DB_OK;
	if(PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_error_code(pc, r);
	else
		snprintf(ps->name, sizeof(ps->name), "%s", name);
	PQclear(r);
	return rc;
}

int pg_step(struct otd_stmt *st)
{
	struct pg_stmt *ps = st->pg;
	struct pg_conn *pc = ps->pc;
	if(ps->ran) {
		if(ps->rc != DB_ROW)
			return ps->rc;
		ps->row++;
		ps->rc = ps->row < ps->nrows ? DB_ROW : DB_DONE;
		return ps->rc;
	}
	clear_result(ps);
	ps->ran = true;
	PGresult *r;
	if(ps->persistent) {
		int rc = ensure_prepared(ps);
		if(rc != DB_OK)
			return ps->rc = rc;
		r = PQexecPrepared(pc->pq, ps->name, ps->nparams, ps->values, ps->lengths,
		                   ps->formats, 0);
	} else {
		unsigned int types[ps->nparams > 0 ? ps->nparams : 1];
		for(int i = 0; i < ps->nparams; i++)
			types[i] = param_type(ps, i);
		r = PQexecParams(pc->pq, ps->sql, ps->nparams, types, ps->values, ps->lengths,
		                 ps->formats, 0);
	}
	ExecStatusType es = PQresultStatus(r);
	if(es == PGRES_TUPLES_OK) {
		ps->res = r;
		ps->nrows = PQntuples(r);
		pc->changes = (int)strtol(PQcmdTuples(r), NULL, 10);
		ps->row = 0;
		ps->rc = ps->nrows > 0 ? DB_ROW : DB_DONE;
		return ps->rc;
	}
	if(es == PGRES_COMMAND_OK) {
		pc->changes = (int)strtol(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		return ps->rc = DB_DONE;
	}
	ps->rc = pg_error_code(pc, r);
	PQclear(r);
	return ps->rc;
}

static const char *value(struct pg_stmt *ps, int i)
{
	if(!ps->res || ps->row < 0 || ps->row >= ps->nrows || i < 0 || i >= PQnfields(ps->res))
		return NULL;
	if(PQgetisnull(ps->res, ps->row, i))
		return NULL;
	return PQgetvalue(ps->res, ps->row, i);
}

int64_t pg_column_int64(struct pg_stmt *ps, int i)
{
	const char *v = value(ps, i);
	if(!v)
		return 0;
	if(PQftype(ps->res, i) == OID_BOOL)
		return v[0] == 't';
	char *end;
	long long n = strtoll(v, &end, 10);
	if(*end == '.' || *end == 'e' || *end == 'E')
		return (int64_t)strtod(v, NULL);
	return n;
}

double pg_column_double(struct pg_stmt *ps, int i)
{
	const char *v = value(ps, i);
	if(!v)
		return 0.0;
	if(PQftype(ps->res, i) == OID_BOOL)
		return v[0] == 't';
	return strtod(v, NULL);
}

const char *pg_column_text(struct pg_stmt *ps, int i)
{
	const char *v = value(ps, i);
	if(v && PQftype(ps->res, i) == OID_BOOL)
		return v[0] == 't' ? "1" : "0";
	return v;
}

const void *pg_column_blob(struct pg_stmt *ps, int i, int *n)
{
	*n = 0;
	const char *v = value(ps, i);
	if(!v)
		return NULL;
	if(PQftype(ps->res, i) != OID_BYTEA) {
		*n = PQgetlength(ps->res, ps->row, i);
		return v;
	}
	if(ps->blob_row != ps->row || ps->blob_col != i) {
		free(ps->blob);
		ps->blob = PQunescapeBytea((const unsigned char *)v, &ps->blob_n);
		if(ps->blob) {
			/* PQunescapeBytea's memory is freed with PQfreemem; keep
			 * our own copy so free() stays right. */
			unsigned char *own = memdup(ps->blob, ps->blob_n ? ps->blob_n : 1);
			PQfreemem(ps->blob);
			ps->blob = own;
		}
		ps->blob_row = ps->row;
		ps->blob_col = i;
	}
	*n = ps->blob ? (int)ps->blob_n : 0;
	return ps->blob;
}

/* Runs sql (possibly several statements) with the simple protocol. */
static int simple(struct pg_conn *pc, const char *sql)
{
	PGresult *r = PQexec(pc->pq, sql);
	ExecStatusType es = PQresultStatus(r);
	int rc = DB_OK;
	snprintf(pc->last_tag, sizeof(pc->last_tag), "%s", r ? PQcmdStatus(r) : "");
	if(es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
		pc->changes = (int)strtol(PQcmdTuples(r), NULL, 10);
	else
		rc = pg_error_code(pc, r);
	PQclear(r);
	return rc;
}

enum otd_status pg_exec(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	char *t = pg_translate(sql, NULL);
	int rc = simple(c->pg, t);
	free(t);
	if(rc != DB_OK)
		return conn_fail(c, rc, "exec", err);
	return OTD_OK;
}

int64_t pg_last_id(struct otd_conn *c)
{
	PGresult *r = PQexec(c->pg->pq, "SELECT lastval()");
	int64_t id = 0;
	if(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

int pg_changes(struct pg_conn *pc)
{
	return pc->changes;
}

/* ---- connections ----------------------------------------------------------- */

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* What every session runs first. Integer seconds everywhere; the zone
 * only matters to logs. The server ends a session left inside a
 * transaction for a minute, and its own keepalives notice a node that
 * vanished, so that a dead node's locks (the write gate, booking scopes)
 * do not stall the others for long. */
static const char SESSION_SETUP[] =
    "SET TIME ZONE 'UTC'; SET client_min_messages = warning; SET lock_timeout = '10s'; "
    "SET idle_in_transaction_session_timeout = '60s'; SET tcp_keepalives_idle = 30; "
    "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3";

static struct pg_conn *pg_connect(const char *url, struct otd_error *err)
{
	/* Bounds on a server that stops answering, so that no request waits
	 * on it for long: a connection attempt gives up after 10 s, and
	 * keepalives and a TCP user timeout notice a silently dropped
	 * connection within about a minute. The URL comes last, so whatever it
	 * sets wins. */
	const char *keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
	                      "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	                      "application_name",    "dbname",           NULL};
	const char *vals[] = {"10", "1", "30", "10", "3", "30000", "onthedot", url, NULL};
	PGconn *pq = PQconnectdbParams(keys, vals, 1);
	if(!pq || PQstatus(pq) != CONNECTION_OK) {
		char *shown = pg_url_redacted(url);
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", pq ? PQerrorMessage(pq) : "out of memory");
		size_t len = strlen(msg);
		while(len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		otd_error_set(err, OTD_EIO, "database_open_failed", "database",
		              "Cannot connect to the PostgreSQL database %s: %s.", shown, msg);
		free(shown);
		PQfinish(pq);
		return NULL;
	}
	PQsetNoticeProcessor(pq, quiet_notices, NULL);
	struct pg_conn *pc = xcalloc(1, sizeof(*pc));
	pc->pq = pq;
	if(simple(pc, SESSION_SETUP) != DB_OK) {
		otd_error_set(err, OTD_EIO, "database_open_failed", "database",
		              "Cannot set up the PostgreSQL session: %s.", pc->errmsg);
		PQfinish(pq);
		free(pc);
		return NULL;
	}
	return pc;
}

static void pg_disconnect(struct pg_conn *pc)
{
	if(!pc)
		return;
	PQfinish(pc->pq);
	free(pc);
}

static struct otd_conn *conn_wrap(struct otd_store *owner, struct pg_conn *pc, bool writer)
{
	struct otd_conn *c = xcalloc(1, sizeof(*c));
	c->pg = pc;
	c->store = owner;
	c->writer = writer;
	return c;
}

static void conn_free(struct otd_conn *c)
{
	if(!c)
		return;
	for(size_t i = 0; i < c->n_cache; i++)
		db_finalize(c->cache[i].stmt);
	c->n_cache = 0;
	pg_disconnect(c->pg);
	free(c);
}

/* ---- the store ----------------------------------------------------------- */

struct pg_store {
	struct otd_store *owner;
	char *url;
	struct otd_store_options opt;
	struct otd_conn **conns;
	bool *busy;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic uint64_t retries;
	_Atomic uint64_t busy_ns, commit_ns; /* write jobs' time in transactions, in COMMIT */
	_Atomic bool unreachable;            /* the last BEGIN found the server gone */
	int writers, writers_max;            /* write jobs running; at most (under mu) */
	struct pg_conn *name_conn;           /* holds this node's name (pg_store_hold_name) */
	int64_t name_key;
	bool name_held; /* only the thread that renews it reads it after start */
	_Atomic uint64_t alone;              /* jobs that took the gate exclusively */
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static enum otd_status schema_version(struct pg_conn *pc, int *version, struct otd_error *err)
{
	*version = 0;
	PGresult *r = PQexec(pc->pq, "SELECT to_regclass('onthedot_schema') IS NOT NULL");
	bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	              PQgetvalue(r, 0, 0)[0] == 't';
	if(PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error_code(pc, r);
		PQclear(r);
		return otd_error_set(err, OTD_EIO, "database_error", "database",
		                     "Cannot read the schema version: %s.", pc->errmsg);
	}
	PQclear(r);
	if(!exists)
		return OTD_OK;
	r = PQexec(pc->pq, "SELECT version FROM onthedot_schema");
	if(PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error_code(pc, r);
		PQclear(r);
		return otd_error_set(err, OTD_EIO, "database_error", "database",
		                     "Cannot read the schema version: %s.", pc->errmsg);
	}
	if(PQntuples(r) == 1)
		*version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return OTD_OK;
}

enum otd_status pg_store_open(struct otd_store *owner, const struct otd_store_options *opt,
                              struct pg_store **out, struct otd_error *err)
{
	*out = NULL;
	struct pg_conn *first = pg_connect(opt->path, err);
	if(!first)
		return OTD_EIO;
	int version = 0;
	enum otd_status st = schema_version(first, &version, err);
	if(st) {
		pg_disconnect(first);
		return st;
	}
	int latest = store_schema_latest();
	if(version != latest) {
		char *shown = pg_url_redacted(opt->path);
		if(version > latest)
			st = otd_error_set(err, OTD_ESTATE, "schema_too_new", "database",
			                   "The database %s has schema version %d, newer than this "
			                   "onthedot knows (%d); run a newer onthedot.",
			                   shown, version, latest);
		else
			st = otd_error_set(
			    err, OTD_ECONFLICT, "schema_pending", "database",
			    "The database %s needs migrating from schema version %d to %d; "
			    "run: onthedot migrate --db %s",
			    shown, version, latest, shown);
		free(shown);
		pg_disconnect(first);
		return st;
	}
	struct pg_store *ps = xcalloc(1, sizeof(*ps));
	ps->owner = owner;
	ps->url = xstrdup(opt->path);
	ps->opt = *opt;
	ps->opt.path = ps->url;
	ps->n = (opt->read_connections > 0 ? opt->read_connections : 1) + PG_WRITE_CONNECTIONS;
	/* Reads keep read_connections of their own however many writes run. */
	ps->writers_max = PG_WRITE_CONNECTIONS;
	ps->conns = xcalloc((size_t)ps->n, sizeof(*ps->conns));
	ps->busy = xcalloc((size_t)ps->n, sizeof(*ps->busy));
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	ps->conns[0] = conn_wrap(owner, first, true);
	for(int i = 1; i < ps->n; i++) {
		struct pg_conn *pc = pg_connect(opt->path, err);
		if(!pc) {
			pg_store_close(ps);
			return OTD_EIO;
		}
		ps->conns[i] = conn_wrap(owner, pc, true);
	}
	*out = ps;
	return OTD_OK;
}

void pg_store_close(struct pg_store *ps)
{
	if(!ps)
		return;
	if(ps->name_conn)
		pg_disconnect(ps->name_conn);
	for(int i = 0; i < ps->n; i++)
		conn_free(ps->conns[i]);
	free(ps->conns);
	free(ps->busy);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	free(ps->url);
	free(ps);
}

/* Takes a free connection, for a write job (write) only while fewer than
 * writers_max run, waiting at most writer_wait_ms. */
static struct otd_conn *acquire(struct pg_store *ps, int *slot, bool write, struct otd_error *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	int wait = ps->opt.writer_wait_ms > 0 ? ps->opt.writer_wait_ms : 1000;
	deadline.tv_sec += wait / 1000;
	deadline.tv_nsec += (long)(wait % 1000) * 1000000L;
	if(deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ps->mu);
	for(;;) {
		for(int i = 0; i < ps->n && (!write || ps->writers < ps->writers_max); i++) {
			if(!ps->busy[i]) {
				ps->busy[i] = true;
				if(write)
					ps->writers++;
				pthread_mutex_unlock(&ps->mu);
				*slot = i;
				return ps->conns[i];
			}
		}
		if(pthread_cond_timedwait(&ps->cv, &ps->mu, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&ps->mu);
	otd_error_set(err, OTD_EBUSY, "busy", NULL, "The server is busy; try again in a moment.");
	if(err)
		err->retry_after = 1;
	return NULL;
}

enum otd_status pg_store_hold_name(struct pg_store *ps, int64_t key, int wait_s,
                                   struct otd_error *err)
{
	if(ps->name_conn)
		return OTD_OK;
	struct pg_conn *pc = pg_connect(ps->url, err);
	if(!pc)
		return OTD_EIO;
	char q[96];
	snprintf(q, sizeof(q), "SET lock_timeout = '%ds'", wait_s > 0 ? wait_s : 1);
	int rc = simple(pc, q);
	if(rc == DB_OK) {
		snprintf(q, sizeof(q), "SELECT pg_advisory_lock(%lld)", (long long)key);
		rc = simple(pc, q);
	}
	if(rc != DB_OK) {
		enum otd_status st =
		    rc == DB_BUSY
		        ? otd_error_set(
		              err, OTD_ECONFLICT, "node_name_taken", "node_name",
		              "Another onthedot node with this node's name is connected to "
		              "the database (waited %d s for it to stop); give each node "
		              "its own node_name.",
		              wait_s)
		        : otd_error_set(err, OTD_EIO, "database_error", "database",
		                        "Cannot take this node's name in the database: %s.",
		                        pc->errmsg);
		pg_disconnect(pc);
		return st;
	}
	ps->name_conn = pc;
	ps->name_key = key;
	ps->name_held = true;
	return OTD_OK;
}

enum otd_status pg_store_renew_name(struct pg_store *ps, struct otd_error *err)
{
	struct pg_conn *pc = ps->name_conn;
	if(!pc)
		return OTD_OK;
	/* An idle connection learns it was cut only when used. */
	if(!pg_conn_lost(pc))
		simple(pc, "SELECT 1");
	if(pg_conn_lost(pc)) { /* the server restarted: the lock went with the session */
		ps->name_held = false;
		PQreset(pc->pq);
		if(pg_conn_lost(pc))
			return otd_error_set(err, OTD_EBUSY, "database_unreachable", NULL,
			                     "Cannot hold this node's name: the database cannot be "
			                     "reached.");
	}
	if(ps->name_held)
		return OTD_OK;
	char q[96];
	snprintf(q, sizeof(q), "SELECT pg_try_advisory_lock(%lld)", (long long)ps->name_key);
	PGresult *r = PQexec(pc->pq, q);
	ps->name_held = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	                PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if(!ps->name_held)
		return otd_error_set(
		    err, OTD_ECONFLICT, "node_name_taken", "node_name",
		    "Another onthedot node with this node's name connected to the "
		    "database while this one was cut off from it; stop one of them.");
	return OTD_OK;
}

bool pg_conn_lost(struct pg_conn *pc)
{
	return PQstatus(pc->pq) != CONNECTION_OK;
}

/* Connects a broken connection again (its cached statements die with
 * it); true when it is usable. */
static bool reconnect(struct otd_conn *c)
{
	for(size_t i = 0; i < c->n_cache; i++)
		db_finalize(c->cache[i].stmt);
	c->n_cache = 0;
	PQreset(c->pg->pq);
	return PQstatus(c->pg->pq) == CONNECTION_OK && simple(c->pg, SESSION_SETUP) == DB_OK;
}

/* Runs sql, the first statement of a job (a BEGIN, or taking the write
 * gate). A connection found broken (PostgreSQL restarted, or an
 * administrator ended the session) is connected again once first: nothing
 * of the job has run on it yet. Tells the store's fault hook when the
 * server stops and starts answering. */
static int begin(struct pg_store *ps, struct otd_conn *c, const char *sql)
{
	int rc = simple(c->pg, sql);
	if(rc != DB_OK && pg_conn_lost(c->pg)) {
		if(reconnect(c))
			rc = simple(c->pg, sql);
		else
			rc = pg_error_code(c->pg, NULL); /* why the connection failed */
	}
	if(rc != DB_OK && pg_conn_lost(c->pg)) {
		if(!atomic_exchange(&ps->unreachable, true)) {
			char why[256];
			snprintf(why, sizeof(why), "%.*s", (int)strcspn(c->pg->errmsg, "\n"),
			         c->pg->errmsg);
			store_tell(ps->owner, "store_unreachable", "io", why);
		}
	} else if(atomic_load(&ps->unreachable) && atomic_exchange(&ps->unreachable, false)) {
		store_tell(ps->owner, "store_reachable", "io", "");
	}
	return rc;
}

/* Returns a connection to the pool (write: acquire's). A broken one stays
 * broken until begin() connects it again for the next job, so that a
 * request does not wait twice on a server that does not answer. */
static void release(struct pg_store *ps, int slot, bool write)
{
	struct otd_conn *c = ps->conns[slot];
	if(!pg_conn_lost(c->pg) && PQtransactionStatus(c->pg->pq) != PQTRANS_IDLE) {
		simple(c->pg, "ROLLBACK");
	}
	pthread_mutex_lock(&ps->mu);
	ps->busy[slot] = false;
	if(write)
		ps->writers--;
	pthread_cond_broadcast(&ps->cv); /* readers and writers wait for different things */
	pthread_mutex_unlock(&ps->mu);
}

#define GATE_KEY "1869898871" /* PG_GATE_LOCK in decimal, for the SQL */
_Static_assert(PG_GATE_LOCK == 1869898871LL, "GATE_KEY is PG_GATE_LOCK");

/* Takes the write gate with fn (pg_advisory_lock_shared or
 * pg_advisory_lock) on c: the job's first statement, so a connection
 * found broken is connected again first (see begin). */
static int gate_lock(struct pg_store *ps, struct otd_conn *c, const char *fn)
{
	char q[80];
	snprintf(q, sizeof(q), "SELECT %s(" GATE_KEY ")", fn);
	return begin(ps, c, q);
}

/* Releases the gate with fn (NULL: not held). */
static void gate_unlock_now(struct pg_conn *pc, const char *fn)
{
	if(!fn || pg_conn_lost(pc))
		return;
	char q[80];
	snprintf(q, sizeof(q), "SELECT %s(" GATE_KEY ")", fn);
	simple(pc, q);
}

/* Locks (session level) the scopes the failed attempt of a job locked,
 * before its next transaction begins: that transaction's snapshot then
 * comes after the commit of whoever held them, so it does not fail again
 * on the same conflict (a SERIALIZABLE snapshot is taken by the first
 * statement, before an advisory lock taken inside could be granted). */
static int prelock(struct pg_conn *pc, int scopes[][2], int n)
{
	/* In order, so that two jobs prelocking the same pair cannot deadlock. */
	for(int i = 1; i < n; i++)
		for(int j = i; j > 0 && (scopes[j - 1][0] > scopes[j][0] ||
		                         (scopes[j - 1][0] == scopes[j][0] &&
		                          scopes[j - 1][1] > scopes[j][1]));
		    j--) {
			int t0 = scopes[j][0], t1 = scopes[j][1];
			scopes[j][0] = scopes[j - 1][0];
			scopes[j][1] = scopes[j - 1][1];
			scopes[j - 1][0] = t0;
			scopes[j - 1][1] = t1;
		}
	for(int i = 0; i < n; i++) {
		char q[96];
		snprintf(q, sizeof(q), "SELECT pg_advisory_lock(%d, %d)", scopes[i][0],
		         scopes[i][1]);
		int rc = simple(pc, q);
		if(rc != DB_OK)
			return rc;
	}
	return DB_OK;
}

static void unlock_all(struct pg_conn *pc, int scopes[][2], int n)
{
	for(int i = 0; i < n; i++) {
		char q[96];
		snprintf(q, sizeof(q), "SELECT pg_advisory_unlock(%d, %d)", scopes[i][0],
		         scopes[i][1]);
		simple(pc, q);
	}
}

enum otd_status pg_store_write(struct pg_store *ps, store_write_fn fn, void *ctx,
                               bool *outbox_dirty, struct otd_error *err)
{
	*outbox_dirty = false;
	int slot;
	struct otd_conn *c = acquire(ps, &slot, true, err);
	if(!c)
		return OTD_EBUSY;
	struct pg_conn *pc = c->pg;
	enum otd_status st = OTD_OK;
	int held[PG_MAX_SCOPES][2], n_held = 0;
	/* The gate, shared, before the transaction (a lock taken inside would
	 * come after its snapshot); a broken connection is replaced first. */
	int gate = gate_lock(ps, c, "pg_advisory_lock_shared");
	if(gate != DB_OK) {
		st = conn_fail(c, gate, "begin", err);
		release(ps, slot, true);
		return st;
	}
	const char *gate_unlock = "pg_advisory_unlock_shared";
	for(int attempt = 0;; attempt++) {
		c->outbox_dirty = false;
		c->fault = 0;
		pc->sqlstate[0] = '\0';
		pc->conflict = false;
		pc->n_scopes = 0;
		pc->relaxed = false;
		otd_error_clear(err);
		uint64_t t0 = now_ns();
		int rc = simple(pc, "BEGIN ISOLATION LEVEL SERIALIZABLE");
		if(rc != DB_OK) {
			st = conn_fail(c, rc, "begin", err);
			break;
		}
		st = fn(c, ctx, err);
		if(st == OTD_OK && PQtransactionStatus(pc->pq) == PQTRANS_INERROR) {
			/* A statement failed and the job went on: PostgreSQL would
			 * answer COMMIT with a rollback, so nothing is saved. */
			st = conn_fail(c, pc->conflict ? DB_BUSY : DB_ERROR,
			               "a statement of this change", err);
		}
		if(st == OTD_OK) {
			uint64_t t1 = now_ns();
			rc = simple(pc, "COMMIT");
			if(rc == DB_OK && strcmp(pc->last_tag, "COMMIT") != 0)
				rc = DB_ERROR;
			uint64_t t2 = now_ns();
			atomic_fetch_add(&ps->commit_ns, t2 - t1);
			atomic_fetch_add(&ps->busy_ns, t2 - t0);
			if(rc == DB_OK) {
				*outbox_dirty = c->outbox_dirty;
				break;
			}
			if(pg_conn_lost(pc)) {
				/* The server may have committed before the connection
				 * went: say so, and do not run the job again. */
				conn_fail(c, rc, "commit", err);
				st = otd_error_set(err, OTD_EBUSY, "outcome_unknown", NULL,
				                   "The connection to the database was lost while "
				                   "this change was being "
				                   "saved, so it may or may not have been saved; "
				                   "check before trying again "
				                   "(a request with an Idempotency-Key may be "
				                   "repeated with the same key).");
				if(err)
					err->retry_after = 5;
				pc->conflict = false;
				break;
			}
			st = conn_fail(c, rc, "commit", err);
		} else {
			simple(pc, "ROLLBACK");
		}
		/* A job whose statements failed after a serialization failure
		 * reports those later failures: the conflict is what counts. */
		if(!pc->conflict || attempt + 1 >= PG_RETRIES)
			break;
		atomic_fetch_add(&ps->retries, 1);
		unlock_all(pc, held, n_held);
		n_held = 0;
		if(attempt + 1 == PG_ALONE_AFTER) {
			/* Alone from now on: the gate before the scopes, in the
			 * order every job takes them, so that they cannot deadlock. */
			gate_unlock_now(pc, gate_unlock);
			gate_unlock = NULL;
			int lrc = simple(pc, "SELECT pg_advisory_lock(" GATE_KEY ")");
			if(lrc != DB_OK) {
				st = conn_fail(c, lrc, "wait to run alone", err);
				pc->conflict =
				    lrc == DB_BUSY; /* lock_timeout: busy, said so below */
				break;
			}
			gate_unlock = "pg_advisory_unlock";
			atomic_fetch_add(&ps->alone, 1);
		}
		for(int i = 0; i < pc->n_scopes; i++) {
			held[n_held][0] = pc->scopes[i][0];
			held[n_held][1] = pc->scopes[i][1];
			n_held++;
		}
		if(n_held) {
			int lrc = prelock(pc, held, n_held);
			if(lrc != DB_OK) {
				st = conn_fail(c, lrc, "lock before retrying", err);
				pc->conflict = lrc == DB_BUSY;
				break;
			}
		} else {
			/* Let the transaction we collided with finish. */
			usleep(
			    (useconds_t)(200 + randombytes_uniform(800) * (unsigned)(attempt + 1)));
		}
	}
	unlock_all(pc, held, n_held);
	gate_unlock_now(pc, gate_unlock);
	if(st != OTD_OK && pc->conflict) {
		st = otd_error_set(err, OTD_EBUSY, "database_busy", NULL,
		                   "The database is busy; try again in a moment.");
		if(err)
			err->retry_after = 1;
	}
	release(ps, slot, true);
	return st;
}

void pg_relax_isolation(struct otd_conn *tx)
{
	if(tx->pg->relaxed)
		return;
	tx->pg->relaxed = true;
	simple(tx->pg, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
}

enum otd_status pg_store_read(struct pg_store *ps, store_read_fn fn, void *ctx,
                              struct otd_error *err)
{
	int slot;
	struct otd_conn *c = acquire(ps, &slot, false, err);
	if(!c)
		return OTD_EBUSY;
	enum otd_status st;
	int rc = begin(ps, c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if(rc != DB_OK) {
		st = conn_fail(c, rc, "begin", err);
	} else {
		st = fn(c, ctx, err);
		simple(c->pg, st == OTD_OK ? "COMMIT" : "ROLLBACK");
	}
	release(ps, slot, false);
	return st;
}

void pg_lock_scope(struct otd_conn *tx, int64_t visitor_id, const char *local_date)
{
	/* Two int4 keys: the visitor, and the day as YYYYMMDD. */
	int day = 0;
	for(const char *p = local_date; p && *p; p++)
		if(isdigit((unsigned char)*p))
			day = day * 10 + (*p - '0');
	char a[24], b[24];
	snprintf(a, sizeof(a), "%d", (int)(visitor_id & 0x7fffffff));
	snprintf(b, sizeof(b), "%d", day);
	const char *vals[2] = {a, b};
	struct pg_conn *pc = tx->pg;
	if(pc->n_scopes < PG_MAX_SCOPES) {
		pc->scopes[pc->n_scopes][0] = (int)(visitor_id & 0x7fffffff);
		pc->scopes[pc->n_scopes][1] = day;
		pc->n_scopes++;
	}
	PGresult *r = PQexecParams(tx->pg->pq, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
	                           2, NULL, vals, NULL, NULL, 0);
	if(PQresultStatus(r) != PGRES_TUPLES_OK)
		pg_error_code(tx->pg, r);
	PQclear(r);
}

void pg_store_stats(struct pg_store *ps, uint64_t *retries, uint64_t *alone, int *pool_in_use,
                    double *busy_s, double *commit_s)
{
	*retries = atomic_load(&ps->retries);
	*alone = atomic_load(&ps->alone);
	*busy_s = (double)atomic_load(&ps->busy_ns) / 1e9;
	*commit_s = (double)atomic_load(&ps->commit_ns) / 1e9;
	int n = 0;
	pthread_mutex_lock(&ps->mu);
	for(int i = 0; i < ps->n; i++)
		n += ps->busy[i];
	pthread_mutex_unlock(&ps->mu);
	*pool_in_use = n;
}

const char *pg_store_url(struct pg_store *ps)
{
	return ps->url;
}

enum otd_status pg_store_notify(struct pg_store *ps, const char *channel, const char *payload,
                                struct otd_error *err)
{
	int slot;
	struct otd_conn *c = acquire(ps, &slot, false, err);
	if(!c)
		return OTD_EBUSY;
	const char *params[2] = {channel, payload};
	PGresult *r =
	    PQexecParams(c->pg->pq, "SELECT pg_notify($1, $2)", 2, NULL, params, NULL, NULL, 0);
	enum otd_status st = OTD_OK;
	if(PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error_code(c->pg, r);
		st = otd_error_set(err, OTD_EIO, "database_error", "database",
		                   "Cannot notify the other nodes: %s.", c->pg->errmsg);
	}
	PQclear(r);
	release(ps, slot, false);
	return st;
}

/* ---- migrations ------------------------------------------------------------ */

/* What the shared SQL uses of SQLite that PostgreSQL lacks, as functions
 * of the database (created or replaced by every migrate):
 * - sum(boolean): SQLite counts with sum(x = y), its comparisons being
 *   integers; here an aggregate adding one per true.
 * - json_extract(text, '$.a.b'): the store reads only integer fields of
 *   its JSON details this way, so it returns bigint.
 * - date(seconds, 'unixepoch'): the UTC date of an instant, YYYY-MM-DD. */
static const char PG_COMPAT[] =
    "CREATE OR REPLACE FUNCTION otd_count_true(bigint, boolean) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE AS 'SELECT $1 + CASE WHEN $2 THEN 1 ELSE 0 END'; "
    "CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = otd_count_true, STYPE = bigint, "
    "INITCOND = '0'); "
    "CREATE OR REPLACE FUNCTION json_extract(text, text) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE AS "
    "'SELECT ($1::jsonb #>> string_to_array(substr($2, 3), ''.''))::bigint'; "
    "CREATE OR REPLACE FUNCTION date(bigint, text) RETURNS text LANGUAGE sql STABLE AS "
    "'SELECT to_char(to_timestamp($1) AT TIME ZONE ''UTC'', ''YYYY-MM-DD'')'";

enum otd_status pg_migrate(const char *url, int *from, int *to, struct otd_error *err)
{
	struct pg_conn *pc = pg_connect(url, err);
	if(!pc)
		return OTD_EIO;
	char *shown = pg_url_redacted(url);
	enum otd_status st = OTD_OK;
	char lock[96];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", PG_MIGRATE_LOCK);
	if(simple(pc, lock) != DB_OK) {
		st = otd_error_set(err, OTD_EIO, "migration_failed", "database",
		                   "Cannot lock %s for migrating: %s.", shown, pc->errmsg);
		goto out;
	}
	int version = 0;
	st = schema_version(pc, &version, err);
	if(st)
		goto out;
	int latest = store_schema_latest();
	if(version <= latest && simple(pc, PG_COMPAT) != DB_OK) {
		st = otd_error_set(err, OTD_EIO, "migration_failed", "database",
		                   "Cannot create onthedot's functions in %s: %s.", shown,
		                   pc->errmsg);
		goto out;
	}
	*from = version;
	*to = version;
	if(version > latest) {
		st =
		    otd_error_set(err, OTD_ESTATE, "schema_too_new", "database",
		                  "The database %s has schema version %d, newer than this onthedot "
		                  "knows (%d); run a newer onthedot. Nothing was changed.",
		                  shown, version, latest);
		goto out;
	}
	for(int v = version + 1; v <= latest; v++) {
		const struct otd_asset *m = &otd_schema[v - 1];
		char *t = pg_translate_schema((const char *)m->data);
		char stamp[160];
		snprintf(stamp, sizeof(stamp),
		         "CREATE TABLE IF NOT EXISTS onthedot_schema(version INTEGER NOT NULL); "
		         "DELETE FROM onthedot_schema; INSERT INTO onthedot_schema VALUES (%d)",
		         v);
		if(simple(pc, "BEGIN") != DB_OK || simple(pc, t) != DB_OK ||
		   simple(pc, stamp) != DB_OK || simple(pc, "COMMIT") != DB_OK) {
			st = otd_error_set(
			    err, OTD_EIO, "migration_failed", "database",
			    "Migration %s failed: %s; the database stays at version %d.", m->name,
			    pc->errmsg, v - 1);
			simple(pc, "ROLLBACK");
			free(t);
			goto out;
		}
		free(t);
		*to = v;
	}
out:
	free(shown);
	pg_disconnect(pc);
	return st;
}

/* ---- doctor ----------------------------------------------------------------- */

/* The first value of sql's result as text into dst ("" when none). */
static int one_text(struct pg_conn *pc, const char *sql, char *dst, size_t size)
{
	dst[0] = '\0';
	PGresult *r = PQexec(pc->pq, sql);
	int rc = DB_OK;
	if(PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_error_code(pc, r);
	else if(PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		snprintf(dst, size, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

enum otd_status store_inspect_pg(const char *url, struct store_inspect_pg *out,
                                 struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->schema_latest = store_schema_latest();
	struct pg_conn *pc = pg_connect(url, err);
	if(!pc)
		return OTD_EIO;
	char v[64];
	int rc =
	    one_text(pc, "SHOW server_version", out->server_version, sizeof(out->server_version));
	if(rc == DB_OK)
		rc = one_text(
		    pc, "SELECT datcollate FROM pg_database WHERE datname = current_database()",
		    out->collate, sizeof(out->collate));
	if(rc == DB_OK && (rc = one_text(pc, "SELECT pg_database_size(current_database())", v,
	                                 sizeof(v))) == DB_OK)
		out->db_bytes = strtoll(v, NULL, 10);
	if(rc == DB_OK && (rc = one_text(pc, "SHOW max_connections", v, sizeof(v))) == DB_OK)
		out->max_connections = (int)strtol(v, NULL, 10);
	if(rc == DB_OK && (rc = one_text(pc,
	                                 "SELECT count(*) FROM pg_stat_activity WHERE datname = "
	                                 "current_database()",
	                                 v, sizeof(v))) == DB_OK)
		out->connections = (int)strtol(v, NULL, 10);
	if(rc == DB_OK && (rc = one_text(pc, "SELECT pg_is_in_recovery()", v, sizeof(v))) == DB_OK)
		out->read_only = v[0] == 't';
	enum otd_status st = OTD_OK;
	if(rc != DB_OK) {
		char *shown = pg_url_redacted(url);
		st = otd_error_set(err, OTD_EIO, "database_error", "database",
		                   "Cannot inspect %s: %s.", shown, pc->errmsg);
		free(shown);
	} else {
		st = schema_version(pc, &out->schema_version, err);
	}
	if(st == OTD_OK && out->schema_version >= 7 &&
	   one_text(pc,
	            "SELECT count(*) FROM ticker_nodes WHERE seen_at > "
	            "(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 300000",
	            v, sizeof(v)) == DB_OK)
		out->nodes_alive = (int)strtol(v, NULL, 10);
	pg_disconnect(pc);
	return st;
}
