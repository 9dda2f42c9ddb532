/* The scheduled backups' thread, rotation and figures (app/backups.h). */
#include "app/backups.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "app/log.h"
#include "onthedot/mem.h"
#include "store/store.h"

#define NAME_PREFIX "onthedot-"
#define NAME_LEN 28 /* onthedot-YYYYMMDDTHHMMSSZ.db */
#define TMP_MARK ".tmp-"
#define STALE_TMP_SECONDS 86400 /* a copy this old in the making was cut short */

/* Process-wide: one serve runs one scheduler, and /metrics reads these
 * without a handle on it. */
static atomic_bool stat_enabled;
static _Atomic int64_t stat_last_success;
static _Atomic uint64_t stat_successes, stat_failures;
static _Atomic uint64_t stat_last_duration_us;

void backups_stats(struct otd_backup_stats *out)
{
	out->enabled = atomic_load(&stat_enabled);
	out->last_success = atomic_load(&stat_last_success);
	out->successes = atomic_load(&stat_successes);
	out->failures = atomic_load(&stat_failures);
	out->last_duration = (double)atomic_load(&stat_last_duration_us) / 1e6;
}

/* ---- names ------------------------------------------------------------- */

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for(int i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool backups_name_time(const char *name, int64_t *when)
{
	if(strlen(name) != NAME_LEN || strncmp(name, NAME_PREFIX, 9) != 0 || name[17] != 'T' ||
	   strcmp(name + 24, "Z.db") != 0)
		return false;
	const char *d = name + 9, *t = name + 18;
	int y = digits(d, 4), mo = digits(d + 4, 2), da = digits(d + 6, 2);
	int h = digits(t, 2), mi = digits(t + 2, 2), se = digits(t + 4, 2);
	if(y < 1970 || mo < 1 || mo > 12 || da < 1 || da > 31 || h < 0 || h > 23 || mi < 0 ||
	   mi > 59 || se < 0 || se > 59)
		return false;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = da,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = se};
	time_t v = timegm(&tm);
	/* timegm normalises 31 February into March: not a name we write. */
	struct tm back;
	gmtime_r(&v, &back);
	if(back.tm_mday != da || back.tm_mon != mo - 1)
		return false;
	if(when)
		*when = (int64_t)v;
	return true;
}

