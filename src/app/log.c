/* Structured JSON log lines. */
#include "app/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum otd_log_level min_level = OTD_LOG_INFO;
static int log_fd = 2;
static char *log_path; /* the log file, NULL for stderr */
static pthread_mutex_t reopen_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void otd_log_set_level(enum otd_log_level level)
{
	min_level = level;
}

void otd_log_set_fd(int fd)
{
	log_fd = fd;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int otd_log_open_file(const char *path, char *why, size_t why_size)
{
	int fd = open_log(path);
	if(fd < 0) {
		snprintf(why, why_size, "cannot open the log file %s: %s", path, strerror(errno));
		return -1;
	}
	/* Above the standard streams, so a reopen's dup2 never touches them. */
	if(fd <= 2) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		fd = high;
		if(fd < 0) {
			snprintf(why, why_size, "cannot open the log file %s: %s", path,
			         strerror(errno));
			return -1;
		}
	}
	free(log_path);
	log_path = strdup(path);
	log_fd = fd;
	return 0;
}

int otd_log_reopen(void)
{
	if(!log_path)
		return 0;
	pthread_mutex_lock(&reopen_mu);
	int fd = open_log(log_path);
	int e = errno;
	if(fd >= 0) {
		/* The descriptor number stays: a thread writing right now writes
		 * to the old file or the new one, never to a closed descriptor. */
		dup2(fd, log_fd);
		close(fd);
	}
	pthread_mutex_unlock(&reopen_mu);
	if(fd < 0) {
		otd_log(OTD_LOG_ERROR, "log_reopen_failed", "{s:s,s:s}", "file", log_path, "error",
		        strerror(e));
		return -1;
	}
	otd_log(OTD_LOG_INFO, "log_reopened", "{s:s}", "file", log_path);
	return 0;
}

void otd_log_close(void)
{
	if(log_path && log_fd > 2)
		close(log_fd);
	free(log_path);
	log_path = NULL;
	log_fd = 2;
}

int otd_log_level_parse(const char *s)
{
	for(int i = 0; i < 4; i++)
		if(strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void otd_log(enum otd_log_level level, const char *msg, const char *fields_fmt, ...)
{
	if(level < min_level)
		return;
	json_t *obj = NULL;
	json_error_t jerr;
	if(fields_fmt) {
		va_list ap;
		va_start(ap, fields_fmt);
		obj = json_vpack_ex(&jerr, 0, fields_fmt, ap);
		va_end(ap);
		if(!obj) {
			obj = json_object();
			json_object_set_new(obj, "log_format_error", json_string(jerr.text));
		}
	} else {
		obj = json_object();
	}
	/* Wall-clock time for the log line only: logs are for operators, and
	 * the app's clock object may be virtual. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[64];
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	json_t *line = json_pack("{s:s,s:s,s:s}", "ts", stamp, "level", level_names[level], "msg", msg);
	json_object_update(line, obj);
	json_decref(obj);
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(line);
	if(!text)
		return;
	size_t n = strlen(text);
	text[n] = '\n';
	/* One write per line so threads never interleave; short writes on a
	 * pipe of this size do not happen below PIPE_BUF, and above it a
	 * torn line is better than a lost one. */
	ssize_t off = 0;
	while((size_t)off < n + 1) {
		ssize_t w = write(log_fd, text + off, n + 1 - (size_t)off);
		if(w <= 0)
			break;
		off += w;
	}
	free(text);
}
