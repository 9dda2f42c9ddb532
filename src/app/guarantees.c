/* The guarantee ledger's use cases. */
#include "app/guarantees.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/log.h"
#include "app/planning.h"
#include "onthedot/clock.h"
#include "onthedot/guarantee.h"
#include "onthedot/mem.h"
#include "onthedot/validate.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/store.h"

#define RULE_FILE_MAX (256 * 1024)

/* ---- loading ------------------------------------------------------------- */

static enum otd_status read_file(const char *path, char **text, size_t *len, struct otd_error *err)
{
	FILE *f = fopen(path, "rb");
	if(!f)
		return errno == ENOENT
		           ? OTD_ENOTFOUND
		           : otd_error_set(err, OTD_EINVAL, "config_value", "guarantees.dir",
		                           "Cannot read %s: %s.", path, strerror(errno));
	char *buf = xmalloc(RULE_FILE_MAX + 1);
	size_t n = fread(buf, 1, RULE_FILE_MAX + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if(bad || n > RULE_FILE_MAX) {
		free(buf);
		return otd_error_set(err, OTD_EINVAL, "config_value", "guarantees.dir",
		                     "%s is unreadable or larger than %d bytes.", path,
		                     RULE_FILE_MAX);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return OTD_OK;
}

enum otd_status app_guarantees_load(struct otd_app *app, struct otd_error *err)
{
	app->rules = NULL;
	const char *name = app->cfg->guarantees.rule_set;
	if(!name[0])
		return OTD_OK;
	struct otd_rule_set *rs = xcalloc(1, sizeof(*rs));
	enum otd_status st = OTD_ENOTFOUND;
	if(app->cfg->guarantees.dir[0]) {
		char *path = xasprintf("%s/%s.json", app->cfg->guarantees.dir, name);
		char *text = NULL;
		size_t len = 0;
		st = read_file(path, &text, &len, err);
		if(st == OTD_OK)
			st = otd_rule_set_parse(path, text, len, rs, err);
		free(text);
		free(path);
	}
	if(st == OTD_ENOTFOUND) {
		otd_error_clear(err);
		st = otd_rule_set_builtin(name, rs, err);
	}
	if(st) {
		free(rs);
		if(!err->field[0])
			snprintf(err->field, sizeof(err->field), "guarantees.rule_set");
		return st == OTD_ENOTFOUND ? (err->status = OTD_EINVAL) : st;
	}
	app->rules = rs;
	return OTD_OK;
}

/* ---- opening cases ------------------------------------------------------- */

bool guarantee_short_notice(struct otd_app *app, const char (*holidays)[11], size_t n_holidays,
                            int64_t now, int64_t window_start)
{
	const struct otd_rule_set *rs = app->rules;
	const struct otd_rule_version *v = rs ? otd_rule_in_force(rs, app->tz, now) : NULL;
	if(!v || v->short_notice_minor <= 0)
		return false;
	return !otd_notice_enough(v, app->tz, holidays, n_holidays, now, window_start);
}

enum otd_status guarantee_open(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                               const char *reason, int64_t breached_at, int64_t notice_s,
                               int64_t now, struct otd_case *out, bool *opened,
                               struct otd_error *err)
{
	*opened = false;
	if(out)
		memset(out, 0, sizeof(*out));
	const struct otd_rule_set *rs = app->rules;
	const struct otd_rule_version *v = rs ? otd_rule_in_force(rs, app->tz, breached_at) : NULL;
	if(!v)
		return OTD_OK;
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, appointment_id, &a, err);
	if(st)
		return st;
	struct plan_catalog *cat = NULL;
	st = planner_catalog(app->planner, tx, now, &cat, err);
	if(st)
		return st;
	struct otd_case c;
	memset(&c, 0, sizeof(c));
	c.appointment_id = appointment_id;
	c.promise_version = a.promise_version;
	snprintf(c.reason, sizeof(c.reason), "%s", reason);
	snprintf(c.rule_set, sizeof(c.rule_set), "%s", rs->name);
	snprintf(c.rule_version, sizeof(c.rule_version), "%s", v->version);
	snprintf(c.currency, sizeof(c.currency), "%s", v->currency);
	c.amount_minor =
	    strcmp(reason, "window_missed") == 0 ? v->missed_minor : v->short_notice_minor;
	c.breached_at = breached_at;
	c.deadline_at = otd_payment_deadline(v, app->tz, (const char(*)[11])cat->holidays,
	                                     cat->n_holidays, breached_at);
	c.notice_s = notice_s;
	c.created_at = now;
	planner_catalog_release(app->planner, cat);
	bool disrupted = false;
	st = store_appointment_disrupted(tx, appointment_id, &disrupted, err);
	int64_t id = 0;
	if(st == OTD_OK)
		st = store_case_open(
		    tx, &c, disrupted ? "force_majeure" : NULL,
		    disrupted ? "an area-wide disruption was declared for this visit" : NULL, &id,
		    opened, err);
	if(st == OTD_OK && out)
		st = store_case_get(tx, id, out, err);
	if(st == OTD_OK && *opened) {
		char detail[160];
		snprintf(detail, sizeof(detail),
		         "{\"case_id\":%lld,\"reason\":\"%s\",\"amount_minor\":%lld}",
		         (long long)id, reason, (long long)c.amount_minor);
		st = store_appointment_event(tx, appointment_id, "guarantee_case", now, "system", 0,
		                             detail, err);
		otd_log(OTD_LOG_INFO, "guarantee_case", "{s:I,s:I,s:s,s:I,s:b}", "case_id",
		        (json_int_t)id, "appointment_id", (json_int_t)appointment_id, "reason",
		        reason, "amount_minor", (json_int_t)c.amount_minor, "exempt", disrupted);
	}
	return st;
}

enum otd_status guarantee_on_change(struct otd_app *app, struct otd_conn *tx,
                                    int64_t appointment_id, int64_t window_start, int64_t now,
                                    struct otd_error *err)
{
	if(!app->rules)
		return OTD_OK;
	bool opened = false;
	if(window_start <= now)
		/* Changed or cancelled once the window has begun: the promise is
		 * broken, whatever notice the rule asks for. */
		return guarantee_open(app, tx, appointment_id, "window_missed", now, -1, now, NULL,
		                      &opened, err);
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(app->planner, tx, now, &cat, err);
	if(st)
		return st;
	bool short_notice = guarantee_short_notice(app, (const char(*)[11])cat->holidays,
	                                           cat->n_holidays, now, window_start);
	planner_catalog_release(app->planner, cat);
	if(short_notice)
		st = guarantee_open(app, tx, appointment_id, "short_notice", now,
		                    window_start - now, now, NULL, &opened, err);
	return st;
}

void guarantee_amount_text(const struct otd_case *c, char *out, size_t size)
{
	otd_money_text(c->currency, c->amount_minor, out, size);
}

void guarantee_pay_by_text(const struct otd_app *app, const struct otd_case *c, char *out,
                           size_t size)
{
	static const char *const days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
	                                   "Friday", "Saturday", "Sunday"};
	static const char *const months[] = {"January",   "February", "March",    "April",
	                                     "May",       "June",     "July",     "August",
	                                     "September", "October",  "November", "December"};
	struct otd_local l;
	/* The deadline is the midnight that ends the last day to pay. */
	otd_tz_to_local(app->tz, c->deadline_at - 1, &l);
	snprintf(out, size, "%s %d %s", days[l.weekday], l.c.day, months[l.c.month - 1]);
}

