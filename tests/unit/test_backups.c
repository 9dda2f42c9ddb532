/* Unit tests: scheduled backups (app/backups.c): names, rotation, one
 * backup with its figures, the thread, and serve's startup check. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/backups.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

static char *fresh_dir(const char *name)
{
	static int seq;
	char *dir = xasprintf("%s/%s-%d", testutil_tmpdir(), name, ++seq);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	return dir;
}

static void touch(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("x", f);
	fclose(f);
	free(path);
}

static bool exists_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat sb;
	bool ok = stat(path, &sb) == 0;
	free(path);
	return ok;
}

/* Files in dir, "." and ".." aside. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while((e = readdir(d)))
		if(strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(names_are_parsed_strictly)
{
	int64_t t = 0;
	ck_assert(backups_name_time("onthedot-20260302T090000Z.db", &t));
	ck_assert_int_eq(t, 1772442000);
	ck_assert(backups_name_time("onthedot-19700101T000000Z.db", &t));
	ck_assert_int_eq(t, 0);
	static const char *const bad[] = {"onthedot-20260302T090000Z.db.tmp-12",
	                                  "onthedot-20260302T090000Z.bak",
	                                  "onthedot-20260302T0900Z.db",
	                                  "Onthedot-20260302T090000Z.db",
	                                  "onthedot-20260231T090000Z.db",
	                                  "onthedot-20261302T090000Z.db",
	                                  "onthedot-20260302T250000Z.db",
	                                  "onthedot-2026030xT090000Z.db",
	                                  "onthedot-20260302 090000Z.db",
	                                  "onthedot.db",
	                                  "",
	                                  "onthedot-manual.db"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!backups_name_time(bad[i], NULL), "%s", bad[i]);
}
END_TEST

START_TEST(rotation_keeps_the_newest_and_touches_nothing_else)
{
	char *dir = fresh_dir("rotate");
	touch(dir, "onthedot-20260101T000000Z.db");
	touch(dir, "onthedot-20260301T000000Z.db");
	touch(dir, "onthedot-20251231T235959Z.db");
	touch(dir, "onthedot-20260201T000000Z.db");
	touch(dir, "notes.txt");
	touch(dir, "onthedot-manual.db");
	touch(dir, "onthedot.db");
	touch(dir, "onthedot-20250101T000000Z.db.tmp-1"); /* fresh: a copy in the making */
	int64_t when = 0;
	char *newest = backups_newest(dir, &when);
	char *want = xasprintf("%s/onthedot-20260301T000000Z.db", dir);
	ck_assert_str_eq(newest, want);
	ck_assert_int_eq(when, 1772323200);
	free(newest);
	free(want);
	ck_assert_int_eq(backups_rotate(dir, 2), 2);
	ck_assert(exists_in(dir, "onthedot-20260301T000000Z.db"));
	ck_assert(exists_in(dir, "onthedot-20260201T000000Z.db"));
	ck_assert(!exists_in(dir, "onthedot-20260101T000000Z.db"));
	ck_assert(!exists_in(dir, "onthedot-20251231T235959Z.db"));
	ck_assert(exists_in(dir, "notes.txt"));
	ck_assert(exists_in(dir, "onthedot-manual.db"));
	ck_assert(exists_in(dir, "onthedot.db"));
	ck_assert(exists_in(dir, "onthedot-20250101T000000Z.db.tmp-1"));
	/* A temporary copy untouched for a day was cut short: removed. */
	char *old = xasprintf("%s/onthedot-20250101T000000Z.db.tmp-1", dir);
	struct timespec times[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	ck_assert_int_eq(utimensat(AT_FDCWD, old, times, 0), 0);
	free(old);
	ck_assert_int_eq(backups_rotate(dir, 1), 1);
	ck_assert(!exists_in(dir, "onthedot-20250101T000000Z.db.tmp-1"));
	ck_assert_int_eq(count_files(dir), 4);
	/* Nothing to find in a folder that is not there, or none. */
	ck_assert_ptr_null(backups_newest("/nonexistent/onthedot", NULL));
	ck_assert_ptr_null(backups_newest("", NULL));
	ck_assert_int_eq(backups_rotate("/nonexistent/onthedot", 1), -1);
	free(dir);
}
END_TEST

