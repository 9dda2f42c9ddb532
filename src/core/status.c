/* Status names, HTTP mapping and the error record. */
#include "onthedot/status.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int http;
} status_table[OTD_STATUS_COUNT] = {
	[OTD_OK] = {"ok", 200},
	[OTD_EINVAL] = {"invalid", 400},
	[OTD_EAUTH] = {"unauthenticated", 401},
	[OTD_EFORBIDDEN] = {"forbidden", 403},
	[OTD_ENOTFOUND] = {"not_found", 404},
	[OTD_EMETHOD] = {"method_not_allowed", 405},
	[OTD_ECONFLICT] = {"conflict", 409},
	[OTD_ETOOBIG] = {"too_large", 413},
	[OTD_ESTATE] = {"unprocessable", 422},
	[OTD_ERATE] = {"rate_limited", 429},
	[OTD_EBUSY] = {"busy", 503},
	[OTD_EIO] = {"io_error", 500},
	[OTD_ENOMEM] = {"out_of_memory", 500},
	[OTD_EINTERNAL] = {"internal", 500},
};

void otd_error_clear(struct otd_error *err)
{
	if(err)
		memset(err, 0, sizeof(*err));
}

enum otd_status otd_error_setv(struct otd_error *err, enum otd_status status, const char *code,
                               const char *field, const char *fmt, va_list ap)
{
	if(!err)
		return status;
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : otd_status_name(status));
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	if(n >= (int)sizeof(err->message)) {
		/* Say that it was cut rather than cut it silently. */
		memcpy(err->message + sizeof(err->message) - 4, "...", 4);
	}
	return status;
}

enum otd_status otd_error_set(struct otd_error *err, enum otd_status status, const char *code,
                              const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	otd_error_setv(err, status, code, field, fmt, ap);
	va_end(ap);
	return status;
}

const char *otd_status_name(enum otd_status status)
{
	if((unsigned)status >= OTD_STATUS_COUNT)
		return "unknown";
	return status_table[status].name;
}

int otd_status_http(enum otd_status status)
{
	if((unsigned)status >= OTD_STATUS_COUNT)
		return 500;
	return status_table[status].http;
}