/* ---- reading -------------------------------------------------------------- */

struct list_job {
	const struct otd_case_filter *f;
	struct otd_case *out;
	size_t n;
	int64_t next;
	int64_t id;
	struct otd_case *one;
	char *evidence;
};

static enum otd_status list_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	return store_cases_list(c, j->f, &j->out, &j->n, &j->next, err);
}

enum otd_status app_cases_list(struct otd_app *app, const struct otd_case_filter *f,
                               struct otd_case **out, size_t *n, int64_t *next,
                               struct otd_error *err)
{
	struct otd_case_filter g = *f;
	g.now = otd_clock_now(app->clock);
	g.near_s = (int64_t)app->cfg->guarantees.near_days * 86400;
	struct list_job j = {.f = &g};
	enum otd_status st = store_read(app->store, list_read, &j, err);
	*out = j.out;
	*n = j.n;
	*next = j.next;
	return st;
}

static enum otd_status get_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	enum otd_status st = store_case_get(c, j->id, j->one, err);
	if(st == OTD_OK && j->evidence == NULL)
		st = store_case_evidence(c, j->one->appointment_id, &j->evidence, err);
	return st;
}

enum otd_status app_case_get(struct otd_app *app, int64_t id, struct otd_case *out,
                             char **evidence_json, struct otd_error *err)
{
	struct list_job j = {.id = id, .one = out};
	enum otd_status st = store_read(app->store, get_read, &j, err);
	if(st || !evidence_json)
		free(j.evidence);
	else
		*evidence_json = j.evidence;
	return st;
}

/* ---- settling ------------------------------------------------------------- */

struct settle_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	int64_t id, paid_at, paid_minor, now;
	const char *reason, *note;
	struct otd_case *out;
};

