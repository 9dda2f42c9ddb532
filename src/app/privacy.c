/* Erasure, the subject access export and the audit log (app/privacy.h). */
#include "app/privacy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/trust.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/reference.h"
#include "onthedot/validate.h"
#include "store/store.h"

#define ERASE_DAYS_MAX 64

/* ---- links -------------------------------------------------------------------- */

static bool b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

void otd_privacy_redact_links(char *s)
{
	static const char repl[] = "REDACTED";
	char *p = s;
	while((p = strstr(p, "/a/")) != NULL) {
		char *t = p + 3;
		size_t n = 0;
		while(n < 23 && b64url(t[n]))
			n++;
		if(n != 22) {
			p = t;
			continue;
		}
		memcpy(t, repl, sizeof(repl) - 1);
		memmove(t + sizeof(repl) - 1, t + 22, strlen(t + 22) + 1);
		p = t + sizeof(repl) - 1;
	}
}

/* Redacts links in every string of v. */
static void redact_json(json_t *v)
{
	if(json_is_string(v)) {
		const char *s = json_string_value(v);
		if(strstr(s, "/a/")) {
			char *copy = xstrdup(s);
			otd_privacy_redact_links(copy);
			json_string_set(v, copy);
			free(copy);
		}
	} else if(json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) redact_json(x);
	} else if(json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) redact_json(x);
	}
}

/* ---- the subject ----------------------------------------------------------------- */

struct resolved {
	char reference[OTD_REFERENCE_LEN + 1];
	char phone[24];
	char email[256];
	int64_t ids[OTD_PRIVACY_CONTACTS_MAX];
	size_t n;
};

/* Checks and normalises the subject (no database). */
static enum otd_status subject_check(struct otd_app *app, const struct otd_privacy_subject *s,
                                     struct resolved *r, struct otd_error *err)
{
	memset(r, 0, sizeof(*r));
	int given = (s->reference && s->reference[0]) + (s->phone && s->phone[0]) +
	            (s->email && s->email[0]);
	if(given != 1)
		return otd_error_set(
		    err, OTD_EINVAL, "missing_subject", "reference",
		    "Name the contact by one appointment reference, one phone number "
		    "or one email address.");
	if(s->reference && s->reference[0]) {
		if(!otd_reference_parse(s->reference, r->reference))
			return otd_error_set(
			    err, OTD_ENOTFOUND, "not_found", "reference",
			    "There is no appointment with that reference (they look "
			    "like OTD-7K3F9Q).");
		return OTD_OK;
	}
	if(s->phone && s->phone[0])
		return otd_phone_normalise(s->phone, app->cfg->messages.country_code, r->phone,
		                           sizeof(r->phone), "phone", err);
	return otd_email_normalise(s->email, r->email, sizeof(r->email), "email", err);
}

/* Finds the contacts (in a job). */
static enum otd_status subject_find(struct otd_conn *c, struct resolved *r, struct otd_error *err)
{
	r->n = 0;
	if(r->reference[0]) {
		enum otd_status st =
		    store_privacy_contact_of_reference(c, r->reference, &r->ids[0], err);
		if(st)
			return st;
		r->n = 1;
		return OTD_OK;
	}
	enum otd_status st = store_privacy_contacts_by(c, r->phone, r->email, r->ids,
	                                               OTD_PRIVACY_CONTACTS_MAX, &r->n, err);
	if(st == OTD_OK && r->n == 0)
		st = otd_error_set(err, OTD_ENOTFOUND, "not_found", r->phone[0] ? "phone" : "email",
		                   "No contact has that %s.",
		                   r->phone[0] ? "phone number" : "email address");
	return st;
}

/* ---- erasure ----------------------------------------------------------------------- */

struct erase_job {
	const struct otd_principal *actor;
	int64_t now;
	struct resolved r;
	struct otd_erase_result *out;
	struct otd_erase_day days[ERASE_DAYS_MAX];
	size_t n_days;
};

