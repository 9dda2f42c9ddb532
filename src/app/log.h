/* onthedot: structured log lines, one JSON object per line on stderr.
 *
 * Every line has "ts" (RFC 3339 UTC, milliseconds), "level" and "msg";
 * callers add fields with a jansson json_pack format. Lines are written
 * with one write(2) each, so lines from different threads never
 * interleave. Never log personal data or secrets: ids only. */
#ifndef OTD_APP_LOG_H
#define OTD_APP_LOG_H

#include <stddef.h>

enum otd_log_level { OTD_LOG_DEBUG, OTD_LOG_INFO, OTD_LOG_WARN, OTD_LOG_ERROR };

/* Lines below this level are dropped. Default OTD_LOG_INFO. Set once at
 * start, before threads. */
void otd_log_set_level(enum otd_log_level level);

/* Redirects log output to fd (default 2). Set once at start. */
void otd_log_set_fd(int fd);

/* Appends log lines to the file at path (created with mode 0640 when
 * missing) instead of stderr; reopened by otd_log_reopen. Call once at
 * start, before threads. Returns 0, or -1 with a sentence in why (naming
 * the file and the reason) and the output unchanged. */
int otd_log_open_file(const char *path, char *why, size_t why_size);

/* Reopens the log file by its name (after logrotate renamed it: SIGHUP)
 * and logs that it did. Lines written meanwhile by other threads go to
 * the old file or the new one, none is lost to a closed descriptor.
 * Returns 0 (also when logging to stderr), or -1 when the file cannot be
 * opened: lines then keep going to the old one, and the failure is
 * logged there. Thread-safe. */
int otd_log_reopen(void);

/* Closes the log file and goes back to stderr. At exit, after threads. */
void otd_log_close(void);

/* Writes one line. fields_fmt is a json_pack object format such as
 * "{s:s,s:i}" followed by its arguments, or NULL for no extra fields. A
 * format error is itself logged rather than lost. */
void otd_log(enum otd_log_level level, const char *msg, const char *fields_fmt, ...);

/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int otd_log_level_parse(const char *s);

#endif
