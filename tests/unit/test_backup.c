/* Unit tests: online backups, the checks of a database file, restore and
 * the database's lock (store/backup.c). */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/backup.h"
#include "store/store.h"
#include "testutil.h"

static char *tmp_path(const char *name)
{
	static int seq;
	char *path = xasprintf("%s/%s-t%d.db", testutil_tmpdir(), name, ++seq);
	remove(path);
	return path;
}

static struct store_backup_options full_check(void)
{
	struct store_backup_options o = {.busy_timeout_ms = 2000, .check = STORE_CHECK_FULL};
	return o;
}

/* A migrated database in WAL mode, as a server leaves it, with one skill. */
static char *live_db(const char *name)
{
	char *path = testutil_migrated_db(name);
	testutil_sql_exec(path, "INSERT INTO skills(code) VALUES ('gas')");
	return path;
}

static bool exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* Files in path's folder whose names start with path's base name and
 * contain what (".tmp-", ".before-restore-"). */
static int count_beside(const char *path, const char *what)
{
	const char *base = strrchr(path, '/') + 1;
	DIR *d = opendir(testutil_tmpdir());
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while((e = readdir(d)))
		if(strncmp(e->d_name, base, strlen(base)) == 0 &&
		   strstr(e->d_name + strlen(base), what))
			n++;
	closedir(d);
	return n;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void write_all(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Writes garbage over page n (1-based) of a database file. */
static void damage_page(const char *path, int page_size, int n)
{
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	char *junk = xmalloc((size_t)page_size);
	uint32_t x = 2463534242u;
	for(int i = 0; i < page_size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (char)(x & 0xff);
	}
	ck_assert_int_eq(pwrite(fd, junk, (size_t)page_size, (off_t)page_size * (n - 1)),
	                 page_size);
	close(fd);
	free(junk);
}

/* A fresh backup copy of a live database, for the checks to damage. */
static char *fresh_copy(const char *name, struct store_backup_info *info)
{
	char *db = live_db(name);
	char *to = tmp_path(name);
	struct otd_error err;
	struct store_backup_options o = full_check();
	ck_assert_msg(store_backup(db, to, &o, info, &err) == OTD_OK, "%s", err.message);
	free(db);
	return to;
}

START_TEST(backup_copies_checks_and_reports)
{
	char *db = live_db("src");
	char *to = tmp_path("copy");
	struct store_backup_info info;
	struct otd_error err;
	struct store_backup_options o = full_check();
	ck_assert_msg(store_backup(db, to, &o, &info, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_gt(info.pages, 5);
	ck_assert_int_eq(info.page_size, (int)testutil_sql_int(db, "PRAGMA page_size"));
	ck_assert_int_eq(info.bytes, info.pages * info.page_size);
	ck_assert_int_eq(info.schema_version, store_schema_latest());
	ck_assert(info.seconds >= 0 && info.seconds < 60);
	/* It holds the data, passes the check, and stands alone: rollback
	 * journal mode, no log beside it, private to its owner. */
	ck_assert_int_eq(testutil_sql_int(to, "SELECT count(*) FROM skills WHERE code = 'gas'"), 1);
	struct store_file_info fi;
	ck_assert_msg(store_check_backup(to, &fi, &err) == OTD_OK, "%s", err.message);
	ck_assert(fi.onthedot);
	ck_assert_int_eq(fi.schema_version, store_schema_latest());
	char *mode = testutil_sql_text(to, "PRAGMA journal_mode");
	ck_assert_str_eq(mode, "delete");
	free(mode);
	struct stat sb;
	ck_assert_int_eq(stat(to, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	char *wal = xasprintf("%s-wal", to);
	ck_assert(!exists(wal));
	free(wal);
	ck_assert_int_eq(count_beside(to, ".tmp-"), 0);
	free(db);
	free(to);
}
END_TEST

START_TEST(backup_refuses_an_existing_target_unless_forced)
{
	char *db = live_db("src");
	char *to = tmp_path("exists");
	write_all(to, "keep me\n", 8);
	struct otd_error err;
	struct store_backup_options o = full_check();
	ck_assert_int_eq(store_backup(db, to, &o, NULL, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "backup_exists");
	size_t len;
	char *text = read_all(to, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert(memcmp(text, "keep me\n", 8) == 0);
	free(text);
	o.force = true;
	ck_assert_msg(store_backup(db, to, &o, NULL, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_eq(testutil_sql_int(to, "SELECT count(*) FROM skills"), 1);
	/* A folder is never a target. */
	ck_assert_int_eq(store_backup(db, testutil_tmpdir(), &o, NULL, &err), OTD_EINVAL);
	/* Nor is a missing source a database to copy. */
	char *missing = tmp_path("missing");
	char *to2 = tmp_path("never");
	ck_assert_int_eq(store_backup(missing, to2, &o, NULL, &err), OTD_ENOTFOUND);
	ck_assert(!exists(missing));
	ck_assert(!exists(to2));
	free(missing);
	free(to2);
	free(db);
	free(to);
}
END_TEST

START_TEST(backup_of_a_text_file_fails_and_leaves_nothing)
{
	char *src = tmp_path("text");
	write_all(src, "hello, I am not a database\n", 27);
	char *to = tmp_path("never");
	struct otd_error err;
	struct store_backup_options o = full_check();
	ck_assert_int_ne(store_backup(src, to, &o, NULL, &err), OTD_OK);
	ck_assert_ptr_nonnull(strstr(err.message, "not a"));
	ck_assert(!exists(to));
	ck_assert_int_eq(count_beside(to, ".tmp-"), 0);
	free(src);
	free(to);
}
END_TEST

START_TEST(backup_cancelled_leaves_nothing)
{
	char *db = live_db("src");
	char *to = tmp_path("cancel");
	atomic_bool cancel = true;
	struct store_backup_options o = full_check();
	o.cancel = &cancel;
	struct otd_error err;
	ck_assert_int_eq(store_backup(db, to, &o, NULL, &err), OTD_EBUSY);
	ck_assert_str_eq(err.code, "backup_cancelled");
	ck_assert(!exists(to));
	ck_assert_int_eq(count_beside(to, ".tmp-"), 0);
	free(db);
	free(to);
}
END_TEST

/* ---- a backup under concurrent writes ---- */

struct writer_ctx {
	const char *path;
	atomic_bool stop;
	atomic_int committed; /* rows committed so far */
	atomic_bool finished; /* the writer ran out of rows or failed */
};

static void *keep_writing(void *arg)
{
	struct writer_ctx *w = arg;
	sqlite3 *db;
	if(sqlite3_open(w->path, &db) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(db, 5000);
	/* Commits without waiting for the disk: many land during each step. */
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL, NULL, NULL);
	for(int i = 1; !atomic_load(&w->stop) && i < 200000; i++) {
		char sql[160];
		/* Rows of 400 bytes grow the database while it is being copied. */
		snprintf(sql, sizeof(sql),
		         "INSERT INTO filler(id, pad) VALUES (%d, hex(randomblob(200)))", i);
		if(sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			break;
		atomic_store(&w->committed, i);
	}
	atomic_store(&w->finished, true);
	sqlite3_close(db);
	return NULL;
}

START_TEST(backup_holds_one_snapshot_while_another_writer_commits)
{
	char *db = live_db("busy");
	/* About 2 MB: hundreds of steps of one page. */
	testutil_sql_exec(db, "CREATE TABLE filler(id INTEGER PRIMARY KEY, pad TEXT); "
	                      "CREATE TABLE ballast(b BLOB); "
	                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	                      "WHERE i < 500) INSERT INTO ballast SELECT randomblob(4000) FROM n");
	struct writer_ctx w = {.path = db};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, keep_writing, &w), 0);
	for(int waited = 0; atomic_load(&w.committed) < 300; waited++) {
		ck_assert_int_lt(waited, 30000);
		usleep(1000);
	}
	/* One page per step: without a snapshot held across the steps every
	 * commit would restart the copy. */
	int before = atomic_load(&w.committed);
	char *to = tmp_path("busycopy");
	struct store_backup_options o = full_check();
	o.step_pages = 1;
	struct store_backup_info info;
	struct otd_error err;
	enum otd_status st = store_backup(db, to, &o, &info, &err);
	int after = atomic_load(&w.committed);
	bool writer_finished = atomic_load(&w.finished);
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	ck_assert_msg(st == OTD_OK, "%s", err.message);
	/* The copy finished while the writer still committed (a copy that
	 * restarts on every commit would only finish once the writer stops),
	 * and the writer was not held up. */
	ck_assert(!writer_finished);
	ck_assert_int_gt(after, before);
	long long rows = testutil_sql_int(to, "SELECT count(*) FROM filler");
	/* Every row committed before the backup began, and a prefix of the
	 * writer's rows: one consistent moment. */
	ck_assert_int_ge(rows, before);
	ck_assert_int_le(rows, after);
	ck_assert_int_eq(testutil_sql_int(to, "SELECT max(id) FROM filler"), rows);
	ck_assert_msg(store_check_file(to, STORE_CHECK_FULL, NULL, &err) == OTD_OK, "%s",
	              err.message);
	free(db);
	free(to);
}
END_TEST

/* ---- checks of a file ---- */

START_TEST(check_refuses_a_damaged_page)
{
	struct store_backup_info info;
	char *to = fresh_copy("damaged", &info);
	damage_page(to, info.page_size, 3);
	struct otd_error err;
	ck_assert_int_eq(store_check_file(to, STORE_CHECK_FULL, NULL, &err), OTD_EIO);
	ck_assert_str_eq(err.code, "database_corrupt");
	ck_assert_ptr_nonnull(strstr(err.message, to));
	ck_assert_int_ne(store_check_backup(to, NULL, &err), OTD_OK);
	/* The quick check sees it too (what serve runs at start). */
	ck_assert_int_ne(store_check_file(to, STORE_CHECK_QUICK, NULL, &err), OTD_OK);
	free(to);
}
END_TEST

START_TEST(check_refuses_a_truncated_file)
{
	struct store_backup_info info;
	char *to = fresh_copy("cut", &info);
	struct otd_error err;
	/* Cut at a page boundary, then in the middle of a page. */
	ck_assert_int_eq(truncate(to, (off_t)info.page_size * (info.pages / 2)), 0);
	ck_assert_int_eq(store_check_file(to, STORE_CHECK_QUICK, NULL, &err), OTD_EIO);
	ck_assert_str_eq(err.code, "database_truncated");
	ck_assert_ptr_nonnull(strstr(err.message, "cut short"));
	ck_assert_int_eq(truncate(to, (off_t)info.page_size + 1000), 0);
	ck_assert_int_eq(store_check_backup(to, NULL, &err), OTD_EIO);
	/* Shorter than SQLite's header: not a database at all. */
	ck_assert_int_eq(truncate(to, 50), 0);
	ck_assert_int_eq(store_check_backup(to, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "not_a_database");
	free(to);
}
END_TEST

START_TEST(check_refuses_what_is_not_an_onthedot_database)
{
	struct otd_error err;
	char *text = tmp_path("text");
	write_all(text, "id,name\n1,Zoë\n", 15);
	ck_assert_int_eq(store_check_backup(text, NULL, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "not_a_database");
	ck_assert_ptr_nonnull(strstr(err.message, "not a SQLite database"));
	char *empty = tmp_path("empty");
	write_all(empty, "", 0);
	ck_assert_int_eq(store_check_backup(empty, NULL, &err), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "empty"));
	char *missing = tmp_path("missing");
	ck_assert_int_eq(store_check_backup(missing, NULL, &err), OTD_ENOTFOUND);
	ck_assert(!exists(missing));
	char *foreign = tmp_path("foreign");
	testutil_sql_exec(foreign, "CREATE TABLE recipes(id INTEGER PRIMARY KEY, name TEXT); "
	                           "PRAGMA user_version = 3");
	struct store_file_info fi;
	ck_assert_int_eq(store_check_backup(foreign, &fi, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "not_onthedot");
	ck_assert(!fi.onthedot);
	/* A folder is not a file. */
	ck_assert_int_eq(store_check_file(testutil_tmpdir(), STORE_CHECK_QUICK, NULL, &err),
	                 OTD_EINVAL);
	free(text);
	free(empty);
	free(missing);
	free(foreign);
}
END_TEST

START_TEST(check_judges_the_schema_version)
{
	struct store_backup_info info;
	char *to = fresh_copy("newer", &info);
	struct otd_error err;
	char *sql = xasprintf("PRAGMA user_version = %d", store_schema_latest() + 1);
	testutil_sql_exec(to, sql);
	free(sql);
	ck_assert_int_eq(store_check_backup(to, NULL, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "schema_too_new");
	ck_assert_ptr_nonnull(strstr(err.message, "newer"));
	/* Older is allowed: migrate brings it up to date after a restore. */
	testutil_sql_exec(to, "PRAGMA user_version = 1");
	struct store_file_info fi;
	ck_assert_msg(store_check_backup(to, &fi, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_eq(fi.schema_version, 1);
	free(to);
}
END_TEST

START_TEST(check_reads_a_live_database_with_its_log)
{
	/* As a server left it after a crash: rows only in the log. */
	char *db = live_db("live");
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h,
	                              "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; "
	                              "INSERT INTO skills(code) VALUES ('water')",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	struct store_file_info fi;
	struct otd_error err;
	ck_assert_msg(store_check_file(db, STORE_CHECK_QUICK, &fi, &err) == OTD_OK, "%s",
	              err.message);
	ck_assert(fi.onthedot);
	sqlite3_close(h);
	free(db);
}
END_TEST

/* ---- restore ---- */

START_TEST(restore_puts_the_copy_in_place_and_keeps_the_old)
{
	char *db = live_db("target");
	char *bak = tmp_path("good");
	struct otd_error err;
	struct store_backup_options o = full_check();
	ck_assert_int_eq(store_backup(db, bak, &o, NULL, &err), OTD_OK);
	testutil_sql_exec(db, "INSERT INTO skills(code) VALUES ('water')");
	ck_assert_int_eq(chmod(db, 0640), 0);
	struct store_restore_info ri;
	ck_assert_msg(store_restore(bak, db, 2000, &ri, &err) == OTD_OK, "%s", err.message);
	ck_assert_int_eq(testutil_sql_int(db, "SELECT count(*) FROM skills WHERE code = 'water'"),
	                 0);
	ck_assert_int_eq(testutil_sql_int(db, "SELECT count(*) FROM skills WHERE code = 'gas'"), 1);
	ck_assert_ptr_nonnull(ri.kept);
	ck_assert(!ri.kept_by_rename);
	ck_assert_ptr_nonnull(strstr(ri.kept, ".before-restore-"));
	ck_assert_int_eq(
	    testutil_sql_int(ri.kept, "SELECT count(*) FROM skills WHERE code = 'water'"), 1);
	ck_assert_int_eq(ri.backup.schema_version, store_schema_latest());
	struct stat sb;
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	ck_assert_int_eq(count_beside(db, ".restore-tmp-"), 0);
	/* The server opens it. */
	struct otd_store_options so = {.path = db,
	                               .read_connections = 1,
	                               .writer_queue = 4,
	                               .writer_wait_ms = 1000,
	                               .busy_timeout_ms = 1000,
	                               .group_commit_max = 1};
	struct otd_store *s = NULL;
	ck_assert_msg(store_open(&so, &s, &err) == OTD_OK, "%s", err.message);
	ck_assert_msg(store_integrity_check(s, &err) == OTD_OK, "%s", err.message);
	store_close(s);
	store_restore_info_cleanup(&ri);
	free(db);
	free(bak);
}
END_TEST

static void assert_restore_refused(const char *bak, const char *db, enum otd_status want,
                                   const char *code)
{
	size_t len0, len1;
	char *before = read_all(db, &len0);
	struct store_restore_info ri;
	struct otd_error err;
	ck_assert_int_eq(store_restore(bak, db, 2000, &ri, &err), want);
	ck_assert_str_eq(err.code, code);
	char *after = read_all(db, &len1);
	ck_assert_uint_eq(len0, len1);
	ck_assert(memcmp(before, after, len0) == 0);
	ck_assert_ptr_null(ri.kept);
	ck_assert_int_eq(count_beside(db, ".before-restore-"), 0);
	ck_assert_int_eq(count_beside(db, ".restore-tmp-"), 0);
	free(before);
	free(after);
}

START_TEST(restore_refuses_a_bad_copy_and_leaves_the_database)
{
	char *db = live_db("keep");
	/* Checkpointed, so the bytes compared hold everything. */
	testutil_sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	struct store_backup_info info;
	char *damaged = fresh_copy("damaged", &info);
	damage_page(damaged, info.page_size, 3);
	assert_restore_refused(damaged, db, OTD_EIO, "database_corrupt");
	char *newer = fresh_copy("newer", &info);
	char *sql = xasprintf("PRAGMA user_version = %d", store_schema_latest() + 5);
	testutil_sql_exec(newer, sql);
	free(sql);
	assert_restore_refused(newer, db, OTD_ESTATE, "schema_too_new");
	char *text = tmp_path("text");
	write_all(text, "not a database at all\n", 22);
	assert_restore_refused(text, db, OTD_EINVAL, "not_a_database");
	assert_restore_refused(db, db, OTD_EINVAL, "same_file");
	free(db);
	free(damaged);
	free(newer);
	free(text);
}
END_TEST

START_TEST(restore_refuses_while_the_database_is_owned)
{
	char *db = live_db("owned");
	testutil_sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	struct store_backup_info info;
	char *bak = fresh_copy("good", &info);
	struct store_lock *lock = NULL;
	struct otd_error err;
	ck_assert_int_eq(store_lock_take(db, "serve", &lock, &err), OTD_OK);
	assert_restore_refused(bak, db, OTD_ECONFLICT, "database_in_use");
	struct store_restore_info ri;
	store_restore(bak, db, 2000, &ri, &err);
	char *want =
	    xasprintf("another onthedot serve is running on %s (pid %ld)", db, (long)getpid());
	ck_assert_str_eq(err.message, want);
	free(want);
	store_lock_release(lock);
	ck_assert_msg(store_restore(bak, db, 2000, &ri, &err) == OTD_OK, "%s", err.message);
	store_restore_info_cleanup(&ri);
	free(db);
	free(bak);
}
END_TEST

START_TEST(restore_moves_a_database_too_damaged_to_copy)
{
	char *db = live_db("wreck");
	testutil_sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	struct store_backup_info info;
	char *bak = fresh_copy("good", &info);
	/* Its first page (the header) is garbage: SQLite cannot read it. */
	damage_page(db, info.page_size, 1);
	size_t len;
	char *wreck = read_all(db, &len);
	struct store_restore_info ri;
	struct otd_error err;
	ck_assert_msg(store_restore(bak, db, 2000, &ri, &err) == OTD_OK, "%s", err.message);
	ck_assert(ri.kept_by_rename);
	size_t klen;
	char *kept = read_all(ri.kept, &klen);
	ck_assert_uint_eq(klen, len);
	ck_assert(memcmp(kept, wreck, len) == 0);
	ck_assert_int_eq(testutil_sql_int(db, "SELECT count(*) FROM skills WHERE code = 'gas'"), 1);
	store_restore_info_cleanup(&ri);
	free(kept);
	free(wreck);
	free(db);
	free(bak);
}
END_TEST

START_TEST(restore_into_a_missing_database_keeps_nothing)
{
	struct store_backup_info info;
	char *bak = fresh_copy("good", &info);
	char *db = tmp_path("fresh");
	struct store_restore_info ri;
	struct otd_error err;
	ck_assert_msg(store_restore(bak, db, 2000, &ri, &err) == OTD_OK, "%s", err.message);
	ck_assert_ptr_null(ri.kept);
	ck_assert_int_eq(testutil_sql_int(db, "SELECT count(*) FROM skills"), 1);
	free(db);
	free(bak);
}
END_TEST

/* ---- the lock ---- */

START_TEST(lock_is_exclusive_and_names_its_holder)
{
	char *db = tmp_path("locked");
	struct store_lock *a = NULL, *b = NULL;
	struct otd_error err;
	ck_assert_int_eq(store_lock_take(db, "serve", &a, &err), OTD_OK);
	/* Another open file description: flock refuses it as it would refuse
	 * another process. */
	ck_assert_int_eq(store_lock_take(db, "serve", &b, &err), OTD_ECONFLICT);
	ck_assert_ptr_null(b);
	ck_assert_str_eq(err.code, "database_in_use");
	char *want = xasprintf("(pid %ld)", (long)getpid());
	ck_assert_ptr_nonnull(strstr(err.message, want));
	free(want);
	store_lock_release(a);
	ck_assert_int_eq(store_lock_take(db, "restore", &b, &err), OTD_OK);
	ck_assert_int_eq(store_lock_take(db, "serve", &a, &err), OTD_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "restore is running"));
	store_lock_release(b);
	store_lock_release(NULL);
	/* The database itself is not created by taking its lock. */
	ck_assert(!exists(db));
	free(db);
}
END_TEST

START_TEST(backup_name_follows_migrate_style)
{
	char *n = store_backup_name("/var/lib/onthedot/otd.db", "before-restore", 1772442000);
	ck_assert_str_eq(n, "/var/lib/onthedot/otd.db.before-restore-20260302T090000Z.bak");
	free(n);
	n = store_backup_name("x.db", "v3", 0);
	ck_assert_str_eq(n, "x.db.v3-19700101T000000Z.bak");
	free(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backup");
	TCase *tc = tcase_create("backup");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, backup_copies_checks_and_reports);
	tcase_add_test(tc, backup_refuses_an_existing_target_unless_forced);
	tcase_add_test(tc, backup_of_a_text_file_fails_and_leaves_nothing);
	tcase_add_test(tc, backup_cancelled_leaves_nothing);
	tcase_add_test(tc, backup_holds_one_snapshot_while_another_writer_commits);
	tcase_add_test(tc, check_refuses_a_damaged_page);
	tcase_add_test(tc, check_refuses_a_truncated_file);
	tcase_add_test(tc, check_refuses_what_is_not_an_onthedot_database);
	tcase_add_test(tc, check_judges_the_schema_version);
	tcase_add_test(tc, check_reads_a_live_database_with_its_log);
	tcase_add_test(tc, restore_puts_the_copy_in_place_and_keeps_the_old);
	tcase_add_test(tc, restore_refuses_a_bad_copy_and_leaves_the_database);
	tcase_add_test(tc, restore_refuses_while_the_database_is_owned);
	tcase_add_test(tc, restore_moves_a_database_too_damaged_to_copy);
	tcase_add_test(tc, restore_into_a_missing_database_keeps_nothing);
	tcase_add_test(tc, lock_is_exclusive_and_names_its_holder);
	tcase_add_test(tc, backup_name_follows_migrate_style);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
