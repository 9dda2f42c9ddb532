/* Unit tests: migrations, the single writer with group commit, the read
 * pool, busy answers and schema version checks. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "onthedot/mem.h"
#include "store/sql.h"
#include "store/store.h"
#include "testutil.h"

static char *fresh_db(const char *name)
{
	static int seq;
	char *path = xasprintf("%s/%s-%d.db", testutil_tmpdir(), name, ++seq);
	remove(path);
	return path;
}

static struct otd_store_options opts(const char *path)
{
	struct otd_store_options o = {.path = path,
	                              .read_connections = 2,
	                              .writer_queue = 64,
	                              .writer_wait_ms = 2000,
	                              .busy_timeout_ms = 1000,
	                              .group_commit_max = 16};
	return o;
}

static int exec_int(const char *path, const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(migrate_creates_latest_schema)
{
	char *path = fresh_db("migrate");
	struct otd_error err;
	int from = -1, to = -1;
	char *backup = NULL;
	ck_assert_int_eq(store_migrate(path, false, 1000, &from, &to, &backup, &err), OTD_ENOTFOUND);
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, &backup, &err), OTD_OK);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(to, store_schema_latest());
	ck_assert_ptr_null(backup); /* nothing to back up in a new file */
	ck_assert_int_eq(exec_int(path, "PRAGMA user_version"), store_schema_latest());
	ck_assert_int_eq(exec_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	ck_assert_int_gt(exec_int(path, "SELECT count(*) FROM sqlite_master WHERE type='table'"), 20);
	/* A second run is a no-op. */
	ck_assert_int_eq(store_migrate(path, false, 1000, &from, &to, &backup, &err), OTD_OK);
	ck_assert_int_eq(from, to);
	free(path);
}
END_TEST

START_TEST(migrate_backs_up_and_reports_failure)
{
	char *path = fresh_db("backup");
	struct otd_error err;
	int from, to;
	char *backup = NULL;
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	exec_sql(path, "INSERT INTO skills(code) VALUES ('gas')");
	/* Pretend the schema is at version 0 again: the migration then fails
	 * (tables exist), the database keeps its data and a backup exists. */
	exec_sql(path, "PRAGMA user_version=0");
	ck_assert_int_eq(store_migrate(path, false, 1000, &from, &to, &backup, &err), OTD_EIO);
	ck_assert_str_eq(err.code, "migration_failed");
	ck_assert_ptr_nonnull(strstr(err.message, "stays at version 0"));
	ck_assert_ptr_nonnull(backup);
	/* The copy is a complete database holding the data. */
	ck_assert_int_eq(exec_int(backup, "SELECT count(*) FROM skills WHERE code='gas'"), 1);
	ck_assert_int_eq(exec_int(path, "SELECT count(*) FROM skills WHERE code='gas'"), 1);
	free(backup);
	free(path);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	char *path = fresh_db("newer");
	struct otd_error err;
	int from, to;
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	exec_sql(path, "PRAGMA user_version=999");
	ck_assert_int_eq(store_migrate(path, false, 1000, &from, &to, NULL, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "schema_too_new");
	ck_assert_ptr_nonnull(strstr(err.message, "newer"));
	struct otd_store_options o = opts(path);
	struct otd_store *s = NULL;
	ck_assert_int_eq(store_open(&o, &s, &err), OTD_ESTATE);
	ck_assert_ptr_null(s);
	free(path);
}
END_TEST

START_TEST(pending_migration_names_the_command)
{
	char *path = fresh_db("pending");
	exec_sql(path, "CREATE TABLE x(y)");
	struct otd_store_options o = opts(path);
	struct otd_store *s = NULL;
	struct otd_error err;
	ck_assert_int_eq(store_open(&o, &s, &err), OTD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "onthedot migrate --db"));
	free(path);
	o.path = "/nonexistent/dir/x.db";
	ck_assert_int_eq(store_open(&o, &s, &err), OTD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "onthedot migrate"));
}
END_TEST

struct insert_ctx {
	const char *code;
	bool fail;
};

static enum otd_status insert_skill(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct insert_ctx *c = arg;
	struct otd_stmt *st = conn_prepare(tx, "INSERT INTO skills(code) VALUES (?1)", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, c->code);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "insert", err);
	if(c->fail)
		return otd_error_set(err, OTD_ESTATE, "refused", NULL, "job refused after writing");
	return OTD_OK;
}

