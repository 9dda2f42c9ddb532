/* Backups through SQLite's online backup API, the checks of a database
 * file, restore, and the database's lock (store/backup.h). */
#include "store/backup.h"
#include "store/pg.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/sql.h"

#define DEFAULT_STEP_PAGES 256
#define BUSY_SLEEP_MS 25
#define PROBLEMS_MAX 3 /* integrity problems quoted in a message */

/* The tables every onthedot schema has had since version 1: a database
 * without them is not one of ours, whatever its user_version says. */
static const char *const onthedot_tables[] = {"visitors", "appointments", "customers",
                                              "outbox",   "users",        "audit_log"};
#define N_ONTHEDOT_TABLES (sizeof(onthedot_tables) / sizeof(onthedot_tables[0]))

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Removes a database file and the files SQLite keeps beside it. */
static void remove_database_files(const char *path)
{
	static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
	for(size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		unlink(p);
		free(p);
	}
}

/* Flushes a file's contents to the disk. */
static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if(fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Flushes the directory holding path, so a rename in it survives a crash. */
static void fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if(fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* rename(2) that fails with EEXIST instead of replacing to. */
static int rename_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
	if(renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if(errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	/* A file system without RENAME_NOREPLACE: link(2) never replaces. */
	if(link(from, to) != 0)
		return -1;
	unlink(from);
	return 0;
}

char *store_backup_name(const char *path, const char *tag, int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	return xasprintf("%s.%s-%04d%02d%02dT%02d%02d%02dZ.bak", path, tag, tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- checking a database file ------------------------------------------ */

static bool is_busy(int rc)
{
	int base = rc & 0xff;
	return base == SQLITE_BUSY || base == SQLITE_LOCKED;
}

/* The problem SQLite reports for rc, as a status: a file that is not a
 * database, a damaged one, or anything else. */
static enum otd_status sqlite_failure(sqlite3 *db, int rc, const char *path, const char *what,
                                      struct otd_error *err)
{
	int base = rc & 0xff;
	if(base == SQLITE_NOTADB)
		return otd_error_set(err, OTD_EINVAL, "not_a_database", "database",
		                     "%s is not a SQLite database (%s).", path, sqlite3_errmsg(db));
	if(base == SQLITE_CORRUPT)
		return otd_error_set(err, OTD_EIO, "database_corrupt", "database",
		                     "%s is damaged: %s (while %s).", path, sqlite3_errmsg(db),
		                     what);
	return otd_error_set(err, OTD_EIO, "database_error", "database", "%s: %s failed: %s.", path,
	                     what, sqlite3_errmsg(db));
}

/* Reads one integer pragma (user_version, page_count, page_size). */
static enum otd_status pragma_int(sqlite3 *db, const char *path, const char *pragma, int64_t *out,
                                  struct otd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, pragma, -1, &st, NULL);
	if(rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if(rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	enum otd_status s = rc == SQLITE_OK ? OTD_OK : sqlite_failure(db, rc, path, pragma, err);
	sqlite3_finalize(st);
	return s;
}

/* Runs a checking pragma that answers "ok" when all is well (quick_check,
 * integrity_check) or nothing (foreign_key_check), quoting the first
 * problems it finds. */
static enum otd_status run_check(sqlite3 *db, const char *path, const char *pragma, bool fk,
                                 struct otd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, pragma, -1, &st, NULL);
	if(rc != SQLITE_OK) {
		enum otd_status s = sqlite_failure(db, rc, path, pragma, err);
		sqlite3_finalize(st);
		return s;
	}
	char problems[200] = "";
	size_t used = 0;
	int n = 0;
	while((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char one[160];
		if(fk)
			snprintf(one, sizeof(one), "a row of %s refers to a missing row of %s",
			         (const char *)sqlite3_column_text(st, 0),
			         (const char *)sqlite3_column_text(st, 2));
		else {
			const char *t = (const char *)sqlite3_column_text(st, 0);
			if(n == 0 && t && strcmp(t, "ok") == 0)
				continue;
			snprintf(one, sizeof(one), "%s", t ? t : "(no answer)");
			/* "*** in database main ***\nPage 3: ..." on one line */
			for(char *c = one; *c; c++)
				if(*c == '\n')
					*c = ' ';
		}
		if(n < PROBLEMS_MAX && used < sizeof(problems) - 1) {
			int w = snprintf(problems + used, sizeof(problems) - used, "%s%s",
			                 n ? "; " : "", one);
			used += w > 0 ? (size_t)w : 0;
			if(used >= sizeof(problems))
				used = sizeof(problems) - 1;
		}
		n++;
	}
	enum otd_status s = OTD_OK;
	if(rc != SQLITE_DONE && (rc & 0xff) == SQLITE_CORRUPT)
		s = otd_error_set(err, OTD_EIO, "database_corrupt", "database",
		                  "%s failed its %s: %s.", path,
		                  fk ? "foreign key check" : "integrity check", sqlite3_errmsg(db));
	else if(rc != SQLITE_DONE)
		s = sqlite_failure(db, rc, path, pragma, err);
	else if(n > 0)
		s = otd_error_set(err, OTD_EIO, "database_corrupt", "database",
		                  "%s failed its %s: %s%s", path,
		                  fk ? "foreign key check" : "integrity check", problems,
		                  n > PROBLEMS_MAX ? " (and more)." : ".");
	sqlite3_finalize(st);
	return s;
}

/* Checks the first bytes: SQLite's header, before SQLite reads anything
 * (a text file or an empty one is named as such, not as "corrupt"). */
static enum otd_status check_header(const char *path, int64_t size, int64_t *header_pages,
                                    int64_t *header_page_size, struct otd_error *err)
{
	static const char magic[16] = "SQLite format 3";
	if(size == 0)
		return otd_error_set(err, OTD_EINVAL, "not_a_database", "database",
		                     "%s is empty: it is not a database.", path);
	unsigned char head[100];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if(fd < 0)
		return otd_error_set(err, OTD_EIO, "database_error", "database",
		                     "Cannot read %s: %s.", path, strerror(errno));
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	if(n < (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0)
		return otd_error_set(err, OTD_EINVAL, "not_a_database", "database",
		                     "%s is not a SQLite database (it does not start with SQLite's "
		                     "header).",
		                     path);
	/* The size the header records (file format, section 1.3.9): valid
	 * when the change counter matches the version-valid-for number. */
	uint32_t pages = (uint32_t)head[28] << 24 | (uint32_t)head[29] << 16 |
	                 (uint32_t)head[30] << 8 | head[31];
	unsigned ps = (unsigned)head[16] << 8 | head[17];
	*header_page_size = ps == 1 ? 65536 : ps;
	*header_pages = memcmp(head + 24, head + 92, 4) == 0 ? pages : 0;
	return OTD_OK;
}

static enum otd_status check_tables(sqlite3 *db, const char *path, bool *onthedot,
                                    struct otd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	                            "name IN ('visitors', 'appointments', 'customers', 'outbox', "
	                            "'users', 'audit_log')",
	                            -1, &st, NULL);
	if(rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*onthedot = sqlite3_column_int(st, 0) == (int)N_ONTHEDOT_TABLES;
		rc = SQLITE_OK;
	}
	enum otd_status s =
	    rc == SQLITE_OK ? OTD_OK : sqlite_failure(db, rc, path, "listing tables", err);
	sqlite3_finalize(st);
	return s;
}

enum otd_status store_check_file(const char *path, enum store_check level,
                                 struct store_file_info *info, struct otd_error *err)
{
	struct store_file_info local;
	if(!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	struct stat sb;
	if(stat(path, &sb) != 0)
		return otd_error_set(err, errno == ENOENT ? OTD_ENOTFOUND : OTD_EIO,
		                     errno == ENOENT ? "database_missing" : "database_error",
		                     "database", "Cannot read %s: %s.", path, strerror(errno));
	if(!S_ISREG(sb.st_mode))
		return otd_error_set(err, OTD_EINVAL, "not_a_database", "database",
		                     "%s is not a regular file.", path);
	info->bytes = (int64_t)sb.st_size;
	int64_t header_pages = 0, header_page_size = 0;
	enum otd_status s = check_header(path, info->bytes, &header_pages, &header_page_size, err);
	if(s)
		return s;
	/* Without a log, the file holds every page: shorter means cut short.
	 * (With one, pages may still live only in the log.) */
	char *wal = xasprintf("%s-wal", path);
	struct stat wb;
	bool has_log = stat(wal, &wb) == 0 && wb.st_size > 0;
	free(wal);
	if(!has_log && info->bytes < header_pages * header_page_size)
		return otd_error_set(
		    err, OTD_EIO, "database_truncated", "database",
		    "%s is cut short: %lld bytes where its header counts %lld pages of "
		    "%lld bytes.",
		    path, (long long)info->bytes, (long long)header_pages,
		    (long long)header_page_size);
	/* Read-only: checking never changes the file (a backup stays as it
	 * was; a live database's log is read, not checkpointed). */
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if(rc != SQLITE_OK) {
		s = otd_error_set(err, OTD_EIO, "database_error", "database", "Cannot open %s: %s.",
		                  path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return s;
	}
	sqlite3_busy_timeout(db, 5000);
	int64_t version = 0, pages = 0, page_size = 0;
	if((s = pragma_int(db, path, "PRAGMA user_version", &version, err)) ||
	   (s = pragma_int(db, path, "PRAGMA page_count", &pages, err)) ||
	   (s = pragma_int(db, path, "PRAGMA page_size", &page_size, err)))
		goto out;
	info->schema_version = (int)version;
	info->pages = pages;
	info->page_size = (int)page_size;
	if(level == STORE_CHECK_QUICK)
		s = run_check(db, path, "PRAGMA quick_check(10)", false, err);
	else if(level == STORE_CHECK_FULL) {
		s = run_check(db, path, "PRAGMA integrity_check(10)", false, err);
		if(s == OTD_OK)
			s = run_check(db, path, "PRAGMA foreign_key_check", true, err);
	}
	if(s == OTD_OK)
		s = check_tables(db, path, &info->onthedot, err);
out:
	sqlite3_close(db);
	return s;
}

enum otd_status store_check_backup(const char *path, struct store_file_info *info,
                                   struct otd_error *err)
{
	struct store_file_info local;
	if(!info)
		info = &local;
	enum otd_status s = store_check_file(path, STORE_CHECK_FULL, info, err);
	if(s)
		return s;
	if(!info->onthedot || info->schema_version < 1)
		return otd_error_set(
		    err, OTD_EINVAL, "not_onthedot", "database",
		    "%s is a SQLite database but not an onthedot one (it lacks the "
		    "onthedot tables).",
		    path);
	int latest = store_schema_latest();
	if(info->schema_version > latest)
		return otd_error_set(
		    err, OTD_ESTATE, "schema_too_new", "database",
		    "%s has schema version %d, newer than this onthedot knows (%d): it "
		    "was made by a newer onthedot; restore it with that one.",
		    path, info->schema_version, latest);
	return OTD_OK;
}

/* ---- the copy ---------------------------------------------------------- */

/* Reads the schema version, which starts the read snapshot inside an open
 * transaction; retried while the file is busy, for timeout_ms at most. */
static int read_user_version(sqlite3 *db, int timeout_ms, int *version)
{
	int waited = 0;
	for(;;) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
		if(rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if(rc == SQLITE_ROW) {
				*version = sqlite3_column_int(st, 0);
				rc = SQLITE_OK;
			}
		}
		sqlite3_finalize(st);
		if(!is_busy(rc) || waited >= timeout_ms)
			return rc;
		sqlite3_sleep(BUSY_SLEEP_MS);
		waited += BUSY_SLEEP_MS;
	}
}

enum otd_status store_backup_copy(struct sqlite3 *src, const char *src_name, const char *to_path,
                                  const struct store_backup_options *opt,
                                  struct store_backup_info *info, struct otd_error *err)
{
	double t0 = mono_seconds();
	struct store_backup_info local;
	if(!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	int step = opt->step_pages > 0 ? opt->step_pages : DEFAULT_STEP_PAGES;
	struct stat sb;
	if(stat(to_path, &sb) == 0) {
		if(S_ISDIR(sb.st_mode))
			return otd_error_set(err, OTD_EINVAL, "backup_target_directory", "to",
			                     "%s is a folder; give the name of the file to write.",
			                     to_path);
		if(!opt->force)
			return otd_error_set(err, OTD_ECONFLICT, "backup_exists", "to",
			                     "%s already exists and was left as it is.", to_path);
	}
	enum otd_status s = OTD_OK;
	sqlite3 *to = NULL;
	sqlite3_backup *b = NULL;
	bool began = false;
	char *tmp = xasprintf("%s.tmp-%ld", to_path, (long)getpid());
	remove_database_files(tmp); /* left by a copy of ours that crashed */
	/* Created here, private: a copy holds personal data (SQLite would make
	 * it 0644). Its journal takes the same mode. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if(fd < 0) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to", "Cannot create %s: %s.", tmp,
		                  strerror(errno));
		free(tmp);
		return s;
	}
	close(fd);
	int rc = sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE, NULL);
	if(rc != SQLITE_OK) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to", "Cannot open %s: %s.", tmp,
		                  to ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
		goto fail;
	}
	/* One read transaction on the source for the whole copy: every step
	 * reads the same snapshot, so the copy holds exactly what was
	 * committed when it began, and the server's commits in between do not
	 * restart it (the backup API restarts a copy whose source changed
	 * between steps, and under steady writes it would never finish). In
	 * WAL mode, every onthedot database's, a reader never blocks the
	 * writer; it only keeps checkpoints from recycling the log past its
	 * snapshot until it ends. */
	if(sqlite3_get_autocommit(src)) {
		if((rc = sqlite3_exec(src, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
			s = sqlite_failure(src, rc, src_name, "starting a read", err);
			goto fail;
		}
		began = true;
	}
	int version = 0;
	rc = read_user_version(src, opt->busy_timeout_ms, &version);
	if(rc != SQLITE_OK) {
		s = is_busy(rc)
		        ? otd_error_set(err, OTD_EBUSY, "database_busy", "database",
		                        "%s stayed locked by another process for %d ms.", src_name,
		                        opt->busy_timeout_ms)
		        : sqlite_failure(src, rc, src_name, "reading the schema version", err);
		goto fail;
	}
	int64_t page_size = 0;
	if((s = pragma_int(src, src_name, "PRAGMA page_size", &page_size, err)))
		goto fail;
	b = sqlite3_backup_init(to, "main", src, "main");
	if(!b) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to",
		                  "Cannot start copying to %s: %s.", tmp, sqlite3_errmsg(to));
		goto fail;
	}
	int waited = 0;
	for(;;) {
		if(opt->cancel && atomic_load(opt->cancel)) {
			s = otd_error_set(err, OTD_EBUSY, "backup_cancelled", NULL,
			                  "The copy of %s was stopped before it finished.",
			                  src_name);
			goto fail;
		}
		rc = sqlite3_backup_step(b, step);
		if(rc == SQLITE_DONE)
			break;
		if(rc == SQLITE_OK) {
			waited = 0;
			continue;
		}
		if(is_busy(rc) && waited < opt->busy_timeout_ms) {
			sqlite3_sleep(BUSY_SLEEP_MS);
			waited += BUSY_SLEEP_MS;
			continue;
		}
		if(is_busy(rc))
			s = otd_error_set(err, OTD_EBUSY, "database_busy", "database",
			                  "%s stayed locked by another process for %d ms.",
			                  src_name, opt->busy_timeout_ms);
		else
			s = sqlite_failure(src, rc, src_name, "copying", err);
		goto fail;
	}
	info->pages = sqlite3_backup_pagecount(b);
	rc = sqlite3_backup_finish(b);
	b = NULL;
	if(rc != SQLITE_OK) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to", "Copying to %s failed: %s.",
		                  tmp, sqlite3_errmsg(to));
		goto fail;
	}
	if(began) {
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
		began = false;
	}
	/* The copy says WAL in its header, as its source did: make it one
	 * self-contained file that opens without a -wal or -shm beside it. */
	if((rc = sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL)) != SQLITE_OK) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to", "Finishing %s failed: %s.",
		                  tmp, sqlite3_errmsg(to));
		goto fail;
	}
	rc = sqlite3_close(to);
	to = NULL;
	if(rc != SQLITE_OK || fsync_path(tmp) != 0) {
		s = otd_error_set(err, OTD_EIO, "backup_failed", "to",
		                  "Writing %s to the disk failed: %s.", tmp,
		                  rc != SQLITE_OK ? sqlite3_errstr(rc) : strerror(errno));
		goto fail;
	}
	/* Checked as written, through a new connection that reads the file. */
	struct store_file_info fi;
	if(opt->check != STORE_CHECK_OFF) {
		struct otd_error cerr;
		otd_error_clear(&cerr);
		if(store_check_file(tmp, opt->check, &fi, &cerr) != OTD_OK) {
			s = otd_error_set(err, OTD_EIO, "backup_check_failed", "to",
			                  "The copy failed its check, so it was removed: %s",
			                  cerr.message);
			goto fail;
		}
		if(fi.schema_version != version) {
			s = otd_error_set(
			    err, OTD_EIO, "backup_check_failed", "to",
			    "The copy has schema version %d where %s has %d; it was removed.",
			    fi.schema_version, src_name, version);
			goto fail;
		}
	}
	if((opt->force ? rename(tmp, to_path) : rename_noreplace(tmp, to_path)) != 0) {
		s = errno == EEXIST
		        ? otd_error_set(err, OTD_ECONFLICT, "backup_exists", "to",
		                        "%s appeared while copying and was left as it is.", to_path)
		        : otd_error_set(err, OTD_EIO, "backup_failed", "to",
		                        "Cannot rename %s to %s: %s.", tmp, to_path,
		                        strerror(errno));
		goto fail;
	}
	fsync_parent(to_path);
	free(tmp);
	if(stat(to_path, &sb) == 0)
		info->bytes = (int64_t)sb.st_size;
	info->page_size = (int)page_size;
	info->schema_version = version;
	info->seconds = mono_seconds() - t0;
	return OTD_OK;
fail:
	if(b)
		sqlite3_backup_finish(b);
	if(began)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(to);
	remove_database_files(tmp);
	free(tmp);
	return s;
}

/* Opens a database that must exist, read-only unless writable. */
static enum otd_status open_existing(const char *path, bool writable, int busy_timeout_ms,
                                     sqlite3 **out, struct otd_error *err)
{
	struct stat sb;
	if(stat(path, &sb) != 0)
		return otd_error_set(err, errno == ENOENT ? OTD_ENOTFOUND : OTD_EIO,
		                     errno == ENOENT ? "database_missing" : "database_error",
		                     "database", "Cannot read %s: %s.", path, strerror(errno));
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
	                         NULL);
	if(rc != SQLITE_OK) {
		enum otd_status s =
		    otd_error_set(err, OTD_EIO, "database_error", "database", "Cannot open %s: %s.",
		                  path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return s;
	}
	sqlite3_busy_timeout(db, busy_timeout_ms);
	*out = db;
	return OTD_OK;
}

enum otd_status store_backup(const char *db_path, const char *to_path,
                             const struct store_backup_options *opt, struct store_backup_info *info,
                             struct otd_error *err)
{
	if(store_path_is_pg(db_path)) {
		memset(info, 0, sizeof(*info));
		return otd_error_set(err, OTD_EINVAL, "backup_postgresql", "database",
		                     "onthedot backup copies SQLite databases; back up PostgreSQL "
		                     "with its own tools: pg_dump --format=custom --file %s "
		                     "\"$DATABASE_URL\" (README, \"Several nodes on PostgreSQL\").",
		                     to_path);
	}
	sqlite3 *src = NULL;
	/* Read-only: the copy never writes to the live database. */
	enum otd_status s = open_existing(db_path, false, opt->busy_timeout_ms, &src, err);
	if(s)
		return s;
	s = store_backup_copy(src, db_path, to_path, opt, info, err);
	sqlite3_close(src);
	return s;
}

/* ---- restore ----------------------------------------------------------- */

void store_restore_info_cleanup(struct store_restore_info *info)
{
	free(info->kept);
	info->kept = NULL;
}

/* Keeps the current database at kept: a copy through the backup API (one
 * file, its log included), or, when it is too damaged to be read as a
 * database, the file itself and its log moved aside. */
static enum otd_status keep_current(const char *db_path, const char *kept, int busy_timeout_ms,
                                    bool *by_rename, struct otd_error *err)
{
	*by_rename = false;
	sqlite3 *cur = NULL;
	struct otd_error cerr;
	otd_error_clear(&cerr);
	struct store_backup_options o = {.busy_timeout_ms = busy_timeout_ms,
	                                 .check = STORE_CHECK_OFF};
	enum otd_status s = open_existing(db_path, true, busy_timeout_ms, &cur, &cerr);
	if(s == OTD_OK)
		s = store_backup_copy(cur, db_path, kept, &o, NULL, &cerr);
	sqlite3_close(cur);
	if(s == OTD_OK)
		return OTD_OK;
	if(s == OTD_EBUSY)
		return otd_error_set(err, OTD_EBUSY, "database_busy", "database",
		                     "%s is in use by another process (%s); nothing was changed.",
		                     db_path, cerr.message);
	if(rename_noreplace(db_path, kept) != 0)
		return otd_error_set(
		    err, OTD_EIO, "restore_failed", "database",
		    "Cannot copy or move the current %s aside (%s; %s); nothing was "
		    "changed.",
		    db_path, cerr.message, strerror(errno));
	*by_rename = true;
	char *wal = xasprintf("%s-wal", db_path), *kept_wal = xasprintf("%s-wal", kept);
	s = OTD_OK;
	if(access(wal, F_OK) == 0 && rename(wal, kept_wal) != 0) {
		/* Its log holds committed changes: the two go together or not
		 * at all, so the database goes back where it was. */
		int e = errno;
		if(rename(kept, db_path) == 0)
			*by_rename = false;
		s = otd_error_set(
		    err, OTD_EIO, "restore_failed", "database",
		    "Cannot move %s aside with its log (%s); %s.", db_path, strerror(e),
		    *by_rename ? "the database is kept beside it" : "nothing was changed");
	}
	free(wal);
	free(kept_wal);
	return s;
}

enum otd_status store_restore(const char *from, const char *db_path, int busy_timeout_ms,
                              struct store_restore_info *info, struct otd_error *err)
{
	double t0 = mono_seconds();
	memset(info, 0, sizeof(*info));
	if(store_path_is_pg(db_path))
		return otd_error_set(
		    err, OTD_EINVAL, "restore_postgresql", "database",
		    "onthedot restore writes SQLite databases; restore PostgreSQL "
		    "with pg_restore --clean --dbname \"$DATABASE_URL\" %s (README, "
		    "\"Several nodes on PostgreSQL\").",
		    from);
	struct stat fs, ds;
	bool have_db = stat(db_path, &ds) == 0;
	if(have_db && stat(from, &fs) == 0 && fs.st_dev == ds.st_dev && fs.st_ino == ds.st_ino)
		return otd_error_set(err, OTD_EINVAL, "same_file", "from",
		                     "%s is the database itself; give a backup.", from);
	/* The copy is judged first: a refused one leaves no trace at all. */
	enum otd_status s = store_check_backup(from, &info->backup, err);
	if(s)
		return s;
	struct store_lock *lock = NULL;
	s = store_lock_take(db_path, "restore", &lock, err);
	if(s)
		return s;
	char *tmp = NULL;
	sqlite3 *src = NULL;
	/* The copy goes beside the database, so the rename is atomic. */
	tmp = xasprintf("%s.restore-tmp-%ld", db_path, (long)getpid());
	struct store_backup_options o = {
	    .force = true, .busy_timeout_ms = busy_timeout_ms, .check = STORE_CHECK_QUICK};
	struct store_backup_info bi;
	if((s = open_existing(from, false, busy_timeout_ms, &src, err)) ||
	   (s = store_backup_copy(src, from, tmp, &o, &bi, err)))
		goto out;
	sqlite3_close(src);
	src = NULL;
	have_db = stat(db_path, &ds) == 0;
	if(have_db) {
		/* The server may run as another user than the one restoring: the
		 * restored file is theirs, as the one it replaces was. */
		if(chmod(tmp, ds.st_mode & 07777) != 0 ||
		   ((ds.st_uid != geteuid() || ds.st_gid != getegid()) &&
		    chown(tmp, ds.st_uid, ds.st_gid) != 0)) {
			s = otd_error_set(
			    err, OTD_EIO, "restore_failed", "database",
			    "Cannot give the restored copy the owner and mode of %s (%s): run "
			    "restore as its owner or as root; nothing was changed.",
			    db_path, strerror(errno));
			goto out;
		}
		info->kept = store_backup_name(db_path, "before-restore", (int64_t)time(NULL));
		s = keep_current(db_path, info->kept, busy_timeout_ms, &info->kept_by_rename, err);
		if(s) {
			free(info->kept);
			info->kept = NULL;
			goto out;
		}
	}
	/* The old log and index belong to the old database: left beside the
	 * new one, SQLite would replay the old log over it. What they held is
	 * in the kept copy. */
	static const char *const stale[] = {"-wal", "-shm", "-journal"};
	for(size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		char *p = xasprintf("%s%s", db_path, stale[i]);
		unlink(p);
		free(p);
	}
	if(rename(tmp, db_path) != 0) {
		int e = errno;
		/* A database moved aside goes back, so serve finds one. */
		bool back = info->kept_by_rename && info->kept && rename(info->kept, db_path) == 0;
		s = otd_error_set(err, OTD_EIO, "restore_failed", "database",
		                  "Cannot rename %s to %s: %s; %s.", tmp, db_path, strerror(e),
		                  back         ? "the previous database is back in place"
		                  : info->kept ? "the previous database is kept beside it"
		                               : "nothing was kept");
		goto out;
	}
	fsync_parent(db_path);
	info->seconds = mono_seconds() - t0;
out:
	sqlite3_close(src);
	if(tmp) {
		if(s)
			remove_database_files(tmp);
		free(tmp);
	}
	store_lock_release(lock);
	return s;
}

/* ---- the database's lock ----------------------------------------------- */

/* Why a lock file of its own, DB.lock, rather than a lock on the database
 * file: SQLite locks the database with POSIX fcntl locks, and POSIX drops
 * every fcntl lock a process holds on a file when any descriptor of that
 * file is closed, so a descriptor of ours on the database would be a trap
 * for SQLite's own locks. A separate file has no such interplay on any
 * file system (over NFS, Linux emulates flock with fcntl locks, which on
 * the database file itself would collide with SQLite's byte-range locks),
 * it can carry the owner's pid for the message, and it is the same file
 * before and after a restore renames a new database into place. */
struct store_lock {
	int fd;
};

/* Reads "PID HOLDER" from a lock file; pid 0 when it cannot be read. */
static void lock_owner(int fd, long *pid, char *holder, size_t size)
{
	char buf[64] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	*pid = 0;
	holder[0] = '\0';
	char *end;
	long p = strtol(buf, &end, 10);
	if(end == buf || p <= 0)
		return;
	*pid = p;
	while(*end == ' ')
		end++;
	size_t len = strcspn(end, " \n");
	snprintf(holder, size, "%.*s", (int)(len < size ? len : size - 1), end);
}

enum otd_status store_lock_take(const char *db_path, const char *holder, struct store_lock **out,
                                struct otd_error *err)
{
	*out = NULL;
	char *path = xasprintf("%s.lock", db_path);
	bool writable = true;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if(fd < 0 && (errno == EACCES || errno == EROFS)) {
		/* Made by another user (root restoring for the service's user):
		 * flock works on a descriptor opened for reading too. */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		writable = false;
	}
	if(fd < 0) {
		enum otd_status s =
		    otd_error_set(err, OTD_EIO, "lock_failed", "database",
		                  "Cannot open the lock file %s: %s.", path, strerror(errno));
		free(path);
		return s;
	}
	free(path);
	if(flock(fd, LOCK_EX | LOCK_NB) != 0) {
		enum otd_status s;
		if(errno == EWOULDBLOCK) {
			long pid;
			char who[16];
			lock_owner(fd, &pid, who, sizeof(who));
			if(pid && strcmp(who, "restore") == 0)
				s = otd_error_set(err, OTD_ECONFLICT, "database_in_use", "database",
				                  "an onthedot restore is running on %s (pid %ld)",
				                  db_path, pid);
			else if(pid)
				s = otd_error_set(
				    err, OTD_ECONFLICT, "database_in_use", "database",
				    "another onthedot serve is running on %s (pid %ld)", db_path,
				    pid);
			else
				s = otd_error_set(
				    err, OTD_ECONFLICT, "database_in_use", "database",
				    "another onthedot serve or restore is running on %s", db_path);
		} else {
			s = otd_error_set(err, OTD_EIO, "lock_failed", "database",
			                  "Cannot lock %s.lock: %s.", db_path, strerror(errno));
		}
		close(fd);
		return s;
	}
	if(writable) {
		char line[64];
		int n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), holder);
		if(ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
			/* The lock holds all the same; only the message loses the pid. */
		}
	}
	struct store_lock *l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	*out = l;
	return OTD_OK;
}

void store_lock_release(struct store_lock *l)
{
	if(!l)
		return;
	/* Emptied first: a pid left behind would be named by mistake. */
	if(ftruncate(l->fd, 0) != 0) {
		/* opened read-only: nothing was written either */
	}
	flock(l->fd, LOCK_UN);
	close(l->fd);
	free(l);
}
