/* onthedot: status codes and the error record every layer fills in.
 *
 * One enum for the whole program; 0 is success. Functions return a status
 * and give results through out-parameters. Where a person must be told
 * what went wrong, the callee fills a struct otd_error: a stable machine
 * code ("window_taken"), a sentence a person can act on, and the field it
 * concerns. src/http maps both to a status line and a JSON body. */
#ifndef ONTHEDOT_STATUS_H
#define ONTHEDOT_STATUS_H

#include <stdarg.h>

enum otd_status {
	OTD_OK = 0,
	OTD_EINVAL,     /* malformed or invalid input (400) */
	OTD_EAUTH,      /* no or bad credentials (401) */
	OTD_EFORBIDDEN, /* authenticated but not allowed (403) */
	OTD_ENOTFOUND,  /* no such thing (404) */
	OTD_EMETHOD,    /* method not allowed on this route (405) */
	OTD_ECONFLICT,  /* conflicts with stored state (409) */
	OTD_ETOOBIG,    /* input larger than a configured cap (413) */
	OTD_ESTATE,     /* well formed but impossible now (422) */
	OTD_ERATE,      /* rate limited (429) */
	OTD_EBUSY,      /* overloaded, try again (503) */
	OTD_EIO,        /* storage or system failure (500) */
	OTD_ENOMEM,     /* allocation failed (500) */
	OTD_EINTERNAL,  /* a bug: an invariant did not hold (500) */
	OTD_STATUS_COUNT
};

#define OTD_ERR_CODE_MAX 48
#define OTD_ERR_FIELD_MAX 96
#define OTD_ERR_MESSAGE_MAX 320

struct otd_error {
	enum otd_status status;
	char code[OTD_ERR_CODE_MAX];       /* snake_case, stable, for programs */
	char field[OTD_ERR_FIELD_MAX];     /* "" when no single field is at fault */
	char message[OTD_ERR_MESSAGE_MAX]; /* for people; never personal data */
	int retry_after;                   /* seconds, for ERATE and EBUSY; 0 otherwise */
};

/* Resets *err to "no error". */
void otd_error_clear(struct otd_error *err);

/* Fills *err (if err is non-NULL) and returns status, so callers can write
 * `return otd_error_set(err, OTD_EINVAL, "bad_json", "name", "...");`.
 * field may be NULL. The message is printf-formatted and truncated to fit
 * OTD_ERR_MESSAGE_MAX with a trailing ellipsis marker when too long. */
enum otd_status otd_error_set(struct otd_error *err, enum otd_status status, const char *code,
                              const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Same as otd_error_set with a va_list. */
enum otd_status otd_error_setv(struct otd_error *err, enum otd_status status, const char *code,
                               const char *field, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* A short lower-case name for a status ("conflict"), never NULL. */
const char *otd_status_name(enum otd_status status);

/* The HTTP status code that DESIGN.md's API conventions give a status. */
int otd_status_http(enum otd_status status);

#endif