static void counts_add(struct otd_erase_counts *a, const struct otd_erase_counts *b)
{
	a->appointments += b->appointments;
	a->addresses += b->addresses;
	a->links_revoked += b->links_revoked;
	a->holds_deleted += b->holds_deleted;
	a->messages += b->messages;
	a->messages_cancelled += b->messages_cancelled;
	a->receipts += b->receipts;
	a->inbound += b->inbound;
	a->feedback += b->feedback;
	a->events += b->events;
	a->audit += b->audit;
	a->tasks += b->tasks;
	a->idempotency += b->idempotency;
}

static json_t *counts_json(const struct otd_erase_counts *c)
{
	return json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "appointments",
	    (json_int_t)c->appointments, "addresses", (json_int_t)c->addresses, "links_revoked",
	    (json_int_t)c->links_revoked, "holds_deleted", (json_int_t)c->holds_deleted, "messages",
	    (json_int_t)c->messages, "messages_cancelled", (json_int_t)c->messages_cancelled,
	    "receipts", (json_int_t)c->receipts, "inbound", (json_int_t)c->inbound, "feedback",
	    (json_int_t)c->feedback, "events", (json_int_t)c->events, "audit", (json_int_t)c->audit,
	    "tasks", (json_int_t)c->tasks, "idempotency", (json_int_t)c->idempotency);
}

json_t *app_erase_counts_json(const struct otd_erase_counts *c)
{
	return counts_json(c);
}

static enum otd_status erase_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct erase_job *j = arg;
	enum otd_status st = subject_find(tx, &j->r, err);
	if(st)
		return st;
	bool erased[OTD_PRIVACY_CONTACTS_MAX];
	for(size_t i = 0; i < j->r.n; i++) {
		int64_t at = 0;
		if((st = store_privacy_erased_at(tx, j->r.ids[i], &at, err)))
			return st;
		erased[i] = at != 0;
		if(erased[i])
			continue;
		char ref[16];
		if((st = store_privacy_pending_visit(tx, j->r.ids[i], j->now, ref, err)))
			return st;
		if(ref[0])
			return otd_error_set(
			    err, OTD_ESTATE, "visit_pending", "reference",
			    "Appointment %s is still to come or under way; cancel it "
			    "first (POST /api/v1/appointments/%s/cancel), then erase.",
			    ref, ref);
	}
	j->out->contacts = j->r.n;
	for(size_t i = 0; i < j->r.n; i++) {
		if(erased[i]) {
			j->out->already_erased++;
			continue;
		}
		struct otd_erase_counts c;
		size_t nd = 0;
		st = store_privacy_erase(tx, j->r.ids[i], j->now, &c, j->days + j->n_days,
		                         ERASE_DAYS_MAX - j->n_days, &nd, err);
		if(st)
			return st;
		j->n_days += nd;
		counts_add(&j->out->counts, &c);
		st = app_audit(tx, j->actor, j->now, "customer.erase", "customer", j->r.ids[i],
		               counts_json(&c), err);
		if(st)
			return st;
	}
	return OTD_OK;
}

enum otd_status app_privacy_erase(struct otd_app *app, const struct otd_principal *actor,
                                  const struct otd_privacy_subject *subject,
                                  struct otd_erase_result *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct erase_job *j = xcalloc(1, sizeof(*j));
	j->actor = actor;
	j->now = otd_clock_now(app->clock);
	j->out = out;
	enum otd_status st = subject_check(app, subject, &j->r, err);
	if(st == OTD_OK)
		st = store_write(app->store, erase_write, j, err);
	if(st) {
		memset(out, 0, sizeof(*out));
		free(j);
		return st;
	}
	size_t erased_now = out->contacts - out->already_erased;
	atomic_fetch_add(&app->retention.erasures, (uint64_t)erased_now);
	if(erased_now > 0) {
		/* What the server keeps in memory: the published feedback of
		 * the trust figures, the routes of days whose holds went. */
		if(app->trust)
			app_trust_invalidate(app);
		for(size_t i = 0; app->planner && i < j->n_days; i++)
			planner_day_invalidate(app->planner, j->days[i].visitor_id,
			                       j->days[i].local_date);
		struct otd_error cerr;
		otd_error_clear(&cerr);
		if(store_checkpoint_truncate(app->store, &out->log_truncated, &cerr) != OTD_OK)
			otd_log(OTD_LOG_WARN, "erase_checkpoint", "{s:s}", "error", cerr.message);
	}
	otd_log(OTD_LOG_INFO, "customer_erased", "{s:I,s:I,s:I,s:I,s:b}", "contacts",
	        (json_int_t)out->contacts, "already_erased", (json_int_t)out->already_erased,
	        "appointments", (json_int_t)out->counts.appointments, "messages",
	        (json_int_t)out->counts.messages, "log_truncated", out->log_truncated);
	free(j);
	return OTD_OK;
}