static char *backup_file_name(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	return xasprintf(NAME_PREFIX "%04d%02d%02dT%02d%02d%02dZ.db", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A temporary copy left by a crash: "<backup name>.tmp-<digits>". */
static bool is_stale_tmp(const char *dir, const char *name)
{
	if(strlen(name) <= NAME_LEN + strlen(TMP_MARK))
		return false;
	char base[NAME_LEN + 1];
	memcpy(base, name, NAME_LEN);
	base[NAME_LEN] = '\0';
	if(!backups_name_time(base, NULL) || strncmp(name + NAME_LEN, TMP_MARK, 5) != 0)
		return false;
	const char *pid = name + NAME_LEN + strlen(TMP_MARK);
	size_t n = strspn(pid, "0123456789");
	/* The copy's own journal goes with it. */
	if(n == 0 || (pid[n] != '\0' && strcmp(pid + n, "-journal") != 0))
		return false;
	char *path = xasprintf("%s/%s", dir, name);
	struct stat sb;
	bool stale = stat(path, &sb) == 0 && time(NULL) - sb.st_mtime > STALE_TMP_SECONDS;
	free(path);
	return stale;
}

struct found {
	char **names;
	size_t n, cap;
};

static int newest_first(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The scheduled backups in dir, newest first (their names sort by time);
 * stale temporary copies are removed on the way when clean is true. */
static int list_backups(const char *dir, bool clean, struct found *out)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if(!d)
		return -1;
	struct dirent *e;
	while((e = readdir(d))) {
		if(backups_name_time(e->d_name, NULL)) {
			if(out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->names = xrealloc(out->names, out->cap * sizeof(*out->names));
			}
			out->names[out->n++] = xstrdup(e->d_name);
		} else if(clean && is_stale_tmp(dir, e->d_name)) {
			char *path = xasprintf("%s/%s", dir, e->d_name);
			unlink(path);
			free(path);
		}
	}
	closedir(d);
	if(out->n > 1)
		qsort(out->names, out->n, sizeof(*out->names), newest_first);
	return 0;
}

static void found_free(struct found *f)
{
	for(size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
}

char *backups_newest(const char *dir, int64_t *when)
{
	struct found f;
	if(!dir || !dir[0] || list_backups(dir, false, &f) != 0)
		return NULL;
	char *path = NULL;
	if(f.n > 0) {
		path = xasprintf("%s/%s", dir, f.names[0]);
		if(when)
			backups_name_time(f.names[0], when);
	}
	found_free(&f);
	return path;
}

int backups_rotate(const char *dir, int keep)
{
	struct found f;
	if(list_backups(dir, true, &f) != 0)
		return -1;
	int deleted = 0;
	for(size_t i = keep > 1 ? (size_t)keep : 1; i < f.n; i++) {
		char *path = xasprintf("%s/%s", dir, f.names[i]);
		if(unlink(path) == 0)
			deleted++;
		else
			otd_log(OTD_LOG_WARN, "backup_rotate_failed", "{s:s,s:s}", "file", path,
			        "error", strerror(errno));
		free(path);
	}
	found_free(&f);
	return deleted;
}

/* ---- one backup -------------------------------------------------------- */

enum otd_status backups_run(const char *db_path, const char *dir, int keep, int64_t now,
                            int busy_timeout_ms, const atomic_bool *cancel, char **file,
                            struct store_backup_info *info, struct otd_error *err)
{
	struct store_backup_info local;
	if(!info)
		info = &local;
	struct otd_error local_err;
	if(!err)
		err = &local_err;
	otd_error_clear(err);
	if(file)
		*file = NULL;
	enum otd_status st = OTD_OK;
	char *name = backup_file_name(now);
	char *path = xasprintf("%s/%s", dir, name);
	free(name);
	if(mkdir(dir, 0700) != 0 && errno != EEXIST) {
		st = otd_error_set(err, OTD_EIO, "backup_failed", "backup.dir",
		                   "Cannot create the backup folder %s: %s.", dir, strerror(errno));
		goto out;
	}
	struct store_backup_options opt = {
	    .busy_timeout_ms = busy_timeout_ms, .check = STORE_CHECK_FULL, .cancel = cancel};
	st = store_backup(db_path, path, &opt, info, err);
	if(st)
		goto out;
	int deleted = backups_rotate(dir, keep);
	atomic_store(&stat_last_success, now);
	atomic_store(&stat_last_duration_us, (uint64_t)(info->seconds * 1e6));
	atomic_fetch_add(&stat_successes, 1);
	otd_log(OTD_LOG_INFO, "backup", "{s:s,s:I,s:I,s:i,s:f,s:i}", "file", path, "bytes",
	        (json_int_t)info->bytes, "pages", (json_int_t)info->pages, "schema_version",
	        info->schema_version, "seconds", info->seconds, "rotated_out", deleted);
	if(file) {
		*file = path;
		path = NULL;
	}
out:
	if(st && strcmp(err->code, "backup_cancelled") == 0) {
		/* Stopped by shutdown: not a failure of the backups. */
		otd_log(OTD_LOG_INFO, "backup_cancelled", "{s:s}", "file", path);
	} else if(st) {
		atomic_fetch_add(&stat_failures, 1);
		otd_log(OTD_LOG_WARN, "backup_failed", "{s:s,s:s,s:s}", "file", path, "code",
		        err->code, "error", err->message);
	}
	free(path);
	return st;
}

/* ---- the thread -------------------------------------------------------- */

struct otd_backups {
	const struct otd_config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC: a clock set back does not delay it */
	bool stopping;
	atomic_bool cancel;
};

static struct timespec mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static void *backups_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-backup"); /* as top -H shows it */
	struct otd_backups *b = arg;
	const struct otd_config *cfg = b->cfg;
	int64_t interval = (int64_t)cfg->backup.interval_minutes * 60;
	int64_t newest = 0;
	char *last = backups_newest(cfg->backup.dir, &newest);
	int64_t now = (int64_t)time(NULL), age = now - newest;
	int64_t delay = !last || age >= interval ? 0 : age < 0 ? interval : interval - age;
	if(last)
		atomic_store(&stat_last_success, newest);
	otd_log(OTD_LOG_INFO, "backups_scheduled", "{s:s,s:i,s:i,s:s?,s:I}", "dir", cfg->backup.dir,
	        "interval_minutes", cfg->backup.interval_minutes, "keep", cfg->backup.keep,
	        "newest", last, "first_in_seconds", (json_int_t)delay);
	free(last);
	struct timespec due = mono_now();
	due.tv_sec += (time_t)delay;
	pthread_mutex_lock(&b->mu);
	while(!b->stopping) {
		while(!b->stopping && pthread_cond_timedwait(&b->cv, &b->mu, &due) != ETIMEDOUT)
			;
		if(b->stopping)
			break;
		pthread_mutex_unlock(&b->mu);
		struct timespec started = mono_now();
		struct otd_error err;
		otd_error_clear(&err);
		/* Logged and counted inside; a failure waits for the next turn. */
		backups_run(cfg->database, cfg->backup.dir, cfg->backup.keep, (int64_t)time(NULL),
		            cfg->store.busy_timeout_ms, &b->cancel, NULL, NULL, &err);
		due = started;
		due.tv_sec += (time_t)interval;
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

struct otd_backups *backups_start(struct otd_app *app)
{
	const struct otd_config *cfg = app->cfg;
	if(!cfg->backup.dir || !cfg->backup.dir[0])
		return NULL;
	struct otd_backups *b = xcalloc(1, sizeof(*b));
	b->cfg = cfg;
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	if(pthread_create(&b->thread, NULL, backups_main, b) != 0) {
		otd_log(OTD_LOG_ERROR, "backups_not_started", "{s:s}", "dir", cfg->backup.dir);
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		free(b);
		return NULL;
	}
	atomic_store(&stat_enabled, true);
	return b;
}

void backups_stop(struct otd_backups *b)
{
	if(!b)
		return;
	atomic_store(&b->cancel, true); /* a copy in progress stops at its next step */
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	atomic_store(&stat_enabled, false);
	free(b);
}

/* ---- the startup check ------------------------------------------------- */

enum otd_status app_startup_check(const struct otd_config *cfg, struct otd_error *err)
{
	const char *how = cfg->store.startup_check ? cfg->store.startup_check : "quick";
	enum store_check level = strcmp(how, "full") == 0  ? STORE_CHECK_FULL
	                         : strcmp(how, "off") == 0 ? STORE_CHECK_OFF
	                                                   : STORE_CHECK_QUICK;
	struct stat sb;
	/* Missing or empty (SQLite's empty database): nothing to damage, and
	 * opening it says to migrate. */
	if(level == STORE_CHECK_OFF || store_path_is_pg(cfg->database) ||
	   stat(cfg->database, &sb) != 0 || sb.st_size == 0)
		return OTD_OK;
	struct timespec t0 = mono_now(), t1;
	struct otd_error cerr;
	otd_error_clear(&cerr);
	enum otd_status st = store_check_file(cfg->database, level, NULL, &cerr);
	t1 = mono_now();
	double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if(st == OTD_OK) {
		otd_log(OTD_LOG_INFO, "startup_check", "{s:s,s:s,s:f}", "database", cfg->database,
		        "check", how, "seconds", seconds);
		return OTD_OK;
	}
	return otd_error_set(
	    err, OTD_EIO, "database_damaged", "store.startup_check",
	    "The database failed its startup check (store.startup_check = \"%s\"): "
	    "%s",
	    how, cerr.message);
}