START_TEST(one_backup_is_written_checked_rotated_and_counted)
{
	char *db = testutil_migrated_db("sched");
	char *dir = xasprintf("%s/sched-new-dir", testutil_tmpdir()); /* made by the backup */
	struct otd_backup_stats before, after;
	backups_stats(&before);
	char *file = NULL;
	struct store_backup_info info;
	struct otd_error err;
	ck_assert_msg(backups_run(db, dir, 2, 1772442000, 1000, NULL, &file, &info, &err) == OTD_OK,
	              "%s", err.message);
	char *want = xasprintf("%s/onthedot-20260302T090000Z.db", dir);
	ck_assert_str_eq(file, want);
	free(want);
	struct stat sb;
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(testutil_sql_int(file, "PRAGMA user_version"), store_schema_latest());
	backups_stats(&after);
	ck_assert_uint_eq(after.successes, before.successes + 1);
	ck_assert_uint_eq(after.failures, before.failures);
	ck_assert_int_eq(after.last_success, 1772442000);
	ck_assert(after.last_duration > 0);
	free(file);
	ck_assert_int_eq(backups_run(db, dir, 2, 1772445600, 1000, NULL, NULL, NULL, &err), OTD_OK);
	ck_assert_int_eq(backups_run(db, dir, 2, 1772449200, 1000, NULL, NULL, NULL, &err), OTD_OK);
	ck_assert_int_eq(count_files(dir), 2);
	ck_assert(!exists_in(dir, "onthedot-20260302T090000Z.db"));
	ck_assert(exists_in(dir, "onthedot-20260302T110000Z.db"));
	/* The same second twice: the first is kept, the second fails. */
	ck_assert_int_eq(backups_run(db, dir, 2, 1772449200, 1000, NULL, NULL, NULL, &err),
	                 OTD_ECONFLICT);
	backups_stats(&after);
	ck_assert_uint_eq(after.failures, before.failures + 1);
	/* A folder that cannot be made is a failure, counted, not a crash. */
	char *blocked = xasprintf("%s/a-file", testutil_tmpdir());
	touch(testutil_tmpdir(), "a-file");
	ck_assert_int_ne(backups_run(db, blocked, 2, 1772449200, 1000, NULL, NULL, NULL, &err),
	                 OTD_OK);
	backups_stats(&after);
	ck_assert_uint_eq(after.failures, before.failures + 2);
	free(blocked);
	free(dir);
	free(db);
}
END_TEST

START_TEST(the_thread_backs_up_at_start_when_none_is_recent)
{
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	char *db = testutil_migrated_db("thread");
	char *dir = fresh_dir("thread");
	/* Two old ones: the newest is older than the interval. */
	touch(dir, "onthedot-20200101T000000Z.db");
	touch(dir, "onthedot-20200102T000000Z.db");
	free(cfg.database);
	cfg.database = db;
	free(cfg.backup.dir);
	cfg.backup.dir = dir;
	cfg.backup.keep = 2;
	cfg.backup.interval_minutes = 60;
	struct otd_app app = {.cfg = &cfg};
	struct otd_backup_stats before, now;
	backups_stats(&before);
	struct otd_backups *b = backups_start(&app);
	ck_assert_ptr_nonnull(b);
	for(int i = 0; i < 600; i++) {
		backups_stats(&now);
		if(now.successes > before.successes)
			break;
		usleep(50000);
	}
	ck_assert(now.enabled);
	ck_assert_uint_eq(now.successes, before.successes + 1);
	backups_stop(b);
	backups_stats(&now);
	ck_assert(!now.enabled);
	ck_assert_int_eq(count_files(dir), 2);
	ck_assert(exists_in(dir, "onthedot-20200102T000000Z.db"));
	ck_assert(!exists_in(dir, "onthedot-20200101T000000Z.db"));
	/* A recent backup: none at start; stopping does not wait an hour. */
	backups_stats(&before);
	b = backups_start(&app);
	usleep(300000);
	backups_stop(b);
	backups_stats(&now);
	ck_assert_uint_eq(now.successes, before.successes);
	ck_assert_ptr_null(
	    backups_start(&(struct otd_app){.cfg = &(struct otd_config){.backup = {.dir = ""}}}));
	otd_config_cleanup(&cfg);
}
END_TEST

START_TEST(startup_check_refuses_a_damaged_database)
{
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	char *db = testutil_migrated_db("startup");
	free(cfg.database);
	cfg.database = db;
	struct otd_error err;
	ck_assert_int_eq(app_startup_check(&cfg, &err), OTD_OK);
	/* Garbage over page 3 (after a checkpoint, so the file holds it all). */
	testutil_sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	int page = (int)testutil_sql_int(db, "PRAGMA page_size");
	int fd = open(db, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	char *junk = xmalloc((size_t)page);
	memset(junk, 0x5a, (size_t)page);
	ck_assert_int_eq(pwrite(fd, junk, (size_t)page, 2 * (off_t)page), page);
	close(fd);
	free(junk);
	ck_assert_int_eq(app_startup_check(&cfg, &err), OTD_EIO);
	ck_assert_str_eq(err.code, "database_damaged");
	ck_assert_ptr_nonnull(strstr(err.message, "quick"));
	ck_assert_ptr_nonnull(strstr(err.message, "Page 3"));
	ck_assert_ptr_null(strchr(err.message, '\n'));
	free(cfg.store.startup_check);
	cfg.store.startup_check = xstrdup("full");
	ck_assert_int_eq(app_startup_check(&cfg, &err), OTD_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "\"full\""));
	free(cfg.store.startup_check);
	cfg.store.startup_check = xstrdup("off");
	ck_assert_int_eq(app_startup_check(&cfg, &err), OTD_OK);
	/* A missing database is for store_open to explain. */
	free(cfg.store.startup_check);
	cfg.store.startup_check = xstrdup("full");
	free(cfg.database);
	cfg.database = xasprintf("%s/none.db", testutil_tmpdir());
	ck_assert_int_eq(app_startup_check(&cfg, &err), OTD_OK);
	otd_config_cleanup(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backups");
	TCase *tc = tcase_create("backups");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, names_are_parsed_strictly);
	tcase_add_test(tc, rotation_keeps_the_newest_and_touches_nothing_else);
	tcase_add_test(tc, one_backup_is_written_checked_rotated_and_counted);
	tcase_add_test(tc, the_thread_backs_up_at_start_when_none_is_recent);
	tcase_add_test(tc, startup_check_refuses_a_damaged_database);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
