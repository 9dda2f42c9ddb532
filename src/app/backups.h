/* onthedot scheduled backups: a thread of its own (never the writer) that
 * copies the database into backup.dir every backup.interval_minutes as
 * "onthedot-YYYYMMDDTHHMMSSZ.db" (UTC, real time even under a virtual
 * clock), each checked before it gets its name (store/backup.h), then
 * deletes the oldest files of that pattern beyond backup.keep. Each backup
 * and each failure is logged and counted for /metrics; a failure is
 * retried at the next interval and never stops the server. */
#ifndef OTD_APP_BACKUPS_H
#define OTD_APP_BACKUPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"
#include "store/backup.h"

struct otd_backups;

/* Starts the thread when app->cfg->backup.dir is set; NULL when it is ""
 * (or the thread could not start, which is logged). The first backup is
 * taken at once when the newest one in the folder is older than the
 * interval or there is none, else when it becomes that old; then one
 * every interval (monotonic time), from the start of the last. */
struct otd_backups *backups_start(struct otd_app *app);

/* Stops the thread, cutting short a backup in progress (its temporary
 * file is removed), and frees b. NULL is ignored. */
void backups_stop(struct otd_backups *b);

/* The scheduled backups' figures since the process started, for /metrics. */
struct otd_backup_stats {
	bool enabled;         /* a scheduler runs */
	int64_t last_success; /* Unix time of the newest good backup (at start: the
	                       * newest found in the folder); 0 when none */
	uint64_t successes;   /* backups written since start */
	uint64_t failures;    /* backups that failed since start */
	double last_duration; /* seconds the last good backup took; 0 when none */
};

/* A consistent-enough snapshot of the figures (process-wide). */
void backups_stats(struct otd_backup_stats *out);

/* One scheduled backup of db_path now, on the calling thread: writes
 * dir/onthedot-TIME.db for the Unix time now (dir is created, mode 0700,
 * when missing), then deletes the oldest beyond keep. Logged and counted
 * as the thread's are. *file (may be NULL) receives the new file's path
 * (the caller frees it) and info what was copied. cancel as in
 * store_backup_options. Fails as store_backup does. */
enum otd_status backups_run(const char *db_path, const char *dir, int keep, int64_t now,
                            int busy_timeout_ms, const atomic_bool *cancel, char **file,
                            struct store_backup_info *info, struct otd_error *err);

/* Whether name (a file name, no folder) is a scheduled backup's,
 * "onthedot-YYYYMMDDTHHMMSSZ.db" with a real date and time; *when (may be
 * NULL) receives it as Unix time. */
bool backups_name_time(const char *name, int64_t *when);

/* The path of the newest scheduled backup in dir (by the time in its
 * name), NULL when there is none or dir cannot be read; *when (may be
 * NULL) receives its time. The caller frees the result. */
char *backups_newest(const char *dir, int64_t *when);

/* Deletes the oldest scheduled backups in dir beyond the newest keep
 * (keep >= 1), and what a copy of ours cut short by a crash left
 * ("onthedot-TIME.db.tmp-PID" of another process). Other files are never
 * touched. Returns how many backups were deleted, -1 when dir cannot be
 * read. */
int backups_rotate(const char *dir, int keep);

/* The check serve runs before it opens the database, as
 * cfg->store.startup_check says ("quick": PRAGMA quick_check, "full":
 * integrity_check and foreign_key_check, "off": none); logged with its
 * time. A database that fails gets OTD_EIO with code "database_damaged"
 * and the problem in err (the caller prints the restore command: see
 * backups_newest). A missing or empty database passes (opening it says
 * how to make one). */
enum otd_status app_startup_check(const struct otd_config *cfg, struct otd_error *err);

#endif
