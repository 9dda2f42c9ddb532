/* Bank holidays: import an iCalendar file, read dates back. */
#include "app/holidays.h"
#include "app/planning.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "onthedot/civil.h"
#include "onthedot/holidays.h"
#include "onthedot/mem.h"
#include "store/holidays.h"
#include "store/store.h"

struct import_job {
	const struct otd_principal *actor;
	const char *name;
	const struct otd_holiday *list;
	size_t n;
	int64_t now;
};

static enum otd_status import_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct import_job *j = arg;
	struct otd_holiday *before = NULL;
	size_t replaced = 0;
	enum otd_status st = store_holiday_list(tx, NULL, NULL, &before, &replaced, err);
	free(before);
	if(st == OTD_OK)
		st = store_holidays_replace(tx, j->list, j->n, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "import.holidays", "holidays", 0,
		               json_pack("{s:s,s:I,s:s,s:s,s:I}", "file", j->name, "dates",
		                         (json_int_t)j->n, "first", j->list[0].date, "last",
		                         j->list[j->n - 1].date, "replaced", (json_int_t)replaced),
		               err);
	return st;
}

enum otd_status app_import_holidays(struct otd_app *app, const struct otd_principal *actor,
                                    const char *name, const char *data, size_t len, size_t *count,
                                    struct otd_error *err)
{
	struct otd_holiday *list = NULL;
	size_t n = 0;
	struct otd_error e;
	otd_error_clear(&e);
	*count = 0;
	enum otd_status st = otd_holidays_parse(data, len, &list, &n, &e);
	if(st)
		return otd_error_set(err, st, e.code, NULL, "%s: %s Nothing was imported.", name,
		                     e.message);
	struct import_job job = {actor, name, list, n, otd_clock_now(app->clock)};
	st = store_write(app->store, import_job, &job, err);
	if(st == OTD_OK && app->planner)
		planner_catalog_invalidate(app->planner); /* offers skip the new holidays now */
	if(st == OTD_OK)
		*count = n;
	free(list);
	return st;
}

struct between_job {
	const char *from, *to;
	struct otd_holiday *list;
	size_t n;
};

static enum otd_status between_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct between_job *j = arg;
	return store_holiday_list(c, j->from, j->to, &j->list, &j->n, err);
}

enum otd_status app_holidays_between(struct otd_app *app, const char *from, const char *to,
                                     char (**dates)[11], size_t *n, struct otd_error *err)
{
	int y, m, d;
	*dates = NULL;
	*n = 0;
	if(!from || otd_date_parse(from, &y, &m, &d, err) != OTD_OK)
		return otd_error_set(err, OTD_EINVAL, "bad_date", "from",
		                     "Give the first date as YYYY-MM-DD.");
	if(!to || otd_date_parse(to, &y, &m, &d, err) != OTD_OK)
		return otd_error_set(err, OTD_EINVAL, "bad_date", "to",
		                     "Give the last date as YYYY-MM-DD.");
	if(strcmp(from, to) > 0)
		return otd_error_set(err, OTD_EINVAL, "bad_date", "to",
		                     "The last date (%s) is before the first (%s).", to, from);
	struct between_job job = {from, to, NULL, 0};
	enum otd_status st = store_read(app->store, between_job, &job, err);
	if(st == OTD_OK && job.n) {
		*dates = xmalloc(job.n * sizeof(**dates));
		for(size_t i = 0; i < job.n; i++)
			memcpy((*dates)[i], job.list[i].date, 11);
		*n = job.n;
	}
	free(job.list);
	return st;
}
