/* Numbered migrations (schema/NNN_name.sql, embedded at build time),
 * applied through PRAGMA user_version, each in its own transaction, after
 * a backup copy of the existing database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "onthedot/asset.h"
#include "onthedot/mem.h"
#include "store/backup.h"
#include "store/pg.h"
#include "store/sql.h"

int store_schema_latest(void)
{
	return (int)otd_schema_count;
}

/* The number a migration's file name starts with, or -1. */
static int migration_number(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);
	if(end == name || *end != '_' || n <= 0 || n > 9999)
		return -1;
	return (int)n;
}

static enum otd_status sql_error(sqlite3 *db, const char *what, const char *path,
                                 struct otd_error *err)
{
	return otd_error_set(err, OTD_EIO, "migration_failed", "database", "%s on %s failed: %s.",
	                     what, path, sqlite3_errmsg(db));
}

/* The copy taken before migrating: store_backup_copy (backup.c), which
 * online backups share, to PATH.vN-TIME.bak. */
static enum otd_status backup_copy(sqlite3 *db, const char *path, int version, char **out,
                                   struct otd_error *err)
{
	char tag[32];
	snprintf(tag, sizeof(tag), "v%d", version);
	char *dest = store_backup_name(path, tag, (int64_t)time(NULL));
	struct store_backup_options opt = {.busy_timeout_ms = 5000, .check = STORE_CHECK_QUICK};
	struct otd_error cerr;
	otd_error_clear(&cerr);
	if(store_backup_copy(db, path, dest, &opt, NULL, &cerr) != OTD_OK) {
		enum otd_status st = otd_error_set(
		    err, OTD_EIO, "backup_failed", "database",
		    "Could not copy %s to %s before migrating: %s Nothing was changed.", path, dest,
		    cerr.message);
		free(dest);
		return st;
	}
	if(out)
		*out = dest;
	else
		free(dest);
	return OTD_OK;
}

enum otd_status store_migrate(const char *path, bool create, int busy_timeout_ms, int *from,
                              int *to, char **backup, struct otd_error *err)
{
	if(backup)
		*backup = NULL;
	if(store_path_is_pg(path))
		return pg_migrate(path, from, to, err);
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if(!exists && !create)
		return otd_error_set(err, OTD_ENOTFOUND, "database_missing", "database",
		                     "The database %s does not exist.", path);
	/* Migrations are numbered 1..N without gaps, in file-name order. */
	for(size_t i = 0; i < otd_schema_count; i++)
		if(migration_number(otd_schema[i].name) != (int)i + 1)
			return otd_error_set(err, OTD_EINTERNAL, "bad_migration", NULL,
			                     "Migration %s is out of sequence (expected number %zu); this "
			                     "build is broken.",
			                     otd_schema[i].name, i + 1);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0),
	                         NULL);
	if(rc != SQLITE_OK) {
		otd_error_set(err, OTD_EIO, "database_open_failed", "database",
		              "Cannot open the database %s: %s.", path,
		              db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return OTD_EIO;
	}
	sqlite3_busy_timeout(db, busy_timeout_ms);
	enum otd_status st = OTD_OK;
	int version = 0;
	sqlite3_stmt *q = NULL;
	if(sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA journal_mode=WAL",
	                NULL, NULL, NULL) != SQLITE_OK ||
	   sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK) {
		/* A file that is not a database lands here. */
		st = sql_error(db, "Reading the schema version", path, err);
		goto out;
	}
	if(sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	int latest = store_schema_latest();
	*from = version;
	*to = version;
	if(version > latest) {
		st = otd_error_set(err, OTD_ESTATE, "schema_too_new", "database",
		                   "The database %s has schema version %d, newer than this onthedot "
		                   "knows (%d); run a newer onthedot. Nothing was changed.",
		                   path, version, latest);
		goto out;
	}
	if(version == latest)
		goto out;
	/* Back up anything already there, schema or not, before touching it. */
	int objects = 0;
	if(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) == SQLITE_OK) {
		if(sqlite3_step(q) == SQLITE_ROW)
			objects = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	if(exists && (version > 0 || objects > 0)) {
		st = backup_copy(db, path, version, backup, err);
		if(st)
			goto out;
	}
	for(int v = version + 1; v <= latest; v++) {
		const struct otd_asset *m = &otd_schema[v - 1];
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v);
		if(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			st = sql_error(db, "Locking for migration", path, err);
			goto out;
		}
		char *msg = NULL;
		if(sqlite3_exec(db, (const char *)m->data, NULL, NULL, &msg) != SQLITE_OK ||
		   sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
		   sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			st = otd_error_set(err, OTD_EIO, "migration_failed", "database",
			                   "Migration %s failed: %s; the database stays at version %d.",
			                   m->name, msg ? msg : sqlite3_errmsg(db), v - 1);
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		*to = v;
	}
out:
	sqlite3_close(db);
	return st;
}