/* ---- the export ---------------------------------------------------------------------- */

struct export_job {
	struct resolved r;
	json_t *contacts;
};

static enum otd_status export_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct export_job *j = arg;
	enum otd_status st = subject_find(c, &j->r, err);
	for(size_t i = 0; st == OTD_OK && i < j->r.n; i++) {
		json_t *o = NULL;
		st = store_privacy_export(c, j->r.ids[i], &o, err);
		if(st == OTD_OK)
			json_array_append_new(j->contacts, o);
	}
	return st;
}

struct export_audit_job {
	const struct otd_principal *actor;
	int64_t now;
	const struct resolved *r;
};

static enum otd_status export_audit(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct export_audit_job *j = arg;
	enum otd_status st = OTD_OK;
	for(size_t i = 0; st == OTD_OK && i < j->r->n; i++)
		st = app_audit(tx, j->actor, j->now, "customer.export", "customer", j->r->ids[i],
		               NULL, err);
	return st;
}

enum otd_status app_privacy_export(struct otd_app *app, const struct otd_principal *actor,
                                   const struct otd_privacy_subject *subject, json_t **out,
                                   struct otd_error *err)
{
	*out = NULL;
	struct export_job *j = xcalloc(1, sizeof(*j));
	enum otd_status st = subject_check(app, subject, &j->r, err);
	if(st) {
		free(j);
		return st;
	}
	j->contacts = json_array();
	st = store_read(app->store, export_read, j, err);
	int64_t now = otd_clock_now(app->clock);
	if(st == OTD_OK) {
		/* Who looked at everything about someone is itself recorded. */
		struct export_audit_job a = {.actor = actor, .now = now, .r = &j->r};
		st = store_write(app->store, export_audit, &a, err);
	}
	if(st) {
		json_decref(j->contacts);
		free(j);
		return st;
	}
	redact_json(j->contacts);
	char at[32];
	otd_rfc3339_format(now, at, sizeof(at));
	*out = json_pack("{s:s,s:o}", "exported_at", at, "contacts", j->contacts);
	free(j);
	return OTD_OK;
}

/* ---- the audit log ----------------------------------------------------------------- */

struct audit_job {
	const struct otd_audit_filter *f;
	struct otd_audit_entry *out;
	size_t n;
	int64_t next;
};

static enum otd_status audit_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct audit_job *j = arg;
	return store_audit_list(c, j->f, &j->out, &j->n, &j->next, err);
}

enum otd_status app_audit_list(struct otd_app *app, const struct otd_audit_filter *f,
                               struct otd_audit_entry **out, size_t *n, int64_t *next,
                               struct otd_error *err)
{
	struct otd_audit_filter g = *f;
	int max = app->cfg->limits.list_max > 0 ? app->cfg->limits.list_max : 100;
	if(g.limit < 1)
		g.limit = 1;
	if(g.limit > max)
		g.limit = max;
	struct audit_job j = {.f = &g};
	enum otd_status st = store_read(app->store, audit_read, &j, err);
	*out = j.out;
	*n = j.n;
	*next = j.next;
	return st;
}