static enum otd_status pay_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct settle_job *j = arg;
	struct otd_case c;
	enum otd_status st = store_case_get(tx, j->id, &c, err);
	if(st)
		return st;
	if(strcmp(c.state, "open") != 0)
		return otd_error_set(err, OTD_ESTATE, "case_settled", NULL,
		                     "Case %lld is already %s.", (long long)j->id, c.state);
	/* The penalty of the rules the case was opened under, not of whatever
	 * is configured now. */
	const struct otd_rule_version *v = NULL;
	const struct otd_rule_set *rs = j->app->rules;
	for(size_t i = 0; rs && strcmp(rs->name, c.rule_set) == 0 && i < rs->n_versions; i++)
		if(strcmp(rs->versions[i].version, c.rule_version) == 0)
			v = &rs->versions[i];
	if(!v && rs && strcmp(rs->name, c.rule_set) != 0)
		otd_log(OTD_LOG_WARN, "case_rules_unknown", "{s:I,s:s}", "case_id",
		        (json_int_t)c.id, "rule_set", c.rule_set);
	int64_t owed =
	    v ? otd_amount_owed(v, c.amount_minor, c.deadline_at, j->paid_at) : c.amount_minor;
	int64_t paid = j->paid_minor < 0 ? owed : j->paid_minor;
	if(paid < owed)
		return otd_error_set(
		    err, OTD_EINVAL, "underpaid", "paid_minor",
		    "This case owes %lld (%s, minor units)%s; record the whole payment.",
		    (long long)owed, c.currency,
		    owed > c.amount_minor ? " with the late penalty" : "");
	st = store_case_pay(tx, j->id, j->paid_at, paid, owed - c.amount_minor,
	                    j->actor ? j->actor->user_id : 0, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "guarantee.pay", "guarantee_case", j->id,
		               json_pack("{s:I,s:b}", "paid_minor", (json_int_t)paid, "late",
		                         j->paid_at > c.deadline_at),
		               err);
	if(st == OTD_OK)
		st = store_case_get(tx, j->id, j->out, err);
	return st;
}

enum otd_status app_case_pay(struct otd_app *app, const struct otd_principal *actor, int64_t id,
                             int64_t paid_at, int64_t paid_minor, struct otd_case *out,
                             struct otd_error *err)
{
	int64_t now = otd_clock_now(app->clock);
	if(paid_at > now)
		return otd_error_set(err, OTD_EINVAL, "in_future", "paid_at",
		                     "A payment cannot be recorded before it is made.");
	struct settle_job j = {.app = app,
	                       .actor = actor,
	                       .id = id,
	                       .paid_at = paid_at ? paid_at : now,
	                       .paid_minor = paid_minor,
	                       .now = now,
	                       .out = out};
	return store_write(app->store, pay_write, &j, err);
}

static enum otd_status exempt_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct settle_job *j = arg;
	struct otd_case c;
	enum otd_status st = store_case_get(tx, j->id, &c, err);
	if(st)
		return st;
	if(strcmp(j->reason, "no_access") == 0) {
		bool has = false;
		st = store_appointment_has_event(tx, c.appointment_id, "no_access", &has, err);
		if(st)
			return st;
		if(!has)
			return otd_error_set(
			    err, OTD_ESTATE, "no_evidence", "reason",
			    "No access needs the visitor's no_access report on the "
			    "appointment as evidence; there is none.");
	}
	st =
	    store_case_exempt(tx, j->id, j->reason, j->note, j->actor ? j->actor->user_id : 0, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "guarantee.exempt", "guarantee_case", j->id,
		               json_pack("{s:s}", "reason", j->reason), err);
	if(st == OTD_OK)
		st = store_case_get(tx, j->id, j->out, err);
	return st;
}

enum otd_status app_case_exempt(struct otd_app *app, const struct otd_principal *actor, int64_t id,
                                const char *reason, const char *note, struct otd_case *out,
                                struct otd_error *err)
{
	static const char *const reasons[] = {"customer_cancelled", "no_access", "force_majeure",
	                                      "consent"};
	bool known = false;
	for(size_t i = 0; reason && i < sizeof(reasons) / sizeof(reasons[0]); i++)
		known = known || strcmp(reason, reasons[i]) == 0;
	if(!known)
		return otd_error_set(err, OTD_EINVAL, "bad_reason", "reason",
		                     "The reason is one of customer_cancelled, no_access, "
		                     "force_majeure, consent.");
	enum otd_status st = otd_text_validate(note ? note : "", 1, 300, true, "note", err);
	if(st)
		return st;
	struct settle_job j = {.app = app,
	                       .actor = actor,
	                       .id = id,
	                       .reason = reason,
	                       .note = note,
	                       .now = otd_clock_now(app->clock),
	                       .out = out};
	return store_write(app->store, exempt_write, &j, err);
}

/* ---- the report ----------------------------------------------------------- */

struct report_job {
	int64_t from, to;
	struct otd_case_report *out;
};

static enum otd_status report_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct report_job *j = arg;
	return store_cases_report(c, j->from, j->to, j->out, err);
}

enum otd_status app_cases_report(struct otd_app *app, const char *quarter,
                                 struct otd_case_report *out, int64_t *from, int64_t *to,
                                 struct otd_error *err)
{
	int y = 0, q = 0;
	char tail = 0;
	if(!quarter || sscanf(quarter, "%4d-Q%1d%c", &y, &q, &tail) != 2 || strlen(quarter) != 7 ||
	   y < 2000 || y > 9999 || q < 1 || q > 4)
		return otd_error_set(err, OTD_EINVAL, "bad_quarter", "quarter",
		                     "Give the quarter as YYYY-Qn, such as 2026-Q1.");
	*from = otd_tz_day_start(app->tz, y, 3 * (q - 1) + 1, 1);
	*to = q == 4 ? otd_tz_day_start(app->tz, y + 1, 1, 1)
	             : otd_tz_day_start(app->tz, y, 3 * q + 1, 1);
	struct report_job j = {.from = *from, .to = *to, .out = out};
	return store_read(app->store, report_read, &j, err);
}
