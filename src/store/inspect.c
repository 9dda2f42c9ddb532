/* A read-only look at a database file (store/inspect.h). */
#include "store/inspect.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "onthedot/mem.h"
#include "store/store.h"

static void filesystem_of(const char *path, struct store_inspect *out)
{
	char *copy = xstrdup(path);
	struct statvfs vf;
	if(statvfs(dirname(copy), &vf) == 0) {
		out->fs_free_bytes = (uint64_t)vf.f_bavail * vf.f_frsize;
		out->fs_total_bytes = (uint64_t)vf.f_blocks * vf.f_frsize;
	}
	free(copy);
}

enum otd_status store_inspect(const char *path, struct store_inspect *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->schema_latest = store_schema_latest();
	struct stat sb;
	if(stat(path, &sb) != 0) {
		if(errno == ENOENT)
			return otd_error_set(
			    err, OTD_ENOTFOUND, "database_missing", "database",
			    "%s does not exist; create it with: onthedot migrate --db %s", path,
			    path);
		return otd_error_set(err, OTD_EIO, "database_unreadable", "database",
		                     "cannot stat %s: %s", path, strerror(errno));
	}
	if(!S_ISREG(sb.st_mode))
		return otd_error_set(err, OTD_EIO, "database_unreadable", "database",
		                     "%s is not a regular file", path);
	out->db_bytes = (int64_t)sb.st_size;
	out->mode = (unsigned)(sb.st_mode & 07777);
	char *wal = xasprintf("%s-wal", path);
	if(stat(wal, &sb) == 0)
		out->wal_bytes = (int64_t)sb.st_size;
	free(wal);
	filesystem_of(path, out);

	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	enum otd_status st = OTD_OK;
	sqlite3_stmt *q = NULL;
	if(rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	}
	if(rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		out->schema_version = sqlite3_column_int(q, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	q = NULL;
	if(rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL);
	if(rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(q, 0);
		out->quick_check_ok = r && strcmp(r, "ok") == 0;
		snprintf(out->quick_check, sizeof(out->quick_check), "%s", r ? r : "no answer");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	if(rc != SQLITE_OK)
		st = otd_error_set(err, OTD_EIO, "database_unreadable", "database",
		                   "cannot read %s as a database: %s", path,
		                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_close(db);
	return st;
}