static enum otd_status count_skills(struct otd_conn *c, void *arg, struct otd_error *err)
{
	int *out = arg;
	struct otd_stmt *st = conn_prepare(c, "SELECT count(*) FROM skills", err);
	if(!st)
		return OTD_EIO;
	*out = db_step(st) == DB_ROW ? db_column_int(st, 0) : -1;
	conn_done(st);
	return OTD_OK;
}

static struct otd_store *open_fresh(const char *name, char **path_out, int queue)
{
	char *path = fresh_db(name);
	struct otd_error err;
	int from, to;
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = opts(path);
	o.writer_queue = queue;
	o.writer_wait_ms = 10000; /* jobs queued behind a gate on a slow machine */
	struct otd_store *s = NULL;
	ck_assert_int_eq(store_open(&o, &s, &err), OTD_OK);
	*path_out = path;
	return s;
}

START_TEST(failed_job_rolls_back_only_itself)
{
	char *path;
	struct otd_store *s = open_fresh("rollback", &path, 64);
	struct otd_error err;
	struct insert_ctx ok = {"gas", false}, bad = {"water", true}, dup = {"gas", false};
	ck_assert_int_eq(store_write(s, insert_skill, &ok, &err), OTD_OK);
	ck_assert_int_eq(store_write(s, insert_skill, &bad, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "refused");
	ck_assert_int_eq(store_write(s, insert_skill, &dup, &err), OTD_ECONFLICT);
	int n = 0;
	ck_assert_int_eq(store_read(s, count_skills, &n, &err), OTD_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_integrity_check(s, &err), OTD_OK);
	store_close(s);
	free(path);
}
END_TEST

/* ---- after commit ------------------------------------------------------ */

struct hooked {
	struct insert_ctx ins;
	const char *path;
	int seen; /* skills a fresh connection saw when the hook ran; -1: never ran */
};

static void count_from_outside(void *arg)
{
	struct hooked *h = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	ck_assert_int_eq(sqlite3_open_v2(h->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM skills", -1, &st, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	h->seen = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static enum otd_status insert_hooked(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct hooked *h = arg;
	/* Asked before the job fails: a failed job's hook never runs. */
	ck_assert(store_after_commit(tx, count_from_outside, h));
	return insert_skill(tx, &h->ins, err);
}

START_TEST(after_commit_runs_once_the_change_is_visible_and_never_for_a_failed_job)
{
	char *path;
	struct otd_store *s = open_fresh("aftercommit", &path, 64);
	struct otd_error err;
	struct hooked ok = {{"gas", false}, path, -1}, bad = {{"water", true}, path, -1},
	              dup = {{"gas", false}, path, -1}, next = {{"power", false}, path, -1};
	ck_assert_int_eq(store_write(s, insert_hooked, &ok, &err), OTD_OK);
	ck_assert_int_eq(ok.seen, 1); /* committed: another connection sees it */
	ck_assert_int_eq(store_write(s, insert_hooked, &bad, &err), OTD_ESTATE);
	ck_assert_int_eq(bad.seen, -1);
	ck_assert_int_eq(store_write(s, insert_hooked, &dup, &err), OTD_ECONFLICT);
	ck_assert_int_eq(dup.seen, -1);
	/* A job that asks nothing runs no hook left over from another. */
	struct insert_ctx plain = {"heat", false};
	ck_assert_int_eq(store_write(s, insert_skill, &plain, &err), OTD_OK);
	ck_assert_int_eq(store_write(s, insert_hooked, &next, &err), OTD_OK);
	ck_assert_int_eq(next.seen, 3);
	/* Outside a write job: refused. */
	ck_assert(!store_after_commit(NULL, count_from_outside, &next));
	store_close(s);
	free(path);
}
END_TEST

struct thread_arg {
	struct otd_store *s;
	int id;
	int ok;
};

static void *writer_thread(void *p)
{
	struct thread_arg *a = p;
	for(int i = 0; i < 50; i++) {
		char code[32];
		snprintf(code, sizeof(code), "t%d-%d", a->id, i);
		struct insert_ctx c = {code, false};
		struct otd_error err;
		if(store_write(a->s, insert_skill, &c, &err) == OTD_OK)
			a->ok++;
	}
	return NULL;
}

START_TEST(concurrent_writers_group_commit)
{
	char *path;
	struct otd_store *s = open_fresh("group", &path, 64);
	pthread_t t[8];
	struct thread_arg a[8];
	for(int i = 0; i < 8; i++) {
		a[i] = (struct thread_arg){s, i, 0};
		pthread_create(&t[i], NULL, writer_thread, &a[i]);
	}
	int total = 0;
	for(int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += a[i].ok;
	}
	ck_assert_int_eq(total, 400);
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_uint_eq(stats.write_jobs, 400);
	/* Group commit: with 8 writers some COMMITs carry several jobs. */
	ck_assert_uint_le(stats.commits, 400);
	ck_assert_int_eq(stats.writer_queue_depth, 0);
	int n = 0;
	struct otd_error err;
	ck_assert_int_eq(store_read(s, count_skills, &n, &err), OTD_OK);
	ck_assert_int_eq(n, 400);
	store_close(s);
	free(path);
}
END_TEST

/* A job that blocks the writer until released, to fill the queue. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;

static enum otd_status gate_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	(void)tx;
	(void)arg;
	(void)err;
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while(!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return OTD_OK;
}

static void *gate_thread(void *p)
{
	struct otd_error err;
	store_write(p, gate_job, NULL, &err);
	return NULL;
}

/* Starts a gate job and returns once the writer is inside it. */
static pthread_t gate_hold(struct otd_store *s)
{
	gate_open = false;
	gate_entered = false;
	pthread_t g;
	pthread_create(&g, NULL, gate_thread, s);
	pthread_mutex_lock(&gate_mu);
	while(!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return g;
}

/* Lets the gate job of thread g finish, and waits for it. */
static void gate_release(pthread_t g)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	pthread_join(g, NULL);
}

static void *queued_thread(void *p)
{
	struct thread_arg *a = p;
	char code[32];
	snprintf(code, sizeof(code), "q%d", a->id);
	struct insert_ctx c = {code, false};
	struct otd_error err;
	a->ok = store_write(a->s, insert_skill, &c, &err);
	return NULL;
}

START_TEST(full_queue_answers_busy_with_retry_after)
{
	char *path;
	struct otd_store *s = open_fresh("busy", &path, 1);
	pthread_t g = gate_hold(s);
	/* The writer is inside the gate job; one job fits in the queue. */
	struct thread_arg queued = {s, 1, -1};
	pthread_t q;
	pthread_create(&q, NULL, queued_thread, &queued);
	struct otd_store_stats stats;
	for(int i = 0; i < 200; i++) {
		store_stats(s, &stats);
		if(stats.writer_queue_depth == 1)
			break;
		usleep(5000);
	}
	ck_assert_int_eq(stats.writer_queue_depth, 1);
	struct insert_ctx c = {"overflow", false};
	struct otd_error err;
	ck_assert_int_eq(store_write(s, insert_skill, &c, &err), OTD_EBUSY);
	ck_assert_int_ge(err.retry_after, 1);
	ck_assert_int_eq(otd_status_http(err.status), 503);
	gate_release(g);
	pthread_join(q, NULL);
	ck_assert_int_eq(queued.ok, OTD_OK);
	store_close(s);
	free(path);
}
END_TEST

struct batch_arg {
	struct otd_store *s;
	struct insert_ctx c;
	enum otd_status st;
};

static void *batch_thread(void *p)
{
	struct batch_arg *a = p;
	struct otd_error err;
	a->st = store_write(a->s, insert_skill, &a->c, &err);
	return NULL;
}

static enum otd_status has_skill(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct insert_ctx *q = arg;
	struct otd_stmt *st = conn_prepare(c, "SELECT count(*) FROM skills WHERE code = ?1", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, q->code);
	q->fail = db_step(st) == DB_ROW && db_column_int(st, 0) == 1; /* found */
	conn_done(st);
	return OTD_OK;
}

/* Four jobs committed together, queued in order behind a gate: the first
 * fails after writing (it runs without a savepoint, so the transaction is
 * rolled back and begun again), the second succeeds, the third fails
 * after writing (rolled back to its savepoint), the fourth succeeds. */
START_TEST(failed_jobs_in_one_commit_roll_back_only_themselves)
{
	char *path;
	struct otd_store *s = open_fresh("batch", &path, 64);
	pthread_t g = gate_hold(s);
	struct batch_arg a[4] = {{s, {"first-fails", true}, -1},
	                         {s, {"second-ok", false}, -1},
	                         {s, {"third-fails", true}, -1},
	                         {s, {"fourth-ok", false}, -1}};
	pthread_t t[4];
	struct otd_store_stats stats;
	for(int i = 0; i < 4; i++) {
		pthread_create(&t[i], NULL, batch_thread, &a[i]);
		for(int k = 0; k < 400; k++) { /* queued in this order */
			store_stats(s, &stats);
			if(stats.writer_queue_depth == i + 1)
				break;
			usleep(5000);
		}
		ck_assert_int_eq(stats.writer_queue_depth, i + 1);
	}
	store_stats(s, &stats);
	uint64_t commits = stats.commits;
	gate_release(g);
	for(int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(a[0].st, OTD_ESTATE);
	ck_assert_int_eq(a[1].st, OTD_OK);
	ck_assert_int_eq(a[2].st, OTD_ESTATE);
	ck_assert_int_eq(a[3].st, OTD_OK);
	store_stats(s, &stats);
	ck_assert_uint_eq(stats.commits, commits + 2); /* the gate's, then the four's */
	struct otd_error err;
	for(int i = 0; i < 4; i++) {
		struct insert_ctx q = {a[i].c.code, false};
		ck_assert_int_eq(store_read(s, has_skill, &q, &err), OTD_OK);
		ck_assert_msg(q.fail == (i % 2 == 1), "%s stored: %d", q.code, q.fail);
	}
	ck_assert_int_eq(store_integrity_check(s, &err), OTD_OK);
	store_close(s);
	free(path);
}
END_TEST

START_TEST(waiting_too_long_answers_busy)
{
	char *path = fresh_db("wait");
	struct otd_error err;
	int from, to;
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = opts(path);
	o.writer_wait_ms = 100;
	struct otd_store *s = NULL;
	ck_assert_int_eq(store_open(&o, &s, &err), OTD_OK);
	pthread_t g = gate_hold(s);
	struct insert_ctx c = {"late", false};
	ck_assert_int_eq(store_write(s, insert_skill, &c, &err), OTD_EBUSY);
	struct otd_store_stats stats;
	store_stats(s, &stats);
	ck_assert_int_eq(stats.writer_queue_depth, 0); /* taken out again */
	gate_release(g);
	int n = -1;
	ck_assert_int_eq(store_read(s, count_skills, &n, &err), OTD_OK);
	ck_assert_int_eq(n, 0); /* the timed-out job never ran */
	store_close(s);
	free(path);
}
END_TEST

START_TEST(schema_rejects_invalid_states)
{
	char *path = fresh_db("constraints");
	struct otd_error err;
	int from, to;
	ck_assert_int_eq(store_migrate(path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	const char *bad[] = {
	    /* a visitor user without a visitor record */
	    "INSERT INTO users(login,display_name,role,password_hash,created_at,updated_at) "
	    "VALUES ('v','V','visitor','$argon2id$x',1,1)",
	    /* an unknown role */
	    "INSERT INTO users(login,display_name,role,password_hash,created_at,updated_at) "
	    "VALUES ('x','X','root','$argon2id$x',1,1)",
	    /* a plain-text password */
	    "INSERT INTO users(login,display_name,role,password_hash,created_at,updated_at) "
	    "VALUES ('y','Y','admin','hunter2',1,1)",
	    /* a window that ends before it starts */
	    "INSERT INTO holds(visitor_id,visit_type_id,address_id,local_date,window_start,"
	    "window_end,client_key,token_hash,created_at,expires_at) VALUES "
	    "(1,1,1,'2026-01-01',100,50,'k',zeroblob(32),1,2)",
	    /* a customer with no way to reach them */
	    "INSERT INTO customers(name,created_at) VALUES ('A',1)",
	    /* a session token hash of the wrong size */
	    "INSERT INTO sessions(user_id,token_hash,csrf_token,created_at,expires_at) VALUES "
	    "(1,zeroblob(8),'x',1,2)",
	    /* an address with impossible coordinates */
	    "INSERT INTO addresses(line1,postcode,postcode_norm,match_key,lat,lon,created_at,"
	    "updated_at) VALUES ('1 High St','AB1 2CD','AB12CD','k',91,0,1,1)",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = sqlite3_exec(db, bad[i], NULL, NULL, NULL);
		ck_assert_msg(rc == SQLITE_CONSTRAINT, "accepted: %s", bad[i]);
	}
	sqlite3_close(db);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, migrate_creates_latest_schema);
	tcase_add_test(tc, migrate_backs_up_and_reports_failure);
	tcase_add_test(tc, newer_schema_is_refused);
	tcase_add_test(tc, pending_migration_names_the_command);
	tcase_add_test(tc, failed_job_rolls_back_only_itself);
	tcase_add_test(tc, concurrent_writers_group_commit);
	tcase_add_test(tc, failed_jobs_in_one_commit_roll_back_only_themselves);
	tcase_add_test(tc, full_queue_answers_busy_with_retry_after);
	tcase_add_test(tc, waiting_too_long_answers_busy);
	tcase_add_test(tc, schema_rejects_invalid_states);
	tcase_add_test(tc, after_commit_runs_once_the_change_is_visible_and_never_for_a_failed_job);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
