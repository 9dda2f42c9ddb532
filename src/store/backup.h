/* onthedot store: backups, their checks, restore, and the lock that says
 * which process owns a database.
 *
 * A backup is a consistent copy of a live database taken with SQLite's
 * online backup API from one read snapshot: it holds exactly what was
 * committed when it began. It is written to a temporary file beside the
 * target, synced, checked and only then renamed into place, so a target
 * is never half written. A copy is one self-contained file (rollback
 * journal mode, no -wal beside it), private to its owner (mode 0600).
 *
 * Restore checks a copy (a SQLite file, integrity_check, a schema version
 * this build knows, the onthedot tables) before it touches the database,
 * keeps the current database as FILE.before-restore-TIME.bak and puts the
 * copy in its place. It refuses while an onthedot serve runs on FILE. */
#ifndef OTD_STORE_BACKUP_H
#define OTD_STORE_BACKUP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "onthedot/status.h"

/* How thoroughly a database file is checked. */
enum store_check {
	STORE_CHECK_OFF,   /* not at all */
	STORE_CHECK_QUICK, /* PRAGMA quick_check: page structure, fast */
	STORE_CHECK_FULL,  /* PRAGMA integrity_check and foreign_key_check */
};

/* What a check found out about a database file. */
struct store_file_info {
	int schema_version; /* PRAGMA user_version */
	int64_t pages;      /* PRAGMA page_count */
	int page_size;      /* bytes */
	int64_t bytes;      /* the file's size */
	bool onthedot;      /* it has the onthedot tables */
};

struct store_backup_options {
	bool force;                /* replace an existing target (else OTD_ECONFLICT) */
	int step_pages;            /* pages copied per step; <= 0: 256 */
	int busy_timeout_ms;       /* waiting for another process's lock */
	enum store_check check;    /* of the copy before it is renamed into place */
	const atomic_bool *cancel; /* the copy stops early once true; NULL: never */
};

/* What a backup copied. */
struct store_backup_info {
	int64_t pages;      /* database pages copied */
	int page_size;      /* bytes */
	int64_t bytes;      /* the copy's size */
	int schema_version; /* the copy's PRAGMA user_version */
	double seconds;     /* from the start to the copy renamed into place */
};

/* Copies the database at db_path, which may be in use by a running server,
 * to to_path through the online backup API (see the file comment). The
 * server's writer is never blocked: the copy reads one WAL snapshot,
 * opt->step_pages pages at a time, sleeping when the file is busy. The
 * copy is checked as opt->check says (its schema version must be the
 * source's) before it replaces to_path. Fails with OTD_ENOTFOUND when
 * db_path does not exist, OTD_ECONFLICT when to_path exists and
 * !opt->force, OTD_EBUSY when cancelled or locked out beyond the busy
 * timeout, OTD_EIO otherwise; then to_path is untouched and no temporary
 * file is left. info (may be NULL) receives what was copied. */
enum otd_status store_backup(const char *db_path, const char *to_path,
                             const struct store_backup_options *opt, struct store_backup_info *info,
                             struct otd_error *err);

/* Checks the database file at path without changing it: it must exist and
 * be a SQLite database, as long as its header says (not cut short), and
 * pass the check level asks for. Fills info (may be NULL). OTD_ENOTFOUND:
 * no such file; OTD_EINVAL "not_a_database": not a SQLite file (a text
 * file, an empty file); OTD_EIO "database_corrupt" or "database_truncated"
 * with the first problems found. It does not judge the schema: see
 * store_check_backup. It reads the header with read(2) on a descriptor of
 * its own: never call it on a database this process holds open through
 * SQLite (closing that descriptor would drop SQLite's POSIX locks). */
enum otd_status store_check_file(const char *path, enum store_check level,
                                 struct store_file_info *info, struct otd_error *err);

/* store_check_file with STORE_CHECK_FULL, and the file must be an onthedot
 * database (OTD_EINVAL "not_onthedot" when its tables are missing) whose
 * schema version is at most store_schema_latest() (OTD_ESTATE
 * "schema_too_new"). An older schema passes: the caller says to migrate. */
enum otd_status store_check_backup(const char *path, struct store_file_info *info,
                                   struct otd_error *err);

/* What a restore did. The caller frees kept with free(). */
struct store_restore_info {
	struct store_file_info backup; /* what the check of the copy found */
	char *kept;          /* where the previous database is now; NULL: there was none */
	bool kept_by_rename; /* it could not be copied (damaged) so it was moved,
	                      * its -wal beside it as KEPT-wal */
	double seconds;
};

/* Puts the backup at from in place of the database at db_path: checks it
 * (store_check_backup; a refused one leaves no file behind), takes the
 * database's lock (store_lock_take: it refuses while an onthedot serve
 * runs), copies it to a temporary file
 * beside db_path and checks that, keeps the current database (when there
 * is one) as "DB.before-restore-YYYYMMDDTHHMMSSZ.bak" through the backup
 * API (or, when it is too damaged to copy, by renaming it), removes the
 * stale -wal and -shm and renames the copy into place. The restored file
 * takes the owner and mode of the one it replaces. Any failure before the
 * rename leaves db_path untouched (no temporary file is left). */
enum otd_status store_restore(const char *from, const char *db_path, int busy_timeout_ms,
                              struct store_restore_info *info, struct otd_error *err);

/* Frees what info holds (not info itself). */
void store_restore_info_cleanup(struct store_restore_info *info);

/* "PATH.TAG-YYYYMMDDTHHMMSSZ.bak" for the UTC time now: the name of a copy
 * kept before changing a database (migrate: TAG "vN"; restore:
 * "before-restore"). The caller frees it. */
char *store_backup_name(const char *path, const char *tag, int64_t now);

/* ---- the database's owner --------------------------------------------- */

struct store_lock;

/* Takes the exclusive lock that makes one process the owner of the
 * database at db_path for as long as it holds it (serve for its life,
 * restore while it works): flock(LOCK_EX | LOCK_NB) on "DB.lock", created
 * when missing, into which the owner's pid and holder ("serve",
 * "restore") are written. OTD_ECONFLICT "database_in_use" when another
 * process holds it, its message naming that process and its pid when
 * known; OTD_EIO when the lock file cannot be opened. The lock goes with
 * the process: a crash releases it. *out is released with
 * store_lock_release. */
enum otd_status store_lock_take(const char *db_path, const char *holder, struct store_lock **out,
                                struct otd_error *err);

/* Releases the lock and frees l (the lock file stays: removing it would
 * let two processes lock two different files). NULL is ignored. */
void store_lock_release(struct store_lock *l);

/* ---- for src/store only ---------------------------------------------- */

struct sqlite3;

/* The copy at the heart of store_backup, from an open connection (migrate
 * uses it with its own): see store_backup for what it does and how it
 * fails. src_name names the source in messages. */
enum otd_status store_backup_copy(struct sqlite3 *src, const char *src_name, const char *to_path,
                                  const struct store_backup_options *opt,
                                  struct store_backup_info *info, struct otd_error *err);

#endif
